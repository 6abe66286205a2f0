"""The measured rate of the last copy between a pair of accounts, for the next estimate.

Kept per pair in the state directory (owner-only). A plan's time estimate uses it, else a
deliberately cautious default, and says which.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.engine.events import CopyReport
from mailmig_tui.engine.saved_maps import pair_key
from mailmig_tui.model import AccountSpec

DEFAULT_MESSAGES_PER_SECOND = 20.0
DEFAULT_BYTES_PER_SECOND = 1024.0 * 1024.0
"""Assumed before any run was measured: a slow remote IMAP server, one message at a time."""
MIN_MEASURED = 50
"""A run must copy at least this many messages for its rate to be kept."""


@dataclass(frozen=True)
class Rate:
    messages_per_second: float
    bytes_per_second: float
    measured: bool
    """From an earlier run of this pair; False: the cautious default."""


@dataclass(frozen=True)
class Estimate:
    seconds: float
    rate: Rate


DEFAULT_RATE = Rate(DEFAULT_MESSAGES_PER_SECOND, DEFAULT_BYTES_PER_SECOND, measured=False)


def estimate(messages: int, size: int, rate: Rate) -> Estimate:
    """Time for `messages` of `size` bytes: the slower of the message and the byte rate."""
    seconds = max(
        messages / max(rate.messages_per_second, 1e-6), size / max(rate.bytes_per_second, 1e-6)
    )
    return Estimate(seconds, rate)


def _rates_path() -> Path:
    return paths.state_dir() / "rates.json"


_rates_lock = threading.Lock()


def load_rate(source: AccountSpec, target: AccountSpec) -> Rate:
    """The last measured rate for this pair, or the default (never fails)."""
    try:
        data = json.loads(_rates_path().read_text(encoding="utf-8"))
        entry = data[pair_key(source, target)]
        return Rate(float(entry["messages_per_second"]), float(entry["bytes_per_second"]), True)
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_RATE


def save_rate(source: AccountSpec, target: AccountSpec, report: CopyReport) -> None:
    """Remember the rate of a run that copied enough to measure it (never fails)."""
    if report.copied < MIN_MEASURED or report.elapsed <= 0:
        return
    with _rates_lock, contextlib.suppress(OSError, ValueError):
        path = _rates_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data[pair_key(source, target)] = {
            "messages_per_second": round(report.copied / report.elapsed, 2),
            "bytes_per_second": round(report.bytes / report.elapsed, 1),
        }
        paths.write_private(path, json.dumps(data, indent=2) + "\n")
