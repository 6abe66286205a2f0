"""Undo fed by target marks, on real Dovecot: of the marked target messages only those the
journal says a run of this pair appended are removed (UID EXPUNGE of exactly those); a
message that was there before, or one found there by content, stays; the journal forgets
the removed copies so a later copy sends them again; no UIDPLUS is refused up front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailmig_tui.accounts import parse_account_url
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.undo import MarkedFolder, UndoRefused, plan_marked, undo_marked
from mailmig_tui.stores.open import open_store
from tests.engine.test_undo import NO_UIDPLUS, Pair, journal_rows, message_ids
from tests.support.dovecot import DovecotServer


def folder_state(server: DovecotServer, user: str, folder: str) -> tuple[int, frozenset[int]]:
    """(UIDVALIDITY, every UID) of a target folder, as the target pane would have them."""
    client = server.client(user)
    try:
        selected = client.select_folder(folder, readonly=True)
        return int(selected[b"UIDVALIDITY"]), frozenset(int(u) for u in client.search(["ALL"]))
    finally:
        client.logout()


def identities(pair: Pair) -> tuple[str, str]:
    source, target = (parse_account_url(u) for u in pair.urls)
    return source.identity, target.identity


def plan_and_undo(pair: Pair, marked: list[MarkedFolder]) -> tuple[str, int, int]:
    journal = Journal()
    try:
        plan = plan_marked(journal, *identities(pair), marked)
        target = parse_account_url(pair.urls[1])
        with open_store(target, role="target", readonly=False) as store:
            result = undo_marked(plan, store, journal)
    finally:
        journal.close()
    assert result.ok, result.problems
    return plan.question, result.removed, plan.kept


def test_marked_undo_removes_only_mailmigs_copies(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pair = Pair(slash_server, courier_server, monkeypatch)
    before = message_ids(courier_server, pair.target_user)["INBOX"]  # BEFORE + SOURCE[0]
    report = pair.copy(tmp_path)
    assert report["copied"] == 4 and report["already_present"] == 1
    validity, uids = folder_state(courier_server, pair.target_user, "INBOX")
    assert len(uids) == 4  # 2 foreign to mailmig's runs, 2 appended

    # A stale numbering never matches: nothing is planned.
    journal = Journal()
    try:
        stale_marks = [MarkedFolder("INBOX", validity + 1, uids)]
        stale = plan_marked(journal, *identities(pair), stale_marks)
    finally:
        journal.close()
    assert stale.copies == [] and stale.kept == 4

    question, removed, kept = plan_and_undo(pair, [MarkedFolder("INBOX", validity, uids)])
    assert question.startswith("Remove 2 of the 4 marked messages: mailmig copied them (run ")
    assert "2 were not copied by mailmig and stay." in question
    assert removed == 2 and kept == 2
    assert message_ids(courier_server, pair.target_user)["INBOX"] == before
    assert journal_rows() == 3  # Work's 2 appended + the one found by content

    # A whole folder marked: every copy the journal holds in it.
    work_validity, work_uids = folder_state(courier_server, pair.target_user, "INBOX.Work")
    whole = MarkedFolder("INBOX.Work", work_validity, None, messages=len(work_uids))
    _question, removed, kept = plan_and_undo(pair, [whole])
    assert removed == 2 and kept == 0
    assert message_ids(courier_server, pair.target_user)["INBOX.Work"] == set()
    assert journal_rows() == 1

    again = pair.copy(tmp_path)
    assert again["copied"] == 4 and again["already_present"] == 1


@pytest.fixture(scope="module")
def bare_target() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="courier", ssl=False, capabilities=NO_UIDPLUS).start()
    yield server
    server.cleanup()


def test_marked_undo_is_refused_without_uidplus(
    slash_server: DovecotServer,
    bare_target: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pair = Pair(slash_server, bare_target, monkeypatch)
    pair.copy(tmp_path)
    copied = message_ids(bare_target, pair.target_user)
    validity, uids = folder_state(bare_target, pair.target_user, "INBOX")
    with pytest.raises(UndoRefused, match="UIDPLUS"):
        plan_and_undo(pair, [MarkedFolder("INBOX", validity, uids)])
    assert message_ids(bare_target, pair.target_user) == copied
    assert journal_rows() == 5
