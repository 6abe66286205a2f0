"""A whole-text search of a big IMAP folder, cut into UID ranges searched at once.

Without a full-text index a server answers `SEARCH TEXT` by reading every message of the
folder, on one core per connection (Dovecot runs a process per connection): 100,000 bodies
take it about 3 s. The same search cut into UID ranges, each sent on a connection of
its own at once, takes about 1/parts of that where the server has the cores. The answers
are disjoint ascending ranges, so merging them is putting them end to end.

Only where it pays: a search with body text (header, date and size searches come from the
server's index and cache, faster than a login), in a folder of `SPLIT_FROM` messages or
more, on a store that can search within UIDs (IMAP). At most `MAX_PARTS` connections, and
never more than the account's connection cap. A helper connection that cannot be had (the
server's limit, a failed login) costs nothing but speed: its range is searched on the
caller's own connection afterwards.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from mailmig_tui.stores.base import MailStore, SearchQuery

SPLIT_FROM = 20_000
"""Messages from which a text search is split: below, a login costs more than it saves."""
MAX_PARTS = 2
"""Connections one search holds at most: the caller's own and one helper. A third part
gained nothing on a 2-core Dovecot: each part's EXAMINE costs the server about 0.2 s of
CPU (its uid list and file names) before the scan, and the parts then share the cores
(bench/search_floor.py: 1.76 -> 1.61 s and 2.39 -> 1.88 s with 2 parts instead of 3)."""
_POLL = 0.1
"""Seconds between looks at `cancelled` while the helpers' answers are awaited."""

Helper = Callable[[], AbstractContextManager[MailStore]]
"""Opens (or lends) a connection of its own to the same account, for one part."""


@runtime_checkable
class RangeSearch(Protocol):
    def search_within(self, folder: str, query: SearchQuery, uid_set: str) -> list[int]: ...


def uid_ranges(uids: Sequence[int], parts: int) -> list[str]:
    """Ascending UIDs cut into `parts` ranges of about as many messages each; the last is
    open-ended (`N:*`), as a whole-folder search also sees what arrived since."""
    ordered = sorted(uids)
    size = -(-len(ordered) // parts)
    starts = [ordered[i] for i in range(0, len(ordered), size)]
    ranges = [f"{first}:{after - 1}" for first, after in itertools.pairwise(starts)]
    return [*ranges, f"{starts[-1]}:*"]


def parts_for(
    store: MailStore, query: SearchQuery, count: int, helpers: int, cap: int | None, split_from: int
) -> int:
    """How many connections the search uses: 1 means the plain search."""
    if not isinstance(store, RangeSearch) or not query.text or count < split_from:
        return 1
    return max(1, min(MAX_PARTS, helpers + 1, cap if cap is not None else MAX_PARTS))


def split_search(
    store: MailStore,
    folder: str,
    query: SearchQuery,
    *,
    helpers: Sequence[Helper],
    cap: int | None = None,
    uids: Sequence[int] | None = None,
    split_from: int = SPLIT_FROM,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[int]:
    """The UIDs `store.search(folder, query)` answers, ascending, found on up to
    min(MAX_PARTS, `cap`, 1 + len(helpers)) connections at once.

    `uids` are the folder's (asked of the store when not given). When `cancelled()` turns
    true the helpers' answers are no longer awaited and [] comes back at once (a part under
    way finishes on its connection; the caller drops the result)."""
    count = len(uids) if uids is not None else split_from
    parts = parts_for(store, query, count, len(helpers), cap, split_from)
    if parts > 1 and uids is None:
        uids = store.uids(folder)
        parts = parts_for(store, query, len(uids), len(helpers), cap, split_from)
    if parts == 1 or not isinstance(store, RangeSearch) or not uids:
        return store.search(folder, query)
    # One thread per helper; each writes only its own key of `found`.
    ranges = uid_ranges(uids, parts)
    found: dict[str, list[int]] = {}
    done = threading.Semaphore(0)

    def search_part(helper: Helper, uid_set: str) -> None:
        try:
            with helper() as other:
                if isinstance(other, RangeSearch):
                    found[uid_set] = other.search_within(folder, query, uid_set)
        except Exception:  # whatever went wrong, the caller's connection redoes the part
            pass
        finally:
            done.release()

    for helper, uid_set in zip(helpers, ranges[1:], strict=False):
        threading.Thread(
            target=search_part, args=(helper, uid_set), name="mailmig-search", daemon=True
        ).start()
    found[ranges[0]] = store.search_within(folder, query, ranges[0])
    for _ in ranges[1:]:
        while not done.acquire(timeout=_POLL):
            if cancelled():
                return []
    for uid_set in ranges:
        if uid_set not in found:  # its helper failed
            if cancelled():
                return []
            found[uid_set] = store.search_within(folder, query, uid_set)
    return [uid for uid_set in ranges for uid in found[uid_set]]
