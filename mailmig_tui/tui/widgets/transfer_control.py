"""The copy's conductor on the main screen: plan, confirm, run, report, in thread workers.

An invisible widget, so that the copy's workers and messages live as long as the main
screen, whichever screen is on top meanwhile. The plan and the run use a `CopySession` of
their own (never the panes' connections), so browsing goes on while a copy runs.

Engine events arrive on the engine's threads: they are counted by a `ProgressTracker` there
and only a snapshot is posted, at most ~10 a second (`Throttle`) and replaceable, so a copy
at thousands of messages a second never floods the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from mailmig_tui.engine.events import Reconnecting, ServerBusy, TransferEvent
from mailmig_tui.engine.transfer import TransferSettings
from mailmig_tui.tui.copy_job import (
    LoginFailed,
    PreparedCopy,
    SessionAccounts,
    prepare_copy,
    run_copy,
)
from mailmig_tui.tui.messages import WorkFailed
from mailmig_tui.tui.selection import Selection
from mailmig_tui.tui.session import AccountSession
from mailmig_tui.tui.transfer_messages import (
    PlanReady,
    TransferFinished,
    TransferNotice,
    TransferProgress,
)
from mailmig_tui.tui.transfer_state import ProgressSnapshot, ProgressTracker, Throttle
from mailmig_tui.tui.widgets.transfer_panel import TransferPanel

if TYPE_CHECKING:
    from mailmig_tui.tui.app import MailmigApp
    from mailmig_tui.tui.screens.main import MainScreen


class TransferControl(Widget):
    DEFAULT_CSS = "TransferControl { display: none; }"

    def __init__(self, source: AccountSession, target: AccountSession) -> None:
        super().__init__()
        self.source, self.target = source, target
        self.overrides: dict[str, str] | None = None
        """The folder map's manual entries; None until loaded (the plan worker loads them)."""
        self.planning = False
        self.running = False
        self.snapshot: ProgressSnapshot | None = None
        self._cancel = threading.Event()
        self._abandon_plan = threading.Event()
        self._tracker: ProgressTracker | None = None
        self._selection: Selection | None = None

    @property
    def mailmig_app(self) -> MailmigApp:
        from mailmig_tui.tui.app import MailmigApp

        assert isinstance(self.app, MailmigApp)
        return self.app

    @property
    def main(self) -> MainScreen:
        from mailmig_tui.tui.screens.main import MainScreen

        assert isinstance(self.screen, MainScreen)
        return self.screen

    @property
    def panel(self) -> TransferPanel:
        return self.screen.query_one(TransferPanel)

    @property
    def busy(self) -> bool:
        return self.planning or self.running

    # -- plan ------------------------------------------------------------------------------

    def copy(self, selection: Selection) -> None:
        """Plan a copy of `selection` in a worker; the plan screen follows."""
        if self.busy:
            self.notify("A copy is already under way (x cancels it)", severity="warning")
            return
        self.planning = True
        self._abandon_plan.clear()
        self.panel.update(Text(f"Planning the copy of {selection.description}… (x cancels)"))
        self.panel.display = True
        self.screen.refresh_bindings()
        accounts = SessionAccounts(
            self.source.spec,
            self.target.spec,
            self.source.password or "",
            self.target.password or "",
            sign_in=self._sign_in,
        )
        self._plan(accounts, selection)

    def _sign_in(self, role: str) -> None:
        """An OAuth2 side signs in through its session's dialog (called on the copy's threads)."""
        (self.source if role == "source" else self.target).sign_in()

    @work(thread=True, group="copy-plan", exclusive=True, exit_on_error=False)
    def _plan(self, accounts: SessionAccounts, selection: Selection) -> None:
        prepared = prepare_copy(accounts, selection, self.overrides)
        if self._abandon_plan.is_set():
            prepared.close()
            return
        self.post_message(PlanReady(prepared))

    def on_plan_ready(self, message: PlanReady) -> None:
        from mailmig_tui.tui.screens.plan import PlanScreen

        message.stop()
        self.planning = False
        self.panel.hide()
        prepared = message.prepared

        def answered(start: bool | None) -> None:
            if start:
                self.start(prepared)
            else:
                threading.Thread(target=prepared.close, name="logout", daemon=True).start()

        labels = (self.source.label, self.target.label)
        screen = PlanScreen(
            prepared.plan, prepared.estimate, prepared.selection.description, labels
        )
        self.app.push_screen(screen, answered)

    # -- run -------------------------------------------------------------------------------

    def start(self, prepared: PreparedCopy) -> None:
        plan = prepared.plan
        self._selection = prepared.selection
        self._cancel = threading.Event()
        self._tracker = ProgressTracker(
            [
                (w.mapping.source, w.mapping.target, len(w.to_copy), w.bytes_to_copy)
                for w in plan.folders
            ]
        )
        self.running = True
        self.mailmig_app.transfer_running = True
        self.show_progress(self._tracker.snapshot())
        self.screen.refresh_bindings()
        self._run(prepared, self._tracker, self._cancel)

    @work(thread=True, group="transfer", exclusive=True, exit_on_error=False)
    def _run(
        self, prepared: PreparedCopy, tracker: ProgressTracker, cancel: threading.Event
    ) -> None:
        throttle = Throttle(0.1)
        observer = self.mailmig_app.transfer_observer
        settings: TransferSettings = self.mailmig_app.transfer_settings

        def on_event(event: TransferEvent) -> None:
            urgent = tracker.feed(event)
            if isinstance(event, Reconnecting | ServerBusy):
                self.post_message(TransferNotice(tracker.snapshot().notice))
            if throttle.ready(urgent):
                self.post_message(TransferProgress(tracker.snapshot()))
            if observer is not None:
                observer(event)

        def verifying() -> None:
            tracker.set_phase("verifying")
            self.post_message(TransferProgress(tracker.snapshot()))

        outcome = run_copy(prepared, cancel, on_event, settings, on_verify=verifying)
        self.post_message(TransferFinished(outcome))

    def show_progress(self, snapshot: ProgressSnapshot) -> None:
        from mailmig_tui.tui.screens.transfer import TransferScreen

        self.snapshot = snapshot
        self.panel.show(snapshot, "Cancelling" if snapshot.phase == "cancelling" else "Copying")
        for screen in self.app.screen_stack:
            if isinstance(screen, TransferScreen):
                screen.show(snapshot)

    def on_transfer_progress(self, message: TransferProgress) -> None:
        message.stop()
        if self.running:
            self.show_progress(message.snapshot)

    def on_transfer_notice(self, message: TransferNotice) -> None:
        message.stop()
        # markup=False: server words often hold [BRACKETED] response codes.
        self.notify(message.text, title="Copy", severity="warning", timeout=8, markup=False)

    def cancel(self) -> None:
        """`x`: stop after the batch in flight; a later copy goes on from there (journal)."""
        if self.planning:
            self._abandon_plan.set()
            self.planning = False
            self.panel.hide()
            self.screen.refresh_bindings()
            self.notify("Copy cancelled before it started", timeout=4)
            return
        if not self.running or self._cancel.is_set():
            return
        self._cancel.set()
        if self._tracker is not None:
            self._tracker.set_phase("cancelling")
            self.show_progress(self._tracker.snapshot())
        self.notify("Cancelling after the messages in flight; copy again to go on", timeout=5)

    def on_transfer_finished(self, message: TransferFinished) -> None:
        from mailmig_tui.tui.screens.report import ReportScreen

        message.stop()
        self._finish()
        outcome = message.outcome
        report = outcome.report
        verified = outcome.verify is not None and outcome.verify.missing == 0
        if report.complete and verified and self._selection is not None:
            self.main.marks_copied(self._selection)  # all there: unmark, as a file manager does
        self.main.refresh_target()
        if report.error:
            text = f"The copy stopped: {report.error}"
            self.notify(text, title="Copy", severity="error", markup=False)
        self.app.push_screen(ReportScreen(outcome, (self.source.label, self.target.label)))

    def _finish(self) -> None:
        from mailmig_tui.tui.screens.transfer import TransferScreen

        self.running = self.planning = False
        self.mailmig_app.transfer_running = False
        self.panel.hide()
        self.screen.refresh_bindings()
        if isinstance(self.app.screen, TransferScreen):
            self.app.pop_screen()

    # -- failures --------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        self._finish()
        after: Callable[[], None] | None = None
        if isinstance(error, LoginFailed):
            # As the panes do: the password in memory was wrong, so ask for it again (an
            # OAuth2 account has none: its refused token or sign-in is only shown).
            pane = self.main.pane(error.role)
            if pane.session.spec.oauth2 is None:
                after = pane.ask_password_again
        self.post_message(WorkFailed(error, "copy", after))

    def on_unmount(self) -> None:
        # Leaving the app: stop the engine at its next batch; the journal keeps what it did.
        self._cancel.set()
        self._abandon_plan.set()
