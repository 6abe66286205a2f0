"""Throw-away Cyrus, Courier and GNU Mailutils IMAP servers for tests (see base.py)."""
