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

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from mailmig_tui import oauth2, paths
from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.kinds import kind_for_table, kind_of
from mailmig_tui.model import AccountSpec

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
    spec = kind_for_table(table, where).from_config(table, name=name, where=where)
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


def account_table(spec: AccountSpec) -> dict[str, Any]:
    """The TOML table that saves `spec` (without any secret)."""
    table = kind_of(spec).to_config(spec)
    if spec.oauth2 is not None:
        fields = {
            "oauth2": spec.oauth2.provider,
            "oauth2_client_id": spec.oauth2.client_id,
            "oauth2_tenant": spec.oauth2.tenant,
            "oauth2_token_command": spec.oauth2.token_command,
        }
        table |= {key: value for key, value in fields.items() if value}
    return table


def with_provider_table(spec: AccountSpec, config: Config | None = None) -> AccountSpec:
    """An OAuth2 account built without the config (not by `load_config` or the commands'
    resolving) with its [oauth2.PROVIDER] table laid in: oauth2.py never reads the file."""
    if spec.oauth2 is None or spec.oauth2.provider_table is not None:
        return spec
    return oauth2.with_tables(spec, (config or load_config()).oauth2)


def save_account(name: str, spec: AccountSpec, path: Path | None = None) -> None:
    """Add or replace one saved account, keeping the rest of the file's data."""
    path = path or paths.config_file()
    paths.ensure_private_dir(path.parent)
    try:
        data = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
    data.setdefault("accounts", {})[name] = account_table(spec)
    paths.write_private(path, tomli_w.dumps(data))
