"""The pairs of accounts connected lately, newest first, for the chooser to offer first.

Kept in the state directory (`recent-pairs.json`, owner-only, written with
`paths.write_private`). A pair holds what names each side: a saved account's name, else its
URL. Never a password: an account URL has none, and nothing else is written. Reading never
fails: a missing or damaged file is no recent pair.

No Textual here.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.accounts import apply_options, parse_account_url, to_url
from mailmig_tui.errors import MailmigError
from mailmig_tui.model import AccountSpec

KEEP = 5
"""Pairs remembered; the chooser offers them all."""


@dataclass(frozen=True)
class RecentPair:
    source: str
    """A saved account's name, or an account URL (it holds "://"; a name never does)."""
    target: str


def recent_file() -> Path:
    return paths.state_dir() / "recent-pairs.json"


def reference(spec: AccountSpec) -> str | None:
    """How a pair names `spec`: its saved name, else a URL that reads back as the same
    account; None when it has neither (a command account typed in, say)."""
    if spec.name:
        return spec.name
    try:
        url = to_url(spec)
        same = parse_account_url(url).identity == spec.identity
    except (MailmigError, ValueError):
        return None
    return url if same else None


def load_recent() -> list[RecentPair]:
    try:
        data = json.loads(recent_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    pairs = []
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict):
            source, target = entry.get("source"), entry.get("target")
            if isinstance(source, str) and isinstance(target, str):
                pairs.append(RecentPair(source, target))
    return pairs[:KEEP]


def remember_pair(source: AccountSpec, target: AccountSpec) -> None:
    """Put this pair first (never fails: a pair not remembered is no reason to stop)."""
    first, second = reference(source), reference(target)
    if first is None or second is None:
        return
    pair = RecentPair(first, second)
    pairs = [pair] + [p for p in load_recent() if p != pair]
    text = json.dumps([{"source": p.source, "target": p.target} for p in pairs[:KEEP]])
    with contextlib.suppress(OSError):
        paths.write_private(recent_file(), text + "\n")


def resolve(
    reference: str, accounts: Mapping[str, AccountSpec], timeout: float
) -> AccountSpec | None:
    """The account a pair names now; None when it is gone (a saved account deleted since)."""
    if "://" not in reference:
        return accounts.get(reference)
    try:
        return apply_options(parse_account_url(reference), timeout=timeout)
    except MailmigError:
        return None
