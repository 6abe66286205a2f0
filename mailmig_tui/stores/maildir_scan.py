"""The search of a Maildir folder's files, in this process: one pass, reading each file by
directory fd with plain reads (100,000 files make the calls count), and a byte screen
(`maildir_search.Screen`) that rules out most of them before the exact, decoding match.

A worker process of `maildir_split_scan` imports this module: it imports only light ones.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, TypeVar

from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.local_common import matches, read_header
from mailmig_tui.stores.maildir_search import Screen, Verdict, split_head

_HEAD_READ = 16 * 1024
"""Bytes a search reads first for a header: all of the header block of most mail."""
_RAW_SIZE = re.compile(r",S=(\d+)")


class MailFile(Protocol):
    """One message file of a folder's snapshot."""

    @property
    def uid(self) -> int: ...
    @property
    def sub(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def base(self) -> str: ...


class Entry(NamedTuple):
    """A `MailFile` as a worker process rebuilds it."""

    uid: int
    sub: str
    name: str
    base: str


File = TypeVar("File", bound=MailFile)


def internaldate(st: os.stat_result) -> datetime:
    """INTERNALDATE: the file's mtime, in whole seconds like IMAP."""
    return datetime.fromtimestamp(st.st_mtime_ns // 10**9, tz=UTC)


def _slurp(fd: int, hint: int) -> bytes:
    """A file's bytes to its end, about `hint` of them expected: two reads for most mail
    (the second finds the end), where `FileIO.readall` makes four calls and an object."""
    chunks = [os.read(fd, hint + 1)]
    while chunks[-1]:
        chunks.append(os.read(fd, max(hint, 1 << 16)))
    return chunks[0] if len(chunks) == 2 else b"".join(chunks)


def _read_for_search(
    dir_fd: int, mail: MailFile, whole_file: bool, dated: bool
) -> tuple[bytes, int | None, datetime | None]:
    """(bytes read, end of the header in them or None, INTERNALDATE when `dated`): the whole
    file for a text search, else the header."""
    fd = os.open(mail.name, os.O_RDONLY, dir_fd=dir_fd)
    try:
        if whole_file:
            raw_size = _RAW_SIZE.search(mail.base)  # the size on disk, where the name has it
            # Only a hint (a name may lie): never a buffer over 16 MiB at once for it.
            data = _slurp(fd, min(int(raw_size.group(1)), 1 << 24) if raw_size else 1 << 16)
            end = split_head(data)
        else:
            data = os.read(fd, _HEAD_READ)
            end = split_head(data)
            if end is None:  # a huge header
                os.lseek(fd, 0, os.SEEK_SET)
                with open(fd, "rb", closefd=False) as f:
                    data = read_header(f)
        return data, end, internaldate(os.fstat(fd)) if dated else None
    finally:
        os.close(fd)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def scan(
    folder_dir: str,
    mails: Sequence[File],
    query: SearchQuery,
    size: Callable[[File], int] | None = None,
) -> list[int]:
    """The UIDs of `mails` that match `query`, in their order. A file gone since the
    snapshot is skipped. `size` is needed for a LARGER query only."""
    screen = Screen(query)
    dated = query.since is not None or query.before is not None
    hits = []
    dirs: dict[str, int] = {}
    try:
        for mail in mails:
            try:
                if mail.sub not in dirs:
                    dirs[mail.sub] = os.open(os.path.join(folder_dir, mail.sub), os.O_RDONLY)
                data, end, mtime = _read_for_search(dirs[mail.sub], mail, screen.whole_file, dated)
                length = size(mail) if size is not None and query.larger is not None else 0
            except FileNotFoundError:  # expunged or renamed since the snapshot
                continue
            block = data if end is None else data[:end]
            whole = data if screen.whole_file else None
            verdict = screen.verdict(block, whole)
            if verdict is Verdict.NO:
                continue
            rest = screen.rest if verdict is Verdict.TEXT_FOUND else query
            if verdict is Verdict.NOT_IN_BODY:
                load = functools.partial(bytes)  # no body to look into: headers decide
            elif whole is not None:
                load = functools.partial(bytes, whole)
            else:
                load = functools.partial(_read, f"{folder_dir}/{mail.sub}/{mail.name}")
            if matches(rest, block, mtime, length, load):
                hits.append(mail.uid)
    finally:
        for fd in dirs.values():
            os.close(fd)
    return hits
