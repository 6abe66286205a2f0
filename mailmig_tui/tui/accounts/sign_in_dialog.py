"""What the OAuth2 sign-in dialogs share: Escape (or the button) cancels the waiting sign-in,
and the sign-in's end closes the dialog even when another screen lies above it."""

from __future__ import annotations

import threading
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

from mailmig_tui.tui.accounts.session import AccountSession


class SignInDialog(ModalScreen[None]):
    """Open while a session's sign-in waits; `finish()` is how its end closes the dialog."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel sign-in", id="cancel-sign-in"),
    ]

    def __init__(self, session: AccountSession, cancel: threading.Event) -> None:
        super().__init__(classes="dialog-screen")
        self.session = session
        self.cancel = cancel
        self._finished = False
        self._finish_later = False

    def heading(self) -> tuple[Static, Static]:
        """The dialog's title and which mailbox signs in, the first lines of every one."""
        spec = self.session.spec
        return (
            Static(
                Text(f"OAuth2 sign-in for the {self.session.role} account"),
                classes="dialog-title",
            ),
            Static(Text(f"{spec.user} at {spec.host}")),
        )

    def action_cancel(self) -> None:
        """Stop waiting: the sign-in ends with a one-line error the app shows as usual."""
        self.cancel.set()
        self.finish()

    def finish(self) -> None:
        """Close now if on top; else as soon as the screens above it are gone."""
        if self._finished:
            return
        if self.app.screen is self:
            self._finished = True
            self.dismiss()
        elif self not in self.app.screen_stack:
            self._finished = True
        else:
            self._finish_later = True

    def on_unmount(self) -> None:
        # Gone while the sign-in still waits (the app quit): the worker must not wait on.
        if not self._finished:
            self.cancel.set()

    def on_screen_resume(self) -> None:
        if self._finish_later:
            self._finish_later = False
            self.finish()
