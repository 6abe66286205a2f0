"""A read-only Maildir folder's numbering and arrival order, kept in mailmig's state dir.

Working out a 100,000-message folder's UIDs and newest-first order means listing both
directories and one stat per file; the answer only changes when a file is added, renamed or
removed (which changes the directories' mtime and ctime) or a UID list changes. So the
answer is written once to `<state dir>/maildir-index/<hash of the folder path>` (owner-only,
it names mail files) under a key of those stats, and a later process opening the folder
unchanged reads it instead: `mailmig ls --limit 5` then costs a file read, not 100,000 stats.
Any doubt (another key, a damaged or unreadable file) means computing afresh.

The file holds whole columns rather than a line per message (one `split` and one `int` map
read 100,000 entries): the magic line, the key, `<uidvalidity> <next uid> <ours 0|1>`, the
UIDs newest first on one line, one letter per message for its sub dir (`c` cur, `n` new),
then the file names one a line (a listed name never holds a newline), then `end`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mailmig_tui.errors import ConfigError
from mailmig_tui.paths import ensure_private_dir, state_dir

log = logging.getLogger(__name__)

_MAGIC = "mailmig-maildir-index 2"
MIN_MESSAGES = 2000
"""Smaller folders are listed faster than an index file is written."""
_SUB_LETTER = {"cur": "c", "new": "n"}
_LETTER_SUB = {"c": "cur", "n": "new"}


@dataclass(frozen=True)
class FolderIndex:
    uidvalidity: int
    next_uid: int
    ours: bool
    uids: list[int]
    """Newest first."""
    subs: list[str]
    """"cur" or "new", by position in `uids`."""
    names: list[str]
    """File names, by position in `uids`."""


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
        text = _path(folder_dir).read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    lines = text.split("\n")
    if len(lines) < 6 or lines[0] != _MAGIC or lines[1] != key or lines[-1] != "end":
        return None  # another folder state, or cut short
    try:
        validity, next_uid, ours = lines[2].split(" ")
        uids = list(map(int, lines[3].split()))
        subs = [_LETTER_SUB[letter] for letter in lines[4]]
    except (ValueError, KeyError):
        return None
    names = lines[5:-1]
    if not len(uids) == len(subs) == len(names):
        return None
    return FolderIndex(int(validity), int(next_uid), ours == "1", uids, subs, names)


def save(folder_dir: str, key: str, index: FolderIndex) -> None:
    """Best effort: a state dir that cannot be written only costs the next run its speed.

    Not synced to disk: a file cut short by a crash fails the `end` check and is rebuilt.
    """
    text = "\n".join(
        [
            _MAGIC,
            key,
            f"{index.uidvalidity} {index.next_uid} {int(index.ours)}",
            " ".join(map(str, index.uids)),
            "".join(map(_SUB_LETTER.__getitem__, index.subs)),
            *index.names,
            "end",
        ]
    )
    path = _path(folder_dir)
    try:
        ensure_private_dir(path.parent)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp makes it owner-only
                handle.write(text.encode("utf-8", "surrogateescape"))
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except (OSError, ConfigError) as exc:
        log.info("could not keep the index of %s: %s", folder_dir, exc)
