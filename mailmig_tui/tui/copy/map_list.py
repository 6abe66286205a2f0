"""The rows of the folder map: flag, source folder, target folder, and which rule decided.

`!` marks a conflict (two source folders the automatic rules send to one target), `+` a
merge (two source folders sent to one target on purpose); both are coloured too, but never
told by colour alone. "(new)" says the copy will create the target folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len

from mailmig_tui.engine.folder_map import MapRow
from mailmig_tui.tui.common.format import fit
from mailmig_tui.tui.common.line_list import LineList

REASONS = {
    "inbox": "auto: inbox",
    "special": "auto: special",
    "path": "auto: path",
    "manual": "manual",
    "conflict": "conflict",
}


@dataclass(frozen=True)
class MapColumns:
    source: int
    target: int
    how: int

    def row(self, flag: str, source: str, target: str, how: str) -> str:
        return (
            fit(flag, 2)
            + fit(source, self.source)
            + " → "
            + fit(target, self.target)
            + " "
            + fit(how, self.how)
        )

    def header(self) -> str:
        return (
            fit("", 2)
            + fit("Source folder", self.source)
            + "   "
            + fit("Target folder", self.target)
            + " "
            + fit("How", self.how)
        )


def map_columns(width: int) -> MapColumns:
    how = 13 if width >= 60 else 8
    rest = max(8, width - 2 - 3 - 1 - how)
    source = min(rest * 9 // 20, 40)  # wide screens give the room to the target's name
    return MapColumns(source, rest - source, how)


def row_parts(row: MapRow) -> tuple[str, str, str, str]:
    flag = "!" if row.conflict else "+" if row.merge else ""
    target = row.target if row.target_exists else f"{row.target} (new)"
    return flag, row.source, target, REASONS.get(row.reason, row.reason)


class MapList(LineList):
    COMPONENT_CLASSES: ClassVar[set[str]] = LineList.COMPONENT_CLASSES | {
        "line-list--conflict",
        "line-list--merge",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[MapRow] = []

    def set_rows(self, rows: list[MapRow]) -> None:
        keep = self.current.source if self.current else None
        self.rows = rows
        self.rows_changed()
        for index, row in enumerate(rows):
            if row.source == keep:
                self.cursor = index

    @property
    def current(self) -> MapRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def row_count(self) -> int:
        return len(self.rows)

    def header(self, width: int) -> str:
        return map_columns(width).header()

    def row_text(self, row: int, width: int) -> tuple[str, str]:
        entry = self.rows[row]
        text = map_columns(width).row(*row_parts(entry))
        if cell_len(text) < width:
            text += " " * (width - cell_len(text))
        if entry.conflict:
            return text, "conflict"
        if entry.merge:
            return text, "merge"
        return text, "unread" if entry.reason == "manual" else ""  # bold
