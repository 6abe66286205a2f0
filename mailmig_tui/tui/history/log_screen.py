"""A run's log file inside the app: a scrolling view, read in a worker, `r` reads it again
(a running copy's log grows)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Log, Static

MAX_LINES = 200_000
"""Lines kept on screen; a longer log shows its end (the whole file stays on disk)."""


class LogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,v", "close", "Back", key_display="esc", id="close-log"),
        Binding("r", "reload", "Reload", id="log-reload", tooltip="Read the log file again"),
        Binding("g,home", "top", "Top", show=False, id="log-top", tooltip="The first line"),
        Binding("G,end", "bottom", "End", show=False, id="log-end", tooltip="The last line"),
        Binding("j", "down", "Down", show=False, id="log-down", tooltip="One line down"),
        Binding("k", "up", "Up", show=False, id="log-up", tooltip="One line up"),
    ]

    class Loaded(Message, bubble=False):
        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        where = f"{self.path.name} in {self.path.parent}" if self.path else "no log was written"
        yield Static(Text(f"Log: {where}"), classes="screen-title")
        yield Log(max_lines=MAX_LINES, auto_scroll=False, id="log-view")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._read(self.path)

    @work(thread=True, group="log", exclusive=True, exit_on_error=False)
    def _read(self, path: Path | None) -> None:
        if path is None:
            lines = ["This run has no log (its log directory could not be written)."]
        else:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
                lines = text.splitlines()[-MAX_LINES:] or ["(the log is empty)"]
            except OSError as exc:
                lines = [f"Cannot read {path}: {exc.strerror or exc}"]
        self.post_message(self.Loaded(lines))

    def on_log_screen_loaded(self, message: LogScreen.Loaded) -> None:
        view = self.query_one(Log)
        view.clear()
        view.write_lines(message.lines)

    def action_top(self) -> None:
        self.query_one(Log).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(Log).scroll_end(animate=False)

    def action_down(self) -> None:
        self.query_one(Log).scroll_down(animate=False)

    def action_up(self) -> None:
        self.query_one(Log).scroll_up(animate=False)

    def action_close(self) -> None:
        self.dismiss()
