"""`python -m mailmig_tui` runs the same entry point as the `mailmig` script."""

from mailmig_tui.cli import main

raise SystemExit(main())
