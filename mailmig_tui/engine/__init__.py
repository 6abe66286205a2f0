"""The migration engine: planning, copying, journaling, verifying; no UI code."""
