"""Progress of a running copy: engine events in, immutable snapshots out, at most ~10 a second.

The engine calls its event sink on its own threads, up to thousands of times a second.
`ProgressTracker.feed` only adds to counters (under a lock); `snapshot()` copies them into a
frozen `ProgressSnapshot` that the UI thread can keep and render at leisure; `Throttle` says
when the next one is worth sending. Rates are measured over the last few seconds, so they
follow the copy as it speeds up or slows down; the ETA is derived from them. Until the rate
has settled (`RateMeter`) a snapshot says `measuring` and has no ETA: the first messages
of a copy come after its connections open, and an ETA from them (`4:42:31` after the first
message) was noise.

Lives in the engine because every front end wants the same counting: the TUI's panel, the
batch screen, anything else that subscribes to a run's events. Tests feed it with a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mailmig_tui.engine.events import (
    CopyEvent,
    Failure,
    Finished,
    FolderDone,
    FolderStarted,
    MessageCopied,
    MessageFailed,
    MessageSkipped,
    Reconnecting,
    ServerBusy,
    Verifying,
)
from mailmig_tui.engine.wording import notice_text

Clock = Callable[[], float]
RATE_WINDOW = 5.0
"""Seconds of history the rates are measured over."""
SETTLE_MESSAGES = 20
SETTLE_SECONDS = 2.0
"""The rate counts as settled once this many messages were copied over at least this long
since the first one (a slow link: `SLOW_SETTLE_SECONDS` and two messages do)."""
SLOW_SETTLE_SECONDS = 10.0
KEEP_FAILURES = 1000
"""Failures a snapshot carries for the live error list; the report and the log have all."""


@dataclass(frozen=True)
class FolderProgress:
    source: str
    target: str
    messages: int
    """Messages this run copies into the folder (the plan's "to copy")."""
    bytes: int
    copied: int = 0
    copied_bytes: int = 0
    failed: int = 0
    skipped: int = 0
    state: str = "waiting"
    """"waiting", "copying", "done" or "stopped" (a folder error; see `error`)."""
    error: str = ""

    @property
    def processed(self) -> int:
        return min(self.messages, self.copied + self.failed + self.skipped)


@dataclass(frozen=True)
class ProgressSnapshot:
    folders: tuple[FolderProgress, ...]
    messages: int
    bytes: int
    copied: int = 0
    copied_bytes: int = 0
    failed: int = 0
    too_large: int = 0
    elapsed: float = 0.0
    messages_per_second: float = 0.0
    bytes_per_second: float = 0.0
    failures: tuple[Failure, ...] = ()
    """The latest failures (at most KEEP_FAILURES), oldest first."""
    failure_count: int = 0
    notice: str = ""
    """The last connection notice (reconnecting, throttled), for the panel's last line."""
    phase: str = "copying"
    """"copying", "cancelling", "verifying" or "finished"."""
    checked: int = 0
    to_check: int = 0
    """The check after the copy: source messages looked up on the target so far, of all."""
    measuring: bool = False
    """The rate has not settled yet: show "measuring…", no rate and no ETA."""

    @property
    def processed(self) -> int:
        return sum(f.processed for f in self.folders)

    @property
    def active(self) -> list[FolderProgress]:
        return [f for f in self.folders if f.state == "copying"]

    @property
    def eta(self) -> float | None:
        """Seconds left at the measured rates; None until there is a rate to go by."""
        left_messages = max(0, self.messages - self.processed)
        left_bytes = max(0, self.bytes - self.copied_bytes)
        if left_messages == 0:
            return 0.0
        if self.measuring:
            return None
        guesses = []
        if self.messages_per_second > 0:
            guesses.append(left_messages / self.messages_per_second)
        if self.bytes_per_second > 0 and left_bytes:
            guesses.append(left_bytes / self.bytes_per_second)
        return max(guesses) if guesses else None


def empty_snapshot(folders: Sequence[tuple[str, str, int, int]]) -> ProgressSnapshot:
    """The snapshot before the first event: (source, target, messages, bytes) per folder."""
    progress = tuple(FolderProgress(s, t, m, b) for s, t, m, b in folders)
    return ProgressSnapshot(
        progress, sum(f.messages for f in progress), sum(f.bytes for f in progress)
    )


class RateMeter:
    """Messages and bytes a second over the last `RATE_WINDOW` seconds, and whether that
    rate has settled; fed with running totals, at whatever moments the caller samples.
    Not locked: one thread samples (the tracker under its lock, the CLI's render thread)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._first: float | None = None
        self._samples: deque[tuple[float, int, int]] = deque()

    def sample(self, messages: int, size: int) -> tuple[float, float, bool]:
        """(messages a second, bytes a second, settled) with these totals copied so far."""
        now = self._clock()
        if messages and self._first is None:
            # The clock starts at the first copied message seen: connecting and the first
            # fetch are not part of the rate.
            self._first = now
            self._samples.clear()
        self._samples.append((now, messages, size))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
            self._samples.popleft()
        then, before, before_size = self._samples[0]
        span = now - then
        if self._first is None or span <= 0:
            return 0.0, 0.0, False
        since = now - self._first
        settled = (messages >= SETTLE_MESSAGES and since >= SETTLE_SECONDS) or (
            messages >= 2 and since >= SLOW_SETTLE_SECONDS
        )
        return (messages - before) / span, (size - before_size) / span, settled


class ProgressTracker:
    """Counts engine events; thread-safe; `snapshot()` any time from any thread."""

    def __init__(
        self, folders: Sequence[tuple[str, str, int, int]], clock: Clock = time.monotonic
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._base = empty_snapshot(folders)
        self._index = {f.source: i for i, f in enumerate(self._base.folders)}
        self._folders = list(self._base.folders)
        self._copied = self._copied_bytes = self._failed = self._too_large = 0
        self._failures: deque[Failure] = deque(maxlen=KEEP_FAILURES)
        self._failure_count = 0
        self._notice = ""
        self._phase = "copying"
        self._checked = self._to_check = 0
        self._rates = RateMeter(clock)

    def feed(self, event: CopyEvent) -> bool:
        """Count one event; True when it is worth showing at once (not just a copied message)."""
        with self._lock:
            if isinstance(event, MessageCopied):
                self._copied += 1
                self._copied_bytes += event.message.size
                self._bump(event.message.folder, copied=1, copied_bytes=event.message.size)
                return False
            if isinstance(event, MessageFailed):
                self._failures.append(event.failure)
                self._failure_count += 1
                if event.failure.too_large:
                    self._too_large += 1
                    return False  # planned as too large: not among the messages to copy
                self._failed += 1
                self._bump(event.failure.message.folder, failed=1)
                return False
            if isinstance(event, MessageSkipped):
                self._bump(event.message.folder, skipped=1)
                return False
            if isinstance(event, FolderStarted):
                self._set(event.source, "copying")
            elif isinstance(event, FolderDone):
                report = event.report
                self._set(report.source, "stopped" if report.error else "done", report.error)
            elif isinstance(event, Reconnecting | ServerBusy):
                self._notice = notice_text(event)
            elif isinstance(event, Verifying):
                if self._phase != "cancelling":  # a cancel during the check stays shown
                    self._phase = "verifying"
                self._checked, self._to_check = event.checked, event.total
                return event.checked in (0, event.total)  # the rest as the throttle allows
            elif isinstance(event, Finished):
                self._phase = "finished"
            return True

    def _bump(self, folder: str, **counts: int) -> None:
        index = self._index.get(folder)
        if index is None:
            return
        current = self._folders[index]
        changes = {name: getattr(current, name) + value for name, value in counts.items()}
        self._folders[index] = replace(current, **changes)

    def _set(self, folder: str, state: str, error: str = "") -> None:
        index = self._index.get(folder)
        if index is not None:
            self._folders[index] = replace(self._folders[index], state=state, error=error)

    def set_phase(self, phase: str) -> None:
        with self._lock:
            self._phase = phase

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            now = self._clock()
            per_message, per_byte, settled = self._rates.sample(self._copied, self._copied_bytes)
            return replace(
                self._base,
                folders=tuple(self._folders),
                copied=self._copied,
                copied_bytes=self._copied_bytes,
                failed=self._failed,
                too_large=self._too_large,
                elapsed=now - self._started,
                messages_per_second=per_message,
                bytes_per_second=per_byte,
                failures=tuple(self._failures),
                failure_count=self._failure_count,
                notice=self._notice,
                phase=self._phase,
                checked=self._checked,
                to_check=self._to_check,
                measuring=self._phase == "copying" and not settled,
            )


class Throttle:
    """Lets a snapshot through at most every `interval` seconds, urgent ones always."""

    def __init__(self, interval: float = 0.1, clock: Clock = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last = -interval

    def ready(self, urgent: bool = False) -> bool:
        now = self._clock()
        if urgent or now - self._last >= self.interval:
            self._last = now
            return True
        return False
