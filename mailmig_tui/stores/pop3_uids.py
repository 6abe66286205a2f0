"""Stable integer UIDs for POP3's UIDL strings, kept in SQLite in the state directory.

POP3 numbers messages per session and names them by UIDL strings; the journal needs integer
UIDs under a UIDVALIDITY. Each account's UIDLs get integers in server order, never reused.
"""

from __future__ import annotations

import os
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailbox (account TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS uid (account TEXT, uidl TEXT, uid INTEGER, PRIMARY KEY (account, uidl));
"""


def distinct(uidls: Sequence[str]) -> list[str]:
    """UIDLs made unique: a repeated one (a server bug, or equal header digests) gets #2, #3."""
    seen: Counter[str] = Counter()
    result = []
    for uidl in uidls:
        seen[uidl] += 1
        result.append(uidl if seen[uidl] == 1 else f"{uidl}#{seen[uidl]}")
    return result


def assign_uids(
    account: str, uidls: Sequence[str], path: Path | None = None
) -> tuple[int, list[int]]:
    """(UIDVALIDITY, our UID for each UIDL); UIDLs not seen before get new UIDs in order."""
    path = path or paths.state_dir() / "pop3-uids.sqlite3"
    paths.ensure_private_dir(path.parent)
    try:
        if not path.exists():  # owner-only from the first byte: it names accounts
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")  # two runs on one account must not both assign
            row = db.execute("SELECT uidvalidity FROM mailbox WHERE account=?", (account,))
            found = row.fetchone()
            if found is None:
                validity = zlib.crc32(f"{account}\0{time.time_ns()}".encode()) or 1
                db.execute("INSERT INTO mailbox VALUES (?, ?)", (account, validity))
            else:
                validity = int(found[0])
            rows = db.execute("SELECT uidl, uid FROM uid WHERE account=?", (account,))
            known: dict[str, int] = {str(uidl): int(uid) for uidl, uid in rows}
            # Never reuse a number, even one whose message is gone from the server.
            next_uid = max(known.values(), default=0) + 1
            new = []
            for uidl in uidls:
                if uidl not in known:
                    known[uidl] = next_uid
                    new.append((account, uidl, next_uid))
                    next_uid += 1
            db.executemany("INSERT INTO uid VALUES (?, ?, ?)", new)
            db.execute("COMMIT")
        finally:
            db.close()
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(
            f"cannot use the POP3 UID map {path}: {exc}",
            "make the state directory writable, or set MAILMIG_STATE_DIR",
        ) from None
    return validity, [known[uidl] for uidl in uidls]
