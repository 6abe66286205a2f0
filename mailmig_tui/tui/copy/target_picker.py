"""Choosing one source folder's target: pick an existing target folder, or type a new name.

The box filters the list as you type; Enter in the box takes the typed name, Down moves
into the list, Enter there takes the folder under the cursor. "(automatic)" hands the folder
back to the automatic rules. The answer is the target name, "" for automatic, None when
cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

AUTOMATIC = "\0automatic"
"""Option id of "(automatic)": no folder name can hold a NUL."""


class TargetPicker(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel-target"),
        Binding("down", "to_list", "To the list", show=False, id="target-list"),
    ]

    def __init__(self, source: str, current: str, targets: Sequence[str]) -> None:
        super().__init__(classes="dialog-screen")
        self.source = source
        self.current = current
        self.targets = list(targets)

    def compose(self) -> ComposeResult:
        example = next((t for t in self.targets if t.upper() != "INBOX"), "INBOX")
        with Vertical(classes="dialog picker-dialog"):
            yield Static(Text(f"Target folder for {self.source}"), classes="dialog-title")
            yield Input(value=self.current, id="target-name", compact=True)
            yield Static(
                Text(f"A new name as the target spells it (like {example}), or pick one:"),
                classes="dim",
            )
            yield OptionList(id="target-options")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one(Input).focus()

    def fill(self, text: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_option(Option("(automatic)", id=AUTOMATIC))
        wanted = text.casefold()
        for name in self.targets:
            if wanted in name.casefold():
                options.add_option(Option(Text(name), id=name))
        options.highlighted = 0

    @on(Input.Changed)
    def filter(self, event: Input.Changed) -> None:
        event.stop()
        # The prefilled current target shows every folder; typing narrows the list.
        self.fill("" if event.value == self.current else event.value)

    @on(Input.Submitted)
    def typed(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if name:
            self.dismiss(name)

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id or ""
        self.dismiss("" if chosen == AUTOMATIC else chosen)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "to_list":
            return isinstance(self.focused, Input)  # in the list, Down moves its cursor
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)
