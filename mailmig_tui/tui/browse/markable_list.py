"""The base of the folder list and the message list: a line list over the pane's marks."""

from __future__ import annotations

from textual.message import Message

from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.common.line_list import LineList


class MarkableList(LineList):
    """A `LineList` whose rows can be marked; it says so whenever the marks change."""

    class MarksChanged(Message):
        """The pane's marks changed; bubbles to the screen, which updates the status line."""

    def __init__(self, marks: MarkSet, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.marks = marks
        """Shared with the pane and its other list: one set of marks per account."""
