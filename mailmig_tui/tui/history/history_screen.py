"""`l`: the copy runs between these two accounts, newest first, from the history the copy
service keeps (engine/history.py) for the CLI, batches and the TUI alike.

Each row: when the run started, what it copied, found already there, failed and did not
copy, and its result; the line below the list names the run id, what was asked for and its
log file. Enter opens the run's report (the report screen of a copy), `v` its log, `u`
undoes it: after a confirmation with the counts, exactly the messages this run appended
leave the target (engine/undo.py); a target that cannot do that safely is refused with
the reason, and nothing is removed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from mailmig_tui.engine import history
from mailmig_tui.engine.history import RunRecord
from mailmig_tui.engine.undo import UndoPlan, UndoResult
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.common.app_messages import WorkFailed
from mailmig_tui.tui.common.format import count, plural
from mailmig_tui.tui.history import undo_job

COLUMNS = (("Started", 16), ("Copied", 9), ("There", 9), ("Failed", 7), ("Not copied", 10))
"""Title and width; numbers are right-aligned in their width (100,000 always fits), and the
Result column takes what is left. 80 columns hold them all."""


def _number(value: int | None, width: int) -> str:
    return ("–" if value is None else count(value)).rjust(width)


def run_row(record: RunRecord) -> tuple[Text, ...]:
    widths = [width for _title, width in COLUMNS]
    numbers = (
        record.count("copied"),
        record.count("already_present"),
        record.count("failed"),
        record.not_copied,
    )
    return (
        Text(record.started[:16]),  # ISO date and minute: the seconds are in the run id
        *(Text(_number(n, w)) for n, w in zip(numbers, widths[1:], strict=True)),
        Text(record.result, style="bold" if record.result != "complete" else ""),
    )


def run_details(record: RunRecord) -> Text:
    log = Path(record.log) if record.log else None
    where = f"{log.name} in {log.parent}" if log else "none"
    text = Text.assemble(("Run ", "bold"), record.run_id)
    if record.description:
        text.append(f" · {record.description}")
    text.append("\n")
    text.append_text(Text.assemble(("Log: ", "bold"), where))
    return text


def removal_wording(kind: str) -> str:
    """How undo removes the copies on a target of this kind, as the confirmation says it."""
    if kind == "imap":
        return "Only those messages are removed (UID EXPUNGE)"
    if kind == "maildir":
        return "Only those files are deleted"
    return "Only those messages are removed"


class HistoryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_report",
            "Report",
            id="history-report",
            tooltip="This run's report",
            priority=True,  # before the list's own Enter, so the footer shows it
        ),
        Binding("v", "view_log", "Log", id="history-log", tooltip="Read this run's log file"),
        Binding(
            "u",
            "undo",
            "Undo",
            id="history-undo",
            tooltip="Remove from the target exactly the messages this run copied",
        ),
        Binding("r", "reload", "Reload", show=False, id="history-reload", tooltip="Read it again"),
        Binding("j", "cursor(1)", "Down", show=False, id="history-down", tooltip="Next run"),
        Binding("k", "cursor(-1)", "Up", show=False, id="history-up", tooltip="Previous run"),
        Binding("escape,l", "close", "Back", key_display="esc", id="close-history"),
    ]

    class Listed(Message, bubble=False):
        def __init__(self, records: list[RunRecord]) -> None:
            super().__init__()
            self.records = records

    class UndoPlanned(Message, bubble=False):
        def __init__(self, plan: UndoPlan) -> None:
            super().__init__()
            self.plan = plan

    class Undone(Message, bubble=False):
        def __init__(self, result: UndoResult) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        source: AccountSession,
        target: AccountSession,
        *,
        copy_running: Callable[[], bool] = lambda: False,
        on_undone: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self.source, self.target = source, target
        self.copy_running = copy_running
        self.on_undone = on_undone
        """Called after an undo removed something (the main screen refreshes the target)."""
        self.records: list[RunRecord] = []

    def compose(self) -> ComposeResult:
        title = f"History: {self.source.label} → {self.target.label}"
        yield Static(Text(title), classes="screen-title")
        yield Static("reading the history…", id="history-status")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="runs")
        for index, (title, width) in enumerate(COLUMNS):
            table.add_column(title if index == 0 else title.rjust(width), width=width)
        table.add_column("Result")
        yield table
        yield Static(id="history-details")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.action_reload()

    # -- the list -----------------------------------------------------------------------------

    @property
    def current(self) -> RunRecord | None:
        row = self.query_one(DataTable).cursor_row
        return self.records[row] if 0 <= row < len(self.records) else None

    def action_reload(self) -> None:
        self._list(self.source.spec.identity, self.target.spec.identity)

    @work(thread=True, group="history", exclusive=True, exit_on_error=False)
    def _list(self, source: str, target: str) -> None:
        self.post_message(self.Listed(history.runs_between(source, target)))

    def on_history_screen_listed(self, message: HistoryScreen.Listed) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        self.records = message.records
        table.clear()
        for record in self.records:
            table.add_row(*run_row(record), key=record.run_id)
        if self.records:
            table.move_cursor(row=min(max(keep, 0), len(self.records) - 1))
        status = self.query_one("#history-status", Static)
        if self.records:
            status.update(Text(f"{plural(len(self.records), 'run')}, newest first"))
        else:
            status.update(Text("No runs between these accounts yet: a copy (c) is listed here."))
        self._show_details()

    @on(DataTable.RowHighlighted)
    def _show_details(self) -> None:
        record = self.current
        details = self.query_one("#history-details", Static)
        details.update(run_details(record) if record is not None else "")

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open_report()

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + step)

    # -- report and log -------------------------------------------------------------------------

    def action_open_report(self) -> None:
        from mailmig_tui.tui.copy.report_screen import ReportScreen

        record = self.current
        if record is None:
            return
        report = history.stored_report(record)
        if report is None:
            self.notify(
                "This run has not ended (still running, or stopped by force): no report; "
                "its log says how far it got (v)",
                severity="warning",
            )
            return
        title = f"{record.target} ({record.started[:16]})"
        self.app.push_screen(ReportScreen(report, (record.source, title)))

    def action_view_log(self) -> None:
        from mailmig_tui.tui.history.log_screen import LogScreen

        record = self.current
        if record is not None:
            self.app.push_screen(LogScreen(Path(record.log) if record.log else None))

    # -- undo -----------------------------------------------------------------------------------

    def action_undo(self) -> None:
        record = self.current
        if record is None:
            return
        if record.result == "undone":
            self.notify("This run is undone already", severity="warning")
            return
        if record.result == history.UNFINISHED and self.copy_running():
            self.notify("A copy is running: undo this run when it has ended", severity="warning")
            return
        self._plan_undo(record)

    @work(thread=True, group="undo", exclusive=True, exit_on_error=False)
    def _plan_undo(self, record: RunRecord) -> None:
        self.post_message(self.UndoPlanned(undo_job.undo_plan(record)))

    def on_history_screen_undo_planned(self, message: HistoryScreen.UndoPlanned) -> None:
        from mailmig_tui.tui.common.confirm import ConfirmDialog

        plan = message.plan
        if not plan.copies:
            self.notify(
                "Nothing to undo: the journal holds no message this run copied", severity="warning"
            )
            return
        question = (
            f"Remove {plan.summary} that run {plan.record.run_id} copied to "
            f"{self.target.label}?\n\n{removal_wording(self.target.spec.kind)}; "
            "nothing else on the target, and nothing on the source, is touched. "
            "A later copy copies them again."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one("#history-status", Static).update("undoing…")
                self._undo(plan)

        dialog = ConfirmDialog("Undo this run?", question, yes="Remove", no="Keep")
        self.app.push_screen(dialog, answered)

    @work(thread=True, group="undo", exclusive=True, exit_on_error=False)
    def _undo(self, plan: UndoPlan) -> None:
        self.post_message(self.Undone(undo_job.run_undo(plan, self.target)))

    def on_history_screen_undone(self, message: HistoryScreen.Undone) -> None:
        result = message.result
        text = f"Removed {count(result.removed)} messages from the target"
        if result.gone:
            text += f"; {count(result.gone)} were gone already"
        for problem in result.problems:
            text += f"\nNot undone: {problem}"
        if result.ok:
            self.notify(text, title="Undo", markup=False)
        else:
            self.notify(text, title="Undo", severity="error", markup=False)
        self.on_undone()
        self.action_reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            self.query_one("#history-status", Static).update("")
            self.post_message(WorkFailed(error, "undo" if event.worker.group == "undo" else ""))
            self.action_reload()

    def action_close(self) -> None:
        self.dismiss()
