"""Copying from the TUI: the folder map, the plan, the progress panel and screen, the report,
and the batch screen; all thin over the engine's `CopyService`."""
