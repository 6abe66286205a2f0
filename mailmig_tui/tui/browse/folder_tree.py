"""The folder list as a tree: folders nested at their server's delimiter, collapsible, filtered.

`FolderTree` turns the flat LIST answer into nodes (a parent the server does not list, as
"a" of "a/b", becomes a node that holds no messages), and `rows()` gives what to show: the
expanded nodes in order, or while a filter is typed, every node whose path contains it with
its ancestors. A collapsed node shows the sums of its whole subtree, so nothing is hidden
by collapsing. With the target's counts (`engine.compare.TargetCount`), each row also says
how many messages the target folder holds and the difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mailmig_tui.engine.compare import TargetCount
from mailmig_tui.model import FolderInfo
from mailmig_tui.tui.browse.rows import folder_columns, folder_sort_key, role_tag, with_role_tag
from mailmig_tui.tui.common.format import count, fit, short_size

COLLAPSED, EXPANDED, LEAF = "▸ ", "▾ ", "  "


@dataclass
class Node:
    folder: FolderInfo
    depth: int
    label: str
    path: str
    """The parts joined with "/", casefolded: what the filter looks in."""
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    def ancestors(self) -> list[Node]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


@dataclass(frozen=True)
class Totals:
    messages: int = 0
    unseen: int = 0
    size: int = 0
    target: int | None = None
    """Messages in the target folders (None: no target count known for any folder)."""
    compared: int = 0
    """Source messages of the folders that have a target count: what `target` is set against."""

    def __add__(self, other: Totals) -> Totals:
        target = None
        if self.target is not None or other.target is not None:
            target = (self.target or 0) + (other.target or 0)
        return Totals(
            self.messages + other.messages,
            self.unseen + other.unseen,
            self.size + other.size,
            target,
            self.compared + other.compared,
        )


@dataclass(frozen=True)
class TreeRow:
    node: Node
    expandable: bool
    collapsed: bool
    totals: Totals
    """The folder's own figures, or its whole subtree's while collapsed."""

    @property
    def folder(self) -> FolderInfo:
        return self.node.folder


class FolderTree:
    def __init__(self, folders: list[FolderInfo], prefix: str) -> None:
        self.roots: list[Node] = []
        self.nodes: dict[str, Node] = {}
        """By folder name."""
        by_parts: dict[tuple[str, ...], Node] = {}
        for folder in sorted(folders, key=lambda f: folder_sort_key(f, prefix)):
            parts = tuple(folder.parts(prefix))
            for depth in range(1, len(parts)):  # parents the server did not list
                if parts[:depth] not in by_parts:
                    name = prefix + (folder.delimiter or "").join(parts[:depth])
                    holder = FolderInfo(name, folder.delimiter, selectable=False)
                    self._add(by_parts, parts[:depth], holder)
            if parts not in by_parts:
                self._add(by_parts, parts, folder)

    def _add(
        self, by_parts: dict[tuple[str, ...], Node], parts: tuple[str, ...], folder: FolderInfo
    ) -> None:
        parent = by_parts.get(parts[:-1]) if len(parts) > 1 else None
        node = Node(folder, len(parts) - 1, parts[-1], "/".join(parts).casefold(), parent=parent)
        by_parts[parts] = node
        self.nodes[folder.name] = node
        (parent.children if parent else self.roots).append(node)

    def rows(
        self,
        collapsed: set[str],
        filter_text: str = "",
        counts: Mapping[str, TargetCount] | None = None,
    ) -> list[TreeRow]:
        """The rows to show; `collapsed` holds folder names, ignored while filtering."""
        counts = counts or {}
        needle = filter_text.casefold()
        rows: list[TreeRow] = []

        def visit(node: Node) -> tuple[Totals, bool]:
            """Appends the node's rows; returns its subtree's totals and whether it matched."""
            at = len(rows)
            rows.append(TreeRow(node, False, False, Totals()))  # filled in below
            own = _own_totals(node.folder, counts)
            below, matched = Totals(), False
            for child in node.children:
                child_totals, child_matched = visit(child)
                below += child_totals
                matched |= child_matched
            hidden = not needle and node.folder.name in collapsed and bool(node.children)
            if hidden:
                del rows[at + 1 :]
            matched |= not needle or needle in node.path
            if not matched:
                del rows[at:]
            else:
                shown = own + below if hidden else own
                rows[at] = TreeRow(node, bool(node.children), hidden, shown)
            return own + below, matched

        for root in self.roots:
            visit(root)
        return rows


def _own_totals(folder: FolderInfo, counts: Mapping[str, TargetCount]) -> Totals:
    if not folder.selectable or folder.error:
        return Totals()
    known = counts.get(folder.name)
    if known is None:
        return Totals(folder.messages, folder.unseen, folder.size)
    return Totals(folder.messages, folder.unseen, folder.size, known.messages or 0, folder.messages)


def _name(row: TreeRow, width: int) -> str:
    """Indented, with the collapse marker and the role tag when it fits."""
    marker = (COLLAPSED if row.collapsed else EXPANDED) if row.expandable else LEAF
    name = "  " * row.node.depth + marker + row.node.label
    return with_role_tag(name, role_tag(row.folder), width)


def tree_header(width: int, layout: CompareLayout | None) -> str:
    """`layout`: the comparison's columns (`compare_layout`), None when not comparing."""
    if layout is not None:
        target = "Target" if layout.target >= len("Target") else "Tgt"
        return layout.cells("", "Folder", "Msgs", "", target, "Diff")
    return folder_columns(width).header()


def tree_row(row: TreeRow, width: int, marked: bool, layout: CompareLayout | None) -> str:
    folder, totals = row.folder, row.totals
    mark = "*" if marked else ""
    if layout is not None:
        name = _name(row, layout.name)
        if not folder.selectable and not row.collapsed:
            return layout.cells("", name, "", "", "", "")
        if folder.error:
            return layout.cells(mark, name + " (unreadable)", "", "", "", "")
        if totals.target is None:
            return layout.cells(mark, name, count(totals.messages), "", "", "")
        diff = totals.target - totals.compared
        return layout.cells(
            mark, name, count(totals.messages), "→", count(totals.target), signed(diff)
        )
    columns = folder_columns(width)
    name = _name(row, columns.name)
    if not folder.selectable and not row.collapsed:
        return columns.row("", name, "", "", "")
    if folder.error:
        return columns.row(mark, name + " (unreadable)", "", "", "")
    unseen = count(totals.unseen) if totals.unseen else ""
    return columns.row(mark, name, count(totals.messages), unseen, short_size(totals.size))


def signed(number: int) -> str:
    """−24, +3 or 0 (a true minus sign, as the issue shows it)."""
    if number < 0:
        return f"−{-number:,}"
    return f"+{number:,}" if number else "0"


NAME_MIN = 8
"""Cells of name kept before a column goes: `Archive…` still reads as a folder."""


@dataclass(frozen=True)
class CountWidths:
    """The widest text of each number column over the rows shown (headers included)."""

    messages: int = len("Msgs")
    target: int = len("Tgt")
    diff: int = len("Diff")
    indent: int = len(LEAF)
    """The deepest row's indent and marker: the name's minimum is counted after it."""

    @classmethod
    def of(cls, rows: list[TreeRow]) -> CountWidths:
        widest = cls()
        messages, target, diff, indent = widest.messages, widest.target, widest.diff, 0
        for row in rows:
            indent = max(indent, 2 * row.node.depth + len(LEAF))
            totals = row.totals
            messages = max(messages, len(count(totals.messages)))
            if totals.target is not None:
                target = max(target, len(count(totals.target)))
                diff = max(diff, len(signed(totals.target - totals.compared)))
        return cls(messages, target, diff, max(indent, len(LEAF)))


@dataclass(frozen=True)
class CompareLayout:
    """Cell widths of a comparison row; 0 for a column left out. Mark 2, then the name, the
    source's count, `→`, the target's count and the difference, one space between."""

    name: int
    messages: int
    target: int
    diff: int

    def cells(self, mark: str, name: str, messages: str, arrow: str, target: str, diff: str) -> str:
        text = fit(mark, 2) + fit(name, self.name) + " " + fit(messages, self.messages, True)
        if self.target:
            text += " " + fit(arrow, 1) + " " + fit(target, self.target, True)
        if self.diff:
            text += " " + fit(diff, self.diff, True)
        return text


def compare_layout(width: int, widths: CountWidths) -> CompareLayout:
    """Columns for `width` cells: every count in full (widths come from the data); where the
    name would get fewer than `NAME_MIN` cells past the deepest indent, the difference goes,
    then the target's count (never a number cut to `−1,`). The name takes what is left."""
    least = widths.indent + NAME_MIN
    base = 2 + 1 + widths.messages
    target = max(widths.target, len("Target"))  # the whole header where the name keeps room
    if width - (base + 3 + target + 1 + widths.diff) < least + NAME_MIN:
        target = widths.target
    with_target = base + 3 + target
    for used, shown_target, diff in (
        (with_target + 1 + widths.diff, target, widths.diff),
        (with_target, target, 0),
        (base, 0, 0),
    ):
        if width - used >= least:
            return CompareLayout(width - used, widths.messages, shown_target, diff)
    return CompareLayout(max(1, width - base), widths.messages, 0, 0)
