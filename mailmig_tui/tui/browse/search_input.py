"""The one-line search box under a message list; Escape cancels it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

PLACEHOLDER = 'from:anna subject:"Grüße" since:2024-01-01 larger:100k words'


class SearchInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel-search"),
    ]

    class Cancelled(Message):
        """Escape: hide the box, the list stays as it is."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder=PLACEHOLDER, id=id, compact=True)

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
