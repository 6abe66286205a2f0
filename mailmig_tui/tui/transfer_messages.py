"""Textual messages of the folder map and the copy, posted by their thread workers.

`TransferProgress` is posted up to ~10 times a second and can replace a pending one: each
carries the whole progress so far, so when the UI falls behind only the newest is drawn.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from mailmig_tui.tui.copy_job import CopyOutcome, PreparedCopy
from mailmig_tui.tui.folder_map import MapResult
from mailmig_tui.tui.transfer_state import ProgressSnapshot


class MapComputed(Message):
    def __init__(self, result: MapResult, saved: Path | None = None) -> None:
        super().__init__()
        self.result = result
        self.saved = saved
        """The file the edited map was just saved to, if it was."""


class PlanReady(Message):
    def __init__(self, prepared: PreparedCopy) -> None:
        super().__init__()
        self.prepared = prepared


class TransferProgress(Message):
    def __init__(self, snapshot: ProgressSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TransferProgress)


class TransferNotice(Message):
    """A reconnect or a throttling pause: worth a notification, not only the panel line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class TransferFinished(Message):
    def __init__(self, outcome: CopyOutcome) -> None:
        super().__init__()
        self.outcome = outcome
