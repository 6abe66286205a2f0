"""The registry of account kinds: everything that differs between kinds of mail store.

Each kind ("imap", "pop3", "command", "maildir", "mbox") is one `StoreKind`: its URL schemes
with their security and default port, whether it is a local store, whether a copy can write
into it, whether it needs a password before connecting, whether it can sign in with OAuth2 or
open another user's mailbox (login_as), the words naming it in errors, its account URL, its
table in config.toml, its display and identity strings, and its opener. Callers ask the
registry (`kind_of(spec).can_be_target`) instead of comparing `spec.kind` with strings.

A new kind is one store class plus one `register(...)` call at the end of this module. The
openers import their store module when called, so importing this module (as model, accounts
and config do) loads no store, no textual and no rich.
"""

from __future__ import annotations

import abc
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions

if TYPE_CHECKING:
    from mailmig_tui.stores.base import MailStore

Secret = Callable[[], str]
"""Returns the account's password, asking for it when called (only when a login needs it)."""
Opener = Callable[[AccountSpec, Secret, bool], "MailStore"]
"""(spec, secret, readonly) -> a ready store; raises our one-line errors."""
Table = Mapping[str, Any]
"""One [accounts.NAME] table of config.toml."""

DEFAULT_PROTOCOL = "imap"
"""The kind of a saved account that names no kind (no `protocol`, `command`, `maildir`...)."""
TARGET_HINT = "copy into maildir:// or IMAP"


@dataclass(frozen=True, eq=False, kw_only=True)
class StoreKind(abc.ABC):
    """One kind of account. Instances are registry singletons, compared by identity."""

    name: str
    """The `AccountSpec.kind` value."""
    role_label: str
    """The account named in errors: "an IMAP account", "an mbox account"."""
    opener: Opener = field(repr=False)
    url_schemes: Mapping[str, tuple[Security, int]] = field(default_factory=dict)
    """URL scheme -> (security, default port). A local kind's one scheme is its name (port 0
    and AccountSpec's default security, which mean nothing for files); a command has none."""
    local: bool = False
    """Files on this machine, named by `AccountSpec.path`."""
    can_be_target: bool = True
    """A copy can write into it (POP3 and mbox are read only)."""
    needs_password: bool = False
    """A password is asked for before connecting (unless the account signs in with OAuth2)."""
    oauth2: bool = False
    """Can sign in with an OAuth2 access token instead of a password."""
    login_as: bool = False
    """Can open another user's mailbox with an admin's login (SASL PLAIN authzid)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "url_schemes", MappingProxyType(dict(self.url_schemes)))

    @property
    def uses_tls(self) -> bool:
        """Reached over TCP, where security, --ca-file, --insecure and the plaintext rule apply."""
        return False

    @property
    def config_key(self) -> str:
        """The field that makes a saved account this kind ("command", "maildir"); "" for the
        kinds picked by `protocol = NAME`."""
        return ""

    def open(self, spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
        """Connect (or open the files) and return a ready store."""
        return self.opener(spec, secret, readonly)

    def from_url(self, text: str) -> AccountSpec:
        """The account a URL of one of `url_schemes` names; raises UsageError."""
        raise UsageError(f"{self.role_label} has no URL form: {text!r}")

    def to_url(self, spec: AccountSpec) -> str:
        """The URL form of `spec`, for display; parsed back by `from_url` where there is one."""
        return self.display(spec)

    @abc.abstractmethod
    def from_config(
        self, table: Table, *, name: str = "", where: str = "the account"
    ) -> AccountSpec:
        """A saved account from its config table; raises ConfigError naming `where`.

        OAuth2 fields are laid over it by the caller (config.py), for every kind alike.
        """

    @abc.abstractmethod
    def to_config(self, spec: AccountSpec) -> dict[str, Any]:
        """The config table that saves `spec` (never a secret; without the OAuth2 fields)."""

    @abc.abstractmethod
    def display(self, spec: AccountSpec) -> str:
        """A short, password-free label such as `alice@mail.example.com`."""

    @abc.abstractmethod
    def identity(self, spec: AccountSpec) -> str:
        """A stable key for journals and saved folder maps."""


@dataclass(frozen=True, eq=False, kw_only=True)
class HostKind(StoreKind):
    """A mail server reached over TCP as USER@HOST:PORT (IMAP, POP3)."""

    protocol: str
    """Named in messages: "IMAP", "POP3"."""
    starttls_command: str = "STARTTLS"
    """How the protocol upgrades a plain connection ("STLS" in POP3)."""

    @property
    def uses_tls(self) -> bool:
        return True

    def default_port(self, security: Security) -> int:
        return next(port for sec, port in self.url_schemes.values() if sec is security)

    def scheme_for(self, security: Security) -> str:
        return next(scheme for scheme, (sec, _port) in self.url_schemes.items() if sec is security)

    def secure_schemes(self) -> str:
        """The encrypted forms, for hints: "imaps:// or imap:// (STARTTLS)"."""
        tls, starttls = self.scheme_for(Security.TLS), self.scheme_for(Security.STARTTLS)
        return f"{tls}:// or {starttls}:// ({self.starttls_command})"

    def ports_text(self) -> str:
        """The usual ports, for hints: "imaps:// is 993, imap:// with STARTTLS is 143"."""
        tls, starttls = Security.TLS, Security.STARTTLS
        return (
            f"{self.scheme_for(tls)}:// is {self.default_port(tls)}, "
            f"{self.scheme_for(starttls)}:// with {self.starttls_command} is "
            f"{self.default_port(starttls)}"
        )

    def from_url(self, text: str) -> AccountSpec:
        scheme = text.partition("://")[0].lower()
        forms = url_forms()
        if scheme not in self.url_schemes:
            raise UsageError(f"unknown account URL scheme {scheme!r} in {text!r}", f"use {forms}")
        parts = urlsplit(text)
        user = unquote(parts.username or "")
        host = parts.hostname or ""
        if not user:
            raise UsageError(
                f"the account URL has no user: {text!r}", f"write {scheme}://USER@HOST"
            )
        if not host:
            raise UsageError(
                f"the account URL has no host: {text!r}", f"write {scheme}://USER@HOST"
            )
        if parts.path not in ("", "/"):
            raise UsageError(f"unexpected path in account URL: {text!r}", f"use {forms}")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(
                f"bad port in account URL: {text!r}", "the port is a number from 1 to 65535"
            ) from None
        security, default = self.url_schemes[scheme]
        if port == 0:
            raise UsageError(f"bad port in account URL: {text!r}", "the port is a number 1-65535")
        return AccountSpec(
            kind=self.name, user=user, host=host, port=port or default, security=security
        )

    def to_url(self, spec: AccountSpec) -> str:
        scheme = self.scheme_for(spec.security)
        user = spec.user.replace("%", "%25").replace("@", "%40").replace(":", "%3A")
        port = "" if spec.port == self.url_schemes[scheme][1] else f":{spec.port}"
        return f"{scheme}://{user}@{spec.host}{port}"

    def from_config(
        self, table: Table, *, name: str = "", where: str = "the account"
    ) -> AccountSpec:
        try:
            security = Security(str(table.get("security", "tls")).lower())
            host, user = str(table["host"]), str(table["user"])
        except KeyError as exc:
            raise ConfigError(f"{where} lacks {exc.args[0]!r}", "give host and user") from None
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}", "security is tls, starttls or plain") from None
        port = table.get("port", self.default_port(security))
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(
                f"{where}: port must be a number from 1 to 65535, not {port!r}",
                "write e.g. port = 993, or leave it out for the protocol's default",
            )
        login_as = str(table.get("login_as", ""))
        if login_as and not self.login_as:
            raise ConfigError(
                f"{where}: login_as does not work with {self.role_label}",
                "remove it, or use an IMAP account",
            )
        ca_file = table.get("ca_file")
        return AccountSpec(
            kind=self.name,
            user=user,
            host=host,
            port=port,
            security=security,
            tls=TlsOptions(ca_file=str(ca_file) if ca_file else None),
            name=name,
            login_as=login_as,
        )

    def to_config(self, spec: AccountSpec) -> dict[str, Any]:
        table: dict[str, Any] = {
            "host": spec.host,
            "port": spec.port,
            "security": spec.security.value,
            "user": spec.user,
        }
        if spec.tls.ca_file:
            table["ca_file"] = spec.tls.ca_file
        if spec.login_as:
            table["login_as"] = spec.login_as
        if self.name != DEFAULT_PROTOCOL:
            table["protocol"] = self.name
        return table

    def display(self, spec: AccountSpec) -> str:
        if spec.login_as:
            return f"{spec.login_as}@{spec.host} (as {spec.user})"
        return f"{spec.user}@{spec.host}"

    def identity(self, spec: AccountSpec) -> str:
        # The mailbox is the owner's, whoever logs in: a later direct login is the same one.
        return f"{self.name}://{spec.login_as or spec.user}@{spec.host}:{spec.port}"


@dataclass(frozen=True, eq=False, kw_only=True)
class CommandKind(StoreKind):
    """IMAP over a command's stdin/stdout (`ssh oldhost /usr/lib/dovecot/imap`); no URL form."""

    @property
    def config_key(self) -> str:
        return "command"

    def from_config(
        self, table: Table, *, name: str = "", where: str = "the account"
    ) -> AccountSpec:
        try:
            return command_spec(str(table["command"]), user=str(table.get("user", "")), name=name)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc.message}", exc.hint) from None

    def to_config(self, spec: AccountSpec) -> dict[str, Any]:
        return {"command": spec.command} | ({"user": spec.user} if spec.user else {})

    def display(self, spec: AccountSpec) -> str:
        return f"command:{spec.command}"

    def identity(self, spec: AccountSpec) -> str:
        return f"command:{spec.command}"


@dataclass(frozen=True, eq=False, kw_only=True)
class PathKind(StoreKind):
    """A store in local files, named by an absolute path: `NAME:///PATH`, `NAME = "PATH"`."""

    local: bool = True

    def __post_init__(self) -> None:
        if not self.url_schemes:
            object.__setattr__(self, "url_schemes", {self.name: (Security.TLS, 0)})
        super().__post_init__()

    @property
    def config_key(self) -> str:
        return self.name

    def from_url(self, text: str) -> AccountSpec:
        scheme, _sep, rest = text.partition("://")
        scheme = scheme.lower()
        path = unquote(rest)
        if not path.startswith("/"):
            raise UsageError(
                f"{scheme} URL needs an absolute path: {text!r}", f"write {scheme}:///full/path"
            )
        return AccountSpec(kind=self.name, path=path)

    def to_url(self, spec: AccountSpec) -> str:
        return f"{self.name}://{spec.path}"

    def from_config(
        self, table: Table, *, name: str = "", where: str = "the account"
    ) -> AccountSpec:
        return AccountSpec(kind=self.name, path=str(table[self.name]), name=name)

    def to_config(self, spec: AccountSpec) -> dict[str, Any]:
        return {self.name: spec.path}

    def display(self, spec: AccountSpec) -> str:
        return f"{self.name}:{spec.path}"

    def identity(self, spec: AccountSpec) -> str:
        return f"{self.name}://{spec.path}"


# -- the registry -----------------------------------------------------------------------------

KINDS: dict[str, StoreKind] = {}
"""Every kind by name, in registration order (which orders URL forms in messages)."""
_BY_SCHEME: dict[str, StoreKind] = {}
K = TypeVar("K", bound=StoreKind)


def register(kind: K) -> K:
    """Add a kind; its name and URL schemes must be new."""
    if kind.name in KINDS:
        raise ValueError(f"the account kind {kind.name!r} is registered already")
    taken = [scheme for scheme in kind.url_schemes if scheme in _BY_SCHEME]
    if taken:
        raise ValueError(f"the URL scheme {taken[0]!r} belongs to another kind already")
    KINDS[kind.name] = kind
    _BY_SCHEME.update(dict.fromkeys(kind.url_schemes, kind))
    return kind


def kind_of(spec: AccountSpec) -> StoreKind:
    """The kind of an account."""
    try:
        return KINDS[spec.kind]
    except KeyError:
        raise UsageError(
            f"unknown account kind {spec.kind!r}", "known kinds: " + ", ".join(KINDS)
        ) from None


def kind_for_scheme(scheme: str) -> StoreKind | None:
    """The kind a URL scheme (lower case) belongs to, if any."""
    return _BY_SCHEME.get(scheme)


def kind_for_table(table: Table, where: str = "the account") -> StoreKind:
    """The kind of a saved account: the kind whose field it has (`maildir = ...`,
    `command = ...`), else its `protocol` (imap when it names none)."""
    marked = [kind for kind in KINDS.values() if kind.config_key and kind.config_key in table]
    if len(marked) > 1:
        keys = " and ".join(repr(kind.config_key) for kind in marked)
        raise ConfigError(f"{where} has both {keys}", "an account is one kind: keep one of them")
    if marked:
        return marked[0]
    protocol = str(table.get("protocol", DEFAULT_PROTOCOL)).lower()
    kind = KINDS.get(protocol)
    if kind is None or kind.config_key:
        protocols = [name for name, kind in KINDS.items() if not kind.config_key]
        raise ConfigError(
            f"{where}: unknown protocol {protocol!r}", "protocol is " + " or ".join(protocols)
        )
    return kind


def url_forms() -> str:
    """Every URL form, for hints: "imaps://USER@HOST[:PORT], imap://…, …, mbox:///PATH"."""
    forms = []
    for kind in KINDS.values():
        for scheme in kind.url_schemes:
            if kind.local:
                forms.append(f"{scheme}:///PATH")
            else:
                forms.append(f"{scheme}://" + ("…" if forms else "USER@HOST[:PORT]"))
    return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)


def needs_password(spec: AccountSpec) -> bool:
    """Whether to ask for a password before connecting.

    A command account usually starts a preauthenticated server (`* PREAUTH`); if its server
    asks for a login after all, the password is asked for then. An account signing in with
    OAuth2 needs a token instead (`oauth2.token_provider`).
    """
    return kind_of(spec).needs_password and spec.oauth2 is None


def require_target(spec: AccountSpec) -> None:
    """Refuse, in one line, an account that a copy cannot write into."""
    kind = kind_of(spec)
    if not kind.can_be_target:
        raise UsageError(f"{kind.role_label} can only be a source", TARGET_HINT)


def command_spec(command: str, *, user: str = "", name: str = "") -> AccountSpec:
    """An account reached by running `command` (split like a shell would, never run by one)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(
            f"cannot split the command {command!r}: {exc}", "check its quotes"
        ) from None
    if not argv:
        raise UsageError("the account command is empty", "give the command that speaks IMAP")
    # Normalised, so that re-typing it with other spacing or quoting is the same account.
    return AccountSpec(kind="command", command=shlex.join(argv), user=user, name=name)


# -- openers: each imports its store module only when an account of its kind opens ------------


def _open_imap(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    if spec.oauth2 is not None:
        # The access token comes first, on every (re)connect: a device sign-in can take
        # minutes, and a server would drop a connection waiting for it.
        from mailmig_tui import oauth2
        from mailmig_tui.stores.imap import ImapStore
        from mailmig_tui.stores.imap_connect import open_client

        token = oauth2.token_provider(spec)()
        return ImapStore(open_client(spec, "", oauth2_token=token), spec, readonly=readonly)
    from mailmig_tui.stores.imap import connect_imap

    return connect_imap(spec, secret(), readonly=readonly)


def _open_pop3(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.pop3 import connect_pop3

    return connect_pop3(spec, secret, readonly=readonly)  # asks after connecting


def _open_command(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.imap_command import connect_command

    return connect_command(spec, secret, readonly=readonly)  # asks only without PREAUTH


def _open_maildir(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.maildir import MaildirStore

    return MaildirStore(spec.path, readonly=readonly)


def _open_mbox(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.mbox import MboxStore

    return MboxStore(spec.path, readonly=readonly)


IMAP = register(
    HostKind(
        name="imap",
        role_label="an IMAP account",
        protocol="IMAP",
        opener=_open_imap,
        url_schemes={
            "imaps": (Security.TLS, 993),
            "imap": (Security.STARTTLS, 143),
            "imap+plain": (Security.PLAIN, 143),
        },
        needs_password=True,
        oauth2=True,
        login_as=True,
    )
)
POP3 = register(
    HostKind(
        name="pop3",
        role_label="a POP3 account",
        protocol="POP3",
        starttls_command="STLS",
        opener=_open_pop3,
        url_schemes={
            "pop3s": (Security.TLS, 995),
            "pop3": (Security.STARTTLS, 110),
            "pop3+plain": (Security.PLAIN, 110),
        },
        can_be_target=False,
        needs_password=True,
    )
)
COMMAND = register(
    CommandKind(name="command", role_label="a command account", opener=_open_command)
)
MAILDIR = register(PathKind(name="maildir", role_label="a Maildir account", opener=_open_maildir))
MBOX = register(
    PathKind(name="mbox", role_label="an mbox account", opener=_open_mbox, can_be_target=False)
)
