"""Deterministic test mail for seeding real IMAP servers and for the benchmark.

`standard_folders()` and `standard_corpus()` describe a small, hand-shaped mailbox (about 60
messages) that exercises what a migration must get right: Unicode folder names, special-use
roles, RFC 2047 and raw 8-bit headers, missing and duplicated Message-IDs, attachments large
and small, system flags and keywords, INTERNALDATE differing from the Date header.

`bench_corpus(count, seed)` streams realistic-looking mail for throughput measurements. It
draws every random choice from one `random.Random(seed)`, so the same arguments always yield
byte-identical messages, and a shorter run is a prefix of a longer one with the same seed.

Everything here is built by hand as bytes with CRLF line endings, so the output never depends
on the `email` package's policy defaults or on the clock.
"""

from __future__ import annotations

import base64
import binascii
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import quote

__all__ = [
    "DOMAIN",
    "OWNER_ADDRESS",
    "SeedFolder",
    "SeedMessage",
    "bench_corpus",
    "standard_corpus",
    "standard_folders",
]

DOMAIN = "corpus.mailmig.test"
"""Domain of every generated Message-ID and of the mailbox owner."""
OWNER_ADDRESS = f"anna.schmidt@{DOMAIN}"
"""The address of the account the corpus belongs to."""
_OWNER = f"Anna Schmidt <{OWNER_ADDRESS}>"

_CET = timezone(timedelta(hours=1))
_CEST = timezone(timedelta(hours=2))
_EST = timezone(timedelta(hours=-5))
_PDT = timezone(timedelta(hours=-7))
_IST = timezone(timedelta(hours=5, minutes=30))


@dataclass(frozen=True)
class SeedMessage:
    """One message to APPEND, with the folder, flags and INTERNALDATE it must land with."""

    folder: tuple[str, ...]
    """Folder path parts, independent of the server's delimiter, e.g. ("Archive", "2023")."""
    data: bytes
    """The full RFC 5322 message with CRLF line endings."""
    flags: tuple[str, ...]
    """System flags and keywords; never \\Recent."""
    internaldate: datetime
    """Timezone-aware, fixed."""
    message_id: str
    """The Message-ID header's value with its angle brackets, or "" when there is none."""


@dataclass(frozen=True)
class SeedFolder:
    """One folder to create before seeding."""

    parts: tuple[str, ...]
    special_use: str | None
    """An RFC 6154 attribute such as "\\Sent", or None for an ordinary folder."""


# --------------------------------------------------------------------------------------------
# MIME building blocks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """A MIME entity: its content headers and its encoded body (ending in CRLF)."""

    headers: tuple[tuple[str, str], ...]
    body: bytes


_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _q_bytes(raw: bytes) -> str:
    """RFC 2047 "Q" encoding of raw bytes, safe inside a phrase."""
    out: list[str] = []
    for byte in raw:
        if byte == 0x20:
            out.append("_")
        elif byte in _Q_SAFE:
            out.append(chr(byte))
        else:
            out.append(f"={byte:02X}")
    return "".join(out)


def encode_words(text: str, charset: str = "UTF-8", mode: str = "Q") -> str:
    """`text` as RFC 2047 encoded-words of at most 75 characters, folded with CRLF SP.

    Words are split only between characters, never inside a multi-byte sequence.
    """
    if mode not in ("Q", "B"):
        raise ValueError(f"unknown encoded-word mode {mode!r}")
    prefix = f"=?{charset}?{mode}?"
    budget = 75 - len(prefix) - 2
    chunks: list[bytes] = []
    current: list[bytes] = []
    used = 0
    for char in text:
        raw = char.encode(charset)
        if mode == "Q":
            size = used + len(_q_bytes(raw))
        else:
            size = used + len(raw)
            size = 4 * ((size + 2) // 3)
        if size > budget and current:
            chunks.append(b"".join(current))
            current, used = [], 0
        current.append(raw)
        used += len(_q_bytes(raw)) if mode == "Q" else len(raw)
    if current or not chunks:
        chunks.append(b"".join(current))
    words = []
    for chunk in chunks:
        payload = _q_bytes(chunk) if mode == "Q" else base64.b64encode(chunk).decode("ascii")
        words.append(f"{prefix}{payload}?=")
    return "\r\n ".join(words)


_SPECIALS = frozenset('()<>[]:;@\\,."')


def _address(name: str, addr: str, mode: str = "Q", charset: str = "UTF-8") -> str:
    """A mailbox `Name <addr>`; non-ASCII names RFC 2047-encoded, specials quoted."""
    if not name:
        return addr
    if not name.isascii():
        return f"{encode_words(name, charset, mode)} <{addr}>"
    if any(char in _SPECIALS for char in name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{addr}>'
    return f"{name} <{addr}>"


def _crlf(text: str) -> str:
    """Normalise any line endings to CRLF and make sure the text ends with one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\n", "\r\n")


def _b64_lines(data: bytes) -> bytes:
    """Base64 wrapped at 76 columns with CRLF, as MUAs send attachments."""
    encoded = base64.b64encode(data)
    lines = [encoded[start : start + 76] for start in range(0, len(encoded), 76)]
    lines.append(b"")
    return b"\r\n".join(lines)


def _text_part(
    text: str,
    *,
    subtype: str = "plain",
    charset: str = "utf-8",
    encoding: str = "quoted-printable",
) -> _Part:
    """A text entity; `text` may use any line endings, the result uses CRLF."""
    return _encoded_text(_crlf(text).encode(charset), subtype, charset, encoding)


def _encoded_text(raw: bytes, subtype: str, charset: str, encoding: str) -> _Part:
    """A text entity from bytes that already use CRLF line endings."""
    if encoding == "quoted-printable":
        body = binascii.b2a_qp(raw, istext=True)
    elif encoding == "base64":
        body = _b64_lines(raw)
    elif encoding in ("7bit", "8bit"):
        body = raw
    else:
        raise ValueError(f"unknown transfer encoding {encoding!r}")
    return _Part(
        (
            ("Content-Type", f"text/{subtype}; charset={charset}"),
            ("Content-Transfer-Encoding", encoding),
        ),
        body,
    )


def _attachment(
    data: bytes,
    mime_type: str,
    filename: str,
    *,
    inline: bool = False,
    content_id: str = "",
) -> _Part:
    """A base64 attachment; a non-ASCII filename is sent both RFC 2231 and RFC 2047 style."""
    return _encoded_attachment(
        _b64_lines(data), mime_type, filename, inline=inline, content_id=content_id
    )


def _encoded_attachment(
    body: bytes,
    mime_type: str,
    filename: str,
    *,
    inline: bool = False,
    content_id: str = "",
) -> _Part:
    """An attachment whose body is already base64, wrapped at 76 columns with CRLF."""
    if filename.isascii():
        name_param = f'; name="{filename}"'
        file_param = f'; filename="{filename}"'
    else:
        name_param = f'; name="{encode_words(filename)}"'
        file_param = f"; filename*=utf-8''{quote(filename, safe='')}"
    headers = [
        ("Content-Type", f"{mime_type}{name_param}"),
        ("Content-Disposition", f"{'inline' if inline else 'attachment'}{file_param}"),
        ("Content-Transfer-Encoding", "base64"),
    ]
    if content_id:
        headers.append(("Content-ID", f"<{content_id}>"))
    return _Part(tuple(headers), body)


def _render_part(part: _Part) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in part.headers)
    return head.encode("utf-8") + b"\r\n" + part.body


def _multipart(subtype: str, boundary: str, parts: Sequence[_Part], extra: str = "") -> _Part:
    delimiter = b"--" + boundary.encode("ascii")
    chunks = [b"This is a multi-part message in MIME format.\r\n"]
    for part in parts:
        chunks.append(delimiter + b"\r\n")
        chunks.append(_render_part(part))
    chunks.append(delimiter + b"--\r\n")
    content_type = f'multipart/{subtype}; boundary="{boundary}"{extra}'
    return _Part((("Content-Type", content_type),), b"".join(chunks))


def _assemble(headers: Sequence[tuple[str, str]], part: _Part) -> bytes:
    """Top-level headers, MIME-Version, the entity's content headers, blank line, body."""
    all_headers = [*headers, ("MIME-Version", "1.0"), *part.headers]
    head = "".join(f"{name}: {value}\r\n" for name, value in all_headers)
    return head.encode("utf-8") + b"\r\n" + part.body


def _pdf_like(rng: random.Random, size: int) -> bytes:
    """Bytes that start and end like a PDF; the middle is incompressible noise."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    head += b"3 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % size
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return head + rng.randbytes(max(0, size - len(head) - len(tail))) + tail


def _png_like(rng: random.Random, size: int) -> bytes:
    """A PNG signature and IHDR chunk followed by noise."""
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02"
    return head + rng.randbytes(max(0, size - len(head)))


# --------------------------------------------------------------------------------------------
# The standard corpus
# --------------------------------------------------------------------------------------------

_INBOX = ("INBOX",)
_SENT = ("Sent",)
_DRAFTS = ("Drafts",)
_TRASH = ("Trash",)
_JUNK = ("Junk",)
_ARCHIVE = ("Archive",)
_ARCHIVE_2023 = ("Archive", "2023")
_ARCHIVE_2024 = ("Archive", "2024")
_ENTWUERFE = ("Entwürfe",)
_GELOESCHT = ("Gelöschte Elemente",)
_PROJECTS = ("Projects",)
_KUNDEN = ("Projects", "Kunden")
_MUELLER = ("Projects", "Kunden", "Müller GmbH")
_LEER = ("Leer",)


def standard_folders() -> list[SeedFolder]:
    """Every folder of the standard mailbox, parents before children.

    "Projects" and "Projects/Kunden" are listed as folders of their own so that
    "Projects/Kunden/Müller GmbH" has real parents; "Projects/Kunden" and "Leer" stay empty.
    """
    return [
        SeedFolder(_INBOX, None),
        SeedFolder(_SENT, "\\Sent"),
        SeedFolder(_DRAFTS, "\\Drafts"),
        SeedFolder(_TRASH, "\\Trash"),
        SeedFolder(_JUNK, "\\Junk"),
        SeedFolder(_ARCHIVE, "\\Archive"),
        SeedFolder(_ARCHIVE_2023, None),
        SeedFolder(_ARCHIVE_2024, None),
        SeedFolder(_ENTWUERFE, None),
        SeedFolder(_GELOESCHT, None),
        SeedFolder(_PROJECTS, None),
        SeedFolder(_KUNDEN, None),
        SeedFolder(_MUELLER, None),
        SeedFolder(_LEER, None),
    ]


def _std_id(number: int) -> str:
    return f"<std-{number:04d}@{DOMAIN}>"


_AUTO = "auto"
"""Marker for `_StandardBuilder.add(message_id=...)`: derive the id from the number."""

_INCOMING_EXEMPT = frozenset({_SENT, _DRAFTS, _ENTWUERFE})


class _StandardBuilder:
    def __init__(self) -> None:
        self.messages: list[SeedMessage] = []

    @property
    def next_number(self) -> int:
        return len(self.messages) + 1

    def add(
        self,
        folder: tuple[str, ...],
        *,
        subject: str,
        date: datetime,
        body: _Part,
        sender: str = "",
        to: str = _OWNER,
        flags: tuple[str, ...] = (),
        delay: timedelta = timedelta(0),
        internaldate: datetime | None = None,
        message_id: str = _AUTO,
        extra: Sequence[tuple[str, str]] = (),
        raw_headers: bool = False,
    ) -> int:
        """Append one message; returns its number (the NNNN of its std- Message-ID).

        Non-ASCII text in `subject`, `sender` and `to` is RFC 2047-encoded (UTF-8, Q) unless
        `raw_headers`, which keeps it as raw 8-bit UTF-8.
        """
        number = self.next_number
        if not raw_headers:
            subject = subject if subject.isascii() else encode_words(subject)
            sender = _encode_mailbox(sender)
            to = _encode_mailbox(to)
        if message_id == _AUTO:
            message_id = _std_id(number)
        if internaldate is None:
            internaldate = date + delay
        headers: list[tuple[str, str]] = []
        if folder not in _INCOMING_EXEMPT:
            delivered = internaldate.astimezone(
                _CET if internaldate.month in (1, 2, 11, 12) else _CEST
            )
            headers.append(("Return-Path", f"<{_bare(sender) or OWNER_ADDRESS}>"))
            headers.append(
                (
                    "Received",
                    f"from mail.example.net (mail.example.net [192.0.2.{number % 250 + 1}])\r\n"
                    f"\tby mx.{DOMAIN} (Postfix) with ESMTPS id 4S{number:04d}QZxK\r\n"
                    f"\tfor <{OWNER_ADDRESS}>; {format_datetime(delivered)}",
                )
            )
        if message_id:
            headers.append(("Message-ID", message_id))
        headers.append(("Date", format_datetime(date)))
        headers.append(("From", sender or _OWNER))
        headers.append(("To", to))
        headers.append(("Subject", subject))
        headers.extend(extra)
        self.messages.append(
            SeedMessage(
                folder=folder,
                data=_assemble(headers, body),
                flags=flags,
                internaldate=internaldate,
                message_id=message_id,
            )
        )
        return number


def _encode_mailbox(mailbox: str) -> str:
    """`Name <addr>` with a non-ASCII name RFC 2047-encoded."""
    if mailbox.isascii() or "<" not in mailbox:
        return mailbox
    name = mailbox[: mailbox.rindex("<")].strip().strip('"')
    return _address(name, _bare(mailbox))


def _bare(mailbox: str) -> str:
    """The address inside `Name <addr>`, or the whole string when there are no brackets."""
    if "<" in mailbox and mailbox.endswith(">"):
        return mailbox[mailbox.rindex("<") + 1 : -1]
    return mailbox


def _html(title: str, paragraphs: Sequence[str]) -> str:
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f'<title>{title}</title>\n</head>\n<body style="font-family: Arial, sans-serif;">\n'
        f"{body}\n</body>\n</html>\n"
    )


def _alternative(number: int, title: str, paragraphs: Sequence[str]) -> _Part:
    plain = _text_part("\n\n".join(paragraphs))
    html = _text_part(_html(title, paragraphs), subtype="html")
    return _multipart("alternative", f"=_alt_std{number:04d}", [plain, html])


def _d(year: int, month: int, day: int, hour: int, minute: int, tz: timezone) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


_SIGNATURE = "\n-- \nAnna Schmidt\nSchmidt & Partner Ingenieure\nTel. +49 89 1234567\n"

_FILLER_INBOX: tuple[tuple[str, str, str, datetime, tuple[str, ...], timedelta], ...] = (
    (
        "Quarterly report Q1 2019",
        "Mark Thompson",
        "mark.thompson@example.com",
        _d(2019, 4, 2, 16, 45, _EST),
        ("\\Seen",),
        timedelta(seconds=4),
    ),
    (
        "Termin Zahnarzt – Erinnerung",
        "Praxis Dr. Köhler",
        "termine@example.org",
        _d(2019, 11, 20, 8, 0, _CET),
        ("\\Seen",),
        timedelta(0),
    ),
    (
        "Your order has shipped",
        "Example Store",
        "orders@example.com",
        _d(2020, 2, 11, 13, 5, UTC),
        ("\\Seen",),
        timedelta(minutes=2),
    ),
    (
        "Protokoll der Mitgliederversammlung",
        "Sportverein Grünwald e.V.",
        "vorstand@example.org",
        _d(2020, 9, 28, 21, 14, _CEST),
        (),
        timedelta(0),
    ),
    (
        "Re: Lunch next week?",
        "Priya Raman",
        "priya.raman@example.net",
        _d(2021, 1, 19, 11, 30, _IST),
        ("\\Seen", "\\Answered"),
        timedelta(seconds=11),
    ),
    (
        "Nebenkostenabrechnung 2020",
        "Hausverwaltung Bauer",
        "info@example.org",
        _d(2021, 5, 3, 9, 12, _CEST),
        ("\\Seen", "\\Flagged"),
        timedelta(0),
    ),
    (
        "Conference schedule update",
        "DevConf Team",
        "team@example.com",
        _d(2022, 3, 14, 7, 55, _PDT),
        (),
        timedelta(seconds=37),
    ),
    (
        "Fotos vom Sommerfest",
        "Lena Hoffmann",
        "lena.hoffmann@example.net",
        _d(2022, 8, 1, 19, 2, _CEST),
        ("\\Seen",),
        timedelta(0),
    ),
    (
        "Password change confirmation",
        "Accounts",
        "no-reply@example.com",
        _d(2023, 6, 6, 6, 6, UTC),
        ("\\Seen",),
        timedelta(0),
    ),
    (
        "Wochenplanung KW 7",
        "Thomas Becker",
        "thomas.becker@example.org",
        _d(2024, 2, 12, 7, 30, _CET),
        (),
        timedelta(seconds=3),
    ),
    (
        "Re: Übergabe der Schlüssel",
        "Familie Schäfer",
        "schaefer@example.net",
        _d(2024, 10, 8, 17, 41, _CEST),
        (),
        timedelta(0),
    ),
)


def _filler_text(subject: str, name: str, index: int) -> list[str]:
    openings = (
        "Hallo Anna,",
        "Hi Anna,",
        "Liebe Frau Schmidt,",
        "Dear Ms Schmidt,",
    )
    middles = (
        "anbei wie besprochen die wichtigsten Punkte. Bitte gib kurz Bescheid, ob das so passt.",
        "just a short note to keep you in the loop. Nothing urgent, but worth a look this week.",
        "vielen Dank für Ihre Nachricht. Wir melden uns in den nächsten Tagen mit allen Details.",
        "please find the details below. Let me know if anything is unclear or missing.",
    )
    return [
        openings[index % len(openings)],
        f"{middles[index % len(middles)]} (Betreff: {subject})",
        f"Viele Grüße / Best regards\n{name}",
    ]


def standard_corpus() -> list[SeedMessage]:
    """The hand-shaped test mailbox: about 60 messages over `standard_folders()`.

    Messages are in APPEND order; Message-IDs are `<std-NNNN@corpus.mailmig.test>` where
    NNNN is the message's 1-based position, except for the two messages without a
    Message-ID and the second message of the duplicate pair, which reuses its twin's id.
    """
    b = _StandardBuilder()

    # ---- INBOX (25) -------------------------------------------------------------------------
    b.add(
        _INBOX,
        subject="Welcome to the new mail server",
        sender="IT Support <it-support@example.com>",
        date=_d(2019, 1, 14, 9, 12, _CET),
        delay=timedelta(seconds=3),
        body=_text_part(
            "Hello Anna,\n\nyour mailbox has been moved to the new server. Nothing changes\n"
            "for you: the address and the password stay the same.\n\nIT Support\n",
            charset="us-ascii",
            encoding="7bit",
        ),
        flags=("\\Seen",),
    )
    gruesse = b.add(
        _INBOX,
        subject="=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=",
        sender="=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen.mueller@example.org>",
        date=_d(2019, 6, 21, 18, 4, _CEST),
        body=_text_part(
            "Liebe Anna,\n\nviele Grüße aus München! Das Wetter ist großartig, der Biergarten\n"
            "voll und die Weißwürste schmecken wie immer.\n\nBis bald,\nJürgen\n",
            encoding="8bit",
        ),
        flags=("\\Seen", "\\Answered"),
    )
    b.add(
        _INBOX,
        subject=encode_words("Einladung: Besprechung über Änderungen im Q3", mode="B"),
        sender=_address("Björn Weiß", "bjoern.weiss@example.org", mode="B"),
        date=_d(2023, 7, 3, 10, 15, _CEST),
        delay=timedelta(minutes=1, seconds=12),
        body=_alternative(
            b.next_number,
            "Einladung",
            [
                "Hallo zusammen,",
                "am Donnerstag um 14 Uhr besprechen wir die geplanten Änderungen im dritten "
                "Quartal. Bitte bringt eure Zahlen mit.",
                "Raum: Großer Besprechungsraum, 3. OG",
                "Viele Grüße<br>Björn",
            ],
        ),
    )
    b.add(
        _INBOX,
        subject=encode_words("Bestellbestätigung für Frau Müller", "ISO-8859-1"),
        sender=_address("Möbelhaus Süd", "bestellung@example.com", charset="ISO-8859-1"),
        date=_d(2020, 1, 27, 14, 2, _CET),
        body=_text_part(
            "Sehr geehrte Frau Müller,\n\nvielen Dank für Ihre Bestellung Nr. 48213.\n"
            'Ihr Schrank "Größe XL" wird in KW 7 geliefert.\n\nIhr Möbelhaus Süd\n',
            charset="iso-8859-1",
        ),
        flags=("\\Seen", "$label1"),
    )
    b.add(
        _INBOX,
        subject="Rückfrage zur Lieferung – Größe XL",
        sender="Jürgen Weiß <j.weiss@example.net>",
        date=_d(2021, 3, 9, 8, 47, _CET),
        raw_headers=True,
        delay=timedelta(hours=2, minutes=5),
        body=_text_part(
            "Hallo Anna,\n\nkurze Rückfrage: Soll die Lieferung in Größe XL oder XXL\n"
            "erfolgen? Der Spediteur kommt übermorgen.\n\nGruß, Jürgen\n",
            encoding="8bit",
        ),
        flags=("\\Flagged",),
    )
    b.add(
        _INBOX,
        subject="Automated notification: backup completed",
        sender="backup daemon <root@backup.example.com>",
        date=_d(2019, 8, 30, 3, 0, UTC),
        delay=timedelta(seconds=1),
        body=_text_part(
            "Backup job 'nightly' finished at 03:00:41 UTC.\n\n  files: 18234\n  size:  4.2 GB\n",
            charset="us-ascii",
            encoding="7bit",
        ),
        flags=("\\Seen",),
        message_id="",
    )
    b.add(
        _INBOX,
        subject="Newsletter Mai: Neuigkeiten aus dem Verein",
        sender=_address("Verein für Stadtgeschichte", "newsletter@example.org"),
        date=_d(2022, 5, 2, 12, 0, _CEST),
        body=_alternative(
            b.next_number,
            "Newsletter Mai",
            [
                "Liebe Mitglieder,",
                "im Mai starten wieder unsere Stadtführungen. Treffpunkt ist wie immer der "
                "Brunnen am Marktplatz.",
                "Außerdem suchen wir Helferinnen und Helfer für das Sommerfest.",
            ],
        ),
        message_id="",
        extra=(("List-Unsubscribe", "<mailto:unsubscribe@example.org>"),),
    )
    twin = b.add(
        _INBOX,
        subject="Angebot Nr. 2023-117",
        sender="Carsten Vogel <c.vogel@example.com>",
        date=_d(2023, 9, 12, 15, 20, _CEST),
        body=_text_part(
            "Sehr geehrte Frau Schmidt,\n\nanbei unser Angebot Nr. 2023-117 über 12.400 EUR.\n"
            "\nMit freundlichen Grüßen\nCarsten Vogel\n",
        ),
        flags=("\\Seen",),
    )
    b.add(
        _INBOX,
        subject="Angebot Nr. 2023-117",
        sender="Carsten Vogel <c.vogel@example.com>",
        date=_d(2023, 9, 12, 15, 20, _CEST),
        delay=timedelta(minutes=42),
        body=_text_part(
            "Sehr geehrte Frau Schmidt,\n\nanbei unser Angebot Nr. 2023-117 über 12.400 EUR.\n"
            "Korrektur: Die Lieferzeit beträgt sechs statt vier Wochen; der Preis bleibt\n"
            "unverändert. Bitte betrachten Sie diese Nachricht als verbindlich.\n"
            "\nMit freundlichen Grüßen\nCarsten Vogel\n",
        ),
        message_id=_std_id(twin),
    )
    number = b.next_number
    rng = random.Random(number)
    b.add(
        _INBOX,
        subject="Rechnung März",
        sender="Buchhaltung <buchhaltung@example.com>",
        date=_d(2020, 4, 1, 9, 30, _CEST),
        body=_multipart(
            "mixed",
            f"=_mixed_std{number:04d}",
            [
                _text_part("Guten Tag,\n\nim Anhang finden Sie die Rechnung für März.\n"),
                _attachment(_pdf_like(rng, 4 * 1024), "application/pdf", "Rechnung_März.pdf"),
            ],
        ),
        flags=("\\Seen", "\\Flagged"),
    )
    number = b.next_number
    rng = random.Random(number)
    b.add(
        _INBOX,
        subject="Fotos von der Baustelle",
        sender="Lena Hoffmann <lena.hoffmann@example.net>",
        date=_d(2021, 7, 15, 17, 3, _CEST),
        delay=timedelta(seconds=9),
        body=_multipart(
            "mixed",
            f"=_mixed_std{number:04d}",
            [
                _text_part("Hi Anna,\n\nhier das Foto vom Stand heute. Ziemlich groß, sorry!\n"),
                _attachment(_png_like(rng, 300 * 1024), "image/png", "baustelle.png"),
            ],
        ),
        flags=("\\Seen",),
    )
    b.add(
        _INBOX,
        subject="Fwd: Zugangsdaten Kundenportal",
        sender="Thomas Becker <thomas.becker@example.org>",
        date=_d(2022, 11, 2, 10, 10, _CET),
        body=_text_part(
            "Zur Info, habe ich an das Team weitergeleitet.\n\n"
            "---------- Forwarded message ---------\nFrom: Portal <portal@example.com>\n"
            "Subject: Zugangsdaten Kundenportal\n\nIhre Zugangsdaten wurden geändert.\n"
        ),
        flags=("\\Seen", "$Forwarded"),
    )
    kickoff = b.add(
        _INBOX,
        subject="Projekt Alpha: Kick-off",
        sender="Sabine Krüger <s.krueger@example.com>",
        date=_d(2024, 1, 22, 9, 0, _CET),
        delay=timedelta(seconds=15),
        body=_alternative(
            b.next_number,
            "Kick-off",
            [
                "Hallo Anna,",
                "das Kick-off für Projekt Alpha findet am 29. Januar statt.",
                "Agenda: Ziele, Zeitplan, Zuständigkeiten.",
            ],
        ),
        flags=("\\Seen", "$label1", "Projekt-Alpha"),
    )
    b.add(
        _INBOX,
        subject="Old promotion (marked for deletion)",
        sender="Deals <deals@example.com>",
        date=_d(2019, 12, 1, 6, 30, UTC),
        body=_text_part("Only today: 10% off everything.\n", charset="us-ascii", encoding="7bit"),
        flags=("\\Seen", "\\Deleted"),
    )
    number = b.next_number
    rng = random.Random(number)
    b.add(
        _INBOX,
        subject="Newsletter mit Logo",
        sender="Stadtwerke <info@example.org>",
        date=_d(2024, 4, 17, 11, 11, _CEST),
        body=_multipart(
            "related",
            f"=_rel_std{number:04d}",
            [
                _alternative(
                    number,
                    "Stadtwerke",
                    [
                        '<img src="cid:logo@example.org" alt="Logo">',
                        "Ab Mai gelten neue Tarife für Strom und Gas.",
                    ],
                ),
                _attachment(
                    _png_like(rng, 2 * 1024),
                    "image/png",
                    "logo.png",
                    inline=True,
                    content_id="logo@example.org",
                ),
            ],
            extra='; type="multipart/alternative"',
        ),
    )
    for index, (subject, name, addr, date, flags, delay) in enumerate(_FILLER_INBOX):
        paragraphs = _filler_text(subject, name, index)
        body = (
            _alternative(b.next_number, subject, paragraphs)
            if index % 3 == 0
            else _text_part("\n\n".join(paragraphs) + "\n")
        )
        b.add(
            _INBOX,
            subject=subject if subject.isascii() else encode_words(subject),
            sender=_address(name, addr),
            date=date,
            delay=delay,
            body=body,
            flags=flags,
        )

    # ---- Sent (6) ---------------------------------------------------------------------------
    sent = (
        ("Re: Grüße aus München", "Jürgen Müller", "juergen.mueller@example.org",
         _d(2019, 6, 22, 9, 15, _CEST), gruesse),
        ("Re: Angebot Nr. 2023-117", "Carsten Vogel", "c.vogel@example.com",
         _d(2023, 9, 13, 8, 2, _CEST), twin),
        ("Urlaubsvertretung", "Team", "team@example.org", _d(2020, 7, 24, 16, 0, _CEST), 0),
        ("Meeting notes", "Mark Thompson", "mark.thompson@example.com",
         _d(2021, 10, 5, 13, 45, _CEST), 0),
        ("Unterlagen für die Steuererklärung", "Steuerbüro Lang", "kanzlei@example.net",
         _d(2022, 2, 28, 18, 20, _CET), 0),
        ("Re: Projekt Alpha: Kick-off", "Sabine Krüger", "s.krueger@example.com",
         _d(2024, 1, 22, 11, 37, _CET), kickoff),
    )  # fmt: skip
    for subject, name, addr, date, reply_to in sent:
        extra: tuple[tuple[str, str], ...] = ()
        if reply_to:
            extra = (("In-Reply-To", _std_id(reply_to)), ("References", _std_id(reply_to)))
        b.add(
            _SENT,
            subject=encode_words(subject) if not subject.isascii() else subject,
            to=_address(name, addr),
            date=date,
            body=_text_part(f"Hallo,\n\n{subject}: siehe unten.\n{_SIGNATURE}"),
            flags=("\\Seen",),
            extra=(*extra, ("User-Agent", "Mozilla Thunderbird")),
        )

    # ---- Drafts (3) -------------------------------------------------------------------------
    b.add(
        _DRAFTS,
        subject="Entwurf: Kündigung Fitnessstudio",
        to="Fitnessstudio <vertrag@example.com>",
        date=_d(2022, 12, 30, 22, 10, _CET),
        body=_text_part("Sehr geehrte Damen und Herren,\n\nhiermit kündige ich ...\n"),
        flags=("\\Draft",),
    )
    b.add(
        _DRAFTS,
        subject="Draft: travel plans",
        to="Priya Raman <priya.raman@example.net>",
        date=_d(2023, 3, 18, 20, 5, _IST),
        body=_text_part("Hi Priya,\n\nI was thinking about", charset="us-ascii", encoding="7bit"),
        flags=("\\Draft", "\\Seen"),
    )
    b.add(
        _DRAFTS,
        subject=encode_words("Glückwünsche zum Geburtstag"),
        to="Oma Erna <erna@example.org>",
        date=_d(2024, 8, 9, 7, 58, _CEST),
        body=_alternative(b.next_number, "Glückwünsche", ["Liebe Oma,", "alles Gute!"]),
        flags=("\\Draft", "\\Flagged"),
    )

    # ---- Trash (3) --------------------------------------------------------------------------
    for index, (subject, date) in enumerate(
        (
            ("Ihre Paketverfolgung", _d(2020, 10, 10, 10, 10, _CEST)),
            ("Webinar recording available", _d(2022, 6, 30, 15, 0, _PDT)),
            ("Reminder: subscription renews soon", _d(2024, 5, 5, 5, 5, UTC)),
        )
    ):
        b.add(
            _TRASH,
            subject=subject,
            sender=f"Notifications <notify{index}@example.com>",
            date=date,
            delay=timedelta(minutes=index * 7),
            body=_text_part(f"{subject}.\n\nThis is an automated message.\n"),
            flags=("\\Seen",),
        )

    # ---- Junk (3) ---------------------------------------------------------------------------
    b.add(
        _JUNK,
        subject=encode_words("Sie haben gewonnen!!! 1.000.000 € warten", mode="B"),
        sender=_address("Glücksspiel Zentrale", "winner@spam.example.net", mode="B"),
        date=_d(2021, 4, 1, 4, 4, UTC),
        body=_alternative(
            b.next_number, "Gewinn", ["Klicken Sie <b>jetzt</b> hier!", "Nur heute."]
        ),
        flags=("$Junk",),
    )
    b.add(
        _JUNK,
        subject="Cheap watches",
        sender="Best Offers <offers@spam.example.net>",
        date=_d(2022, 9, 9, 9, 9, _EST),
        delay=timedelta(days=1, hours=3),
        body=_text_part("Best prices on the internet.\n", charset="us-ascii", encoding="7bit"),
        flags=("\\Seen", "$Junk"),
    )
    b.add(
        _JUNK,
        subject="Verify your account now",
        sender="Security Team <security@phish.example.com>",
        date=_d(2024, 3, 3, 3, 33, UTC),
        body=_text_part("Your account will be closed. Log in here.\n"),
        flags=("$Junk",),
    )

    # ---- Archive (3): old mail, imported years later ------------------------------------
    imported = _d(2022, 3, 1, 12, 0, _CET)
    for index, (subject, name, addr, date) in enumerate(
        (
            ("Mietvertrag Wohnung", "Hausverwaltung Bauer", "info@example.org",
             _d(2019, 2, 15, 11, 0, _CET)),
            ("Flight confirmation MUC-JFK", "Airline", "booking@example.com",
             _d(2019, 9, 3, 22, 47, UTC)),
            ("Zeugnis und Bescheinigungen", "Personalabteilung", "hr@example.net",
             _d(2020, 6, 30, 14, 30, _CEST)),
        )
    ):  # fmt: skip
        b.add(
            _ARCHIVE,
            subject=subject,
            sender=_address(name, addr),
            date=date,
            internaldate=imported + timedelta(seconds=index),
            body=_text_part("\n\n".join(_filler_text(subject, name, index + 1)) + "\n"),
            flags=("\\Seen",),
        )

    # ---- Archive/2023 (5) -------------------------------------------------------------------
    for index, month in enumerate((1, 3, 5, 8, 11)):
        date = _d(2023, month, 10 + index, 9 + index, 15, _CET if month in (1, 11) else _CEST)
        subject = f"Monatsbericht {month:02d}/2023"
        b.add(
            _ARCHIVE_2023,
            subject=subject,
            sender="Controlling <controlling@example.com>",
            date=date,
            delay=timedelta(seconds=index * 13),
            body=(
                _alternative(b.next_number, subject, _filler_text(subject, "Controlling", index))
                if index % 2
                else _text_part("\n\n".join(_filler_text(subject, "Controlling", index)))
            ),
            flags=("\\Seen", "\\Answered") if index == 2 else ("\\Seen",),
        )

    # ---- Archive/2024 (3) -------------------------------------------------------------------
    for index, (subject, date) in enumerate(
        (
            ("Jahresplanung 2024", _d(2024, 1, 8, 8, 0, _CET)),
            ("Sommerfest Anmeldung", _d(2024, 6, 14, 12, 30, _CEST)),
            ("Re: Wartungsvertrag", _d(2024, 9, 2, 16, 16, _CEST)),
        )
    ):
        b.add(
            _ARCHIVE_2024,
            subject=subject,
            sender="Thomas Becker <thomas.becker@example.org>",
            date=date,
            body=_text_part("\n\n".join(_filler_text(subject, "Thomas", index + 2))),
            flags=("\\Seen", "$label1") if index == 1 else ("\\Seen",),
        )

    # ---- Entwürfe (2): German folder name, deliberately not \Drafts ---------------------
    b.add(
        _ENTWUERFE,
        subject=encode_words("Entwurf: Antwort an Herrn Groß"),
        to=_address("Peter Groß", "p.gross@example.net"),
        date=_d(2021, 12, 12, 21, 21, _CET),
        body=_text_part("Sehr geehrter Herr Groß,\n\nbezüglich Ihrer Anfrage ...\n"),
        flags=("\\Draft",),
    )
    b.add(
        _ENTWUERFE,
        subject="Notizen",
        to=_OWNER,
        date=_d(2023, 4, 4, 4, 44, _CEST),
        body=_text_part("- Ölwechsel\n- Überweisung Miete\n- Geschenk für Jörg\n"),
        flags=("\\Seen",),
    )

    # ---- Gelöschte Elemente (2) -----------------------------------------------------------
    b.add(
        _GELOESCHT,
        subject=encode_words("Alte Rundmail – bitte ignorieren"),
        sender=_address("Geschäftsführung", "gf@example.com"),
        date=_d(2020, 3, 16, 8, 8, _CET),
        body=_text_part("Diese Nachricht ist veraltet.\n"),
        flags=("\\Seen",),
    )
    b.add(
        _GELOESCHT,
        subject="Out of office",
        sender="Mark Thompson <mark.thompson@example.com>",
        date=_d(2021, 8, 9, 9, 0, _EST),
        delay=timedelta(seconds=2),
        body=_text_part("I am out of the office until August 23.\n", encoding="7bit"),
    )

    # ---- Projects (1) and Projects/Kunden/Müller GmbH (4) ---------------------------------
    b.add(
        _PROJECTS,
        subject="Projektübersicht 2024",
        sender="Sabine Krüger <s.krueger@example.com>",
        date=_d(2024, 2, 1, 10, 0, _CET),
        body=_text_part("Alle laufenden Projekte im Überblick: Alpha, Beta, Gamma.\n"),
        flags=("\\Seen", "Projekt-Alpha"),
    )
    mueller = (
        ("Anfrage Umbau Lagerhalle", _d(2023, 2, 6, 9, 5, _CET), ("\\Seen", "\\Answered")),
        ("Re: Anfrage Umbau Lagerhalle", _d(2023, 2, 9, 14, 40, _CET), ("\\Seen",)),
        ("Pläne und Skizzen", _d(2023, 10, 27, 11, 0, _CEST), ("\\Seen", "Projekt-Alpha")),
        ("Terminabstimmung Abnahme", _d(2024, 7, 19, 8, 25, _CEST), ("Projekt-Alpha",)),
    )
    for index, (subject, date, flags) in enumerate(mueller):
        number = b.next_number
        parts = _filler_text(subject, "Klaus Müller", index)
        body = _text_part("\n\n".join(parts))
        if index == 2:
            body = _multipart(
                "mixed",
                f"=_mixed_std{number:04d}",
                [body, _attachment(_pdf_like(random.Random(number), 6 * 1024),
                                   "application/pdf", "Skizze_Halle_Süd.pdf")],
            )  # fmt: skip
        b.add(
            _MUELLER,
            subject=subject if subject.isascii() else encode_words(subject),
            sender=_address("Klaus Müller", "k.mueller@mueller-gmbh.example"),
            date=date,
            delay=timedelta(minutes=index),
            body=body,
            flags=flags,
        )

    return b.messages


# --------------------------------------------------------------------------------------------
# The benchmark corpus
# --------------------------------------------------------------------------------------------


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_WORDS_EN = _split(
    "the project team schedule budget report customer meeting update review proposal "
    "contract delivery invoice quarter design system server release version change request "
    "feedback draft plan timeline milestone risk issue estimate cost price offer order "
    "account payment support ticket user access password network backup storage migration "
    "office building site visit travel flight hotel conference agenda minutes notes "
    "presentation slides document spreadsheet figure table summary detail question answer "
    "decision approval signature deadline week month year morning afternoon evening "
    "tomorrow yesterday today next last first final early late quick short long important "
    "urgent simple clear open closed ready pending done new old current previous "
    "please kindly also still just already again soon maybe probably certainly "
    "we you they I our your their this that these those some every each any all "
    "will would should could can may might must need want think know see send check "
    "confirm discuss prepare share forward attach review update finish start move "
    "and but or so because if when while after before since until with without for "
    "from into about over under between through during against among within"
)

_WORDS_DE = _split(
    "das Projekt Team Termin Budget Bericht Kunde Besprechung Angebot Vertrag Lieferung "
    "Rechnung Quartal Entwurf Planung Zeitplan Meilenstein Risiko Aufwand Kosten Preis "
    "Bestellung Zahlung Konto Zugang Netzwerk Sicherung Umzug Büro Gebäude Baustelle Reise "
    "Hotel Tagesordnung Protokoll Unterlagen Tabelle Übersicht Frage Antwort Entscheidung "
    "Freigabe Unterschrift Frist Woche Monat Jahr Vormittag Nachmittag Abend morgen gestern "
    "heute nächste letzte erste schnell kurz lang wichtig dringend einfach klar offen "
    "fertig neu alt aktuell bitte auch noch schon wieder bald vielleicht sicher natürlich "
    "wir ihr sie unser euer dieser jener einige jede alle wird würde sollte könnte kann "
    "muss möchte prüfen senden bestätigen besprechen vorbereiten weiterleiten ändern "
    "und aber oder weil wenn während nach vor seit bis mit ohne für von über unter "
    "zwischen durch gegen Größe Änderung Grüße Straße Müller Köln Zürich Bürgschaft"
)

_FIRST_NAMES = _split(
    "Anna Ben Clara David Elena Felix Greta Hannah Jonas Katrin Lukas Marie Nina Oliver "
    "Paula Robert Sophie Tobias Ulrike Vera Jürgen Björn Jörg Sören Özlem Zoë Mark Priya "
    "James Laura Wei Chen Ahmed Fatima"
)
_LAST_NAMES = _split(
    "Becker Fischer Hoffmann Keller Lang Meyer Neumann Richter Schulz Wagner Weber "
    "Müller Schäfer Krüger Weiß Groß Köhler Thompson Raman Nguyen García Kowalski"
)
_SENDER_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "lists.example.org",
    "partner.example",
    "kunden.example",
)
_SUBJECTS = (
    "Status update {n}",
    "Meeting on {day}",
    "Invoice {n}",
    "Your order {n} has shipped",
    "Quarterly report Q{q}",
    "Question about the proposal",
    "Weekly newsletter #{n}",
    "Angebot Nr. {n}",
    "Rechnung {n} – Zahlungserinnerung",
    "Besprechung am {day}",
    "Protokoll vom {day}",
    "Änderungen im Zeitplan",
    "Grüße aus Köln",
    "Unterlagen für das Projekt",
    "Reminder: deadline on {day}",
    "Travel plans for {day}",
)
_DAYS = ("Monday", "Tuesday", "Friday", "Montag", "Mittwoch", "Donnerstag", "12.03.", "7.11.")
_ATTACHMENT_KINDS = (
    ("application/pdf", "Rechnung_{n}.pdf", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"),
    ("image/jpeg", "IMG_{n}.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"),
    ("application/zip", "Unterlagen_{n}.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Protokoll_{n}.docx",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00",
    ),
    ("image/png", "Scan {n}.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
)
_MAILERS = (
    ("User-Agent", "Mozilla Thunderbird 115.6"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Apple Mail (2.3774)"),
    ("User-Agent", "Roundcube Webmail/1.6.5"),
    ("X-Mailer", "PHPMailer 6.8.1"),
)
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ë": "e", "í": "i"}
)
_ZONES = (UTC, _CET, _CEST, _EST, _PDT, _IST, timezone(timedelta(hours=9)))

_BENCH_FOLDERS: tuple[tuple[tuple[str, ...], float], ...] = (
    (_INBOX, 0.50),
    (_SENT, 0.15),
    (_ARCHIVE, 0.10),
    (_ARCHIVE_2023, 0.15),
    (_PROJECTS, 0.10),
)
_ROW_BYTES = 57
"""Bytes per line of base64 wrapped at 76 columns."""
_ROW_LINE = 78
"""One such line with its CRLF."""
_MAX_ATTACHMENT = 5_000_000
_POOL_ROWS = _MAX_ATTACHMENT // _ROW_BYTES + 1
_START = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
_END = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
_START_2023 = datetime(2023, 1, 1, tzinfo=UTC).timestamp()
_END_2023 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def _sentences(rng: random.Random, words: Sequence[str], count: int) -> list[str]:
    """A pool of plausible-looking sentences, built once per stream."""
    pool: list[str] = []
    for _ in range(count):
        chosen = rng.choices(words, k=rng.randint(5, 17))
        if rng.random() < 0.3:
            chosen[rng.randrange(2, len(chosen))] += ","
        sentence = " ".join(chosen)
        end = "?" if rng.random() < 0.1 else "."
        pool.append(sentence[0].upper() + sentence[1:].rstrip(",") + end)
    return pool


class _BenchGenerator:
    """State shared by all messages of one `bench_corpus` stream."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.pools = (
            _sentences(self.rng, _WORDS_EN, 400),
            _sentences(self.rng, _WORDS_DE, 400),
        )
        self.mean_sentence = [sum(map(len, pool)) / len(pool) + 1 for pool in self.pools]
        self.folders = [folder for folder, _ in _BENCH_FOLDERS]
        self.weights = [weight for _, weight in _BENCH_FOLDERS]
        self.pool: bytes | None = None
        """Wrapped base64 of `_POOL_ROWS` random 57-byte rows, made on the first attachment."""

    def _person(self) -> tuple[str, str]:
        rng = self.rng
        first = rng.choice(_FIRST_NAMES)
        last = rng.choice(_LAST_NAMES)
        local = f"{first}.{last}".lower()
        local = local.translate(_TRANSLIT).encode("ascii", "ignore").decode("ascii")
        return f"{first} {last}", f"{local}@{rng.choice(_SENDER_DOMAINS)}"

    def _prose(self, language: int, size: int, line_break: str) -> list[str]:
        """Paragraphs of roughly `size` characters in the given language.

        Sentences within a paragraph are joined with `line_break`: a space gives one long
        line per paragraph (for quoted-printable, which wraps it), CRLF keeps 8-bit lines short.
        """
        rng = self.rng
        count = max(1, int(size / self.mean_sentence[language]))
        sentences = rng.choices(self.pools[language], k=count)
        step = rng.randint(3, 6)
        return [line_break.join(sentences[i : i + step]) for i in range(0, count, step)]

    def _body_size(self) -> int:
        """Target size of the readable part, like real mail: mostly 2-50 KB in total."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return rng.randint(300, 1200)
        if roll < 0.97:
            return int(math.exp(rng.uniform(math.log(1500), math.log(45_000))))
        return rng.randint(50_000, 140_000)

    def message(self, index: int) -> SeedMessage:
        rng = self.rng
        folder = rng.choices(self.folders, self.weights)[0]
        outgoing = folder == _SENT
        if folder == _ARCHIVE_2023:
            stamp = rng.uniform(_START_2023, _END_2023)
        else:
            stamp = rng.uniform(_START, _END)
        stamp = float(int(stamp))
        internaldate = datetime.fromtimestamp(stamp, rng.choice(_ZONES))
        sent_at = datetime.fromtimestamp(stamp - rng.randint(1, 600), rng.choice(_ZONES))

        name, addr = self._person()
        if outgoing:
            sender, recipient = _OWNER, _address(name, addr)
            sent_at = internaldate
        else:
            sender, recipient = _address(name, addr), _OWNER
        language = 1 if rng.random() < 0.45 else 0
        template = rng.choice(_SUBJECTS)
        subject = template.format(
            n=rng.randint(1000, 99999), q=rng.randint(1, 4), day=rng.choice(_DAYS)
        )
        reply = index > 0 and rng.random() < 0.3
        if reply:
            subject = ("AW: " if language else "Re: ") + subject
        elif rng.random() < 0.05:
            subject = "Fwd: " + subject

        message_id = f"<bench-{self.seed}-{index:07d}@{DOMAIN}>"
        headers: list[tuple[str, str]] = []
        if not outgoing:
            headers.append(("Return-Path", f"<{addr}>"))
            hop_time = internaldate
            for hop in range(rng.randint(2, 4)):
                # Topmost is the last hop; each one below it happened a little earlier.
                hop_time -= timedelta(seconds=rng.randint(0, 3) if hop else 0)
                headers.append(
                    (
                        "Received",
                        f"from relay{hop}.{addr.rpartition('@')[2]} "
                        f"(relay{hop}.{addr.rpartition('@')[2]} "
                        f"[198.51.100.{rng.randint(1, 254)}])\r\n"
                        f"\tby mx{hop}.{DOMAIN} (Postfix) with ESMTPS id "
                        f"{rng.getrandbits(44):011X}\r\n"
                        f"\tfor <{OWNER_ADDRESS}>; {format_datetime(hop_time)}",
                    )
                )
            if rng.random() < 0.6:
                signature = base64.b64encode(rng.randbytes(128)).decode("ascii")
                headers.append(
                    (
                        "DKIM-Signature",
                        f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={addr.rpartition('@')[2]};"
                        "\r\n\ts=mail; h=from:to:subject:date:message-id;\r\n"
                        f"\tbh={base64.b64encode(rng.randbytes(32)).decode('ascii')};\r\n"
                        f"\tb={signature[:72]}\r\n\t  {signature[72:144]}\r\n\t  {signature[144:]}",
                    )
                )
        headers.append(("Message-ID", message_id))
        headers.append(("Date", format_datetime(sent_at)))
        headers.append(("From", sender))
        headers.append(("To", recipient))
        if rng.random() < 0.15:
            cc_name, cc_addr = self._person()
            headers.append(("Cc", _address(cc_name, cc_addr)))
        if subject.isascii():
            headers.append(("Subject", subject))
        else:
            headers.append(("Subject", encode_words(subject, mode=rng.choice("QB"))))
        if reply:
            parent = f"<bench-{self.seed}-{rng.randrange(index):07d}@{DOMAIN}>"
            headers.append(("In-Reply-To", parent))
            headers.append(("References", parent))
        headers.append(rng.choice(_MAILERS))

        body = self._body(index, language, name)
        flags = self._flags(outgoing)
        return SeedMessage(
            folder=folder,
            data=_assemble(headers, body),
            flags=flags,
            internaldate=internaldate,
            message_id=message_id,
        )

    def _body(self, index: int, language: int, name: str) -> _Part:
        rng = self.rng
        size = self._body_size()
        greeting = ("Hi,", "Hallo,")[language]
        closing = (f"Best regards,\r\n{name}", f"Viele Grüße\r\n{name}")[language]
        html = rng.random() < 0.6 or size > 50_000
        # Outlook-style quoted-printable for some, Thunderbird-style 8bit for the rest.
        encoding = "quoted-printable" if rng.random() < 0.3 else "8bit"
        line_break = " " if encoding == "quoted-printable" else "\r\n"
        prose_size = (size - 1500) // 2 if html else size - 1200
        paragraphs = self._prose(language, max(200, prose_size), line_break)
        text = f"{greeting}\r\n\r\n" + "\r\n\r\n".join(paragraphs) + f"\r\n\r\n{closing}\r\n"
        part = _encoded_text(text.encode("utf-8"), "plain", "utf-8", encoding)
        if html:
            markup = (
                '<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<meta charset="utf-8">\r\n'
                "<style>body { font-family: Calibri, Arial, sans-serif; font-size: 11pt; }"
                "</style>\r\n</head>\r\n<body>\r\n"
                f"<p>{greeting}</p>\r\n<p>"
                + "</p>\r\n<p>".join(paragraphs)
                + f"</p>\r\n<p>{closing.replace(chr(13) + chr(10), '<br>')}</p>\r\n"
                "</body>\r\n</html>\r\n"
            )
            part = _multipart(
                "alternative",
                f"----=_Part_{self.seed}_{index}_alt",
                [part, _encoded_text(markup.encode("utf-8"), "html", "utf-8", encoding)],
            )
        if rng.random() < 0.03:
            mime_type, pattern, magic = rng.choice(_ATTACHMENT_KINDS)
            blob_size = int(math.exp(rng.uniform(math.log(200_000), math.log(_MAX_ATTACHMENT))))
            filename = pattern.format(n=rng.randint(100, 9999))
            part = _multipart(
                "mixed",
                f"----=_Part_{self.seed}_{index}_mix",
                [part, _encoded_attachment(self._blob(magic, blob_size), mime_type, filename)],
            )
        return part

    def _blob(self, magic: bytes, size: int) -> bytes:
        """`size` bytes starting with `magic`, base64-encoded and wrapped, cheaply.

        The first and last lines are fresh random bytes; the middle is a run of whole lines cut
        at a random place from one pool of random bytes encoded once per stream. Base64 lines
        of 57 bytes each decode independently, so the result is valid and exactly `size` bytes
        long, and incompressible within one message. Attachments of the same stream may share
        runs of lines (never whole attachments unless the offsets and sizes happen to match);
        in exchange, multi-megabyte attachments no longer dominate the generation time.
        """
        rng = self.rng
        if self.pool is None:
            self.pool = _b64_lines(rng.randbytes(_POOL_ROWS * _ROW_BYTES))
        head = magic + rng.randbytes(_ROW_BYTES - len(magic))
        rows, tail = divmod(size - _ROW_BYTES, _ROW_BYTES)
        start = rng.randrange(_POOL_ROWS - rows + 1) * _ROW_LINE
        middle = self.pool[start : start + rows * _ROW_LINE]
        return _b64_lines(head) + middle + _b64_lines(rng.randbytes(tail))

    def _flags(self, outgoing: bool) -> tuple[str, ...]:
        rng = self.rng
        roll = rng.random()
        if outgoing:
            return ("\\Seen",) if roll < 0.97 else ("\\Seen", "\\Flagged")
        flags: list[str] = []
        if roll < 0.85:
            flags.append("\\Seen")
            if rng.random() < 0.12:
                flags.append("\\Answered")
            if rng.random() < 0.04:
                flags.append("$Forwarded")
        if rng.random() < 0.05:
            flags.append("\\Flagged")
        return tuple(flags)


def bench_corpus(count: int, seed: int = 1) -> Iterator[SeedMessage]:
    """Stream `count` realistic messages, generated one at a time.

    Sizes follow real mail: most messages 2-50 KB of text or text+HTML, a few short ones,
    a few large HTML newsletters, and about 3% with a 0.2-5 MB base64 attachment. Folders
    are INBOX (about half), Sent, Archive, Archive/2023 and Projects. Message-IDs are
    `<bench-SEED-NNNNNNN@corpus.mailmig.test>`, unique within a stream. The same
    (count, seed) always yields byte-identical messages.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    return _bench_stream(count, seed)


def _bench_stream(count: int, seed: int) -> Iterator[SeedMessage]:
    if count == 0:
        return
    generator = _BenchGenerator(seed)
    for index in range(count):
        yield generator.message(index)
