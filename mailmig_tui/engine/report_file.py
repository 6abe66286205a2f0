"""The JSON report file of a copy, a verify or a batch: owner-only, checked before the run.

Written by whichever front end ran the job; the path is checked before connecting, so a run
never does all its work only to fail at its last step.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.errors import UsageError


def check_report_path(path: str) -> None:
    """Refuse a report path whose directory cannot be written (before any work starts)."""
    if not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        raise UsageError(
            f"cannot write the report {path}: its directory is missing or not writable",
            "give --report a path in a writable directory",
        )


def write_report(path: str, data: dict[str, object]) -> None:
    try:
        paths.write_private(Path(path), json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write the report {path}: {exc.strerror}") from None
