"""Words and numbers of the copy screens: durations, rates, the estimate, the progress line.

Plain strings, computed from values only (never the clock), so a snapshot of a fixed
progress state always renders the same. Sizes and failure lines come from
`engine.wording`, so the screen says what the log says. No Textual here.
"""

from __future__ import annotations

from mailmig_tui.engine.progress import ProgressSnapshot
from mailmig_tui.engine.rates import Estimate
from mailmig_tui.engine.wording import human_size
from mailmig_tui.tui.common.format import count, join_fitting

MEASURING = "measuring…"
"""Instead of a rate and an ETA until the rate has settled (see `engine.progress`)."""


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
    link = guess.rate.link
    if guess.rate.measured:
        source = "as measured in the last copy between these accounts"
    elif guess.rate.sampled and link is not None:
        trip = max(link.source_rtt, link.target_rtt) * 1000
        source = f"measured while planning, round trip {trip:,.1f} ms"
    else:
        source = "a cautious default until a copy between these accounts was measured"
    return f"{rough_duration(guess.seconds)} (estimate at {at}: {source})"


def checking(snapshot: ProgressSnapshot) -> bool:
    """The copy is done and the check after it runs (or is being cancelled)."""
    return snapshot.phase == "verifying" or snapshot.to_check > 0


def eta_text(snapshot: ProgressSnapshot) -> str:
    if snapshot.phase == "cancelling":
        return "cancelling…"
    left = snapshot.eta
    return "ETA –:––" if left is None else f"ETA {duration(left)}"


def headline(snapshot: ProgressSnapshot, width: int | None = None) -> tuple[str, str]:
    """The panel's first line as (bold verb, the rest):
    ("Copying:", "1,234/3,251 msgs · 4.5 MB/12.0 MB · 312 msg/s · 4.1 MB/s · ETA 0:42"),
    ("Checking", "41,200/100,000 messages on the target"), ("Cancelling", "the check …")."""
    if not checking(snapshot):
        verb = "Cancelling:" if snapshot.phase == "cancelling" else "Copying:"
        return verb, copy_line(snapshot, None if width is None else width - len(verb) - 1)
    checked = f"{count(snapshot.checked)}/{count(snapshot.to_check)} messages"
    if snapshot.phase == "cancelling":
        return "Cancelling", f"the check at {checked}; the report follows"
    return "Checking", f"{checked} on the target"


def progress_line(snapshot: ProgressSnapshot) -> str:
    """While copying: `1,234/3,251 msgs · 4.5 MB/12.0 MB · 312 msg/s · 4.1 MB/s · ETA 0:42`;
    while checking: `Checking 41,200/100,000 messages on the target`."""
    return " ".join(headline(snapshot)) if checking(snapshot) else copy_line(snapshot)


def copy_line(snapshot: ProgressSnapshot, width: int | None = None) -> str:
    """`1,234/3,251 msgs · 4.5 MB/12.0 MB · 312 msg/s · 4.1 MB/s · ETA 0:42`, or while the
    rate settles `12/3,251 msgs · 40 KB/12.0 MB · measuring…`. In `width` cells the rate
    goes first, then the bytes: the counts and the ETA stay whole (80x24, 100,000 msgs)."""
    parts = [
        (0, f"{count(snapshot.processed)}/{count(snapshot.messages)} msgs"),
        (2, f"{human_size(snapshot.copied_bytes)}/{human_size(snapshot.bytes)}"),
    ]
    if snapshot.measuring:
        parts.append((1, MEASURING))
    else:
        parts.append((3, rate(snapshot.messages_per_second, snapshot.bytes_per_second)))
        parts.append((1, eta_text(snapshot)))
    if width is None:
        return " · ".join(text for _priority, text in parts)
    return join_fitting(parts, width)


def overall(snapshot: ProgressSnapshot) -> tuple[int, int]:
    """(done, of) for the overall bar: messages copied, then messages checked."""
    if checking(snapshot):
        return snapshot.checked, snapshot.to_check
    return snapshot.processed, snapshot.messages


def percent(done: int, total: int) -> str:
    if total <= 0:
        return "100%"
    return f"{min(100, done * 100 // total)}%"
