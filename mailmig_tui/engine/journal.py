"""The journal: which source message went to which target message, kept in SQLite.

It makes re-runs cheap (a message whose journaled target UID is still there is done without
reading it) and lets flag changes on the source follow to the target. It is not the only
guard against duplicates: content identity on the target covers what the journal missed
(a kill -9 between APPEND and commit, another tool's earlier copies).

A message mailmig appended carries the id of the run that appended it (`run_id`); one found
on the target by content identity carries none. `mailmig undo RUN-ID` removes exactly the
former (engine/undo.py), so it never touches a message mailmig did not put there.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS copied (
    source TEXT NOT NULL,
    source_folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    target TEXT NOT NULL,
    target_folder TEXT NOT NULL,
    target_uidvalidity INTEGER,
    target_uid INTEGER,
    identity TEXT NOT NULL,
    flags TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    run_id TEXT,
    PRIMARY KEY (source, source_folder, uidvalidity, uid, target, target_folder)
);
"""


@dataclass(frozen=True)
class FolderKey:
    """One source folder (at one UIDVALIDITY) going to one target folder."""

    source: str
    source_folder: str
    uidvalidity: int
    target: str
    target_folder: str


@dataclass(frozen=True, slots=True)  # one per message in a plan: keep them small
class JournalEntry:
    uid: int
    target_uidvalidity: int | None
    target_uid: int | None
    identity: str
    flags: tuple[str, ...]
    run_id: str | None = None
    """The run that appended this copy; None for a copy found on the target by content
    (not provably mailmig's). Set by `Journal.record(..., appended=True)`."""


@dataclass(frozen=True)
class AppendedCopy:
    """One message a run appended, where it landed on the target: what undo removes."""

    source: str
    source_folder: str
    uidvalidity: int
    uid: int
    target: str
    target_folder: str
    target_uidvalidity: int | None
    target_uid: int | None


def default_path() -> Path:
    return paths.state_dir() / "journal.sqlite3"


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        # One connection shared by the copy workers; sqlite3 objects are not thread-safe.
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, str], str] = {}
        paths.ensure_private_dir(self.path.parent)
        try:
            if not self.path.exists():
                # Owner-only from the first byte: it names users and folders.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(copied)")}
            if "run_id" not in columns:  # a journal from before undo existed
                self._db.execute("ALTER TABLE copied ADD COLUMN run_id TEXT")
                self._db.commit()
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(
                f"cannot open the journal {self.path}: {exc}",
                "make the state directory writable, or set MAILMIG_STATE_DIR",
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.commit()
            self._db.close()

    def entries(self, key: FolderKey) -> dict[int, JournalEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT uid, target_uidvalidity, target_uid, identity, flags, run_id FROM copied "
                "WHERE source=? AND source_folder=? AND uidvalidity=? AND target=? "
                "AND target_folder=?",
                (key.source, key.source_folder, key.uidvalidity, key.target, key.target_folder),
            ).fetchall()
        return {
            uid: JournalEntry(uid, tv, tu, ident, _split(flags), run_id)
            for uid, tv, tu, ident, flags, run_id in rows
        }

    def start_run(self, source: str, target: str, run_id: str) -> None:
        """Appends recorded between these accounts belong to `run_id` until `end_run`.

        Keyed by the pair, not global: a batch copies many users into one journal at once."""
        with self._lock:
            self._runs[(source, target)] = run_id

    def end_run(self, source: str, target: str) -> None:
        with self._lock:
            self._runs.pop((source, target), None)

    def record(
        self, key: FolderKey, entries: Iterable[JournalEntry], *, appended: bool = False
    ) -> None:
        """Remember copies; committed at once so a crash loses at most the last message.

        `appended`: mailmig itself just appended these, so they carry the pair's running run
        id (undo may remove them); otherwise each entry keeps its own `run_id`."""
        now = time.time()
        with self._lock:
            if appended:
                run_id = self._runs.get((key.source, key.target))
                entries = [replace(e, run_id=run_id) for e in entries]
            self._record(key, entries, now)

    def _record(self, key: FolderKey, entries: Iterable[JournalEntry], now: float) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO copied (source, source_folder, uidvalidity, uid, target, "
            "target_folder, target_uidvalidity, target_uid, identity, flags, recorded_at, "
            "run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    key.source,
                    key.source_folder,
                    key.uidvalidity,
                    e.uid,
                    key.target,
                    key.target_folder,
                    e.target_uidvalidity,
                    e.target_uid,
                    e.identity,
                    " ".join(e.flags),
                    now,
                    e.run_id,
                )
                for e in entries
            ],
        )
        self._db.commit()

    def forget(self, key: FolderKey, uids: Iterable[int]) -> None:
        """Drop these source messages' entries: verify found no copy of them on the target
        (a server that said OK to an APPEND but kept nothing), so the next copy sends them."""
        with self._lock:
            self._db.executemany(
                "DELETE FROM copied WHERE source=? AND source_folder=? AND uidvalidity=? "
                "AND uid=? AND target=? AND target_folder=?",
                [
                    (
                        key.source,
                        key.source_folder,
                        key.uidvalidity,
                        uid,
                        key.target,
                        key.target_folder,
                    )
                    for uid in uids
                ],
            )
            self._db.commit()

    def appended_by(self, run_id: str) -> list[AppendedCopy]:
        """Every message `run_id` appended that the journal still holds."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, source_folder, uidvalidity, uid, target, target_folder, "
                "target_uidvalidity, target_uid FROM copied WHERE run_id=? "
                "ORDER BY target_folder, target_uid",
                (run_id,),
            ).fetchall()
        return [AppendedCopy(*row) for row in rows]

    def appended_into(
        self, source: str, target: str, target_folder: str
    ) -> list[tuple[str, AppendedCopy]]:
        """(run id, copy) of every message a run between these accounts appended into
        `target_folder` that the journal still holds: what target marks may undo."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, source, source_folder, uidvalidity, uid, target, target_folder, "
                "target_uidvalidity, target_uid FROM copied WHERE source=? AND target=? "
                "AND target_folder=? AND run_id IS NOT NULL ORDER BY target_uid",
                (source, target, target_folder),
            ).fetchall()
        return [(row[0], AppendedCopy(*row[1:])) for row in rows]

    def forget_copies(self, copies: Iterable[AppendedCopy]) -> None:
        """Drop these entries (undone: their copies are gone), so a later copy sends them."""
        with self._lock:
            self._db.executemany(
                "DELETE FROM copied WHERE source=? AND source_folder=? AND uidvalidity=? "
                "AND uid=? AND target=? AND target_folder=?",
                [
                    (c.source, c.source_folder, c.uidvalidity, c.uid, c.target, c.target_folder)
                    for c in copies
                ],
            )
            self._db.commit()

    def migrated_sources(self) -> list[tuple[str, str]]:
        """(source account, target account) pairs the journal has copied anything for."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT source, target FROM copied ORDER BY 1, 2")
            return [(s, t) for s, t in rows]


def _split(flags: str) -> tuple[str, ...]:
    return tuple(flags.split()) if flags else ()
