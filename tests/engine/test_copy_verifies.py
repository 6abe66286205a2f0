"""`mailmig copy` checks what it copied: a target that answers OK to an APPEND and keeps
nothing (played by a swallowing proxy) gives exit 1, a report and a log naming the message,
and the next copy sends it again. Also: `--no-verify`, and the log of `mailmig verify`."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.engine.journal import default_path
from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox
from tests.support.swallow_proxy import LITERAL_PLUS_ONLY, SwallowProxy

LOST_SUBJECT = "Quarterly figures, final"
LOST_ID = "lost-on-the-way@verify.mailmig.test"
LOG_LINE = re.compile(r"^mailmig: log: (.*/transfer-\d{8}-\d{6}(-\d+)?\.log)$")
"""The last stderr line; two runs in one second get a numbered name."""


@pytest.fixture(scope="module")
def lossy_target() -> Iterator[DovecotServer]:
    """A target without MULTIAPPEND: each message is an APPEND of its own, so the proxy can
    lose exactly one."""
    server = DovecotServer(shape="courier", ssl=False, capabilities=LITERAL_PLUS_ONLY).start()
    yield server
    server.cleanup()


@pytest.fixture
def proxy(lossy_target: DovecotServer) -> Iterator[SwallowProxy]:
    with SwallowProxy(lossy_target.imap_port, f"Subject: {LOST_SUBJECT}".encode()) as opened:
        yield opened


def message(number: int, subject: str, message_id: str) -> SeedMessage:
    data = (
        f"From: Ops <ops@verify.mailmig.test>\r\nTo: Anna <anna@verify.mailmig.test>\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
        f"Date: Tue, 0{number} Apr 2024 09:30:00 +0000\r\n\r\n"
        f"Message {number}.\r\n" + "Some lines of text.\r\n" * 20 * number
    ).encode()
    when = datetime(2024, 4, number, 9, 30, tzinfo=UTC)
    return SeedMessage(("INBOX",), data, ("\\Seen",), when, f"<{message_id}>")


def five_messages() -> list[SeedMessage]:
    """INBOX: five messages, the third of which the proxy loses."""
    messages = [message(n, f"Note {n}", f"note-{n}@verify.mailmig.test") for n in (1, 2, 4, 5)]
    messages.insert(2, message(3, LOST_SUBJECT, LOST_ID))
    return messages


def url(server: DovecotServer, user: str, port: int | None = None) -> str:
    return f"imap+plain://{user}@127.0.0.1:{port or server.imap_port}"


def source_uid(server: DovecotServer, user: str, message_id: str) -> int:
    client = server.client(user)
    try:
        client.select_folder("INBOX", readonly=True)
        (uid,) = client.search(["HEADER", "Message-ID", message_id])
        return int(uid)
    finally:
        client.logout()


def target_count(server: DovecotServer, user: str) -> int:
    client = server.client(user)
    try:
        return int(client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"])
    finally:
        client.logout()


def journaled_uids() -> set[int]:
    db = sqlite3.connect(default_path())
    try:
        return {uid for (uid,) in db.execute("SELECT uid FROM copied WHERE source_folder='INBOX'")}
    finally:
        db.close()


def log_of(err: str) -> Path:
    """The log named by the last stderr line; it must exist and be owner-only."""
    lines = err.strip().splitlines()
    match = LOG_LINE.match(lines[-1]) if lines else None
    assert match, f"last stderr line is not the log: {lines[-1:]}"
    path = Path(match.group(1))
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path


def test_a_message_the_target_lost_is_reported_logged_and_copied_again(
    slash_server: DovecotServer,
    lossy_target: DovecotServer,
    proxy: SwallowProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolated_mailmig: Path,
) -> None:
    source_user, target_user = slash_server.new_user(), lossy_target.new_user()
    seed_mailbox(slash_server, source_user, [SeedFolder(("INBOX",), None)], five_messages())
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(source_user))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", lossy_target.password(target_user))
    lost_uid = source_uid(slash_server, source_user, LOST_ID)
    source = url(slash_server, source_user)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    capsys.readouterr()

    # 1. Through the proxy: the target says OK to all five APPENDs and keeps four.
    code = main(
        ["copy", source, url(lossy_target, target_user, proxy.port), "--report", str(first)]
    )
    out, err = capsys.readouterr()
    assert proxy.fired.is_set() and len(proxy.swallowed) == 1
    assert target_count(lossy_target, target_user) == 4
    assert code == 1, err
    report = json.loads(first.read_text())
    assert report["verify"]["ok"] is False
    assert report["verify"]["checked"] == 5
    [missing] = report["verify"]["missing"]
    assert missing["folder"] == "INBOX"
    assert missing["uid"] == lost_uid
    assert missing["subject"] == LOST_SUBJECT
    assert missing["message_id"].strip("<>") == LOST_ID
    assert LOST_SUBJECT in err and LOST_ID in err, err
    log = log_of(err)
    assert report["log"] == str(log)
    assert log.parent == isolated_mailmig / "log"
    text = log.read_text()
    assert LOST_SUBJECT in text and LOST_ID in text
    assert slash_server.password(source_user) not in text
    # Dropped from the journal (the other four stay): the next copy sends it again.
    assert journaled_uids() == {
        source_uid(slash_server, source_user, f"note-{n}@verify.mailmig.test") for n in (1, 2, 4, 5)
    }

    # 2. `mailmig verify --json` agrees, and logs too.
    target = url(lossy_target, target_user)
    assert main(["verify", source, target, "--json"]) == 1
    out, err = capsys.readouterr()
    checked = json.loads(out)
    assert checked["missing"] == 1 and checked["ok"] is False
    verify_log = log_of(err)
    assert checked["log"] == str(verify_log)
    assert verify_log != log

    # 3. Straight to the target: exactly the lost message is copied, and verified.
    code = main(["copy", source, target, "--report", str(second)])
    out, err = capsys.readouterr()
    assert code == 0, err
    again = json.loads(second.read_text())
    assert again["copied"] == 1
    assert again["already_present"] == 4
    assert again["failed"] == again["not_copied"] == 0
    assert again["verify"] == {
        "checked": 5,
        "ok": True,
        "missing": [],
        "altered": [],
        "flag_differences": [],
    }
    assert target_count(lossy_target, target_user) == 5
    assert again["log"] == str(log_of(err)) != str(log)

    # The first report's counts never claimed the lost message as copied ("copied 5, failed
    # 0" for a folder holding 4 is the bug this guards against), and account for all five.
    [inbox] = report["folders"]
    assert inbox["source_messages"] == 5
    assert inbox["copied"] + inbox["already_present"] == 4
    assert inbox["failed"] + inbox["not_copied"] == 1
    assert report["copied"] == 4


def test_no_verify_reports_verify_as_null_and_still_logs(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_user, target_user = slash_server.new_user(), courier_server.new_user()
    seed_mailbox(slash_server, source_user, [SeedFolder(("INBOX",), None)], five_messages())
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(source_user))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", courier_server.password(target_user))
    report_path = tmp_path / "report.json"
    capsys.readouterr()
    urls = [url(slash_server, source_user), url(courier_server, target_user)]
    code = main(["copy", *urls, "--no-verify", "--report", str(report_path)])
    _out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(report_path.read_text())
    assert "verify" in report and report["verify"] is None
    assert report["copied"] == 5
    assert report["log"] == str(log_of(err))
