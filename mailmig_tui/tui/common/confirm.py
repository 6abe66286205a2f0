"""A yes/no question (quit while a copy runs, undo a run): y answers yes, n/Escape no.

The safe answer has the focus, so Enter alone never does the risky thing; ←/→ move between
the two buttons as they sit on screen (and Tab still does), and a hint line names the keys.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
        Binding("left", "focus_button('yes')", "Left button", show=False, id="confirm-left"),
        Binding("right", "focus_button('no')", "Right button", show=False, id="confirm-right"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.question, self.yes, self.no = title, question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            yield Static(Text(self.question))
            yield Static(Text("\n" + self.hint(), style="dim"), classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, variant="error", id="yes", compact=True)
                yield Button(self.no, variant="primary", id="no", compact=True)

    def hint(self) -> str:
        """`y Remove · n Keep · ←/→ Enter`: the keys, since the buttons show only words."""
        return f"y {self.yes} · n {self.no} · ←/→ and Enter choose a button"

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_focus_button(self, button_id: str) -> None:
        self.query_one(f"#{button_id}", Button).focus()
