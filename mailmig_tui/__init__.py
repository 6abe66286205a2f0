"""mailmig: move one user's mailbox from one mail server to another, from the terminal."""

__version__ = "0.1.0"
