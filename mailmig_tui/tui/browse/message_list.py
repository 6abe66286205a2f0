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
from mailmig_tui.model import FolderInfo
from mailmig_tui.tui.browse.paged_messages import PagedMessages
from mailmig_tui.tui.browse.query import parse_query
from mailmig_tui.tui.browse.rows import message_columns, message_row, placeholder_row
from mailmig_tui.tui.browse.sorting import SORT_NAMES, next_sort_key
from mailmig_tui.tui.common.format import count


class MessageList(PagedMessages):
    """The rows of `PagedMessages`, with the keys to mark, sort, search, read and go back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter,right",  # not l: l is the history everywhere
            "open",
            "Open",
            key_display="enter",
            id="open",
            tooltip="Read the message (fetched with BODY.PEEK: it stays unread)",
        ),
        Binding(
            "backspace,left",
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

    on_target: frozenset[int] = frozenset()
    """UIDs of the open folder found on the target; the main screen sets it, rows show ✓."""

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

    class RowsShown(Message):
        """The open folder's first rows are there: slower extra work (the lookup on the
        target) may start now without delaying them."""

        def __init__(self, folder: str) -> None:
            super().__init__()
            self.folder = folder

    _rows_shown_of = -1
    """The generation whose first rows were announced (`RowsShown`)."""

    def load(self, folder: FolderInfo) -> None:
        super().load(folder)
        # A big folder takes seconds to list: say how big, from the folder list's count.
        if folder.messages:
            noun = "message" if folder.messages == 1 else "messages"
            self.status = f"opening {count(folder.messages)} {noun}…"

    @property
    def opening(self) -> bool:
        return self.status.startswith("opening")

    @property
    def rows_shown(self) -> bool:
        """The open folder's first rows (or its emptiness) are on screen."""
        return self._rows_shown_of == self.generation

    def _announce_rows(self) -> None:
        if self.folder is not None and not self.rows_shown:
            self._rows_shown_of = self.generation
            self.post_message(self.RowsShown(self.folder.name))

    # Run besides PagedMessages' own handlers of the same messages (Textual calls each
    # class's handler in the MRO); the announcement is queued, so it arrives after both.

    def on_paged_messages_folder_opened(self, message: PagedMessages.FolderOpened) -> None:
        if message.generation == self.generation and not message.uids:
            self._announce_rows()

    def on_paged_messages_summaries_loaded(self, message: PagedMessages.SummariesLoaded) -> None:
        if message.generation == self.generation:
            self._announce_rows()

    def describe(self) -> str:
        """The info line under the list, whole."""
        return " · ".join(text for _priority, text in self.describe_parts())

    def describe_parts(self) -> list[tuple[int, str]]:
        """The info line's parts as (priority, text): where the line is too narrow the pane
        leaves out the highest numbers first, so the search's hit count and any progress
        stay longest and no count is cut."""
        if self.folder is None:
            return []
        parts = [(2, self.folder.name), (1, f"{count(len(self.arrival))} messages")]
        if self.hits is not None:
            parts.append((0, f"search {self.search_text}: {count(len(self.view))} found"))
        parts.append((3, SORT_NAMES[self.sort_key]))
        if self.status:
            parts.append((0, self.status))
        elif self.pages.paused:
            parts.append((0, "not loading: press r to retry"))
        return parts

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
        if uid in self.on_target:  # already on the target (see engine.compare)
            mark = (mark or " ") + "✓"
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

    def learn_marked_sizes(self) -> None:
        """Fetch the sizes of this folder's marked messages not known yet (in a worker)."""
        if self.folder is not None and (unknown := self.marks.unknown_in(self.folder.name)):
            self._load_sizes(self.generation, self.folder.name, unknown)

    def action_sort(self) -> None:
        if self.folder is None or self.opening:
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
