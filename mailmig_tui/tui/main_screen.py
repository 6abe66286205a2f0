"""The main screen: source pane left, target pane right, the copy panel (while a copy is
under way), marks status line, footer.

Tab switches the active pane (the one holding the focus, with a highlighted title). The
screen arranges and routes: each pane runs its own workers on its own connections, and
the copy runs in the `CopyControl`'s workers on connections of its own. The screen hands the
control its accounts and settings and the panel the control's progress signal, and reacts
to what the control posts: it shows the plan, clears the marks of a complete copy,
refreshes the target pane and shows the report. F5 or `c` copies what is marked in the
source pane (see `copy.selection`), `m` opens the folder map.

It also does what a pane posts up: asks for a password (and hands the answer back to the
pane), shows a message's preview, zooms a pane to the whole screen and back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input

from mailmig_tui.engine.compare import Presence
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.browse.account_pane import AccountPane
from mailmig_tui.tui.browse.folder_list import FolderList
from mailmig_tui.tui.browse.markable_list import MarkableList
from mailmig_tui.tui.browse.message_list import MessageList
from mailmig_tui.tui.browse.status_line import StatusLine
from mailmig_tui.tui.browse.target_compare import TargetComparison
from mailmig_tui.tui.common.app_messages import WorkFailed
from mailmig_tui.tui.common.format import count
from mailmig_tui.tui.copy.control import CopyControl
from mailmig_tui.tui.copy.job import LoginFailed
from mailmig_tui.tui.copy.panel import CopyPanel
from mailmig_tui.tui.copy.progress_screen import CopyProgressScreen
from mailmig_tui.tui.copy.selection import Selection, selection_from

PaletteCommand = tuple[str, str, Callable[[], object]]


class MainScreen(Screen[None]):
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, StatusLine, CopyPanel"
    """A zoomed pane (`z`) takes the panes' room only: the copy panel, the marks and the
    footer stay."""

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
            "l",
            "history",
            "History",
            show=False,  # no room in the footer at 80 columns; help and palette list it
            id="history",
            tooltip="Past copy runs between these accounts: reports, logs, undo",
            # Before the lists' own `l` (vim's right: open): the issue gives `l` to history,
            # Enter and → still open. Typing into the search field is left alone.
            priority=True,
        ),
        Binding(
            "u",
            "undo_marked",
            "Undo",
            id="undo-marked",
            tooltip="Remove from the target the marked messages mailmig copied (no others)",
        ),
        Binding(
            "x",
            "cancel_copy",
            "Cancel copy",
            show=False,  # the copy panel says "x cancel" while a copy runs
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
        Binding(
            "n",
            "mark_missing",
            "Mark missing",
            show=False,
            id="mark-missing",
            tooltip="Mark what the target lacks in the open source folder",
        ),
    ]

    def __init__(
        self,
        source: AccountSession,
        target: AccountSession,
        copy_settings: CopySettings | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.target = target
        self.copy_control = CopyControl(source, target, copy_settings)
        """Plans and runs copies; made here so the panel can be handed its signal."""
        self._progress_screen: CopyProgressScreen | None = None
        self.comparison = TargetComparison(source, target)
        """Looks up what is on the target already, in workers of its own."""
        self.presence: Presence | None = None
        """Which messages of the open source folder are on the target, once looked up."""
        self._looking_up: str | None = None
        """The source folder whose messages are being looked up on the target."""
        self._lookup_progress: tuple[int, int] | None = None
        """Done and total of that lookup, as last reported."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            # A split search in a pane stays within the connections the copies may use.
            cap = self.copy_control.settings.connections
            yield AccountPane(self.source, connection_cap=cap, id="source")
            yield AccountPane(self.target, connection_cap=cap, id="target")
        yield CopyPanel(self.copy_control.progress, id="copy-panel")
        yield StatusLine(id="status")
        # Compact: at 80 columns the message list's keys, Copy and Help all fit.
        yield Footer(show_command_palette=False, compact=True)
        yield self.copy_control
        yield self.comparison

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

    @property
    def labels(self) -> tuple[str, str]:
        return self.source.label, self.target.label

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for pane in self.panes:
            pane.active = pane in event.widget.ancestors_with_self
        if not any(p.active for p in self.panes):
            self.pane("source").active = True
        self.look_up_open_folder()
        self.update_status()
        self.refresh_bindings()  # `u`: only with marks in the target pane, the active one

    def action_switch_pane(self) -> None:
        other = next(p for p in self.panes if not p.active)
        if self.maximized is not None:
            self.minimize()
        other.focus_list()

    # -- what a pane posts ----------------------------------------------------------------------

    @on(AccountPane.PasswordWanted)
    def ask_password(self, message: AccountPane.PasswordWanted) -> None:
        from mailmig_tui.tui.accounts.password import PasswordDialog

        message.stop()
        pane = message.pane
        self.app.push_screen(PasswordDialog(pane.session), pane.password_entered)

    @on(AccountPane.PreviewWanted)
    def show_preview(self, message: AccountPane.PreviewWanted) -> None:
        from mailmig_tui.tui.browse.preview import PreviewScreen

        message.stop()
        self.app.push_screen(PreviewScreen(message.session, message.folder, message.uid))

    @on(AccountPane.ZoomToggled)
    def toggle_zoom(self, message: AccountPane.ZoomToggled) -> None:
        message.stop()
        pane = message.pane
        if self.maximized is pane:
            self.minimize()
        else:
            self.maximize(pane, container=False)
        pane.call_after_refresh(pane.update_columns)

    @on(MarkableList.MarksChanged)
    def marks_changed(self, message: MarkableList.MarksChanged) -> None:
        message.stop()
        self.update_status()
        self.refresh_bindings()

    def update_status(self) -> None:
        totals = {pane.session.role: pane.marks.totals() for pane in self.panes}
        status = self.query_one(StatusLine)
        status.on_target = self.on_target_text()
        status.show_marks(self.active_pane.session.role, totals)

    # -- what is on the target already -----------------------------------------------------

    @property
    def open_source_folder(self) -> str | None:
        source = self.pane("source")
        folder = source.message_list.folder
        return folder.name if source.showing_messages and folder is not None else None

    def on_target_text(self) -> str:
        """`K of N on the target` for the open source folder ("" when none is open)."""
        folder = self.open_source_folder
        if folder is None:
            return ""
        presence = self.presence
        if presence is None or presence.folder != folder:
            if self._looking_up != folder:
                return ""
            if self._lookup_progress is None:
                return "looking on the target…"
            done, total = self._lookup_progress
            return f"looking on the target… {count(done)}/{count(total)}"
        return f"{count(len(presence.uids))} of {count(presence.total)} on the target"

    @on(FolderList.FoldersShown)
    def folders_shown(self, message: FolderList.FoldersShown) -> None:
        message.stop()
        self.compare_folders()

    def compare_folders(self) -> None:
        if all(pane.connected for pane in self.panes):
            self.comparison.compare_folders()

    @on(FolderList.ViewChanged)
    def folder_view_changed(self, message: FolderList.ViewChanged) -> None:
        message.stop()
        for pane in self.panes:
            pane.update_columns()

    def look_up_open_folder(self, again: bool = False) -> None:
        """An open source folder is looked up once its first rows are shown (the lookup
        must not delay them); a lookup of a folder left meanwhile is cancelled."""
        folder = self.open_source_folder
        if self._looking_up is not None and self._looking_up != folder:
            self.comparison.cancel_folder_lookup()
            self._looking_up = None
        messages = self.pane("source").message_list
        if folder is not None and not self._shown_presence_of(folder):
            messages.on_target = frozenset()  # no ✓ of the folder shown before
        if folder is None or not self.pane("target").connected or not messages.rows_shown:
            return
        if not again and (self._looking_up == folder or self._shown_presence_of(folder)):
            return
        self._looking_up, self._lookup_progress = folder, None
        self.comparison.compare_folder(folder, messages.arrival)

    def target_changed(self) -> None:
        """After a copy or an undo: recount the target's folders and look the open source
        folder up again, so no ✓ or `K of N` from before is left standing."""
        self.pane("target").refresh_folders()
        self.look_up_open_folder(again=True)

    @on(MessageList.RowsShown)
    def rows_shown(self, message: MessageList.RowsShown) -> None:
        message.stop()
        self.look_up_open_folder()
        self.update_status()

    @on(TargetComparison.LookupProgress)
    def lookup_progress(self, message: TargetComparison.LookupProgress) -> None:
        message.stop()
        if message.folder == self._looking_up:
            self._lookup_progress = (message.done, message.total)
            self.update_status()

    def _shown_presence_of(self, folder: str) -> bool:
        return self.presence is not None and self.presence.folder == folder

    @on(TargetComparison.CountsReady)
    def counts_ready(self, message: TargetComparison.CountsReady) -> None:
        message.stop()
        self.pane("source").folder_list.set_target_counts(message.counts)

    @on(TargetComparison.PresenceReady)
    def presence_ready(self, message: TargetComparison.PresenceReady) -> None:
        message.stop()
        presence = message.presence
        if self._looking_up == presence.folder:
            self._looking_up = None
        self.presence = presence
        messages = self.pane("source").message_list
        if messages.folder is not None and messages.folder.name == presence.folder:
            messages.on_target = presence.uids
            messages.refresh()
        self.update_status()

    @on(TargetComparison.LookupFailed)
    def lookup_failed(self, message: TargetComparison.LookupFailed) -> None:
        message.stop()
        self._looking_up = None
        self.notify(message.text, title="Target", severity="warning", markup=False)
        self.update_status()

    def action_mark_missing(self) -> None:
        """Mark every message of the open source folder that is not on the target yet."""
        folder = self.open_source_folder
        presence = self.presence
        if folder is None:
            self.notify("Open a source folder first", severity="warning")
            return
        if presence is None or presence.folder != folder:
            self.notify("Still looking on the target: try again in a moment")
            return
        source = self.pane("source")
        marked = source.marks.messages.setdefault(folder, {})
        for uid in presence.missing:
            marked.setdefault(uid, presence.sizes.get(uid))
        source.message_list.learn_marked_sizes()  # none probed where the target was empty
        source.message_list.refresh()
        self.update_status()
        missing = len(presence.missing)
        self.notify(f"Marked {count(missing)} not on the target", timeout=3)

    # -- copying: keys ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_copy":
            return self.copy_control.busy
        if action == "copy_details":
            return self.copy_control.state == "running"
        if action == "undo_marked":  # in the footer only when it can do something
            target = self.pane("target")
            return self.active_pane is target and not target.marks.totals().empty
        return True

    def action_copy(self) -> None:
        source = self.pane("source")
        if not source.connected:
            self.notify("The source is not connected yet", severity="warning")
            return
        # From the target pane `c` still copies the source's marks (target marks are never
        # copied), but not whatever happens to sit under the source's cursor.
        from_target = self.active_pane is self.pane("target")
        if from_target and source.marks.totals().empty:
            self.notify(
                "Nothing marked in the source (marks in the target are not copied): "
                "Tab to the source pane and mark folders or messages (Space)",
                title="Copy",
                severity="warning",
            )
            return
        current = source.folder_list.current
        if source.showing_messages and source.message_list.folder is not None:
            current = source.message_list.folder
        selection = selection_from(source.marks, source.folder_list.folders, current)
        if selection is None:
            self.notify("Nothing to copy: mark folders or messages (Space)", severity="warning")
            return
        if from_target:
            self.notify(
                f"Copying what is marked in the source: {selection.description}", title="Copy"
            )
        self.copy_control.copy(selection)

    def action_cancel_copy(self) -> None:
        self.copy_control.cancel()

    def action_copy_details(self) -> None:
        control = self.copy_control
        if control.state == "running" and control.snapshot is not None:
            self._progress_screen = CopyProgressScreen(
                control.progress, control.snapshot, control.cancel
            )
            self.app.push_screen(self._progress_screen)

    def action_folder_map(self) -> None:
        from mailmig_tui.tui.copy.folder_map_screen import FolderMapScreen

        self.app.push_screen(FolderMapScreen(self.source, self.target))

    def action_undo_marked(self) -> None:
        """`u` in the target pane: remove the marked messages mailmig copied, no others."""
        from mailmig_tui.tui.history.marked_undo import MarkedUndo

        if self.copy_control.busy:
            self.notify("A copy is running: remove copies when it has ended", severity="warning")
            return

        def undone() -> None:
            self.target_changed()
            self.update_status()

        MarkedUndo(self, self.source, self.pane("target"), undone).start()

    def action_history(self) -> None:
        from mailmig_tui.tui.history.history_screen import HistoryScreen

        if isinstance(self.focused, Input):
            raise SkipAction()  # an `l` typed into the search field

        screen = HistoryScreen(
            self.source,
            self.target,
            copy_running=lambda: self.copy_control.busy,
            on_undone=self.target_changed,
        )
        self.app.push_screen(screen)

    # -- copying: what the control posts ----------------------------------------------------

    @on(CopyControl.StateChanged)
    def copy_state_changed(self, message: CopyControl.StateChanged) -> None:
        # Not stopped: the app keeps track of a running copy too.
        panel = self.query_one(CopyPanel)
        if message.state == "planning":
            panel.planning(message.description)
        elif message.state == "idle":
            panel.hide()
        self.refresh_bindings()

    @on(CopyControl.PlanReady)
    def show_plan(self, message: CopyControl.PlanReady) -> None:
        from mailmig_tui.presets import default_connections
        from mailmig_tui.tui.copy.plan_screen import PlanScreen

        message.stop()
        planned, control = message.planned, self.copy_control

        def answered(start: bool | None) -> None:
            if start:
                control.start(planned)
            else:
                control.drop(planned)

        prepared = planned.prepared
        description = planned.selection.description
        plan = prepared.plan
        connections = prepared.request.settings.connections or default_connections(
            plan.source_preset, plan.target_preset
        )
        screen = PlanScreen(
            plan,
            prepared.estimate,
            description,
            self.labels,
            prepared.set_repair,
            connections=connections,
            on_connections=prepared.set_connections,
            on_filter=prepared.replan,
        )
        self.app.push_screen(screen, answered)

    @on(CopyControl.Finished)
    def show_report(self, message: CopyControl.Finished) -> None:
        from mailmig_tui.tui.copy.report_screen import ReportScreen

        message.stop()
        self._close_progress_screen()
        report = message.report
        if report.complete:  # all there and checked: unmark, as a file manager does
            self.marks_copied(message.selection)
        self.target_changed()
        if report.error:
            text = f"The copy stopped: {report.error}"
            self.notify(text, title="Copy", severity="error", markup=False)
        self.app.push_screen(ReportScreen(report, self.labels))

    @on(CopyControl.Failed)
    def copy_failed(self, message: CopyControl.Failed) -> None:
        message.stop()
        self._close_progress_screen()
        error = message.error
        if isinstance(error, LoginFailed):
            # As the panes do: the password in memory was wrong, so `r` asks for another (an
            # OAuth2 account has none: its refused token or sign-in is only shown).
            pane = self.pane(error.role)
            if pane.session.spec.oauth2 is None:
                pane.login_refused()
        self.post_message(WorkFailed(error, "copy"))

    def _close_progress_screen(self) -> None:
        screen, self._progress_screen = self._progress_screen, None
        if screen is not None and screen.is_active:
            screen.dismiss()

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
            ("History", "Past runs: reports, logs, undo (l)", self.action_history),
        ]
        if self.copy_control.state == "running":
            commands += [
                ("Cancel copy", "Stop the running copy (x)", self.action_cancel_copy),
                (
                    "Copy progress",
                    "The running copy on the whole screen (p)",
                    self.action_copy_details,
                ),
            ]
        if self.open_source_folder is not None:
            commands.append(
                (
                    "Mark missing",
                    "Mark every message of the open folder not on the target yet (n)",
                    self.action_mark_missing,
                )
            )
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
