"""A copy from the TUI, done as the CLI does it: plan, run, verify, report, all through
`CopySession`, on connections of its own (never the panes' browsing connections).

`prepare_copy` opens the session and plans (a thread worker, while the operator waits for
the plan screen); `run_copy` copies, verifies the copied folders, writes the log and the
measured rate (another thread worker, while the operator goes on browsing). Both block.

No Textual here: the worker hands in an event sink and gets plain results back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from mailmig_tui.engine.events import MessageFailed, TransferEvent, TransferReport
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, Plan
from mailmig_tui.engine.session import Accounts, CopySession
from mailmig_tui.engine.transfer import TransferSettings
from mailmig_tui.engine.verify import VerifyReport, verify
from mailmig_tui.errors import AuthError, MailmigError, PasswordUnavailable, UsageError
from mailmig_tui.model import AccountInfo, AccountSpec, AppendResult, FolderInfo, Message
from mailmig_tui.model import MessageSummary as Summary
from mailmig_tui.special import is_inbox
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery
from mailmig_tui.stores.open import open_store
from mailmig_tui.tui.folder_map import CONFLICT_HINT, load_overrides, parse_conflict
from mailmig_tui.tui.selection import Selection
from mailmig_tui.tui.transfer_files import Estimate, TransferLog, estimate, load_rate, save_rate


class LoginFailed(AuthError):
    """A login of the copy failed; `role` says which account, so the TUI can ask for its
    password again (not for an account signing in with OAuth2: it has none)."""

    def __init__(self, role: str, error: MailmigError) -> None:
        super().__init__(error.message, error.hint)
        self.role = role


@dataclass(frozen=True)
class SessionAccounts(Accounts):
    """Opens each side with the password the TUI holds in memory: never a terminal prompt."""

    sign_in: Callable[[str], None] | None = None
    """Called with the role before each connection: an OAuth2 account signs in through the
    TUI (`AccountSession.sign_in`), never on stderr."""

    def open_source(self) -> MailStore:
        return self._open("source", self.source, True, self.source_password)

    def open_target(self) -> MailStore:
        spec = self.target_stand_in or self.target
        return self._open("target", spec, self.target_readonly, self.target_password)

    def _open(self, role: str, spec: AccountSpec, readonly: bool, password: str) -> MailStore:
        def give(_spec: AccountSpec, _role: str) -> str:
            if not password:
                raise PasswordUnavailable(f"no password for the {role} account {spec.display}")
            return password

        try:
            if self.sign_in is not None and spec.oauth2 is not None:
                self.sign_in(role)
            return open_store(spec, role=role, readonly=readonly, password=give)
        except (AuthError, PasswordUnavailable) as exc:
            raise LoginFailed(role, exc) from None


@dataclass
class PreparedCopy:
    """An open session and its plan, waiting for the operator's Enter (or Escape)."""

    session: CopySession
    journal: Journal
    plan: Plan
    selection: Selection
    estimate: Estimate

    def close(self) -> None:
        """Log out and close the journal (blocking: call from a thread)."""
        try:
            self.session.close()
        finally:
            self.journal.close()


@dataclass
class CopyOutcome:
    report: TransferReport
    verify: VerifyReport | None
    verify_problem: str
    """Why there is no verify result (cancelled, the server went away)."""
    log_path: Path | None
    description: str


def prepare_copy(
    accounts: Accounts, selection: Selection, overrides: Mapping[str, str] | None
) -> PreparedCopy:
    """Open both accounts for the copy and plan it (blocking)."""
    if accounts.target.kind == "mbox":
        raise UsageError("an mbox account can only be a source", "copy into Maildir or IMAP")
    if overrides is None:
        overrides = load_overrides(accounts.source, accounts.target)
    with ExitStack() as stack:
        journal = Journal()
        stack.callback(journal.close)
        session = CopySession(accounts, journal)
        stack.callback(session.close)
        names = [f.name for f in session.source.list_folders(with_status=False)]
        # Saved entries for folders gone from the source would stop the plan: leave them out.
        kept = {s: t for s, t in overrides.items() if s in names or is_inbox(s)}
        options: CopyOptions = selection.options(kept, names, max_size=None)
        try:
            plan = session.plan(options)
        except UsageError as exc:
            if parse_conflict(exc.message) is not None:
                raise UsageError(exc.message, CONFLICT_HINT) from None
            raise
        rate = load_rate(accounts.source, accounts.target)
        guess = estimate(plan.messages_to_copy, plan.bytes_to_copy, rate)
        stack.pop_all()
    return PreparedCopy(session, journal, plan, selection, guess)


EventSink = Callable[[TransferEvent], None]


def run_copy(
    prepared: PreparedCopy,
    cancel: threading.Event,
    on_event: EventSink,
    settings: TransferSettings,
    on_verify: Callable[[], None] = lambda: None,
) -> CopyOutcome:
    """Copy, verify and log (blocking); closes the prepared session in every case."""
    plan, selection = prepared.plan, prepared.selection
    log: TransferLog | None = None
    try:
        log = TransferLog()
        log.plan(plan, selection.description)
    except (MailmigError, OSError):
        log = None  # no writable log directory: the copy still runs, the report says so

    def sink(event: TransferEvent) -> None:
        if log is not None and isinstance(event, MessageFailed):
            log.failure(event.failure)
        on_event(event)

    try:
        report = prepared.session.run(plan, cancel=cancel, on_event=sink, settings=settings)
    finally:
        prepared.close()
    if log is not None:
        log.report(report)
    save_rate(plan.source, plan.target, report)
    result: VerifyReport | None = None
    problem = ""
    if report.cancelled:
        problem = "the copy was cancelled; copy again to finish it"
    else:
        on_verify()
        try:
            result = verify_copy(prepared.session.accounts, plan, selection)
        except MailmigError as exc:
            problem = exc.one_line()
    if log is not None:
        log.verify(result, problem)
        log.close()
    return CopyOutcome(report, result, problem, log.path if log else None, selection.description)


def verify_copy(accounts: Accounts, plan: Plan, selection: Selection) -> VerifyReport:
    """The engine's verify over fresh connections, of the copied messages only."""
    mappings = [work.mapping for work in plan.folders]
    with accounts.open_source() as source, accounts.open_target() as target:
        view = OnlyUids(source, selection.only_uids) if selection.only_uids else source
        return verify(view, target, mappings)


class OnlyUids(MailStore):
    """A source store that shows only the marked messages of some folders, so verify checks
    what this copy was asked to copy (engine verify has no only_uids of its own)."""

    def __init__(self, store: MailStore, only: Mapping[str, frozenset[int]]) -> None:
        self.store, self.only = store, only
        self.readonly = True

    def uids(self, folder: str) -> list[int]:
        uids = self.store.uids(folder)
        chosen = self.only.get(folder)
        return uids if chosen is None else [u for u in uids if u in chosen]

    def close(self) -> None:
        self.store.close()

    def info(self) -> AccountInfo:
        return self.store.info()

    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        return self.store.list_folders(with_status)

    def folder_status(self, folder: str) -> FolderInfo:
        return self.store.folder_status(folder)

    def summaries(self, folder: str, uids: Sequence[int]) -> list[Summary]:
        return self.store.summaries(folder, uids)

    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        return self.store.probes(folder, uids)

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        return self.store.fetch(folder, uids)

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        return self.store.search(folder, query)

    def create_folder(self, folder: str) -> None:
        self.store.create_folder(folder)

    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        return self.store.append(folder, messages)

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        self.store.set_flags(folder, uid, flags)
