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

from mailmig_tui import paths
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


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config."""
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the config file {path} is not valid TOML: {exc}", "fix or remove that line"
        ) from None
    settings = data.get("settings", {})
    timeout = settings.get("timeout", 30.0)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{path}: settings.timeout must be a positive number of seconds")
    accounts = {
        name: _account(path, name, table) for name, table in _table(path, data, "accounts").items()
    }
    keymap = {str(k): str(v) for k, v in _table(path, data, "keymap").items()}
    return Config(accounts=accounts, timeout=float(timeout), keymap=keymap, path=path)


def _table(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _account(path: Path, name: str, table: Any) -> AccountSpec:
    where = f"{path}: [accounts.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    for key in table:
        if key.lower() in SECRET_KEYS:
            raise ConfigError(
                f"{where} has a {key!r} field; passwords never go in the config file",
                "remove it and use the keyring or MAILMIG_SOURCE_PASSWORD",
            )
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
        port = int(table.get("port") or default_port(protocol, security))
    except KeyError as exc:
        raise ConfigError(f"{where} lacks {exc.args[0]!r}", "give host and user") from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}", "security is tls, starttls or plain") from None
    ca_file = table.get("ca_file")
    return AccountSpec(
        kind=protocol,
        user=user,
        host=host,
        port=port,
        security=security,
        tls=TlsOptions(ca_file=str(ca_file) if ca_file else None),
        name=name,
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
    if spec.kind != "imap":
        table["protocol"] = spec.kind
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
