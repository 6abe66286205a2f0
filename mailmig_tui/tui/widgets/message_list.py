"""The messages of one open folder: a virtual list, paged in from the server as it is seen.

Opening a folder fetches only the UIDs in arrival order (newest first, one SORT or SEARCH);
the rows on screen then ask for their summaries in pages of 200, loaded by a thread worker
into `cache`, and show "…" until they arrive. Sorting by size, sender or subject needs every
summary: those still missing are fetched in a worker first (with progress in the info line),
then the list is sorted in memory. `/` searches on the server and shows only the matches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from mailmig_tui.errors import UsageError
from mailmig_tui.model import FolderInfo, MessageSummary
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.tui.format import count, message_columns, message_row, placeholder_row
from mailmig_tui.tui.marks import MarkSet
from mailmig_tui.tui.messages import (
    FolderOpened,
    MarksChanged,
    SearchDone,
    SortReady,
    SummariesLoaded,
    WorkFailed,
)
from mailmig_tui.tui.paging import PageQueue
from mailmig_tui.tui.query import parse_query
from mailmig_tui.tui.session import AccountSession
from mailmig_tui.tui.sorting import SORT_NAMES, next_sort_key, sort_uids
from mailmig_tui.tui.widgets.line_list import LineList

FILL_CHUNK = 1000
PROGRESS_INTERVAL = 0.1
"""Seconds between progress repaints of the info line: ~10 a second is plenty."""


class MessageList(LineList):
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
        def __init__(self, folder: str, uid: int) -> None:
            super().__init__()
            self.folder = folder
            self.uid = uid

    class Up(Message):
        """Backspace: back to the folder list."""

    class SearchRequested(Message):
        """`/`: the pane shows its search input."""

    class Changed(Message):
        """The info line (count, order, search, progress) needs a repaint."""

    def __init__(self, session: AccountSession, marks: MarkSet, *, id: str | None = None):
        super().__init__(id=id)
        self.session = session
        self.marks = marks
        self.folder: FolderInfo | None = None
        self.generation = 0
        """Bumped when another folder opens: older results are dropped."""
        self.arrival: list[int] = []
        self.view: list[int] = []
        self.cache: dict[int, MessageSummary] = {}
        self.gone: set[int] = set()
        self.sort_key = "date"
        self.search_text = ""
        self.hits: set[int] | None = None
        self.status = ""
        self.open_seconds: float | None = None
        self.pages = PageQueue()
        self._request_scheduled = False
        self._progress_at = 0.0

    # -- state -----------------------------------------------------------------------------

    def load(self, folder: FolderInfo) -> None:
        """Open `folder` (or reload it): fetch its UIDs in a worker."""
        self.generation += 1
        self.folder = folder
        self.arrival, self.view = [], []
        self.cache.clear()
        self.gone.clear()
        self.sort_key, self.search_text, self.hits = "date", "", None
        self.status = "opening…"
        self.open_seconds = None
        self.pages.reset()
        self.cursor = 0
        self.rows_changed()
        self.post_message(self.Changed())
        self._open_folder(self.generation, folder)

    @property
    def current_uid(self) -> int | None:
        return self.view[self.cursor] if 0 <= self.cursor < len(self.view) else None

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

    def _apply_view(self) -> None:
        """Recompute the rows from order and search, keeping the cursor on its message."""
        keep = self.current_uid
        order = self._sorted()
        self.view = order if self.hits is None else [u for u in order if u in self.hits]
        self.pages.reset()
        self.rows_changed()
        if keep is not None:
            try:
                self.cursor = self.view.index(keep)
            except ValueError:
                self.cursor = 0
        self.refresh()
        self.post_message(self.Changed())

    def _sorted(self) -> list[int]:
        if self.sort_key == "date":
            return self.arrival
        return sort_uids(self.arrival, self.cache, self.sort_key)

    def _missing(self, uid: int) -> bool:
        return uid not in self.cache and uid not in self.gone

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

    def _schedule_pages(self) -> None:
        if not self._request_scheduled:
            self._request_scheduled = True
            self.call_after_refresh(self._request_pages)

    def _request_pages(self) -> None:
        self._request_scheduled = False
        self._progress_at = 0.0
        if self.folder is None:
            return
        first = round(self.scroll_y)
        epoch = self.pages.want(first, first + self.list_height, self.view, self._missing)
        if epoch is not None:
            self._load_pages(self.generation, epoch, self.folder.name)

    # -- workers (threads: the only place that talks to the store) -------------------------

    @work(thread=True, group="open", exclusive=True, exit_on_error=False)
    def _open_folder(self, generation: int, folder: FolderInfo) -> None:
        # No STATUS here: without STATUS=SIZE it would fetch every size of a huge folder.
        started = time.monotonic()
        with self.session.connection("browse").use() as store:
            uids = store.newest_first(folder.name)
        self.post_message(FolderOpened(generation, folder, uids, time.monotonic() - started))

    @work(thread=True, group="pages", exit_on_error=False)
    def _load_pages(self, generation: int, epoch: int, folder: str) -> None:
        try:
            while (uids := self.pages.take(epoch)) is not None:
                with self.session.connection("pages").use() as store:
                    summaries = store.summaries(folder, uids)
                self.post_message(SummariesLoaded(generation, uids, summaries))
        except BaseException:
            self.pages.failed(epoch)
            raise

    @work(thread=True, group="sort", exclusive=True, exit_on_error=False)
    def _load_for_sort(self, generation: int, folder: str, uids: Sequence[int], key: str) -> None:
        if self._load_all(generation, folder, uids):
            self.post_message(SortReady(generation, key, []))

    @work(thread=True, group="sizes", exclusive=True, exit_on_error=False)
    def _load_sizes(self, generation: int, folder: str, uids: Sequence[int]) -> None:
        self._load_all(generation, folder, uids)

    def _load_all(self, generation: int, folder: str, uids: Sequence[int]) -> bool:
        """Load many summaries chunk by chunk (worker thread); False when cancelled."""
        worker = get_current_worker()
        for start in range(0, len(uids), FILL_CHUNK):
            if worker.is_cancelled:
                return False
            chunk = list(uids[start : start + FILL_CHUNK])
            with self.session.connection("pages").use() as store:
                summaries = store.summaries(folder, chunk)
            self.post_message(SummariesLoaded(generation, chunk, summaries))
        return True

    @work(thread=True, group="search", exclusive=True, exit_on_error=False)
    def _search(self, generation: int, folder: str, text: str, query: SearchQuery) -> None:
        with self.session.connection("browse").use() as store:
            uids = store.search(folder, query)
        self.post_message(SearchDone(generation, text, uids))

    # -- results ---------------------------------------------------------------------------

    def on_folder_opened(self, message: FolderOpened) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.folder = message.folder
        self.arrival = message.uids
        self.status = ""
        self.open_seconds = message.elapsed
        self._apply_view()

    def on_summaries_loaded(self, message: SummariesLoaded) -> None:
        message.stop()
        if message.generation != self.generation or self.folder is None:
            return
        got = {s.uid: s for s in message.summaries}
        self.cache.update(got)
        self.gone.update(uid for uid in message.requested if uid not in got)
        if self.marks.unknown_in(self.folder.name):
            self.marks.learn_sizes(self.folder.name, {uid: s.size for uid, s in got.items()})
            self.post_message(MarksChanged())
        now = time.monotonic()
        if self.status.startswith("sorting") and now - self._progress_at > PROGRESS_INTERVAL:
            self._progress_at = now
            loaded = len(self.cache) + len(self.gone)  # both hold this folder's uids only
            self.status = f"sorting: {count(loaded)} of {count(len(self.arrival))} loaded"
            self.post_message(self.Changed())
        self.refresh()

    def on_sort_ready(self, message: SortReady) -> None:
        message.stop()
        if message.generation != self.generation or message.key != self.sort_key:
            return
        self.status = ""
        self._apply_view()

    def on_search_done(self, message: SearchDone) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.status = ""
        self.hits, self.search_text = set(message.uids), message.text
        self._apply_view()
        if not self.view:
            self.notify("No message matches; Escape shows all again", timeout=4)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        self.status = ""
        self.post_message(self.Changed())
        where = f"{self.session.role} {self.folder.name if self.folder else ''}".strip()
        self.post_message(WorkFailed(event.worker.error, where))

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
        self.post_message(MarksChanged())

    def action_invert_marks(self) -> None:
        if self.folder is None:
            return
        sizes = {uid: s.size for uid, s in self.cache.items()}
        self.marks.invert_messages(self.folder.name, self.view, sizes)
        unknown = self.marks.unknown_in(self.folder.name)
        if unknown:
            self._load_sizes(self.generation, self.folder.name, unknown)
        self.refresh()
        self.post_message(MarksChanged())

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
