"""The Textual user interface of mailmig: app, screens, widgets and their non-UI helpers."""
