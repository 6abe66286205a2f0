"""mbox files (one file, or a directory tree of them) as a read-only mail store.

One pass over each file records the byte range of every message (found through `mmap`, so a
2 GB mbox is never held in memory); fetching reads just those ranges. UIDs are positions
(1..N in file order) and UIDVALIDITY is a CRC of the path, size and mtime, so any change to
the file gives the folder a new UIDVALIDITY. Nothing is ever written or locked: the file is
a source only, and dot-locking would mean creating a file next to it.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, TypeVar

from imapclient import imap_utf7

from mailmig_tui.errors import ConfigError, FolderMissing, ProtocolError
from mailmig_tui.headers import build_summary, parse_date, split_header_block
from mailmig_tui.model import AccountInfo, AppendResult, FolderInfo, Message, MessageSummary
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery
from mailmig_tui.stores.local_common import (
    crlf_size,
    header_end,
    make_probe,
    matches,
    read_header,
    stat_key,
    to_crlf,
)

_MONTHS = b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# The asctime date of a From_ line; a numeric zone after the year is honoured, else UTC.
_FROM_DATE = re.compile(
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+(" + b"|".join(_MONTHS) + rb")\s+(\d{1,2})\s+"
    rb"(\d{1,2}):(\d\d)(?::(\d\d))?\s+(?:[A-Z]{3,5}\s+)?(\d{4})(?:\s+([+-])(\d\d)(\d\d))?"
)
# Searched as "\n>" (a literal prefix re can skip to) plus a check of the first line: a
# MULTILINE "^" pattern is twenty times slower on large messages.
_ESCAPED = re.compile(rb"\n>(>*From )")
_ESCAPED_FIRST = re.compile(rb">(>*From )")
_INBOX_FILES = ("inbox", "mbox")  # at the top of a directory, compared case-insensitively
_SKIP_SUFFIXES = (".msf", ".lock", ".lck")  # Thunderbird indexes, (empty) lock files
_Row = TypeVar("_Row", MessageSummary, HeaderProbe)


@dataclass(frozen=True)
class _Entry:
    start: int
    """First byte after the From_ line."""
    end: int
    """End of the message; the blank line before the next From_ line is not part of it."""
    internaldate: datetime | None
    flags: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class _Index:
    key: tuple[int, int] | None
    uidvalidity: int
    entries: list[_Entry]


def unescape(data: bytes) -> bytes:
    """Undo mboxrd/mboxo quoting: one '>' comes off every line matching ^>+From ."""
    if b">From " not in data:
        return data
    data = data[1:] if _ESCAPED_FIRST.match(data) else data
    return _ESCAPED.sub(rb"\n\1", data)


def _escaped_lines(data: bytes) -> int:
    """How many bytes `unescape` removes."""
    if b">From " not in data:
        return 0
    return (1 if _ESCAPED_FIRST.match(data) else 0) + len(_ESCAPED.findall(data))


def from_line_date(line: bytes) -> datetime | None:
    """The date of a From_ line ("From a@b Tue Mar  5 10:11:12 2024"), or None."""
    found = _FROM_DATE.search(line)
    if found is None:
        return None
    month, day, hour, minute, second, year, sign, zh, zm = found.groups()
    try:
        value = datetime(
            int(year), _MONTHS.index(month) + 1, int(day),
            int(hour), int(minute), int(second or 0), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None
    if sign:
        offset = timedelta(hours=int(zh), minutes=int(zm))
        value = value - offset if sign == b"+" else value + offset
    return value


def mbox_flags(block: bytes) -> tuple[str, ...]:
    """Flags from Status/X-Status (and Thunderbird's X-Mozilla-Status), keywords too."""
    values = split_header_block(block)
    status = values.get("status", b"")
    xstatus = values.get("x-status", b"")
    try:
        mozilla = int(values.get("x-mozilla-status", b"0"), 16)
    except ValueError:
        mozilla = 0
    flags = []
    for flag, value, letter, bit in (
        ("\\Seen", status, b"R", 0x1),  # "O" (old) only means "not recent"
        ("\\Answered", xstatus, b"A", 0x2),
        ("\\Flagged", xstatus, b"F", 0x4),
        ("\\Draft", xstatus, b"T", 0),
        ("\\Deleted", xstatus, b"D", 0x8),
    ):
        if letter in value or mozilla & bit:
            flags.append(flag)
    for name in ("x-keywords", "x-mozilla-keys"):
        words = values.get(name, b"").replace(b",", b" ").decode("utf-8", "replace").split()
        flags += [w for w in words if w not in flags]
    return tuple(flags)


def _is_mbox(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(5)
    except OSError:
        return False
    return head in (b"", b"From ")


def _level(part: str, is_dir: bool) -> str:
    """A folder name level from a file or directory name on disk."""
    if is_dir and part.endswith(".sbd"):  # Thunderbird keeps "X"'s sub-folders in X.sbd/
        part = part[:-4]
    raw = part.encode("utf-8", "surrogateescape")
    try:
        part = raw.decode("utf-8")
    except UnicodeDecodeError:  # names from old systems that are not UTF-8 are Latin-1
        part = raw.decode("latin-1")
    if "&" in part:  # Dovecot and UW-IMAP store names in modified UTF-7
        try:
            return str(imap_utf7.decode(part.encode("ascii")))
        except (UnicodeError, ValueError):
            pass
    return part


def _discover(root: str) -> dict[str, str]:
    """Folder name -> mbox file for every mbox file under `root`."""
    folders: dict[str, str] = {}
    inbox: tuple[int, str] | None = None
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        levels = [] if rel == "." else [_level(p, True) for p in rel.split(os.sep)]
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            if filename.startswith(".") or filename.endswith(_SKIP_SUFFIXES):
                continue
            if not os.path.isfile(path) or not _is_mbox(path):
                continue
            name = "/".join([*levels, _level(filename, False)])
            folders[name] = path
            rank = _INBOX_FILES.index(name.lower()) if name.lower() in _INBOX_FILES else None
            if rank is not None and (inbox is None or rank < inbox[0]):
                inbox = (rank, name)
    if inbox is not None:
        # The INBOX file's sub-folders (Thunderbird's Inbox.sbd/) move under INBOX with it.
        old = inbox[1]
        folders = {
            ("INBOX" + n[len(old) :] if n == old or n.startswith(old + "/") else n): p
            for n, p in folders.items()
        }
    return folders


def _scan(path: str) -> _Index:
    """Index one mbox file: message ranges, flags, dates and CRLF sizes."""
    entries: list[_Entry] = []
    key = stat_key(path)
    uidvalidity = zlib.crc32(f"{os.path.abspath(path)}\0{key}".encode("utf-8", "surrogateescape"))
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:  # mmap cannot map an empty file
            return _Index(key, uidvalidity or 1, entries)
        starts = []
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            at = 0 if buf[:5] == b"From " else _next_from(buf, 0)
            while at != -1:
                eol = buf.find(b"\n", at)
                body = size if eol == -1 else eol + 1
                # A From_ line must carry a date; bare "From " text in a body does not split.
                if at == 0 or _FROM_DATE.search(buf[at:body]):
                    starts.append((at, body, buf[at:body]))
                at = -1 if eol == -1 else _next_from(buf, eol)
            for i, (_, body, line) in enumerate(starts):
                end = starts[i + 1][0] if i + 1 < len(starts) else size
                if buf[max(body, end - 4) : end].endswith(b"\r\n\r\n"):
                    end -= 2
                elif buf[max(body, end - 2) : end] == b"\n\n":
                    end -= 1
                block = unescape(buf[body : header_end(buf, body, end)])
                if i == 0 and "x-imap" in split_header_block(block):
                    continue  # UW-IMAP's "DON'T DELETE THIS MESSAGE" folder-data pseudo message
                data = buf[body:end]
                when = from_line_date(line) or parse_date(
                    split_header_block(block).get("date", b"")
                )
                if when is not None and when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                length = crlf_size(data) - _escaped_lines(data)
                entries.append(_Entry(body, end, when, mbox_flags(block), length))
    return _Index(key, uidvalidity or 1, entries)


def _next_from(buf: mmap.mmap, pos: int) -> int:
    """Start of the next line beginning with "From " after `pos`, or -1."""
    found = buf.find(b"\nFrom ", pos)
    return -1 if found == -1 else found + 1


class MboxStore(MailStore):
    """An mbox file (the INBOX) or a directory of mbox files; always read-only."""

    def __init__(self, path: str, readonly: bool = True) -> None:
        self.path = path
        self.readonly = True  # there is no writable mode, whatever was asked
        root = os.path.abspath(path)
        if os.path.isfile(root):
            if not _is_mbox(root):
                raise ConfigError(f"not an mbox file: {path}", "it must start with a From line")
            self._folders = {"INBOX": root}
        elif os.path.isdir(root):
            self._folders = _discover(root)
        else:
            raise ConfigError(f"no mbox file or directory at {path}", "check the path")
        self._indexes: dict[str, _Index] = {}

    def close(self) -> None:
        self._indexes.clear()

    def info(self) -> AccountInfo:
        return AccountInfo(delimiter="/", prefix="")

    def _path(self, folder: str) -> str:
        path = self._folders.get("INBOX" if folder.upper() == "INBOX" else folder)
        if path is None or not os.path.isfile(path):
            raise FolderMissing(f"no such folder: {folder}")
        return path

    def _index(self, folder: str) -> _Index:
        path = self._path(folder)
        index = self._indexes.get(path)
        if index is None or index.key != stat_key(path):
            index = self._indexes[path] = _scan(path)
        return index

    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        names = set(self._folders)
        parents = {n.rsplit("/", i)[0] for n in names for i in range(1, n.count("/") + 1)}
        result = [self.folder_status(n) if with_status else FolderInfo(n, "/") for n in names]
        result += [FolderInfo(p, "/", selectable=False) for p in parents - names if p]
        return sorted(result, key=lambda f: f.name)

    def folder_status(self, folder: str) -> FolderInfo:
        index = self._index(folder)
        return FolderInfo(
            name="INBOX" if folder.upper() == "INBOX" else folder,
            delimiter="/",
            messages=len(index.entries),
            unseen=sum("\\Seen" not in e.flags for e in index.entries),
            size=sum(e.size for e in index.entries),
            uidvalidity=index.uidvalidity,
            uidnext=len(index.entries) + 1,
        )

    def uids(self, folder: str) -> list[int]:
        return list(range(1, len(self._index(folder).entries) + 1))

    def _each(self, folder: str, uids: Sequence[int]) -> Iterator[tuple[int, _Entry, BinaryIO]]:
        """(uid, entry, open file) for the UIDs that exist, in the order given."""
        index = self._index(folder)
        with open(self._path(folder), "rb") as f:
            for uid in uids:
                if 1 <= uid <= len(index.entries):
                    yield uid, index.entries[uid - 1], f

    @staticmethod
    def _read(f: BinaryIO, entry: _Entry) -> bytes:
        f.seek(entry.start)
        return unescape(f.read(entry.end - entry.start))

    def _rows(self, folder: str, uids: Sequence[int], make: Callable[..., _Row]) -> list[_Row]:
        rows = []
        for uid, entry, f in self._each(folder, uids):
            f.seek(entry.start)
            block = unescape(read_header(f, entry.end - entry.start))
            rows.append(make(uid, entry.internaldate, entry.flags, entry.size, block))
        return rows

    def summaries(self, folder: str, uids: Sequence[int]) -> list[MessageSummary]:
        return self._rows(folder, uids, build_summary)

    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        return self._rows(folder, sorted(set(uids)), make_probe)

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        for uid, entry, f in self._each(folder, sorted(set(uids))):
            data = to_crlf(self._read(f, entry))
            yield Message(uid, data, entry.flags, entry.internaldate)

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        found = []
        for uid, entry, f in self._each(folder, self.uids(folder)):
            f.seek(entry.start)
            block = unescape(read_header(f, entry.end - entry.start))
            load = functools.partial(self._read, f, entry)
            if matches(query, block, entry.internaldate, entry.size, load):
                found.append(uid)
        return found

    # mbox is a source format only.

    def _refuse(self) -> ProtocolError:
        return ProtocolError(
            "mbox accounts can only be a source", "choose a Maildir or IMAP target"
        )

    def create_folder(self, folder: str) -> None:
        raise self._refuse()

    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        raise self._refuse()

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        raise self._refuse()
