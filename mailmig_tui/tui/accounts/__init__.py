"""Choosing accounts and signing in: the chooser, the account form, password and device-code
dialogs, and the session that holds an account's password and connections."""
