"""The folder list of one account: the tree indented by depth, with counts and sizes.

Special folders carry a short tag ([Sent], [Drafts], ...), as the mapping will treat them by
role. Space (Insert, t) marks a whole folder; `*` inverts the marks; Enter opens a folder.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from mailmig_tui.model import FolderInfo
from mailmig_tui.tui.browse.markable_list import MarkableList
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.browse.rows import folder_columns, folder_row, folder_sort_key


class FolderList(MarkableList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,right,l",
            "open",
            "Open",
            key_display="enter",
            id="open",
            tooltip="Show the messages of the folder",
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
            tooltip="Invert the marks of every folder",
        ),
    ]

    class Open(Message):
        """Enter on a folder that holds messages: the pane shows them."""

        def __init__(self, folder: FolderInfo) -> None:
            super().__init__()
            self.folder = folder

    def __init__(self, marks: MarkSet, *, id: str | None = None) -> None:
        super().__init__(marks, id=id)
        self.folders: list[FolderInfo] = []
        self.prefix = ""

    def set_folders(self, folders: list[FolderInfo], prefix: str) -> None:
        """Show `folders` as a tree; keeps the cursor on the same folder when it still exists."""
        current = self.current.name if self.current else None
        self.prefix = prefix
        self.folders = sorted(folders, key=lambda f: folder_sort_key(f, prefix))
        names = [f.name for f in self.folders]
        self.rows_changed()
        if current in names:
            self.cursor = names.index(current)

    def select_name(self, name: str) -> None:
        for index, folder in enumerate(self.folders):
            if folder.name == name:
                self.cursor = index
                return

    @property
    def current(self) -> FolderInfo | None:
        if 0 <= self.cursor < len(self.folders):
            return self.folders[self.cursor]
        return None

    def row_count(self) -> int:
        return len(self.folders)

    def header(self, width: int) -> str:
        return folder_columns(width).header()

    def row_text(self, row: int, width: int) -> tuple[str, str]:
        folder = self.folders[row]
        marked = self.marks.folder_marked(folder.name)
        text = folder_row(folder_columns(width), folder, self.prefix, marked)
        if marked:
            return text, "marked"
        if not folder.selectable:
            return text, "dim"
        return text, "unread" if folder.unseen else ""

    def action_open(self) -> None:
        folder = self.current
        if folder is not None and folder.selectable:
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
        self.marks.invert_folders(self.folders)
        self.refresh()
        self.post_message(self.MarksChanged())
