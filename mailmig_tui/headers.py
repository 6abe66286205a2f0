"""Decoding header fields of real-world mail into display strings, never raising.

Real mail has RFC 2047 words in every charset, raw 8-bit bytes, folded lines and garbage
dates. Every function here returns something printable instead of failing, because one bad
message must never stop a folder listing or a migration.
"""

from __future__ import annotations

import email.errors
import email.header
import email.utils
import re
from datetime import datetime

from mailmig_tui.model import MessageSummary

_FIELD_RE = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.MULTILINE)


def split_header_block(block: bytes) -> dict[str, bytes]:
    """Raw (unfolded) values of a header block by lower-case name; the first occurrence wins."""
    fields: dict[str, bytes] = {}
    block = block.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    name: str | None = None
    parts: list[bytes] = []

    def flush() -> None:
        if name is not None and name not in fields:
            fields[name] = b" ".join(p.strip() for p in parts).strip()

    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t") and name is not None:
            parts.append(line)
            continue
        match = _FIELD_RE.match(line)
        if match is None:
            continue
        flush()
        name = match.group(1).decode("ascii").lower()
        parts = [line[match.end() :]]
    flush()
    return fields


def raw_to_text(raw: bytes) -> str:
    """Bytes of a header value as text: UTF-8 if it is, else Latin-1 (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_words(raw: bytes) -> str:
    """An unstructured header value with RFC 2047 encoded words decoded."""
    text = raw_to_text(raw)
    if "=?" not in text:
        return " ".join(text.split())
    try:
        pieces = []
        for chunk, charset in email.header.decode_header(text):
            if isinstance(chunk, bytes):
                try:
                    pieces.append(chunk.decode(charset or "ascii", "replace"))
                except LookupError:  # an unknown charset name in the encoded word
                    pieces.append(chunk.decode("latin-1"))
            else:
                pieces.append(chunk)
        return " ".join("".join(pieces).split())
    except (ValueError, AssertionError, email.errors.HeaderParseError):
        return " ".join(text.split())


def parse_date(raw: bytes) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(raw_to_text(raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def message_id(raw: bytes) -> str:
    """The Message-ID as stored (angle brackets kept), whitespace removed."""
    return "".join(raw_to_text(raw).split())


def build_summary(
    uid: int,
    internaldate: datetime | None,
    flags: tuple[str, ...],
    size: int,
    header_block: bytes,
) -> MessageSummary:
    """A message-list row from the raw header block the store fetched."""
    fields = split_header_block(header_block)
    return MessageSummary(
        uid=uid,
        internaldate=internaldate,
        flags=flags,
        size=size,
        date=parse_date(fields["date"]) if "date" in fields else None,
        sender=decode_words(fields.get("from", b"")),
        to=decode_words(fields.get("to", b"")),
        subject=decode_words(fields.get("subject", b"")),
        message_id=message_id(fields.get("message-id", b"")),
    )
