"""What every subcommand shares: account options, resolving accounts, opening stores, output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailmig_tui.account_args import account_positionals, resolve_role
from mailmig_tui.config import load_config
from mailmig_tui.model import AccountSpec
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
    roles = set(account_positionals(parser).values())
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
    add_password_command_options(group, roles)
    if roles:
        add_oauth2_options(parser, roles)


def add_password_command_options(group: argparse._ActionsContainer, roles: set[str]) -> None:
    """--source-password-command / --target-password-command: the first password source
    (see secrets.py); `batch` takes both, as the default of rows that name none."""
    for role in [role for role in ("source", "target") if role in roles]:
        which = f"the {role}'s" if "target" in roles else "ACCOUNT's"
        group.add_argument(
            f"--{role}-password-command",
            metavar="COMMAND",
            help=f"take {which} password from the first line COMMAND prints, e.g. "
            "\"pass show mail/alice\" (run without a shell; for pipes write sh -c '…')",
        )


def add_oauth2_options(parser: argparse.ArgumentParser, roles: set[str]) -> None:
    """OAuth2 sign-in instead of a password, per side; see `oauth2.py` and the README."""
    group = parser.add_argument_group("OAuth2 sign-in (Microsoft 365, Gmail)")
    account = "the source" if "target" in roles else "ACCOUNT"
    for role in [role for role in ("source", "target") if role in roles]:
        which = account if role == "source" else "the target"
        group.add_argument(
            f"--{role}-oauth2",
            metavar="PROVIDER",
            help=f"sign in to {which} with OAuth2: microsoft, microsoft-app, google, "
            "google-service-account, or an [oauth2.NAME] table of config.toml",
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
    group.add_argument(
        "--oauth2-client-secret-command",
        metavar="COMMAND",
        help="microsoft-app, google: the app's client secret is the first line COMMAND prints "
        "(run without a shell; else MAILMIG_OAUTH2_CLIENT_SECRET or the keyring)",
    )
    group.add_argument(
        "--oauth2-key-file",
        metavar="FILE",
        help="microsoft-app: a PEM with the app's certificate and key (instead of a secret); "
        "google-service-account: the service account's JSON key",
    )
    for role in [role for role in ("source", "target") if role in roles]:
        group.add_argument(
            f"--{role}-oauth2-token-command",
            metavar="COMMAND",
            help=f"the same for the {role} only; it alone turns OAuth2 on for it"
            if "target" in roles
            else "the same as --oauth2-token-command here",
        )


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
