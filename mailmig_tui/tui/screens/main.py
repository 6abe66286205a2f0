"""The main screen: source pane left, target pane right, marks status line, footer.

Tab switches the active pane (the one holding the focus, with a highlighted title). The
screen only arranges and routes; each pane runs its own workers on its own connections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer

from mailmig_tui.tui.messages import MarksChanged
from mailmig_tui.tui.session import AccountSession
from mailmig_tui.tui.widgets.account_pane import AccountPane
from mailmig_tui.tui.widgets.status_line import StatusLine

PaletteCommand = tuple[str, str, Callable[[], object]]


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "tab,shift+tab",
            "switch_pane",
            "Pane",
            id="switch-pane",
            tooltip="Switch between the source and the target pane",
        ),
    ]

    def __init__(self, source: AccountSession, target: AccountSession) -> None:
        super().__init__()
        self.source = source
        self.target = target

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield AccountPane(self.source, id="source")
            yield AccountPane(self.target, id="target")
        yield StatusLine(id="status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        sessions = getattr(self.app, "sessions", None)
        if isinstance(sessions, list):
            sessions += [self.source, self.target]
        self.pane("source").active = True
        self.pane("source").focus_list()
        self.update_status()

    def on_unmount(self) -> None:
        # Logging out is network I/O: never on the event loop, and never holding up the exit.
        self.source.close(wait=False)
        self.target.close(wait=False)

    def pane(self, role: str) -> AccountPane:
        return self.query_one(f"#{role}", AccountPane)

    @property
    def panes(self) -> Iterator[AccountPane]:
        yield self.pane("source")
        yield self.pane("target")

    @property
    def active_pane(self) -> AccountPane:
        return next((p for p in self.panes if p.active), self.pane("source"))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for pane in self.panes:
            pane.active = pane in event.widget.ancestors_with_self
        if not any(p.active for p in self.panes):
            self.pane("source").active = True
        self.update_status()

    def action_switch_pane(self) -> None:
        other = next(p for p in self.panes if not p.active)
        if self.maximized is not None:
            self.minimize()
        other.focus_list()

    @on(MarksChanged)
    def marks_changed(self, message: MarksChanged) -> None:
        message.stop()
        self.update_status()

    def update_status(self) -> None:
        totals = {pane.session.role: pane.marks.totals() for pane in self.panes}
        self.query_one(StatusLine).show_marks(self.active_pane.session.role, totals)

    def palette_commands(self) -> list[PaletteCommand]:
        """Screen actions for the command palette (the app adds its own)."""
        pane = self.active_pane
        listing = pane.message_list if pane.showing_messages else pane.folder_list
        commands: list[PaletteCommand] = [
            (
                "Switch pane",
                "Make the other account the active pane (Tab)",
                self.action_switch_pane,
            ),
            ("Reload", "Reload the folder list or the open folder (r)", pane.action_reload),
            ("Zoom pane", "Show the active pane on the whole screen (z)", pane.action_zoom),
            ("Invert marks", "Invert the marks of the list (*)", listing.action_invert_marks),
        ]
        if pane.showing_messages:
            commands += [
                (
                    "Search",
                    "Search the open folder on the server (/)",
                    pane.message_list.action_search,
                ),
                (
                    "Sort",
                    "Sort by date, size, sender or subject (s)",
                    pane.message_list.action_sort,
                ),
                (
                    "Back to folders",
                    "Show the folder list (Backspace)",
                    pane.message_list.action_up,
                ),
            ]
        return commands
