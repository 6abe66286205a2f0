"""ESEARCH and ESORT answers (RFC 4731, RFC 5267): UIDs as compact sequence sets.

`UID SEARCH RETURN (ALL) ALL` answers a 100,000-message folder with `ALL 1:100000` instead
of 100,000 numbers; `UID SORT RETURN (ALL) (REVERSE ARRIVAL) …` does the same in sort order,
where `9:7` means 9, 8, 7. imapclient knows neither answer, so they are read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_CORRELATOR = re.compile(rb"^\s*\(TAG\s+\"[^\"]*\"\)\s*")


def parse_sequence_set(text: str) -> list[int]:
    """`1:3,7,9:8` -> [1, 2, 3, 7, 9, 8]: the order written (ESORT relies on it)."""
    result: list[int] = []
    for part in text.split(","):
        if not part:
            continue
        first, sep, last = part.partition(":")
        start = int(first)
        end = int(last) if sep else start
        step = 1 if end >= start else -1
        result.extend(range(start, end + step, step))
    return result


def esearch_all(answer: Any) -> list[int]:
    """The UIDs of an ESEARCH answer's ALL item, in the order given; [] when none match.

    `answer` is the untagged ESEARCH data: `(TAG "A5") UID ALL 1:4,9 COUNT 5`.
    """
    raw = answer if isinstance(answer, bytes) else str(answer).encode("ascii", "replace")
    words = _CORRELATOR.sub(b"", raw).split()
    for index, word in enumerate(words[:-1]):
        if word.upper() == b"ALL":
            return parse_sequence_set(words[index + 1].decode("ascii"))
    return []


def compact_pieces(uids: Iterable[int], ranges: int = 1000) -> list[str]:
    """`compact(uids)` cut into sets of at most `ranges` ranges: command lines stay short
    however scattered the UIDs are."""
    parts = compact(uids).split(",")
    return [",".join(parts[i : i + ranges]) for i in range(0, len(parts), ranges) if parts[i]]


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def fetch_sizes(lines: Iterable[Any]) -> dict[int, int]:
    """UID -> RFC822.SIZE from imaplib's FETCH data lines (`b'7 (UID 12 RFC822.SIZE 900)'`)."""
    sizes: dict[int, int] = {}
    for line in lines:
        if not isinstance(line, bytes):
            continue  # a literal's tuple: not in a size-only answer
        uid, size = _FETCH_UID.search(line), _FETCH_SIZE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def compact(uids: Iterable[int]) -> str:
    """Ascending UIDs as a short sequence set: [1, 2, 3, 7] -> `1:3,7`."""
    parts: list[str] = []
    start = previous = None
    for uid in sorted(set(uids)):
        if previous is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            parts.append(f"{start}:{previous}" if previous != start else str(start))
        start = previous = uid
    if start is not None:
        parts.append(f"{start}:{previous}" if previous != start else str(start))
    return ",".join(parts)
