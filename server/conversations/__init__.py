"""Conversations: the pure model and state machine (`model`, `machine`), the `conv:`
document mapping, and the actions that are the only writers of conversation state."""
