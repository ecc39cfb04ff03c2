"""Documents and rooms: wire codecs, room manager, persistence hooks, fan-out, awareness."""
