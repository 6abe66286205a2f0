"""The headless `mailmig` subcommands; each module drives the same code the TUI uses."""
