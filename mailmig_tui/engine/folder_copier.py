"""Copying one folder: create it, copy messages byte for byte in batches, journal, report.

`FolderCopier` stops between batches when `cancel` is set, records every copy in the journal
as it happens, and after a dropped connection reconnects with backoff and re-derives what is
left from the servers (see `plan.analyse_folder`), so nothing is copied twice or skipped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from mailmig_tui.engine.append_window import AppendWindow, InFlightBudget
from mailmig_tui.engine.chunked_fetch import SourcePool, ordered_batches
from mailmig_tui.engine.events import (
    Altered,
    CopyEvent,
    Failure,
    FolderReport,
    MessageCopied,
    MessageFailed,
    MessageRef,
    MessageRepaired,
    MessageSkipped,
    Reconnecting,
    ServerBusy,
)
from mailmig_tui.engine.identity import identity_of, probe_of
from mailmig_tui.engine.journal import Journal, JournalEntry
from mailmig_tui.engine.plan import FolderWork, Plan, analyse_folder, same_flags
from mailmig_tui.engine.repair import repair
from mailmig_tui.engine.staging import (
    Part,
    StagedParts,
    StagingTarget,
    TargetSlots,
    split,
    take_at_once,
)
from mailmig_tui.errors import (
    ConnectError,
    FolderMissing,
    MailmigError,
    MessageRejected,
    MessageTooLarge,
    QuotaExceeded,
    ServerThrottled,
    Throttled,
)
from mailmig_tui.headers import decode_words, message_id, split_header_block
from mailmig_tui.model import AppendResult, Message
from mailmig_tui.stores.base import HeaderProbe, MailStore
from mailmig_tui.stores.imap_prepare import Prepared

log = logging.getLogger(__name__)

Connector = Callable[[], MailStore]
EventSink = Callable[[CopyEvent], None]


@dataclass(frozen=True)
class CopySettings:
    batch_bytes: int = 2 * 1024 * 1024
    """Bytes fetched from the source at once: bounds memory whatever the mailbox size."""
    batch_messages: int = 100
    connections: int | None = None
    """The most connections opened to each server (see `runner.plan_connections`): a
    connection pair per folder being copied, the rest fetching big folders in parallel.
    None: the servers' presets decide (`presets.default_connections`)."""
    fetch_helpers: int = 8
    """Extra source connections one folder may fetch over at once (from the shared pool)."""
    append_window_batches: int = 32
    append_window_bytes: int = 32 * 1024 * 1024
    """Batches, and their bytes, sent to the target before the oldest answer is read: a
    round trip is paid per half window, not per batch. The bytes are a budget for all
    folders together (one big INBOX far away can use it all; 32 MB is 100 ms at 320 MB/s)."""
    max_reconnects: int = 5
    """Reconnect attempts per folder without progress before the run gives up."""
    backoff: float = 1.0
    max_backoff: float = 30.0
    throttle_retries: int = 5
    """Times one batch is sent again after the target asked to slow down, before its
    messages are reported as failed (a re-run copies them)."""
    sleep: Callable[[float], None] | None = None
    """Test hook: called to wait instead of waiting on the cancel event (a fake clock)."""
    staging_min_messages: int = 200
    """A folder with at least this many messages to copy, on a target whose APPENDs wait a
    round trip each (no LITERAL+), is appended over several connections (`staging`)."""
    staging_parts: int = 4
    """At most this many parts (connections) for one such folder."""
    repair: bool = False
    """`--repair`: send a message the target refused once more, repaired (bare LF to CRLF,
    8-bit headers RFC 2047 encoded, NUL removed), and report it as altered."""


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


def batches(probes: Sequence[HeaderProbe], settings: CopySettings) -> Iterator[list[int]]:
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


class FolderCopier:
    """One pair of connections (source, target) copying folders one at a time.

    `copy_folders` runs several of these on threads; each owns its connections, and shares
    only the journal (which locks) and the event sink (which the runner serialises).
    """

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
        settings: CopySettings,
        fetch_pool: SourcePool | None = None,
        append_budget: InFlightBudget | None = None,
        prepared: Mapping[str, Prepared] | None = None,
        staging: TargetSlots | None = None,
    ) -> None:
        self.staging = staging
        """Target connections a big folder may stage over (`staging`); None: never."""
        self.prepared = prepared or {}
        """Target folders made ready in advance (`target_prep`): no CREATE or SELECT here."""
        self.fetch_pool = fetch_pool
        self.append_budget = append_budget
        """Bytes in flight to the target, shared by all workers (see `InFlightBudget`)."""
        """Extra source connections a big folder may fetch over (shared by all workers)."""
        self.plan = plan
        self.source, self.target = source, target
        self.open_source, self.open_target = open_source, open_target
        self.journal = journal
        self.cancel = cancel
        self.emit = on_event
        self.settings = settings
        self._validity: dict[str, int] = {}

    def close(self) -> None:
        for store in (self.source, self.target):
            store.close()

    def folder(self, work: FolderWork, report: FolderReport) -> FolderReport:
        """Copy one folder, filling `report`; raises ConnectError when reconnecting fails."""
        counted: set[int] = set()
        attempts = 0
        lost: ConnectError | None = None
        while True:
            progress = len(counted)
            try:
                if lost is not None:
                    # Inside the try: a reconnect that fails too (connection refused, cut
                    # again, the folder deleted meanwhile) is one more attempt or a folder
                    # error, never an exception escaping past the other handlers.
                    work = self._reconnect(work, report, counted, attempts, lost)
                self._copy(work, report, counted)
                return report
            except ConnectError as exc:
                if self.cancel.is_set():
                    return report
                attempts = 1 if len(counted) > progress else attempts + 1
                if attempts > self.settings.max_reconnects:
                    report.error = exc.one_line()
                    raise
                lost = exc
            except (FolderMissing, QuotaExceeded) as exc:
                report.error = exc.one_line()
                return report
            except MailmigError as exc:  # e.g. the target refused to create the folder
                report.error = exc.one_line()
                return report

    def _pause(self, seconds: float) -> bool:
        """Wait; True when the run was cancelled meanwhile (the caller stops at once)."""
        if self.settings.sleep is not None:
            self.settings.sleep(seconds)
            return self.cancel.is_set()
        return self.cancel.wait(seconds)

    def _reconnect(
        self,
        work: FolderWork,
        report: FolderReport,
        counted: set[int],
        attempt: int,
        exc: ConnectError,
    ) -> FolderWork:
        delay = min(self.settings.backoff * 2 ** (attempt - 1), self.settings.max_backoff)
        if isinstance(exc, ServerThrottled):  # the server said how long: never less
            delay = max(delay, exc.delay)
        self.emit(Reconnecting("source and target", attempt, delay, exc.one_line()))
        log.warning("reconnecting in %.1f s after: %s", delay, exc.one_line())
        if self._pause(delay):
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
            only=work.only,
            copy_filter=self.plan.filter,
        )
        # An APPEND whose answer was lost is now found on the target: that copy was ours.
        planned = {p.uid: p for p in work.to_copy}
        for entry in fresh.newly_matched:
            if entry.uid not in counted and entry.uid in planned:
                counted.add(entry.uid)
                report.count_copied(entry.uid, planned[entry.uid].size)
                self.emit(
                    MessageCopied(
                        MessageRef(work.mapping.source, entry.uid, planned[entry.uid].size)
                    )
                )
        return fresh

    def _copy(self, work: FolderWork, report: FolderReport, counted: set[int]) -> None:
        mapping, key = work.mapping, work.key
        ready = self.prepared.get(mapping.target)
        if not work.target_exists:
            if ready is None:
                self.target.create_folder(mapping.target)
            work.target_exists = report.created = True
        permanent: frozenset[str] | None = None
        if ready is not None:
            permanent = ready.permanent
        elif work.to_copy or work.flag_updates:
            # Nothing to write (a re-run): no SELECT for flags that would not be used.
            permanent = self.target.permanent_flags(mapping.target)
        if work.newly_matched:
            self.journal.record(key, work.newly_matched)
        # One STORE per distinct flag set, not per message, and one journal commit.
        by_flags: dict[tuple[str, ...], list[int]] = {}
        updated: list[JournalEntry] = []
        for entry, flags in work.flag_updates:
            if entry.target_uid is None:
                continue
            wanted = allowed_flags(flags, permanent)
            # What the target cannot keep is no change: storing it again and again would
            # count a flag update on every run.
            if not same_flags(wanted, allowed_flags(entry.flags, permanent)):
                by_flags.setdefault(tuple(wanted), []).append(entry.target_uid)
            updated.append(replace(entry, flags=flags))
        for wanted_flags, uids in by_flags.items():
            self.target.set_flags_of(mapping.target, uids, wanted_flags)
            report.flags_updated += len(uids)
        if updated:
            self.journal.record(key, updated)
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
        probes = {p.uid: p for p in work.to_copy}
        todo = [p for p in work.to_copy if p.uid not in counted]
        window: AppendWindow[list[Message]] = AppendWindow(
            self.target,
            mapping.target,
            max_batches=self.settings.append_window_batches,
            max_bytes=self.settings.append_window_bytes,
            budget=self.append_budget,
        )
        over_quota: list[QuotaExceeded] = []
        staged = self._start_staging(work, todo, permanent, probes)
        if staged is not None:
            todo = todo[: len(todo) - sum(len(part.probes) for part in staged.parts)]
        try:
            self._copy_head(work, report, todo, window, permanent, probes, counted, over_quota)
            if staged is not None and not self.cancel.is_set():
                self._finish_staging(work, report, staged, probes, counted)
        finally:
            if staged is not None:
                staged.close(None if window.broken else self.target)

    def _copy_head(
        self,
        work: FolderWork,
        report: FolderReport,
        todo: list[HeaderProbe],
        window: AppendWindow[list[Message]],
        permanent: frozenset[str] | None,
        probes: dict[int, HeaderProbe],
        counted: set[int],
        over_quota: list[QuotaExceeded],
    ) -> None:
        """Fetch `todo` and append it in order over this worker's target connection."""
        mapping = work.mapping

        def settle(answered: Iterator[tuple[list[Message], list[AppendResult]]]) -> None:
            for batch, answers in answered:
                batch = batch[: len(answers)]  # fewer when the line broke mid-batch
                if over_quota:
                    # Sent before the first "over quota" answer came back; refused for the
                    # same reason, they count as not copied, as if the folder had stopped
                    # before sending them (which it did, unpipelined).
                    kept = [
                        (m, a)
                        for m, a in zip(batch, answers, strict=True)
                        if not isinstance(a.error, QuotaExceeded)
                    ]
                    batch, answers = [m for m, _a in kept], [a for _m, a in kept]
                try:
                    self._append_batch(
                        work, report, batch, probes, permanent, counted, first=answers
                    )
                except QuotaExceeded as exc:  # the rest in flight is still accounted for
                    over_quota.append(exc)

        try:
            # closing(): stop the fetching threads now, not when the generator is collected.
            with contextlib.closing(self._prefetched(mapping.source, todo)) as stream:
                for uids, messages in stream:
                    if self.cancel.is_set() or over_quota:
                        break
                    outgoing = [
                        replace(m, flags=allowed_flags(m.flags, permanent)) for m in messages
                    ]
                    settle(window.push(messages, outgoing, self.cancel.is_set))
                    returned = {m.uid for m in messages}
                    for uid in uids:
                        if uid not in returned:
                            counted.add(uid)
                            ref = describe(mapping.source, probes[uid])
                            # Gone from the source: nothing left to account for.
                            report.source_messages -= 1
                            self.emit(MessageSkipped(ref, "deleted on the source during the run"))
            settle(window.drain())  # what is in flight is answered, also after a cancel
        except MailmigError:
            # The source failed: what the target was sent is still answered and journaled,
            # and its connection is left with no command half sent.
            if not window.broken:
                with contextlib.suppress(MailmigError):
                    settle(window.drain())
            raise
        finally:
            window.close()  # whatever is left in flight gives its share of the budget back
        if over_quota:
            raise over_quota[0]  # the target is full: stop this folder, keep what was copied

    def _start_staging(
        self,
        work: FolderWork,
        todo: list[HeaderProbe],
        permanent: frozenset[str] | None,
        probes: dict[int, HeaderProbe],
    ) -> StagedParts | None:
        """The later parts of a big folder, started on their own connections, where the
        target makes each APPEND wait a round trip and connections are free; else None."""
        settings, target, pool = self.settings, self.target, self.fetch_pool
        if (
            self.staging is None
            or pool is None
            or len(todo) < max(2, settings.staging_min_messages)
            or not isinstance(target, StagingTarget)
            or self.cancel.is_set()
        ):
            return None
        per_part = max(1, settings.staging_min_messages // 2)
        wanted = min(settings.staging_parts, len(todo) // per_part) - 1
        if wanted < 1 or target.staging_name(work.mapping.target, 1) is None:
            return None
        slots = self.staging.take(wanted)
        sources = take_at_once(pool, slots)
        self.staging.give(slots - len(sources))
        if not sources:
            return None
        chunks = split(todo, 1 + len(sources))
        parts = []
        for number, chunk in enumerate(chunks[1:], start=1):
            name = target.staging_name(work.mapping.target, number)
            assert name is not None
            parts.append(Part(number, chunk, name))

        def outgoing(message: Message) -> Message:
            return replace(message, flags=allowed_flags(message.flags, permanent))

        def identify(message: Message) -> str:
            probe = probes[message.uid]
            return str(identity_of(probe if probe.headers else probe_of(message)))

        log.info("%s: %d messages in %d parts", work.mapping.source, len(todo), len(chunks))
        return StagedParts(
            work.mapping.source,
            work.mapping.target,
            parts,
            sources,
            self.open_target,
            pool,
            self.staging,
            self.cancel,
            lambda chunk: batches(chunk, settings),
            outgoing,
            identify,
            (settings.append_window_batches, settings.append_window_bytes, self.append_budget),
        )

    def _finish_staging(
        self,
        work: FolderWork,
        report: FolderReport,
        staged: StagedParts,
        probes: dict[int, HeaderProbe],
        counted: set[int],
    ) -> None:
        """Move the staged parts into the folder in order and account for them as if they
        had been appended there: journal, report, events."""
        mapping = work.mapping
        for part, moved in staged.move(self.target):
            entries: list[JournalEntry] = []
            for message in part.staged:
                target_uid = moved.uids.get(message.staging_uid or 0)
                validity = moved.uidvalidity if target_uid is not None else None
                entries.append(
                    JournalEntry(message.uid, validity, target_uid, message.identity, message.flags)
                )
                counted.add(message.uid)
                report.count_copied(message.uid, message.size)
                self.emit(MessageCopied(MessageRef(mapping.source, message.uid, message.size)))
            self.journal.record(work.key, entries, appended=True)
            answered = {m.uid for m in part.staged}
            for uid, error in part.refused:  # never a throttle: that part is not moved
                answered.add(uid)
                counted.add(uid)
                ref = describe(mapping.source, probes[uid])
                too_large = isinstance(error, MessageTooLarge)
                self._fail(report, ref, error.message, too_large=too_large)
            for probe in part.probes:
                if probe.uid not in answered:  # the part finished without it
                    counted.add(probe.uid)
                    report.source_messages -= 1
                    ref = describe(mapping.source, probe)
                    self.emit(MessageSkipped(ref, "deleted on the source during the run"))

    def _prefetched(
        self, folder: str, todo: Sequence[HeaderProbe]
    ) -> Generator[tuple[list[int], list[Message]], None, None]:
        """Batches from the source in order, fetched ahead over this worker's source
        connection and idle pooled ones while the current batch is appended; memory is
        bounded by about one batch per fetching connection (see `chunked_fetch`)."""
        return ordered_batches(
            self.source,
            self.fetch_pool,
            folder,
            batches(todo, self.settings),
            self.settings.fetch_helpers,
        )

    def _append_batch(
        self,
        work: FolderWork,
        report: FolderReport,
        messages: Sequence[Message],
        probes: dict[int, HeaderProbe],
        permanent: frozenset[str] | None,
        counted: set[int],
        first: list[AppendResult] | None = None,
    ) -> None:
        """Append a batch in one go (or take `first`, the answers to its pipelined send),
        then journal it in one commit."""
        mapping = work.mapping
        outgoing = [replace(m, flags=allowed_flags(m.flags, permanent)) for m in messages]
        results = self._append_retrying(mapping.target, outgoing, first)
        repairs = self._repair_refused(mapping.target, outgoing, results)
        entries: list[JournalEntry] = []
        over_quota: QuotaExceeded | None = None
        for index, (message, result) in enumerate(zip(messages, results, strict=True)):
            if isinstance(result.error, Throttled) and self.cancel.is_set():
                continue  # never sent for good: neither copied nor failed; a re-run sends it
            counted.add(message.uid)
            probe = probes[message.uid]
            if not probe.headers:  # planned by size only: take the identity from the message
                probe = probe_of(message)
            if result.error is not None:
                ref = describe(mapping.source, probe)
                too_large = isinstance(result.error, MessageTooLarge)
                self._fail(report, ref, result.error.message, too_large=too_large)
                if isinstance(result.error, QuotaExceeded):
                    over_quota = over_quota or result.error
                continue
            validity = result.uidvalidity
            if validity is None and result.uid is not None:
                validity = self._target_validity(mapping.target)
            entries.append(
                JournalEntry(
                    message.uid, validity, result.uid, str(identity_of(probe)), message.flags
                )
            )
            sent = len(outgoing[index].data)
            report.count_copied(message.uid, sent)
            if index in repairs:
                altered = Altered(describe(mapping.source, probe), repairs[index])
                report.repaired.append(altered)
                self.emit(MessageRepaired(altered))
            self.emit(MessageCopied(MessageRef(mapping.source, message.uid, sent)))
        self.journal.record(work.key, entries, appended=True)
        if over_quota is not None:
            raise over_quota  # the target is full: stop this folder, keep what was copied

    def _repair_refused(
        self, folder: str, outgoing: list[Message], results: list[AppendResult]
    ) -> dict[int, str]:
        """With `repair`: each plain refusal (not size, quota or throttling) is sent once
        more in a repaired form, where repairing changes anything. `outgoing` and `results`
        are updated in place; returns index -> what the repair changed, for those the
        target then took."""
        if not self.settings.repair:
            return {}
        repaired: dict[int, str] = {}
        for index, result in enumerate(results):
            if type(result.error) is not MessageRejected:
                continue
            fixed = repair(outgoing[index].data)
            if not fixed.change or self.cancel.is_set():
                continue
            retry = replace(outgoing[index], data=fixed.data)
            again = self.target.append(folder, [retry])[0]
            if again.error is None:
                outgoing[index], results[index] = retry, again
                repaired[index] = f"repaired: {fixed.change}"
            else:
                results[index] = AppendResult(
                    None,
                    error=MessageRejected(
                        f"{result.error.message}; refused again after repair "
                        f"({fixed.change}): {again.error.message}"
                    ),
                )
        return repaired

    def _append_retrying(
        self,
        folder: str,
        outgoing: Sequence[Message],
        first: list[AppendResult] | None = None,
    ) -> list[AppendResult]:
        """Append; messages the target throttled are sent again, in order, after its wait.

        Bounded by `throttle_retries`; what is still throttled then comes back as such.
        """
        results: list[AppendResult] = [AppendResult(None)] * len(outgoing)
        pending = list(range(len(outgoing)))
        for attempt in range(1, self.settings.throttle_retries + 2):
            if first is not None:  # the answers to the pipelined send: the first attempt
                answers, first = first, None
            else:
                answers = self.target.append(folder, [outgoing[i] for i in pending])
            throttled: list[Throttled] = []
            retry: list[int] = []
            for index, answer in zip(pending, answers, strict=True):
                results[index] = answer
                if isinstance(answer.error, Throttled):
                    retry.append(index)
                    throttled.append(answer.error)
            if not retry or attempt > self.settings.throttle_retries:
                break
            suggested = max(t.delay for t in throttled)
            delay = suggested or min(
                self.settings.backoff * 2 ** (attempt - 1), self.settings.max_backoff
            )
            self.emit(ServerBusy("target", attempt, delay, throttled[0].message))
            log.warning("the target asked to slow down: waiting %.1f s", delay)
            if self._pause(delay):
                break
            pending = retry
        return results

    def _target_validity(self, folder: str) -> int:
        if folder not in self._validity:
            self._validity[folder] = self.target.folder_status(folder).uidvalidity
        return self._validity[folder]

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
