"""Orders of the message list: arrival (from the server) or by size, sender or subject.

Arrival is the INTERNALDATE, when the server received the message: the list's date column
shows the same date (`Received`), so the order and the column agree.

Sorting other than by arrival needs every summary of the folder; messages whose summary is
not (yet) known go last, in arrival order. Ties keep arrival order (newest first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from mailmig_tui.model import MessageSummary

SORT_KEYS = ("date", "size", "from", "subject")
SORT_NAMES = {"date": "newest received first", "size": "largest first", "from": "by sender",
              "subject": "by subject"}  # fmt: skip
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|fwd?|wg|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def next_sort_key(key: str) -> str:
    return SORT_KEYS[(SORT_KEYS.index(key) + 1) % len(SORT_KEYS)]


def sender_name(sender: str) -> str:
    """ "Name <addr>" -> Name; a bare address stays as it is."""
    return sender.split("<")[0].strip().strip('"') or sender


def sort_uids(arrival: Sequence[int], cache: Mapping[int, MessageSummary], key: str) -> list[int]:
    """`arrival` (newest first) reordered by `key`."""
    if key == "date":
        return list(arrival)
    rank = {uid: i for i, uid in enumerate(arrival)}

    def order(uid: int) -> tuple[bool, int | str, int]:
        s = cache.get(uid)
        if s is None:
            return (True, "", rank[uid])
        if key == "size":
            return (False, -s.size, rank[uid])
        if key == "from":
            return (False, sender_name(s.sender).casefold(), rank[uid])
        return (False, _REPLY_PREFIX.sub("", s.subject).casefold(), rank[uid])

    return sorted(arrival, key=order)
