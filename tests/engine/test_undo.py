"""History and undo on real Dovecot: `mailmig copy` records the run, `mailmig history`
lists it, `mailmig undo RUN-ID --yes` removes exactly what it appended (never a message
that was there before, or one found there by content), the journal forgets those copies so
the next copy sends them again; a target without UIDPLUS is refused and left alone."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.engine import history
from mailmig_tui.engine.journal import default_path
from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox

NO_UIDPLUS = "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT UNSELECT CHILDREN NAMESPACE LITERAL+"


def message(folder: str, number: int, tag: str = "undo") -> SeedMessage:
    data = (
        f"From: Ops <ops@{tag}.mailmig.test>\r\nTo: Anna <anna@{tag}.mailmig.test>\r\n"
        f"Subject: {tag} note {number}\r\nMessage-ID: <{tag}-{number}@mailmig.test>\r\n"
        f"Date: Tue, 0{number} Apr 2024 09:30:00 +0000\r\n\r\nNote {number}.\r\n"
    ).encode()
    when = datetime(2024, 4, number, 9, 30, tzinfo=UTC)
    return SeedMessage((folder,), data, ("\\Seen",), when, f"<{tag}-{number}@mailmig.test>")


SOURCE = [message("INBOX", n) for n in (1, 2, 3)] + [message("Work", n) for n in (4, 5)]
BEFORE = message("INBOX", 9, tag="before")
"""On the target before any copy: never mailmig's."""


def url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def message_ids(server: DovecotServer, user: str) -> dict[str, set[str]]:
    client = server.client(user)
    try:
        found: dict[str, set[str]] = {}
        for _flags, _delim, name in client.list_folders():
            client.select_folder(name, readonly=True)
            uids = client.search(["ALL"])
            answer = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            found[str(name)] = {
                bytes(v[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"]).decode().split(":", 1)[1].strip()
                for v in answer.values()
            }
        return found
    finally:
        client.logout()


def journal_rows(run_id: str | None = None) -> int:
    with sqlite3.connect(default_path()) as db:
        if run_id is None:
            return int(db.execute("SELECT COUNT(*) FROM copied").fetchone()[0])
        query = "SELECT COUNT(*) FROM copied WHERE run_id=?"
        return int(db.execute(query, (run_id,)).fetchone()[0])


class Pair:
    def __init__(self, source: DovecotServer, target: DovecotServer, mp: pytest.MonkeyPatch):
        self.source, self.target = source, target
        self.source_user, self.target_user = source.new_user(), target.new_user()
        folders = [SeedFolder(("Work",), None)]
        seed_mailbox(source, self.source_user, folders, SOURCE)
        # One message that was on the target before, one the target has already by content.
        seed_mailbox(target, self.target_user, [], [BEFORE, SOURCE[0]])
        mp.setenv("MAILMIG_SOURCE_PASSWORD", source.password(self.source_user))
        mp.setenv("MAILMIG_TARGET_PASSWORD", target.password(self.target_user))
        self.urls = [url(source, self.source_user), url(target, self.target_user)]

    def copy(self, tmp_path: Path) -> dict[str, object]:
        report = tmp_path / "report.json"
        assert main(["copy", *self.urls, "--report", str(report)]) == 0
        data: dict[str, object] = json.loads(report.read_text())
        return data


@pytest.fixture(scope="module")
def no_uidplus_target() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="courier", ssl=False, capabilities=NO_UIDPLUS).start()
    yield server
    server.cleanup()


def test_undo_removes_exactly_what_the_run_appended(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pair = Pair(slash_server, courier_server, monkeypatch)
    before = message_ids(courier_server, pair.target_user)
    report = pair.copy(tmp_path)
    assert report["copied"] == 4 and report["already_present"] == 1
    run_id = str(report["run_id"])
    assert journal_rows(run_id) == 4  # the one found by content carries no run id
    assert len(message_ids(courier_server, pair.target_user)["INBOX.Work"]) == 2
    capsys.readouterr()

    assert main(["history", *pair.urls]) == 0
    listing = capsys.readouterr().out
    assert run_id in listing and "complete" in listing
    record = history.load(run_id)
    assert os.stat(history.record_path(run_id)).st_mode & 0o777 == 0o600
    stored = history.stored_report(record)
    assert stored is not None and stored.copied == 4 and stored.already_present == 1

    # No terminal and no --yes: refused in one line, nothing removed.
    assert main(["undo", run_id]) == 1
    assert "--yes" in capsys.readouterr().err
    assert journal_rows(run_id) == 4

    assert main(["undo", run_id, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "removes 4 messages in 2 folders" in out and "removed 4 messages" in out
    after = message_ids(courier_server, pair.target_user)
    assert after["INBOX"] == before["INBOX"]  # BEFORE and the copy found by content stay
    assert after["INBOX.Work"] == set()
    assert journal_rows(run_id) == 0 and journal_rows() == 1
    assert history.load(run_id).result == "undone"

    # The next copy sends them again.
    again = pair.copy(tmp_path)
    assert again["copied"] == 4 and again["already_present"] == 1
    assert again["run_id"] != run_id


def test_undo_is_refused_without_uidplus(
    slash_server: DovecotServer,
    no_uidplus_target: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pair = Pair(slash_server, no_uidplus_target, monkeypatch)
    run_id = str(pair.copy(tmp_path)["run_id"])
    copied = message_ids(no_uidplus_target, pair.target_user)
    capsys.readouterr()
    assert main(["undo", run_id, "--yes"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "UIDPLUS" in err[0] and "nothing was removed" in err[0]
    assert message_ids(no_uidplus_target, pair.target_user) == copied
    assert journal_rows(run_id) == 4
    assert history.load(run_id).result == "complete"


def test_undo_into_a_maildir_deletes_exactly_the_copied_files(
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = slash_server.new_user()
    seed_mailbox(slash_server, user, [SeedFolder(("Work",), None)], SOURCE)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(user))
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    mine = maildir / "cur" / "1700000000.M1P1.host,S=20:2,S"
    mine.write_bytes(b"Subject: mine\r\n\r\nx\r\n")
    target = f"maildir://{maildir}"
    assert main(["copy", url(slash_server, user), target]) == 0
    files = [p for p in maildir.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    assert len(files) == 6
    (run,) = history.all_runs()
    capsys.readouterr()
    assert main(["undo", run.run_id, "--yes"]) == 0
    left = [p for p in maildir.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    assert left == [mine]
    assert journal_rows(run.run_id) == 0


def test_undo_of_an_unknown_run_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["undo", "20250101-000000-abcd", "--yes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such run" in err[0]
    assert main(["undo", "yesterday"]) == 2
    assert "not a run id" in capsys.readouterr().err
