"""Sharing the small values every FETCH answer repeats, so 50,000 probes do not hold 50,000
copies of them (issue 12: peak RSS).

imapclient gives each INTERNALDATE a time zone object of its own (about 120 bytes with its
timedelta and attribute dict), and each message its own flag strings and tuple. A mailbox
has a handful of distinct offsets and flag sets, so planning and verify keep one of each.
Values stay equal to what they replace: the same instant and offset, the same flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from mailmig_tui.stores.base import as_text

_MAX_SHARED = 4096
"""Distinct flag sets kept; beyond that (a keyword per message) new ones are not cached."""
_zones: dict[timedelta, timezone] = {}
_flag_sets: dict[tuple[object, ...], tuple[str, ...]] = {}


def shared_zone(when: datetime | None) -> datetime | None:
    """`when` with a shared `timezone` of the same offset (naive and None unchanged)."""
    if when is None:
        return None
    offset = when.utcoffset()
    if offset is None:
        return when
    zone = _zones.get(offset)
    if zone is None:
        zone = _zones.setdefault(offset, timezone(offset))
    if when.tzinfo is zone:
        return when
    return when.replace(tzinfo=zone)


def shared_flags(values: Iterable[object]) -> tuple[str, ...]:
    """Flags as text without \\Recent, one shared tuple per distinct set."""
    raw = tuple(values)
    try:
        known = _flag_sets.get(raw)
        hashable = True
    except TypeError:  # an unhashable value from a broken answer: not shared
        known, hashable = None, False
    if known is not None:
        return known
    flags = tuple(text for text in map(as_text, raw) if text.lower() != "\\recent")
    if hashable and len(_flag_sets) < _MAX_SHARED:
        flags = _flag_sets.setdefault(raw, flags)
    return flags
