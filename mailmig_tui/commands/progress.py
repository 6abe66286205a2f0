"""Showing copy events on the command line: a rich progress display on a terminal,
plain lines otherwise (cron, pipes, CI logs).

The rate and the time left come from the engine's `RateMeter`, as in the TUI: measured over
the last seconds, and "measuring…" until the rate has settled (rich's own time-remaining
column jumped about for the first seconds).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
)

from mailmig_tui.engine.events import (
    CopyEvent,
    FolderDone,
    FolderStarted,
    MessageCopied,
    MessageFailed,
    MessageSkipped,
    Reconnecting,
    ServerBusy,
    Verifying,
)
from mailmig_tui.engine.progress import RateMeter
from mailmig_tui.engine.wording import failure_line, human_size, notice_text

MEASURING = "measuring…"


def clock_time(seconds: float) -> str:
    """0:42, 12:05, 1:02:03."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RateColumn(TextColumn):
    """On the overall bar: messages/s, MB/s and the time left, or "measuring…"."""

    def __init__(self, display: ProgressDisplay) -> None:
        super().__init__("")
        self.display = display

    def render(self, task: object) -> object:  # type: ignore[override]
        from rich.text import Text

        if getattr(task, "id", None) != self.display.overall:
            return Text("")
        return Text(self.display.live_text(), style="progress.data.speed")


class ProgressDisplay:
    """Renders engine events; use as a context manager around `copy_folders`."""

    def __init__(
        self,
        total_messages: int,
        total_bytes: int,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream or sys.stderr
        self.total_messages, self.total_bytes = total_messages, total_bytes
        self.messages = 0
        self.bytes = 0
        self.clock = clock
        self.started = clock()
        self.meter = RateMeter(clock)
        """Sampled by the render thread only (`live_text`)."""
        self.live = self.stream.isatty()
        self.progress: Progress | None = None
        self.overall: TaskID | None = None
        self.folder_tasks: dict[str, TaskID] = {}
        """One bar per folder being copied; several run at once over the connection pool."""
        self.verify_task: TaskID | None = None
        self.verify_started = False

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}", table_column=None),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(self),
                console=Console(file=self.stream),
                transient=False,
            )
            self.progress.start()
            self.overall = self.progress.add_task("all folders", total=self.total_bytes or 1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def rate_text(self) -> str:
        """The average since the start, for the plain lines."""
        elapsed = max(self.clock() - self.started, 1e-6)
        return f"{self.messages / elapsed:,.0f} msg/s {self.bytes / elapsed / 1e6:,.1f} MB/s"

    def live_text(self) -> str:
        """`312 msg/s 4.1 MB/s ETA 0:42` over the last seconds, or "measuring…"."""
        per_message, per_byte, settled = self.meter.sample(self.messages, self.bytes)
        if not settled:
            return MEASURING
        left = max(0, self.total_messages - self.messages)
        left_bytes = max(0, self.total_bytes - self.bytes)
        guesses = [left / per_message] if per_message > 0 else []
        if per_byte > 0:
            guesses.append(left_bytes / per_byte)
        eta = f"ETA {clock_time(max(guesses))}" if guesses else "ETA -:--"
        return f"{per_message:,.0f} msg/s {per_byte / 1e6:,.1f} MB/s {eta}"

    def line(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def __call__(self, event: CopyEvent) -> None:
        if isinstance(event, MessageCopied):
            self.messages += 1
            self.bytes += event.message.size
            if self.progress is not None and self.overall is not None:
                self.progress.update(self.overall, advance=event.message.size)
                task = self.folder_tasks.get(event.message.folder)
                if task is not None:
                    self.progress.update(task, advance=1)
        elif isinstance(event, FolderStarted):
            if self.progress is not None:
                self.folder_tasks[event.source] = self.progress.add_task(
                    event.source[:30], total=max(event.messages, 1)
                )
            else:
                self.line(
                    f"copying {event.source} -> {event.target}: {event.messages} messages, "
                    f"{human_size(event.bytes)}"
                )
        elif isinstance(event, FolderDone):
            r = event.report
            task = self.folder_tasks.pop(r.source, None)
            if self.progress is not None and task is not None:
                self.progress.remove_task(task)
            self.line(
                f"done {r.source} -> {r.target}: copied {r.copied}, already there "
                f"{r.already_present}, too large {r.too_large}, failed {r.failed}"
                + (f", not copied {r.not_copied}" if r.not_copied else "")
                + (f"; stopped: {r.error}" if r.error else "")
                + ("" if self.progress is not None else f" ({self.rate_text()})")
            )
        elif isinstance(event, MessageFailed):
            self.line(f"mailmig: {failure_line(event.failure)}")
        elif isinstance(event, MessageSkipped):
            self.line(f"skipped: {event.message.folder} UID {event.message.uid}: {event.reason}")
        elif isinstance(event, Reconnecting | ServerBusy):
            self.line(notice_text(event))
        elif isinstance(event, Verifying):
            self._verifying(event)

    def _verifying(self, event: Verifying) -> None:
        """The check after the copy: a bar of its own, or a line at its start and end."""
        if self.progress is not None:
            if self.verify_task is None:
                self.verify_task = self.progress.add_task("verifying", total=max(event.total, 1))
            self.progress.update(self.verify_task, completed=event.checked)
        elif not self.verify_started:
            self.line(f"verifying {event.total} messages on the target")
        self.verify_started = True
