"""Checking a folder as soon as its copy is done, on the copy's own connection pair.

Far from the servers, the check after a copy used to start only when the last folder was
copied, on new connections (a connect and a login each), with every folder's probes parsed
at once. A copy folder worker that has no folder left to copy checks the folders already
copied instead: the small folders are checked while the big INBOX is still being copied,
and INBOX is checked by its own worker right after its last APPEND, on connections that are
already logged in. What no worker checked (a worker stopped, a lost connection, folders
merged into one target) is left to the check after the copy (`verify`), which merges these
results into one report, the same report a check after the copy gives.

Only where both stores can list a folder's UIDs on a fresh view (`UidLists`, IMAP): a
connection that has a folder selected may hold a stale view of it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping, Sequence

from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.verify_board import Board, Load, Stopped
from mailmig_tui.engine.verify_match import (
    TargetFolder,
    UidLists,
    check_folder,
    chosen_uids,
    fresh_uids,
    load_target,
)
from mailmig_tui.engine.verify_report import FolderCheck, VerifyReport
from mailmig_tui.errors import MailmigError
from mailmig_tui.stores.base import MailStore

log = logging.getLogger(__name__)


class EarlyChecks:
    """The folders a copy checks itself, shared by its folder workers."""

    def __init__(
        self,
        mappings: Sequence[FolderMapping],
        *,
        only: Mapping[str, frozenset[int]] | None,
        skip: Mapping[str, frozenset[int]],
        cancel: threading.Event,
    ) -> None:
        self._mappings = mappings
        self._only = only
        self._skip = skip
        self._cancel = cancel
        sharing = Counter(m.target for m in mappings)
        self._alone = {i for i, m in enumerate(mappings) if sharing[m.target] == 1}
        """Folders merged into one target share its messages: checked after the copy."""
        self._lock = threading.Lock()
        self._copied: list[int] = []
        self.results: dict[int, FolderCheck] = {}
        """Mapping index -> its finished check."""

    @property
    def checked_messages(self) -> int:
        with self._lock:
            return sum(c.source_messages for c in self.results.values())

    def copied(self, index: int) -> None:
        """The folder's copy ended without an error: it may be checked now."""
        if index in self._alone:
            with self._lock:
                self._copied.append(index)

    def check_copied(self, source: MailStore, target: MailStore) -> bool:
        """Check copied folders on this pair until none is left; False when the pair can't
        be trusted any more (a failure that may have left a connection out of step)."""
        if not (isinstance(source, UidLists) and isinstance(target, UidLists)):
            return True
        while not self._cancel.is_set():
            with self._lock:
                if not self._copied:
                    return True
                index = self._copied.pop()
            check = self._check(index, source, target)
            if check is None:
                return False
            with self._lock:
                self.results[index] = check
        return True

    def _check(self, index: int, source: MailStore, target: MailStore) -> FolderCheck | None:
        mapping = self._mappings[index]
        check = FolderCheck(mapping.source, mapping.target)
        board = Board([[index]], 1, lambda _checked, _total: None, self._cancel)
        load: Load[TargetFolder | str] = Load(board)
        loader = threading.Thread(
            target=_load, args=(board, load, target, mapping.target), name="mailmig-check"
        )
        loader.start()
        try:
            uids = fresh_uids(source, mapping.source)
            chosen = chosen_uids(uids, mapping.source, self._only, self._skip)
            check_folder(source, mapping.source, chosen, check, load, board)
        except (MailmigError, Stopped) as exc:
            log.debug("early check of %s left to the end: %s", mapping.source, exc)
            board.fail(exc)
        except Exception:  # a bug: the check after the copy does it again and reports it
            log.debug("early check of %s failed", mapping.source, exc_info=True)
            board.fail(Stopped())
        loader.join()
        return None if board.stopped else check


def _load(board: Board, load: Load[TargetFolder | str], target: MailStore, folder: str) -> None:
    try:
        load.finish(load_target(target, folder, board))
    except BaseException as exc:  # ends the source side's wait; the pair is left alone
        board.fail(exc if isinstance(exc, Exception) else Stopped())


def merged(
    mappings: Sequence[FolderMapping], early: Mapping[int, FolderCheck], rest: VerifyReport
) -> VerifyReport:
    """One report in plan order: the early checks, and `rest` for the other mappings (in
    their order); `rest` itself when it was interrupted (its folders are not all there)."""
    if rest.interrupted:
        return rest
    later = iter(rest.folders)
    report = VerifyReport(interrupted=rest.interrupted)
    report.folders = [early[i] if i in early else next(later) for i in range(len(mappings))]
    return report
