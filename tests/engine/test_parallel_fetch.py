"""The throughput paths of issue 12 are correct (speed itself is measured by bench/):
a folder fetched over several source connections arrives complete, byte for byte, in
source UID order; one connection still works; a target without LITERAL+ and MULTIAPPEND
takes the synchronising-literal pipeline and keeps order too."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from mailmig_tui.engine.events import CopyEvent
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, build_plan
from mailmig_tui.engine.runner import copy_folders, plan_connections
from mailmig_tui.model import AccountSpec, Message, Security
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import ImapStore, connect_imap
from tests.support.corpus import bench_corpus
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_bulk

COURIER_CAPS = "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT UNSELECT CHILDREN NAMESPACE UIDPLUS"


def spec(server: DovecotServer, user: str) -> AccountSpec:
    return AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )


def digests(server: DovecotServer, user: str, folder: str) -> list[str]:
    return [
        hashlib.sha256(e[b"BODY[]"]).hexdigest()  # type: ignore[arg-type]
        for e in folder_contents(server, user, folder)
    ]


@pytest.fixture(scope="module")
def inbox_source(slash_server: DovecotServer) -> str:
    """120 messages, all in INBOX: one big folder, as most real mailboxes are."""
    user = slash_server.new_user()
    seed_bulk(
        slash_server,
        user,
        (
            replace(m, folder=("INBOX",)) if i % 10 else m
            for i, m in enumerate(bench_corpus(120, seed=21))
        ),
        batch_bytes=2_000_000,
    )
    return user


def copy_all(
    source_server: DovecotServer,
    source_user: str,
    target_server: DovecotServer,
    tmp_path: Path,
    settings: CopySettings,
    *,
    inbox_waits_for_a_helper: bool = False,
) -> tuple[str, dict[str, set[str]]]:
    """Copy everything; returns the target user and, per fetching thread name, the source
    folders it fetched for (recorded through the opened source connections).

    With `inbox_waits_for_a_helper`, the first connection to fetch INBOX holds its first
    batch until another connection has fetched one of INBOX's: on a fast machine it could
    otherwise read the whole folder before a pooled connection has logged in."""
    target_user = target_server.new_user()
    source_spec, target_spec = spec(source_server, source_user), spec(target_server, target_user)
    fetchers: dict[str, set[str]] = {}
    lock = threading.Lock()

    helper_fetched = threading.Event()
    first_inbox_fetcher: list[str] = []

    class CountingSource(ImapStore):
        def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
            me = str(id(self))
            with lock:
                fetchers.setdefault(me, set()).add(folder)
                if folder == "INBOX" and not first_inbox_fetcher:
                    first_inbox_fetcher.append(me)
                first = folder == "INBOX" and first_inbox_fetcher == [me]
            if inbox_waits_for_a_helper and folder == "INBOX":
                if first:
                    # Times out (and the count below fails) if no helper ever comes.
                    helper_fetched.wait(timeout=30)
                else:
                    helper_fetched.set()
            return super().fetch(folder, uids)

    def open_source() -> MailStore:
        store = connect_imap(source_spec, source_server.password(source_user), readonly=True)
        return CountingSource(store.client, store.spec, readonly=True)

    def open_target() -> MailStore:
        return connect_imap(target_spec, target_server.password(target_user), readonly=False)

    source, target = open_source(), open_target()
    journal = Journal(tmp_path / "journal.sqlite3")
    plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
    events: list[CopyEvent] = []
    report = copy_folders(
        plan,
        source=source,
        target=target,
        open_source=open_source,
        open_target=open_target,
        journal=journal,
        on_event=events.append,
        settings=settings,
    )
    source.close()
    target.close()
    journal.close()
    assert report.error == "" and report.failed == 0
    assert report.copied == sum(f.source_messages for f in report.folders) > 0
    return target_user, fetchers


def assert_same_in_order(
    source: DovecotServer, source_user: str, target: DovecotServer, target_user: str
) -> None:
    client = source.client(source_user)
    try:
        folders = [str(name) for flags, _d, name in client.list_folders()]
    finally:
        client.logout()
    for folder in folders:
        wanted = digests(source, source_user, folder)
        target_name = target.folder_name(tuple(folder.split(source.delimiter)))
        # Byte for byte, and in source UID order (folder_contents reads by ascending UID).
        assert digests(target, target_user, target_name) == wanted, folder


def small_batches(**overrides: int) -> CopySettings:
    return CopySettings(batch_messages=5, **overrides)  # type: ignore[arg-type]


def test_a_folder_fetched_over_pooled_connections_arrives_whole_and_in_order(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
) -> None:
    # 6 connections: 3 folder workers and a pool of 3; one folder may use 2 helpers.
    settings = small_batches(connections=6, fetch_helpers=2)
    target_user, fetchers = copy_all(
        slash_server,
        inbox_source,
        courier_server,
        tmp_path,
        settings,
        inbox_waits_for_a_helper=True,
    )
    inbox_fetchers = [key for key, folders in fetchers.items() if "INBOX" in folders]
    # Its own connection and one or two from the pool (the pool is shared with the other
    # folders' workers, so how many INBOX gets depends on who asks first).
    assert 2 <= len(inbox_fetchers) <= 3
    assert_same_in_order(slash_server, inbox_source, courier_server, target_user)


def test_one_connection_still_copies_everything_in_order(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
) -> None:
    target_user, fetchers = copy_all(
        slash_server, inbox_source, courier_server, tmp_path, small_batches(connections=1)
    )
    assert len(fetchers) == 1  # the planning connection, nothing else
    assert_same_in_order(slash_server, inbox_source, courier_server, target_user)


@pytest.fixture(scope="module")
def courier_like_target() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="courier", capabilities=COURIER_CAPS).start()
    yield server
    server.cleanup()


def test_a_target_without_literal_plus_takes_the_synchronising_pipeline(
    slash_server: DovecotServer,
    courier_like_target: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mailmig_tui.stores import imap_append

    sent: list[int] = []
    original: Callable[..., imap_append.SentAppend] = imap_append.send_synchronising

    def counting(*args: object) -> imap_append.SentAppend:
        sent.append(1)
        return original(*args)

    monkeypatch.setattr(imap_append, "send_synchronising", counting)
    target_user, _fetchers = copy_all(
        slash_server, inbox_source, courier_like_target, tmp_path, small_batches(connections=4)
    )
    assert len(sent) == 120  # every message went through the new path
    assert_same_in_order(slash_server, inbox_source, courier_like_target, target_user)


def test_connections_are_split_between_folder_pairs_and_the_fetch_pool() -> None:
    assert plan_connections(1, 5) == (1, 0)
    assert plan_connections(8, 5) == (5, 3)
    assert plan_connections(4, 5) == (2, 2)
    assert plan_connections(8, 1) == (1, 7)
    for connections in range(1, 21):
        for folders in range(1, 8):
            workers, pooled = plan_connections(connections, folders)
            assert workers + pooled <= connections and workers >= 1
