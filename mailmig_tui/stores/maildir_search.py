"""A byte screen that lets a local search skip most files before the exact match.

The exact match (`local_common.matches`) decodes RFC 2047 words and MIME parts, which costs
far more than reading the files on a 100,000-message folder. A word made of ASCII letters
can only match where it is in the raw bytes (of the From or Subject field, or of the whole
file for a text search), unless something there is encoded (RFC 2047 words, base64,
quoted-printable, uuencode) or not ASCII, where decoding or case folding could produce it.
Files that may match go on to the exact match; the screen never rules out a match. And a
text found as it is in the raw bytes is found: the exact match reads the raw text first.
"""

from __future__ import annotations

import binascii
import enum
import re
from dataclasses import replace

from mailmig_tui.stores.base import SearchQuery


class Verdict(enum.Enum):
    NO = "no match possible"
    MAYBE = "the exact match decides"
    TEXT_FOUND = "the text is in the raw bytes: only the other criteria are left to check"
    NOT_IN_BODY = "no body part can hold the text: the header fields decide"


_ENCODED_WORDS = (b"=?",)
"""The marker (in lower case) of header content that decodes into other bytes."""


def _encoded_body(lowered: bytes) -> bool:
    """Whether a body part may decode into other bytes: a transfer encoding (base64,
    quoted-printable, uuencode: only ever named by a Content-Transfer-Encoding field), or a
    charset whose text is not the ASCII bytes it is written in. Plain `in` tests, the rarer
    ones only where a cheap first test leaves them possible; one regex scan for the
    charsets (a literal prefix: faster than finding each "utf-" and looking after it)."""
    if b"content-transfer-encoding" in lowered and (
        b"base64" in lowered or b"quoted-printable" in lowered or b"uue" in lowered
    ):
        return True
    return _WIDE_UTF.search(lowered) is not None


_WIDE_UTF = re.compile(rb"utf-(?:7|16|32)")
"""Unicode charsets whose text is not its ASCII bytes (in lower case)."""


_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")


def _field(name: bytes) -> re.Pattern[bytes]:
    """Every line of a field (with its continuation lines), in a lower-cased header block."""
    return re.compile(rb"^" + name + rb"[ \t]*:.*(?:\r?\n[ \t].*)*", re.MULTILINE)


_FIELDS = {"sender": _field(b"from"), "subject": _field(b"subject")}


def _words(needle: str) -> list[bytes] | None:
    """The needle's words as lower-case bytes, or None when it cannot screen (not ASCII)."""
    if not needle.isascii():
        return None
    return [word.encode("ascii") for word in needle.lower().split()]


def _absent(words: list[bytes], raw: bytes, markers: tuple[bytes, ...]) -> bool:
    """Whether `raw` (lower case) cannot hold the words, even once decoded."""
    if not raw.isascii() or any(marker in raw for marker in markers):
        return False
    return not all(word in raw for word in words)


def _decode_word(match: re.Match[bytes]) -> str:
    charset = match.group(1).split(b"*")[0].decode("ascii")  # RFC 2231 adds "*language"
    payload = match.group(3)
    if match.group(2) in b"qQ":
        data = binascii.a2b_qp(payload.replace(b"_", b" "))
    else:
        data = binascii.a2b_base64(payload + b"=" * (-len(payload) % 4))
    try:
        return data.decode(charset, "replace")
    except LookupError:  # an unknown charset: the exact match reads it as Latin-1 too
        return data.decode("latin-1")


def decoded_header(head: bytes) -> str | None:
    """An ASCII header block with its encoded words decoded, casefolded, every white space
    removed (so no word can be split where the exact match joins it), plus the raw text
    (which the exact match falls back to on a broken word); None when not ASCII."""
    if not head.isascii():
        return None
    pieces: list[str] = []
    start = 0
    for match in _ENCODED_WORD.finditer(head):
        pieces.append(head[start : match.start()].decode("ascii"))
        try:
            pieces.append(_decode_word(match))
        except (binascii.Error, ValueError):
            pieces.append(match.group().decode("ascii"))
        start = match.end()
    pieces.append(head[start:].decode("ascii"))
    decoded = "".join("".join(pieces).split()).casefold()
    return decoded + "\n" + head.decode("ascii").casefold()


def split_head(data: bytes) -> int | None:
    """Where the header block of `data` ends (before the blank line), None if not in it."""
    if data.startswith((b"\n", b"\r\n")):
        return 0
    lf = data.find(b"\n\n")
    # A CRLF blank line counts only before the first LF one: no scan of the body for it.
    crlf = data.find(b"\n\r\n", 0, len(data) if lf < 0 else lf + 2)
    ends = [i + 1 for i in (lf, crlf) if i >= 0]
    return min(ends) if ends else None


class Screen:
    """Decides from a file's bytes whether `query` may match it."""

    def __init__(self, query: SearchQuery) -> None:
        self.whole_file = bool(query.text)
        """Whether the body is needed: a text search looks into it."""
        self._fields: list[tuple[re.Pattern[bytes], list[bytes]]] = []
        self._text: list[bytes] | None = None
        self._needle = query.text.lower().encode("ascii") if query.text.isascii() else None
        self.rest = replace(query, text="")
        """The query left to check once the text is found."""
        for attribute, pattern in _FIELDS.items():
            words = _words(getattr(query, attribute))
            if words:
                self._fields.append((pattern, words))
        if query.text:
            self._text = _words(query.text)
        self._pairs = [(w, w.decode("ascii")) for w in self._text or []]
        """The text's words as bytes and as text."""

    def verdict(self, head: bytes, data: bytes | None = None) -> Verdict:
        """What the raw bytes tell; `data` is the whole file of a text search."""
        if self._fields:
            lowered = head.lower()
            for pattern, words in self._fields:
                # Every occurrence counts as much as the first: a superset is enough here.
                raw = b"\n".join(m.group() for m in pattern.finditer(lowered))
                if _absent(words, raw, _ENCODED_WORDS):
                    return Verdict.NO
        if data is None or self._needle is None:
            return Verdict.MAYBE
        lowered = data.lower()
        needles = self._text or ()
        # A word missing means the text is missing too: the usual case, with one scan.
        missing = not all(map(lowered.__contains__, needles))
        if not missing and self._needle in lowered:  # ASCII, so also in the decoded text
            return Verdict.TEXT_FOUND
        start = len(head)  # of the body; sliced only where needed (no copy per file)
        plain = lowered.isascii()
        if not (plain or lowered[start:].isascii()) or _encoded_body(lowered):
            return Verdict.MAYBE
        # Every body text is now a piece of these bytes, which lack the text. The header
        # fields may still hold it folded or encoded, unless they are plain and lack a word
        # (`_absent`, written out: this runs for every file of a 100,000-file folder). A
        # one-byte search first, as "=?" needs a "?": much faster than a two-byte one.
        if missing and plain and (b"?" not in lowered or b"=?" not in lowered):
            return Verdict.NO
        if needles and b"=?" in head:  # encoded words: decode just those, cheaply
            text = decoded_header(head)
            if text is not None:  # the body is ASCII: its text holds a word where its bytes do
                found = (n in text or lowered.find(w, start) >= 0 for w, n in self._pairs)
                if not all(found):
                    return Verdict.NO
        return Verdict.NOT_IN_BODY
