"""Browsing an account: the panes with their folder and message lists, marks, search,
sorting, paging and the message preview."""
