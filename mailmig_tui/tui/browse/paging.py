"""Which pages of summaries the message list still needs, shared with one loader thread.

The UI thread calls `want()` with the rows on screen; a loader thread calls `take()` until it
returns None. The newest request is served first, then one page ahead of the screen, and
pages scrolled away from before their turn are dropped, so holding PgDn through 100,000
messages fetches only what is looked at.
`reset()` starts a new epoch (another folder, sort or search): a loader of an older epoch
stops at its next `take()`. After a failure the queue pauses until the next reset, so a
server that went away is not asked again on every repaint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

PAGE_SIZE = 200
AHEAD = 1
"""Pages fetched beyond the last row shown: over a slow link, the next PgDn is ready."""


class PageQueue:
    def __init__(self, page_size: int = PAGE_SIZE) -> None:
        self.page_size = page_size
        self._lock = threading.Lock()
        self._epoch = 0
        self._jobs: list[tuple[int, list[int]]] = []
        self._requested: set[int] = set()
        self._window = (0, 0)
        self._active = False
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def reset(self) -> int:
        """Forget every request (the rows changed); returns the new epoch."""
        with self._lock:
            self._epoch += 1
            self._jobs.clear()
            self._requested.clear()
            self._active = False
            self._paused = False
            return self._epoch

    def want(
        self,
        first: int,
        last: int,
        rows: Sequence[int],
        missing: Callable[[int], bool],
        ahead: int = AHEAD,
    ) -> int | None:
        """Queue the pages covering rows first..last whose uids are `missing`, and `ahead`
        pages after them (fetched after the visible ones, so PgDn finds rows ready).

        Returns the epoch when no loader is running and one must be started, else None.
        """
        size = self.page_size
        with self._lock:
            if self._paused:
                return None
            self._window = (first, last)
            visible = range(first // size, last // size + 1)
            beyond = range(last // size + 1, min(last // size + 1 + ahead, -(-len(rows) // size)))
            # The loader takes the newest job first: queue the pages ahead before those seen.
            for page in [*reversed(beyond), *visible]:
                if page in self._requested:
                    continue
                uids = [uid for uid in rows[page * size : (page + 1) * size] if missing(uid)]
                if uids:
                    self._requested.add(page)
                    self._jobs.append((page, uids))
            if self._jobs and not self._active:
                self._active = True
                return self._epoch
            return None

    def take(self, epoch: int) -> list[int] | None:
        """The uids of the next page to load, or None: the loader then ends."""
        size = self.page_size
        with self._lock:
            if epoch != self._epoch:
                return None
            first, last = self._window
            while self._jobs:
                page, uids = self._jobs.pop()
                if first // size - 1 <= page <= last // size + 1:
                    return uids
                self._requested.discard(page)  # scrolled away: ask again when seen again
            self._active = False
            return None

    def failed(self, epoch: int) -> None:
        """The loader of `epoch` failed: stop asking until the next reset."""
        with self._lock:
            if epoch == self._epoch:
                self._jobs.clear()
                self._requested.clear()
                self._active = False
                self._paused = True
