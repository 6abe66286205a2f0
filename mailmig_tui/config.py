"""The TOML config file: saved accounts, settings and key remaps. Never holds a password.

[settings]
timeout = 30                       # seconds, socket connect and read

[accounts.old-server]
host = "mail.example.com"
port = 993
security = "tls"                   # tls | starttls | plain
user = "alice@example.com"
ca_file = "/etc/ssl/our-ca.pem"    # optional

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

[oauth2.microsoft]                 # defaults for every account with that provider
client_id = "…"                    # the admin's own app registration; no client secret here
tenant = "contoso.com"

[oauth2.custom]                    # any other server: all of these
client_id = "mailmig"
device_authorization_endpoint = "https://sso.example.com/device"
token_endpoint = "https://sso.example.com/token"
scope = "imap offline_access"

[keymap]
copy = "f5,c"                      # binding id = keys
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from mailmig_tui import oauth2, paths
from mailmig_tui.accounts import SCHEMES_BY_KIND, command_account, default_port
from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions

SECRET_KEYS = ("password", "pass", "passwd", "secret")


@dataclass
class Config:
    accounts: dict[str, AccountSpec] = field(default_factory=dict)
    timeout: float = 30.0
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    oauth2: dict[str, dict[str, str]] = field(default_factory=dict)
    """[oauth2.NAME] tables: provider defaults and the endpoints of other servers."""


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
    settings = data.get("settings", {})
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
    accounts = {
        name: _account(path, name, table, providers)
        for name, table in _table(path, data, "accounts").items()
    }
    keymap = {str(k): str(v) for k, v in _table(path, data, "keymap").items()}
    return Config(
        accounts=accounts, timeout=float(timeout), keymap=keymap, path=path, oauth2=providers
    )


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
        if "secret" in key.lower() or key.lower() in SECRET_KEYS:
            raise ConfigError(
                f"{where} has a {key!r} field; secrets never go in the config file",
                f"set {oauth2.CLIENT_SECRET_ENV} if the server insists on a client secret",
            )
        if key not in oauth2.TABLE_KEYS:
            raise ConfigError(
                f"{where}: unknown key {key!r}", "known keys: " + ", ".join(oauth2.TABLE_KEYS)
            )
    return {key: str(value) for key, value in table.items()}


def _account(
    path: Path, name: str, table: Any, providers: dict[str, dict[str, str]] | None = None
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
    spec = _account_kind(name, table, where)
    if any(key.startswith("oauth2") for key in table):
        try:
            spec = oauth2.with_options(
                spec,
                provider=str(table.get("oauth2", "")),
                client_id=str(table.get("oauth2_client_id", "")),
                tenant=str(table.get("oauth2_tenant", "")),
                token_command=str(table.get("oauth2_token_command", "")),
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


def _account_kind(name: str, table: dict[str, Any], where: str) -> AccountSpec:
    for kind in ("maildir", "mbox"):
        if kind in table:
            return AccountSpec(kind=kind, path=str(table[kind]), name=name)
    if "command" in table:
        try:
            return command_account(
                str(table["command"]), user=str(table.get("user", "")), name=name
            )
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
    protocol = str(table.get("protocol", "imap")).lower()
    if protocol not in SCHEMES_BY_KIND:
        raise ConfigError(f"{where}: unknown protocol {protocol!r}", "protocol is imap or pop3")
    try:
        security = Security(str(table.get("security", "tls")).lower())
        host, user = str(table["host"]), str(table["user"])
    except KeyError as exc:
        raise ConfigError(f"{where} lacks {exc.args[0]!r}", "give host and user") from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}", "security is tls, starttls or plain") from None
    port = table.get("port", default_port(protocol, security))
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(
            f"{where}: port must be a number from 1 to 65535, not {port!r}",
            "write e.g. port = 993, or leave it out for the protocol's default",
        )
    ca_file = table.get("ca_file")
    return AccountSpec(
        kind=protocol,
        user=user,
        host=host,
        port=port,
        security=security,
        tls=TlsOptions(ca_file=str(ca_file) if ca_file else None),
        name=name,
        login_as=str(table.get("login_as", "")),
    )


def account_table(spec: AccountSpec) -> dict[str, Any]:
    """The TOML table that saves `spec` (without any secret)."""
    if spec.is_local:
        return {spec.kind: spec.path}
    if spec.kind == "command":
        return {"command": spec.command} | ({"user": spec.user} if spec.user else {})
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
    if spec.kind != "imap":
        table["protocol"] = spec.kind
    if spec.oauth2 is not None:
        fields = {
            "oauth2": spec.oauth2.provider,
            "oauth2_client_id": spec.oauth2.client_id,
            "oauth2_tenant": spec.oauth2.tenant,
            "oauth2_token_command": spec.oauth2.token_command,
        }
        table |= {key: value for key, value in fields.items() if value}
    return table


def save_account(name: str, spec: AccountSpec, path: Path | None = None) -> None:
    """Add or replace one saved account, keeping the rest of the file's data."""
    path = path or paths.config_file()
    paths.ensure_private_dir(path.parent)
    try:
        data = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
    data.setdefault("accounts", {})[name] = account_table(spec)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        tomli_w.dump(data, handle)
    os.replace(tmp, path)
