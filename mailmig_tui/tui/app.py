"""The Textual application: global keys, themes, the first screen, and where failures go.

Kept small on purpose. Screens and widgets do the work and post up what the app decides:
the accounts chosen (open the main screen), whether a copy runs (quitting then asks), and
failures. It gives each account of the main screen its OAuth2 sign-in view (the device code
dialog needs the app, which no widget reaches for). Every worker failure arrives here
as a `WorkFailed` message and becomes a dialog (the operator must act: login, TLS, config)
or a notification (the session goes on: connection lost, folder gone). Nothing a server or
a message does ends the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar, cast

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.common.app_messages import KeyringUnavailable, WorkFailed
from mailmig_tui.tui.common.failures import describe_failure
from mailmig_tui.tui.common.key_order import OrderedKeysApp
from mailmig_tui.tui.common.themes import CYCLE, THEMES
from mailmig_tui.tui.copy.control import CopyControl
from mailmig_tui.tui.main_screen import MainScreen


class MailmigApp(OrderedKeysApp[int]):
    CSS_PATH = "app.tcss"
    TITLE = "mailmig"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "request_quit", "Quit", id="quit", tooltip="Quit (asks while a copy runs)"),
        Binding(
            "ctrl+q",
            "request_quit",
            "Quit",
            show=False,
            priority=True,
            id="quit-now",
            tooltip="Quit (asks while a copy runs)",
        ),
        Binding("question_mark,f1", "help", "Help", id="help", tooltip="Show every key"),
        Binding(
            "T",
            "cycle_theme",
            "Theme",
            show=False,
            id="theme",
            tooltip="Switch theme: dark, light, terminal colours (best for 16 colours)",
        ),
    ]

    def __init__(
        self,
        source: AccountSession | None = None,
        target: AccountSession | None = None,
        *,
        keymap: Mapping[str, str] | None = None,
        accounts: Mapping[str, AccountSpec] | None = None,
        timeout: float = 30.0,
        theme: str = "mailmig-dark",
        copy_settings: CopySettings | None = None,
    ) -> None:
        super().__init__()
        self.source, self.target = source, target
        self.copy_settings = copy_settings or CopySettings()
        """How copies run (connections, batch sizes, reconnect backoff); tests shorten
        backoffs. Handed down to the main screen's copy control."""
        self.copy_running = False
        """A copy is running (the copy control says so): quitting then asks first."""
        self.quit_during_copy = False
        """The operator quit while a copy ran: the app's result (the exit status) is 1."""
        self.accounts = dict(accounts or {})
        self.timeout = timeout
        self.keymap = dict(keymap or {})
        for custom in THEMES:
            self.register_theme(custom)
        self.theme = theme
        self.set_keymap(self.keymap)
        self._keyring_explained = False
        self.sessions: list[AccountSession] = []
        """Every account connected in this run; the launcher logs them out at the end."""

    def get_default_screen(self) -> Screen[None]:
        if self.source is not None and self.target is not None:
            return self.main_screen(self.source, self.target)
        return AccountsScreen(self.accounts, self.timeout, self.source, self.target)

    def main_screen(self, source: AccountSession, target: AccountSession) -> MainScreen:
        from mailmig_tui.tui.accounts.device_code import DeviceCodeSignIn

        # App is invariant in its result type; the view only pushes dialogs and notifies.
        app = cast("App[object]", self)
        for session in (source, target):
            if session.sign_in_view is None:  # else kept: the session was shown before
                session.sign_in_view = DeviceCodeSignIn(app)
        return MainScreen(source, target, self.copy_settings)

    @on(AccountsScreen.Chosen)
    def accounts_chosen(self, message: AccountsScreen.Chosen) -> None:
        # Pushed, not switched: the first screen of an app cannot be replaced.
        self.push_screen(self.main_screen(message.source, message.target))

    @on(CopyControl.StateChanged)
    def copy_state_changed(self, message: CopyControl.StateChanged) -> None:
        self.copy_running = message.state == "running"

    def on_mount(self) -> None:
        from mailmig_tui.tui.common.help import HelpScreen

        self.install_screen(HelpScreen(self.keymap), "help")

    # -- failures ------------------------------------------------------------------------------

    def on_work_failed(self, message: WorkFailed) -> None:
        failure = describe_failure(message.error, message.where)
        if failure.dialog:
            from mailmig_tui.tui.common.error import ErrorDialog

            after = message.after
            self.push_screen(
                ErrorDialog(failure.title, failure.text),
                (lambda _result: after()) if after else None,
            )
            return
        # markup=False: folder names and server words may hold [brackets].
        self.notify(failure.text, title=failure.title, severity="error", timeout=10, markup=False)
        if message.after is not None:
            message.after()

    def on_keyring_unavailable(self, message: KeyringUnavailable) -> None:
        if self._keyring_explained:
            return
        self._keyring_explained = True
        # Once per session, one short line and briefly: a toast stays bottom right, over
        # whatever prompt comes next, and the reason is the same every time.
        self.notify(
            "Password kept in memory only: no usable system keyring.",
            title="Password not remembered",
            timeout=4,
        )

    # -- actions -------------------------------------------------------------------------------

    def action_request_quit(self) -> None:
        if not self.copy_running:
            self.exit(0)
            return
        from mailmig_tui.tui.common.confirm import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            # Still running (it may have ended while the dialog was up): the work is
            # incomplete, so the exit status is 1 and the launcher says why on stderr.
            self.quit_during_copy = self.copy_running
            code = 1 if self.quit_during_copy else 0
            self.exit(code, return_code=code)

        self.push_screen(
            ConfirmDialog(
                "A copy is running",
                "Quit anyway? Copied messages are kept; run again later to copy the rest.",
                yes="Quit",
                no="Keep running",
            ),
            answered,
        )

    def action_help(self) -> None:
        if self.screen.id != "help" and not self.screen.is_modal:
            self.push_screen("help")

    def action_cycle_theme(self) -> None:
        current = CYCLE.index(self.theme) if self.theme in CYCLE else -1
        self.theme = CYCLE[(current + 1) % len(CYCLE)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """mailmig's own commands only: Textual's generic ones (keys panel, screenshot,
        maximize, its theme picker and quit) were noise beside them, or did the same
        thing another way."""
        yield SystemCommand("Help", "Show every key (? or F1)", self.action_help)
        yield SystemCommand(
            "Theme", "Switch dark / light / terminal colours (T)", self.action_cycle_theme
        )
        yield SystemCommand("Quit", "Leave mailmig (q)", self.action_request_quit)
        commands = getattr(screen, "palette_commands", None)
        if callable(commands):
            for title, help_text, callback in commands():
                yield SystemCommand(title, help_text, callback)
