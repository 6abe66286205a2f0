"""A read-only Maildir folder's numbering and arrival order, kept in mailmig's state dir.

Working out a 100,000-message folder's UIDs and newest-first order means listing both
directories and one stat per file; the answer only changes when a file is added, renamed or
removed (which changes the directories' mtime and ctime) or a UID list changes. So the
answer is written once to `<state dir>/maildir-index/<hash of the folder path>` (owner-only,
it names mail files) under a key of those stats, and a later process opening the folder
unchanged reads it instead: `mailmig ls --limit 5` then costs a file read, not 100,000 stats.
Any doubt (another key, a damaged or unreadable file) means computing afresh.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mailmig_tui.paths import state_dir, write_private

log = logging.getLogger(__name__)

_MAGIC = "mailmig-maildir-index 1"
MIN_MESSAGES = 2000
"""Smaller folders are listed faster than an index file is written."""


@dataclass(frozen=True)
class FolderIndex:
    uidvalidity: int
    next_uid: int
    ours: bool
    newest: list[tuple[int, str, str]]
    """(uid, sub dir, file name), newest first."""


def index_key(folder_dir: str, snapshot_key: tuple[object, ...]) -> str:
    """The snapshot's key plus what a restored mtime cannot fake: inode and ctime."""
    extra: list[tuple[int, int, int] | None] = []
    for sub in ("cur", "new"):
        try:
            st = os.stat(os.path.join(folder_dir, sub))
        except OSError:
            extra.append(None)
            continue
        extra.append((st.st_dev, st.st_ino, st.st_ctime_ns))
    return repr((os.path.abspath(folder_dir), snapshot_key, tuple(extra)))


def _path(folder_dir: str) -> Path:
    digest = hashlib.sha256(os.path.abspath(folder_dir).encode("utf-8", "surrogateescape"))
    return state_dir() / "maildir-index" / digest.hexdigest()[:40]


def load(folder_dir: str, key: str) -> FolderIndex | None:
    try:
        text = _path(folder_dir).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != _MAGIC or lines[1] != key or lines[-1] != "end":
        return None  # another folder state, or cut short
    try:
        validity, next_uid, ours = lines[2].split(" ")
        newest = []
        for line in lines[3:-1]:
            uid, sub, name = line.split("\t", 2)
            newest.append((int(uid), sub, name))
        return FolderIndex(int(validity), int(next_uid), ours == "1", newest)
    except ValueError:
        return None


def save(folder_dir: str, key: str, index: FolderIndex) -> None:
    """Best effort: a state dir that cannot be written only costs the next run its speed."""
    body = "".join(f"{uid}\t{sub}\t{name}\n" for uid, sub, name in index.newest)
    head = f"{_MAGIC}\n{key}\n{index.uidvalidity} {index.next_uid} {int(index.ours)}\n"
    try:
        write_private(_path(folder_dir), head + body + "end")
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name that is not UTF-8
        log.info("could not keep the index of %s: %s", folder_dir, exc)
