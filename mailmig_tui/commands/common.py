"""What every subcommand shares: account options, resolving accounts, opening stores, output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from mailmig_tui import accounts, oauth2
from mailmig_tui.config import Config, load_config
from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.open import open_store


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Options accepted after every subcommand (`mailmig copy SRC DST --ca-file ca.pem`)."""
    group = parser.add_argument_group("connection")
    group.add_argument("--ca-file", metavar="PEM", help="also trust this CA certificate")
    group.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (warns)"
    )
    group.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="allow imap+plain:// and pop3+plain:// to a host that is not loopback",
    )
    group.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="socket connect/read timeout (30)"
    )
    group.add_argument("--json", action="store_true", help="print JSON instead of text")
    group.add_argument("--debug", action="store_true", help="debug log and tracebacks on stderr")
    roles = set(_account_positionals(parser).values())
    if "source" in roles:
        group.add_argument(
            "--source-command",
            metavar="COMMAND",
            help="reach the source by running COMMAND and speaking IMAP over its stdin/stdout, "
            'e.g. "ssh oldhost /usr/lib/dovecot/imap"; it takes the place of '
            + ("SOURCE" if "target" in roles else "ACCOUNT"),
        )
    if "target" in roles:
        group.add_argument(
            "--target-command",
            metavar="COMMAND",
            help="the same for the target; it takes the place of TARGET",
        )
    for role in [role for role in ("source", "target") if role in roles]:
        group.add_argument(
            f"--{role}-login-as",
            metavar="USER",
            help=f"open USER's mailbox on the {role}, logging in as the account's user (an "
            "admin; SASL PLAIN authorization identity)",
        )
    if roles:
        add_oauth2_options(parser, roles)


def add_oauth2_options(parser: argparse.ArgumentParser, roles: set[str]) -> None:
    """OAuth2 sign-in instead of a password, per side; see `oauth2.py` and the README."""
    group = parser.add_argument_group("OAuth2 sign-in (Microsoft 365, Gmail)")
    account = "the source" if "target" in roles else "ACCOUNT"
    for role in [role for role in ("source", "target") if role in roles]:
        which = account if role == "source" else "the target"
        group.add_argument(
            f"--{role}-oauth2",
            metavar="PROVIDER",
            help=f"sign in to {which} with OAuth2: microsoft, google, or an [oauth2.NAME] "
            "table of config.toml",
        )
    group.add_argument(
        "--oauth2-client-id",
        metavar="ID",
        help="your app registration's client id (else client_id under [oauth2.PROVIDER])",
    )
    group.add_argument(
        "--oauth2-tenant", metavar="TENANT", help='Microsoft tenant id or domain ("organizations")'
    )
    group.add_argument(
        "--oauth2-token-command",
        metavar="COMMAND",
        help="take access tokens from what COMMAND prints (run without a shell, on every "
        "connect) for every account signing in with OAuth2"
        + ("" if "target" in roles else "; it alone turns OAuth2 on"),
    )
    for role in [role for role in ("source", "target") if role in roles]:
        group.add_argument(
            f"--{role}-oauth2-token-command",
            metavar="COMMAND",
            help=f"the same for the {role} only; it alone turns OAuth2 on for it"
            if "target" in roles
            else "the same as --oauth2-token-command here",
        )


ACCOUNT_ARGUMENTS = {"account": "source", "source": "source", "target": "target"}
"""Positional argument (dest) -> the role of the account it names."""


def _account_positionals(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The subcommand's account arguments (dest -> role), made optional.

    A --source-command / --target-command takes an account argument's place, so they are
    optional here; cli.py could declare them with nargs="?" itself.
    """
    found = {}
    for action in parser._actions:
        if not action.option_strings and action.dest in ACCOUNT_ARGUMENTS:
            action.nargs, action.required = "?", False
            found[action.dest] = ACCOUNT_ARGUMENTS[action.dest]
    return found


def account_arguments(args: argparse.Namespace) -> dict[str, str | None]:
    """The account argument for each role ("source", "target") not given by a command.

    Arguments fill the roles in order, so `copy --source-command CMD TARGET` works although
    argparse put TARGET into `args.source`.
    """
    given = [text for dest in ACCOUNT_ARGUMENTS if (text := getattr(args, dest, None)) is not None]
    roles = ("source", "target") if hasattr(args, "target") else ("source",)
    texts: dict[str, str | None] = {}
    for role in roles:
        if getattr(args, f"{role}_command", None) is None:
            texts[role] = given.pop(0) if given else None
    if given:
        raise UsageError(
            f"one account argument too many: {given[0]!r}",
            "--source-command takes the place of the SOURCE (or ACCOUNT) argument, "
            "--target-command that of TARGET",
        )
    return texts


def resolve_role(args: argparse.Namespace, role: str, config: Config) -> AccountSpec:
    """The account acting as `role`: its --ROLE-command, or its argument."""
    text = account_arguments(args).get(role)  # first: refuses an argument too many
    command = getattr(args, f"{role}_command", None)
    if command is not None:
        return _with_options(accounts.command_account(command), args, config, role)
    if text is None:
        if args.command == "ls":  # `ls ACCOUNT` without FOLDER: argparse took it as FOLDER
            raise UsageError("ls needs ACCOUNT and FOLDER", "or --source-command COMMAND FOLDER")
        name = "ACCOUNT" if hasattr(args, "account") else role.upper()
        raise UsageError(f"no {role} account given", f"give {name} or --{role}-command COMMAND")
    return _with_options(_lookup(text, config), args, config, role)


def resolve_account(
    text: str | None, args: argparse.Namespace, config: Config, role: str | None = None
) -> AccountSpec:
    """A URL or a saved account name, combined with the command-line options.

    Knows no roles, so it refuses to guess when a --source-command or --target-command is
    given: use `resolve_role` there. With `role`, that side's --ROLE-oauth2 options apply.
    """
    if any(getattr(args, f"{role}_command", None) for role in ("source", "target")):
        raise UsageError(
            "--source-command / --target-command do not work with this command yet",
            "save the account with a `command` field in config.toml and use its name",
        )
    if text is None:
        raise UsageError("an account argument is missing", "give SOURCE and TARGET")
    return _with_options(_lookup(text, config), args, config, role)


def _lookup(text: str, config: Config) -> AccountSpec:
    if "://" in text:
        return accounts.parse_account_url(text)
    if text in config.accounts:
        return config.accounts[text]
    known = ", ".join(sorted(config.accounts)) or "none saved yet"
    raise UsageError(
        f"unknown saved account {text!r}",
        f"use an account URL such as imaps://user@host, or one of: {known}",
    )


def _with_options(
    spec: AccountSpec, args: argparse.Namespace, config: Config, role: str | None = None
) -> AccountSpec:
    spec = _with_oauth2(spec, args, config, role)
    login_as = getattr(args, f"{role}_login_as", None) if role else None
    if login_as:
        if spec.kind != "imap":
            raise UsageError(f"--{role}-login-as needs an IMAP account")
        spec = replace(spec, login_as=login_as)
    uses_tls = spec.kind in ("imap", "pop3") and spec.security is not Security.PLAIN
    if args.insecure and uses_tls:
        print(
            f"mailmig: warning: TLS certificates of {spec.display} are NOT verified (--insecure)",
            file=sys.stderr,
        )
    return accounts.apply_options(
        spec,
        ca_file=args.ca_file,
        insecure=args.insecure,
        allow_plaintext=args.allow_plaintext,
        timeout=args.timeout if args.timeout is not None else config.timeout,
    )


def _with_oauth2(
    spec: AccountSpec, args: argparse.Namespace, config: Config, role: str | None
) -> AccountSpec:
    """Lay the OAuth2 options over the account acting as `role`.

    --oauth2-token-command serves every account signing in with OAuth2 (by --ROLE-oauth2 or
    its saved `oauth2` field) that has no --ROLE-oauth2-token-command; with one account
    (folders, ls) it alone turns OAuth2 on. Client id and tenant apply to every OAuth2 account.
    """
    option = {name: getattr(args, name, None) for name in _OAUTH2_SHARED}
    provider = getattr(args, f"{role}_oauth2", None) if role else None
    own_command = getattr(args, f"{role}_oauth2_token_command", None) if role else None
    one_account = role == "source" and not hasattr(args, "target")
    shared_command = option["oauth2_token_command"]
    if shared_command and not (one_account or provider or spec.oauth2 is not None):
        shared_command = None
    spec = oauth2.with_options(
        spec,
        provider=provider,
        client_id=option["oauth2_client_id"],
        tenant=option["oauth2_tenant"],
        token_command=own_command or shared_command,
        tables=config.oauth2,
    )
    if one_account and spec.oauth2 is None and any(option.values()):
        given = next(name for name, value in option.items() if value).replace("_", "-")
        raise UsageError(
            f"--{given} needs an account signing in with OAuth2",
            "add --source-oauth2 PROVIDER, or save the account with an oauth2 field",
        )
    return spec


_OAUTH2_SHARED = ("oauth2_client_id", "oauth2_tenant", "oauth2_token_command")


def open_account(
    text: str | None, args: argparse.Namespace, *, role: str, readonly: bool
) -> tuple[AccountSpec, MailStore]:
    """Open the account acting as `role`.

    `text` is the account argument as the caller read it; which argument belongs to which
    role is settled from `args`, where a --ROLE-command may have taken an argument's place.
    """
    spec = resolve_role(args, role, load_config())
    return spec, open_store(spec, role=role, readonly=readonly)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=json_default)
    sys.stdout.write("\n")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def table(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Plain aligned columns, so output stays greppable and pasteable into tickets."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
