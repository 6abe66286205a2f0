"""Helpers shared by the local stores (Maildir and mbox): header parsing, CRLF, search.

Local files usually hold LF line endings while IMAP counts and transfers CRLF, so both stores
normalise through `to_crlf`/`crlf_size`. Summaries are built by `mailmig_tui.headers`, exactly
as the IMAP store builds them, so the same message gives the same row from every store.
"""

from __future__ import annotations

import email
import mmap
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.policy import compat32
from typing import BinaryIO

from mailmig_tui.headers import decode_words, raw_to_text, split_header_block
from mailmig_tui.stores.base import HeaderProbe, SearchQuery

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"^([^\s:]+)[ \t]*:", re.MULTILINE)
PROBE_FIELDS = (b"message-id", b"date", b"from", b"to", b"subject", b"status", b"x-status",
                b"x-uid", b"x-keywords", b"content-length", b"x-imap", b"x-imapbase")  # fmt: skip
"""As the IMAP store's probes: the summary fields and those mbox servers rewrite."""
_CHUNK = 64 * 1024


def stat_key(path: str) -> tuple[int, int] | None:
    """(mtime in ns, size) of a file, None when it is missing: cheap change detection."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def to_crlf(data: bytes) -> bytes:
    """Bare LF becomes CRLF; existing CRLF is kept."""
    # Two C-level replaces beat a regex by far on multi-megabyte attachments.
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def crlf_size(data: bytes) -> int:
    """len(to_crlf(data)) without building the copy."""
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


def header_end(data: bytes | mmap.mmap, start: int = 0, end: int | None = None) -> int:
    """Offset just past the header block's last line ending (the blank line is excluded).

    Works on any buffer, an mmap included, without copying it.
    """
    end = len(data) if end is None else end
    if data[start : start + 2] == b"\r\n" or data[start : start + 1] == b"\n":
        return start
    found = _BLANK_LINE.search(data, start, end)
    if found is None:
        return end
    return found.start() + (2 if data[found.start()] == 0x0D else 1)


def read_header(stream: BinaryIO, limit: int | None = None) -> bytes:
    """Read the header block from `stream`'s position, stopping at the blank line or `limit`."""
    data = b""
    while limit is None or len(data) < limit:
        want = _CHUNK if limit is None else min(_CHUNK, limit - len(data))
        chunk = stream.read(want)
        if not chunk:
            break
        data += chunk
        # Search a little before the new chunk so a blank line split across chunks is found.
        if _BLANK_LINE.search(data, max(0, len(data) - len(chunk) - 3)) or data.startswith(
            (b"\n", b"\r\n")
        ):
            break
    return data[: header_end(data)]


def header_fields(block: bytes) -> list[tuple[bytes, bytes]]:
    """Split a header block into (lower-case name, raw field incl. continuation lines)."""
    starts = [m.start() for m in _FIELD_START.finditer(block)]
    fields = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(block)
        raw = block[start:end]
        fields.append((raw.split(b":", 1)[0].strip().lower(), raw))
    return fields


def probe_headers(block: bytes) -> bytes:
    """The probe fields in file order, folding kept, each ending in CRLF, plus a blank line.

    That is what an IMAP server answers to BODY.PEEK[HEADER.FIELDS (...)], so probes of a
    local store and of an IMAP account holding the same message compare equal.
    """
    wanted = [to_crlf(raw) for name, raw in header_fields(block) if name in PROBE_FIELDS]
    return b"".join(raw if raw.endswith(b"\r\n") else raw + b"\r\n" for raw in wanted) + b"\r\n"


def make_probe(
    uid: int,
    internaldate: datetime | None,
    flags: tuple[str, ...],
    size: int,
    block: bytes,
) -> HeaderProbe:
    """A HeaderProbe from the raw header block (same argument order as `build_summary`)."""
    return HeaderProbe(uid, size, internaldate, probe_headers(block), flags)


def _body_texts(data: bytes) -> Iterator[str]:
    """The message as text: raw first, then decoded text parts (base64/QP bodies)."""
    yield raw_to_text(data)
    try:
        parsed = email.message_from_bytes(data, policy=compat32)
        for part in parsed.walk():
            if part.get_content_maintype() != "text":
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    yield payload.decode(charset, errors="replace")
                except LookupError:
                    yield payload.decode("latin-1")
    except Exception:  # broken MIME must not fail a search; the raw text was tried
        return


def matches(
    query: SearchQuery,
    block: bytes,
    internaldate: datetime | None,
    size: int,
    load: Callable[[], bytes],
) -> bool:
    """Whether one message satisfies `query`; `load` reads the full message only if needed.

    Like IMAP SEARCH: case-insensitive substrings; SINCE/BEFORE compare the date part of the
    internal date (in UTC); LARGER is strict.
    """
    if query.larger is not None and size <= query.larger:
        return False
    if query.since is not None or query.before is not None:
        if internaldate is None:
            return False
        day = internaldate.astimezone(UTC).date()
        if query.since is not None and day < query.since.date():
            return False
        if query.before is not None and day >= query.before.date():
            return False
    values = split_header_block(block)
    for needle, name in ((query.sender, "from"), (query.subject, "subject")):
        if needle and needle.casefold() not in decode_words(values.get(name, b"")).casefold():
            return False
    if query.text:
        needle = query.text.casefold()
        headers = " ".join(decode_words(value) for value in values.values())
        if needle in headers.casefold():
            return True
        return any(needle in text.casefold() for text in _body_texts(load()))
    return True
