"""Asking for an account's password: masked input, and whether to keep it in the keyring.

The answer is `(password, remember)` or None when cancelled. The password stays in memory
for the session; it is stored in the keyring only after a login with it worked.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from mailmig_tui.secrets import ENV_BY_ROLE, keyring_unusable
from mailmig_tui.tui.accounts.session import AccountSession


def remember_checkbox(default: bool = True) -> Checkbox:
    """ "Remember in the system keyring": ticked by `default` where a keyring works; where none
    does (a headless SSH host, the usual case), unticked and disabled, saying why."""
    reason = keyring_unusable()
    if reason is None:
        return Checkbox("Remember in the system keyring", value=default, id="remember")
    box = Checkbox(
        "Remember: no keyring here, kept in memory", value=False, disabled=True, id="remember"
    )
    box.tooltip = f"Not remembered: {reason}. The password is kept for this session only."
    return box


class PasswordDialog(ModalScreen[tuple[str, bool] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel-password"),
    ]

    def __init__(self, session: AccountSession) -> None:
        super().__init__(classes="dialog-screen")
        self.session = session

    def compose(self) -> ComposeResult:
        spec = self.session.spec
        role = self.session.role
        with Vertical(classes="dialog"):
            yield Static(Text(f"Password for the {role} account"), classes="dialog-title")
            yield Static(Text(f"{spec.user} at {spec.host}:{spec.port}"))
            yield Input(password=True, placeholder="password", id="password", compact=True)
            yield remember_checkbox()
            yield Static(
                Text(f"(Or set {ENV_BY_ROLE[role]} before starting mailmig.)"), classes="dim"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Log in", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    def _submit(self) -> None:
        password = self.query_one("#password", Input).value
        if not password:
            self.notify("Type the password, or Escape to cancel", severity="warning")
            return
        self.dismiss((password, self.query_one("#remember", Checkbox).value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
