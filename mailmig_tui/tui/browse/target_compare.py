"""What is already on the target, looked up in thread workers so the lists never wait.

The main screen holds one `TargetComparison` (a widget without display, as `CopyControl`)
and asks it for the counts of every folder (`compare_folders`) once both panes listed their
folders, and for the messages of a source folder the operator opened (`compare_folder`).
The work is the engine's (`engine.compare`); the workers use connections of their own
("compare"), so browsing and paging go on meanwhile. The answers come back as messages.
A folder's lookup is given the UIDs its list already holds (the screen starts it once the
first rows are shown) and reports progress per chunk; opening another folder cancels it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from mailmig_tui.engine.compare import (
    Presence,
    TargetCount,
    on_target,
    target_counts,
    target_folder_of,
)
from mailmig_tui.engine.saved_maps import load_overrides
from mailmig_tui.tui.accounts.session import AccountSession

PURPOSE = "compare"
GROUP_MESSAGES = "compare-messages"
PROGRESS_INTERVAL = 0.2
"""Seconds between progress posts: the status line needs no more."""


class TargetComparison(Widget):
    DEFAULT_CSS = "TargetComparison { display: none; }"

    class CountsReady(Message):
        """Source folder -> its target folder's count."""

        def __init__(self, counts: dict[str, TargetCount]) -> None:
            super().__init__()
            self.counts = counts

    class PresenceReady(Message):
        """Which messages of an opened source folder are on the target."""

        def __init__(self, presence: Presence) -> None:
            super().__init__()
            self.presence = presence

    class LookupFailed(Message):
        """A lookup failed: the screen says so in the status line (no dialog: it is extra)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, source: AccountSession, target: AccountSession) -> None:
        super().__init__()
        self.source, self.target = source, target

    @work(thread=True, group="compare-folders", exclusive=True, exit_on_error=False)
    def compare_folders(self) -> None:
        saved_map = load_overrides(self.source.spec, self.target.spec)
        with (
            self.source.connection(PURPOSE).use() as source,
            self.target.connection(PURPOSE).use() as target,
        ):
            counts = target_counts(source, target, saved_map)
        self.post_message(self.CountsReady(counts))

    class LookupProgress(Message):
        """`done` of `total` source messages of `folder` looked up so far."""

        def __init__(self, folder: str, done: int, total: int) -> None:
            super().__init__()
            self.folder, self.done, self.total = folder, done, total

    def compare_folder(self, folder: str, uids: Sequence[int]) -> None:
        """Look up which of `uids` (the open folder's, as listed) are on the target; a
        lookup still running for another folder stops at its next chunk."""
        self._compare_folder(folder, list(uids))

    def cancel_folder_lookup(self) -> None:
        """Stop a running lookup at its next chunk (another folder is being opened)."""
        self.workers.cancel_group(self, GROUP_MESSAGES)

    @work(thread=True, group=GROUP_MESSAGES, exclusive=True, exit_on_error=False)
    def _compare_folder(self, folder: str, uids: list[int]) -> None:
        worker = get_current_worker()
        saved_map = load_overrides(self.source.spec, self.target.spec)
        last_post = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last_post
            now = time.monotonic()
            if now - last_post >= PROGRESS_INTERVAL and not worker.is_cancelled:
                last_post = now
                self.post_message(self.LookupProgress(folder, done, total))

        with (
            self.source.connection(PURPOSE).use() as source,
            self.target.connection(PURPOSE).use() as target,
        ):
            target_folder = target_folder_of(source, target, folder, saved_map)
            if target_folder is None or worker.is_cancelled:
                return
            presence = on_target(
                source,
                target,
                folder,
                target_folder,
                uids,
                progress=progress,
                cancelled=lambda: worker.is_cancelled,
            )
        if presence.complete and not worker.is_cancelled:
            self.post_message(self.PresenceReady(presence))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        event.stop()
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            self.post_message(self.LookupFailed(f"target comparison failed: {error}"))
