"""The messages of one open folder as data: UIDs, summaries paged in, sorted and searched.

Opening a folder fetches only the UIDs in arrival order (newest first: one ESORT, whose
answer is a compact sequence set, or SORT, where the server has them); meanwhile the paging
connection logs in and opens the folder. The rows on screen then ask for their summaries in
pages of 200, one page ahead of the screen, loaded by a thread worker into `cache`.
Sorting by size, sender or subject needs every summary: those still missing are fetched in
a worker first (with progress in the info line), then the list is sorted in memory. A
search runs on the server (ESEARCH where it has it) and leaves only the matches in `view`.

The base of `MessageList`, which draws the rows and binds the keys; the thread workers here
are the only code that talks to the store.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from mailmig_tui.engine.split_search import Helper, split_search
from mailmig_tui.errors import MailmigError
from mailmig_tui.model import FolderInfo, MessageSummary
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.browse.markable_list import MarkableList
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.browse.paging import PageQueue
from mailmig_tui.tui.browse.sorting import sort_uids
from mailmig_tui.tui.common.app_messages import WorkFailed
from mailmig_tui.tui.common.format import count

FILL_CHUNK = 1000
PROGRESS_INTERVAL = 0.1
"""Seconds between progress repaints of the info line: ~10 a second is plenty."""


class PagedMessages(MarkableList):
    """The open folder's UIDs, the summaries loaded so far, and the order and search shown."""

    class Changed(Message):
        """The info line (count, order, search, progress) needs a repaint."""

    # Its workers' results, to itself; `generation` drops those of a folder left already.

    @dataclass
    class FolderOpened(Message, bubble=False):
        generation: int
        folder: FolderInfo
        uids: list[int]
        elapsed: float

    @dataclass
    class SummariesLoaded(Message, bubble=False):
        generation: int
        requested: list[int]
        summaries: list[MessageSummary]

    @dataclass
    class SortReady(Message, bubble=False):
        generation: int
        key: str

    @dataclass
    class SearchDone(Message, bubble=False):
        generation: int
        text: str
        uids: list[int]

    def __init__(
        self,
        session: AccountSession,
        marks: MarkSet,
        *,
        connection_cap: int | None = None,
        id: str | None = None,
    ):
        super().__init__(marks, id=id)
        self.session = session
        self.connection_cap = connection_cap
        """The most connections per server (the copy settings' `connections`, handed down
        by the pane); a split search uses no more. None: the split search's own maximum."""
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
        if not self.session.spec.is_local:
            self._warm_pages(folder.name)

    @property
    def current_uid(self) -> int | None:
        return self.view[self.cursor] if 0 <= self.cursor < len(self.view) else None

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

    # -- pages -----------------------------------------------------------------------------

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
        elapsed = time.monotonic() - started
        self.post_message(self.FolderOpened(generation, folder, uids, elapsed))

    @work(thread=True, group="pages", exit_on_error=False)
    def _warm_pages(self, folder: str) -> None:
        """Log the paging connection in and open the folder on it while the order is being
        fetched: over a far link the first page then costs one round trip, not a login."""
        # A failure is left to the page loader to report, as it would be without this.
        with contextlib.suppress(MailmigError), self.session.connection("pages").use() as store:
            store.summaries(folder, [])

    @work(thread=True, group="pages", exit_on_error=False)
    def _load_pages(self, generation: int, epoch: int, folder: str) -> None:
        try:
            while (uids := self.pages.take(epoch)) is not None:
                with self.session.connection("pages").use() as store:
                    summaries = store.summaries(folder, uids)
                self.post_message(self.SummariesLoaded(generation, uids, summaries))
        except BaseException:
            self.pages.failed(epoch)
            raise

    @work(thread=True, group="sort", exclusive=True, exit_on_error=False)
    def _load_for_sort(self, generation: int, folder: str, uids: Sequence[int], key: str) -> None:
        if self._load_all(generation, folder, uids):
            self.post_message(self.SortReady(generation, key))

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
            self.post_message(self.SummariesLoaded(generation, chunk, summaries))
        return True

    def _search_helper(self, purpose: str) -> Helper:
        # Logged out after its part: a server's per-user limit (Exchange's ~16) is shared
        # with the panes' and a copy's connections; a login per split search is part of
        # what SPLIT_FROM weighs. The lock bounds the helpers at two even while a
        # cancelled search's part still runs.
        return lambda: self.session.connection(purpose).use(keep=False)

    @work(thread=True, group="search", exclusive=True, exit_on_error=False)
    def _search(self, generation: int, folder: str, text: str, query: SearchQuery) -> None:
        # A text search of a big IMAP folder is cut into parts searched at once on helper
        # connections (`split_search`), each opened for the search and closed after it.
        worker = get_current_worker()
        helpers = [self._search_helper("search-2")]
        with self.session.connection("browse").use() as store:
            uids = split_search(
                store,
                folder,
                query,
                helpers=helpers,
                cap=self.connection_cap,
                uids=self.arrival,
                cancelled=lambda: worker.is_cancelled,
            )
        if not worker.is_cancelled:
            self.post_message(self.SearchDone(generation, text, uids))

    # -- results ---------------------------------------------------------------------------

    def on_paged_messages_folder_opened(self, message: PagedMessages.FolderOpened) -> None:
        if message.generation != self.generation:
            return
        self.folder = message.folder
        self.arrival = message.uids
        self.status = ""
        self.open_seconds = message.elapsed
        self._apply_view()

    def on_paged_messages_summaries_loaded(self, message: PagedMessages.SummariesLoaded) -> None:
        if message.generation != self.generation or self.folder is None:
            return
        got = {s.uid: s for s in message.summaries}
        self.cache.update(got)
        self.gone.update(uid for uid in message.requested if uid not in got)
        if self.marks.unknown_in(self.folder.name):
            self.marks.learn_sizes(self.folder.name, {uid: s.size for uid, s in got.items()})
            self.post_message(self.MarksChanged())
        now = time.monotonic()
        if self.status.startswith("sorting") and now - self._progress_at > PROGRESS_INTERVAL:
            self._progress_at = now
            loaded = len(self.cache) + len(self.gone)  # both hold this folder's uids only
            self.status = f"sorting: {count(loaded)} of {count(len(self.arrival))} loaded"
            self.post_message(self.Changed())
        self.refresh()

    def on_paged_messages_sort_ready(self, message: PagedMessages.SortReady) -> None:
        if message.generation != self.generation or message.key != self.sort_key:
            return
        self.status = ""
        self._apply_view()

    def on_paged_messages_search_done(self, message: PagedMessages.SearchDone) -> None:
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
