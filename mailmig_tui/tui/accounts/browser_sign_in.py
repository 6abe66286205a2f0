"""The OAuth2 browser sign-in (authorization code with PKCE) inside the TUI: the address to
open, and a box to paste the address the browser was sent to.

A browser on this machine comes back to mailmig's loopback listener by itself and the dialog
closes. A browser on another machine (mailmig runs over SSH) ends on a page that does not
load: the operator pastes that page's address (or just its code) here. Whichever comes first
signs in (`oauth2_pkce.browser_sign_in`, waiting in the session's worker thread); this
dialog only hands the pasted text over, so the event loop never blocks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.accounts.sign_in_dialog import SignInDialog


class BrowserSignInDialog(SignInDialog):
    """The URL, a paste box; closed by the sign-in's end (listener or paste) or by Escape."""

    DEFAULT_CSS = """
    BrowserSignInDialog #browser-url {
        color: $accent;
        margin-bottom: 1;
    }
    BrowserSignInDialog #paste-status {
        height: auto;
    }
    """

    def __init__(
        self,
        session: AccountSession,
        url: str,
        redirect_uri: str,
        paste: Callable[[str], None],
        cancel: threading.Event,
    ) -> None:
        super().__init__(session, cancel)
        self.url = url
        self.redirect_uri = redirect_uri
        self.paste = paste
        """Hands a pasted address to the waiting sign-in; thread-safe, never blocks."""
        self.pasted = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield from self.heading()
            yield Static(Text("Open this address in a browser:"))
            yield Static(Text(self.url), id="browser-url")
            yield Static(
                Text(
                    "After signing in (as the mailbox's user), paste the address the browser "
                    f"was sent to ({self.redirect_uri}…) here and press Enter. On another "
                    "machine that page does not load: copy its address all the same. A "
                    "browser on this machine comes back by itself, and this closes."
                )
            )
            yield Input(placeholder=f"{self.redirect_uri}?state=…&code=…", id="pasted-address")
            yield Static(id="paste-status", classes="dim")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy address", id="copy", compact=True)
                yield Button("Sign in", variant="primary", id="submit", compact=True)
                yield Button("Cancel sign-in", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(".dialog").styles.width = 90  # room for the long address
        self.query_one("#pasted-address", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.submit()
        elif event.button.id == "copy":
            # OSC 52: many terminals put it on the clipboard of the machine they run on,
            # which over SSH is where the browser is.
            self.app.copy_to_clipboard(self.url)
            self.status("Address copied (if your terminal allows programs to set the clipboard).")
        else:
            self.action_cancel()

    def submit(self) -> None:
        """Hand the pasted address to the sign-in; the first answer counts, so only once."""
        if self.pasted:
            return
        text = self.query_one("#pasted-address", Input).value.strip()
        if not text:
            self.status(f"Paste the address that starts with {self.redirect_uri} first.")
            return
        self.pasted = True
        self.query_one("#pasted-address", Input).disabled = True
        self.query_one("#submit", Button).disabled = True
        self.status("Signing in …")
        self.paste(text)

    def status(self, text: str) -> None:
        self.query_one("#paste-status", Static).update(Text(text))
