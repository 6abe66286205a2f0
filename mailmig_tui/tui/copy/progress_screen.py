"""The running copy on the whole screen (`p`): overall progress, a bar per folder, and the
errors as they come, in a list that scrolls (and follows the newest while at its end).
After the copy, the check on the target shows as its own phase with its own bar.

It subscribes to the copy control's `progress` signal it is handed, and starts from the
latest snapshot; Escape or `p` goes back to the panes and the copy runs on; `x` cancels
(during the check too: the report keeps what was copied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import Footer, Static

from mailmig_tui.engine.progress import ProgressSnapshot
from mailmig_tui.engine.wording import failure_line
from mailmig_tui.tui.common.format import count, fit
from mailmig_tui.tui.common.line_list import LineList
from mailmig_tui.tui.copy.bars import STYLE_CLASSES, BarStyles, bar
from mailmig_tui.tui.copy.text import checking, overall, percent, progress_line


class ErrorList(LineList):
    """The failures so far, newest last; follows new ones while the cursor is on the last."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[str] = []

    def row_count(self) -> int:
        return max(1, len(self.lines))

    def row_text(self, row: int, width: int) -> tuple[str, str]:
        if not self.lines:
            return fit("No errors so far.", width), "dim"
        return fit(self.lines[row], width), ""

    def set_lines(self, lines: list[str]) -> None:
        following = self.cursor >= len(self.lines) - 1
        self.lines = lines
        self.rows_changed()
        if following:
            self.cursor = len(lines) - 1


def folder_bars(snapshot: ProgressSnapshot, styles: BarStyles) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, show_header=False)
    table.add_column(ratio=2, no_wrap=True, overflow="ellipsis")
    table.add_column(ratio=3)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(no_wrap=True)
    for folder in snapshot.folders:
        state = folder.state if not folder.error else f"stopped: {folder.error}"
        table.add_row(
            Text(folder.source),
            bar(folder.processed, folder.messages, styles),
            f"{count(folder.processed)}/{count(folder.messages)}",
            Text(state, style=styles.error if folder.error else styles.dim),
        )
    return table


def screen_title(snapshot: ProgressSnapshot) -> str:
    if snapshot.phase == "cancelling":
        return "Cancelling the copy"
    return "Checking the copy on the target" if checking(snapshot) else "Copy in progress"


class CopyProgressScreen(Screen[None]):
    COMPONENT_CLASSES: ClassVar[set[str]] = STYLE_CLASSES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,p",
            "back",
            "Back",
            id="progress-back",
            tooltip="Back to the panes; the copy goes on",
        ),
        Binding("x", "cancel_copy", "Cancel copy", id="progress-cancel", tooltip="Cancel the copy"),
    ]

    def __init__(
        self,
        progress: Signal[ProgressSnapshot],
        snapshot: ProgressSnapshot,
        cancel: Callable[[], None],
    ) -> None:
        super().__init__()
        self.progress = progress
        """The copy control's signal; this screen draws every snapshot published on it."""
        self.snapshot = snapshot
        self.cancel = cancel

    def compose(self) -> ComposeResult:
        yield Static(classes="screen-title", id="progress-title")
        yield Static(id="progress-overall")
        with VerticalScroll(id="progress-folders"):
            yield Static(id="progress-bars")
        yield Static(Text("Errors"), classes="section-title", id="progress-errors-title")
        yield ErrorList(id="progress-errors")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.show(self.snapshot)
        self.progress.subscribe(self, self.show, immediate=True)
        self.query_one(ErrorList).focus()

    def show(self, snapshot: ProgressSnapshot) -> None:
        self.snapshot = snapshot
        styles = BarStyles.of(self)
        self.query_one("#progress-title", Static).update(Text(screen_title(snapshot)))
        done, total = overall(snapshot)
        whole = Table.grid(expand=True, padding=(0, 1))
        whole.add_column(ratio=1)
        whole.add_column(width=4, justify="right")
        whole.add_row(bar(done, total, styles), percent(done, total))
        lines: list[Text | Table] = [Text(progress_line(snapshot)), whole]
        if snapshot.notice:
            lines.append(Text(snapshot.notice, style=styles.error))
        self.query_one("#progress-overall", Static).update(Group(*lines))
        self.query_one("#progress-bars", Static).update(folder_bars(snapshot, styles))
        title = f"Errors ({count(snapshot.failure_count)})" if snapshot.failure_count else "Errors"
        if snapshot.failure_count > len(snapshot.failures):
            title += f": the latest {count(len(snapshot.failures))} (the log has all)"
        self.query_one("#progress-errors-title", Static).update(Text(title))
        self.query_one(ErrorList).set_lines([failure_line(f) for f in snapshot.failures])

    def action_back(self) -> None:
        self.dismiss()

    def action_cancel_copy(self) -> None:
        self.cancel()
