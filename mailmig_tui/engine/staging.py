"""A big folder over several target connections when every APPEND costs a round trip.

A target without LITERAL+ (Courier) makes each message wait for the server's "+": one
round trip per message and connection, so one big INBOX on one connection is the whole
copy's wait. `StagedParts` cuts the folder's messages into consecutive parts. The first
goes straight into the folder, as always; each later part is fetched over a pooled source
connection and appended, at the same time, over a target connection of its own into a
hidden staging folder. When the first part is done, each staging folder in turn is moved
into the real folder (UID MOVE, or UID COPY: new UIDs in the order of the old ones), so
the folder's UIDs still ascend in source order.

Crash safety: a staged message is journaled only once it is in the real folder (from
COPYUID). Until then nothing refers to it: a run that stops early deletes the staging
folders it can, and the next run that stages the folder deletes what is left under the
same names before using them, then copies those messages again. A move whose answer was
lost leaves the messages in the real folder unjournaled, where the next run's planning
finds them by content identity. A part that did not finish, and every part after it, is
not moved (that would break the order): its messages count as not copied.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mailmig_tui.engine.append_window import AppendWindow, InFlightBudget
from mailmig_tui.engine.chunked_fetch import SourcePool, ordered_batches
from mailmig_tui.errors import ConnectError, MailmigError, MessageRejected, Throttled
from mailmig_tui.model import AppendResult, Message
from mailmig_tui.stores.base import HeaderProbe, MailStore
from mailmig_tui.stores.imap_staging import Moved

log = logging.getLogger(__name__)


@runtime_checkable
class StagingTarget(Protocol):
    """A target store that can stage (IMAP; see `stores/imap_staging`)."""

    def staging_name(self, folder: str, part: int) -> str | None: ...

    def recreate_staging(self, name: str) -> None: ...

    def move_staged(self, staging: str, folder: str) -> Moved: ...

    def drop_staging(self, names: Sequence[str]) -> None: ...

    def drop_leftover_staging(self) -> list[str]: ...


class TargetSlots:
    """Target connections the copy may open beyond its folder workers' (the `connections`
    cap), shared by every folder that stages."""

    def __init__(self, free: int) -> None:
        self._free = max(0, free)
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        with self._lock:
            got = min(wanted, self._free)
            self._free -= got
            return got

    def give(self, count: int) -> None:
        with self._lock:
            self._free += count


@dataclass
class Staged:
    """A message appended to a staging folder: what journaling it needs once moved."""

    uid: int
    staging_uid: int | None
    flags: tuple[str, ...]
    size: int
    identity: str


@dataclass
class Part:
    """One later part of the folder: its messages, where they are staged, how it went."""

    number: int
    probes: list[HeaderProbe]
    name: str
    staged: list[Staged] = field(default_factory=list)
    refused: list[tuple[int, MessageRejected]] = field(default_factory=list)
    """(source UID, why) for messages the target refused."""
    complete: bool = False
    """Every message was answered: the part may be moved."""
    moved: bool = False
    target: MailStore | None = None
    thread: threading.Thread | None = None


Batches = Callable[[Sequence[HeaderProbe]], Iterator[list[int]]]


class StagedParts:
    """The later parts of one folder, appended on threads while the first part is copied."""

    def __init__(
        self,
        folder: str,
        target_folder: str,
        parts: list[Part],
        sources: list[MailStore],
        open_target: Callable[[], MailStore],
        pool: SourcePool,
        slots: TargetSlots,
        cancel: threading.Event,
        batches: Batches,
        outgoing: Callable[[Message], Message],
        identify: Callable[[Message], str],
        window: tuple[int, int, InFlightBudget | None],
    ) -> None:
        self.folder, self.target_folder = folder, target_folder
        self.parts = parts
        self._sources = sources
        self._open_target = open_target
        self._pool, self._slots = pool, slots
        self._stop = threading.Event()
        self._cancel = cancel
        self._batches, self._outgoing, self._window = batches, outgoing, window
        self._identify = identify
        for part, source in zip(parts, sources, strict=True):
            part.thread = threading.Thread(
                target=self._run, args=(part, source), name="mailmig-stage", daemon=True
            )
            part.thread.start()

    def _stopped(self) -> bool:
        return self._stop.is_set() or self._cancel.is_set()

    def _run(self, part: Part, source: MailStore) -> None:
        healthy = False
        try:
            part.target = self._open_target()
            assert isinstance(part.target, StagingTarget)
            part.target.recreate_staging(part.name)
            self._append(part, source, part.target)
            healthy = True
        except MailmigError as exc:
            log.info("staging part %d of %s stopped: %s", part.number, self.folder, exc.one_line())
        except Exception:
            # Not moved, so not copied: a re-run copies it; no traceback on the terminal.
            log.debug("staging part %d of %s failed", part.number, self.folder, exc_info=True)
        finally:
            self._pool.give(source, broken=not healthy)

    def _append(self, part: Part, source: MailStore, target: MailStore) -> None:
        max_batches, max_bytes, budget = self._window
        window: AppendWindow[list[Message]] = AppendWindow(
            target, part.name, max_batches=max_batches, max_bytes=max_bytes, budget=budget
        )

        def settle(answered: Iterator[tuple[list[Message], list[AppendResult]]]) -> None:
            for batch, answers in answered:
                for message, answer in zip(batch, answers, strict=False):
                    if isinstance(answer.error, Throttled):
                        # Moving the part without it would leave a gap that a re-run fills
                        # out of order: the part (and every later one) stays unmoved, and
                        # the next copy sends them again, in order.
                        raise answer.error
                    if answer.error is None:
                        size = len(message.data)  # what `outgoing` sends: only flags differ
                        identity = self._identify(message)
                        # The source's flags, as the journal keeps for every copy.
                        staged = Staged(message.uid, answer.uid, message.flags, size, identity)
                        part.staged.append(staged)
                    else:
                        part.refused.append((message.uid, answer.error))
                if len(answers) < len(batch):  # the line broke: the part cannot be moved
                    raise ConnectError("the staging connection broke", "run again")

        stream = ordered_batches(source, None, self.folder, self._batches(part.probes), 0)
        try:
            with contextlib.closing(stream):
                for _uids, messages in stream:
                    if self._stopped():
                        return
                    outgoing = [self._outgoing(m) for m in messages]
                    settle(window.push(messages, outgoing, self._stopped))
            settle(window.drain())
        finally:
            window.close()
        part.complete = not self._stopped()

    def join(self) -> None:
        for part in self.parts:
            if part.thread is not None:
                part.thread.join()

    def move(self, target: MailStore) -> Iterator[tuple[Part, Moved]]:
        """Once the first part is in the folder: wait for each later part and move it in,
        in order, over `target` (the folder's own connection). Stops at the first part
        that did not finish or move."""
        assert isinstance(target, StagingTarget)
        for part in self.parts:
            if part.thread is not None:
                part.thread.join()
            if not part.complete or self._cancel.is_set():
                return
            moved = target.move_staged(part.name, self.target_folder)
            if not moved.done:
                log.warning(
                    "could not move %s into %s: %s", part.name, self.target_folder, moved.said
                )
                return
            part.moved = True
            yield part, moved

    def close(self, dropper: MailStore | None) -> None:
        """Stop what still runs, delete the staging folders not moved (over `dropper`,
        else a part's own connection), log the part connections out, free their slots."""
        self._stop.set()
        self.join()
        leftover = [p.name for p in self.parts if not p.moved]
        for store in [dropper, *(p.target for p in self.parts)]:
            if not leftover or not isinstance(store, StagingTarget):
                continue
            try:
                store.drop_staging(leftover)
                leftover = []
            except MailmigError as exc:
                log.info("could not delete staging folders: %s", exc.one_line())
        for part in self.parts:
            if part.target is not None:
                part.target.close()
        self._slots.give(len(self.parts))


def split(probes: Sequence[HeaderProbe], parts: int) -> list[list[HeaderProbe]]:
    """`probes` in `parts` consecutive runs of about equal length, in order."""
    size, extra = divmod(len(probes), parts)
    out, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        out.append(list(probes[start:end]))
        start = end
    return out


def take_at_once(pool: SourcePool, count: int) -> list[MailStore]:
    """Up to `count` pooled source connections, those still to be opened logging in at the
    same time rather than one after the other."""
    taken: list[MailStore] = []
    lock = threading.Lock()

    def take() -> None:
        store = pool.take()
        if store is not None:
            with lock:
                taken.append(store)

    threads = [threading.Thread(target=take, name="mailmig-connect") for _n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return taken


def drop_leftovers(target: MailStore) -> None:
    """Delete staging folders an interrupted run left on the target (see the module
    docstring): their messages were never journaled and are copied again."""
    if not isinstance(target, StagingTarget):
        return
    try:
        dropped = target.drop_leftover_staging()
    except MailmigError as exc:
        log.info("could not look for staging folders left behind: %s", exc.one_line())
        return
    if dropped:
        log.warning("deleted staging folders an interrupted run left: %s", ", ".join(dropped))
