"""A hostile corpus: mail and folder names that break naive migration tools.

Deterministic bytes, built by hand (never by the `email` package, which would repair them):
bare LF and bare CR line endings, LF mixed with CRLF, raw 8-bit headers, a 10,000-character
header line, a 100,000-character body line, no headers at all (once with a body that looks
like headers), no Date, no Message-ID, two Message-ID headers, one Message-ID on different
messages (also with equal size and date: a content-identity collision), a NUL byte, MIME
nested 50 deep, one very large message, an empty folder, and folder names with spaces,
quotes, backslashes, `%`, `*`, `&`, the target's delimiter, emoji and CJK, one below a
parent that is \\Noselect.

Seed it with `seeding.seed_bulk` (MULTIAPPEND sends literals untouched), never with imaplib's
`append`, which rewrites every bare CR and LF into CRLF before sending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.corpus import SeedFolder, SeedMessage

FOLDER_NAMES = (
    "with space",
    'quo"te',
    "back\\slash",
    "per%cent",
    "st*ar",
    "amp&ersand",
    "dot.name",
    "emoji \U0001f4ec",
    "中文 フォルダ",
)
EMPTY = "Empty"
NOSELECT_CHILD = ("Parent", "Child")
"""On a "/" Dovecot with LAYOUT=fs, creating Parent/Child alone leaves Parent \\Noselect."""

_BASE = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def hostile_folders() -> list[SeedFolder]:
    names = [(n,) for n in FOLDER_NAMES] + [(EMPTY,), NOSELECT_CHILD]
    return [SeedFolder(parts, None) for parts in names]


def _message(
    number: int, data: bytes, folder: tuple[str, ...] = ("INBOX",), message_id: str = ""
) -> SeedMessage:
    when = _BASE + timedelta(hours=number)
    return SeedMessage(folder, data, ("\\Seen",) if number % 2 else (), when, message_id)


def _plain(number: int, subject: str, body: bytes, extra: bytes = b"") -> bytes:
    return (
        f"From: Hostile Sender <hostile{number}@hostile.test>\r\n"
        f"To: victim@hostile.test\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Thu, 4 Mar 2021 05:06:{number % 60:02d} +0000\r\n"
        f"Message-ID: <hostile-{number}@hostile.test>\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def _nested_mime(depth: int) -> bytes:
    head = (
        b"From: nest@hostile.test\r\nSubject: 50 levels of MIME\r\n"
        b"Message-ID: <nested@hostile.test>\r\nMIME-Version: 1.0\r\n"
    )
    parts = [head]
    for level in range(depth):
        parts.append(
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
        )
    parts.append(b"Content-Type: text/plain\r\n\r\nthe bottom\r\n")
    for level in reversed(range(depth)):
        parts.append(f"--b{level}--\r\n".encode())
    return b"".join(parts)


def big_message(size: int) -> bytes:
    """A plain message of about `size` bytes: base64-looking lines, a few MB per second."""
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n"
    head = _plain(99, "one very large message", b"", b"Content-Transfer-Encoding: base64\r\n")
    return head + line * max(1, (size - len(head)) // len(line))


def hostile_messages(big: int = 60 * 1024 * 1024) -> list[SeedMessage]:
    """The messages; `big` is the size of the large one (0 leaves it out)."""
    same_id = "<same-id@hostile.test>"
    twin_a = _plain(20, "twin", b"body A\r\n", f"X-Twin: {same_id}\r\n".encode())
    twin_b = _plain(20, "twin", b"body B\r\n", f"X-Twin: {same_id}\r\n".encode())
    twin_a = twin_a.replace(b"<hostile-20@hostile.test>", same_id.encode())
    twin_b = twin_b.replace(b"<hostile-20@hostile.test>", same_id.encode())
    messages = [
        _message(
            1, b"From: lf@hostile.test\nSubject: bare LF only\nDate: Thu, 4 Mar 2021\n\na\nb\n"
        ),
        _message(2, _plain(2, "CRLF mixed with LF", b"crlf line\r\nlf line\nend\r\n")),
        _message(3, _plain(3, "bare CR", b"old mac\rline endings\rhere\r\n")),
        _message(
            4,
            "From: Jürgen Müller <j@hostile.test>\r\nSubject: Grüße aus Köln, 日本語\r\n".encode()
            + b"X-Latin1: Gr\xfc\xdfe\r\n"
            + b"Message-ID: <eightbit@hostile.test>\r\n\r\nraw 8-bit headers\r\n",
        ),
        _message(5, _plain(5, "long header", b"x\r\n", b"X-Long: " + b"h" * 10_000 + b"\r\n")),
        _message(6, _plain(6, "long body line", b"b" * 100_000 + b"\r\n")),
        _message(7, b"\r\nThis message has no header lines at all.\r\n"),
        # No headers either; the body's first lines only look like some.
        _message(16, b"\r\nSubject: body text, not a header\r\nFrom: the body too\r\n"),
        _message(
            8,
            _plain(8, "no date", b"x\r\n").replace(
                b"Date: Thu, 4 Mar 2021 05:06:08 +0000\r\n", b""
            ),
        ),
        _message(
            9,
            _plain(9, "no message-id", b"x\r\n").replace(
                b"Message-ID: <hostile-9@hostile.test>\r\n", b""
            ),
        ),
        _message(10, _plain(10, "two ids", b"x\r\n", b"Message-ID: <second@hostile.test>\r\n")),
        _message(
            11, _plain(11, "same id, one size", b"short\r\n").replace(b"<hostile-11@", b"<shared@")
        ),
        _message(
            12,
            _plain(12, "same id, other size", b"longer body\r\n").replace(
                b"<hostile-12@", b"<shared@"
            ),
        ),
        _message(13, _plain(13, "a NUL byte", b"before\x00after\r\n")),
        _message(14, _nested_mime(50)),
        # Same Message-ID, size and INTERNALDATE, different bytes: one content identity.
        SeedMessage(("INBOX",), twin_a, (), _BASE, same_id),
        SeedMessage(("INBOX",), twin_b, (), _BASE, same_id),
        _message(15, b"Subject: no final newline\r\n\r\nends here"),
    ]
    for index, name in enumerate(FOLDER_NAMES):
        messages.append(_message(30 + index, _plain(30 + index, f"in {name}", b"x\r\n"), (name,)))
    messages.append(_message(50, _plain(50, "below a \\Noselect", b"x\r\n"), NOSELECT_CHILD))
    if big:
        messages.append(_message(60, big_message(big)))
    return messages


def as_fetched(data: bytes) -> bytes:
    """What Dovecot 2.3 gives back for `data` appended raw: it stores lines with LF and sends
    every LF as CRLF (bare LF becomes CRLF; a bare CR stays), and it sends a NUL as 0x80
    (NUL is not allowed in an IMAP literal; only BINARY's literal8 could carry it)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").replace(b"\0", b"\x80")
