"""Adding an IMAP account: the form, a test login in a worker, then saving it (no password).

The dialog closes only after the login worked; otherwise it shows the real one-line error
(what happened and what to do) and the operator corrects the form. The password is handed
back for this session and stored in the keyring only when asked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from mailmig_tui.accounts import SCHEMES, apply_options, command_account, needs_password
from mailmig_tui.config import save_account
from mailmig_tui.errors import MailmigError, UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions
from mailmig_tui.stores.open import open_store
from mailmig_tui.tui.accounts.password import remember_checkbox
from mailmig_tui.tui.accounts.session import remember_password
from mailmig_tui.tui.common.app_messages import KeyringUnavailable
from mailmig_tui.tui.common.failures import describe_failure

SECURITY_CHOICES = [
    ("TLS (imaps, port 993)", Security.TLS.value),
    ("STARTTLS (port 143)", Security.STARTTLS.value),
    ("none (loopback only)", Security.PLAIN.value),
]


@dataclass(frozen=True)
class NewAccount:
    name: str
    spec: AccountSpec
    password: str


def default_port(security: Security) -> int:
    return next(port for sec, port in SCHEMES.values() if sec is security)


def build_spec(
    name: str,
    host: str,
    port: str,
    security: str,
    user: str,
    ca_file: str,
    timeout: float,
    command: str = "",
) -> AccountSpec:
    """The account the form describes; raises UsageError naming the field to fix.

    With a command (e.g. `ssh oldhost /usr/lib/dovecot/imap`) the account is reached by
    running it instead of at a host; the user is then only needed if its server asks.
    """
    name, host, user, ca_file = name.strip(), host.strip(), user.strip(), ca_file.strip()
    if not name or any(c in name for c in ":/[]\"'") or name != " ".join(name.split()):
        raise UsageError("give the account a short name", "letters, digits, - and _ work best")
    if command.strip():
        spec = command_account(command.strip(), user=user, name=name)
        return apply_options(spec, timeout=timeout)
    if not host:
        raise UsageError("the host is missing", "e.g. mail.example.com")
    if not user:
        raise UsageError("the user is missing", "the login name, often the mail address")
    sec = Security(security)
    try:
        number = int(port) if port.strip() else default_port(sec)
    except ValueError:
        raise UsageError(
            f"the port {port!r} is not a number", "leave it empty for the default"
        ) from None
    if not 0 < number < 65536:
        raise UsageError(f"the port {number} is out of range", "a port is 1 to 65535")
    spec = AccountSpec(
        kind="imap", user=user, host=host, port=number, security=sec,
        tls=TlsOptions(ca_file=ca_file or None), name=name,
    )  # fmt: skip
    return apply_options(spec, timeout=timeout)


class AccountFormScreen(ModalScreen[NewAccount | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel-form"),
        Binding("ctrl+s", "save", "Test and save", id="save-account"),
    ]

    class LoginTested(Message, bubble=False):
        """The test login worked and the account is saved: the form closes with it."""

        def __init__(self, spec: AccountSpec, password: str) -> None:
            super().__init__()
            self.spec = spec
            self.password = password

    def __init__(self, timeout: float) -> None:
        super().__init__(classes="dialog-screen")
        self.timeout = timeout

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Add an IMAP account"), classes="dialog-title")
            with Grid(classes="form-grid"):
                yield Label("Name")
                yield Input(placeholder="old-server", id="name", compact=True)
                yield Label("Host")
                yield Input(placeholder="mail.example.com", id="host", compact=True)
                yield Label("Security")
                yield Select(
                    SECURITY_CHOICES, value="tls", allow_blank=False, id="security", compact=True
                )
                yield Label("Port")
                yield Input(placeholder="993", id="port", type="integer", compact=True)
                yield Label("User")
                yield Input(placeholder="alice@example.com", id="user", compact=True)
                yield Label("Password")
                yield Input(password=True, id="password", compact=True)
                yield Label("")
                yield remember_checkbox(default=False)
                yield Label("CA file")
                yield Input(placeholder="optional: PEM of a private CA", id="ca", compact=True)
                yield Label("Command")
                yield Input(
                    placeholder="or: ssh oldhost /usr/lib/dovecot/imap (instead of a host)",
                    id="command",
                    compact=True,
                )
            yield Static(id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Test and save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#port", Input).placeholder = str(default_port(Security(event.value)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(Text(text))

    def action_save(self) -> None:
        security = self.query_one("#security", Select).value
        try:
            spec = build_spec(
                self.value("name"), self.value("host"), self.value("port"),
                str(security), self.value("user"), self.value("ca"), self.timeout,
                self.value("command"),
            )  # fmt: skip
        except MailmigError as exc:
            self.show_error(exc.one_line())
            return
        password = self.value("password")
        if not password and needs_password(spec):
            self.show_error("the password is missing (it is only kept in memory)")
            return
        self.query_one("#save", Button).disabled = True
        self.show_error(f"Logging in to {spec.display} …")
        remember = self.query_one("#remember", Checkbox).value
        self._test_and_save(spec, password, remember)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _test_and_save(self, spec: AccountSpec, password: str, remember: bool) -> None:
        store = open_store(spec, role="source", readonly=True, password=lambda _s, _r: password)
        store.close()
        save_account(spec.name, spec)
        reason = remember_password(spec, password) if remember else None
        if reason:
            self.post_message(KeyringUnavailable(reason))  # up to the app
        self.post_message(self.LoginTested(spec, password))

    def on_account_form_screen_login_tested(self, message: AccountFormScreen.LoginTested) -> None:
        self.dismiss(NewAccount(message.spec.name, message.spec, message.password))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            self.query_one("#save", Button).disabled = False
            text = error.one_line() if isinstance(error, MailmigError) else None
            self.show_error(text or describe_failure(error).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
