"""Running a plan: create folders, copy messages byte for byte, journal, report progress.

`run_transfer` is a plain function for a worker thread. It reports through `on_event`,
stops between messages when `cancel` is set, records every copy in the journal as it
happens, and after a dropped connection reconnects with backoff and re-derives what is left
from the servers (see `plan.analyse_folder`), so nothing is copied twice or skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from mailmig_tui.engine.events import (
    Failure,
    Finished,
    FolderDone,
    FolderReport,
    FolderStarted,
    MessageCopied,
    MessageFailed,
    MessageRef,
    MessageSkipped,
    Reconnecting,
    TransferEvent,
    TransferReport,
)
from mailmig_tui.engine.identity import identity_of
from mailmig_tui.engine.journal import Journal, JournalEntry
from mailmig_tui.engine.plan import FolderWork, Plan, analyse_folder
from mailmig_tui.errors import (
    ConnectError,
    FolderMissing,
    MailmigError,
    MessageRejected,
    MessageTooLarge,
    QuotaExceeded,
)
from mailmig_tui.headers import decode_words, message_id, split_header_block
from mailmig_tui.model import Message
from mailmig_tui.stores.base import HeaderProbe, MailStore

log = logging.getLogger(__name__)

Connector = Callable[[], MailStore]
EventSink = Callable[[TransferEvent], None]


@dataclass(frozen=True)
class TransferSettings:
    batch_bytes: int = 8 * 1024 * 1024
    """Bytes fetched from the source at once: bounds memory whatever the mailbox size."""
    batch_messages: int = 100
    max_reconnects: int = 5
    """Reconnect attempts per folder without progress before the run gives up."""
    backoff: float = 1.0
    max_backoff: float = 30.0


def allowed_flags(flags: Sequence[str], permanent: frozenset[str] | None) -> tuple[str, ...]:
    """Flags the target keeps: never \\Recent; only PERMANENTFLAGS when the folder limits them."""
    kept = [f for f in flags if f.lower() != "\\recent"]
    if permanent is None:
        return tuple(kept)
    allowed = {p.lower() for p in permanent}
    return tuple(f for f in kept if f.lower() in allowed)


def describe(folder: str, probe: HeaderProbe) -> MessageRef:
    fields = split_header_block(probe.headers)
    return MessageRef(
        folder=folder,
        uid=probe.uid,
        size=probe.size,
        subject=decode_words(fields.get("subject", b"")),
        message_id=message_id(fields.get("message-id", b"")),
    )


def batches(probes: Sequence[HeaderProbe], settings: TransferSettings) -> Iterator[list[int]]:
    """UID batches bounded by bytes and count; a message larger than the budget goes alone."""
    batch: list[int] = []
    size = 0
    for probe in probes:
        if batch and (
            size + probe.size > settings.batch_bytes or len(batch) >= settings.batch_messages
        ):
            yield batch
            batch, size = [], 0
        batch.append(probe.uid)
        size += probe.size
    if batch:
        yield batch


class _Run:
    """The state of one transfer; one instance per `run_transfer` call."""

    def __init__(
        self,
        plan: Plan,
        source: MailStore,
        target: MailStore,
        open_source: Connector,
        open_target: Connector,
        journal: Journal,
        cancel: threading.Event,
        on_event: EventSink,
        settings: TransferSettings,
    ) -> None:
        self.plan = plan
        self.source, self.target = source, target
        self.open_source, self.open_target = open_source, open_target
        self.journal = journal
        self.cancel = cancel
        self.emit = on_event
        self.settings = settings

    def folder(self, work: FolderWork, report: FolderReport) -> FolderReport:
        """Copy one folder, filling `report`; raises ConnectError when reconnecting fails."""
        report.source_messages = work.source.messages
        report.already_present = work.present
        counted: set[int] = set()
        attempts = 0
        while True:
            progress = len(counted)
            try:
                self._copy(work, report, counted)
                return report
            except ConnectError as exc:
                attempts = 1 if len(counted) > progress else attempts + 1
                if attempts > self.settings.max_reconnects:
                    report.error = exc.one_line()
                    raise
                work = self._reconnect(work, report, counted, attempts, exc)
            except (FolderMissing, QuotaExceeded) as exc:
                report.error = exc.one_line()
                return report
            except MailmigError as exc:  # e.g. the target refused to create the folder
                report.error = exc.one_line()
                return report

    def _reconnect(
        self,
        work: FolderWork,
        report: FolderReport,
        counted: set[int],
        attempt: int,
        exc: ConnectError,
    ) -> FolderWork:
        delay = min(self.settings.backoff * 2 ** (attempt - 1), self.settings.max_backoff)
        self.emit(Reconnecting("source and target", attempt, delay, exc.one_line()))
        log.warning("reconnecting in %.1f s after: %s", delay, exc.one_line())
        if self.cancel.wait(delay):
            raise exc
        for store in (self.source, self.target):
            store.close()
        self.source = self.open_source()
        self.target = self.open_target()
        fresh = analyse_folder(
            self.plan.source,
            self.plan.target,
            self.source,
            self.target,
            self.journal,
            work.mapping,
            work.source,
            target_exists=True,
            limit=self.plan.size_limit,
            claimed=set(),
        )
        # An APPEND whose answer was lost is now found on the target: that copy was ours.
        for entry in fresh.newly_matched:
            if entry.uid not in counted and any(p.uid == entry.uid for p in work.to_copy):
                counted.add(entry.uid)
                report.copied += 1
        return fresh

    def _copy(self, work: FolderWork, report: FolderReport, counted: set[int]) -> None:
        mapping, key = work.mapping, work.key
        if not work.target_exists:
            self.target.create_folder(mapping.target)
            work.target_exists = report.created = True
        permanent = self.target.permanent_flags(mapping.target)
        if work.newly_matched:
            self.journal.record(key, work.newly_matched)
        for entry, flags in work.flag_updates:
            if entry.target_uid is not None:
                self.target.set_flags(
                    mapping.target, entry.target_uid, allowed_flags(flags, permanent)
                )
                self.journal.record(key, [replace(entry, flags=flags)])
                report.flags_updated += 1
        work.flag_updates = []
        for probe in work.too_large:
            if probe.uid not in counted:
                counted.add(probe.uid)
                limit = self.plan.size_limit
                self._fail(
                    report,
                    describe(mapping.source, probe),
                    f"larger than the target accepts ({probe.size:,} > {limit:,} bytes)",
                    too_large=True,
                )
        sizes = {p.uid: p for p in work.to_copy}
        for uids in batches([p for p in work.to_copy if p.uid not in counted], self.settings):
            if self.cancel.is_set():
                return
            returned: set[int] = set()
            for message in self.source.fetch(mapping.source, uids):
                returned.add(message.uid)
                self._append(work, report, message, sizes[message.uid], permanent)
                counted.add(message.uid)
                if self.cancel.is_set():
                    return
            for uid in uids:
                if uid not in returned:
                    counted.add(uid)
                    self.emit(
                        MessageSkipped(
                            describe(mapping.source, sizes[uid]),
                            "deleted on the source during the run",
                        )
                    )

    def _append(
        self,
        work: FolderWork,
        report: FolderReport,
        message: Message,
        probe: HeaderProbe,
        permanent: frozenset[str] | None,
    ) -> None:
        mapping = work.mapping
        outgoing = replace(message, flags=allowed_flags(message.flags, permanent))
        try:
            [result] = self.target.append(mapping.target, [outgoing])
        except MessageTooLarge as exc:
            self._fail(report, describe(mapping.source, probe), exc.message, too_large=True)
            return
        except QuotaExceeded as exc:
            self._fail(report, describe(mapping.source, probe), exc.message)
            raise
        except MessageRejected as exc:
            self._fail(report, describe(mapping.source, probe), exc.message)
            return
        validity = result.uidvalidity
        if validity is None and result.uid is not None:
            validity = self.target.folder_status(mapping.target).uidvalidity
        self.journal.record(
            work.key,
            [JournalEntry(message.uid, validity, result.uid, identity_of(probe), message.flags)],
        )
        report.copied += 1
        report.bytes += len(message.data)
        self.emit(MessageCopied(MessageRef(mapping.source, message.uid, len(message.data))))

    def _fail(
        self, report: FolderReport, ref: MessageRef, reason: str, *, too_large: bool = False
    ) -> None:
        failure = Failure(ref, reason, too_large)
        report.failures.append(failure)
        if too_large:
            report.too_large += 1
        else:
            report.failed += 1
        self.emit(MessageFailed(failure))


def run_transfer(
    plan: Plan,
    *,
    source: MailStore,
    target: MailStore,
    open_source: Connector,
    open_target: Connector,
    journal: Journal,
    cancel: threading.Event | None = None,
    on_event: EventSink = lambda event: None,
    settings: TransferSettings | None = None,
) -> TransferReport:
    """Copy everything the plan says is missing; returns the report (also sent as Finished)."""
    run = _Run(
        plan,
        source,
        target,
        open_source,
        open_target,
        journal,
        cancel or threading.Event(),
        on_event,
        settings or TransferSettings(),
    )
    report = TransferReport()
    started = time.monotonic()
    try:
        for work in plan.folders:
            if run.cancel.is_set():
                break
            on_event(
                FolderStarted(
                    work.mapping.source, work.mapping.target, len(work.to_copy), work.bytes_to_copy
                )
            )
            folder_report = FolderReport(work.mapping.source, work.mapping.target)
            try:
                folder_report = run.folder(work, folder_report)
            except ConnectError as exc:
                report.error = exc.one_line()
                break
            finally:
                report.folders.append(folder_report)
                on_event(FolderDone(folder_report))
    finally:
        report.cancelled = run.cancel.is_set()
        report.elapsed = time.monotonic() - started
        on_event(Finished(report))
    return report
