"""The copy's conductor on the main screen: plans and runs a copy in thread workers, over
the engine's `CopyService` (which plans with the saved folder map, copies, verifies, logs).

An invisible widget, so its workers live as long as the main screen, whichever screen is on
top. It knows no screen and no app; it is given what it needs (the accounts, the settings)
and speaks in messages and one signal:

- up: `StateChanged` (idle, planning, running), `PlanReady` (whoever shows the plan answers
  with `start()` or `drop()`), `Finished` (the report), `Failed` (a worker's error);
- out: `progress`, a `Signal` of `ProgressSnapshot`s for whoever subscribes (the panel, the
  progress screen).

Workers only ever post `Worker*` messages to the control itself; it turns them into the
messages and snapshots above on the event loop. Engine events arrive on the engine's
threads: a `ProgressTracker` counts them there, and a snapshot is posted at most ~10 times a
second (`Throttle`) as a replaceable message, so a copy at thousands of messages a second
never floods the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from textual import work
from textual.message import Message
from textual.signal import Signal
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from mailmig_tui.engine.events import (
    CopyEvent,
    CopyReport,
    Reconnecting,
    ServerBusy,
)
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.progress import ProgressSnapshot, ProgressTracker, Throttle
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.copy.job import CopyAccounts, PlannedCopy, plan_copy
from mailmig_tui.tui.copy.selection import Selection
from mailmig_tui.tui.copy.text import checking

CopyState = Literal["idle", "planning", "running"]
EventObserver = Callable[[CopyEvent], None]


class CopyControl(Widget):
    DEFAULT_CSS = "CopyControl { display: none; }"

    # -- up: what its parents react to --------------------------------------------------------

    class StateChanged(Message):
        """Idle, planning (until the plan is answered) or running; the app and the screen
        keep track (quit asks while a copy runs; `x` and `p` work while one is under way)."""

        def __init__(self, state: CopyState, description: str = "") -> None:
            super().__init__()
            self.state: CopyState = state
            self.description = description

    class PlanReady(Message):
        """Show the plan, then call `start(planned)` or `drop(planned)`."""

        def __init__(self, planned: PlannedCopy) -> None:
            super().__init__()
            self.planned = planned

    class Finished(Message):
        """The copy, the check and the log are done: the service's report, final."""

        def __init__(self, report: CopyReport, selection: Selection) -> None:
            super().__init__()
            self.report = report
            self.selection = selection

    class Failed(Message):
        """Planning or copying failed (a refused login: `job.LoginFailed` names the side)."""

        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    # -- from its own workers, to itself --------------------------------------------------------

    class WorkerPlanned(Message, bubble=False):
        def __init__(self, planned: PlannedCopy) -> None:
            super().__init__()
            self.planned = planned

    class WorkerProgress(Message, bubble=False):
        """Carries the whole progress so far: when the UI falls behind, only the newest
        of these is handled."""

        def __init__(self, snapshot: ProgressSnapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CopyControl.WorkerProgress)

    class WorkerNotice(Message, bubble=False):
        """A reconnect or a throttling pause: worth a notification, not only the panel line."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class WorkerDone(Message, bubble=False):
        def __init__(self, report: CopyReport, selection: Selection) -> None:
            super().__init__()
            self.report = report
            self.selection = selection

    def __init__(
        self,
        source: AccountSession,
        target: AccountSession,
        settings: CopySettings | None = None,
    ) -> None:
        super().__init__()
        self.source, self.target = source, target
        self.settings = settings or CopySettings()
        """How copies run (connections, batches, reconnect backoff); given by the parent."""
        self.progress_interval = 0.1
        """Seconds between snapshots (~10 a second); tests set 0 to see every event's."""
        self.observer: EventObserver | None = None
        """Sees every engine event on the copy's thread: tests and the screenshot script act
        at an exact point of a copy through it."""
        self.progress: Signal[ProgressSnapshot] = Signal(self, "progress")
        """Every snapshot of the running copy, ~10 a second, for whoever subscribes."""
        self.snapshot: ProgressSnapshot | None = None
        """The latest snapshot published, for a subscriber that comes late."""
        self.state: CopyState = "idle"
        self._pending: Selection | None = None
        """What is being planned; a plan that arrives for anything else was abandoned."""
        self._cancel = threading.Event()
        self._tracker: ProgressTracker | None = None

    @property
    def busy(self) -> bool:
        return self.state != "idle"

    def _set_state(self, state: CopyState, description: str = "") -> None:
        self.state = state
        self._post_up(self.StateChanged(state, description))

    def _post_up(self, message: Message) -> None:
        # Sent by the control, even when a parent's call made it: Textual stops bubbling at
        # the sender, and the app must hear of it too.
        self.post_message(message.set_sender(self))

    def _publish(self, snapshot: ProgressSnapshot) -> None:
        self.snapshot = snapshot
        self.progress.publish(snapshot)

    # -- plan ---------------------------------------------------------------------------------

    def copy(self, selection: Selection) -> None:
        """Plan a copy of `selection` in a worker; `PlanReady` follows."""
        if self.busy:
            self.notify("A copy is already under way (x cancels it)", severity="warning")
            return
        self._pending = selection
        self._set_state("planning", selection.description)
        accounts = CopyAccounts(
            self.source.spec,
            self.target.spec,
            self.source.password or "",
            self.target.password or "",
            sign_in=self._sign_in,
        )
        self._plan(accounts, selection, self.settings)

    def _sign_in(self, role: str) -> None:
        """An OAuth2 side signs in through its session's dialog (called on the copy's threads)."""
        (self.source if role == "source" else self.target).sign_in()

    @work(thread=True, group="copy-plan", exclusive=True, exit_on_error=False)
    def _plan(self, accounts: CopyAccounts, selection: Selection, settings: CopySettings) -> None:
        self.post_message(self.WorkerPlanned(plan_copy(accounts, selection, settings)))

    def on_copy_control_worker_planned(self, message: CopyControl.WorkerPlanned) -> None:
        planned = message.planned
        if planned.selection is not self._pending:  # cancelled while it was being made
            self._close(planned)
            return
        self._post_up(self.PlanReady(planned))

    def drop(self, planned: PlannedCopy) -> None:
        """The operator left the plan: log out, copy nothing."""
        self._pending = None
        self._close(planned)
        self._set_state("idle")

    @staticmethod
    def _close(planned: PlannedCopy) -> None:
        threading.Thread(target=planned.prepared.close, name="logout", daemon=True).start()

    # -- run ----------------------------------------------------------------------------------

    def start(self, planned: PlannedCopy) -> None:
        """Run the planned copy in a worker; snapshots go out on `progress`."""
        self._pending = None
        self._cancel = threading.Event()
        self._tracker = ProgressTracker(
            [
                (w.mapping.source, w.mapping.target, len(w.to_copy), w.bytes_to_copy)
                for w in planned.prepared.plan.folders
            ]
        )
        self._set_state("running", planned.selection.description)
        self._publish(self._tracker.snapshot())
        throttle = Throttle(self.progress_interval)
        self._run(planned, self._tracker, throttle, self._cancel, self.observer)

    @work(thread=True, group="copy-run", exclusive=True, exit_on_error=False)
    def _run(
        self,
        planned: PlannedCopy,
        tracker: ProgressTracker,
        throttle: Throttle,
        cancel: threading.Event,
        observer: EventObserver | None,
    ) -> None:
        def on_event(event: CopyEvent) -> None:
            urgent = tracker.feed(event)
            if isinstance(event, Reconnecting | ServerBusy):
                self.post_message(self.WorkerNotice(tracker.snapshot().notice))
            if throttle.ready(urgent):
                self.post_message(self.WorkerProgress(tracker.snapshot()))
            if observer is not None:
                observer(event)

        report = planned.service.run(planned.prepared, cancel=cancel, on_event=on_event)
        self.post_message(self.WorkerDone(report, planned.selection))

    def on_copy_control_worker_progress(self, message: CopyControl.WorkerProgress) -> None:
        if self.state == "running":
            self._publish(message.snapshot)

    def on_copy_control_worker_notice(self, message: CopyControl.WorkerNotice) -> None:
        # markup=False: server words often hold [BRACKETED] response codes.
        self.notify(message.text, title="Copy", severity="warning", timeout=8, markup=False)

    def on_copy_control_worker_done(self, message: CopyControl.WorkerDone) -> None:
        self._set_state("idle")
        self._post_up(self.Finished(message.report, message.selection))

    def cancel(self) -> None:
        """`x`: stop after the batch in flight (a later copy goes on from there), or stop
        the check after the copy (the report keeps what was copied)."""
        if self.state == "planning":
            self._pending = None  # its plan, when it comes, is closed unseen
            self.workers.cancel_group(self, "copy-plan")  # and its failure goes unreported
            self._set_state("idle")
            self.notify("Copy cancelled before it started", timeout=4)
            return
        if self.state != "running" or self._cancel.is_set() or self._tracker is None:
            return
        self._cancel.set()
        was_checking = checking(self._tracker.snapshot())
        self._tracker.set_phase("cancelling")
        self._publish(self._tracker.snapshot())
        if was_checking:
            self.notify("Stopping the check; the report of the copy follows", timeout=5)
        else:
            self.notify("Cancelling after the messages in flight; copy again to go on", timeout=5)

    # -- failures and the end -----------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        self._pending = None
        self._set_state("idle")
        self._post_up(self.Failed(error))

    def on_unmount(self) -> None:
        # Leaving the app: stop the engine at its next batch; the journal keeps what it did.
        self._cancel.set()
        self._pending = None
