"""Actions: the only writers of conversation state. One database transaction each,
serialised per conversation; fan-out after commit."""
