"""A text search split over several connections finds exactly what the single search finds,
opens no more connections than allowed, survives a helper that cannot connect, and lets a
cancelled caller go without waiting. Forced to split on a small folder by `split_from`
(speed itself is measured by bench/big_folder.py, never asserted here)."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator

import pytest

from mailmig_tui.engine.split_search import Helper, split_search, uid_ranges
from mailmig_tui.errors import ConnectError
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import MailStore, SearchQuery
from mailmig_tui.stores.imap import ImapStore, connect_imap
from tests.support.dovecot import DovecotServer, running

SERVERS = {
    "esearch (Dovecot)": None,
    "no esearch": "IMAP4rev1 SASL-IR ID ENABLE IDLE UNSELECT CHILDREN NAMESPACE UIDPLUS"
    " MULTIAPPEND SORT",
}
COUNT = 120
NEEDLES = 1 + (COUNT - 1) // 7
"""Messages 0, 7, 14, ... hold the text searched for, in their bodies only."""


@pytest.fixture(scope="module", params=list(SERVERS), ids=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[DovecotServer]:
    yield from running(DovecotServer(shape="courier", capabilities=SERVERS[request.param]))


@pytest.fixture(scope="module")
def spec(server: DovecotServer) -> AccountSpec:
    user = server.new_user()
    client = server.client(user)
    try:
        batch = [
            {
                "msg": (
                    f"Message-ID: <s-{n}@example.com>\r\nSubject: report {n}\r\n\r\n"
                    f"body {n} {'haystack needle' if n % 7 == 0 else 'plain hay'}\r\n"
                ).encode(),
                "flags": (),
            }
            for n in range(COUNT)
        ]
        client.multiappend("INBOX", batch)
    finally:
        client.logout()
    return AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )


class Helpers:
    """Helper connections that count themselves and record the searches they send."""

    def __init__(self, server: DovecotServer, spec: AccountSpec, count: int) -> None:
        self.server, self.spec = server, spec
        self.opened = 0
        self.searches: list[bytes] = []
        self.lock = threading.Lock()
        self.all: list[Helper] = [self.open for _ in range(count)]

    @contextlib.contextmanager
    def open(self) -> Iterator[MailStore]:
        store = connect_imap(self.spec, self.server.password(self.spec.user), readonly=True)
        with self.lock:
            self.opened += 1
        imap = store.client._imap
        original = imap.send

        def send(data: bytes) -> None:
            if b"SEARCH" in data:
                with self.lock:
                    self.searches.append(bytes(data))
            original(data)

        imap.send = send
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def main(server: DovecotServer, spec: AccountSpec) -> Iterator[ImapStore]:
    store = connect_imap(spec, server.password(spec.user), readonly=True)
    yield store
    store.close()


def test_split_search_finds_what_the_single_search_finds(
    server: DovecotServer, spec: AccountSpec, main: ImapStore
) -> None:
    query = SearchQuery(text="haystack needle")
    single = main.search("INBOX", query)
    assert len(single) == NEEDLES
    helpers = Helpers(server, spec, 2)
    split = split_search(main, "INBOX", query, helpers=helpers.all, split_from=10)
    assert split == single
    assert helpers.opened == 1  # MAX_PARTS
    # The helper searched a range of its own, open-ended.
    ranges = sorted(re.findall(rb" UID (\S+) TEXT", b"".join(helpers.searches)))
    assert ranges == [b"61:*"]  # the caller's own connection searched 1:60
    assert split_search(main, "INBOX", SearchQuery(text="nothing like it"),
                        helpers=helpers.all, split_from=10) == []  # fmt: skip


def test_the_connection_cap_bounds_the_parts(
    server: DovecotServer, spec: AccountSpec, main: ImapStore
) -> None:
    query = SearchQuery(text="haystack needle")
    helpers = Helpers(server, spec, 5)
    found = split_search(main, "INBOX", query, helpers=helpers.all, cap=1, split_from=10)
    assert found == main.search("INBOX", query)
    assert helpers.opened == 0  # the caller's connection alone
    helpers = Helpers(server, spec, 5)
    split_search(main, "INBOX", query, helpers=helpers.all, split_from=10)
    assert helpers.opened == 1  # MAX_PARTS: never more than two connections


def test_small_folders_and_header_searches_are_not_split(
    server: DovecotServer, spec: AccountSpec, main: ImapStore
) -> None:
    helpers = Helpers(server, spec, 2)
    query = SearchQuery(text="haystack needle")
    assert split_search(main, "INBOX", query, helpers=helpers.all) == main.search("INBOX", query)
    subject = SearchQuery(subject="report 7")
    assert split_search(main, "INBOX", subject, helpers=helpers.all, split_from=10) == (
        main.search("INBOX", subject)
    )
    assert helpers.opened == 0


def test_a_helper_that_cannot_connect_costs_only_speed(
    server: DovecotServer, spec: AccountSpec, main: ImapStore
) -> None:
    def refused() -> contextlib.AbstractContextManager[MailStore]:
        raise ConnectError("too many connections from this IP", "try again later")

    query = SearchQuery(text="haystack needle")
    found = split_search(main, "INBOX", query, helpers=[refused], split_from=10)
    assert found == main.search("INBOX", query)  # the helper's range searched here after


def test_a_cancelled_search_does_not_wait_for_its_helpers(
    spec: AccountSpec, main: ImapStore
) -> None:
    release = threading.Event()
    cancel = threading.Event()

    @contextlib.contextmanager
    def stuck() -> Iterator[MailStore]:
        cancel.set()  # the caller gives up while this helper is still connecting
        release.wait()
        raise ConnectError("gone", "")
        yield main  # never reached

    query = SearchQuery(text="haystack needle")
    try:
        found = split_search(
            main, "INBOX", query, helpers=[stuck], split_from=10, cancelled=cancel.is_set
        )
    finally:
        release.set()
    assert found == []


def test_uid_ranges_cover_every_uid_once() -> None:
    uids = [3, 4, 9, 10, 11, 20, 21, 30, 31, 40]
    assert uid_ranges(uids, 3) == ["3:10", "11:30", "31:*"]
    assert uid_ranges([5], 3) == ["5:*"]
    assert uid_ranges(list(range(1, 101)), 2) == ["1:50", "51:*"]
