"""`copy_folders`: the engine's entry point, copying a plan's folders over a small pool of
connection pairs.

A plain function for a worker thread, called by the copy service (`copy_service.py`).
Folders are handed out largest first, so the big INBOX starts at once instead of last; each
folder is copied by one connection pair from start to end, which keeps the source's UID
order within a folder. Events from the pool are serialised before they reach `on_event`.
The report lists every planned folder, those the run never reached too, and accounts for
every selected message (`FolderReport.settle`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from mailmig_tui.engine.append_window import InFlightBudget
from mailmig_tui.engine.chunked_fetch import SourcePool
from mailmig_tui.engine.early_check import EarlyChecks
from mailmig_tui.engine.events import (
    CopyEvent,
    CopyReport,
    FolderDone,
    FolderReport,
    FolderStarted,
)
from mailmig_tui.engine.folder_copier import Connector, CopySettings, EventSink, FolderCopier
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.malloc_tuning import tune_malloc
from mailmig_tui.engine.memory_budget import append_window_for
from mailmig_tui.engine.plan import FolderWork, Plan
from mailmig_tui.engine.side_by_side import both
from mailmig_tui.engine.staging import TargetSlots, drop_leftovers
from mailmig_tui.engine.target_prep import needs_target, prepare_targets
from mailmig_tui.errors import ConnectError, MailmigError
from mailmig_tui.presets import default_connections
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap_prepare import Prepared

log = logging.getLogger(__name__)


def copy_folders(
    plan: Plan,
    *,
    source: MailStore,
    target: MailStore,
    open_source: Connector,
    open_target: Connector,
    journal: Journal,
    cancel: threading.Event | None = None,
    on_event: EventSink = lambda event: None,
    settings: CopySettings | None = None,
    checks: EarlyChecks | None = None,
) -> CopyReport:
    """Copy everything the plan says is missing; returns the report.

    `source` and `target` are the planning connections, reused by the first worker; the
    others open their own through `open_source` / `open_target`. With `checks`, a worker
    that has no folder left to copy checks the folders copied so far (`early_check`).
    """
    settings = settings or CopySettings()
    cancel = cancel or threading.Event()
    lock = threading.Lock()

    def emit(event: CopyEvent) -> None:
        with lock:
            on_event(event)

    pending: queue.Queue[tuple[int, FolderWork]] = queue.Queue()
    order = sorted(range(len(plan.folders)), key=lambda i: -plan.folders[i].bytes_to_copy)
    for index in order:
        pending.put((index, plan.folders[index]))
    reports = [_planned_report(work) for work in plan.folders]
    errors: list[str] = []
    abort = threading.Event()

    def work(copier: FolderCopier) -> bool:
        """Copy folders while there are any, then check copied ones; False when the
        pair was left in a state not to lend to anyone."""
        while not (cancel.is_set() or abort.is_set()):
            try:
                index, folder = pending.get_nowait()
            except queue.Empty:
                break
            mapping = folder.mapping
            report = reports[index]
            if folder.error:  # could not be opened when planning: listed, never copied
                emit(FolderDone(report))
                continue
            emit(
                FolderStarted(
                    mapping.source, mapping.target, len(folder.to_copy), folder.bytes_to_copy
                )
            )
            try:
                copier.folder(folder, report)
            except ConnectError as exc:  # reconnecting failed for good: stop the whole run
                errors.append(exc.one_line())
                abort.set()
            except Exception as exc:
                # A bug or an answer no store turned into our errors: one line for the
                # operator (the traceback only in the debug log), and the run stops cleanly
                # instead of a copy thread dying with a traceback on the terminal.
                log.debug("internal error in %s", mapping.source, exc_info=True)
                report.error = f"internal error: {type(exc).__name__}: {exc}"
                errors.append(f"{report.error} (run again with --debug and report it)")
                abort.set()
            finally:
                report.settle()
                emit(FolderDone(report))
            if checks is not None and not (report.error or abort.is_set()):
                checks.copied(index)
        if checks is None or cancel.is_set() or abort.is_set():
            return True
        return checks.check_copied(copier.source, copier.target)

    prepared: dict[str, Prepared] = {}
    ready = threading.Event()
    """Set once the target folders are prepared (or that failed): workers start then."""

    def worker(first: bool) -> None:
        try:
            stores = (
                (source, target)
                if first
                else both(open_source, open_target, unused=lambda store: store.close())
            )
        except MailmigError as exc:
            if first:
                raise
            errors.append(exc.one_line())  # the others go on with fewer connections
            return
        ready.wait()
        copier = FolderCopier(
            plan,
            *stores,
            open_source,
            open_target,
            journal,
            cancel,
            emit,
            settings,
            pool,
            budget,
            prepared,
            slots,
        )
        finished = False
        try:
            finished = work(copier)
        finally:
            # The planning connections belong to the caller; anything else (this worker's
            # own, or reconnected ones) is ours to close, or, when this worker ran out of
            # folders, the pool's to lend to a big folder still being fetched.
            for mine, theirs in ((copier.source, source), (copier.target, target)):
                if first and mine is theirs:
                    continue
                if finished and mine is copier.source:
                    pool.donate(mine)
                else:
                    mine.close()

    tune_malloc()
    connections = settings.connections or default_connections(
        plan.source_preset, plan.target_preset
    )
    # Only folders with something to write need a connection pair: a re-run with nothing
    # to copy opens none beyond the planning pair.
    busy = sum(1 for work in plan.folders if needs_target(work))
    workers, pooled = plan_connections(connections, max(1, busy))
    pool = SourcePool(open_source, pooled)
    # Target connections the workers leave unused: a big folder on a target whose APPENDs
    # wait a round trip each is appended over them too (`staging`), where the preset allows.
    stages = plan.target_preset is None or plan.target_preset.staging
    slots = TargetSlots(connections - workers if stages else 0)
    budget = InFlightBudget(append_window_for(target, settings.append_window_bytes))
    started = time.monotonic()
    result = CopyReport()
    try:
        extra = workers - 1
        threads = [
            threading.Thread(target=worker, args=(False,), name=f"mailmig-copy-{n}")
            for n in range(extra)
        ]
        for thread in threads:
            thread.start()
        try:
            # While the other workers log in: every target folder in one round trip.
            prepared.update(prepare_targets(target, plan.folders))
            drop_leftovers(target)
            for index, planned in enumerate(plan.folders):
                done = prepared.get(planned.mapping.target)
                if done is not None and done.created and not planned.target_exists:
                    planned.target_exists = reports[index].created = True
        finally:
            ready.set()
        worker(True)
        for thread in threads:
            thread.join()
    finally:
        pool.close()
        for report in reports:  # folders never reached: what they hold is not copied
            report.settle()
        result.folders = reports
        result.error = "; ".join(dict.fromkeys(e for e in errors if abort.is_set()))
        result.cancelled = cancel.is_set()
        result.elapsed = time.monotonic() - started
    return result


def plan_connections(connections: int, folders: int) -> tuple[int, int]:
    """(folder workers, pooled fetch connections) within `connections` per server.

    Each worker holds one source and one target connection and copies a folder at a time
    (a folder's appends stay on one connection, so its order is kept). The rest of the
    source budget, half of a small one and three of a larger one, goes to a pool that lets
    big folders fetch over several connections at once: one huge INBOX no longer runs on
    one pair. More pairs rather than a larger pool: a folder waiting for a free pair ends
    the copy late, while a pair whose folders are done gives its source connection to the
    pool once it has checked them (`early_check`). The target never gets more than
    `connections`, the source never more than `connections` at any time.
    """
    connections = max(1, connections)
    pairs = max((connections + 1) // 2, connections - 3)
    workers = max(1, min(folders, pairs))
    return workers, connections - workers


def _planned_report(work: FolderWork) -> FolderReport:
    """A folder's report before it is copied: what the plan found already there."""
    mapping = work.mapping
    return FolderReport(
        mapping.source,
        mapping.target,
        source_messages=work.selected,
        already_present=work.present,
        filtered_out=len(work.filtered_out),
        error=work.error,
    )
