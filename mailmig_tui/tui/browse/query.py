"""The search box syntax, parsed into the store's `SearchQuery`.

    from:alice subject:"Grüße aus Köln" since:2023-01-01 before:2024-01-01 larger:100k offer

`from:`, `subject:`, `text:`, `since:`, `before:` (YYYY-MM-DD or DD.MM.YYYY) and `larger:`
(bytes, with an optional k/M suffix) restrict; every other word is searched in the whole
message text. Quotes group words. The search itself runs on the server (IMAP SEARCH).
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime

from mailmig_tui.errors import UsageError
from mailmig_tui.stores.base import SearchQuery

_KEYS = {
    "from": "sender",
    "f": "sender",
    "subject": "subject",
    "s": "subject",
    "text": "text",
    "since": "since",
    "after": "since",
    "before": "before",
    "larger": "larger",
    "size": "larger",
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?")
_HELP = 'e.g. from:alice subject:"Grüße" since:2023-01-01 larger:100k words'


def _date(key: str, value: str) -> datetime:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise UsageError(f"{key}: wants a date, not {value!r}", "write YYYY-MM-DD or DD.MM.YYYY")


def _size(value: str) -> int:
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        raise UsageError(f"larger: wants a size, not {value!r}", "write 100000, 100k or 2M")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def parse_query(text: str) -> SearchQuery:
    """Parse the search box; raises UsageError with the expected form."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise UsageError("unbalanced quotes in the search", _HELP) from None
    fields: dict[str, str] = {}
    free: list[str] = []
    for word in words:
        key, sep, value = word.partition(":")
        name = _KEYS.get(key.lower()) if sep else None
        if name is None:
            free.append(word)
        elif not value:
            raise UsageError(f"{key}: needs a value", _HELP)
        elif name == "text":
            free.append(value)
        else:
            fields[name] = value
    query = SearchQuery(
        sender=fields.get("sender", ""),
        subject=fields.get("subject", ""),
        text=" ".join(free),
        since=_date("since", fields["since"]) if "since" in fields else None,
        before=_date("before", fields["before"]) if "before" in fields else None,
        larger=_size(fields["larger"]) if "larger" in fields else None,
    )
    if query == SearchQuery():
        raise UsageError("the search is empty", _HELP)
    return query
