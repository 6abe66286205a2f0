"""The OAuth2 device sign-in inside the TUI: the URL to open and the code to type, big and
clear, until the sign-in finishes; Escape cancels it.

`DeviceCodeSignIn` is the `session.SignInView` the panes give their sessions: it shows a
device sign-in with `DeviceCodeDialog` and a browser sign-in with `BrowserSignInDialog`. Its
methods run on worker threads (the sign-in blocks there, polling the authorisation server or
waiting for the browser) and hand everything to the event loop with `App.call_from_thread`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from mailmig_tui.tui.accounts.browser_sign_in import BrowserSignInDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.accounts.sign_in_dialog import SignInDialog


class DeviceCodeDialog(SignInDialog):
    """Shows where to sign in and the code; closed by the sign-in's end or by Escape."""

    DEFAULT_CSS = """
    DeviceCodeDialog #device-url {
        text-style: bold;
        color: $accent;
        margin-bottom: 1;
    }
    DeviceCodeDialog #device-code {
        width: 100%;
        height: 3;
        content-align: center middle;
        text-style: bold;
        border: heavy $accent;
        margin-bottom: 1;
    }
    """

    def __init__(
        self,
        session: AccountSession,
        verification_uri: str,
        user_code: str,
        expires_in: int,
        cancel: threading.Event,
    ) -> None:
        super().__init__(session, cancel)
        self.verification_uri = verification_uri
        self.user_code = user_code
        self.expires_in = expires_in

    def compose(self) -> ComposeResult:
        minutes = max(1, self.expires_in // 60)
        with Vertical(classes="dialog"):
            yield from self.heading()
            yield Static(Text("On any device, open"))
            yield Static(Text(self.verification_uri), id="device-url")
            yield Static(Text("and enter the code"))
            yield Static(Text(self.user_code), id="device-code")
            yield Static(
                Text(
                    f"The code is valid for {minutes} minute{'s' if minutes != 1 else ''}. "
                    "Sign in as the mailbox's user; this closes by itself once you have."
                ),
                classes="dim",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel sign-in", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()


class DeviceCodeSignIn:
    """Shows a session's sign-in in a dialog (device code or browser), notices as
    notifications."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self._dialogs: dict[int, SignInDialog] = {}

    def show_device_code(
        self,
        session: AccountSession,
        verification_uri: str,
        user_code: str,
        expires_in: int,
        cancel: threading.Event,
    ) -> None:
        dialog = DeviceCodeDialog(session, verification_uri, user_code, expires_in, cancel)
        self._call(self._push, session, dialog)

    def show_browser_sign_in(
        self,
        session: AccountSession,
        url: str,
        redirect_uri: str,
        paste: Callable[[str], None],
        cancel: threading.Event,
    ) -> None:
        dialog = BrowserSignInDialog(session, url, redirect_uri, paste, cancel)
        self._call(self._push, session, dialog)

    def sign_in_done(self, session: AccountSession) -> None:
        self._call(self._close, session)

    def notice(self, text: str) -> None:
        # markup=False: a keyring's reason may hold [brackets].
        self._call(self.app.notify, text, title="OAuth2 sign-in", timeout=12, markup=False)

    def _call(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        # Not running any more (quitting while a sign-in waited): nothing left to show.
        with contextlib.suppress(RuntimeError):
            self.app.call_from_thread(callback, *args, **kwargs)

    def _push(self, session: AccountSession, dialog: SignInDialog) -> None:
        self._close(session)  # a new code replaces the one shown before
        self._dialogs[id(session)] = dialog
        self.app.push_screen(dialog)

    def _close(self, session: AccountSession) -> None:
        dialog = self._dialogs.pop(id(session), None)
        if dialog is not None:
            dialog.finish()
