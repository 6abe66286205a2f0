"""The TOML config file: saved accounts, settings and key remaps. Never holds a password.

[settings]
timeout = 30                       # seconds, socket connect and read
connections = 8                    # optional: the most a copy opens to each server

[accounts.old-server]
host = "mail.example.com"
port = 993
security = "tls"                   # tls | starttls | plain
user = "alice@example.com"
ca_file = "/etc/ssl/our-ca.pem"    # optional
connections = 4                    # optional: this server's own limit (over [settings])

password_command = "pass show mail/alice"  # optional: the password is its first line
password_command_shell = false     # true: run it with /bin/sh -c (pipes, $VARS, ~)

[accounts.old-pop]
protocol = "pop3"                  # imap (the default) or pop3 (a source only)
host = "pop.example.com"           # port 995 with tls, 110 with starttls (STLS) or plain
user = "alice"

[accounts.old-over-ssh]            # IMAP over a command's stdin/stdout, started without a shell
command = "ssh oldhost /usr/lib/dovecot/imap"
user = "alice"                     # only if that server asks for a login (no PREAUTH)

[accounts.old-maildir]
maildir = "/home/alice/Maildir"    # or mbox = "/var/mail/alice"

[accounts.m365]                    # signs in with OAuth2 instead of a password
host = "outlook.office365.com"
user = "alice@contoso.com"
oauth2 = "microsoft"               # microsoft | google | the name of an [oauth2.NAME] table
oauth2_client_id = "…"             # optional here when [oauth2.microsoft] gives one
oauth2_tenant = "contoso.com"      # optional: Microsoft tenant (default "organizations")
oauth2_token_command = "…"         # optional: a command printing an access token instead
token_store = "file"               # optional: refresh tokens in an owner-only file (no keyring)

[accounts.m365-app]                # app-only access: no user signs in (IMAP.AccessAsApp)
host = "outlook.office365.com"
user = "bob@contoso.com"           # the mailbox
oauth2 = "microsoft-app"           # with oauth2_tenant, oauth2_client_id (or its [oauth2.…])
oauth2_client_secret_command = "pass show m365/mailmig-app"  # or MAILMIG_OAUTH2_CLIENT_SECRET
oauth2_key_file = "/etc/mailmig/app.pem"  # or: a certificate (PEM, cert + key) instead

[oauth2.microsoft]                 # defaults for every account with that provider
client_id = "…"                    # the admin's own app registration; no client secret here
tenant = "contoso.com"

[oauth2.custom]                    # any other server: all of these
client_id = "mailmig"
device_authorization_endpoint = "https://sso.example.com/device"
token_endpoint = "https://sso.example.com/token"
scope = "imap offline_access"

[settings] token_store = "file" does the same for every OAuth2 account. google signs in in
the browser (PKCE; paste the address back over SSH); google-service-account takes
oauth2_key_file = the service account's JSON key (domain-wide delegation).

[keymap]
copy = "f5,c"                      # binding id = keys

Every key of every table is known below (`SETTINGS_KEYS`, `ACCOUNT_KEYS`, ...): any other is
refused, naming it with the closest known key, so a typo never passes silently.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mailmig_tui import oauth2, paths
from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.kinds import kind_for_table, kind_of
from mailmig_tui.model import AccountSpec
from mailmig_tui.password_command import with_password_command

SECRET_KEYS = ("password", "pass", "passwd", "secret")

# -- the known keys of every table: add a new setting here, and nowhere else --------------------
TABLES = frozenset({"settings", "accounts", "oauth2", "keymap"})
"""The top-level tables; [keymap] holds free-form binding ids (the TUI's help lists them)."""
SETTINGS_KEYS = frozenset({"timeout", "connections"}) | frozenset(oauth2.SETTINGS_KEYS)
"""[settings]"""
OAUTH2_TABLE_KEYS = frozenset(oauth2.TABLE_KEYS)
"""[oauth2.NAME]: a provider's defaults, or another server's endpoints."""
HOST_ACCOUNT_KEYS = frozenset(
    {"protocol", "host", "port", "security", "user", "ca_file", "login_as", "connections"}
)
"""An account on a server (IMAP, POP3); POP3 refuses login_as with a reason of its own."""
PASSWORD_ACCOUNT_KEYS = frozenset({"password_command", "password_command_shell"})
"""Every account that may log in with a password."""
OAUTH2_ACCOUNT_KEYS = frozenset(oauth2.ACCOUNT_KEYS)
"""Known on every kind: `oauth2.check` says why only IMAP accounts sign in with OAuth2."""
ACCOUNT_KEYS: dict[str, frozenset[str]] = {
    "imap": HOST_ACCOUNT_KEYS | PASSWORD_ACCOUNT_KEYS | OAUTH2_ACCOUNT_KEYS,
    "pop3": HOST_ACCOUNT_KEYS | PASSWORD_ACCOUNT_KEYS | OAUTH2_ACCOUNT_KEYS,
    "command": frozenset({"command", "user"}) | PASSWORD_ACCOUNT_KEYS | OAUTH2_ACCOUNT_KEYS,
    "maildir": frozenset({"maildir"}) | OAUTH2_ACCOUNT_KEYS,
    "mbox": frozenset({"mbox"}) | OAUTH2_ACCOUNT_KEYS,
}
"""[accounts.NAME], by the account's kind (`kinds.KINDS`; a test checks each has its set)."""


def refuse_unknown(where: str, keys: Iterable[str], known: frozenset[str]) -> None:
    """One line naming the first unknown key, with the known key it most likely meant."""
    for key in keys:
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        if close:
            raise ConfigError(f'{where} unknown key "{key}"; did you mean "{close[0]}"?', "")
        raise ConfigError(f'{where} unknown key "{key}"', "known keys: " + ", ".join(sorted(known)))


@dataclass
class Config:
    accounts: dict[str, AccountSpec] = field(default_factory=dict)
    timeout: float = 30.0
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    oauth2: dict[str, dict[str, str]] = field(default_factory=dict)
    """[oauth2.NAME] tables: provider defaults and the endpoints of other servers."""
    token_store: str = ""
    """[settings] token_store: where OAuth2 refresh tokens are kept ("keyring", "file")."""
    connections: int | None = None
    """[settings] connections: the most connections a copy opens to each server."""
    account_connections: dict[str, int] = field(default_factory=dict)
    """[accounts.NAME] connections: that server's own limit (Exchange allows 16-20)."""

    def connection_limit(self, *specs: AccountSpec) -> int | None:
        """Connections per server for a copy between `specs`: the smallest limit of their
        saved accounts, else [settings] connections, else None (the server presets decide)."""
        limits = [
            self.account_connections[s.name] for s in specs if s.name in self.account_connections
        ]
        return min(limits) if limits else self.connections


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config."""
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file {path}: {exc.strerror}",
            "make it a readable file, or point MAILMIG_CONFIG_DIR elsewhere",
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the config file {path} is not valid TOML: {exc}", "fix or remove that line"
        ) from None
    refuse_unknown(f"{path}:", data, TABLES)
    settings = _table(path, data, "settings")
    refuse_unknown(f"{path}: [settings]", settings, SETTINGS_KEYS)
    timeout = settings.get("timeout", 30.0)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(
            f"{path}: settings.timeout must be a positive number of seconds",
            "write timeout = 30 under [settings]",
        )
    providers = {
        str(name).lower(): _oauth2_table(path, str(name), table)
        for name, table in _table(path, data, "oauth2").items()
    }
    token_store = settings.get("token_store", "")
    if token_store not in ("", *oauth2.STORES):
        raise ConfigError(
            f"{path}: settings.token_store must be keyring or file, not {token_store!r}",
            'write token_store = "file" for an owner-only token file in the state directory',
        )
    accounts = {
        name: _account(path, name, table, providers, token_store)
        for name, table in _table(path, data, "accounts").items()
    }
    keymap = {str(k): str(v) for k, v in _table(path, data, "keymap").items()}
    connections = _connections(f"{path}: settings.connections", settings)
    per_account = {
        name: _connections(f"{path}: accounts.{name}.connections", table)
        for name, table in _table(path, data, "accounts").items()
        if isinstance(table, dict) and "connections" in table
    }
    return Config(
        accounts=accounts,
        timeout=float(timeout),
        keymap=keymap,
        path=path,
        oauth2=providers,
        token_store=token_store,
        connections=connections,
        account_connections={k: v for k, v in per_account.items() if v is not None},
    )


def _connections(where: str, table: dict[str, Any]) -> int | None:
    value = table.get("connections")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{where} must be a whole number of 1 or more, not {value!r}",
            "write connections = 8: the most connections a copy opens to that server",
        )
    return value


def _table(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table", f"write [{key}.NAME] sections")
    return value


def _oauth2_table(path: Path, name: str, table: Any) -> dict[str, str]:
    where = f"{path}: [oauth2.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(
            f"{where} must be a table", "put the account's fields under it, one a line"
        )
    for key in table:
        secret = "secret" in key.lower() and not key.lower().endswith("_command")
        if secret or key.lower() in SECRET_KEYS:
            raise ConfigError(
                f"{where} has a {key!r} field; secrets never go in the config file",
                f"set {oauth2.CLIENT_SECRET_ENV} if the server insists on a client secret",
            )
    refuse_unknown(where, table, OAUTH2_TABLE_KEYS)
    return {key: str(value) for key, value in table.items()}


def _account(
    path: Path,
    name: str,
    table: Any,
    providers: dict[str, dict[str, str]] | None = None,
    token_store: str = "",
) -> AccountSpec:
    where = f"{path}: [accounts.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(
            f"{where} must be a table", "put the account's fields under it, one a line"
        )
    for key in table:
        if key.lower() in SECRET_KEYS or key.lower().endswith("secret"):
            raise ConfigError(
                f"{where} has a {key!r} field; passwords never go in the config file",
                "remove it and use the keyring or MAILMIG_SOURCE_PASSWORD",
            )
    kind = kind_for_table(table, where)
    known = ACCOUNT_KEYS.get(kind.name)
    if known is not None:
        refuse_unknown(where, table, known)
    spec = _with_password_command(kind.from_config(table, name=name, where=where), table, where)
    if any(key.startswith("oauth2") for key in table):
        try:
            spec = oauth2.with_options(
                spec,
                provider=str(table.get("oauth2", "")),
                client_id=str(table.get("oauth2_client_id", "")),
                tenant=str(table.get("oauth2_tenant", "")),
                token_command=str(table.get("oauth2_token_command", "")),
                client_secret_command=str(table.get("oauth2_client_secret_command", "")),
                key_file=str(table.get("oauth2_key_file", "")),
                token_store=str(table.get("token_store", "")) or token_store,  # else [settings]
                tables=providers or {},
                complete=False,  # a client id may still come from the command line
            )
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
        if spec.oauth2 is None:
            raise ConfigError(
                f"{where} has oauth2 settings but no oauth2 provider",
                'add oauth2 = "microsoft" (or google, or the name of an [oauth2.NAME] table)',
            )
    return spec


def _with_password_command(spec: AccountSpec, table: dict[str, Any], where: str) -> AccountSpec:
    command, shell = table.get("password_command"), table.get("password_command_shell", False)
    if not isinstance(shell, bool):
        raise ConfigError(f"{where}: password_command_shell is true or false, not {shell!r}")
    if command is None:
        if shell:
            raise ConfigError(f"{where} has password_command_shell but no password_command")
        return spec
    if not isinstance(command, str):
        raise ConfigError(
            f"{where}: password_command must be a string",
            'write password_command = "pass show mail/alice"',
        )
    try:
        return with_password_command(spec, command, shell=shell)
    except UsageError as exc:
        raise ConfigError(f"{where}: {exc.message}", exc.hint) from None


def account_table(spec: AccountSpec) -> dict[str, Any]:
    """The TOML table that saves `spec` (without any secret)."""
    table = kind_of(spec).to_config(spec)
    if spec.password_command:
        table["password_command"] = spec.password_command
        if spec.password_command_shell:
            table["password_command_shell"] = True
    if spec.oauth2 is not None:
        fields = {
            "oauth2": spec.oauth2.provider,
            "oauth2_client_id": spec.oauth2.client_id,
            "oauth2_tenant": spec.oauth2.tenant,
            "oauth2_token_command": spec.oauth2.token_command,
            "oauth2_client_secret_command": spec.oauth2.client_secret_command,
            "oauth2_key_file": spec.oauth2.key_file,
        }
        table |= {key: value for key, value in fields.items() if value}
    return table


def with_provider_table(spec: AccountSpec, config: Config | None = None) -> AccountSpec:
    """An OAuth2 account built without the config (not by `load_config` or the commands'
    resolving) with its [oauth2.PROVIDER] table laid in: oauth2.py never reads the file."""
    if spec.oauth2 is None or spec.oauth2.provider_table is not None:
        return spec
    config = config or load_config()
    if not spec.oauth2.token_store and config.token_store:
        spec = replace(spec, oauth2=replace(spec.oauth2, token_store=config.token_store))
    return oauth2.with_tables(spec, config.oauth2)


def save_account(name: str, spec: AccountSpec, path: Path | None = None) -> None:
    """Add or replace one saved account; every comment, blank line and other table of the
    file stays as its owner wrote it (`config_edit`)."""
    path = path or paths.config_file()
    paths.ensure_private_dir(path.parent)
    try:
        text = path.read_text("utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the config file {path}: {getattr(exc, 'strerror', None) or exc}",
            "make it a readable UTF-8 file, or point MAILMIG_CONFIG_DIR elsewhere",
        ) from None
    from mailmig_tui.config_edit import with_account  # tomlkit: only when saving

    edited = with_account(text, name, account_table(spec), f"the config file {path}")
    paths.write_private(path, edited)
