"""Adding an account of any kind: the form, a test in a worker, then saving it (no password).

A kind selector at the top (IMAP, POP3, command, Maildir, mbox: every kind in `kinds.KINDS`)
shows only the rows that describe that kind (`form_fields.field_groups`). A local path is
checked in the worker: an mbox must exist; a Maildir that does not exist yet is saved with
the note that it will be created when used as a target.

The dialog closes only after the login worked; otherwise it shows the real one-line error
(what happened and what to do) and the operator corrects the form. The password is handed
back for this session and stored in the keyring only when asked to. Instead of a password
the account may name a password command (saved as `password_command`), or nothing: then the
other sources are tried (environment, netrc, keyring), and when none has a password the
account is saved untested and its password is asked for when it connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from mailmig_tui import oauth2
from mailmig_tui.accounts import needs_password
from mailmig_tui.config import save_account, with_provider_table
from mailmig_tui.errors import MailmigError, PasswordUnavailable
from mailmig_tui.kinds import DEFAULT_PROTOCOL, KINDS, HostKind, StoreKind
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.password_command import with_password_command
from mailmig_tui.stores.open import open_store
from mailmig_tui.tui.accounts.form_fields import (
    COMMAND,
    GROUPS,
    HOST,
    PASSWORD,
    PATH,
    SIGN_IN,
    TLS,
    USER,
    build_kind_spec,
    check_path,
    field_groups,
    kind_choices,
    path_placeholder,
    security_choices,
)
from mailmig_tui.tui.accounts.password import remember_checkbox
from mailmig_tui.tui.accounts.session import remember_password, saved_password
from mailmig_tui.tui.common.app_messages import KeyringUnavailable
from mailmig_tui.tui.common.failures import describe_failure

SECURITY_CHOICES = [
    ("TLS (imaps, port 993)", Security.TLS.value),
    ("STARTTLS (port 143)", Security.STARTTLS.value),
    ("none (loopback only)", Security.PLAIN.value),
]


SIGN_IN_CHOICES = [
    ("password", ""),
    ("OAuth2: Microsoft 365 (device code)", "microsoft"),
    ("OAuth2: Microsoft 365 app-only", "microsoft-app"),
    ("OAuth2: Google (browser)", "google"),
    ("OAuth2: Google service account", "google-service-account"),
]
"""The OAuth2 provider, if any; the client id and tenant the form takes (saved as
oauth2_client_id, oauth2_tenant), else the [oauth2.PROVIDER] table of config.toml gives them
and the rest (see `oauth2.py`)."""
TAKES_CLIENT_ID = ("microsoft", "microsoft-app", "google")
TAKES_TENANT = ("microsoft", "microsoft-app")


def with_sign_in(
    spec: AccountSpec, provider: str, client_id: str = "", tenant: str = ""
) -> AccountSpec:
    """`spec` signing in with OAuth2 `provider` ("" = a password), settings checked."""
    if not provider:
        return spec
    spec = oauth2.with_options(
        spec,
        provider=provider,
        client_id=client_id.strip() if provider in TAKES_CLIENT_ID else "",
        tenant=tenant.strip() if provider in TAKES_TENANT else "",
        complete=False,
    )
    spec = with_provider_table(spec)
    oauth2.check(spec)
    return spec


@dataclass(frozen=True)
class NewAccount:
    name: str
    spec: AccountSpec
    password: str


def build_spec(
    name: str,
    host: str,
    port: str,
    security: str,
    user: str,
    ca_file: str,
    timeout: float,
    command: str = "",
    password_command: str = "",
) -> AccountSpec:
    """An IMAP account (or with a command, e.g. `ssh oldhost /usr/lib/dovecot/imap`, one
    reached by running it) from the form's fields; raises UsageError naming the field to
    fix. With a password command (`pass show mail/alice`) the password is what it prints.
    The same rules as every kind's form: `form_fields.build_kind_spec`."""
    values = {"name": name, "host": host, "port": port, "security": security, "user": user}
    values |= {"ca": ca_file, "command": command}
    spec = build_kind_spec("command" if command.strip() else "imap", values, timeout)
    if password_command.strip():
        spec = with_password_command(spec, password_command.strip())
    return spec


class AccountFormScreen(ModalScreen[NewAccount | None]):
    DEFAULT_CSS = """
    AccountFormScreen #form-scroll {
        height: auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel-form"),
        Binding("ctrl+s", "save", "Test and save", id="save-account"),
    ]

    class LoginTested(Message, bubble=False):
        """The test login worked and the account is saved: the form closes with it."""

        def __init__(
            self, spec: AccountSpec, password: str, tested: bool = True, note: str = ""
        ) -> None:
            super().__init__()
            self.note = note
            """Why it was saved untested, for the notice (a Maildir not made yet)."""
            self.spec = spec
            self.password = password
            self.tested = tested
            """False: no password anywhere yet, so saved without a test login."""

    def __init__(self, timeout: float) -> None:
        super().__init__(classes="dialog-screen")
        self.timeout = timeout

    def compose(self) -> ComposeResult:
        def row(group: str, label: str, widget: Widget) -> ComposeResult:
            yield Label(label, classes=f"row-{group}")
            widget.add_class(f"row-{group}")
            yield widget

        with Vertical(classes="dialog"):
            yield Static(Text("Add an account"), classes="dialog-title", id="form-title")
            # Not a tab stop of its own: focusing a row scrolls it into view.
            with VerticalScroll(id="form-scroll", can_focus=False), Grid(classes="form-grid"):
                yield Label("Kind")
                yield Select(
                    kind_choices(),
                    value=DEFAULT_PROTOCOL,
                    allow_blank=False,
                    id="kind",
                    compact=True,
                )
                yield Label("Name")
                yield Input(placeholder="old-server", id="name", compact=True)
                yield from row(
                    COMMAND,
                    "Command",
                    Input(
                        placeholder="ssh oldhost /usr/lib/dovecot/imap", id="command", compact=True
                    ),
                )
                yield from row(PATH, "Path", Input(id="path", compact=True))
                yield from row(
                    HOST, "Host", Input(placeholder="mail.example.com", id="host", compact=True)
                )
                yield from row(
                    HOST,
                    "Security",
                    Select(
                        SECURITY_CHOICES,
                        value="tls",
                        allow_blank=False,
                        id="security",
                        compact=True,
                    ),
                )
                yield from row(
                    HOST, "Port", Input(placeholder="993", id="port", type="integer", compact=True)
                )
                yield from row(
                    USER, "User", Input(placeholder="alice@example.com", id="user", compact=True)
                )
                yield from row(
                    SIGN_IN,
                    "Sign-in",
                    Select(
                        SIGN_IN_CHOICES, value="", allow_blank=False, id="sign-in", compact=True
                    ),
                )
                yield Label("Client id", classes="client-id")
                yield Input(
                    placeholder="the app's id (or client_id under [oauth2.…] in config.toml)",
                    id="oauth2-client-id",
                    classes="client-id",
                    compact=True,
                )
                yield Label("Tenant", classes="tenant")
                yield Input(
                    placeholder="contoso.com or its id (default: organizations)",
                    id="oauth2-tenant",
                    classes="tenant",
                    compact=True,
                )
                yield from row(
                    PASSWORD, "Password", Input(password=True, id="password", compact=True)
                )
                yield from row(PASSWORD, "", remember_checkbox(default=False))
                yield from row(
                    PASSWORD,
                    "Password cmd",
                    Input(
                        placeholder="or: pass show mail/alice (the first line it prints)",
                        id="password-command",
                        compact=True,
                    ),
                )
                yield from row(
                    TLS,
                    "CA file",
                    Input(placeholder="optional: PEM of a private CA", id="ca", compact=True),
                )
            yield Static(id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Test and save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.show_kind(DEFAULT_PROTOCOL)
        # The name first (Enter saves from any box); the kind is the row above it.
        self.query_one("#name", Input).focus()

    def on_resize(self) -> None:
        # The rows scroll when the terminal is short (60x20): title, error line, buttons
        # and the dialog's border stay in view.
        self.query_one("#form-scroll").styles.max_height = max(3, self.size.height - 9)

    @property
    def kind(self) -> StoreKind:
        return KINDS[str(self.query_one("#kind", Select).value)]

    def show_kind(self, name: str) -> None:
        """Only the rows that describe an account of kind `name` (asked of the registry)."""
        kind = KINDS[name]
        groups = field_groups(kind)
        for group in GROUPS:
            self.query(f".row-{group}").set(display=group in groups)
        self.query_one("#form-title", Static).update(Text(f"Add {kind.role_label}"))
        self.query_one("#path", Input).placeholder = path_placeholder(kind)
        security = self.query_one("#security", Select)
        security.set_options(security_choices(kind))
        security.value = Security.TLS.value
        self.show_port_placeholder()
        sign_in = self.query_one("#sign-in", Select).value
        self.show_provider_fields(str(sign_in) if SIGN_IN in groups else "")

    def show_port_placeholder(self) -> None:
        kind, security = self.kind, self.query_one("#security", Select).value
        if isinstance(kind, HostKind) and isinstance(security, str):
            port = kind.default_port(Security(security))
            self.query_one("#port", Input).placeholder = str(port)

    def show_provider_fields(self, provider: str) -> None:
        """The client id and tenant rows only for the providers that take them."""
        self.query(".client-id").set(display=provider in TAKES_CLIENT_ID)
        self.query(".tenant").set(display=provider in TAKES_TENANT)

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind" and isinstance(event.value, str):
            self.show_kind(event.value)
        elif event.select.id == "security":
            self.show_port_placeholder()
        elif event.select.id == "sign-in":
            self.show_provider_fields(str(event.value))

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

    def form_spec(self) -> AccountSpec:
        """The account the form describes, for the kind chosen; raises UsageError."""
        kind = self.kind
        values = {field.id: field.value for field in self.query(Input) if field.id}
        values["security"] = str(self.query_one("#security", Select).value)
        spec = build_kind_spec(kind.name, values, self.timeout)
        groups = field_groups(kind)
        if PASSWORD in groups and values["password-command"].strip():
            spec = with_password_command(spec, values["password-command"].strip())
        if SIGN_IN in groups:
            spec = with_sign_in(
                spec,
                str(self.query_one("#sign-in", Select).value),
                values["oauth2-client-id"],
                values["oauth2-tenant"],
            )
        return spec

    def action_save(self) -> None:
        try:
            spec = self.form_spec()
        except MailmigError as exc:
            self.show_error(exc.one_line())
            return
        groups = field_groups(self.kind)
        password = self.value("password") if PASSWORD in groups else ""
        self.query_one("#save", Button).disabled = True
        self.show_error(f"Opening {spec.display} …")
        remember = PASSWORD in groups and self.query_one("#remember", Checkbox).value
        self._test_and_save(spec, password, remember)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _test_and_save(self, spec: AccountSpec, typed: str, remember: bool) -> None:
        # Not typed: the password command, the environment, netrc or the keyring (never a
        # terminal prompt: the TUI owns the terminal).
        note = check_path(spec)  # a local path: raises if it must exist and does not
        if note:
            save_account(spec.name, spec)  # nothing to open yet
            self.post_message(self.LoginTested(spec, "", tested=False, note=note))
            return
        if spec.oauth2 is not None and not oauth2.signs_in_alone(spec):
            save_account(spec.name, spec)  # a device code or browser: shown when it connects
            self.post_message(self.LoginTested(spec, "", tested=False))
            return
        password = typed
        if not password and (spec.password_command or needs_password(spec)):
            password = saved_password(spec, "source") or ""
        if not password and needs_password(spec):
            save_account(spec.name, spec)  # asked for when it connects
            self.post_message(self.LoginTested(spec, "", tested=False))
            return

        def give(checked: AccountSpec, _role: str) -> str:
            if not password:  # a command account whose server asks for a login after all
                raise PasswordUnavailable(f"no password for {checked.display}", "type it")
            return password

        store = open_store(spec, role="source", readonly=True, password=give)
        store.close()
        save_account(spec.name, spec)
        reason = remember_password(spec, typed) if remember and typed else None
        if reason:
            self.post_message(KeyringUnavailable(reason))  # up to the app
        self.post_message(self.LoginTested(spec, typed))

    def on_account_form_screen_login_tested(self, message: AccountFormScreen.LoginTested) -> None:
        if message.note:
            self.notify(f"Saved {message.spec.name}: {message.spec.path} {message.note}")
        elif not message.tested and message.spec.oauth2 is not None:
            self.notify(
                f"Saved {message.spec.name}: its OAuth2 sign-in is shown when it connects",
                timeout=8,
            )
        elif not message.tested:
            self.notify(
                f"Saved {message.spec.name} without a test login: no password was given, so it "
                "is asked for when the account connects",
                timeout=8,
            )
        self.dismiss(NewAccount(message.spec.name, message.spec, message.password))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            self.query_one("#save", Button).disabled = False
            text = error.one_line() if isinstance(error, MailmigError) else None
            self.show_error(text or describe_failure(error).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
