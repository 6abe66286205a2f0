"""The state verify's connection threads share, behind one condition variable.

Folders are grouped by target folder (folders merged into one target share its messages, so
one thread checks a group's folders in plan order, as a serial verify would). Pair `p` owns
group `p` from the start; the groups beyond the pairs go to whichever pair's target side
claims them first. Each pair's target side loads its groups' target folders and hands them
to the pair's source side, at most `GROUPS_HELD` at a time (the one being checked and the
next), so memory holds a few target folders, not all of them.

Every wait also ends when the run stops (cancel, a lost connection, a bug): each thread
checks `stopped` after a wait and leaves.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from mailmig_tui.engine.verify_match import TargetFolder

GROUPS_HELD = 2
"""Target folders a pair holds loaded: the one being checked and the next one."""

Progress = Callable[[int, int], None]
"""(source messages checked so far, all to check)."""

T = TypeVar("T")


class Stopped(Exception):
    """The run stopped while this thread waited: leave quietly."""


class Load(Generic[T]):
    """A target folder being loaded by one thread for another: its result, once there."""

    def __init__(self, board: Board) -> None:
        self._board = board
        self._done = False
        self._value: T | None = None

    def finish(self, value: T) -> None:
        with self._board.cond:
            self._value, self._done = value, True
            self._board.cond.notify_all()

    def ready(self) -> bool:
        with self._board.cond:
            return self._done

    def wait(self) -> T:
        with self._board.cond:
            self._board.wait_for(lambda: self._done)
            assert self._value is not None  # set with _done
            return self._value


class Board:
    def __init__(
        self,
        groups: Sequence[Sequence[int]],
        pairs: int,
        progress: Progress,
        cancel: threading.Event,
    ) -> None:
        self.cond = threading.Condition()
        self.groups = groups
        self.pairs = pairs
        self._progress = progress
        self._cancel = cancel
        self.uids: dict[int, list[int] | str] = {}
        self._unknown = sum(len(g) for g in groups)
        self._spare = deque(i for g in groups[pairs:] for i in g)
        """Folders whose UIDs any source side lists first (its own group's last)."""
        self._next_group = pairs
        self._handoff: list[deque[tuple[int, Load[TargetFolder | str]] | None]] = [
            deque() for _ in range(pairs)
        ]
        self._held = [0] * pairs
        self.started: set[int] = set()
        """Folders whose check began: a cancelled report lists these."""
        self.stopped = False
        self.cancelled = False
        self.failure: BaseException | None = None
        self._checked = 0
        self._total: int | None = None

    # -- stopping ----------------------------------------------------------------------------

    def wait_for(self, ready: Callable[[], bool]) -> None:
        """Under `cond`: wait until `ready()`, or raise `Stopped`."""
        self.cond.wait_for(lambda: self.stopped or ready())
        if self.stopped:
            raise Stopped

    def check_cancel(self) -> None:
        """Between requests: stop everyone when the operator cancelled."""
        if self._cancel.is_set():
            with self.cond:
                self.cancelled = self.stopped = True
                self.cond.notify_all()
        if self.stopped:
            raise Stopped

    def fail(self, exc: BaseException) -> None:
        with self.cond:
            if self.failure is None and not isinstance(exc, Stopped):
                self.failure = exc
            self.stopped = True
            self.cond.notify_all()

    # -- source UIDs (all known before the total, and so before progress) --------------------

    def spare_folder(self) -> int | None:
        with self.cond:
            return self._spare.popleft() if self._spare else None

    def set_uids(self, index: int, uids: list[int] | str) -> None:
        with self.cond:
            self.uids[index] = uids
            self._unknown -= 1
            if self._unknown == 0:
                self._total = sum(len(u) for u in self.uids.values() if not isinstance(u, str))
                self._progress(0, self._total)
                if self._checked:
                    self._progress(self._checked, self._total)
            self.cond.notify_all()

    def wait_uids(self, index: int) -> list[int] | str:
        with self.cond:
            self.wait_for(lambda: index in self.uids)
            return self.uids[index]

    def add_checked(self, count: int) -> None:
        """Progress, in one order for all threads; held back until the total is known."""
        with self.cond:
            self._checked += count
            if self._total is not None and count:
                self._progress(self._checked, self._total)

    def finish_progress(self) -> None:
        if self._total is not None:
            self._progress(self._checked, self._total)

    # -- target folders, loaded ahead by each pair's target side ------------------------------

    def reserve(self, pair: int, first: bool) -> tuple[int, Load[TargetFolder | str]] | None:
        """Target side: the next group to load (the pair's own first, then any unclaimed
        one), once the pair holds fewer than GROUPS_HELD; None when none are left."""
        with self.cond:
            self.wait_for(lambda: self._held[pair] < GROUPS_HELD)
            if first:
                group = pair
            elif self._next_group < len(self.groups):
                group, self._next_group = self._next_group, self._next_group + 1
            else:
                self._handoff[pair].append(None)
                self.cond.notify_all()
                return None
            self._held[pair] += 1
            load: Load[TargetFolder | str] = Load(self)
            self._handoff[pair].append((group, load))
            self.cond.notify_all()
            return group, load

    def next_group(self, pair: int) -> tuple[int, Load[TargetFolder | str]] | None:
        """Source side: the next group its target side reserved; None when it is done."""
        with self.cond:
            self.wait_for(lambda: bool(self._handoff[pair]))
            return self._handoff[pair].popleft()

    def release(self, pair: int) -> None:
        with self.cond:
            self._held[pair] -= 1
            self.cond.notify_all()
