"""Appending a folder's batches without waiting a round trip for each answer.

All of a folder's batches go over one target connection, in order, so the server gives the
messages ascending UIDs in source order; `AppendWindow` sends a batch and reads the answers
of earlier ones only when more than a window of batches (growing to `max_batches`) or
`max_bytes` bytes are unanswered. Unanswered batches keep their messages, because a
refused or throttled batch is sent again; the byte limit bounds that memory. Stores that
cannot pipeline (local files) append at once, as before. With MULTIAPPEND the store
puts consecutive batches into one command; the window ends it (`append_flush`) at half its
size, so one half is stored and answered while the other streams.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar, runtime_checkable

from mailmig_tui.errors import ConnectError
from mailmig_tui.model import AppendResult, Message
from mailmig_tui.stores.base import MailStore

Payload = TypeVar("Payload")


@runtime_checkable
class PipelinedAppender(Protocol):
    """A store that can send APPENDs now and read their answers later (IMAP)."""

    def append_send(self, folder: str, messages: Sequence[Message]) -> object: ...

    def append_receive(self, ticket: object) -> list[AppendResult]: ...

    def append_flush(self) -> None: ...


class InFlightBudget:
    """Bytes sent but not yet answered, summed over every folder of a copy: one folder may
    use all of it (a big INBOX far away needs a round trip's worth of bytes on the line),
    several share it, and memory stays bounded either way."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._used = 0
        self._lock = threading.Lock()

    def free(self) -> int:
        with self._lock:
            return self.total - self._used

    def take(self, size: int) -> None:
        with self._lock:
            self._used += size

    def give(self, size: int) -> None:
        with self._lock:
            self._used -= size


class AppendWindow(Generic[Payload]):
    """Batches in flight on one target connection; see the module docstring."""

    def __init__(
        self,
        target: MailStore,
        folder: str,
        *,
        max_batches: int,
        max_bytes: int,
        budget: InFlightBudget | None = None,
    ) -> None:
        self.target, self.folder = target, folder
        self.budget = budget or InFlightBudget(max_bytes)
        """Shared with the other folders' windows: their bytes in flight count too."""
        self.max_batches, self.max_bytes = max(1, max_batches), max_bytes
        self._pipelined = isinstance(target, PipelinedAppender)
        self._flight: collections.deque[tuple[Payload, object, int]] = collections.deque()
        self._bytes = 0
        self._segment = 0
        self._segment_bytes = 0
        """Batches, and bytes, sent since the last `append_flush`."""
        self._window = 0
        self.broken = False
        """The target connection failed under a send or a receive: nothing more to read."""
        self.lost: ConnectError | None = None
        """Set when the connection broke after part of a batch was answered."""
        self._answered = 0

    def push(
        self, payload: Payload, outgoing: Sequence[Message], cancelled: Callable[[], bool]
    ) -> Iterator[tuple[Payload, list[AppendResult]]]:
        """Make room in the window (yielding (payload, answers) of the oldest batches),
        then send `outgoing`, unless `cancelled()` says so by then: a cancel stops after
        the batches in flight, as it did before pipelining.

        The first batch of a folder is answered before the next is taken (a short folder
        behaves as if unpipelined, and the first copy is reported at once); then the window
        grows by one batch per batch answered, up to `max_batches`, so a long folder soon
        keeps a round trip's worth of batches on the line.
        """
        if not self._pipelined:
            if not cancelled():
                yield payload, self.target.append(self.folder, outgoing)
            return
        assert isinstance(self.target, PipelinedAppender)
        size = sum(len(m.data) for m in outgoing)
        while self._flight and (len(self._flight) >= max(self._window, 1) or size > self._room()):
            yield self._receive_oldest()
            self._raise_lost()
        if cancelled():
            return
        try:
            ticket = self.target.append_send(self.folder, outgoing)
            self._flight.append((payload, ticket, size))
            self._bytes += size
            self.budget.take(size)
            self._segment += 1
            self._segment_bytes += size
            if (
                self._segment >= max(1, self._window // 2)
                or self._segment_bytes + size > (self._bytes + self._room()) // 2
            ):
                # Let the server store this half of the window now, while the other half
                # streams; by the time the window is full its answer is (nearly) there.
                self.target.append_flush()
                self._segment = self._segment_bytes = 0
        except ConnectError:
            self.broken = True
            raise
        if len(self._flight) > self._window:
            yield self._receive_oldest()
            self._raise_lost()

    def drain(self) -> Iterator[tuple[Payload, list[AppendResult]]]:
        """The answers of every batch still in flight, oldest first."""
        while self._flight:
            yield self._receive_oldest()
            self._raise_lost()

    def close(self) -> None:
        """Give back the budget of whatever is still in flight (the window is done with:
        answered, or its connection lost)."""
        self.budget.give(self._bytes)
        self._bytes = 0
        self._flight.clear()

    def _room(self) -> int:
        """Bytes this window may still send: its own limit, and what the budget has left."""
        return min(self.max_bytes - self._bytes, self.budget.free())

    def _raise_lost(self) -> None:
        if self.lost is not None:
            raise self.lost

    def _receive_oldest(self) -> tuple[Payload, list[AppendResult]]:
        assert isinstance(self.target, PipelinedAppender)
        payload, ticket, size = self._flight[0]
        try:
            answers = self.target.append_receive(ticket)
        except ConnectError as exc:
            self.broken = True
            partial: list[AppendResult] | None = getattr(exc, "results", None)
            if not partial:
                raise
            # The first messages were answered before the line broke: hand them on to be
            # counted; `push`/`drain` raise the loss right after.
            self.close()
            self.lost = exc
            return payload, partial
        self._flight.popleft()
        self._bytes -= size
        self.budget.give(size)
        self._answered += 1
        self._window = min(self.max_batches, self._answered)
        return payload, answers
