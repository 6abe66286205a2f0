"""A Maildir++ tree (Courier/Dovecot layout) as a mail store.

The root directory is INBOX; sub-folders are `.Name` / `.Parent.Child` directories with
modified UTF-7 names. How UIDs, flags (the `:2,` file-name suffix) and keywords are
kept is in `maildir_uidlist`. A writable store on a path that does not exist yet (or on an
empty directory) makes an empty Maildir there, so a migration can go into a new mailbox.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from imapclient import imap_utf7

from mailmig_tui.errors import ConfigError, FolderMissing, ProtocolError, QuotaExceeded
from mailmig_tui.headers import build_summary
from mailmig_tui.model import AccountInfo, AppendResult, FolderInfo, Message, MessageSummary
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery
from mailmig_tui.stores.local_common import (
    crlf_size,
    make_probe,
    matches,
    read_header,
    stat_key,
    to_crlf,
)
from mailmig_tui.stores.maildir_uidlist import (
    DOVECOT_UIDLIST,
    KEYWORDS,
    UIDLIST,
    UidLists,
    flags_from_info,
    info_for,
    load_keywords,
    read_text,
    write_atomic,
)

_SUBDIRS = ("cur", "new", "tmp")
_VSIZE = re.compile(r",W=(\d+)")


def _is_maildir(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new"))


def _check_root(root: str, path: str, readonly: bool) -> None:
    """Raise unless `root` is a Maildir; a writable store makes one where there is none yet.

    "None yet" is a missing path or a directory holding at most some of cur/new/tmp (as a
    crash half-way through leaves it); its parent must exist, so a typo makes no new tree.
    """
    if _is_maildir(root):
        return
    try:
        blank = not os.path.lexists(root) or (
            os.path.isdir(root)
            and all(
                n in _SUBDIRS and os.path.isdir(os.path.join(root, n)) for n in os.listdir(root)
            )
        )
        if readonly or not blank:
            raise ConfigError(
                f"not a Maildir: {path}", "give the directory holding cur/, new/ and tmp/"
            )
        for target in (root, *(os.path.join(root, sub) for sub in _SUBDIRS)):
            with contextlib.suppress(FileExistsError):  # another store is making it too
                os.mkdir(target, 0o700)
                os.chmod(target, 0o700)  # owner-only like Dovecot's, whatever the umask
    except OSError as exc:
        raise ConfigError(
            f"cannot use the Maildir {path}: {exc.strerror}",
            "a new Maildir needs an existing, writable parent directory",
        ) from None


def _mtime(st: os.stat_result) -> datetime:
    """INTERNALDATE: the file's mtime, in whole seconds like IMAP."""
    return datetime.fromtimestamp(st.st_mtime_ns // 10**9, tz=UTC)


class _Head(NamedTuple):
    """One message's header-level data, in `build_summary` argument order."""

    uid: int
    internaldate: datetime
    flags: tuple[str, ...]
    size: int
    block: bytes
    path: str


@dataclass(frozen=True)
class _Mail:
    uid: int
    sub: str
    """"cur" or "new"."""
    name: str

    @property
    def base(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def info(self) -> str:
        suffix = self.name.partition(":")[2]
        return suffix[2:] if suffix.startswith("2,") else ""


@dataclass(frozen=True)
class _Snapshot:
    key: tuple[object, ...]
    uidvalidity: int
    uidnext: int
    mails: dict[int, _Mail]
    keywords: list[str]


def _list_files(folder_dir: str) -> dict[str, tuple[str, str]]:
    """base name -> (sub dir, file name); cur/ wins over new/ for a duplicate base."""
    found: dict[str, tuple[str, str]] = {}
    for sub in ("new", "cur"):
        with os.scandir(os.path.join(folder_dir, sub)) as entries:
            for entry in entries:
                if not entry.name.startswith(".") and "\n" not in entry.name and entry.is_file():
                    found[entry.name.split(":", 1)[0]] = (sub, entry.name)
    return found


class MaildirStore(MailStore):
    """A Maildir++ directory; `readonly=True` guarantees that no file is created or changed."""

    def __init__(self, path: str, readonly: bool) -> None:
        self.path = path
        self.root = os.path.abspath(path)
        self.readonly = readonly
        _check_root(self.root, path, readonly)
        self._cache: dict[str, _Snapshot] = {}
        self._uids = UidLists(readonly)
        self._sizes: dict[tuple[str, str], int] = {}  # Maildir files never change content
        self._seq = 0

    def close(self) -> None:
        self._cache.clear()
        self._uids.clear()
        self._sizes.clear()

    def info(self) -> AccountInfo:
        return AccountInfo(delimiter=".", prefix="")

    # Folders

    def _folders(self) -> dict[str, str]:
        """Name -> directory of every selectable folder."""
        folders = {"INBOX": self.root}
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name in (".", "..") or not entry.name.startswith("."):
                    continue
                if entry.is_dir() and _is_maildir(entry.path):
                    try:
                        name = imap_utf7.decode(entry.name[1:].encode("ascii"))
                    except (UnicodeError, ValueError):
                        name = entry.name[1:]  # not valid mUTF-7: show it as it is
                    if name.upper() != "INBOX":
                        folders[name] = entry.path
        return folders

    def _dir(self, folder: str) -> str:
        if folder.upper() == "INBOX":
            return self.root
        found = self._folders().get(folder)
        if found is None:
            raise FolderMissing(f"no such folder: {folder}")
        return found

    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        names = set(self._folders())
        # Maildir++ lets `.A.B` exist without `.A`; show such parents as non-selectable.
        parents = {n.rsplit(".", i)[0] for n in names for i in range(1, n.count(".") + 1)}
        result = [
            self.folder_status(name) if with_status else FolderInfo(name, ".") for name in names
        ]
        result += [FolderInfo(p, ".", selectable=False) for p in parents - names if p]
        return sorted(result, key=lambda f: f.name)

    def folder_status(self, folder: str) -> FolderInfo:
        folder_dir = self._dir(folder)
        snap = self._snapshot(folder_dir)
        flags = [self._flags(snap, mail) for mail in snap.mails.values()]
        return FolderInfo(
            name="INBOX" if folder_dir == self.root else folder,
            delimiter=".",
            messages=len(snap.mails),
            unseen=sum("\\Seen" not in f for f in flags),
            size=sum(self._size(folder_dir, mail) for mail in snap.mails.values()),
            uidvalidity=snap.uidvalidity,
            uidnext=snap.uidnext,
        )

    # Snapshots: the UID <-> file mapping of one folder, cached until a directory changes.

    def _snapshot(self, folder_dir: str) -> _Snapshot:
        names = ("cur", "new", UIDLIST, DOVECOT_UIDLIST, KEYWORDS)
        key = tuple(stat_key(os.path.join(folder_dir, n)) for n in names)
        cached = self._cache.get(folder_dir)
        if cached is not None and cached.key == key:
            return cached
        with self._uids.lock(folder_dir):
            files = _list_files(folder_dir)
            paths = {base: os.path.join(folder_dir, *where) for base, where in files.items()}
            umap = self._uids.sync(folder_dir, paths)
        # Every base left in the map is a listed file (a file that vanished has no UID).
        mails = {uid: _Mail(uid, *files[base]) for base, uid in umap.uids.items()}
        snap = _Snapshot(
            key,
            umap.uidvalidity,
            umap.next_uid,
            dict(sorted(mails.items())),
            load_keywords(folder_dir),
        )
        self._cache[folder_dir] = snap
        return snap

    def _flags(self, snap: _Snapshot, mail: _Mail) -> tuple[str, ...]:
        flags = flags_from_info(mail.info, snap.keywords)
        if mail.sub == "new":  # not yet seen by any client
            return tuple(f for f in flags if f != "\\Seen")
        return flags

    def _size(self, folder_dir: str, mail: _Mail) -> int:
        vsize = _VSIZE.search(mail.base)  # Dovecot records the CRLF size as ",W=<n>"
        if vsize:
            return int(vsize.group(1))
        key = (folder_dir, mail.base)
        if key not in self._sizes:
            with open(os.path.join(folder_dir, mail.sub, mail.name), "rb") as f:
                self._sizes[key] = crlf_size(f.read())
        return self._sizes[key]

    # Reading

    def _each(
        self, folder: str, uids: Sequence[int]
    ) -> Iterator[tuple[_Snapshot, str, _Mail, str]]:
        folder_dir = self._dir(folder)
        snap = self._snapshot(folder_dir)
        for uid in uids:
            mail = snap.mails.get(uid)
            if mail is not None:
                yield snap, folder_dir, mail, os.path.join(folder_dir, mail.sub, mail.name)

    def _heads(self, folder: str, uids: Sequence[int]) -> Iterator[_Head]:
        for snap, folder_dir, mail, path in self._each(folder, uids):
            try:
                with open(path, "rb") as f:
                    block = read_header(f)
                    mtime = _mtime(os.fstat(f.fileno()))
                size = self._size(folder_dir, mail)
            except FileNotFoundError:  # expunged or renamed since the snapshot
                self._cache.pop(folder_dir, None)
                continue
            yield _Head(mail.uid, mtime, self._flags(snap, mail), size, block, path)

    def uids(self, folder: str) -> list[int]:
        return list(self._snapshot(self._dir(folder)).mails)

    def summaries(self, folder: str, uids: Sequence[int]) -> list[MessageSummary]:
        return [build_summary(*head[:5]) for head in self._heads(folder, uids)]

    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        return [make_probe(*head[:5]) for head in self._heads(folder, sorted(set(uids)))]

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        for snap, _, mail, path in self._each(folder, sorted(set(uids))):
            try:
                with open(path, "rb") as f:
                    data, mtime = f.read(), _mtime(os.fstat(f.fileno()))
            except FileNotFoundError:
                continue
            yield Message(mail.uid, to_crlf(data), self._flags(snap, mail), mtime)

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        return [
            h.uid
            for h in self._heads(folder, self.uids(folder))
            if matches(query, h.block, h.internaldate, h.size, Path(h.path).read_bytes)
        ]

    # Writing

    def _writable(self) -> None:
        if self.readonly:
            raise ProtocolError(
                f"the Maildir {self.path} is opened read-only", "use it as the source only"
            )

    def create_folder(self, folder: str) -> None:
        self._writable()
        if folder.upper() == "INBOX":
            return
        parts = folder.split(".")
        if any(not p or "/" in p or "\0" in p for p in parts):
            raise ProtocolError(
                f"invalid Maildir folder name: {folder}", "names cannot hold '/' or empty levels"
            )
        encoded = imap_utf7.encode(folder).decode("ascii")
        if folder not in self._folders():
            folder_dir = os.path.join(self.root, "." + encoded)
            for sub in _SUBDIRS:
                os.makedirs(os.path.join(folder_dir, sub), 0o700, exist_ok=True)
            open(os.path.join(folder_dir, "maildirfolder"), "ab").close()  # Maildir++ marker
        self._subscribe(folder, encoded)

    def _subscribe(self, folder: str, encoded: str) -> None:
        path = os.path.join(self.root, "subscriptions")
        with self._uids.lock(self.root):
            text = read_text(path) or ""
            # Dovecot >= 2.2 writes a "V\t2" header and tab-separated UTF-8 levels.
            entry = folder.replace(".", "\t") if text.startswith("V\t2") else encoded
            if entry not in text.splitlines():
                sep = "" if not text or text.endswith("\n") else "\n"
                write_atomic(path, f"{text}{sep}{entry}\n")

    def _new_name(self, data: bytes) -> str:
        self._seq += 1
        now = time.time()
        host = socket.gethostname().translate({47: "\\057", 58: "\\072", 44: "\\054"})
        unique = f"M{int(now % 1 * 1e6)}P{os.getpid()}Q{self._seq}R{secrets.token_hex(4)}"
        return f"{int(now)}.{unique}.{host},S={len(data)},W={crlf_size(data)}"

    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        self._writable()
        folder_dir = self._dir(folder)
        if not self._uids.get(folder_dir).ours:
            self._snapshot(folder_dir)  # numbers the existing files, writes mailmig-uidlist
        # Copied or restored Maildirs often lack the empty tmp/ (git and some tools drop it).
        os.makedirs(os.path.join(folder_dir, "tmp"), 0o700, exist_ok=True)
        results = []
        for msg in messages:
            base = self._new_name(msg.data)
            tmp = os.path.join(folder_dir, "tmp", base)
            try:
                with open(tmp, "xb") as f:
                    f.write(msg.data)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise QuotaExceeded(
                        f"no room for a message in {folder}: {exc.strerror}"
                    ) from exc
                raise
            stamp = (msg.internaldate or datetime.now(UTC)).timestamp()
            os.utime(tmp, (stamp, stamp))
            with self._uids.lock(folder_dir):
                uid, uidvalidity = self._uids.add(folder_dir, base)
                info = info_for(folder_dir, msg.flags)
                os.rename(tmp, os.path.join(folder_dir, "cur", f"{base}:2,{info}"))
            results.append(AppendResult(uid, uidvalidity))
        self._cache.pop(folder_dir, None)
        return results

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        self._writable()
        folder_dir = self._dir(folder)
        mail = self._snapshot(folder_dir).mails.get(uid)
        if mail is None:
            raise ProtocolError(f"no message with UID {uid} in {folder}")
        with self._uids.lock(folder_dir):
            info = info_for(folder_dir, flags)
            # A message that gets flags leaves new/, as every Maildir client does it.
            os.rename(
                os.path.join(folder_dir, mail.sub, mail.name),
                os.path.join(folder_dir, "cur", f"{mail.base}:2,{info}"),
            )
        self._cache.pop(folder_dir, None)
