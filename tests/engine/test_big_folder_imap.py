"""Listing, ordering and searching an IMAP folder take the compact fast paths (ESEARCH,
ESORT) where Dovecot offers them, and give the same answers on servers cut down to SORT
only or to neither (speed itself is measured by bench/big_folder.py, never asserted here)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.imap import ImapStore, connect_imap
from mailmig_tui.stores.imap_esearch import compact, esearch_all, parse_sequence_set
from tests.support.dovecot import DovecotServer, running

BASE_CAPS = (
    "IMAP4rev1 SASL-IR ID ENABLE IDLE UNSELECT CHILDREN NAMESPACE UIDPLUS LITERAL+ MULTIAPPEND"
)
SERVERS = {
    "esearch+esort (Dovecot)": None,
    "sort only": BASE_CAPS + " SORT",
    "neither (Courier-like)": BASE_CAPS,
}
COUNT = 240
GONE = {5, 6, 7, 100, 239}
"""Expunged after seeding: the UID set has holes, so sequence sets have several ranges."""


@pytest.fixture(scope="module", params=list(SERVERS), ids=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[DovecotServer]:
    yield from running(DovecotServer(shape="courier", capabilities=SERVERS[request.param]))


@pytest.fixture(scope="module")
def seeded(server: DovecotServer) -> tuple[str, dict[int, datetime], dict[int, str]]:
    """A folder whose arrival order is not its UID order; returns dates and subjects by UID."""
    user = server.new_user()
    rng = random.Random(3)
    minutes = rng.sample(range(100_000), COUNT)  # distinct: no ties in the arrival order
    client = server.client(user)
    try:
        batch = []
        for n, minute in enumerate(minutes):
            subject = "Grüße aus Köln" if n % 50 == 0 else f"Report {n} topic {n % 7}"
            data = (
                f"Message-ID: <big-{n}@example.com>\r\nFrom: a@example.com\r\n"
                f"Subject: =?utf-8?q?={subject.encode().hex('=').upper()}?=\r\n\r\n"
                f"body {n} {'needle' if n % 30 == 0 else 'hay'}\r\n"
            )
            when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
            batch.append({"msg": data.encode(), "flags": (), "date": when})
        client.multiappend("INBOX", batch)
        client.select_folder("INBOX")
        uids = sorted(client.search(["ALL"]))
        client.delete_messages([uids[i] for i in sorted(GONE)])
        client.expunge()
    finally:
        client.logout()
    dates = {
        uid: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes[i])
        for i, uid in enumerate(uids)
        if i not in GONE
    }
    subjects = {
        uid: "Grüße aus Köln" if i % 50 == 0 else f"Report {i} topic {i % 7}"
        for i, uid in enumerate(uids)
        if i not in GONE
    }
    return user, dates, subjects


@pytest.fixture
def store(server: DovecotServer, seeded: tuple[str, object, object]) -> Iterator[ImapStore]:
    user = seeded[0]
    spec = AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )
    store = connect_imap(spec, server.password(user), readonly=True)
    yield store
    store.close()


def _sent_commands(store: ImapStore) -> list[bytes]:
    """Record every line the client sends (observes the real connection, changes nothing)."""
    sent: list[bytes] = []
    imap = store.client._imap
    original = imap.send

    def send(data: bytes) -> None:
        sent.append(bytes(data))
        original(data)

    imap.send = send
    return sent


def test_listing_order_and_search_match_the_folder_on_every_server(
    server: DovecotServer,
    store: ImapStore,
    seeded: tuple[str, dict[int, datetime], dict[int, str]],
) -> None:
    _user, dates, subjects = seeded
    sent = _sent_commands(store)
    assert store.uids("INBOX") == sorted(dates)
    assert store.newest_first("INBOX") == sorted(dates, key=lambda u: dates[u], reverse=True)
    topic = store.search("INBOX", SearchQuery(subject="topic 3"))
    assert topic == sorted(u for u, s in subjects.items() if s.endswith("topic 3"))
    assert topic  # the search can fail: it has matches to get right
    greeting = store.search("INBOX", SearchQuery(subject="Grüße"))
    assert greeting == sorted(u for u, s in subjects.items() if s.startswith("Grüße"))
    assert store.search("INBOX", SearchQuery(text="nothing-like-this")) == []
    since = datetime(2020, 2, 1, tzinfo=UTC)
    later = store.search("INBOX", SearchQuery(since=since))
    assert later == sorted(u for u, d in dates.items() if d.date() >= since.date())
    assert 0 < len(later) < len(dates)
    compact_answers = any(b"RETURN (ALL)" in line for line in sent)
    assert compact_answers == (server.capabilities is None)


def test_uids_sorted_and_newest_first_agree_with_summaries(
    store: ImapStore, seeded: tuple[str, dict[int, datetime], dict[int, str]]
) -> None:
    """The order shown is the arrival order the rows' INTERNALDATEs say."""
    order = store.newest_first("INBOX")
    rows = store.summaries("INBOX", order[:20])
    assert [r.uid for r in rows] == order[:20]
    stamps = [r.internaldate for r in rows]
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]


def test_sequence_sets_round_trip() -> None:
    assert parse_sequence_set("1:3,7,9:8") == [1, 2, 3, 7, 9, 8]
    assert compact([7, 1, 2, 3, 9, 10]) == "1:3,7,9:10"
    assert esearch_all(b'(TAG "A5") UID ALL 4,1:2 COUNT 3') == [4, 1, 2]
    assert esearch_all(b'(TAG "A6") UID COUNT 0') == []


def test_sizes_by_sequence_set_match_each_message(
    store: ImapStore, seeded: tuple[str, dict[int, datetime], dict[int, str]]
) -> None:
    """Plans take the sizes in one FETCH per range set; every asked UID that exists."""
    _user, dates, _subjects = seeded
    uids = sorted(dates)
    asked = [*uids[::3], max(uids) + 50]  # scattered, and one that does not exist
    sizes = {p.uid: p.size for p in store.sizes("INBOX", asked)}
    each = {s.uid: s.size for s in store.summaries("INBOX", uids[::3])}
    assert sizes == each
    assert sorted(p.uid for p in store.sizes("INBOX", uids)) == uids
