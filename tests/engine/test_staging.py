"""A big folder on a target without LITERAL+ (Courier, stood in for by Dovecot with its
capabilities cut) is appended over several connections through hidden staging folders,
then moved in: byte for byte, in source UID order, journaled, and no staging folder left,
also when an interrupted run left one behind. A part whose message was throttled is not
moved in, so the folder holds its source's beginning with no gap."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import ImapStore, connect_imap
from mailmig_tui.stores.imap_staging import Moved
from tests.engine.test_parallel_fetch import (
    COURIER_CAPS,
    assert_same_in_order,
    copy_all,
    digests,
    inbox_source,
    small_batches,
    spec,
)
from tests.support.dovecot import DovecotServer
from tests.support.faultproxy import FaultProxy

__all__ = ["inbox_source"]  # a fixture this module uses

STAGING = "mailmig-staging-"
THROTTLED = b"NO [UNAVAILABLE] Request is throttled. Suggested Backoff Time: 200 milliseconds"


@pytest.fixture
def courier_target() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="courier", capabilities=COURIER_CAPS + " MOVE").start()
    yield server
    server.cleanup()


def staging_folders(server: DovecotServer, user: str) -> list[str]:
    client = server.client(user)
    try:
        return [str(name) for _f, _d, name in client.list_folders() if STAGING in str(name)]
    finally:
        client.logout()


def count_moves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    moved: list[str] = []
    original = ImapStore.move_staged

    def counting(self: ImapStore, staging: str, folder: str) -> Moved:
        answer = original(self, staging, folder)
        moved.append(staging)
        return answer

    monkeypatch.setattr(ImapStore, "move_staged", counting)
    return moved


def test_a_big_folder_is_staged_over_more_connections_and_keeps_its_order(
    slash_server: DovecotServer,
    courier_target: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moved = count_moves(monkeypatch)
    settings = small_batches(
        connections=6, fetch_helpers=0, staging_min_messages=40, staging_parts=3
    )
    target_user, _fetchers = copy_all(
        slash_server, inbox_source, courier_target, tmp_path, settings
    )
    assert len(moved) == 2  # INBOX (108 messages) in three parts: two were staged
    assert_same_in_order(slash_server, inbox_source, courier_target, target_user)
    assert staging_folders(courier_target, target_user) == []
    # Every staged message is journaled with its UID in INBOX: nothing is left to copy.
    source = connect_imap(
        spec(slash_server, inbox_source), slash_server.password(inbox_source), readonly=True
    )
    target_spec = spec(courier_target, target_user)
    target = connect_imap(target_spec, courier_target.password(target_user), readonly=True)
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        plan = build_plan(source.spec, target_spec, source, target, journal, CopyOptions())
        assert sum(len(work.to_copy) for work in plan.folders) == 0
        inbox = next(w for w in plan.folders if w.mapping.source == "INBOX")
        entries = journal.entries(inbox.key)
        assert len(entries) == inbox.selected
        assert all(entry.target_uid is not None for entry in entries.values())
    finally:
        journal.close()
        source.close()
        target.close()


def test_what_an_interrupted_run_left_in_a_staging_folder_is_deleted_not_copied_twice(
    slash_server: DovecotServer,
    courier_target: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target_user = courier_target.new_user()
    # A crashed run's staging folder, holding copies that were never moved or journaled.
    store = connect_imap(
        spec(courier_target, target_user), courier_target.password(target_user), readonly=False
    )
    leftover, unused = store.staging_name("INBOX", 1), store.staging_name("INBOX", 3)
    assert leftover is not None and unused is not None and STAGING in leftover
    source = slash_server.client(inbox_source)
    source.select_folder("INBOX", readonly=True)
    first = source.fetch(source.search(["ALL"])[:3], ["BODY.PEEK[]"])
    source.logout()
    for name in (leftover, unused):  # part 3: a name this run does not stage in
        store.create_folder(name)
        for data in first.values():
            store.client.append(name, data[b"BODY[]"])
    store.close()

    moved = count_moves(monkeypatch)
    settings = small_batches(
        connections=6, fetch_helpers=0, staging_min_messages=40, staging_parts=2
    )
    monkeypatch.setattr(courier_target, "new_user", lambda: target_user)
    copy_all(slash_server, inbox_source, courier_target, tmp_path, settings)
    assert moved == [leftover]
    assert_same_in_order(slash_server, inbox_source, courier_target, target_user)
    assert staging_folders(courier_target, target_user) == []


def test_a_throttled_message_keeps_its_staged_part_out_and_the_folder_in_order(
    slash_server: DovecotServer,
    courier_target: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
) -> None:
    # The first APPEND into a staging folder is answered "slow down" (Exchange's words), as
    # a throttling server does; the server never sees it.
    target_user = courier_target.new_user()
    with FaultProxy(courier_target.imap_port) as proxy:
        throttle = proxy.answer(rb'^\S+ APPEND "?[^"]*' + STAGING.encode(), THROTTLED, times=1)
        source_spec, target_spec = (
            spec(slash_server, inbox_source),
            spec(courier_target, target_user),
        )
        target_spec = replace(target_spec, port=proxy.port)
        password = slash_server.password(inbox_source), courier_target.password(target_user)

        def open_source() -> MailStore:
            return connect_imap(source_spec, password[0], readonly=True)

        def open_target() -> MailStore:
            return connect_imap(target_spec, password[1], readonly=False)

        source, target = open_source(), open_target()
        journal = Journal(tmp_path / "journal.sqlite3")
        try:
            plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
            settings = small_batches(
                connections=6, fetch_helpers=0, staging_min_messages=40, staging_parts=3
            )
            report = copy_folders(
                plan,
                source=source,
                target=target,
                open_source=open_source,
                open_target=open_target,
                journal=journal,
                settings=settings,
            )
        finally:
            source.close()
            target.close()
            journal.close()
    assert throttle.hits == 1
    inbox = next(f for f in report.folders if f.source == "INBOX")
    assert report.failed == 0 and inbox.copied < inbox.source_messages
    # What reached INBOX is its source's beginning, in order, with no gap a re-run would
    # fill at the end: the part missing a message was not moved in.
    wanted = digests(slash_server, inbox_source, "INBOX")
    got = digests(courier_target, target_user, "INBOX")
    assert 0 < len(got) < len(wanted) and got == wanted[: len(got)]
