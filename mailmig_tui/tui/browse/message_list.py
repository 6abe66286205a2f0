"""The messages of one open folder: a virtual list, its rows paged in from the server as
they are seen (see `PagedMessages`), with "…" until they arrive.

Space marks a message, `*` inverts the marks, `s` cycles the order, `/` searches on the
server and shows only the matches; Enter reads a message, Backspace goes back.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from mailmig_tui.errors import UsageError
from mailmig_tui.tui.browse.paged_messages import PagedMessages
from mailmig_tui.tui.browse.query import parse_query
from mailmig_tui.tui.browse.rows import message_columns, message_row, placeholder_row
from mailmig_tui.tui.browse.sorting import SORT_NAMES, next_sort_key
from mailmig_tui.tui.common.format import count


class MessageList(PagedMessages):
    """The rows of `PagedMessages`, with the keys to mark, sort, search, read and go back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,right,l",
            "open",
            "Open",
            key_display="enter",
            id="open",
            tooltip="Read the message (fetched with BODY.PEEK: it stays unread)",
        ),
        Binding(
            "backspace,left,h",
            "up",
            "Up",
            key_display="bksp",
            id="up",
            tooltip="Back to the folder list",
        ),
        Binding(
            "space,insert,t,ctrl+t",
            "mark",
            "Mark",
            id="mark",
            tooltip="Mark or unmark the message and move down",
        ),
        Binding(
            "asterisk",
            "invert_marks",
            "Invert marks",
            show=False,
            id="invert-marks",
            tooltip="Invert the marks of every message shown",
        ),
        Binding(
            "s", "sort", "Sort", id="sort", tooltip="Sort by date, size, sender, subject (cycles)"
        ),
        Binding(
            "slash",
            "search",
            "Search",
            id="search",
            tooltip='Search on the server: from:x subject:"y" since:2024-01-01 larger:100k words',
        ),
        Binding(
            "escape",
            "clear_search",
            "Clear search",
            show=False,
            id="clear-search",
            tooltip="Show all messages again after a search",
        ),
    ]

    class Open(Message):
        """Enter on a message: the pane shows it."""

        def __init__(self, folder: str, uid: int) -> None:
            super().__init__()
            self.folder = folder
            self.uid = uid

    class Up(Message):
        """Backspace: back to the folder list."""

    class SearchRequested(Message):
        """`/`: the pane shows its search input."""

    def describe(self) -> str:
        """The info line under the list."""
        if self.folder is None:
            return ""
        parts = [self.folder.name, f"{count(len(self.arrival))} messages"]
        if self.hits is not None:
            parts.append(f"search {self.search_text}: {count(len(self.view))} found")
        parts.append(SORT_NAMES[self.sort_key])
        if self.status:
            parts.append(self.status)
        elif self.pages.paused:
            parts.append("not loading: press r to retry")
        return " · ".join(parts)

    # -- rendering -------------------------------------------------------------------------

    def row_count(self) -> int:
        return len(self.view)

    def header(self, width: int) -> str:
        return message_columns(width).header()

    def row_text(self, row: int, width: int) -> tuple[str, str]:
        uid = self.view[row]
        columns = message_columns(width)
        folder = self.folder.name if self.folder else ""
        marked = self.marks.message_marked(folder, uid)
        mark = "*" if marked else "+" if self.marks.folder_marked(folder) else ""
        summary = self.cache.get(uid)
        if summary is None:
            if uid in self.gone:
                return placeholder_row(columns, mark, "(gone)"), "dim"
            self._schedule_pages()
            return placeholder_row(columns, mark), "dim"
        text = message_row(columns, summary, mark)
        if marked:
            return text, "marked"
        return text, "" if "\\Seen" in summary.flags else "unread"

    # -- actions ---------------------------------------------------------------------------

    def action_open(self) -> None:
        uid = self.current_uid
        if uid is not None and self.folder is not None and uid not in self.gone:
            self.post_message(self.Open(self.folder.name, uid))

    def action_up(self) -> None:
        self.post_message(self.Up())

    def action_mark(self) -> None:
        uid = self.current_uid
        if uid is None or self.folder is None:
            return
        summary = self.cache.get(uid)
        self.marks.toggle_message(self.folder.name, uid, summary.size if summary else None)
        self.refresh_line(self.cursor)
        self.cursor += 1
        self.post_message(self.MarksChanged())

    def action_invert_marks(self) -> None:
        if self.folder is None:
            return
        sizes = {uid: s.size for uid, s in self.cache.items()}
        self.marks.invert_messages(self.folder.name, self.view, sizes)
        unknown = self.marks.unknown_in(self.folder.name)
        if unknown:
            self._load_sizes(self.generation, self.folder.name, unknown)
        self.refresh()
        self.post_message(self.MarksChanged())

    def action_sort(self) -> None:
        if self.folder is None or self.status == "opening…":
            return
        self.sort_key = next_sort_key(self.sort_key)
        missing = [u for u in self.arrival if self._missing(u)] if self.sort_key != "date" else []
        if missing:
            self.status = f"sorting: loading {count(len(missing))} summaries"
            self.post_message(self.Changed())
            self._load_for_sort(self.generation, self.folder.name, missing, self.sort_key)
        else:
            self.status = ""
            self._apply_view()

    def action_search(self) -> None:
        if self.folder is not None:
            self.post_message(self.SearchRequested())

    def search(self, text: str) -> None:
        """Run the search box's query on the server."""
        if self.folder is None:
            return
        try:
            query = parse_query(text)
        except UsageError as exc:
            self.notify(exc.one_line(), title="Search", severity="warning")
            return
        self.status = "searching…"
        self.post_message(self.Changed())
        self._search(self.generation, self.folder.name, text, query)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            return self.hits is not None  # otherwise Escape goes on to the screen
        return True

    def action_clear_search(self) -> None:
        self.hits, self.search_text = None, ""
        self._apply_view()
