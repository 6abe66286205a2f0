"""A Maildir++ tree (Courier/Dovecot layout) as a mail store.

The root directory is INBOX; sub-folders are `.Name` / `.Parent.Child` directories with
modified UTF-7 names. How UIDs, flags (the `:2,` file-name suffix) and keywords are
kept is in `maildir_uidlist`. A writable store on a path that does not exist yet (or on an
empty directory) makes an empty Maildir there, so a migration can go into a new mailbox.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import itertools
import operator
import os
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from mailmig_tui.errors import ConfigError, FolderMissing, ProtocolError, QuotaExceeded
from mailmig_tui.headers import build_summary
from mailmig_tui.model import AccountInfo, AppendResult, FolderInfo, Message, MessageSummary
from mailmig_tui.stores import maildir_index
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery
from mailmig_tui.stores.local_common import (
    crlf_size,
    header_end,
    make_probe,
    read_header,
    stat_key,
    to_crlf,
)
from mailmig_tui.stores.maildir_courier import directory_key, load_courier_keywords
from mailmig_tui.stores.maildir_scan import internaldate
from mailmig_tui.stores.maildir_split_scan import search_files
from mailmig_tui.stores.maildir_uidlist import (
    DOVECOT_UIDLIST,
    KEYWORDS,
    UIDLIST,
    UidLists,
    UidMap,
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


class _Head(NamedTuple):
    """One message's header-level data, in `build_summary` argument order."""

    uid: int
    internaldate: datetime
    flags: tuple[str, ...]
    size: int
    block: bytes
    path: str


class _Mail(NamedTuple):
    """One message file: a tuple, as a big folder holds 100,000 of them."""

    uid: int
    sub: str
    """"cur" or "new"."""
    name: str
    base: str
    """The name without its ":2," flags: the same string object as the listing's key."""

    @property
    def info(self) -> str:
        suffix = self.name.partition(":")[2]
        return suffix[2:] if suffix.startswith("2,") else ""


@dataclass
class _Snapshot:
    key: tuple[object, ...]
    uidvalidity: int
    uidnext: int
    mails: dict[int, _Mail]
    keywords: list[str]
    mtimes: dict[int, int] = field(default_factory=dict)
    """Whole-second mtimes by UID of the files numbering had to stat anyway."""
    newest: list[int] | None = None
    """UIDs by arrival (mtime), newest first; worked out on first use, then kept."""
    size: int | None = None
    """The folder's CRLF size, once added up."""
    courier: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Courier-IMAP's keywords by base file name (`maildir_courier`)."""


_SIZES: dict[str, dict[str, int]] = {}
"""Folder directory -> base name -> CRLF size, for names without Dovecot's ",W=": a
message file never changes its content, so every store of the process may share these."""

_FRESH: OrderedDict[str, tuple[_Snapshot, UidMap]] = OrderedDict()
"""The latest snapshots read-only stores made from nothing (no earlier guess of theirs), by
folder directory: another read-only store new to the folder would compute exactly the same,
so it takes this one (the TUI's browsing and paging stores each open a 100k folder)."""
_FRESH_LOCK = threading.Lock()
_FRESH_KEEP = 4


def _shared(folder_dir: str, key: tuple[object, ...]) -> tuple[_Snapshot, UidMap] | None:
    with _FRESH_LOCK:
        found = _FRESH.get(folder_dir)
    if found is None or found[0].key != key:
        return None
    snap, umap = found
    return snap, UidMap(umap.uidvalidity, umap.next_uid, dict(umap.uids), umap.ours, True)


def _publish(folder_dir: str, snap: _Snapshot, umap: UidMap) -> None:
    copy = UidMap(umap.uidvalidity, umap.next_uid, dict(umap.uids), umap.ours, True)
    with _FRESH_LOCK:
        _FRESH[folder_dir] = (snap, copy)
        _FRESH.move_to_end(folder_dir)
        while len(_FRESH) > _FRESH_KEEP:
            _FRESH.popitem(last=False)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Numbering a 100,000-file folder makes a few hundred thousand small tuples and dict
    entries, none in a reference cycle; each would count towards a cyclic collection that
    walks them all and frees nothing, a good part of the work of a first `ls`."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():  # (never thaw what someone else froze)
                # Straight to the oldest generation, which only a full collection walks:
                # else the next young collection walks them all (20 ms for 100,000 files).
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _by_arrival(folder_dir: str, snap: _Snapshot) -> list[int]:
    """UIDs newest first by INTERNALDATE (the mtime), ties by UID: one stat per unknown file."""
    known = snap.mtimes
    if len(known) == len(snap.mails):  # numbering stat'ed every file (no UID list)
        stamps = known
    else:
        stamps = {}
        for uid, mail in snap.mails.items():
            mtime = known.get(uid)
            if mtime is None:
                try:
                    mtime = os.stat(f"{folder_dir}/{mail.sub}/{mail.name}").st_mtime_ns // 10**9
                except FileNotFoundError:  # renamed since (flags changed): place unknown
                    mtime = 0
            stamps[uid] = mtime
    # Highest UID first, then a stable sort by time: ties stay newest (highest) UID first.
    # (Both sorts run in linear time on input already in that order, as fresh numbering is.)
    return sorted(sorted(stamps, reverse=True), key=stamps.__getitem__, reverse=True)


def _mails(
    uids: Iterable[int], subs: Iterable[str], names: Iterable[str], bases: Iterable[str]
) -> dict[int, _Mail]:
    """UID -> `_Mail`, from columns: `tuple.__new__` through `map` makes them with no Python
    call per message (one each was a good part of numbering a 100,000-file folder)."""
    uids = list(uids)
    make = functools.partial(tuple.__new__, _Mail)
    return dict(zip(uids, map(make, zip(uids, subs, names, bases, strict=True)), strict=True))


def _list_files(folder_dir: str) -> dict[str, tuple[str, str]]:
    """base name -> (sub dir, file name); cur/ wins over new/ for a duplicate base."""
    found: dict[str, tuple[str, str]] = {}
    for sub in ("new", "cur"):
        with os.scandir(os.path.join(folder_dir, sub)) as entries:
            # Comprehensions rather than a loop body run per file: a 100,000-file folder
            # is listed in about three quarters of the time.
            names = [
                name
                for entry in entries
                if (name := entry.name)[0] != "." and "\n" not in name and entry.is_file()
            ]
        bases = [name.partition(":")[0] for name in names]
        found.update(zip(bases, zip(itertools.repeat(sub), names), strict=True))
    return found


class MaildirStore(MailStore):
    """A Maildir++ directory; `readonly=True` guarantees that no file is created or changed."""

    def __init__(self, path: str, readonly: bool, *, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        """fsync every stored message; off only for throw-away mailboxes (the demo's)."""
        self.root = os.path.abspath(path)
        self.readonly = readonly
        _check_root(self.root, path, readonly)
        self._cache: dict[str, _Snapshot] = {}
        self._uids = UidLists(readonly)
        self._seq = 0

    def close(self) -> None:
        self._cache.clear()
        self._uids.clear()

    def info(self) -> AccountInfo:
        return AccountInfo(delimiter=".", prefix="")

    # Folders

    def _folders(self) -> dict[str, str]:
        """Name -> directory of every selectable folder."""
        from imapclient import imap_utf7  # not at the top: imapclient costs a first `ls` 50 ms

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
        return FolderInfo(
            name="INBOX" if folder_dir == self.root else folder,
            delimiter=".",
            messages=len(snap.mails),
            # Only the letters: \Seen is "S" in cur/, and nothing in new/ has been seen.
            unseen=sum(m.sub == "new" or "S" not in m.info for m in snap.mails.values()),
            size=self._folder_size(folder_dir, snap),
            uidvalidity=snap.uidvalidity,
            uidnext=snap.uidnext,
        )

    # Snapshots: the UID <-> file mapping of one folder, cached until a directory changes.

    def _snapshot(self, folder_dir: str) -> _Snapshot:
        names = ("cur", "new", UIDLIST, DOVECOT_UIDLIST, KEYWORDS)
        key = (*(stat_key(os.path.join(folder_dir, n)) for n in names), directory_key(folder_dir))
        cached = self._cache.get(folder_dir)
        if cached is not None and cached.key == key:
            return cached
        fresh = self.readonly and not self._uids.knows(folder_dir)
        shared = _shared(folder_dir, key) if fresh else None
        if shared is not None:
            self._uids.adopt(folder_dir, shared[1])
            self._cache[folder_dir] = shared[0]
            return shared[0]
        if fresh:
            indexed = self._indexed(folder_dir, key)
            if indexed is not None:
                return indexed
        mtimes: dict[int, int] = {}
        with _gc_paused():
            with self._uids.lock(folder_dir):
                files = _list_files(folder_dir)
                umap = self._uids.sync(folder_dir, files, mtimes)
            # Every base left in the map is a listed file (a file that vanished has no UID).
            bases, uids = list(umap.uids), list(umap.uids.values())
            places = list(map(files.__getitem__, bases))
            subs, file_names = (map(operator.itemgetter(i), places) for i in (0, 1))
            mails = _mails(uids, subs, file_names, bases)
            if any(a > b for a, b in itertools.pairwise(uids)):  # fresh maps are in order
                mails = dict(sorted(mails.items()))
        snap = _Snapshot(
            key, umap.uidvalidity, umap.next_uid, mails, load_keywords(folder_dir), mtimes
        )
        snap.courier = load_courier_keywords(folder_dir)
        self._cache[folder_dir] = snap
        if fresh:
            _publish(folder_dir, snap, umap)
        return snap

    def _indexed(self, folder_dir: str, key: tuple[object, ...]) -> _Snapshot | None:
        """The snapshot from the state dir's index, when the folder is as it was then."""
        index = maildir_index.load(folder_dir, maildir_index.index_key(folder_dir, key))
        if index is None:
            return None
        with _gc_paused():
            bases = [name.partition(":")[0] for name in index.names]
            mails = _mails(index.uids, index.subs, index.names, bases)
            uids = dict(zip(bases, index.uids, strict=True))
            ordered = dict(sorted(mails.items()))
        umap = UidMap(index.uidvalidity, index.next_uid, uids, index.ours, True)
        keywords = load_keywords(folder_dir)
        snap = _Snapshot(
            key, index.uidvalidity, index.next_uid, ordered, keywords, newest=index.uids
        )
        snap.courier = load_courier_keywords(folder_dir)
        self._uids.adopt(folder_dir, umap)
        self._cache[folder_dir] = snap
        _publish(folder_dir, snap, umap)
        return snap

    def _keep_index(self, folder_dir: str, snap: _Snapshot, newest: list[int]) -> None:
        umap = self._uids.get(folder_dir)
        if not self.readonly or len(newest) < maildir_index.MIN_MESSAGES:
            return
        if (umap.uidvalidity, umap.next_uid) != (snap.uidvalidity, snap.uidnext):
            return  # the map moved on since the snapshot: keep nothing rather than a mix
        mails = list(map(snap.mails.__getitem__, newest))
        index = maildir_index.FolderIndex(
            snap.uidvalidity,
            snap.uidnext,
            umap.ours,
            newest,
            list(map(operator.attrgetter("sub"), mails)),
            list(map(operator.attrgetter("name"), mails)),
        )
        maildir_index.save(folder_dir, maildir_index.index_key(folder_dir, snap.key), index)

    def _flags(self, snap: _Snapshot, mail: _Mail) -> tuple[str, ...]:
        flags = flags_from_info(mail.info, snap.keywords)
        courier = snap.courier.get(mail.base)
        if courier:  # Courier keeps keywords apart from the file name
            known = {f.lower() for f in flags}
            flags += tuple(k for k in courier if k.lower() not in known)
        if mail.sub == "new":  # not yet seen by any client
            return tuple(f for f in flags if f != "\\Seen")
        return flags

    def _folder_size(self, folder_dir: str, snap: _Snapshot) -> int:
        if snap.size is None:
            snap.size = sum(self._size(folder_dir, mail) for mail in snap.mails.values())
        return snap.size

    def _known_size(self, folder_dir: str, mail: _Mail) -> int | None:
        """The size without reading the file, when the name or an earlier read tells it."""
        size = _SIZES.get(folder_dir, {}).get(mail.base)
        if size is not None:
            return size
        vsize = _VSIZE.search(mail.base)  # Dovecot records the CRLF size as ",W=<n>"
        return int(vsize.group(1)) if vsize else None

    def _size(self, folder_dir: str, mail: _Mail) -> int:
        size = self._known_size(folder_dir, mail)
        if size is None:
            with open(f"{folder_dir}/{mail.sub}/{mail.name}", "rb", buffering=0) as f:
                size = crlf_size(f.readall())
            _SIZES.setdefault(folder_dir, {})[mail.base] = size
        return size

    # Reading

    def _each(
        self, folder: str, uids: Sequence[int]
    ) -> Iterator[tuple[_Snapshot, str, _Mail, str]]:
        folder_dir = self._dir(folder)
        snap = self._snapshot(folder_dir)
        for uid in uids:
            mail = snap.mails.get(uid)
            if mail is not None:
                yield snap, folder_dir, mail, f"{folder_dir}/{mail.sub}/{mail.name}"

    def _heads(self, folder: str, uids: Sequence[int]) -> Iterator[_Head]:
        for snap, folder_dir, mail, path in self._each(folder, uids):
            try:
                size = self._known_size(folder_dir, mail)
                with open(path, "rb") as f:
                    if size is None:  # one read gives the header and the size
                        data = f.read()
                        block, size = data[: header_end(data)], crlf_size(data)
                        _SIZES.setdefault(folder_dir, {})[mail.base] = size
                    else:
                        block = read_header(f)
                    mtime = internaldate(os.fstat(f.fileno()))
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

    def sizes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        # No header is read: the size is in Dovecot's file names, else read once and kept.
        # No flags either, as over IMAP: a copy takes them from the message it fetches.
        probes = []
        for _snap, folder_dir, mail, _path in self._each(folder, sorted(set(uids))):
            try:
                size = self._size(folder_dir, mail)
            except FileNotFoundError:  # expunged since the snapshot
                continue
            probes.append(HeaderProbe(mail.uid, size, None, b""))
        return probes

    def newest_first(self, folder: str) -> list[int]:
        # File mtimes are the INTERNALDATEs: one stat each, no file opened.
        folder_dir = self._dir(folder)
        snap = self._snapshot(folder_dir)
        if snap.newest is None:
            snap.newest = _by_arrival(folder_dir, snap)
            snap.mtimes = {}  # only the order needed them
            self._keep_index(folder_dir, snap, snap.newest)
        return list(snap.newest)

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        for snap, _, mail, path in self._each(folder, sorted(set(uids))):
            try:
                with open(path, "rb") as f:
                    data, mtime = f.read(), internaldate(os.fstat(f.fileno()))
            except FileNotFoundError:
                continue
            yield Message(mail.uid, to_crlf(data), self._flags(snap, mail), mtime)

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        # One pass over the files, on two cores for a big folder: `maildir_split_scan`.
        folder_dir = self._dir(folder)
        mails = list(self._snapshot(folder_dir).mails.values())
        size = functools.partial(self._size, folder_dir) if query.larger is not None else None
        return search_files(folder_dir, mails, query, size)

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
        from imapclient import imap_utf7

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
                    if self.durable:
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

    def removal_refusal(self) -> str:
        return f"the Maildir {self.path} is opened read-only" if self.readonly else ""

    def remove(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
        """Delete exactly the files of these UIDs (undo of a run): no other file is touched."""
        self._writable()
        folder_dir = self._dir(folder)
        snap = self._snapshot(folder_dir)
        if snap.uidvalidity != uidvalidity:
            raise FolderMissing(
                f"{folder} in {self.path} was renumbered since (UIDVALIDITY {snap.uidvalidity},"
                f" was {uidvalidity}): mailmig's copies cannot be told apart in it"
            )
        removed: list[int] = []
        with self._uids.lock(folder_dir):
            for uid in sorted(set(uids)):
                mail = snap.mails.get(uid)
                if mail is None:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder_dir, mail.sub, mail.name))
                    removed.append(uid)
        self._cache.pop(folder_dir, None)
        return removed
