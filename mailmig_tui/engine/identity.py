"""Content identity: recognising the same message on two servers without trusting UIDs.

Servers change what they store (see README "Servers"): Courier adds a final CRLF, Cyrus
turns 8-bit header bytes into `X` (others into `?`), Dovecot serves NUL as 0x80, and mbox
servers add and rewrite `Status:`, `X-Status:`, `X-UID:`, `X-Keywords:`, `Content-Length:`
and `X-IMAP`/`X-IMAPbase` whenever flags change. So identity is two-level, and cheap enough
to fetch over IMAP (a few header fields and RFC822.SIZE):

1. a key: the Message-ID with the Date, From and Subject, or without a Message-ID the Date,
   From, To and Subject, each reduced to a skeleton that survives those changes (RFC 2047
   decoded, whitespace gone, case folded, every run of 8-bit bytes, NUL, `x` or `?` one `*`);
2. the size without the mbox bookkeeping fields and the INTERNALDATE. Equal sizes match at
   once; a size a few bytes off (`CLOSE_BYTES`) matches only in a second pass, over what
   the exact pass left, so a true copy is never taken by a near one.

Two different messages that share a Message-ID (resent, or a broken client) differ in Date,
From, Subject or size and stay distinct. Identical copies of one message are counted, not
collapsed: `TargetPool` is a multiset, each target copy standing for one source message.
Short digests of each raw field ride along, to say which header a target changed.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from mailmig_tui.headers import decode_words, split_header_block
from mailmig_tui.model import Message
from mailmig_tui.stores.base import HeaderProbe

BOOKKEEPING_FIELDS = (
    "status",
    "x-status",
    "x-uid",
    "x-keywords",
    "content-length",
    "x-imap",
    "x-imapbase",
)
"""Header fields mbox servers (UW imapd, GNU Mailutils, Dovecot's mbox) add and rewrite."""
CLOSE_BYTES = 64
"""A size this close (after the bookkeeping fields) is the same message altered by a server:
a final CRLF added, a few NULs dropped, `>From ` quoting in an mbox."""
_NAMED_FIELDS = ("message-id", "date", "from", "to", "subject")
_FIELD_TITLES = {"message-id": "Message-ID", "date": "Date", "from": "From", "to": "To",
                 "subject": "Subject"}  # fmt: skip
_KEY_WITH_ID = ("message-id", "date", "from", "subject")
_KEY_WITHOUT_ID = ("date", "from", "to", "subject")
_REPLACED = re.compile(rb"[\x00\x80-\xffx?]+")
_FIELD_LINE = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Identity:
    key: str
    """Digest of the skeleton fields: what must be equal for any match."""
    fields: str
    """Short digests of the raw Message-ID, Date, From, To and Subject, comma-separated."""
    size: int
    """RFC822.SIZE without the mbox bookkeeping fields."""
    when: int
    """INTERNALDATE in whole seconds; 0 when the store has none (POP3)."""

    def __str__(self) -> str:
        return f"{self.key}:{self.fields}:{self.size}:{self.when}"

    @classmethod
    def parse(cls, text: str) -> Identity:
        key, fields, size, when = text.split(":")
        return cls(key, fields, int(size), int(when))


def skeleton(raw: bytes) -> bytes:
    """A header value as servers cannot change it: decoded, no blanks, 8-bit runs as `*`."""
    text = "".join(decode_words(raw).split()).lower()
    return _REPLACED.sub(b"*", text.encode("utf-8", "replace"))


def bookkeeping_bytes(headers: bytes) -> int:
    """CRLF size of the mbox bookkeeping fields in a header block (folded lines included)."""
    total = 0
    counting = False
    for line in headers.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            total += len(line) + 2 if counting else 0
            continue
        match = _FIELD_LINE.match(line)
        counting = match is not None and match.group(1).lower().decode() in BOOKKEEPING_FIELDS
        total += len(line) + 2 if counting else 0
    return total


def identity_of(probe: HeaderProbe) -> Identity:
    fields = split_header_block(probe.headers)
    names = _KEY_WITH_ID if b"".join(fields.get("message-id", b"").split()) else _KEY_WITHOUT_ID
    key = b"\0".join([names[0].encode(), *(skeleton(fields.get(n, b"")) for n in names)])
    raw = ",".join(
        hashlib.sha256(b" ".join(fields.get(n, b"").split())).hexdigest()[:6] for n in _NAMED_FIELDS
    )
    when = int(probe.internaldate.timestamp()) if probe.internaldate else 0
    size = probe.size - bookkeeping_bytes(probe.headers)
    return Identity(hashlib.sha256(key).hexdigest()[:32], raw, size, when)


def probe_of(message: Message) -> HeaderProbe:
    """The probe a store would give for this message, taken from the message itself."""
    # Slices of the head only: partition() would copy the body too, a transient copy of
    # every message the copy takes its identity from (all of them on a first copy).
    data = message.data
    end = data.find(b"\r\n\r\n")
    if end < 0:  # bare-LF message, or no body at all
        end = data.find(b"\n\n")
    head = data if end < 0 else data[:end]
    if data.startswith((b"\r\n", b"\n")):
        # An empty first line ends an empty header block: what follows is body, even where
        # it looks like "Subject: ..." (servers answer no header fields for it).
        head = b""
    return HeaderProbe(message.uid, len(message.data), message.internaldate, head, message.flags)


def change_between(source: Identity, target: Identity) -> str:
    """What the target changed, in words ("" for nothing visible in headers and size)."""
    parts = []
    changed = [
        _FIELD_TITLES[name]
        for name, a, b in zip(
            _NAMED_FIELDS, source.fields.split(","), target.fields.split(","), strict=False
        )
        if a != b
    ]
    if changed:
        parts.append(f"{', '.join(changed)} header changed")
    delta = target.size - source.size
    if delta:
        parts.append(f"{abs(delta)} bytes {'added' if delta > 0 else 'removed'}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Match:
    uid: int
    """The target message standing for the source message."""
    change: str
    """What the target changed ("" when nothing visible)."""


class TargetPool:
    """A target folder's messages by identity, as a multiset of target UIDs.

    `take(identity, exact=True)` uses up one target copy of equal key, size and date;
    `exact=False` (the second pass) also one of a close size. A source without arrival
    dates (a POP3 message with no Received or Date header) cannot say when it arrived,
    while its copy got the APPEND's time: such a message matches whatever the date.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, list[tuple[Identity, int]]] = defaultdict(list)

    def add(self, identity: Identity, uid: int) -> None:
        self._by_key[identity.key].append((identity, uid))

    def take(self, identity: Identity, *, exact: bool = True) -> Match | None:
        candidates = self._by_key.get(identity.key)
        if not candidates:
            return None
        best: int | None = None
        for index, (other, _uid) in enumerate(candidates):
            if identity.when and other.when != identity.when:
                continue
            distance = abs(other.size - identity.size)
            if distance == 0 and other.fields == identity.fields:
                best = index
                break
            if distance > (0 if exact else CLOSE_BYTES):
                continue
            if best is None or distance < abs(candidates[best][0].size - identity.size):
                best = index
        if best is None:
            return None
        other, uid = candidates.pop(best)
        return Match(uid, change_between(identity, other))
