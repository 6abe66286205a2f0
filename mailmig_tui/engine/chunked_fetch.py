"""Fetching one folder's batches over several source connections, handed on in UID order.

At a real round trip a FETCH waits about one round trip for its first byte, so a single
connection leaves the line idle most of the time. `ordered_batches` lets the folder's own
source connection and any idle connection of a shared `SourcePool` fetch different batches
of the folder's UID list at once; the consumer still gets them strictly in batch order, so
the target receives the messages in source order. Memory stays bounded: no fetcher runs
more than one batch per fetcher ahead of the consumer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Iterator

from mailmig_tui.errors import MailmigError
from mailmig_tui.model import Message
from mailmig_tui.stores.base import MailStore

log = logging.getLogger(__name__)

Batch = tuple[list[int], list[Message]]


class SourcePool:
    """Extra source connections shared by all folders of a copy, opened lazily.

    `limit` is how many it may open; a worker that has no folder left gives its own
    connection here (`donate`), so a big folder still being copied can use it.
    """

    def __init__(self, open_source: Callable[[], MailStore], limit: int) -> None:
        self._open = open_source
        self._limit = max(0, limit)
        self._opened = 0
        self._idle: list[MailStore] = []
        self._lock = threading.Lock()
        self._waiters: list[threading.Condition] = []
        """Conditions notified when a connection comes back (`watch`)."""

    def watch(self, cond: threading.Condition) -> None:
        """Notify `cond` whenever a connection is given back, until `unwatch`."""
        with self._lock:
            self._waiters.append(cond)

    def unwatch(self, cond: threading.Condition) -> None:
        with self._lock:
            self._waiters.remove(cond)

    def _returned(self) -> None:
        with self._lock:  # notified outside the pool's lock: a waiter calls `available`
            waiters = list(self._waiters)
        for cond in waiters:
            with cond:
                cond.notify_all()

    def available(self) -> bool:
        with self._lock:
            return bool(self._idle) or self._opened < self._limit

    def take(self) -> MailStore | None:
        """An idle connection, a new one, or None when the limit is reached."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._opened >= self._limit:
                return None
            self._opened += 1
        try:
            return self._open()
        except MailmigError as exc:
            # Most likely the server's connection limit: never try more than we have.
            log.info("no further source connection: %s", exc.one_line())
            with self._lock:
                self._opened -= 1
                self._limit = self._opened
            return None

    def give(self, store: MailStore, *, broken: bool = False) -> None:
        if broken:
            with self._lock:
                self._opened -= 1
            store.close()
        else:
            with self._lock:
                self._idle.append(store)
        self._returned()

    def donate(self, store: MailStore) -> None:
        """A worker's own connection, no longer needed by it: counted in from now on."""
        with self._lock:
            self._opened += 1
            self._limit += 1
            self._idle.append(store)
        self._returned()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        # At once: each LOGOUT waits a round trip for its answer.
        closing = [threading.Thread(target=store.close, name="mailmig-logout") for store in idle]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()


def ordered_batches(
    primary: MailStore,
    pool: SourcePool | None,
    folder: str,
    batches: Iterator[list[int]],
    max_helpers: int,
) -> Generator[Batch, None, None]:
    """(uids, messages) per batch in batch order, fetched by `primary` and up to
    `max_helpers` pooled connections at once. A fetch error is raised where its batch
    would have come. Close the generator (contextlib.closing) to stop the fetchers."""
    cond = threading.Condition()
    done: dict[int, Batch | BaseException] = {}
    state = {"claimed": 0, "consumed": 0, "fetchers": 0, "exhausted": False, "stop": False}

    def claim() -> tuple[int, list[int]] | None:
        with cond:
            while not state["stop"] and state["claimed"] - state["consumed"] > state["fetchers"]:
                cond.wait()
            if state["stop"] or state["exhausted"]:
                return None
            try:
                uids = next(batches)
            except StopIteration:
                state["exhausted"] = True
                cond.notify_all()
                return None
            index = state["claimed"]
            state["claimed"] += 1
            return index, uids

    def fetch_with(store: MailStore) -> bool:
        """Fetch batches until none is left; False when the connection failed."""
        while (job := claim()) is not None:
            index, uids = job
            try:
                result: Batch | BaseException = (uids, list(store.fetch(folder, uids)))
            except BaseException as exc:  # handed to the consumer, which raises it in order
                result = exc
            with cond:
                done[index] = result
                cond.notify_all()
            if isinstance(result, BaseException):
                return False
        return True

    def run(store: MailStore | None) -> None:
        helper = store is None
        if helper:
            assert pool is not None
            store = pool.take()
            if store is None:
                with cond:
                    state["fetchers"] -= 1
                    cond.notify_all()
                return
        assert store is not None
        healthy = False
        try:
            healthy = fetch_with(store)
        finally:
            with cond:
                state["fetchers"] -= 1
                cond.notify_all()
            if helper and pool is not None:
                pool.give(store, broken=not healthy)

    threads: list[threading.Thread] = []

    def start(store: MailStore | None) -> None:
        with cond:
            state["fetchers"] += 1
        name = "mailmig-fetch" if store is not None else "mailmig-fetch-helper"
        thread = threading.Thread(target=run, args=(store,), name=name, daemon=True)
        threads.append(thread)
        thread.start()

    helpers = 0

    def wants_helper() -> bool:
        return pool is not None and helpers < max_helpers and pool.available()

    if pool is not None:
        pool.watch(cond)
    start(primary)
    try:
        index = 0
        while True:
            with cond:
                more = not state["exhausted"]
            if more and wants_helper():
                helpers += 1
                start(None)
            with cond:
                while index not in done and not (state["exhausted"] and index >= state["claimed"]):
                    if state["fetchers"] == 0:
                        break
                    if not state["exhausted"] and wants_helper():
                        break  # a pooled connection is free: start a helper first
                    # Woken by every finished batch, and by the pool when another folder
                    # gives a connection back (a helper can start then).
                    cond.wait()
                item = done.pop(index, None)
                if item is None:
                    if state["exhausted"] and index >= state["claimed"]:
                        return
                    if state["fetchers"] == 0:
                        raise RuntimeError("every fetcher ended before the folder was read")
                    continue
                state["consumed"] = index + 1
                cond.notify_all()
            if isinstance(item, BaseException):
                raise item
            yield item
            index += 1
    finally:
        if pool is not None:
            pool.unwatch(cond)
        with cond:
            state["stop"] = True
            cond.notify_all()
        for thread in threads:
            thread.join()
