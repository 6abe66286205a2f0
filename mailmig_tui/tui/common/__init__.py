"""What every feature of the TUI uses: formatting, themes, the list base, dialogs, help."""
