"""One side of the main screen: an account's folder list or the messages of an open folder.

The pane connects its account in a worker (asking for a password with a dialog when the
environment and the keyring have none), shows the folder tree, and swaps to the message
list when a folder is opened (Enter) and back (Backspace). At 80 columns each pane is 40
wide; the active pane takes two thirds while it lists messages, and `z` zooms it to the
full screen.

The pane never reaches for its screen or the app: it posts what it wants up
(`PasswordWanted`, `PreviewWanted`, `ZoomToggled`) and the main screen does it, handing
a password back down with `password_entered`. The session's OAuth2 sign-in view is set by
the app before the pane is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, Static
from textual.worker import Worker, WorkerState

from mailmig_tui.engine.wording import human_size
from mailmig_tui.errors import AuthError, PasswordUnavailable
from mailmig_tui.model import FolderInfo
from mailmig_tui.special import with_guessed_roles
from mailmig_tui.tui.accounts.session import AccountSession, remember_password, saved_password
from mailmig_tui.tui.browse.folder_list import FolderList
from mailmig_tui.tui.browse.markable_list import MarkableList
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.browse.message_list import MessageList
from mailmig_tui.tui.browse.rows import FLAG_LEGEND
from mailmig_tui.tui.browse.search_input import SearchInput
from mailmig_tui.tui.common.app_messages import KeyringUnavailable, WorkFailed
from mailmig_tui.tui.common.format import join_fitting, plural, shorten_middle
from mailmig_tui.tui.common.line_list import LineList

TARGET_MARKS_NOTICE = (
    "Marks in the target pane are not copied: c copies what is marked in the source. "
    "Here u removes the marked messages mailmig copied (no others); l undoes a whole run."
)


def pane_title(active: bool, role: str, label: str, width: int) -> str:
    """`▶ Source: alice@example.com`; when narrow the account name is shortened in the
    middle (`alice@exa…ple.com`), and where even that leaves it too little room the role
    word goes (the side of the screen says it) before the name does."""
    arrow = "▶" if active else " "
    prefix = f"{arrow} {role.capitalize()}: "
    room = width - len(prefix)
    if room < min(12, len(label)):
        prefix, room = f"{arrow} ", width - 2
    return prefix + shorten_middle(label, max(1, room))


class AccountPane(Vertical):
    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "reload",
            "Reload",
            show=False,
            id="reload",
            tooltip="Reconnect / reload the folder list or the open folder",
        ),
        Binding(
            "z",
            "zoom",
            "Zoom",
            show=False,
            id="zoom",
            tooltip="Show the active pane on the whole screen (again: both panes)",
        ),
    ]

    class PasswordNeeded(Message, bubble=False):
        """No password in the environment or the keyring: the pane asks with a dialog."""

    @dataclass
    class PasswordWanted(Message):
        """The pane needs its account's password from the user: the screen asks (a dialog)
        and hands the answer back with `pane.password_entered`."""

        pane: AccountPane

        @property
        def control(self) -> AccountPane:
            return self.pane

        @property
        def session(self) -> AccountSession:
            return self.pane.session

    @dataclass
    class PreviewWanted(Message):
        """Enter on a message: the screen shows it (`PreviewScreen`)."""

        session: AccountSession
        folder: str
        uid: int

    @dataclass
    class ZoomToggled(Message):
        """`z`: the screen shows the pane on the whole screen, or both panes again."""

        pane: AccountPane

        @property
        def control(self) -> AccountPane:
            return self.pane

    @dataclass
    class Preparing(Message, bubble=False):
        """The connect worker's progress before connecting (the demo writing its mailbox)."""

        text: str

    @dataclass
    class FoldersLoaded(Message, bubble=False):
        """The connect worker listed the account's folders."""

        folders: list[FolderInfo]
        prefix: str

    active: reactive[bool] = reactive(False)
    """The pane the keys act on (it holds the focus); its title is highlighted."""

    def __init__(
        self, session: AccountSession, *, connection_cap: int | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.session = session
        self.marks = MarkSet()
        self.connected = False
        self.password_refused = False
        """The server refused the password: `r` asks for another (never the same one from
        the environment or the keyring again)."""
        self.state = "connecting…"
        self.told_target_marks = False
        """The target pane said once that its marks are not copied."""
        self.folder_list = FolderList(self.marks, id="folders")
        self.message_list = MessageList(
            session, self.marks, connection_cap=connection_cap, id="messages"
        )
        """`connection_cap` (the copy settings' connections per server, from the screen)
        bounds its split search."""

    def compose(self) -> ComposeResult:
        yield Static(classes="pane-title")
        yield Static(classes="pane-columns")
        with ContentSwitcher(initial="folders"):
            yield self.folder_list
            yield self.message_list
        yield SearchInput(id="search")
        yield Static(classes="pane-info")

    def on_mount(self) -> None:
        self.query_one(SearchInput).display = False
        self.update_title()
        self.connect()

    # -- display -----------------------------------------------------------------------------

    @property
    def showing_messages(self) -> bool:
        return self.query_one(ContentSwitcher).current == "messages"

    @property
    def current_list(self) -> LineList:
        return self.message_list if self.showing_messages else self.folder_list

    def watch_active(self, active: bool) -> None:
        self.set_class(active, "-active")
        if self.is_mounted:
            self.update_title()
            self.update_width()

    def update_width(self) -> None:
        """The active pane widens while it lists messages: a message row needs the room."""
        self.set_class(self.active and self.showing_messages, "-wide")

    def update_title(self) -> None:
        self.query_one(".pane-title", Static).update(
            pane_title(self.active, self.session.role, self.session.label, self.size.width)
        )

    def update_info(self) -> None:
        if self.showing_messages:
            text = join_fitting(self.message_list.describe_parts(), self.size.width)
        elif not self.connected:
            text = self.state
        else:
            folders = [f for f in self.folder_list.folders if f.selectable]
            messages = sum(f.messages for f in folders)
            size = sum(f.size for f in folders)
            text = join_fitting(
                [
                    (1, plural(len(folders), "folder")),
                    (0, plural(messages, "message")),
                    (2, human_size(size)),
                ],
                self.size.width,
            )
        self.query_one(".pane-info", Static).update(text)

    def update_columns(self) -> None:
        shown = self.current_list
        width = shown.list_width
        header = (
            self.message_list.header(width)
            if self.showing_messages
            else self.folder_list.header(width)
        )
        columns = self.query_one(".pane-columns", Static)
        columns.update(header)
        columns.tooltip = f"Fl: {FLAG_LEGEND}" if self.showing_messages else None

    def on_resize(self) -> None:
        self.update_title()
        self.update_info()
        self.call_after_refresh(self.update_columns)

    def focus_list(self) -> None:
        self.current_list.focus()

    # -- connecting --------------------------------------------------------------------------

    def connect(self) -> None:
        self.state = "connecting…"
        self.update_info()
        self._connect()

    @work(thread=True, group="browse", exclusive=True, exit_on_error=False)
    def _connect(self) -> None:
        session = self.session
        if session.prepare is not None:

            def report(text: str) -> None:
                self.post_message(self.Preparing(text))

            session.prepare(report)
        if not session.has_password:
            found = saved_password(session.spec, session.role)
            if not found:
                self.post_message(self.PasswordNeeded())
                return
            session.password = found
        with session.connection("browse").use() as store:
            folders = store.list_folders(with_status=True)
            prefix = store.info().prefix
        # Local stores do not guess roles from names; IMAP already did (guessing is idempotent).
        self.post_message(self.FoldersLoaded(with_guessed_roles(folders, prefix), prefix))
        if session.remember and session.password:
            session.remember = False
            reason = remember_password(session.spec, session.password)
            if reason:
                self.post_message(KeyringUnavailable(reason))

    def on_account_pane_password_needed(self, message: AccountPane.PasswordNeeded) -> None:
        self.ask_password()

    def ask_password(self) -> None:
        """Ask the user (through the screen) for the password; the answer comes back to
        `password_entered`."""
        self.state = "waiting for the password"
        self.update_info()
        self.post_message(self.PasswordWanted(self))

    def login_refused(self) -> None:
        """The password was refused (by the pane's or a copy's login): forget it, and let
        `r` ask for another.

        The dialog is not opened here: the operator reads the error first and then presses
        `r`, as the pane says. A prompt that opened on its own when the error was closed
        caught that `r` as the first character of the password, and the next login failed
        again (servers lock accounts out after a few).
        """
        self.session.forget_password()
        self.connected = False
        self.password_refused = True
        self.state = "login failed: press r to enter the password"
        self.update_info()

    def refresh_folders(self) -> None:
        """List the folders again (after a copy), keeping what the pane shows."""
        if self.connected:
            self._connect()

    def password_entered(self, result: tuple[str, bool] | None) -> None:
        """The password dialog's answer: the password and whether to remember it, or None
        (cancelled)."""
        if result is None:
            self.state = "not connected: press r to log in"
            self.update_info()
            return
        password, remember = result
        self.session.set_password(password, remember)
        self.connect()

    def on_account_pane_preparing(self, message: AccountPane.Preparing) -> None:
        if not self.connected:
            self.state = message.text
            self.update_info()

    def on_account_pane_folders_loaded(self, message: AccountPane.FoldersLoaded) -> None:
        self.connected = True
        self.folder_list.set_folders(message.folders, message.prefix)
        self.update_info()
        self.update_columns()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        if isinstance(error, AuthError | PasswordUnavailable) and self.session.spec.oauth2 is None:
            # An OAuth2 account has no password to ask for: its error dialog says it all.
            self.login_refused()
        else:
            self.connected = False
            self.state = "not connected: press r to retry"
            self.update_info()
        self.post_message(WorkFailed(error, self.session.role))

    # -- navigation --------------------------------------------------------------------------

    @on(FolderList.Open)
    def open_folder(self, message: FolderList.Open) -> None:
        message.stop()
        self.query_one(ContentSwitcher).current = "messages"
        self.update_width()
        self.message_list.load(message.folder)
        self.message_list.focus()
        self.update_columns()
        self.update_info()

    @on(MessageList.Up)
    def show_folders(self, message: MessageList.Up | None = None) -> None:
        if message is not None:
            message.stop()
        self.query_one(SearchInput).display = False
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "folders"
        self.update_width()
        if self.message_list.folder is not None:
            self.folder_list.select_name(self.message_list.folder.name)
        self.folder_list.focus()
        self.update_columns()
        self.update_info()

    @on(MarkableList.MarksChanged)
    def marks_changed(self, message: MarkableList.MarksChanged) -> None:
        # Not stopped: the screen updates the status line.
        if self.session.role != "target" or self.told_target_marks or self.marks.totals().empty:
            return
        self.told_target_marks = True
        self.notify(TARGET_MARKS_NOTICE, title="Target marks", severity="warning", timeout=10)

    @on(MessageList.Open)
    def preview(self, message: MessageList.Open) -> None:
        message.stop()
        self.post_message(self.PreviewWanted(self.session, message.folder, message.uid))

    @on(MessageList.Changed)
    def list_changed(self, message: MessageList.Changed) -> None:
        message.stop()
        self.update_info()
        # The rows may have brought a scrollbar, which narrows them: the header follows.
        self.call_after_refresh(self.update_columns)

    @on(MessageList.SearchRequested)
    def show_search(self, message: MessageList.SearchRequested) -> None:
        message.stop()
        box = self.query_one(SearchInput)
        box.display = True
        box.value = self.message_list.search_text
        box.focus()

    @on(SearchInput.Submitted)
    def run_search(self, message: SearchInput.Submitted) -> None:
        message.stop()
        self._hide_search()
        if message.value.strip():
            self.message_list.search(message.value)

    @on(SearchInput.Cancelled)
    def cancel_search(self, message: SearchInput.Cancelled) -> None:
        message.stop()
        self._hide_search()

    def _hide_search(self) -> None:
        self.query_one(SearchInput).display = False
        self.message_list.focus()

    def action_reload(self) -> None:
        if self.showing_messages and self.message_list.folder is not None:
            self.message_list.load(self.message_list.folder)
        elif self.password_refused:
            # From the dialog, not the environment or the keyring that held the wrong one.
            self.password_refused = False
            self.ask_password()
        else:
            self.connected = False
            self.connect()

    def action_zoom(self) -> None:
        self.post_message(self.ZoomToggled(self))
