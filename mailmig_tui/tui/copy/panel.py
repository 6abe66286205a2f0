"""The four lines above the status line while a copy runs: totals, overall bar, the folders
being copied with their bars, and the latest error or connection notice. After the copy,
the check on the target is a phase of its own: "Checking 41,200/100,000" with its own bar.

It draws the snapshots its copy control publishes on the `progress` signal it is handed
(attributes down; it never looks for the control), so a fixed snapshot renders the same
every time. `p` opens the progress screen, `x` cancels (both bound on the main screen).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.signal import Signal
from textual.widgets import Static

from mailmig_tui.engine.progress import FolderProgress, ProgressSnapshot
from mailmig_tui.engine.wording import failure_line
from mailmig_tui.tui.common.format import clean, count, plural
from mailmig_tui.tui.copy.bars import STYLE_CLASSES, BarStyles, bar
from mailmig_tui.tui.copy.text import checking, headline, overall, percent


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
        last = clean(failure_line(snapshot.failures[-1]))
        return Text(f"{errors}, last: {last}", style=styles.error)
    return Text("no errors", style=styles.dim)


def folders_line(snapshot: ProgressSnapshot, styles: BarStyles) -> Table:
    """The folders being copied with their bars; while checking, what is being checked."""
    active = [] if checking(snapshot) else snapshot.active
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
        return folders
    folders.add_column(no_wrap=True, overflow="ellipsis")
    done = sum(f.state in ("done", "stopped") for f in snapshot.folders)
    text = f"{done} of {len(snapshot.folders)} folders done"
    if checking(snapshot):
        text += f"; {count(snapshot.copied)} copied, now looked up on the target by content"
    folders.add_row(Text(text, style=styles.dim))
    return folders


def panel_lines(
    snapshot: ProgressSnapshot, styles: BarStyles, width: int | None = None
) -> RenderableType:
    head = Table.grid(expand=True)
    head.add_column(no_wrap=True)
    head.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    verb, rest = headline(snapshot, width)
    head.add_row(Text(f"{verb} ", style="bold"), Text(rest))

    done, total = overall(snapshot)
    whole = Table.grid(expand=True, padding=(0, 1))
    whole.add_column(ratio=1)
    whole.add_column(no_wrap=True, justify="right", width=4)
    whole.add_row(bar(done, total, styles), percent(done, total))

    tail = Table.grid(expand=True, padding=(0, 1))
    tail.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    tail.add_column(no_wrap=True)
    tail.add_row(last_line(snapshot, styles), Text("p details · x cancel", style=styles.dim))
    return Group(head, whole, folders_line(snapshot, styles), tail)


class CopyPanel(Static):
    """Hidden until a copy is planned; then shows what the copy control publishes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = STYLE_CLASSES

    def __init__(self, progress: Signal[ProgressSnapshot], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.progress = progress
        """The copy control's signal: every snapshot it publishes is drawn here."""
        self.snapshot: ProgressSnapshot | None = None

    def on_mount(self) -> None:
        self.display = False
        # Immediate: drawn while the control publishes, so a later hide() is never undone.
        self.progress.subscribe(self, self.show, immediate=True)

    def planning(self, description: str) -> None:
        """Planning the copy of `description` (the main screen says so)."""
        self.snapshot = None
        self.update(Text(f"Planning the copy of {description}… (x cancels)"))
        self.display = True

    def show(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.phase == "finished":
            self.hide()
            return
        self.snapshot = snapshot
        self.display = True
        # Its width, so the first line leaves out the rate rather than cut the ETA.
        self.update(panel_lines(snapshot, BarStyles.of(self), self.content_region.width or None))

    def hide(self) -> None:
        self.display = False
        self.snapshot = None
