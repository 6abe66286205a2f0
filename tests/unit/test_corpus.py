"""The test-mail generator keeps its promises: deterministic, valid to APPEND, feature-complete."""

from __future__ import annotations

import email
import email.header
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from itertools import islice

import pytest

from tests.support.corpus import (
    SeedFolder,
    SeedMessage,
    bench_corpus,
    standard_corpus,
    standard_folders,
)

ATOM = re.compile(r"^\\?[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|~]+$")
"""An IMAP flag: a system flag (backslash + atom) or a keyword atom (RFC 3501 atom-chars)."""


@pytest.fixture(scope="module")
def corpus() -> list[SeedMessage]:
    return standard_corpus()


@pytest.fixture(scope="module")
def folders() -> list[SeedFolder]:
    return standard_folders()


@pytest.fixture(scope="module")
def bench() -> list[SeedMessage]:
    return list(bench_corpus(200))


def _parse(message: SeedMessage) -> Message:
    return email.message_from_bytes(message.data)


def _header_block(message: SeedMessage) -> bytes:
    return message.data.split(b"\r\n\r\n", 1)[0]


def _decoded(value: str) -> str:
    return str(email.header.make_header(email.header.decode_header(value)))


def _digest(messages: Iterable[SeedMessage]) -> str:
    digest = hashlib.sha256()
    for message in messages:
        digest.update(repr((message.folder, message.flags, message.internaldate)).encode())
        digest.update(message.message_id.encode())
        digest.update(message.data)
    return digest.hexdigest()


def _assert_appendable(message: SeedMessage) -> None:
    data = message.data
    assert b"\x00" not in data
    assert data.endswith(b"\r\n")
    bare = data.replace(b"\r\n", b"")
    assert b"\n" not in bare and b"\r" not in bare, "line endings must be CRLF"
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert b"\r\n\r\n" in data, "headers and body must be separated"
    assert "\\Recent" not in message.flags
    assert len(set(message.flags)) == len(message.flags)
    for flag in message.flags:
        assert ATOM.match(flag), flag
    assert message.internaldate.utcoffset() is not None
    parsed = _parse(message)
    for part in parsed.walk():
        assert not part.defects, (message.message_id, part.defects)
    if message.message_id:
        assert parsed["Message-ID"] == message.message_id
    else:
        assert parsed["Message-ID"] is None


# ---- standard_folders -----------------------------------------------------------------------


def test_folders_are_parents_before_children(folders: list[SeedFolder]) -> None:
    seen: set[tuple[str, ...]] = set()
    for folder in folders:
        assert folder.parts not in seen, "each folder once"
        for depth in range(1, len(folder.parts)):
            assert folder.parts[:depth] in seen, f"{folder.parts} listed before its parent"
        seen.add(folder.parts)


def test_folders_cover_special_use_and_unicode_names(folders: list[SeedFolder]) -> None:
    by_parts = {folder.parts: folder.special_use for folder in folders}
    assert by_parts[("INBOX",)] is None
    assert by_parts[("Sent",)] == "\\Sent"
    assert by_parts[("Drafts",)] == "\\Drafts"
    assert by_parts[("Trash",)] == "\\Trash"
    assert by_parts[("Junk",)] == "\\Junk"
    assert by_parts[("Archive",)] == "\\Archive"
    assert by_parts[("Archive", "2023")] is None
    assert by_parts[("Archive", "2024")] is None
    assert by_parts[("Entwürfe",)] is None
    assert by_parts[("Gelöschte Elemente",)] is None
    assert by_parts[("Projects", "Kunden", "Müller GmbH")] is None
    assert by_parts[("Leer",)] is None


def test_standard_folders_are_deterministic() -> None:
    assert standard_folders() == standard_folders()


# ---- standard_corpus: shape --------------------------------------------------------------


def test_standard_corpus_is_deterministic(corpus: list[SeedMessage]) -> None:
    assert standard_corpus() == corpus


def test_standard_corpus_folders(corpus: list[SeedMessage], folders: list[SeedFolder]) -> None:
    known = {folder.parts for folder in folders}
    counts = Counter(message.folder for message in corpus)
    assert set(counts) <= known
    assert 55 <= len(corpus) <= 65
    assert counts.most_common(1)[0][0] == ("INBOX",)
    assert 20 <= counts[("INBOX",)] <= 30
    assert counts[("Leer",)] == 0
    assert counts[("Archive", "2023")] > 0
    assert counts[("Projects", "Kunden", "Müller GmbH")] > 0
    assert counts[("Entwürfe",)] > 0
    assert counts[("Gelöschte Elemente",)] > 0


def test_every_standard_message_is_appendable(corpus: list[SeedMessage]) -> None:
    for message in corpus:
        _assert_appendable(message)


# ---- standard_corpus: Message-IDs --------------------------------------------------------


def test_messages_without_message_id(corpus: list[SeedMessage]) -> None:
    missing = [message for message in corpus if not message.message_id]
    assert len(missing) >= 2
    for message in missing:
        assert not re.search(rb"(?im)^message-id:", _header_block(message))


def test_duplicate_message_id_pair_differs(corpus: list[SeedMessage]) -> None:
    by_id: dict[str, list[SeedMessage]] = {}
    for message in corpus:
        if message.message_id:
            by_id.setdefault(message.message_id, []).append(message)
    duplicates = [group for group in by_id.values() if len(group) > 1]
    assert len(duplicates) == 1
    first, second = duplicates[0]
    assert first.folder == second.folder
    assert first.data != second.data
    assert len(first.data) != len(second.data)


def test_message_id_format(corpus: list[SeedMessage]) -> None:
    for message in corpus:
        if message.message_id:
            assert re.fullmatch(r"<std-\d{4}@corpus\.mailmig\.test>", message.message_id)


# ---- standard_corpus: headers ------------------------------------------------------------


def test_raw_8bit_subject_and_from(corpus: list[SeedMessage]) -> None:
    raw = []
    for message in corpus:
        lines = _header_block(message).split(b"\r\n")
        eight_bit = {line.split(b":", 1)[0].lower() for line in lines if not line.isascii()}
        if eight_bit:
            raw.append(eight_bit)
    assert {b"subject", b"from"} in raw


def test_rfc2047_encoded_headers(corpus: list[SeedMessage]) -> None:
    subjects = {}
    senders = []
    for message in corpus:
        head = _header_block(message).decode("utf-8")
        match = re.search(r"(?m)^Subject: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head)
        assert match is not None
        subjects[match.group(1)] = message
        parsed = _parse(message)
        senders.append(str(parsed["From"]))
    assert "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=" in subjects
    assert _decoded("=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=") == "Grüße aus München"
    b_encoded = [value for value in subjects if "=?UTF-8?B?" in value]
    assert b_encoded
    assert any(_decoded(value).startswith("Einladung: Besprechung über") for value in b_encoded)
    latin1 = [value for value in subjects if "=?ISO-8859-1?Q?" in value]
    assert [_decoded(value) for value in latin1] == ["Bestellbestätigung für Frau Müller"]
    decoded_senders = [_decoded(sender) for sender in senders if "=?" in sender]
    assert any("Jürgen Müller" in sender for sender in decoded_senders)
    assert any("Björn Weiß" in sender for sender in decoded_senders)


# ---- standard_corpus: bodies -------------------------------------------------------------


def _attachments(message: SeedMessage) -> list[tuple[str, bytes]]:
    found = []
    for part in _parse(message).walk():
        if part.get_content_disposition() in ("attachment", "inline") and not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append((part.get_content_type(), payload))
    return found


def test_body_structures(corpus: list[SeedMessage]) -> None:
    types = Counter(_parse(message).get_content_type() for message in corpus)
    assert types["text/plain"] >= 10
    assert types["multipart/alternative"] >= 3
    assert types["multipart/mixed"] >= 2
    sizes = sorted(len(payload) for message in corpus for _, payload in _attachments(message))
    assert any(1024 <= size <= 10 * 1024 for size in sizes), "a small attachment"
    assert any(280 * 1024 <= size <= 350 * 1024 for size in sizes), "a ~300 KB attachment"
    pdfs = [
        payload
        for message in corpus
        for kind, payload in _attachments(message)
        if kind == "application/pdf"
    ]
    assert pdfs and all(payload.startswith(b"%PDF-") for payload in pdfs)


def test_html_alternative_has_both_parts(corpus: list[SeedMessage]) -> None:
    for message in corpus:
        parsed = _parse(message)
        if parsed.get_content_type() == "multipart/alternative":
            kinds = [part.get_content_type() for part in parsed.get_payload()]  # type: ignore[union-attr]
            assert kinds == ["text/plain", "text/html"]


# ---- standard_corpus: flags --------------------------------------------------------------


def test_flags_cover_system_flags_and_keywords(corpus: list[SeedMessage]) -> None:
    flags = Counter(flag for message in corpus for flag in message.flags)
    for flag in ("\\Seen", "\\Answered", "\\Flagged", "$Forwarded", "$label1", "Projekt-Alpha"):
        assert flags[flag] >= 1, flag
    assert flags["\\Deleted"] == 1
    assert "\\Recent" not in flags
    drafts = [m for m in corpus if m.folder == ("Drafts",)]
    assert drafts and any("\\Draft" in m.flags for m in drafts)
    junk = [m for m in corpus if m.folder == ("Junk",)]
    assert junk and all("$Junk" in m.flags for m in junk)
    assert all("$Junk" not in m.flags for m in corpus if m.folder != ("Junk",))


def test_unseen_messages_exist(corpus: list[SeedMessage]) -> None:
    inbox = [m for m in corpus if m.folder == ("INBOX",)]
    unseen = [m for m in inbox if "\\Seen" not in m.flags]
    assert 3 <= len(unseen) < len(inbox)


# ---- standard_corpus: dates --------------------------------------------------------------


def test_internaldates(corpus: list[SeedMessage]) -> None:
    differing = 0
    offsets = set()
    years = set()
    for message in corpus:
        internal = message.internaldate
        offset = internal.utcoffset()
        assert offset is not None
        offsets.add(offset)
        date_header = _parse(message)["Date"]
        assert date_header is not None
        sent = parsedate_to_datetime(str(date_header))
        years.add(sent.year)
        if sent != internal:
            differing += 1
    assert differing >= 5
    assert timedelta(hours=1) in offsets
    assert timedelta(hours=2) in offsets
    assert timedelta(0) in offsets
    assert set(range(2019, 2025)) <= years


# ---- bench_corpus ------------------------------------------------------------------------


def test_bench_is_lazy_and_validates_count() -> None:
    stream = bench_corpus(10**9)
    assert not isinstance(stream, list)
    first = next(iter(stream))
    assert first.message_id
    with pytest.raises(ValueError):
        bench_corpus(-1)
    assert list(bench_corpus(0)) == []


def test_bench_is_deterministic(bench: list[SeedMessage]) -> None:
    assert _digest(bench_corpus(200)) == _digest(bench)
    assert _digest(bench_corpus(50)) == _digest(bench[:50]), "a shorter run is a prefix"
    assert _digest(islice(bench_corpus(50, seed=2), 50)) != _digest(bench[:50])


def test_bench_messages_are_appendable(bench: list[SeedMessage]) -> None:
    assert len(bench) == 200
    for message in bench:
        _assert_appendable(message)
    ids = [message.message_id for message in bench]
    assert all(ids) and len(set(ids)) == len(ids)


def test_bench_size_distribution(bench: list[SeedMessage]) -> None:
    sizes = [len(message.data) for message in bench]
    typical = sum(1 for size in sizes if 2 * 1024 <= size <= 50 * 1024)
    large = [size for size in sizes if size > 200 * 1024]
    assert typical >= 0.75 * len(sizes)
    assert 1 <= len(large) <= 15, "about 3% carry a 0.2-5 MB attachment"
    assert max(sizes) < 7 * 1024 * 1024
    assert min(sizes) > 500
    for message in bench:
        if len(message.data) > 200 * 1024:
            attachments = _attachments(message)
            assert len(attachments) == 1
            assert 200_000 <= len(attachments[0][1]) <= 5_000_000


def test_bench_headers_look_real(bench: list[SeedMessage]) -> None:
    incoming = [m for m in bench if m.folder != ("Sent",)]
    assert incoming
    for message in incoming:
        parsed = _parse(message)
        assert len(parsed.get_all("Received") or []) >= 2
    types = Counter(_parse(m).get_content_type() for m in bench)
    assert types["text/plain"] > 0 and types["multipart/alternative"] > 0


def test_bench_folders_flags_and_dates(bench: list[SeedMessage]) -> None:
    folders = Counter(message.folder for message in bench)
    assert set(folders) <= {("INBOX",), ("Sent",), ("Archive",), ("Archive", "2023"), ("Projects",)}
    assert folders.most_common(1)[0][0] == ("INBOX",)
    assert len(folders) == 5
    flags = Counter(flag for message in bench for flag in message.flags)
    assert flags["\\Seen"] >= 0.7 * len(bench)
    assert flags["\\Seen"] < len(bench), "some unseen"
    for flag in ("\\Flagged", "\\Answered", "$Forwarded"):
        assert flags[flag] >= 1, flag
    years = {message.internaldate.year for message in bench}
    assert len(years) >= 5
    assert all(m.internaldate.year == 2023 or m.folder != ("Archive", "2023") for m in bench)
