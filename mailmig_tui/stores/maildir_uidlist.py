"""The per-folder bookkeeping of a Maildir: UID lists, flags and dovecot-keywords, the lock.

UIDs come from (1) our `mailmig-uidlist`, written only by a writable store: a line
`mailmig-uidlist 1 V<uidvalidity> N<next uid>`, then `<uid> <base file name>` lines, appended
as messages are stored and rewritten (tmp + rename) when entries go stale; (2) else Dovecot's
`dovecot-uidlist`; (3) else files are numbered from 1 by (mtime, base name), UIDVALIDITY
starting from a CRC of the folder path. Files missing from a list get the next UIDs in that
same order, and a UID is never reused (next = max(N, highest + 1)).

UIDs numbered here rather than read from a list are a guess that holds only while the same
unlisted files exist: a message moved in with an old mtime, or one deleted, renumbers the
rest. So such a guess is folded into UIDVALIDITY (a CRC of the unlisted names in UID order);
a different guess is a different UIDVALIDITY, and a journal keyed by UIDs never takes one
message for another. A writable store saves its guess in mailmig-uidlist, making it final; a
read-only store writes nothing, and keeps one guess for the session.

Flags are the letters after `:2,` in a file name: upper-case ones for system flags and
$Forwarded, and Dovecot's keywords: `dovecot-keywords` holds `<index> <name>` lines and the
keyword with index i is the letter chr(97 + i), 26 at most.
"""

from __future__ import annotations

import fcntl
import functools
import operator
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field

from mailmig_tui.stores.local_common import stat_key

UIDLIST = "mailmig-uidlist"
DOVECOT_UIDLIST = "dovecot-uidlist"
KEYWORDS = "dovecot-keywords"
MAX_KEYWORDS = 26  # one lower-case letter each
_LETTERS = {"D": "\\Draft", "F": "\\Flagged", "P": "$Forwarded", "R": "\\Answered",
            "S": "\\Seen", "T": "\\Deleted"}  # fmt: skip
_LETTER_OF = {flag.lower(): letter for letter, flag in _LETTERS.items()}


def read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None


def write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


@contextmanager
def flock(path: str) -> Iterator[None]:
    """An exclusive lock between stores (threads or processes) writing the same folder."""
    with open(path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


# UID lists


@dataclass
class UidMap:
    uidvalidity: int
    next_uid: int
    uids: dict[str, int] = field(default_factory=dict)
    ours: bool = False
    """Loaded from mailmig-uidlist (as opposed to Dovecot's file or fresh numbering)."""
    settled: bool = False
    """UIDVALIDITY is final for this session: it covers any guess already handed out."""


def parse_uidlist(text: str, ours: bool) -> UidMap | None:
    """Our list, or Dovecot's (v3 header `3 V<validity> N<next> ...`, v1/v2 `1 <v> <next>`)."""
    lines = text.splitlines()
    head = lines[0].split() if lines else []
    if head[:2] == [UIDLIST, "1"] if ours else head[:1] == ["3"]:
        opts = {tok[0]: tok[1:] for tok in head[1:] if tok}
        validity, nxt = opts.get("V", ""), opts.get("N", "1")
    elif not ours and head[:1] in (["1"], ["2"]):
        validity, nxt = [*head, "", "1"][1:3]
    else:
        return None
    if not validity.isdigit():
        return None
    umap = UidMap(int(validity), int(nxt) if nxt.isdigit() else 1, ours=ours)
    for line in lines[1:]:
        uid, _, rest = line.partition(" ")
        # Dovecot v3 puts extension fields first and the name after " :"; v1/v2 put it last.
        if not ours:
            rest = " " + rest
            rest = rest.split(" :", 1)[1] if " :" in rest else (rest.split() or [""])[-1]
            rest = rest.split(":", 1)[0]
        if uid.isdigit() and rest:
            umap.uids[rest] = int(uid)
    umap.next_uid = max([umap.next_uid, *(uid + 1 for uid in umap.uids.values())])
    return umap


def load_uidmap(folder_dir: str) -> UidMap:
    for filename, ours in ((UIDLIST, True), (DOVECOT_UIDLIST, False)):
        text = read_text(os.path.join(folder_dir, filename))
        umap = parse_uidlist(text, ours) if text is not None else None
        if umap is not None:
            return umap
    return UidMap(zlib.crc32(os.path.abspath(folder_dir).encode()) or 1, 1)


def save_uidmap(folder_dir: str, umap: UidMap) -> None:
    lines = [f"{UIDLIST} 1 V{umap.uidvalidity} N{umap.next_uid}"]
    lines += [f"{uid} {base}" for base, uid in sorted(umap.uids.items(), key=lambda i: i[1])]
    write_atomic(os.path.join(folder_dir, UIDLIST), "\n".join(lines) + "\n")
    umap.ours = True


def lists_key(folder_dir: str) -> tuple[object, ...]:
    """Changes whenever either UID list file changes."""
    return tuple(stat_key(os.path.join(folder_dir, n)) for n in (UIDLIST, DOVECOT_UIDLIST))


def _mtimes(
    folder_dir: str, files: Mapping[str, tuple[str, str]], bases: list[str]
) -> tuple[list[int], list[str]]:
    """Whole-second mtimes of these files and, in the same order, the bases of the files
    found: one renamed meanwhile is left out (the next scan sees it). One stat each, by
    directory fd (no long path to resolve each time), called through `map`: a
    100,000-file folder costs its stats, little more. Two lists, not a pair per file."""
    places = list(map(files.__getitem__, bases))
    subs = list(map(operator.itemgetter(0), places))
    stamps: list[int] = []
    found: list[str] = []
    for sub in ("cur", "new"):
        if sub not in subs:
            continue
        if subs.count(sub) == len(subs):  # all in one sub dir, as most folders are
            picked, names = bases, list(map(operator.itemgetter(1), places))
        else:
            picked = [base for base, in_sub in zip(bases, subs, strict=True) if in_sub == sub]
            names = [files[base][1] for base in picked]
        fd = os.open(os.path.join(folder_dir, sub), os.O_RDONLY)
        try:
            stat = functools.partial(os.stat, dir_fd=fd)
            try:
                stamps += [st.st_mtime_ns // 10**9 for st in map(stat, names)]
                found += picked
            except FileNotFoundError:  # one went meanwhile: again, one at a time
                for name, base in zip(names, picked, strict=True):
                    with suppress(FileNotFoundError):
                        stamps.append(stat(name).st_mtime_ns // 10**9)
                        found.append(base)
        finally:
            os.close(fd)
    return stamps, found


class UidLists:
    """The UID maps of one store's folders.

    A map stays in memory while the list files are unchanged, so UIDs handed out stay put
    for the session and appends need not re-read the list. Only a writable store saves.
    """

    def __init__(self, readonly: bool) -> None:
        self.readonly = readonly
        self._maps: dict[str, tuple[tuple[object, ...], UidMap]] = {}

    def clear(self) -> None:
        self._maps.clear()

    def lock(self, folder_dir: str) -> AbstractContextManager[object]:
        """Held around every change of a folder's files; a read-only store takes none."""
        if self.readonly:
            return nullcontext()
        return flock(os.path.join(folder_dir, UIDLIST + ".lock"))

    def knows(self, folder_dir: str) -> bool:
        """Whether this store already numbered the folder (its guess is then settled)."""
        return folder_dir in self._maps

    def adopt(self, folder_dir: str, umap: UidMap) -> None:
        """Take over a map another store computed fresh from the same files and lists."""
        self._remember(folder_dir, umap)

    def get(self, folder_dir: str) -> UidMap:
        cached = self._maps.get(folder_dir)
        if cached is not None and cached[0] == lists_key(folder_dir):
            return cached[1]
        umap = load_uidmap(folder_dir)
        self._remember(folder_dir, umap)
        return umap

    def _remember(self, folder_dir: str, umap: UidMap) -> None:
        self._maps[folder_dir] = (lists_key(folder_dir), umap)

    def sync(
        self,
        folder_dir: str,
        files: Mapping[str, tuple[str, str]],
        mtimes: dict[int, int] | None = None,
    ) -> UidMap:
        """The map for the files present (base name -> (sub dir, file name)), under the
        caller's lock.

        Gone files are forgotten; new ones are numbered in (mtime, base name) order. The
        mtimes (whole seconds) of the files this had to stat go into `mtimes` by UID, in
        UID order, when given.
        """
        umap = self.get(folder_dir)
        listed = umap.uids
        stale = listed.keys() - files.keys()
        for base in stale:
            del listed[base]
        stamps, bases = _mtimes(folder_dir, files, [b for b in files if b not in listed])
        # (mtime, base name) order, bases being unique: by name, then a stable sort by
        # mtime; integer and string keys sort faster than a tuple made for each file.
        order = sorted(range(len(bases)), key=bases.__getitem__)
        order.sort(key=stamps.__getitem__)
        guessed = list(map(bases.__getitem__, order))
        new_uids = range(umap.next_uid, umap.next_uid + len(guessed))
        listed.update(zip(guessed, new_uids, strict=True))
        if mtimes is not None:
            mtimes.update(zip(new_uids, map(stamps.__getitem__, order), strict=True))
        umap.next_uid = new_uids.stop
        if guessed and not umap.ours and not umap.settled:
            names = "\0".join([str(umap.uidvalidity), *guessed])
            umap.uidvalidity = zlib.crc32(names.encode("utf-8", "surrogateescape")) or 1
        umap.settled = True
        if not self.readonly and (guessed or stale or not umap.ours):
            save_uidmap(folder_dir, umap)
            self._remember(folder_dir, umap)
        return umap

    def add(self, folder_dir: str, base: str) -> tuple[int, int]:
        """(UID, UIDVALIDITY) for a new file, recorded before the file appears so that a
        crash cannot renumber it; the caller holds the lock."""
        umap = self.get(folder_dir)
        if not umap.ours:  # someone removed our file meanwhile
            save_uidmap(folder_dir, umap)
        uid = umap.uids[base] = umap.next_uid
        umap.next_uid += 1
        with open(os.path.join(folder_dir, UIDLIST), "a", encoding="utf-8") as f:
            f.write(f"{uid} {base}\n")
        self._remember(folder_dir, umap)
        return uid, umap.uidvalidity


# Keywords


def load_keywords(folder_dir: str) -> list[str]:
    """Keyword names by index; "" marks an unused index."""
    names: dict[int, str] = {}
    for line in (read_text(os.path.join(folder_dir, KEYWORDS)) or "").splitlines():
        index, _, name = line.partition(" ")
        if index.isdigit() and int(index) < MAX_KEYWORDS and name.strip():
            names[int(index)] = name.strip()
    return [names.get(i, "") for i in range(max(names, default=-1) + 1)]


def flags_from_info(info: str, keywords: Sequence[str]) -> tuple[str, ...]:
    """Flags from the letters after `:2,`; letters of unknown keywords are dropped."""
    flags = []
    for letter in info:
        if letter in _LETTERS:
            flags.append(_LETTERS[letter])
        elif "a" <= letter <= "z" and ord(letter) - 97 < len(keywords):
            flags.append(keywords[ord(letter) - 97])
    return tuple(f for f in flags if f)


def info_for(folder_dir: str, flags: Iterable[str]) -> str:
    """The `:2,` letters for `flags`, adding new keywords to dovecot-keywords (caller locks)."""
    known = load_keywords(folder_dir)
    lowered = [k.lower() for k in known]
    letters = set()
    changed = False
    for flag in flags:
        if flag.lower() in _LETTER_OF:
            letters.add(_LETTER_OF[flag.lower()])
            continue
        if flag.startswith("\\"):
            continue  # \Recent and unknown system flags cannot be stored
        if flag.lower() not in lowered:
            slot = lowered.index("") if "" in lowered else len(known)
            if slot >= MAX_KEYWORDS:
                continue  # Maildir has only 26 keyword letters per folder
            known[slot : slot + 1] = [flag]
            lowered[slot : slot + 1] = [flag.lower()]
            changed = True
        letters.add(chr(97 + lowered.index(flag.lower())))
    if changed:
        lines = [f"{i} {name}\n" for i, name in enumerate(known) if name]
        write_atomic(os.path.join(folder_dir, KEYWORDS), "".join(lines))
    return "".join(sorted(letters))
