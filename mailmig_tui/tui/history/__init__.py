"""History of copy runs between the two accounts, their reports and logs, and undo."""
