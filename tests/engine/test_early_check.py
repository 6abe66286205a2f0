"""A copy checks each folder on its own connection pair once no folder is left to copy
(`engine/early_check.py`), on real Dovecot.

- Folders copied alone into their target are checked by the copy's pairs: the check after
  the copy opens no connection, and the report is the one `mailmig verify` gives.
- Folders merged into one target are left to the check after the copy; the report keeps
  the plan's order.
- Marked messages (`only_uids`): only those are checked, early as after.
- A message the target lost is found by the early check (see also test_copy_verifies).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from mailmig_tui.engine.copy_service import CopyRequest, CopyService
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions
from mailmig_tui.engine.session import Accounts
from mailmig_tui.engine.verify import VerifyReport
from mailmig_tui.stores.base import MailStore
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec

FOLDERS = {"INBOX": 12, "Work": 5, "Lists": 4, "Old2023": 3, "Old2024": 2}


@dataclass
class Opens:
    """Connections opened by the copy, and by the check after it (its own threads)."""

    by_copy: int = 0
    by_check_after: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> None:
        after = threading.current_thread().name == "mailmig-verify-open"
        with self.lock:
            if after:
                self.by_check_after += 1
            else:
                self.by_copy += 1


class CountingAccounts(Accounts):
    opens: Opens

    def open_source(self) -> MailStore:
        self.opens.count()
        return super().open_source()

    def open_target(self) -> MailStore:
        self.opens.count()
        return super().open_target()


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    started = DovecotServer(shape="slash", ssl=False).start()
    yield started
    started.cleanup()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.db")
    yield opened
    opened.close()


def seed(server: DovecotServer, user: str) -> None:
    """FOLDERS' messages, each folder's its own (merged folders must not share any)."""
    client = server.client(user)
    try:
        start = datetime(2024, 1, 1, 8, tzinfo=UTC)
        for folder, count in FOLDERS.items():
            if folder != "INBOX":
                client.create_folder(folder)
            messages = []
            for n in range(count):
                when = start + timedelta(minutes=n)
                data = (
                    f"Message-ID: <{folder}-{n}@early.mailmig.test>\r\n"
                    f"Date: {format_datetime(when)}\r\nFrom: Ops <ops@early.mailmig.test>\r\n"
                    f"Subject: {folder} note {n}\r\n\r\n{folder} body {n}\r\n"
                )
                messages.append({"msg": data.encode(), "date": when, "flags": ["\\Seen"]})
            client.multiappend(folder, messages)
    finally:
        client.logout()


def accounts(server: DovecotServer, opens: Opens) -> CountingAccounts:
    source, target = server.new_user(), server.new_user()
    seed(server, source)
    made = CountingAccounts(
        imap_spec(server, source),
        imap_spec(server, target),
        server.password(source),
        server.password(target),
    )
    object.__setattr__(made, "opens", opens)  # a frozen dataclass
    return made


def shape(report: VerifyReport) -> list[tuple[str, str, int, int, int, str]]:
    return [
        (f.source, f.target, f.source_messages, f.target_messages, len(f.missing), f.error)
        for f in report.folders
    ]


def test_folders_are_checked_by_the_copy_pairs_and_give_mailmig_verifys_report(
    server: DovecotServer, journal: Journal
) -> None:
    opens = Opens()
    both = accounts(server, opens)
    report = CopyService(both, journal).copy(CopyRequest())

    assert report.copied == sum(FOLDERS.values()) and report.verify is not None
    assert opens.by_copy > 0
    assert opens.by_check_after == 0  # every folder was checked on the copy's own pairs
    by_verify, _log = CopyService(both, journal).verify(CopyOptions())
    assert shape(report.verify) == shape(by_verify)
    assert [f.source for f in report.verify.folders] == [w.source for w in report.folders]
    assert report.verify.missing == 0 and not report.verify.interrupted


def test_merged_folders_are_checked_after_the_copy_in_plan_order(
    server: DovecotServer, journal: Journal
) -> None:
    opens = Opens()
    both = accounts(server, opens)
    options = CopyOptions(overrides={"Old2023": "Old", "Old2024": "Old"})
    report = CopyService(both, journal).copy(CopyRequest(options=options))

    assert report.verify is not None and report.verify.missing == 0
    assert opens.by_check_after == 2  # one pair for the merged target
    checks = {f.source: f for f in report.verify.folders}
    assert checks["Old2023"].target == checks["Old2024"].target == "Old"
    assert checks["Old2024"].target_messages == 5
    assert checks["INBOX"].source_messages == FOLDERS["INBOX"]
    by_verify, _log = CopyService(both, journal).verify(options)
    assert shape(report.verify) == shape(by_verify)


def test_only_the_marked_messages_are_checked(server: DovecotServer, journal: Journal) -> None:
    opens = Opens()
    both = accounts(server, opens)
    marked = {"INBOX": frozenset({2, 5}), "Work": frozenset({1})}
    options = CopyOptions(include=["INBOX", "Work"], only_uids=marked)
    report = CopyService(both, journal).copy(CopyRequest(options=options))

    assert report.copied == 3 and report.verify is not None and opens.by_check_after == 0
    checked = {f.source: f.source_messages for f in report.verify.folders}
    assert checked == {"INBOX": 2, "Work": 1} and report.verify.missing == 0
