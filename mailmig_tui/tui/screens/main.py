"""The main screen: source pane left, target pane right, the copy's progress panel (while a
copy runs), marks status line, footer.

Tab switches the active pane (the one holding the focus, with a highlighted title). The
screen only arranges and routes; each pane runs its own workers on its own connections, and
the copy runs in the `TransferControl`'s workers on connections of its own. F5 or `c` copies
what is marked in the source pane (see `selection`), `m` opens the folder map.
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
from mailmig_tui.tui.selection import Selection, selection_from
from mailmig_tui.tui.session import AccountSession
from mailmig_tui.tui.widgets.account_pane import AccountPane
from mailmig_tui.tui.widgets.status_line import StatusLine
from mailmig_tui.tui.widgets.transfer_control import TransferControl
from mailmig_tui.tui.widgets.transfer_panel import TransferPanel

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
        Binding(
            "f5,c",
            "copy",
            "Copy",
            key_display="c",
            id="copy",
            tooltip="Copy what is marked in the source (else the folder at hand) to the target",
        ),
        Binding(
            "m",
            "folder_map",
            "Map",
            show=False,  # the footer has no room at 80 columns; help and palette list it
            id="folder-map",
            tooltip="Show and edit which target folder each source folder goes to",
        ),
        Binding(
            "x",
            "cancel_copy",
            "Cancel copy",
            show=False,  # the progress panel says "x cancel" while a copy runs
            id="cancel-copy",
            tooltip="Cancel the running copy (a later copy goes on where it stopped)",
        ),
        Binding(
            "p",
            "copy_details",
            "Progress",
            show=False,
            id="copy-details",
            tooltip="Show the running copy on the whole screen, with every error",
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
        yield TransferPanel(id="transfer-panel")
        yield StatusLine(id="status")
        # Compact: at 80 columns the message list's keys, Copy and Help all fit.
        yield Footer(show_command_palette=False, compact=True)
        yield TransferControl(self.source, self.target)

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

    # -- copying ---------------------------------------------------------------------------

    @property
    def transfer(self) -> TransferControl:
        return self.query_one(TransferControl)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel_copy", "copy_details"):
            return self.transfer.busy if self.is_mounted else False
        return True

    def action_copy(self) -> None:
        source = self.pane("source")
        if not source.connected:
            self.notify("The source is not connected yet", severity="warning")
            return
        current = source.folder_list.current
        if source.showing_messages and source.message_list.folder is not None:
            current = source.message_list.folder
        selection = selection_from(source.marks, source.folder_list.folders, current)
        if selection is None:
            self.notify("Nothing to copy: mark folders or messages (Space)", severity="warning")
            return
        self.transfer.copy(selection)

    def action_cancel_copy(self) -> None:
        self.transfer.cancel()

    def action_copy_details(self) -> None:
        from mailmig_tui.tui.screens.transfer import TransferScreen

        if self.transfer.running and self.transfer.snapshot is not None:
            self.app.push_screen(TransferScreen(self.transfer.snapshot, self.transfer.cancel))

    def action_folder_map(self) -> None:
        from mailmig_tui.tui.screens.folder_map import FolderMapScreen

        def closed(overrides: dict[str, str] | None) -> None:
            if overrides is not None:
                self.transfer.overrides = overrides

        self.app.push_screen(
            FolderMapScreen(self.source, self.target, self.transfer.overrides), closed
        )

    def marks_copied(self, selection: Selection) -> None:
        """What `selection` took is all on the target now: unmark it (marks made while the
        copy ran stay)."""
        source = self.pane("source")
        for name in selection.folders:
            if name in selection.only_uids:
                source.marks.forget_messages(name, selection.only_uids[name])
            else:  # the whole folder went, its single marked messages with it
                source.marks.folders.pop(name, None)
                source.marks.messages.pop(name, None)
        source.current_list.refresh()
        self.update_status()

    def refresh_target(self) -> None:
        self.pane("target").refresh_folders()

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
            ("Copy", "Copy the marked folders or messages to the target (F5, c)", self.action_copy),
            (
                "Folder map",
                "Which target folder each source folder goes to (m)",
                self.action_folder_map,
            ),
        ]
        if self.transfer.running:
            commands += [
                ("Cancel copy", "Stop the running copy (x)", self.action_cancel_copy),
                (
                    "Copy progress",
                    "The running copy on the whole screen (p)",
                    self.action_copy_details,
                ),
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
