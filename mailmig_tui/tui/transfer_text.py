"""Words and numbers of the copy screens: durations, rates, the estimate, failure lines.

Plain strings, computed from values only (never the clock), so a snapshot of a fixed
progress state always renders the same. No Textual here.
"""

from __future__ import annotations

from mailmig_tui.engine.events import Failure
from mailmig_tui.tui.format import clean, count, human_size
from mailmig_tui.tui.transfer_files import Estimate
from mailmig_tui.tui.transfer_state import ProgressSnapshot


def duration(seconds: float) -> str:
    """0:42, 12:05, 1:02:03."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rough_duration(seconds: float) -> str:
    """For an estimate: "under a minute", "about 4 min", "about 2 h 10 min"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"


def rate(messages_per_second: float, bytes_per_second: float) -> str:
    return f"{messages_per_second:,.0f} msg/s · {human_size(round(bytes_per_second))}/s"


def estimate_text(guess: Estimate) -> str:
    """The plan's time, labelled as an estimate with the rate it assumes and where that is from."""
    at = rate(guess.rate.messages_per_second, guess.rate.bytes_per_second)
    source = (
        "as measured in the last copy between these accounts"
        if guess.rate.measured
        else "a cautious default until a copy between these accounts was measured"
    )
    return f"{rough_duration(guess.seconds)} (estimate at {at}: {source})"


def eta_text(snapshot: ProgressSnapshot) -> str:
    if snapshot.phase == "cancelling":
        return "cancelling…"
    if snapshot.phase == "verifying":
        return "verifying…"
    left = snapshot.eta
    return "ETA –:––" if left is None else f"ETA {duration(left)}"


def progress_line(snapshot: ProgressSnapshot) -> str:
    """`1,234/3,251 msgs · 4.5 MB/12.0 MB · 312 msg/s · 4.1 MB/s · ETA 0:42`."""
    return (
        f"{count(snapshot.processed)}/{count(snapshot.messages)} msgs · "
        f"{human_size(snapshot.copied_bytes)}/{human_size(snapshot.bytes)} · "
        f"{rate(snapshot.messages_per_second, snapshot.bytes_per_second)} · "
        f"{eta_text(snapshot)}"
    )


def failure_line(failure: Failure) -> str:
    """`INBOX UID 45 "Rechnung 1023": larger than the target accepts (…)`."""
    ref = failure.message
    subject = clean(ref.subject) or "(no subject)"
    kind = "too large" if failure.too_large else "failed"
    return f"{ref.folder} UID {ref.uid} {subject!r} {kind}: {clean(failure.reason)}"


def percent(done: int, total: int) -> str:
    if total <= 0:
        return "100%"
    return f"{min(100, done * 100 // total)}%"
