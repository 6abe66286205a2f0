"""Textual messages posted by thread workers (and a few widgets) to hand results to the UI.

Workers never touch widgets: they post one of these, and the handler on the event loop
updates state. `generation` fields let a handler drop results of a folder, sort or search
the operator has already left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.message import Message

from mailmig_tui.model import AccountSpec, FolderInfo, MessageSummary
from mailmig_tui.tui.mime_text import PreviewContent


class WorkFailed(Message):
    """A worker failed; bubbles up to the app, which shows a dialog or a notification."""

    def __init__(
        self, error: BaseException, where: str = "", after: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.error = error
        self.where = where
        self.after = after
        """Called once the operator closed the error dialog (e.g. ask the password again)."""


class PasswordNeeded(Message):
    """No password in the environment or the keyring: the pane asks with a dialog."""


class KeyringUnavailable(Message):
    """A password could not be stored; bubbles to the app, which says so once."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class FoldersLoaded(Message):
    def __init__(self, folders: Sequence[FolderInfo], prefix: str) -> None:
        super().__init__()
        self.folders = list(folders)
        self.prefix = prefix


class FolderOpened(Message):
    def __init__(
        self, generation: int, folder: FolderInfo, uids: Sequence[int], elapsed: float
    ) -> None:
        super().__init__()
        self.generation = generation
        self.folder = folder
        self.uids = list(uids)
        self.elapsed = elapsed


class SummariesLoaded(Message):
    def __init__(
        self, generation: int, requested: Sequence[int], summaries: Sequence[MessageSummary]
    ) -> None:
        super().__init__()
        self.generation = generation
        self.requested = list(requested)
        self.summaries = list(summaries)


class SortReady(Message):
    def __init__(self, generation: int, key: str, summaries: Sequence[MessageSummary]) -> None:
        super().__init__()
        self.generation = generation
        self.key = key
        self.summaries = list(summaries)


class SearchDone(Message):
    def __init__(self, generation: int, text: str, uids: Sequence[int]) -> None:
        super().__init__()
        self.generation = generation
        self.text = text
        self.uids = list(uids)


class PreviewLoaded(Message):
    def __init__(self, content: PreviewContent | None) -> None:
        super().__init__()
        self.content = content
        """None when the message is no longer on the server."""


class LoginTested(Message):
    """The account form's test login worked and the account is saved."""

    def __init__(self, spec: AccountSpec, password: str) -> None:
        super().__init__()
        self.spec = spec
        self.password = password


class MarksChanged(Message):
    """A pane's marks changed; bubbles to the screen, which updates the status line."""
