"""The shapes of account kinds: the `StoreKind` base class and its three subclasses.

Provides `StoreKind` (one kind of account: its URL schemes, flags, config round trip, labels
and opener), `HostKind` (a server reached over TCP as USER@HOST:PORT: IMAP, POP3),
`CommandKind` (IMAP over a command's stdin/stdout) and `PathKind` (a store in local files:
Maildir, mbox), with the callable and table types they are built from (`Secret`, `Opener`,
`Table`). The kinds themselves are made and registered in `mailmig_tui.kinds`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.kinds.registry import DEFAULT_PROTOCOL, command_spec, url_forms
from mailmig_tui.model import AccountSpec, Security, TlsOptions

if TYPE_CHECKING:
    from mailmig_tui.stores.base import MailStore

Secret = Callable[[], str]
"""Returns the account's password, asking for it when called (only when a login needs it)."""
Opener = Callable[[AccountSpec, Secret, bool], "MailStore"]
"""(spec, secret, readonly) -> a ready store; raises our one-line errors."""
Table = Mapping[str, Any]
"""One [accounts.NAME] table of config.toml."""


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
