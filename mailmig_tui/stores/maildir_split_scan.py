"""A big Maildir folder's text search on two cores: this process and one worker process.

Searching the text of 100,000 files is CPU-bound Python (reads, the byte screen, the exact
match of the few it lets through). The file list is cut into chunks of `CHUNK`; this
process searches them from the front, a worker process from the back, each telling the
other which chunk it takes before it searches it, until they meet (a chunk both happen to
take at once is searched twice, harmlessly). The hits are put end to end in chunk order,
the order of the serial search, so the answer is the same.

The worker is a fresh interpreter (`python -I -c`) that imports only this package's light
search modules: not `fork` (the caller may be a thread of a threaded process) and not
multiprocessing's `spawn` (which runs the caller's main script again in the child). Its
standard streams are /dev/null. A worker that cannot start, fails or dies costs only speed:
what it did not report is searched here, so a file error is raised here, as by the serial
search, and a file gone since the snapshot is skipped either way.
"""

from __future__ import annotations

import array
import contextlib
import operator
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.maildir_scan import Entry, File, MailFile, scan

PARALLEL_FROM = 20_000
"""Files from which a text search takes a worker process: below, starting one (about
0.07 s of a core) would cost about what it saves."""
CHUNK = 1_000
"""Files per chunk: small enough that both sides end close together, large enough that
the messages about them cost nothing next to searching them."""

_LENGTH = struct.Struct("!Q")
_CLAIM = struct.Struct("!q")
_ROOT = str(Path(__file__).resolve().parents[2])
"""Where the worker imports this package from: the caller's own copy of it."""


def search_files(
    folder_dir: str,
    mails: Sequence[File],
    query: SearchQuery,
    size: Callable[[File], int] | None = None,
) -> list[int]:
    """`scan(folder_dir, mails, query, size)`, with a worker process where that pays: a
    text search (header searches are fast anyway) without LARGER (sizes come from the
    store's cache), in a big folder, with a second core."""
    if not query.text or query.larger is not None or len(mails) < PARALLEL_FROM:
        return scan(folder_dir, mails, query, size)
    frozen = getattr(sys, "frozen", False)  # a bundled app: no `python -c` to run
    if os.name != "posix" or frozen or not sys.executable or _cores() < 2:
        return scan(folder_dir, mails, query, size)
    return _TwoEnds(folder_dir, mails, query).run()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _TwoEnds:
    """One search: this process from the front, the worker from the back."""

    def __init__(self, folder_dir: str, mails: Sequence[File], query: SearchQuery) -> None:
        self.folder_dir, self.mails, self.query = folder_dir, mails, query
        self.size = CHUNK
        self.chunks = -(-len(mails) // self.size)

    def _scan(self, number: int) -> list[int]:
        files = self.mails[number * self.size : (number + 1) * self.size]
        return scan(self.folder_dir, files, self.query)

    def run(self) -> list[int]:
        found: dict[int, list[int]] = {}
        worker = _Worker.start(self.folder_dir, self.query, self.mails, self.size)
        try:
            front = 0
            while front < self.chunks and (worker is None or front < worker.lowest(found)):
                if worker is not None:
                    worker.tell(front)
                found[front] = self._scan(front)
                front += 1
            if worker is not None:
                worker.tell(self.chunks)  # "stop": all are taken
                worker.await_taken(found)
        finally:
            if worker is not None:
                worker.close()
        for number in range(self.chunks):  # what a failed worker took and did not report
            if number not in found:
                found[number] = self._scan(number)
        return [uid for number in range(self.chunks) for uid in found[number]]


class _Worker:
    """The worker process, seen from the caller: its pipes and what it has said."""

    def __init__(self, process: subprocess.Popen[bytes], job: int, claims: int, news: int):
        self.process, self.claims, self.news = process, claims, news
        self.taken: set[int] = set()
        self.talking = True
        """False from the end of its news (EOF) on."""
        self.sender: threading.Thread | None = None
        self._job_fd = job

    @classmethod
    def start(
        cls, folder_dir: str, query: SearchQuery, mails: Sequence[MailFile], size: int
    ) -> _Worker | None:
        """The worker under way, its file list on its way to it; None if it cannot start."""
        job = (folder_dir, query, size, *_encode(mails))
        pipes = [os.pipe() for _ in range(3)]  # job, claims: to it; news: from it
        theirs = (pipes[0][0], pipes[1][0], pipes[2][1])
        code = (
            f"import sys; sys.path.insert(0, {_ROOT!r}); "
            "from mailmig_tui.stores.maildir_split_scan import work; "
            f"work{theirs!r}"
        )
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", code],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=theirs,
            )
        except (OSError, ValueError):  # no process (limits, no interpreter): one core it is
            for fd in (fd for pair in pipes for fd in pair):
                os.close(fd)
            return None
        for fd in theirs:
            os.close(fd)  # the worker's ends: its death reads as EOF here
        # Claims never wait: one a full pipe drops only makes the worker search more.
        os.set_blocking(pipes[1][1], False)
        worker = cls(process, pipes[0][1], pipes[1][1], pipes[2][0])
        # A pipe holds 64 KiB: the list goes out while this process searches.
        worker.sender = threading.Thread(
            target=worker._send, args=(job,), name="mailmig-search-send", daemon=True
        )
        worker.sender.start()
        return worker

    def _send(self, job: tuple[object, ...]) -> None:
        try:
            _put(self._job_fd, job)
        except OSError:  # the worker is gone: what it took is searched here
            pass
        finally:
            os.close(self._job_fd)

    def tell(self, number: int) -> None:
        """Tells it this process takes chunk `number` (and all before it)."""
        with contextlib.suppress(OSError):  # a full pipe, or the worker is gone
            os.write(self.claims, _CLAIM.pack(number))  # atomic: under PIPE_BUF

    def _hear(self, found: dict[int, list[int]]) -> None:
        """One message: a chunk it takes, or one it has searched."""
        try:
            message = _take(self.news)
        except Exception:  # its end (EOF), or a broken message: nothing more from it
            self.talking = False
            return
        if len(message) == 1:
            self.taken.add(message[0])
        else:
            found.setdefault(message[0], message[1])

    def lowest(self, found: dict[int, list[int]]) -> int:
        """The lowest chunk it has taken so far (a chunk number past the last if none),
        from what it has said by now: never waits."""
        while self.talking and _waiting(self.news):
            self._hear(found)
        return min(self.taken, default=sys.maxsize)

    def await_taken(self, found: dict[int, list[int]]) -> None:
        """Waits for the hits of every chunk it has taken (or for its end)."""
        while self.talking and not self.taken.issubset(found):
            self._hear(found)

    def close(self) -> None:
        """Ends it: it has answered, or its answers are no longer wanted."""
        if self.process.poll() is None:
            self.process.kill()  # still starting, or the search failed here
        self.process.wait()
        if self.sender is not None:
            self.sender.join()
        for fd in (self.claims, self.news):
            os.close(fd)


def _encode(mails: Sequence[MailFile]) -> tuple[bytes, bytes, bytes]:
    """The file list as three buffers: far cheaper to send than 100,000 pickled tuples."""
    uids = array.array("q", map(operator.attrgetter("uid"), mails)).tobytes()
    subs = "\0".join(map(operator.attrgetter("sub"), mails))
    names = "\0".join(map(operator.attrgetter("name"), mails))
    return uids, subs.encode("utf-8", "surrogateescape"), names.encode("utf-8", "surrogateescape")


class _Columns:
    """The file list a worker got, made into `Entry`s a chunk at a time: the worker
    searches its first chunk sooner, and makes none for the chunks it never takes."""

    def __init__(self, uids: bytes, subs: bytes, names: bytes) -> None:
        self.uids = array.array("q")
        self.uids.frombytes(uids)
        self.subs = subs.decode("utf-8", "surrogateescape").split("\0")
        self.names = names.decode("utf-8", "surrogateescape").split("\0")

    def __len__(self) -> int:
        return len(self.uids)

    def chunk(self, start: int, end: int) -> list[Entry]:
        files = self.uids[start:end], self.subs[start:end], self.names[start:end]
        columns = zip(*files, strict=True)
        return [Entry(uid, sub, name, name.partition(":")[0]) for uid, sub, name in columns]


def _put(fd: int, message: object) -> None:
    """One length-prefixed pickle; the two processes are one program's, on private pipes."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    for part in (_LENGTH.pack(len(data)), data):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def _take(fd: int) -> Any:
    (length,) = _LENGTH.unpack(_exactly(fd, _LENGTH.size))
    return pickle.loads(_exactly(fd, length))


def _exactly(fd: int, count: int) -> bytes:
    parts = []
    while count:
        part = os.read(fd, min(count, 1 << 20))
        if not part:
            raise EOFError
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def _waiting(fd: int) -> bool:
    """Whether a read would not block (a message, or the end of the pipe)."""
    poller = select.poll()  # not select(): no limit on the fd's number
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _claims(fd: int) -> Iterator[int]:
    """The caller's claims sent so far; EOFError once the caller is gone."""
    while _waiting(fd):
        data = os.read(fd, 1 << 16)  # whole claims only: each was written in one piece
        if not data:
            raise EOFError
        yield from (number for (number,) in _CLAIM.iter_unpack(data))


def work(job: int, claims: int, news: int) -> None:
    """The worker process: chunks from the back, until it meets the caller's. It says which
    chunk it takes before it searches it. Whatever goes wrong ends it quietly: the caller
    searches what it did not report."""
    try:
        folder_dir, query, size, uids, subs, names = _take(job)
        os.close(job)
        mails = _Columns(uids, subs, names)
        theirs = -1  # the caller's last chunk
        for number in range(-(-len(mails) // size) - 1, -1, -1):
            theirs = max([theirs, *_claims(claims)])
            if number <= theirs:
                break
            _put(news, (number,))
            hits = scan(folder_dir, mails.chunk(number * size, (number + 1) * size), query)
            _put(news, (number, hits))
    except BaseException:  # whatever it is, what was not reported is searched by the caller
        pass
