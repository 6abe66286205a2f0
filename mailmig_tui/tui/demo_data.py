"""A deterministic demo mailbox for `mailmig demo`, the snapshot tests and the screenshots.

`demo_messages(seed)` yields a few thousand realistic messages across a small folder tree
(INBOX, Sent, Drafts, Archive/2023, Projekte/Kunden, Entwürfe): German and English names
with umlauts, RFC 2047 and raw UTF-8 headers, HTML alternatives, attachments, flags and
keywords. Every choice comes from one `random.Random(seed)` and every date is fixed, so the
same seed always yields the same bytes. `write_demo_maildirs` stores them through
`MaildirStore`, exactly as the migration engine would.

No Textual here: this module is imported by the launcher before any screen exists.
"""

from __future__ import annotations

import base64
import binascii
import functools
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

from mailmig_tui.model import Message
from mailmig_tui.stores.maildir import MaildirStore

OWNER = ("Anna Schmidt", "anna.schmidt@example.com")
FOLDERS: dict[str, int] = {
    "INBOX": 1500,
    "Sent": 600,
    "Drafts": 6,
    "Archive": 0,
    "Archive.2023": 900,
    "Projekte": 0,
    "Projekte.Kunden": 240,
    "Entwürfe": 5,
}
"""Maildir folder name ("." is the Maildir++ delimiter) -> number of messages."""

_PEOPLE = [
    ("Jürgen Müller", "juergen.mueller@example.de"),
    ("Björn Weiß", "bjoern.weiss@example.de"),
    ("Zoë Dubois", "zoe.dubois@example.fr"),
    ("François Lefèvre", "f.lefevre@example.fr"),
    ("Maria García", "maria.garcia@example.es"),
    ("Peter Fischer", "peter.fischer@example.org"),
    ("Linda Chen", "linda.chen@example.net"),
    ("Ömer Yılmaz", "oemer.yilmaz@example.com.tr"),
    ("IT-Service", "it-service@example.com"),
    ("Newsletter Stadtwerke", "news@stadtwerke.example"),
    ("Grace Hopper", "grace@example.org"),
    ("Søren Kierkegaard", "soren@example.dk"),
]
_TOPICS = [
    "Angebot Nr. {n}",
    "Rechnung {n} – bitte prüfen",
    "Projektstatus KW {w}",
    "Grüße aus München",
    "Meeting notes {d}",
    "Umzug des Mailservers am {d}",
    "Änderung der Öffnungszeiten",
    "Quarterly report Q{q}",
    "Einladung: Sommerfest {y}",
    "Vertragsverlängerung Kunde {n}",
    "Urlaubsvertretung",
    "Your ticket #{n} has been updated",
    "Fotos vom Betriebsausflug",
    "Protokoll der Teamsitzung",
]
_LINES = [
    "vielen Dank für Ihre Nachricht.",
    "anbei die Unterlagen, um die Sie gebeten hatten.",
    "können wir das nächste Woche besprechen?",
    "the numbers for last quarter are attached.",
    "bitte denken Sie an die Frist am Freitag.",
    "das Büro bleibt am Brückentag geschlossen.",
    "I have updated the document with your comments.",
    "die Lieferung ist unterwegs und kommt voraussichtlich am Dienstag.",
    "ich melde mich, sobald ich Rückmeldung vom Kunden habe.",
]
_KEYWORDS = ["$Label1", "Wichtig", "$Forwarded"]
_BATCH = 250
"""Messages stored between two progress reports."""
_BASE = datetime(2024, 6, 28, 17, 45, tzinfo=UTC)
_CET, _CEST = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))


@dataclass(frozen=True)
class DemoMessage:
    folder: str
    data: bytes
    flags: tuple[str, ...]
    internaldate: datetime


@functools.cache  # the same few names and subjects recur: encode each once
def _address(name: str, addr: str, raw: bool = False) -> str:
    if name.isascii():
        return f"{name} <{addr}>"
    if raw:  # an old client that sent 8-bit UTF-8 headers without encoding them
        return f"{name} <{addr}>"
    return f"{Header(name, 'utf-8').encode()} <{addr}>"


@functools.cache
def _subject(text: str, raw: bool) -> str:
    return text if text.isascii() or raw else Header(text, "utf-8").encode()


def _local(when: datetime) -> datetime:
    return when.astimezone(_CEST if 4 <= when.month <= 10 else _CET)


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(text.replace("\n", "\r\n").encode("utf-8"), istext=True)


def _html(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (
        "<html><head><style>p { color: #333 }</style></head><body>\n"
        f"{body}<p>Mit freundlichen Grüßen<br>\n<b>Anna</b></p>\n"
        '<p><a href="https://example.com/kalender">Kalender öffnen</a></p>\n'
        "</body></html>\n"
    )


def _attachment(rng: random.Random, n: int) -> tuple[str, str, bytes]:
    kind = rng.choice(["pdf", "png", "txt"])
    size = rng.randint(2_000, 40_000)
    if kind == "pdf":
        return f"Angebot-{n}.pdf", "application/pdf", b"%PDF-1.4\n" + rng.randbytes(size)
    if kind == "png":
        return f"Foto_{n}.png", "image/png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)
    text = "\n".join(f"Posten {i};{rng.randint(1, 999)},00 €" for i in range(size // 200))
    return f"Übersicht {n}.csv", "text/csv", text.encode("utf-8")


def _body(rng: random.Random, n: int, greeting: str) -> tuple[list[str], bytes]:
    """Content headers and body: plain, plain+HTML, or with an attachment."""
    lines = [rng.choice(_LINES) for _ in range(rng.randint(1, 4))]
    paragraphs = [greeting] + [line[0].upper() + line[1:] for line in lines]
    plain = "\n\n".join(paragraphs) + "\n\nViele Grüße\nAnna\n"
    shape = rng.random()
    if shape < 0.55:
        head = [
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ]
        return head, _qp(plain)
    boundary = f"=_demo_{n:05d}"
    parts = [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\n" + _qp(plain)
    ]
    if shape < 0.85:
        parts.append(
            b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: "
            b"quoted-printable\r\n\r\n" + _qp(_html(paragraphs))
        )
        subtype = "alternative"
    else:
        name, mime, data = _attachment(rng, n)
        encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
        filename = name if name.isascii() else Header(name, "utf-8").encode()
        parts.append(
            f'Content-Type: {mime}; name="{filename}"\r\nContent-Disposition: attachment; '
            f'filename="{filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.encode()
            + encoded
        )
        subtype = "mixed"
    body = b"This is a multi-part message in MIME format.\r\n"
    for part in parts:
        body += f"--{boundary}\r\n".encode() + part
    body += f"--{boundary}--\r\n".encode()
    return [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'], body


def _message(rng: random.Random, folder: str, n: int, when: datetime) -> DemoMessage:
    outgoing = folder in ("Sent", "Drafts", "Entwürfe")
    person = rng.choice(_PEOPLE)
    raw = rng.random() < 0.05
    sender, to = (OWNER, person) if outgoing else (person, OWNER)
    topic = rng.choice(_TOPICS).format(
        n=1000 + n, w=when.isocalendar()[1], d=when.strftime("%d.%m."), q=(when.month + 2) // 3,
        y=when.year,
    )  # fmt: skip
    if rng.random() < 0.25:
        topic = "Re: " + topic
    first = person[0].split()[0] if outgoing else OWNER[0].split()[0]
    content, body = _body(rng, n, f"Hallo {first},")
    headers = [
        f"Message-ID: <demo-{n:05d}@example.com>",
        f"Date: {format_datetime(_local(when))}",
        f"From: {_address(*sender, raw=raw)}",
        f"To: {_address(*to, raw=raw)}",
        f"Subject: {_subject(topic, raw)}",
        "MIME-Version: 1.0",
        *content,
    ]
    head = "\r\n".join(headers).encode("utf-8") + b"\r\n\r\n"
    flags: list[str] = []
    age = (_BASE - when).days
    if folder in ("Drafts", "Entwürfe"):
        flags = ["\\Draft", "\\Seen"]
    elif outgoing or age > 3 or rng.random() < 0.5:
        flags.append("\\Seen")
    if not outgoing and rng.random() < 0.08:
        flags.append("\\Flagged")
    if not outgoing and rng.random() < 0.15:
        flags.append("\\Answered")
    if rng.random() < 0.04:
        flags.append(rng.choice(_KEYWORDS))
    delay = timedelta(seconds=rng.randint(2, 90))
    return DemoMessage(folder, head + body, tuple(flags), when + delay)


def demo_messages(seed: int = 2024, scale: float = 1.0) -> Iterator[DemoMessage]:
    """Every demo message, folder by folder, oldest first within a folder."""
    rng = random.Random(seed)
    n = 0
    for folder, count in FOLDERS.items():
        count = max(1, round(count * scale)) if count else 0
        start = datetime(2023, 12, 20, 9, tzinfo=UTC) if folder == "Archive.2023" else _BASE
        # One message every 20 minutes to 6 hours, going back from the start date.
        times = [start]
        for _ in range(count - 1):
            times.append(times[-1] - timedelta(minutes=rng.randint(20, 360)))
        for when in reversed(times[:count]):
            n += 1
            yield _message(rng, folder, n, when)


def make_maildir(path: Path) -> None:
    """An empty Maildir++ root (INBOX only)."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


def demo_total(scale: float = 1.0) -> int:
    """How many messages `write_demo_maildirs` writes."""
    return sum(max(1, round(n * scale)) for n in FOLDERS.values() if n)


def write_demo_maildirs(
    root: Path,
    seed: int = 2024,
    scale: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, Path]:
    """Create `root/source` filled with the demo mailbox and an empty `root/target`.

    `progress(done, total)` is called after every batch written. Nothing is fsynced: the
    mailbox is thrown away after the demo, and syncing each file made start-up slow.
    """
    source, target = root / "source", root / "target"
    make_maildir(source)
    make_maildir(target)
    total, done = demo_total(scale), 0
    store = MaildirStore(str(source), readonly=False, durable=False)
    try:
        for folder in FOLDERS:
            store.create_folder(folder)
        batch: list[Message] = []
        folder_of_batch = ""
        for demo in demo_messages(seed, scale):
            if batch and (demo.folder != folder_of_batch or len(batch) >= _BATCH):
                store.append(folder_of_batch, batch)
                done += len(batch)
                batch = []
                if progress is not None:
                    progress(done, total)
            folder_of_batch = demo.folder
            batch.append(Message(0, demo.data, demo.flags, demo.internaldate))
        if batch:
            store.append(folder_of_batch, batch)
            if progress is not None:
                progress(total, total)
    finally:
        store.close()
    return source, target


class DemoMailbox:
    """The demo's two Maildirs, written on first need by whichever pane connects first.

    `mailmig demo` starts the TUI at once; each pane's connect worker calls `prepare` (its
    `AccountSession.prepare`), which writes the mailbox once and meanwhile reports
    "writing the demo mailbox: N of M messages" to every pane waiting for it.
    """

    def __init__(self, root: Path, scale: float = 1.0) -> None:
        self.root = root
        self.scale = scale
        self.source, self.target = root / "source", root / "target"
        self._write_lock = threading.Lock()
        self._listeners_lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []
        self._written = False

    def prepare(self, report: Callable[[str], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(report)
        try:
            report(f"writing the demo mailbox: 0 of {demo_total(self.scale):,} messages")
            with self._write_lock:
                if not self._written:
                    write_demo_maildirs(self.root, scale=self.scale, progress=self._progress)
                    self._written = True
            report("opening the demo mailbox…")
        finally:
            with self._listeners_lock:
                self._listeners.remove(report)

    def _progress(self, done: int, total: int) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for report in listeners:
            report(f"writing the demo mailbox: {done:,} of {total:,} messages")
