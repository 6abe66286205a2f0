"""The folder list of one account: a tree (see `FolderTree`) with counts and sizes.

Special folders carry a short tag ([Sent], [Drafts], ...), as the mapping will treat them by
role. Space (Insert, t) marks a whole folder; `*` inverts the marks; Enter opens a folder.
←/→ (and -/+) collapse and expand a subtree; a collapsed folder shows its subtree's sums.
`/` (or `f`) filters the tree as you type, keeping the parents of what matches; Enter or
an arrow keeps the filter, Escape clears it. In the source pane, once the target's counts
are known (`set_target_counts`), each folder also shows its target folder's count and the
difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message

from mailmig_tui.engine.compare import TargetCount
from mailmig_tui.model import FolderInfo
from mailmig_tui.tui.browse.folder_tree import (
    CompareLayout,
    CountWidths,
    FolderTree,
    TreeRow,
    compare_layout,
    tree_header,
    tree_row,
)
from mailmig_tui.tui.browse.markable_list import MarkableList
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.browse.rows import folder_sort_key


class FolderList(MarkableList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open",
            "Open",
            key_display="enter",
            id="open",
            tooltip="Show the messages of the folder",
        ),
        Binding(
            "right",
            "expand_or_open",
            "Expand",
            show=False,
            id="expand-or-open",
            tooltip="Expand the subtree, or open an expanded folder",
        ),
        Binding(
            "plus",
            "expand",
            "Expand",
            show=False,
            id="expand",
            tooltip="Expand the subtree",
        ),
        Binding(
            "left,minus",
            "collapse",
            "Collapse",
            show=False,
            id="collapse",
            tooltip="Collapse the subtree (on a subfolder: go up)",
        ),
        Binding(
            "slash,f",
            "filter",
            "Filter",
            show=False,
            id="folder-filter",
            tooltip="Filter the tree as you type (Escape clears it)",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="clear-filter",
            tooltip="Show the whole tree again after a filter",
        ),
        Binding(
            "space,insert,t,ctrl+t",
            "mark",
            "Mark",
            id="mark",
            tooltip="Mark or unmark the whole folder and move down",
        ),
        Binding(
            "asterisk",
            "invert_marks",
            "Invert marks",
            show=False,
            id="invert-marks",
            tooltip="Invert the marks of every folder shown",
        ),
    ]

    class Open(Message):
        """Enter on a folder that holds messages: the pane shows it."""

        def __init__(self, folder: FolderInfo) -> None:
            super().__init__()
            self.folder = folder

    class ViewChanged(Message):
        """The header or the info line changed (a filter typed, the target's counts came):
        bubbles to the screen, which has the pane redraw them."""

    class FoldersShown(Message):
        """The account's folders were (re)listed: the screen compares them with the target."""

    def __init__(self, marks: MarkSet, *, id: str | None = None) -> None:
        super().__init__(marks, id=id)
        self.folders: list[FolderInfo] = []
        """Every folder of the account, in tree order (collapsed or filtered ones too)."""
        self.prefix = ""
        self.folder_tree = FolderTree([], "")
        self.collapsed: set[str] = set()
        self.filter_text = ""
        self.typing = False
        """The filter takes the keys typed (after `/`), until Enter, an arrow or Escape."""
        self.target_counts: dict[str, TargetCount] = {}
        self.shown_rows: list[TreeRow] = []
        self.count_widths = CountWidths()
        """Of `shown_rows`: the comparison's columns are as wide as their widest number."""

    def set_folders(self, folders: list[FolderInfo], prefix: str) -> None:
        """Show `folders` as a tree; keeps the cursor on the same folder when it still exists."""
        current = self.current.name if self.current else None
        self.prefix = prefix
        self.folders = sorted(folders, key=lambda f: folder_sort_key(f, prefix))
        self.folder_tree = FolderTree(self.folders, prefix)
        self.collapsed &= set(self.folder_tree.nodes)
        self._rebuild(current)
        self._announce(self.ViewChanged, self.FoldersShown)

    def set_target_counts(self, counts: Mapping[str, TargetCount]) -> None:
        """The target's count for each source folder (from `engine.compare.target_counts`)."""
        self.target_counts = dict(counts)
        self._rebuild(self.current.name if self.current else None)
        self._announce(self.ViewChanged)

    def _rebuild(self, keep: str | None) -> None:
        self._show(self.folder_tree.rows(self.collapsed, self.filter_text, self.target_counts))
        self.select_name(keep)

    def _show(self, rows: list[TreeRow]) -> None:
        self.shown_rows = rows
        widths = CountWidths.of(rows)
        if widths != self.count_widths:  # a collapsed sum can widen a column: so the header
            self._announce(self.ViewChanged)
        self.count_widths = widths
        self.rows_changed()

    def select_name(self, name: str | None) -> None:
        """Put the cursor on `name`, expanding its collapsed parents."""
        node = self.folder_tree.nodes.get(name) if name is not None else None
        if node is None:
            return
        if all(row.node is not node for row in self.shown_rows) and not self.filter_text:
            parents = {above.folder.name for above in node.ancestors()}
            if self.collapsed & parents:
                self.collapsed -= parents
                self._show(self.folder_tree.rows(self.collapsed, "", self.target_counts))
        for index, row in enumerate(self.shown_rows):
            if row.node is node:
                self.cursor = index
                return

    @property
    def current(self) -> FolderInfo | None:
        row = self.current_row
        return row.folder if row else None

    @property
    def current_row(self) -> TreeRow | None:
        if 0 <= self.cursor < len(self.shown_rows):
            return self.shown_rows[self.cursor]
        return None

    @property
    def comparing(self) -> bool:
        return bool(self.target_counts)

    def compare_layout(self, width: int) -> CompareLayout | None:
        return compare_layout(width, self.count_widths) if self.comparing else None

    def row_count(self) -> int:
        return len(self.shown_rows)

    def header(self, width: int) -> str:
        if self.typing or self.filter_text:
            cursor = "▏" if self.typing else ""
            shown = sum(1 for row in self.shown_rows if row.folder.selectable)
            return f"Filter: {self.filter_text}{cursor}  ({shown} shown)"[:width]
        return tree_header(width, self.compare_layout(width))

    def row_text(self, row: int, width: int) -> tuple[str, str]:
        shown = self.shown_rows[row]
        folder = shown.folder
        marked = self.marks.folder_marked(folder.name)
        text = tree_row(shown, width, marked, self.compare_layout(width))
        if marked:
            return text, "marked"
        if not folder.selectable or folder.error:
            return text, "dim"
        return text, "unread" if shown.totals.unseen else ""

    def _announce(self, *kinds: type[Message]) -> None:
        """Post from this list's own context: a message made in the pane's handler (which
        calls `set_folders`) would stop bubbling at the pane, its sender."""

        def post() -> None:
            for kind in kinds:
                self.post_message(kind())

        self.call_later(post)

    # -- tree ------------------------------------------------------------------------------

    def action_expand_or_open(self) -> None:
        row = self.current_row
        if row is not None and row.collapsed:
            self.action_expand()
        elif row is not None:
            self.action_open()

    def action_expand(self) -> None:
        row = self.current_row
        if row is not None and row.collapsed:
            self.collapsed.discard(row.folder.name)
            self._rebuild(row.folder.name)

    def action_collapse(self) -> None:
        """Collapse the subtree at the cursor; on a leaf or a collapsed one, go to its parent
        (and collapse that)."""
        row = self.current_row
        if row is None or self.filter_text:
            return
        if row.expandable and not row.collapsed:
            self.collapsed.add(row.folder.name)
            self._rebuild(row.folder.name)
            return
        for index in range(self.cursor - 1, -1, -1):
            if self.shown_rows[index].node.depth < row.node.depth:
                self.cursor = index
                return

    # -- filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.typing = True
        self._announce(self.ViewChanged)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text) or self.typing  # otherwise Escape goes on
        return True

    def action_clear_filter(self) -> None:
        self._set_filter("")
        self.typing = False
        self._announce(self.ViewChanged)

    def on_key(self, event: events.Key) -> None:
        """While typing a filter, every printable key goes to it, not to the bindings."""
        if not self.typing:
            return
        if event.key == "escape":
            self.action_clear_filter()
        elif event.key == "backspace":
            self._set_filter(self.filter_text[:-1])
        elif event.is_printable and event.character:
            self._set_filter(self.filter_text + event.character)
        else:  # Enter, an arrow, Tab: the filter stays, the key does what it always does
            self.typing = False
            self._announce(self.ViewChanged)
            if event.key == "enter":
                event.stop()
                event.prevent_default()
            return
        event.stop()
        event.prevent_default()

    def _set_filter(self, text: str) -> None:
        current = self.current.name if self.current else None
        self.filter_text = text
        self._rebuild(current)
        row = self.current_row
        if text and (row is None or text.casefold() not in row.node.path):
            # The cursor goes to the first folder that matches, not to a parent kept for it.
            matches = (
                i for i, shown in enumerate(self.shown_rows) if text.casefold() in shown.node.path
            )
            self.cursor = next(matches, 0)
        self._announce(self.ViewChanged)

    # -- opening and marking ---------------------------------------------------------------

    def action_open(self) -> None:
        folder = self.current
        if folder is not None and folder.error:
            self.notify(f"{folder.name} cannot be opened: {folder.error}", timeout=5)
        elif folder is not None and folder.selectable:
            self.post_message(self.Open(folder))
        elif folder is not None:
            self.notify(f"{folder.name} holds no messages, only folders", timeout=3)

    def action_mark(self) -> None:
        folder = self.current
        if folder is None:
            return
        if folder.selectable:
            self.marks.toggle_folder(folder)
            self.refresh_line(self.cursor)
            self.post_message(self.MarksChanged())
        self.cursor += 1

    def action_invert_marks(self) -> None:
        shown = [row.folder for row in self.shown_rows] if self.filter_text else self.folders
        self.marks.invert_folders(shown)
        self.refresh()
        self.post_message(self.MarksChanged())
