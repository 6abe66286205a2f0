"""Planning at a real round trip (issue 12): what a copy waits for before its first message.

Counted on the client, never timed: a "round trip" is a turn of one connection from
writing to reading (the client waits for the server there); pipelined commands share one.

- Re-planning N copied folders (the re-run: nothing to copy) takes the same number of round
  trips for 2 folders as for 6, on each side, and still finds a flag changed on the source.
- The estimate takes its round trips from the commands planning sent: measuring the link
  sends the sample's FETCH only (its folder is still selected), and nothing to the target.
- Both accounts are opened at the same time; with both passwords wrong the source's error
  is the one reported.
- Closing sends LOGOUT and returns without reading the answer on the caller's thread.
"""

from __future__ import annotations

import imaplib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mailmig_tui.engine.copy_service import CopyRequest, CopyService
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, Plan, build_plan
from mailmig_tui.engine.rates import measure_link
from mailmig_tui.engine.session import Accounts, CopySession
from mailmig_tui.errors import AuthError
from mailmig_tui.model import SpecialUse
from mailmig_tui.stores import imap_pipelined
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import ImapStore, connect_imap
from tests.support.dovecot import DovecotServer, running
from tests.support.wire import Wire, watch
from tests.tui.tuikit import imap_spec, seed_many


def open_pair(server: DovecotServer, source: str, target: str) -> tuple[ImapStore, ImapStore]:
    return (
        connect_imap(imap_spec(server, source), server.password(source), readonly=True),
        connect_imap(imap_spec(server, target), server.password(target), readonly=False),
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.db")
    yield opened
    opened.close()


def copied_pair(server: DovecotServer, journal: Journal, folders: int) -> tuple[str, str]:
    """A source of `folders` folders of 3 messages, copied once to a new target."""
    source, target = server.new_user(), server.new_user()
    for number in range(folders):
        seed_many(server, source, "INBOX" if number == 0 else f"Box{number}", 3)
    accounts = Accounts(
        imap_spec(server, source),
        imap_spec(server, target),
        server.password(source),
        server.password(target),
    )
    report = CopyService(accounts, journal).copy(CopyRequest(verify=False))
    assert report.copied == 3 * folders and not report.failed
    return source, target


def replan(
    server: DovecotServer, journal: Journal, source: str, target: str
) -> tuple[Plan, Wire, Wire]:
    """Plan again on fresh connections opened before counting starts."""
    source_store, target_store = open_pair(server, source, target)
    try:
        source_wire, target_wire = watch(source_store), watch(target_store)
        plan = build_plan(
            source_store.spec,
            target_store.spec,
            source_store,
            target_store,
            journal,
            CopyOptions(),
        )
    finally:
        source_store.close()
        target_store.close()
    return plan, source_wire, target_wire


def test_a_rerun_plans_in_as_many_round_trips_for_six_folders_as_for_two(
    slash_server: DovecotServer, journal: Journal
) -> None:
    counted: dict[int, tuple[int, int]] = {}
    for folders in (2, 6):
        source, target = copied_pair(slash_server, journal, folders)
        if folders == 6:  # a flag changed on the source since the copy: still found
            client = slash_server.client(source)
            client.select_folder("Box3")
            client.add_flags(client.search("ALL")[:1], ["\\Flagged"])
            client.logout()
        plan, source_wire, target_wire = replan(slash_server, journal, source, target)
        assert len(plan.folders) == folders
        assert plan.messages_to_copy == 0
        assert all(work.present == 3 and not work.error for work in plan.folders)
        updates = {w.mapping.source: len(w.flag_updates) for w in plan.folders if w.flag_updates}
        assert updates == ({"Box3": 1} if folders == 6 else {})
        counted[folders] = (source_wire.turns, target_wire.turns)
        # Nothing is asked folder by folder: each command once per folder at most.
        assert target_wire.commands.count("EXAMINE") == folders
        assert "SELECT" not in source_wire.commands + target_wire.commands
    assert counted[2] == counted[6]
    assert max(counted[6]) <= 5


def test_the_estimate_sends_nothing_only_to_time_a_round_trip(
    slash_server: DovecotServer, journal: Journal
) -> None:
    source, target = slash_server.new_user(), slash_server.new_user()
    seed_many(slash_server, source, "INBOX", 30)
    source_store, target_store = open_pair(slash_server, source, target)
    try:
        plan = build_plan(
            source_store.spec, target_store.spec, source_store, target_store, journal, CopyOptions()
        )
        planned = (source_store.round_trip(), target_store.round_trip())
        assert planned[0] is not None and planned[0] > 0
        assert planned[1] is not None and planned[1] > 0
        source_wire, target_wire = watch(source_store), watch(target_store)
        link = measure_link(source_store, target_store, plan)
        sent = list(source_wire.commands), list(target_wire.commands)
    finally:
        source_store.close()
        target_store.close()
    assert link is not None and link.messages == 20
    # The sample only: no STATUS, no LIST, not even an EXAMINE (planning's pipeline left
    # the largest folder selected).
    assert sent == (["UID FETCH"], [])
    assert (link.source_rtt, link.target_rtt) == planned


@dataclass(frozen=True)
class Rendezvous(Accounts):
    """Opening the source waits until the target's opening has begun: it only returns
    when both are opened at the same time."""

    target_began: threading.Event = field(default_factory=threading.Event)
    """Per instance: a class-wide event, once set, would let a later use pass unawaited."""

    def open_source(self) -> MailStore:
        assert self.target_began.wait(timeout=60), "the target was not opened meanwhile"
        return super().open_source()

    def open_target(self) -> MailStore:
        self.target_began.set()
        return super().open_target()


def test_both_accounts_are_opened_at_the_same_time(slash_server: DovecotServer) -> None:
    source, target = slash_server.new_user(), slash_server.new_user()
    accounts = Rendezvous(
        imap_spec(slash_server, source),
        imap_spec(slash_server, target),
        slash_server.password(source),
        slash_server.password(target),
    )
    with CopySession(accounts, None) as session:
        assert session.source.info().capabilities and session.target.info().capabilities


@pytest.fixture
def own_server() -> Iterator[DovecotServer]:
    """A server of this test's own: Dovecot delays every login from an address after
    failed ones (auth penalty), which must not slow the other tests' logins."""
    yield from running(DovecotServer())


@pytest.mark.parametrize("wrong", ["both", "target"])
def test_a_wrong_password_is_reported_for_its_own_side(
    own_server: DovecotServer, wrong: str
) -> None:
    source, target = own_server.new_user(), own_server.new_user()
    accounts = Accounts(
        imap_spec(own_server, source),
        imap_spec(own_server, target),
        "wrong" if wrong == "both" else own_server.password(source),
        "wrong",
    )
    with pytest.raises(AuthError) as raised:
        CopySession(accounts, None)
    blamed = source if wrong == "both" else target
    assert f"refused the login for {blamed}" in raised.value.one_line()


def test_closing_does_not_wait_for_the_logout_answer(slash_server: DovecotServer) -> None:
    user = slash_server.new_user()
    store = connect_imap(imap_spec(slash_server, user), slash_server.password(user), readonly=True)
    store.list_folders()
    wire = watch(store)
    closing: list[Callable[[], None]] = []
    before = set(threading.enumerate())
    store.close()
    assert wire.commands == ["LOGOUT"]
    assert threading.current_thread().name not in wire.readers  # nothing read here
    closing += [t.join for t in set(threading.enumerate()) - before]
    for join in closing:  # the answer is read, and the connection closed, on its own thread
        join()
    assert wire.readers <= {"mailmig-logout"}


@pytest.mark.parametrize("esearch", [True, False])
def test_pipelined_uid_lists_equal_one_folder_at_a_time(
    slash_server: DovecotServer, esearch: bool
) -> None:
    """With and without ESEARCH (plain UID SEARCH ALL, as servers without it answer), also
    around a folder the server refuses and an empty one."""
    user = slash_server.new_user()
    seed_many(slash_server, user, "INBOX", 7)
    seed_many(slash_server, user, "Work", 4)
    client = slash_server.client(user)
    client.create_folder("Empty")
    client.select_folder("INBOX")
    client.delete_messages([2, 5])
    client.expunge()
    client.logout()
    store = connect_imap(imap_spec(slash_server, user), slash_server.password(user), readonly=True)
    try:
        folders = ["INBOX", "Gone", "Empty", "Work"]
        wires = [store._wire_name(f) for f in folders]
        answers = imap_pipelined.uid_lists(store.client._imap, wires, esearch)
        alone = {
            f: (store.folder_status(f).uidvalidity, store.uids(f)) for f in folders if f != "Gone"
        }
    finally:
        store.close()
    by_folder = dict(zip(folders, answers, strict=True))
    assert not by_folder["Gone"].ok and by_folder["Gone"].text
    assert {f: (a.uidvalidity, a.uids) for f, a in by_folder.items() if a.ok} == alone
    assert alone["INBOX"][1] == [1, 3, 4, 6, 7] and alone["Empty"][1] == []


def test_a_greeting_with_capabilities_saves_the_capability_round_trip(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    capability = imaplib.IMAP4.capability

    def counting(self: imaplib.IMAP4) -> tuple[str, list[bytes]]:
        asked.append(self.state)
        answer: tuple[str, list[bytes]] = capability(self)
        return answer

    monkeypatch.setattr(imaplib.IMAP4, "capability", counting)
    user = slash_server.new_user()
    store = connect_imap(imap_spec(slash_server, user), slash_server.password(user), readonly=True)
    try:
        # The list after login (from LOGIN's answer), not the greeting's shorter one.
        assert "MULTIAPPEND" in store.info().capabilities
    finally:
        store.close()
    assert asked == []


def test_list_status_lists_every_folder_with_its_figures_in_one_command(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LIST-STATUS (RFC 5819) gives what LIST and then STATUS per folder give, also for
    names in modified UTF-7, digits only, or with a space, empty folders, a parent, and a
    special-use folder (its attribute is only reported when asked for)."""
    user = slash_server.new_user()
    seed_many(slash_server, user, "INBOX", 3)
    seed_many(slash_server, user, "Entwürfe", 2)
    seed_many(slash_server, user, "2023", 1)
    client = slash_server.client(user)
    for name in ("Old mail", "Sent", "Archive", "Archive/2022"):  # \Sent, a parent
        client.create_folder(name)
    client.logout()
    store = connect_imap(imap_spec(slash_server, user), slash_server.password(user), readonly=True)
    try:
        assert "LIST-STATUS" in store.info().capabilities
        wire = watch(store)
        at_once = store.list_folders(with_status=True)
        sent = list(wire.commands)
        monkeypatch.setattr(ImapStore, "_list_with_status", lambda self: None)
        one_by_one = store.list_folders(with_status=True)
    finally:
        store.close()
    assert sent == ["LIST"]
    assert at_once == one_by_one
    figures = {f.name: f.messages for f in at_once}
    assert figures == {
        "INBOX": 3,
        "Entwürfe": 2,
        "2023": 1,
        "Old mail": 0,
        "Sent": 0,
        "Archive": 0,
        "Archive/2022": 0,
    }
    assert next(f for f in at_once if f.name == "Sent").special_use is SpecialUse.SENT
    assert all(f.uidvalidity and f.uidnext for f in at_once)
