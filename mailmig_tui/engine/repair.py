"""`--repair`: a message the target refused, in a form strict servers accept.

Only ever used on a message the target refused, once, and always recorded as altered with
what was changed (`Repaired.change`), never silently:

- bare LF line ends become CRLF (Cyrus refuses bare newlines);
- NUL bytes are removed (Cyrus refuses them; Dovecot would serve them as 0x80);
- 8-bit bytes in header fields are RFC 2047 encoded as UTF-8 (Latin-1 where they are not
  UTF-8), as Cyrus with `reject8bit` demands. Runs of 8-bit words are encoded together, so
  the spaces between them survive decoding; addresses with 8-bit bytes in them are not
  valid either way and are encoded like any other word.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from mailmig_tui.headers import raw_to_text

_FIELD = re.compile(rb"^([!-9;-~]+)([ \t]*:)(.*)$", re.DOTALL)
_CHUNK_CHARS = 10
"""Characters per encoded word: 10 UTF-8 characters stay under the 75-byte limit."""


@dataclass(frozen=True)
class Repaired:
    data: bytes
    change: str
    """What was changed, for the report and the log ("" when nothing could be)."""


def repair(data: bytes) -> Repaired:
    changes: list[str] = []
    fixed = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if fixed != data:
        changes.append("bare LF became CRLF")
    nuls = fixed.count(b"\0")
    if nuls:
        fixed = fixed.replace(b"\0", b"")
        changes.append(f"{nuls} NUL byte{'s' if nuls != 1 else ''} removed")
    head, sep, body = fixed.partition(b"\r\n\r\n")
    if not sep:
        head, body = fixed, b""
    encoded_head, fields = _encode_header(head)
    if fields:
        fixed = encoded_head + sep + body
        changes.append(f"8-bit bytes in {', '.join(fields)} RFC 2047 encoded")
    return Repaired(fixed, "; ".join(changes))


def _encode_header(head: bytes) -> tuple[bytes, list[str]]:
    """The header block with 8-bit field values encoded, and the names of those fields."""
    lines = head.split(b"\r\n")
    # Unfold first: an encoded run may span a folded line.
    fields: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    changed: list[str] = []
    out: list[bytes] = []
    for field in fields:
        match = _FIELD.match(field)
        if match is None or field.isascii():
            out.append(field if field.isascii() else _encode_value(field))
            if not field.isascii():
                changed.append("a header line")
            continue
        name, colon, value = match.groups()
        out.append(name + colon + _encode_value(value))
        changed.append(name.decode("ascii"))
    return b"\r\n".join(out), list(dict.fromkeys(changed))


def _encode_value(value: bytes) -> bytes:
    """Whitespace-separated words; each run of words holding 8-bit bytes becomes encoded
    words (the blanks inside a run are encoded with it, the ones around it kept)."""
    parts = re.split(rb"(\s+)", value)
    out: list[bytes] = []
    run: list[bytes] = []

    def flush() -> None:
        if run:
            while run and run[-1].isspace():  # trailing blanks stay outside the word
                trailing = run.pop()
                out_tail.insert(0, trailing)
            out.append(_encoded_words(b"".join(run)))
            out.extend(out_tail)
            run.clear()
            out_tail.clear()

    out_tail: list[bytes] = []
    for part in parts:
        if not part:
            continue
        if not part.isascii() or (part.isspace() and run):
            run.append(part)
        else:
            flush()
            out.append(part)
    flush()
    return b"".join(out)


def _encoded_words(raw: bytes) -> bytes:
    text = " ".join(raw_to_text(raw).split())  # folding inside a run becomes one space
    chunks = [text[i : i + _CHUNK_CHARS] for i in range(0, len(text), _CHUNK_CHARS)]
    words = [b"=?UTF-8?B?" + base64.b64encode(chunk.encode("utf-8")) + b"?=" for chunk in chunks]
    return b"\r\n ".join(words)
