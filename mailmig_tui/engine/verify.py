"""Verification: is every source message on the target? Compared by content identity.

Three outcomes per message: missing (a failure), present but altered by the target (a
warning: which header or how many bytes changed), and present; flags and keywords that
differ are listed per message too.

`mailmig verify` calls it on its own; the copy service calls it after every copy, over the
copied folders (and only the marked messages of a folder, with `only`), because a target
that answers OK to an APPEND has not necessarily kept the message.

Far from the servers every request costs a round trip, so the folders are checked on up to
`connections` pairs at once (opened at once), and within a pair the target folder loads on
the target connection while the source's probes come in on the source connection (one
thread per connection: a store is used by one thread at a time). `verify_board.py` says who
does what; `verify_match.py` checks one folder. The report is the one a serial check gives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.verify_board import Board, Progress, Stopped
from mailmig_tui.engine.verify_match import (
    CHUNK,
    check_folder,
    chosen_uids,
    fresh_uids,
    load_target,
)
from mailmig_tui.engine.verify_report import FlagDifference, FolderCheck, VerifyReport
from mailmig_tui.errors import ConnectError, MailmigError
from mailmig_tui.kinds import kind_of
from mailmig_tui.stores.base import MailStore

if TYPE_CHECKING:  # importing verify must not load the copy engine (history, logs do)
    from mailmig_tui.engine.session import Accounts

__all__ = [
    "CHUNK",
    "FlagDifference",
    "FolderCheck",
    "Progress",
    "VerifyReport",
    "verify",
    "verify_connections",
]

Connector = Callable[[], MailStore]


def verify_connections(accounts: Accounts, cap: int) -> int:
    """Connection pairs for a verify within `cap` per server: local stores (Maildir, mbox)
    cost no round trips and are read by one pair."""
    target = accounts.target_stand_in or accounts.target
    if kind_of(accounts.source).local or kind_of(target).local:
        return 1
    return max(1, cap)


def verify(
    mappings: Sequence[FolderMapping],
    *,
    open_source: Connector,
    open_target: Connector,
    connections: int = 1,
    opened: tuple[MailStore, MailStore] | None = None,
    only: Mapping[str, frozenset[int]] | None = None,
    skip: Mapping[str, frozenset[int]] | None = None,
    progress: Progress = lambda checked, total: None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Per mapping: which source messages have no copy on the target, which copies the
    target altered, and whose flags differ.

    Uses at most `connections` connections to each server: `opened` (the caller's, left
    open) and more from `open_source` / `open_target`, which this closes. `only` limits a
    source folder to some UIDs (the marked messages a copy took); folders it does not name
    are checked whole; `skip` leaves some UIDs out (those the copy filter left on the
    source: not missing, just not wanted); `cancel` stops between requests and leaves the
    report `interrupted`. Folders merged into one target share that target's messages,
    each copy accounting for one source message only. A folder that cannot be opened is
    reported with its error; the others are checked. Raises `ConnectError` when a
    connection is lost, and the error of opening when not even one pair opens.
    """
    cancel = cancel or threading.Event()
    checks = [FolderCheck(m.source, m.target) for m in mappings]
    groups = _groups(mappings)
    if not groups:
        progress(0, 0)
        return VerifyReport()
    wanted = min(max(1, connections), len(groups))
    pairs = _open_pairs(wanted, open_source, open_target, opened)
    board = Board(groups, len(pairs), progress, cancel)

    def source_side(pair: int, store: MailStore) -> None:
        # The other pairs' folders first, this pair's own last and its first folder at the
        # very end: that one stays open for the check.
        while (index := board.spare_folder()) is not None:
            board.check_cancel()
            board.set_uids(index, _selected(store, mappings[index], only, skip))
        for index in reversed(groups[pair]):
            board.check_cancel()
            board.set_uids(index, _selected(store, mappings[index], only, skip))
        while (item := board.next_group(pair)) is not None:
            group, load = item
            for index in groups[group]:
                board.check_cancel()
                uids = board.wait_uids(index)
                with board.cond:
                    board.started.add(index)
                if isinstance(uids, str):
                    checks[index].error = uids
                    continue
                check_folder(store, mappings[index].source, uids, checks[index], load, board)
            board.release(pair)

    def target_side(pair: int, store: MailStore) -> None:
        first = True
        while (item := board.reserve(pair, first)) is not None:
            group, load = item
            first = False
            load.finish(load_target(store, mappings[groups[group][0]].target, board))

    threads = []
    for pair, stores in enumerate(pairs):
        for side, store in zip((source_side, target_side), stores, strict=True):
            mine = opened is None or pair > 0
            threads.append(
                threading.Thread(
                    target=_run,
                    args=(board, side, pair, store, mine),
                    name=f"mailmig-verify-{pair}",
                    daemon=True,
                )
            )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if board.failure is not None:
        raise board.failure
    report = VerifyReport(interrupted=board.cancelled)
    if board.cancelled:
        report.folders = [c for i, c in enumerate(checks) if i in board.started]
        return report
    board.finish_progress()
    report.folders = checks
    return report


def _run(
    board: Board,
    side: Callable[[int, MailStore], None],
    pair: int,
    store: MailStore,
    mine: bool,
) -> None:
    """One connection's thread: its side of the work, then its logout (when it is ours)."""
    try:
        side(pair, store)
    except Stopped:
        pass
    except BaseException as exc:  # re-raised by verify() in the caller's thread
        board.fail(exc)
    finally:
        if mine:
            store.close()


def _groups(mappings: Sequence[FolderMapping]) -> list[list[int]]:
    """Mapping indexes grouped by target folder, in plan order of first appearance."""
    by_target: dict[str, list[int]] = {}
    for index, mapping in enumerate(mappings):
        by_target.setdefault(mapping.target, []).append(index)
    return list(by_target.values())


def _selected(
    source: MailStore,
    mapping: FolderMapping,
    only: Mapping[str, frozenset[int]] | None,
    skip: Mapping[str, frozenset[int]] | None,
) -> list[int] | str:
    """The source UIDs to check in a folder, or why it cannot be opened."""
    try:
        all_uids = fresh_uids(source, mapping.source)
    except ConnectError:
        raise
    except MailmigError as exc:
        return exc.one_line()
    return chosen_uids(all_uids, mapping.source, only, skip)


def _open_pairs(
    wanted: int,
    open_source: Connector,
    open_target: Connector,
    opened: tuple[MailStore, MailStore] | None,
) -> list[tuple[MailStore, MailStore]]:
    """Up to `wanted` pairs, all connections opened at once. A server that refuses the
    extra ones (its own limit is lower) leaves fewer pairs; none at all raises the error."""
    pairs = [opened] if opened is not None else []
    count = wanted - len(pairs)
    results: tuple[list[MailStore | BaseException], ...] = ([], [])

    def connect(side: int, opener: Connector) -> None:
        try:
            store: MailStore | BaseException = opener()
        except Exception as exc:  # raised below when no pair opens
            store = exc
        results[side].append(store)  # list.append is atomic

    threads = [
        threading.Thread(target=connect, args=(side, opener), name="mailmig-verify-open")
        for side, opener in ((0, open_source), (1, open_target))
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sources = [s for s in results[0] if isinstance(s, MailStore)]
    targets = [t for t in results[1] if isinstance(t, MailStore)]
    opened_now = min(len(sources), len(targets))
    pairs += zip(sources[:opened_now], targets[:opened_now], strict=True)
    for extra in sources[opened_now:] + targets[opened_now:]:
        extra.close()
    if not pairs:
        raise next(e for e in results[0] + results[1] if isinstance(e, BaseException))
    return pairs
