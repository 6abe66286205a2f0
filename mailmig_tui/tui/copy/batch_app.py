"""`mailmig batch USERS.csv --tui`: every user's state, rate and errors while a batch runs.

A small App of its own (the batch has no panes to browse). The batch runs in one thread
worker through the same `run_batch` the command line uses (each user one `CopyService`
run: copy, check, log); its events are folded into per-user rows on that thread and posted
to the UI at most ten times a second. A user whose copy is being checked shows "checking".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from mailmig_tui.engine.batch import BatchJob, UserResult
from mailmig_tui.engine.events import CopyEvent, MessageCopied, MessageFailed, Verifying
from mailmig_tui.engine.wording import human_size

COLUMNS = ("Row", "Source", "Target", "State", "Copied", "Size", "Rate", "Errors")


@dataclass
class UserRow:
    """What the table shows for one user; updated on the batch's thread."""

    result: UserResult
    copied: int = 0
    bytes: int = 0
    errors: int = 0
    started: float = 0.0
    last_error: str = ""
    rate: float = field(default=0.0)
    checking: bool = False
    """The copy is done and the engine checks it on the target."""

    def cells(self) -> tuple[str, ...]:
        user = self.result.user
        error = self.result.error or self.last_error
        state = self.result.state
        return (
            str(user.row),
            user.source,
            user.target,
            "checking" if self.checking and state == "copying" else state,
            str(self.copied),
            human_size(self.bytes),
            f"{self.rate:,.0f}/s" if self.rate else "",
            f"{self.errors} {error}".strip() if self.errors or error else "",
        )


class BatchApp(App[int]):
    TITLE = "mailmig batch"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "x",
            "cancel",
            "Cancel",
            id="batch-cancel",
            tooltip="Stop after the messages in flight; a later run resumes",
        ),
        Binding("q", "quit_batch", "Quit", id="batch-quit", tooltip="Quit (cancels first)"),
    ]
    CSS = "DataTable { height: 1fr; } #summary { height: 1; padding: 0 1; }"

    class RowsChanged(Message):
        """Fresh cells for some users (row number -> cells), from the batch's worker."""

        def __init__(self, cells: dict[int, tuple[str, ...]], finished: bool = False) -> None:
            super().__init__()
            self.cells = cells
            self.finished = finished

    def __init__(self, job: BatchJob) -> None:
        super().__init__()
        self.job = job
        self.cancel_event = threading.Event()
        self.running = False
        self.results: list[UserResult] = []

    def compose(self) -> ComposeResult:
        yield DataTable(id="users", cursor_type="row", zebra_stripes=True)
        yield Static("", id="summary")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for user in self.job.users:
            table.add_row(*UserRow(UserResult(user)).cells(), key=str(user.row))
        self.running = True
        self.run_batch()

    @work(thread=True, exclusive=True, group="batch", exit_on_error=False)
    def run_batch(self) -> None:
        rows: dict[int, UserRow] = {}
        dirty: set[int] = set()
        last_post = 0.0

        def on_event(result: UserResult, event: CopyEvent | None) -> None:
            nonlocal last_post
            row = rows.setdefault(result.user.row, UserRow(result, started=time.monotonic()))
            if isinstance(event, MessageCopied):
                row.copied += 1
                row.bytes += event.message.size
                row.rate = row.copied / max(time.monotonic() - row.started, 1e-3)
            elif isinstance(event, MessageFailed):
                row.errors += 1
                row.last_error = event.failure.reason
            elif isinstance(event, Verifying):
                row.checking = True
            dirty.add(result.user.row)
            now = time.monotonic()
            if event is None or now - last_post >= 0.1:  # ~10 updates a second at most
                self.post_message(self.RowsChanged({n: rows[n].cells() for n in dirty}))
                dirty.clear()
                last_post = now

        self.results = self.job.run(cancel=self.cancel_event, on_event=on_event)
        self.post_message(self.RowsChanged({n: r.cells() for n, r in rows.items()}, finished=True))

    def on_batch_app_rows_changed(self, message: BatchApp.RowsChanged) -> None:
        table = self.query_one(DataTable)
        for number, cells in message.cells.items():
            for column, value in enumerate(cells):
                table.update_cell(str(number), table.ordered_columns[column].key, value)
        states = [table.get_cell(str(u.row), table.ordered_columns[3].key) for u in self.job.users]
        done = sum(s == "done" for s in states)
        trouble = sum(s in ("failed", "error") for s in states)
        text = f"{done} of {len(self.job.users)} users done, {trouble} with problems"
        if message.finished:
            self.running = False
            text += " · finished: q quits"
        self.query_one("#summary", Static).update(text)

    def action_cancel(self) -> None:
        if self.running:
            self.cancel_event.set()
            self.notify("Cancelling: messages in flight finish, a later run resumes.")

    def action_quit_batch(self) -> None:
        if self.running:
            self.action_cancel()
            self.notify("The batch stops after the messages in flight; press q again then.")
            return
        failed = any(r.state != "done" for r in self.results)
        self.exit(1 if failed or not self.results else 0)
