"""What every subcommand shares: account options, resolving accounts, opening stores, output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailmig_tui import accounts
from mailmig_tui.config import Config, load_config
from mailmig_tui.errors import UsageError
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
        help="allow imap+plain:// to a host that is not loopback",
    )
    group.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="socket connect/read timeout (30)"
    )
    group.add_argument("--json", action="store_true", help="print JSON instead of text")
    group.add_argument("--debug", action="store_true", help="debug log and tracebacks on stderr")


def resolve_account(text: str, args: argparse.Namespace, config: Config) -> AccountSpec:
    """A URL or a saved account name, combined with the command-line options."""
    if "://" in text:
        spec = accounts.parse_account_url(text)
    elif text in config.accounts:
        spec = config.accounts[text]
    else:
        known = ", ".join(sorted(config.accounts)) or "none saved yet"
        raise UsageError(
            f"unknown saved account {text!r}",
            f"use an account URL such as imaps://user@host, or one of: {known}",
        )
    if args.insecure:
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


def open_account(
    text: str, args: argparse.Namespace, *, role: str, readonly: bool
) -> tuple[AccountSpec, MailStore]:
    config = load_config()
    spec = resolve_account(text, args, config)
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
