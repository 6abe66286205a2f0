"""The one copy service: accounts, a selection and settings in; events out; a checked report
back. `mailmig copy`, `mailmig batch` and the TUI all copy through it, so each does the same:

1. plan (with the pair's saved folder map under any explicit overrides),
2. copy over the engine's connection pool, every message accounted for,
3. verify the copied folders (each on the copy's own pair once no folder is left to copy,
   `early_check.py`; the rest on new connections after the copy), because a target may
   answer OK to an APPEND and keep nothing; a message verify finds missing leaves the
   journal, so the next copy sends it again,
4. log all of it to an owner-only per-run file, and keep the measured rate for the next
   estimate,
5. keep a record of the run (with its report) in the history under a run id, and mark
   every message it appends in the journal with that id, so `mailmig undo` can take
   exactly those back out (engine/history.py, engine/undo.py).

`prepare()` opens both accounts and plans (the TUI shows the plan and waits for Enter);
`run()` does the rest; `copy()` is both at once. All block: call them from a worker thread.
No front end code here: events are plain dataclasses handed to a callable.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from mailmig_tui.accounts import to_url
from mailmig_tui.engine import history
from mailmig_tui.engine.copy_log import CopyLog, open_log
from mailmig_tui.engine.early_check import EarlyChecks, merged
from mailmig_tui.engine.events import (
    CopyEvent,
    CopyReport,
    Finished,
    MessageFailed,
    MessageRef,
    Verifying,
)
from mailmig_tui.engine.folder_copier import CopySettings, EventSink
from mailmig_tui.engine.journal import Journal, default_path
from mailmig_tui.engine.plan import CopyFilter, CopyOptions, Plan, map_accounts
from mailmig_tui.engine.rates import Estimate, plan_estimate, save_rate
from mailmig_tui.engine.saved_maps import load_overrides
from mailmig_tui.engine.session import Accounts, CopySession
from mailmig_tui.engine.verify import VerifyReport, verify, verify_connections
from mailmig_tui.errors import MailmigError
from mailmig_tui.kinds import require_target
from mailmig_tui.presets import default_connections


@dataclass(frozen=True)
class CopyRequest:
    """What to copy and how: the same for every front end."""

    options: CopyOptions = field(default_factory=CopyOptions)
    settings: CopySettings = field(default_factory=CopySettings)
    verify: bool = True
    """Check the copied folders afterwards (`--no-verify` turns it off)."""
    saved_map: bool = True
    """Apply the folder map saved for this pair of accounts (the TUI's `m` screen) under the
    request's own overrides, as the README promises for every later copy."""
    description: str = "all selected folders"
    """What was asked for, in words, for the log and the report."""


@dataclass
class PreparedCopy:
    """Both accounts open and the plan made, waiting to run (or to be closed unused)."""

    session: CopySession
    journal: Journal | None
    owns_journal: bool
    plan: Plan
    request: CopyRequest
    estimate: Estimate
    replanning: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_repair(self, on: bool) -> None:
        """Turn `--repair` on or off before the run (the TUI's plan screen toggles it)."""
        settings = replace(self.request.settings, repair=on)
        self.request = replace(self.request, settings=settings)

    def replan(self, copy_filter: CopyFilter) -> tuple[Plan, Estimate]:
        """Plan again with another copy filter (the TUI's plan screen; blocking). One at a
        time: the session's connections serve one thread."""
        with self.replanning:
            options = replace(
                self.request.options,
                since=copy_filter.since,
                before=copy_filter.before,
                skip_larger_than=copy_filter.skip_larger_than,
            )
            plan = self.session.plan(options)
            source, target = self.session.source, self.session.target
            self.estimate = plan_estimate(source, target, plan, self.request.settings)
            self.plan = plan
            self.request = replace(self.request, options=options)
            return plan, self.estimate

    def set_connections(self, connections: int) -> None:
        """Connections per server for the run (the TUI's plan screen sets it)."""
        settings = replace(self.request.settings, connections=connections)
        self.request = replace(self.request, settings=settings)

    def close(self) -> None:
        """Log out, and close the journal if the service opened it (blocking); after a
        replan() under way, whose connections these are."""
        with self.replanning:
            try:
                self.session.close()
            finally:
                if self.owns_journal and self.journal is not None:
                    self.journal.close()


class CopyService:
    """Copies between one pair of accounts; see the module docstring for the steps."""

    def __init__(self, accounts: Accounts, journal: Journal | None = None) -> None:
        self.accounts = accounts
        self.journal = journal
        """Shared by the caller (a batch copies many users into one journal); else the
        service opens the default journal per run and closes it."""

    # -- plan -------------------------------------------------------------------------------

    def prepare(self, request: CopyRequest) -> PreparedCopy:
        """Open both accounts and plan (blocking). A dry run opens no journal if none exists
        yet: it must not leave one behind."""
        if not request.options.dry_run:
            require_target(self.accounts.target)
        with ExitStack() as stack:
            journal, owns = self.journal, False
            if journal is None and (not request.options.dry_run or default_path().exists()):
                journal, owns = Journal(), True
                stack.callback(journal.close)
            session = CopySession(self.accounts, journal)
            stack.callback(session.close)
            options = request.options
            if request.saved_map:
                saved = load_overrides(self.accounts.source, self.accounts.target)
                options = replace(options, saved_overrides=saved)
            plan = session.plan(options)
            guess = plan_estimate(session.source, session.target, plan, request.settings)
            request = replace(request, options=options)  # with the saved map, for replan()
            stack.pop_all()
        return PreparedCopy(session, journal, owns, plan, request, guess)

    # -- copy, verify, log ------------------------------------------------------------------

    def run(
        self,
        prepared: PreparedCopy,
        *,
        cancel: threading.Event | None = None,
        on_event: EventSink = lambda event: None,
    ) -> CopyReport:
        """Copy, verify and log (blocking); closes the prepared session in every case.

        Ends with a `Finished` event carrying the same report it returns.
        """
        cancel = cancel or threading.Event()
        plan, request = prepared.plan, prepared.request
        log = open_log()
        if log is not None:
            log.plan(plan, request.description)
        record = self._start_record(request, log)
        pair = (self.accounts.source.identity, self.accounts.target.identity)
        if prepared.journal is not None:
            prepared.journal.start_run(*pair, record.run_id)

        def emit(event: CopyEvent) -> None:
            if log is not None:
                log.event(event)
            on_event(event)

        # The copy's own pairs check what they copied once no folder is left to copy
        # (`early_check`); the check after the copy does the rest.
        checks = (
            EarlyChecks(
                [work.mapping for work in plan.folders],
                only=request.options.only_uids,
                skip=_skipped(plan),
                cancel=cancel,
            )
            if request.verify
            else None
        )
        try:
            report = prepared.session.run(
                plan, cancel=cancel, on_event=emit, settings=request.settings, checks=checks
            )
            report.description = request.description
            report.verify_wanted = request.verify
            save_rate(plan.source, plan.target, report)
            if not request.verify:
                report.verify_problem = "skipped (--no-verify)"
            elif report.cancelled:
                report.verify_problem = "the copy was cancelled; copy again to finish it"
            else:
                prepared.session.close()  # the rest on fresh connections
                self._verify_copy(prepared, report, cancel, emit, checks)
            if log is not None:  # after verify: it may turn a "copied" into a failure
                log.report(report)
                log.verify(report.verify, report.verify_problem)
        finally:
            if prepared.journal is not None:
                prepared.journal.end_run(*pair)
            prepared.close()
            if log is not None:
                log.close()
        report.log_path = log.path if log is not None else None
        report.run_id = record.run_id
        self._finish_record(record, report)
        on_event(Finished(report))
        return report

    def _start_record(self, request: CopyRequest, log: CopyLog | None) -> history.RunRecord:
        source, target = self.accounts.source, self.accounts.target
        record = history.RunRecord(
            run_id=history.new_run_id(),
            started=history.local_time(),
            source=source.display,
            target=target.display,
            source_identity=source.identity,
            target_identity=target.identity,
            target_account=target.name or ("" if target.kind == "command" else to_url(target)),
            description=request.description,
            log=str(log.path) if log is not None else None,
            verify_wanted=request.verify,
        )
        self._save_record(record, log)
        return record

    def _finish_record(self, record: history.RunRecord, report: CopyReport) -> None:
        record.finished = history.local_time()
        record.result = history.result_of(report)
        record.report = report.as_json()
        self._save_record(record, None)

    @staticmethod
    def _save_record(record: history.RunRecord, log: CopyLog | None) -> None:
        """History is a convenience: a state directory that cannot take the record must not
        stop (or fail) a copy; the log says so."""
        try:
            history.save(record)
        except MailmigError as exc:
            if log is not None:
                log.line(f"history: {exc.one_line()}")

    def _verify_copy(
        self,
        prepared: PreparedCopy,
        report: CopyReport,
        cancel: threading.Event,
        emit: EventSink,
        checks: EarlyChecks | None,
    ) -> None:
        plan = prepared.plan
        # The copy's connections are closed by now: the same cap holds for verify's own.
        cap = prepared.request.settings.connections or default_connections(
            plan.source_preset, plan.target_preset
        )
        mappings = [work.mapping for work in plan.folders]
        early = checks.results if checks is not None else {}
        before = checks.checked_messages if checks is not None else 0
        try:
            rest = verify(
                [m for i, m in enumerate(mappings) if i not in early],
                open_source=self.accounts.open_source,
                open_target=self.accounts.open_target,
                connections=verify_connections(self.accounts, cap),
                only=prepared.request.options.only_uids,
                skip=_skipped(plan),
                progress=lambda done, total: emit(Verifying(before + done, before + total)),
                cancel=cancel,
            )
            result = merged(mappings, early, rest)
        except MailmigError as exc:
            report.verify_problem = f"could not verify: {exc.one_line()}"
            return
        if result.interrupted:
            report.verify_problem = "the check was cancelled; run mailmig verify to finish it"
            return
        report.verify = result
        if not result.missing:
            return
        missing: dict[str, list[MessageRef]] = defaultdict(list)
        for ref in result.missing_messages:
            missing[ref.folder].append(ref)
        for folder in report.folders:
            for ref in missing.get(folder.source, []):
                failure = folder.lost(ref)  # "copied" but not there: a failure after all
                if failure is not None:
                    emit(MessageFailed(failure))
        if prepared.journal is not None:
            for work in plan.folders:
                refs = missing.get(work.mapping.source)
                if refs:
                    prepared.journal.forget(work.key, [ref.uid for ref in refs])

    def copy(
        self,
        request: CopyRequest,
        *,
        cancel: threading.Event | None = None,
        on_event: EventSink = lambda event: None,
    ) -> CopyReport:
        """Plan and run in one go (blocking)."""
        return self.run(self.prepare(request), cancel=cancel, on_event=on_event)

    # -- verify alone -------------------------------------------------------------------------

    def verify(
        self, options: CopyOptions, connections: int | None = None
    ) -> tuple[VerifyReport, Path | None]:
        """`mailmig verify`: every mapped folder checked, the result logged (blocking), on
        at most `connections` per server (None: the server presets decide)."""
        log = open_log()
        try:
            if log is not None:
                log.header("verify", self.accounts.source, self.accounts.target)
            with self.accounts.open_source() as source, self.accounts.open_target() as target:
                mapped = map_accounts(source, target, options)
                cap = connections or default_connections(mapped.source_preset, mapped.target_preset)
                result = verify(
                    [mapping for mapping, _info in mapped.pairs],
                    open_source=self.accounts.open_source,
                    open_target=self.accounts.open_target,
                    connections=verify_connections(self.accounts, cap),
                    opened=(source, target),
                )
            if log is not None:
                log.verify(result, "")
        except MailmigError as exc:
            if log is not None:
                log.line(f"verify: could not run: {exc.one_line()}")
            raise
        finally:
            if log is not None:
                log.close()
        return result, (log.path if log is not None else None)


def _skipped(plan: Plan) -> dict[str, frozenset[int]]:
    """Per source folder, the UIDs the copy filter left on the source: not missing."""
    return {work.mapping.source: work.filtered_out for work in plan.folders}
