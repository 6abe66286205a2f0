"""The two messages any widget or screen posts up to the app, which alone decides how to say it.

Every other message is a nested class of the widget that posts it (`FolderList.Open`,
`CopyControl.Finished`, ...); these two have many senders and one receiver.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message


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


class KeyringUnavailable(Message):
    """A password could not be stored; bubbles to the app, which says so once."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
