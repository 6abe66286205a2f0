"""The four lines above the status line while a copy runs: totals, overall bar, the folders
being copied with their bars, and the latest error or connection notice.

It only draws a `ProgressSnapshot` it is given (`show`), so a fixed snapshot renders the same
every time; the transfer control feeds it ~10 times a second. `p` opens the full transfer
screen, `x` cancels (both bound on the main screen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from mailmig_tui.tui.format import count, plural
from mailmig_tui.tui.transfer_state import FolderProgress, ProgressSnapshot
from mailmig_tui.tui.transfer_text import failure_line, percent, progress_line


@dataclass(frozen=True)
class BarStyles:
    back: Style
    complete: Style
    finished: Style
    error: Style
    dim: Style

    @classmethod
    def of(cls, widget: Widget) -> BarStyles:
        def get(name: str) -> Style:
            return widget.get_component_rich_style(f"transfer--{name}", partial=True)

        return cls(get("back"), get("complete"), get("finished"), get("error"), get("dim"))


STYLE_CLASSES = {
    "transfer--back",
    "transfer--complete",
    "transfer--finished",
    "transfer--error",
    "transfer--dim",
}
"""Component classes of every widget that draws bars (colours in app.tcss)."""


def bar(done: int, total: int, styles: BarStyles) -> ProgressBar:
    return ProgressBar(
        total=max(total, 1),
        completed=done if total else 1,
        style=styles.back,
        complete_style=styles.complete,
        finished_style=styles.finished,
    )


def folder_cell(folder: FolderProgress, styles: BarStyles) -> Table:
    """`INBOX ━━━━━━━━━──── 812/1,500` in whatever width it gets."""
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=2, no_wrap=True, overflow="ellipsis")
    grid.add_column(ratio=3)
    grid.add_column(no_wrap=True, justify="right")
    grid.add_row(
        Text(folder.source),
        bar(folder.processed, folder.messages, styles),
        f"{count(folder.processed)}/{count(folder.messages)}",
    )
    return grid


def last_line(snapshot: ProgressSnapshot, styles: BarStyles) -> Text:
    if snapshot.notice:
        return Text(snapshot.notice, style=styles.error)
    if snapshot.failures:
        errors = plural(snapshot.failure_count, "error")
        return Text(f"{errors}, last: {failure_line(snapshot.failures[-1])}", style=styles.error)
    return Text("no errors", style=styles.dim)


def panel_lines(snapshot: ProgressSnapshot, title: str, styles: BarStyles) -> RenderableType:
    head = Table.grid(expand=True)
    head.add_column(no_wrap=True)
    head.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    head.add_row(Text(f"{title}: ", style="bold"), Text(progress_line(snapshot)))

    overall = Table.grid(expand=True, padding=(0, 1))
    overall.add_column(ratio=1)
    overall.add_column(no_wrap=True, justify="right", width=4)
    overall.add_row(
        bar(snapshot.processed, snapshot.messages, styles),
        percent(snapshot.processed, snapshot.messages),
    )

    active = snapshot.active
    folders = Table.grid(expand=True, padding=(0, 2))
    shown = active[:2]
    for _ in shown:
        folders.add_column(ratio=1)
    if shown:
        cells: list[RenderableType] = [folder_cell(f, styles) for f in shown]
        if len(active) > len(shown):
            folders.add_column(no_wrap=True)
            cells.append(Text(f"+{len(active) - len(shown)}", style=styles.dim))
        folders.add_row(*cells)
    else:
        folders.add_column()
        done = sum(f.state in ("done", "stopped") for f in snapshot.folders)
        folders.add_row(Text(f"{done} of {len(snapshot.folders)} folders done", style=styles.dim))

    tail = Table.grid(expand=True, padding=(0, 1))
    tail.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    tail.add_column(no_wrap=True)
    tail.add_row(last_line(snapshot, styles), Text("p details · x cancel", style=styles.dim))
    return Group(head, overall, folders, tail)


class TransferPanel(Static):
    """Hidden until a copy starts; shows the latest snapshot."""

    COMPONENT_CLASSES: ClassVar[set[str]] = STYLE_CLASSES

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: ProgressSnapshot | None = None
        self.title = "Copying"

    def on_mount(self) -> None:
        self.display = False

    def show(self, snapshot: ProgressSnapshot, title: str | None = None) -> None:
        if title is not None:
            self.title = title
        self.snapshot = snapshot
        self.display = True
        self.update(panel_lines(snapshot, self.title, BarStyles.of(self)))

    def hide(self) -> None:
        self.display = False
        self.snapshot = None
