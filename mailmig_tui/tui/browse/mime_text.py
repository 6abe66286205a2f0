"""A fetched message turned into what the preview shows: headers, text body, attachments.

Real mail is often broken: missing boundaries, unknown charsets, 8-bit headers, no headers
at all, parts nested hundreds deep, attachments of tens of megabytes. `render_message` never
raises: each step catches its own failure and records a note, and what could be read is
shown. The headers come from the raw bytes (`mailmig_tui.headers`, the same decoding as the
message list), the structure from the stdlib parser with compat32 (the most forgiving).
"""

from __future__ import annotations

import email
import email.message
from dataclasses import dataclass, field
from email.policy import compat32

from mailmig_tui.headers import decode_words, split_header_block
from mailmig_tui.stores.local_common import header_end
from mailmig_tui.tui.browse.html_text import html_to_text

SHOWN_HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_PARTS = 500
MAX_DEPTH = 40
MAX_BODY_CHARS = 200_000
"""Longer bodies are cut in the preview: a terminal shows a few screens anyway."""


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int
    """Decoded size in bytes (estimated from the encoded length for base64)."""


@dataclass
class PreviewContent:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    body_type: str = "text/plain"
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was odd or cut: shown under the headers, so nothing fails silently."""
    size: int = 0


def _decoded_text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name: UTF-8 if it is, else Latin-1
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("latin-1")


def _filename(part: email.message.Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # a broken RFC 2231 parameter
        name = None
    if not name:
        return ""
    return decode_words(name.encode("utf-8", "surrogateescape"))


def _encoded_size(part: email.message.Message) -> int:
    payload = part.get_payload()
    if not isinstance(payload, str):
        return 0
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        return len("".join(payload.split())) * 3 // 4
    return len(payload)


def _walk(root: email.message.Message, notes: list[str]) -> list[email.message.Message]:
    """Leaf parts in order, iteratively (deep nesting cannot overflow the stack)."""
    leaves: list[email.message.Message] = []
    stack: list[tuple[email.message.Message, int]] = [(root, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            notes.append(f"more than {MAX_PARTS} MIME parts: the rest is not shown")
            break
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            if depth >= MAX_DEPTH:
                notes.append(f"MIME parts nested deeper than {MAX_DEPTH} levels are not shown")
                continue
            children = [c for c in payload if isinstance(c, email.message.Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
        else:
            leaves.append(part)
    return leaves


def _is_attachment(part: email.message.Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    if disposition == "attachment" or _filename(part):
        return True
    return part.get_content_maintype() not in ("text", "multipart")


def _headers(data: bytes, content: PreviewContent) -> None:
    block = data[: header_end(data)]
    fields = split_header_block(block)
    for name in SHOWN_HEADERS:
        raw = fields.get(name.lower())
        if raw is not None:
            content.headers.append((name, decode_words(raw)))
    if not fields:
        content.notes.append("the message has no headers")


def _body(data: bytes, content: PreviewContent) -> None:
    try:
        message = email.message_from_bytes(data, policy=compat32)
    except Exception as exc:  # RecursionError, MemoryError-like failures of odd input
        content.notes.append(f"could not parse the MIME structure ({type(exc).__name__})")
        content.body = data.decode("utf-8", "replace")
        return
    if message.defects:
        names = sorted({type(d).__name__.removesuffix("Defect") for d in message.defects})
        content.notes.append("broken MIME: " + ", ".join(names))
    plain: str | None = None
    html: str | None = None
    for part in _walk(message, content.notes):
        try:
            if _is_attachment(part) or part.get_content_type() == "message/rfc822":
                content.attachments.append(
                    Attachment(
                        _filename(part) or "(unnamed)",
                        part.get_content_type(),
                        _encoded_size(part),
                    )
                )
            elif part.get_content_type() == "text/html" and html is None:
                html = _decoded_text(part)
            elif part.get_content_maintype() == "text" and plain is None:
                plain = _decoded_text(part)
        except Exception as exc:
            content.notes.append(f"a part could not be read ({type(exc).__name__})")
    if plain is not None and plain.strip():
        content.body = plain
    elif html is not None:
        content.body, content.body_type = html_to_text(html), "text/html"
    elif plain is not None:
        content.body = plain
    else:
        content.body = ""
        content.notes.append("no text part: see the attachments")


def render_message(data: bytes) -> PreviewContent:
    """Everything the preview shows; never raises."""
    content = PreviewContent(size=len(data))
    try:
        _headers(data, content)
    except Exception as exc:
        content.notes.append(f"the headers could not be read ({type(exc).__name__})")
    try:
        _body(data, content)
    except Exception as exc:
        content.notes.append(f"the body could not be read ({type(exc).__name__})")
        content.body = content.body or data[header_end(data) :].decode("utf-8", "replace")
    content.body = content.body.replace("\r\n", "\n").replace("\r", "\n")
    if len(content.body) > MAX_BODY_CHARS:
        rest = len(content.body) - MAX_BODY_CHARS
        content.body = content.body[:MAX_BODY_CHARS]
        content.notes.append(f"the text is cut after {MAX_BODY_CHARS:,} characters ({rest:,} more)")
    return content
