"""The pipelined paths of issue 12 give the same answers as one command at a time.

- Planning asks every folder at once (STATUS, EXAMINE + UID FETCH 1:*): the answers equal
  folder-by-folder ones, also around a folder the server refuses and for empty folders;
  a target folder found empty is not probed.
- A MULTIAPPEND that spans several batches and is refused (one message too big) is resent
  message by message before anything later is stored (the one streaming after it is
  withdrawn, then sent again): the rest keep their source order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from mailmig_tui.engine.events import CopyReport
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, Plan, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores import imap_append
from mailmig_tui.stores.base import HeaderProbe
from mailmig_tui.stores.imap import ImapStore, connect_imap
from tests.support.corpus import bench_corpus
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_bulk

SIZE_LIMIT = 60_000
"""The limited target's quota_max_mail_size: a few corpus messages are larger."""


def spec(server: DovecotServer, user: str) -> AccountSpec:
    return AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )


def store(server: DovecotServer, user: str, *, readonly: bool = True) -> ImapStore:
    return connect_imap(spec(server, user), server.password(user), readonly=readonly)


def copy_with(
    plan: Plan, source: ImapStore, target: ImapStore, journal: Journal, settings: CopySettings
) -> CopyReport:
    """Run `plan` over these two open stores only (no other connection opened), quietly."""
    return copy_folders(
        plan,
        source=source,
        target=target,
        open_source=lambda: source,
        open_target=lambda: target,
        journal=journal,
        on_event=lambda e: None,
        settings=settings,
    )


@pytest.fixture(scope="module")
def folders_source(slash_server: DovecotServer) -> str:
    """60 messages over INBOX, Archive, Archive/2023, Projects and Sent, plus an empty
    folder with a non-ASCII name."""
    user = slash_server.new_user()
    seed_bulk(slash_server, user, bench_corpus(60, seed=5), batch_bytes=2_000_000)
    client = slash_server.client(user)
    try:
        client.create_folder("Entwürfe")
    finally:
        client.logout()
    return user


def test_pipelined_statuses_and_sizes_equal_one_folder_at_a_time(
    slash_server: DovecotServer, folders_source: str
) -> None:
    source = store(slash_server, folders_source)
    try:
        listed = [f for f in source.list_folders(with_status=True) if f.selectable]
        names = [f.name for f in listed]
        assert "Entwürfe" in names and len(names) >= 5
        # (The listing also guesses roles from names, such as Drafts for "Entwürfe".)
        assert [replace(f, special_use=None) for f in listed] == [
            replace(source.folder_status(name), special_use=None) for name in names
        ]

        # A folder the server refuses sits between two real ones: it is left out, and the
        # folder after it still gets its own answer, not the refused one's or its neighbour's.
        asked = [names[0], "No such folder", *names[1:]]
        sizes = source.uid_sizes(asked)
        assert set(sizes) == set(names)
        for name in names:
            uids = source.uids(name)
            expected = {p.uid: p.size for p in source.sizes(name, uids)} if uids else {}
            assert sizes[name] == expected, name
        assert sum(len(s) for s in sizes.values()) == 60
        assert sizes["Entwürfe"] == {}
        # The store still works normally afterwards (no response of the pipeline left over).
        assert source.uids(names[0]) == sorted(sizes[names[0]])
    finally:
        source.close()


def test_a_target_folder_found_empty_is_not_probed(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    folders_source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target_user = courier_server.new_user()
    source_spec, target_spec = spec(slash_server, folders_source), spec(courier_server, target_user)
    journal = Journal(tmp_path / "journal.sqlite3")
    source = store(slash_server, folders_source)
    target = store(courier_server, target_user, readonly=False)
    try:
        plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
        report = copy_with(plan, source, target, journal, CopySettings(connections=1))
        assert report.copied == 60
        # Someone empties the target's INBOX: the journal still names copies there.
        admin = courier_server.client(target_user)
        try:
            admin.select_folder("INBOX")
            admin.delete_messages(admin.search(["ALL"]))
            admin.expunge()
        finally:
            admin.logout()
        probed: list[str] = []
        original = ImapStore.probes

        def counting(self: ImapStore, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
            probed.append(folder)
            return original(self, folder, uids)

        monkeypatch.setattr(ImapStore, "probes", counting)
        again = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
        inbox = next(w for w in again.folders if w.mapping.source == "INBOX")
        assert len(inbox.to_copy) == inbox.selected > 0 and inbox.present == 0
        assert again.messages_to_copy == len(inbox.to_copy)  # the other folders are there
        assert "INBOX" not in probed  # neither side probed for a folder with nothing to match
    finally:
        source.close()
        target.close()
        journal.close()


@pytest.fixture(scope="module")
def limited_target() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="courier", max_mail_size=SIZE_LIMIT).start()
    yield server
    server.cleanup()


def digests(server: DovecotServer, user: str, folder: str) -> list[str]:
    return [
        hashlib.sha256(e[b"BODY[]"]).hexdigest()  # type: ignore[arg-type]
        for e in folder_contents(server, user, folder)
    ]


def test_a_refused_multiappend_is_resent_in_order_before_anything_later(
    slash_server: DovecotServer,
    limited_target: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_user = slash_server.new_user()
    corpus = [replace(m, folder=("INBOX",)) for m in bench_corpus(80, seed=9)]
    seed_bulk(slash_server, source_user, corpus, batch_bytes=2_000_000)
    wanted = digests(slash_server, source_user, "INBOX")
    too_big = [
        m
        for m in folder_contents(slash_server, source_user, "INBOX")
        if len(m[b"BODY[]"]) > SIZE_LIMIT
    ]  # type: ignore[arg-type]
    assert 0 < len(too_big) < 20  # a few, somewhere among the others

    resent: list[int] = []
    original = imap_append.append_pipelined

    def counting(*args: object) -> list[tuple[str, bytes]]:
        resent.append(len(args[2]))  # type: ignore[arg-type]
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(imap_append, "append_pipelined", counting)
    withdrawn: list[object] = []
    original_withdraw = imap_append.withdraw

    def withdrawing(imap: object) -> None:
        withdrawn.append(imap)
        original_withdraw(imap)  # type: ignore[arg-type]

    monkeypatch.setattr(imap_append, "withdraw", withdrawing)
    target_user = limited_target.new_user()
    source_spec, target_spec = spec(slash_server, source_user), spec(limited_target, target_user)
    journal = Journal(tmp_path / "journal.sqlite3")
    source = store(slash_server, source_user)
    target = store(limited_target, target_user, readonly=False)
    try:
        plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
        assert plan.size_limit is None  # not advertised: the plan cannot leave them out
        # Small batches, so that one MULTIAPPEND carries several of them.
        settings = CopySettings(connections=1, batch_messages=4)
        report = copy_with(plan, source, target, journal, settings)
    finally:
        source.close()
        target.close()
        journal.close()
    assert resent and max(resent) > 4  # a command of several batches was refused and resent
    # The MULTIAPPEND streaming after a refused one was withdrawn and sent again after it.
    assert withdrawn
    assert report.too_large + report.failed == len(too_big)
    assert report.copied == 80 - len(too_big)
    kept = [
        d
        for d, m in zip(wanted, folder_contents(slash_server, source_user, "INBOX"), strict=True)
        if len(m[b"BODY[]"]) <= SIZE_LIMIT
    ]  # type: ignore[arg-type]
    # Target UIDs ascend in source order: the resent messages came before any later batch.
    assert digests(limited_target, target_user, "INBOX") == kept
