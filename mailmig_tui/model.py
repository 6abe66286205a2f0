"""Plain, typed values that cross module boundaries.

imapclient and the local stores hand out loosely typed results (bytes keys, tuples); each
store converts them into these frozen dataclasses at one boundary, so the engine, the CLI and
the TUI never see protocol types.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from mailmig_tui.errors import MessageRejected


class Security(enum.Enum):
    """How the connection to an IMAP or POP3 server is protected."""

    TLS = "tls"
    """TLS from the first byte (imaps, port 993; pop3s, port 995)."""
    STARTTLS = "starttls"
    """Plain connection upgraded with STARTTLS (POP3: STLS); refused if the server lacks it."""
    PLAIN = "plain"
    """No encryption at all: loopback only, or with --allow-plaintext."""


class SpecialUse(enum.Enum):
    """RFC 6154 roles the migration maps across servers by role, not by name."""

    INBOX = "\\Inbox"
    SENT = "\\Sent"
    DRAFTS = "\\Drafts"
    TRASH = "\\Trash"
    JUNK = "\\Junk"
    ARCHIVE = "\\Archive"
    ALL = "\\All"
    FLAGGED = "\\Flagged"
    IMPORTANT = "\\Important"


@dataclass(frozen=True)
class TlsOptions:
    """Certificate checking for one account."""

    ca_file: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class OAuth2Spec:
    """How an IMAP account signs in with OAuth2 instead of a password (see `oauth2.py`).

    Holds what the operator gave (options or the saved account's fields) and the config's
    [oauth2.PROVIDER] table; its defaults and the built-in endpoints are added when signing
    in. Never holds a token.
    """

    provider: str = ""
    """"microsoft", "google", or the name of an [oauth2.NAME] table in config.toml; may be
    empty when `token_command` supplies the tokens."""
    client_id: str = ""
    """The admin's own app registration (no client id is bundled)."""
    tenant: str = ""
    """Microsoft Entra tenant (GUID or domain) for a single-tenant app registration."""
    token_command: str = ""
    """A command printing an access token on stdout (run without a shell), normalised."""
    client_secret_command: str = ""
    """A command printing the app's client secret (microsoft-app, google), normalised."""
    key_file: str = ""
    """microsoft-app: a PEM with the app's certificate and private key (instead of a client
    secret); google-service-account: the service account's JSON key."""
    token_store: str = ""
    """Where refresh tokens are kept: "keyring" (the default) or "file" (owner-only)."""
    provider_table: tuple[tuple[str, str], ...] | None = field(default=None, compare=False)
    """The [oauth2.PROVIDER] table of config.toml as (key, value) pairs, None when there is
    none: laid in by whoever resolves the account (`oauth2.with_options(tables=...)`), since
    oauth2.py never reads the config file. Context, not the operator's setting: never saved,
    and left out of comparisons (the same account with the same options is the same)."""


@dataclass(frozen=True)
class AccountSpec:
    """Where an account lives and how to reach it; never holds a password."""

    kind: str
    """"imap", "pop3", "command" (IMAP over a command's stdin/stdout), or a local store
    kind: "maildir", "mbox"; what each kind means is in `kinds.KINDS`."""
    user: str = ""
    host: str = ""
    port: int = 0
    security: Security = Security.TLS
    path: str = ""
    """Filesystem path of a local store."""
    tls: TlsOptions = field(default_factory=TlsOptions)
    allow_plaintext: bool = False
    timeout: float = 30.0
    name: str = ""
    """The saved account's name, when it came from the config file."""
    command: str = ""
    """For kind "command": the command line mailmig starts (no shell), normalised."""
    oauth2: OAuth2Spec | None = None
    """Set when the account signs in with OAuth2 (IMAP only) instead of a password."""
    login_as: str = ""
    """Open this user's mailbox while logging in as `user`, an admin (SASL PLAIN
    authorization identity): migrating without the users' passwords."""
    password_command: str = ""
    """A command printing the password on its first line (mbsync's PassCmd): run without a
    shell (normalised) unless `password_command_shell`; see `password_command.py`."""
    password_command_shell: bool = False
    """Run `password_command` with /bin/sh -c (a saved account's `password_command_shell`)."""

    @property
    def is_local(self) -> bool:
        """Files on this machine (`kinds.StoreKind.local`)."""
        from mailmig_tui.kinds import kind_of  # kinds imports this module

        return kind_of(self).local

    @property
    def display(self) -> str:
        """A short, password-free label such as `alice@mail.example.com`."""
        from mailmig_tui.kinds import kind_of

        return kind_of(self).display(self)

    @property
    def identity(self) -> str:
        """A stable key for journals and saved folder maps."""
        from mailmig_tui.kinds import kind_of

        return kind_of(self).identity(self)


@dataclass(frozen=True)
class FolderInfo:
    """One folder of an account, with the figures shown in the folder tree."""

    name: str
    """Full Unicode name as the server spells it, prefix and delimiter included."""
    delimiter: str | None
    special_use: SpecialUse | None = None
    selectable: bool = True
    messages: int = 0
    unseen: int = 0
    size: int = 0
    uidvalidity: int = 0
    uidnext: int = 0
    error: str = ""
    """Why its figures could not be read (STATUS failed), "" when they could: the folder
    is listed as unreadable and every other folder goes on."""

    def parts(self, prefix: str = "") -> list[str]:
        """The name split at the delimiter, with a namespace prefix removed."""
        name = self.name
        if prefix and name.startswith(prefix) and name != prefix.rstrip(self.delimiter or ""):
            name = name[len(prefix) :]
        if not self.delimiter:
            return [name]
        return name.split(self.delimiter)


@dataclass(frozen=True)
class AccountInfo:
    """What a store says about itself after connecting."""

    delimiter: str | None
    prefix: str
    """Personal namespace prefix, e.g. "INBOX." on Courier and Cyrus, "" on most Dovecots."""
    capabilities: frozenset[str] = frozenset()
    append_limit: int | None = None
    """RFC 7889 APPENDLIMIT, when the server advertises one."""
    greeting: str = ""
    """The server's greeting text, which names Exchange, Gmail and friends."""


@dataclass(frozen=True)
class MessageSummary:
    """One row of the message list; enough to recognise a message without its body."""

    uid: int
    internaldate: datetime | None
    flags: tuple[str, ...]
    size: int
    date: datetime | None = None
    sender: str = ""
    to: str = ""
    subject: str = ""
    message_id: str = ""


@dataclass(frozen=True)
class Message:
    """A message's full source with what must survive a copy."""

    uid: int
    data: bytes
    flags: tuple[str, ...]
    internaldate: datetime | None


@dataclass(frozen=True)
class AppendResult:
    """What the target said about one message: stored (with its UID if known) or refused."""

    uid: int | None
    """APPENDUID when the server has UIDPLUS; None otherwise."""
    uidvalidity: int | None = None
    error: MessageRejected | None = None
    """Set when the target refused this message (too large, over quota, malformed)."""
