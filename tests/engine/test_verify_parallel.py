"""Verify at a real round trip (issue 12): folders checked on several connection pairs at once.

Counted on the client, never timed: a "round trip" is a turn of one connection from writing
to reading. On Dovecot, with a mailbox of five target folders (one of them fed by two merged
source folders) and a source folder that cannot be opened:

- the report on 5 pairs is the serial one (1 pair), and says what is true: the missing
  message, the flag difference, the target folder that does not exist, the merged folders'
  one missing message, the folder that cannot be opened;
- no more connections than the cap are opened to either server, all at once, and all are
  closed; no connection takes more than a few round trips, where one pair takes dozens;
- a cancel leaves the report `interrupted` and every connection closed;
- progress starts at (0, total), never goes back, and ends at (total, total);
- a server that refuses every connection raises the error;
- `mailmig copy --connections N` and `mailmig verify` (with [settings] `connections`) verify
  within that limit.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from mailmig_tui.cli import main
from mailmig_tui.engine import copy_service
from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.session import Accounts
from mailmig_tui.engine.verify import VerifyReport, verify
from mailmig_tui.errors import ConnectError
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import ImapStore
from tests.support.dovecot import DovecotServer
from tests.support.wire import Wire
from tests.support.wire import watch as watch_wire
from tests.tui.tuikit import imap_spec

START = datetime(2024, 3, 1, 8, tzinfo=UTC)
SOURCE_FOLDERS = {"INBOX": 6, "Work": 5, "Lists": 4, "Old2023": 3, "Old2024": 3}
MAPPINGS = [
    FolderMapping("INBOX", "INBOX", "inbox"),
    FolderMapping("Work", "Work", "path"),
    FolderMapping("Gone", "Gone", "path"),
    FolderMapping("Lists", "Lists", "path"),
    FolderMapping("Old2023", "Old", "manual"),
    FolderMapping("Old2024", "Old", "manual"),
]
"""Plan order; "Gone" is not on the source; "Lists" is not on the target."""


def note(folder: str, number: int) -> tuple[bytes, datetime]:
    when = START + timedelta(hours=number)
    data = (
        f"Message-ID: <{folder.lower()}-{number}@verify.mailmig.test>\r\n"
        f"Date: {format_datetime(when)}\r\nFrom: Ops <ops@verify.mailmig.test>\r\n"
        f"To: anna@verify.mailmig.test\r\nSubject: {folder} note {number}\r\n\r\n"
        f"body {number}\r\n"
    ).encode()
    return data, when


@dataclass(frozen=True)
class Mailboxes:
    server: DovecotServer
    source: str
    target: str

    def accounts(self) -> Accounts:
        return Accounts(
            imap_spec(self.server, self.source),
            imap_spec(self.server, self.target),
            self.server.password(self.source),
            self.server.password(self.target),
            target_readonly=True,
        )


@pytest.fixture(scope="module")
def mailboxes(slash_server: DovecotServer) -> Mailboxes:
    """The source's folders copied to the target, but for: INBOX note 3 (missing), Work
    note 2 (flagged on the target only), Lists (no such target folder), Old2024 note 1
    (missing; Old2023 and Old2024 both go to Old)."""
    server = slash_server
    source, target = server.new_user(), server.new_user()
    src, tgt = server.client(source), server.client(target)
    try:
        for folder, count in SOURCE_FOLDERS.items():
            if folder != "INBOX":
                src.create_folder(folder)
            into = "Old" if folder.startswith("Old") else folder
            if into not in ("INBOX", "Lists") and not tgt.folder_exists(into):
                tgt.create_folder(into)
            for number in range(count):
                data, when = note(folder, number)
                src.append(folder, data, ["\\Seen"], when)
                if (folder, number) in (("INBOX", 3), ("Old2024", 1)) or folder == "Lists":
                    continue
                flags = ["\\Seen", "\\Flagged"] if (folder, number) == ("Work", 2) else ["\\Seen"]
                tgt.append(into, data, flags, when)
    finally:
        src.logout()
        tgt.logout()
    return Mailboxes(server, source, target)


@dataclass
class Watch:
    """Opens connections through `Accounts`, recording each one's round trips and how many
    are open at once per side."""

    accounts: Accounts
    barrier: threading.Barrier | None = None
    """Passed by every opening connection before it connects: proof they open at once."""
    wires: dict[str, list[Wire]] = field(default_factory=lambda: {"source": [], "target": []})
    open_now: dict[str, int] = field(default_factory=lambda: {"source": 0, "target": 0})
    most_open: dict[str, int] = field(default_factory=lambda: {"source": 0, "target": 0})
    closed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opener(self, side: str) -> Callable[[], MailStore]:
        def open_one() -> MailStore:
            if self.barrier is not None:
                self.barrier.wait(timeout=30)
            opened = (
                self.accounts.open_source if side == "source" else self.accounts.open_target
            )()
            assert isinstance(opened, ImapStore)
            with self.lock:
                self.open_now[side] += 1
                self.most_open[side] = max(self.most_open[side], self.open_now[side])
                self.wires[side].append(watch_wire(opened))
            close = opened.close

            def counted_close() -> None:
                with self.lock:
                    self.open_now[side] -= 1
                    self.closed += 1
                close()

            opened.close = counted_close  # type: ignore[method-assign]
            return opened

        return open_one

    def opened(self) -> int:
        return len(self.wires["source"]) + len(self.wires["target"])

    def most_turns(self) -> int:
        return max(w.turns for side in self.wires.values() for w in side)


def same(report: VerifyReport) -> str:
    """The report as JSON, without the timings Dovecot puts in an error ("(0.001 secs)")."""
    return re.sub(r" \([0-9.+ ]+ secs\)", "", json.dumps(report.as_json()))


def run(
    watch: Watch,
    connections: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    return verify(
        MAPPINGS,
        open_source=watch.opener("source"),
        open_target=watch.opener("target"),
        connections=connections,
        progress=progress,
        cancel=cancel,
    )


def test_five_pairs_give_the_serial_report_in_a_few_round_trips(mailboxes: Mailboxes) -> None:
    serial = Watch(mailboxes.accounts())
    one_pair = run(serial, 1)
    parallel = Watch(mailboxes.accounts(), barrier=threading.Barrier(10))
    steps: list[tuple[int, int]] = []
    five_pairs = run(parallel, 5, progress=lambda done, total: steps.append((done, total)))

    assert same(five_pairs) == same(one_pair)
    folders = {(f.source, f.target): f for f in five_pairs.folders}
    assert [(f.source, f.target) for f in five_pairs.folders] == [
        (m.source, m.target) for m in MAPPINGS
    ]
    assert [m.subject for m in folders["INBOX", "INBOX"].missing] == ["INBOX note 3"]
    work = folders["Work", "Work"]
    assert not work.missing and [d.message.subject for d in work.flag_differences] == [
        "Work note 2"
    ]
    assert "Gone" in folders["Gone", "Gone"].error
    lists = folders["Lists", "Lists"]
    assert not lists.target_exists and len(lists.missing) == 4
    assert not folders["Old2023", "Old"].missing  # merged: one pool, each copy counted once
    assert [m.subject for m in folders["Old2024", "Old"].missing] == ["Old2024 note 1"]
    assert folders["Old2024", "Old"].target_messages == 5
    assert five_pairs.missing == 6 and not five_pairs.interrupted

    total = sum(SOURCE_FOLDERS.values())
    assert steps[0] == (0, total) and steps[-1] == (total, total)
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    assert {t for _, t in steps} == {total}

    # Five target folders (Old takes two sources): five pairs, opened at once (the barrier
    # lets none connect before all ten are opening), all closed again.
    assert parallel.most_open == {"source": 5, "target": 5} and parallel.opened() == 10
    assert parallel.closed == 10 and serial.closed == 2
    # A connection of a pair with one folder: EXAMINE with its UID SEARCH in one round
    # trip, UID FETCH (and LOGOUT); the pair of the merged folders does that twice. One
    # pair did all of it in turn.
    assert parallel.most_turns() <= 6
    assert sum(w.turns for side in serial.wires.values() for w in side) >= 25


def test_never_more_connections_than_the_cap(mailboxes: Mailboxes) -> None:
    capped = Watch(mailboxes.accounts())
    report = run(capped, 2)
    assert capped.most_open == {"source": 2, "target": 2} and capped.opened() == 4
    assert capped.closed == 4
    assert same(report) == same(run(Watch(mailboxes.accounts()), 1))


def test_cancel_leaves_the_report_interrupted_and_closes_every_connection(
    mailboxes: Mailboxes,
) -> None:
    cancel = threading.Event()
    watch = Watch(mailboxes.accounts())
    report = run(watch, 5, progress=lambda done, total: cancel.set(), cancel=cancel)
    assert report.interrupted
    assert len(report.folders) < len(MAPPINGS)
    assert watch.closed == watch.opened() == 10


def test_a_server_refusing_every_connection_raises_its_error(mailboxes: Mailboxes) -> None:
    def refuse() -> MailStore:
        raise ConnectError("no connection to the target", "try again")

    watch = Watch(mailboxes.accounts())
    with pytest.raises(ConnectError, match="no connection to the target"):
        verify(MAPPINGS, open_source=watch.opener("source"), open_target=refuse, connections=3)
    assert watch.closed == watch.opened() == 3  # the sources it did open


@pytest.fixture
def verify_caps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The connections per server each verify of the copy service was given."""
    seen: list[int] = []

    def recording(*args: Any, connections: int = 1, **kwargs: Any) -> VerifyReport:
        seen.append(connections)
        return verify(*args, connections=connections, **kwargs)

    monkeypatch.setattr(copy_service, "verify", recording)
    return seen


def test_copy_and_mailmig_verify_keep_to_the_connections_setting(
    mailboxes: Mailboxes,
    isolated_mailmig: Path,
    monkeypatch: pytest.MonkeyPatch,
    verify_caps: list[int],
) -> None:
    server = mailboxes.server
    fresh = server.new_user()

    def url(user: str) -> str:
        return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"

    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(mailboxes.source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(fresh))
    assert main(["copy", url(mailboxes.source), url(fresh), "--connections", "2"]) == 0
    config = isolated_mailmig / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[settings]\nconnections = 3\n")
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(mailboxes.target))
    assert main(["verify", url(mailboxes.source), url(mailboxes.target)]) == 1  # INBOX note 3
    assert verify_caps == [2, 3]
