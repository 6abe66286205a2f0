"""The Textual user interface of mailmig, grouped by feature: `browse/` (the two panes),
`copy/` (folder map, plan, progress, report), `accounts/` (choosing and signing in), and
`common/` for the few pieces they share. `app.py` and `main_screen.py` put them together."""
