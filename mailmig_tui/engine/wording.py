"""The sentences every front end says the same way: sizes, the target's limits, a failure.

The CLI, the TUI and the per-run log all print these; keeping them here means an admin who
greps a log for what the screen said finds it.
"""

from __future__ import annotations

from mailmig_tui.engine.events import Altered, Failure, Reconnecting, ServerBusy


def human_size(size: int) -> str:
    """812 B, 4.2 KB, 12.4 MB."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def size_limit_text(limit: int | None) -> str:
    return human_size(limit) if limit else "none known"


def quota_text(quota: tuple[int, int] | None) -> str:
    """The target's quota as the plan shows it: used of total, or that none was reported."""
    if quota is None:
        return "none reported"
    used, total = quota
    return f"{human_size(used)} of {human_size(total)} used"


def failure_line(failure: Failure) -> str:
    """One message the target did not take: where, which, why."""
    ref = failure.message
    what = "too large" if failure.too_large else "failed"
    return (
        f"{what}: {ref.folder} UID {ref.uid} {ref.subject[:60]!r} "
        f"message-id {ref.message_id or '-'}: {failure.reason}"
    )


def missing_line(folder: str, uid: int, subject: str, message_id: str) -> str:
    """One message the check after a copy did not find on the target."""
    return f"missing: {folder} UID {uid} {subject[:60]!r} message-id {message_id or '-'}"


def notice_text(event: Reconnecting | ServerBusy) -> str:
    """A connection notice: the engine reconnects, or waits because the server asked it to."""
    if isinstance(event, Reconnecting):
        return (
            f"connection lost ({event.reason}); reconnecting in {event.delay:.0f} s "
            f"(attempt {event.attempt})"
        )
    return (
        f"the {event.side} asked to slow down ({event.reason}); waiting {event.delay:.0f} s "
        f"(attempt {event.attempt})"
    )


def altered_line(altered: Altered, what: str = "altered") -> str:
    """One message whose copy differs from the source: where, which, what changed."""
    ref = altered.message
    return (
        f"{what}: {ref.folder} UID {ref.uid} {ref.subject[:60]!r} "
        f"message-id {ref.message_id or '-'}: {altered.change}"
    )


def flags_line(
    folder: str, uid: int, subject: str, source: tuple[str, ...], target: tuple[str, ...]
) -> str:
    """One message whose flags on the target are not the source's."""
    return (
        f"flags differ: {folder} UID {uid} {subject[:60]!r}: source "
        f"({' '.join(sorted(source))}) target ({' '.join(sorted(target))})"
    )
