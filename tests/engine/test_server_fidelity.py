"""What real servers do to stored mail, played on Dovecot: identity, flags, verify's three
outcomes, a folder that cannot be opened, and `--repair`.

A "changed by the server" target is made by storing the changed bytes themselves (as
Courier, Cyrus or an mbox server would have stored our copy), with the source's dates and
flags; the journal is then empty, as on a new machine. Dovecot itself serves a NUL as 0x80.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mailmig_tui.cli import main
from tests.faults.conftest import EXCHANGE_CAPS
from tests.faults.harness import url
from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer
from tests.support.faultproxy import FaultProxy
from tests.support.seeding import folder_contents, seed_mailbox

WHEN = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def mail(number: int, head: str, body: bytes = b"Hello.\r\n", folder: str = "INBOX") -> SeedMessage:
    message_id = f"<fidelity-{number}@mailmig.test>"
    data = (
        f"Message-ID: {message_id}\r\nDate: Mon, 4 Mar 2024 05:06:07 +0000\r\n{head}\r\n"
    ).encode() + body
    return SeedMessage((folder,), data, ("\\Seen",), WHEN, message_id)


def munged(data: bytes, replacement: int) -> bytes:
    """Cyrus's munge8bit (`X`) or another server's `?` over the header's 8-bit bytes."""
    head, sep, body = data.partition(b"\r\n\r\n")
    return bytes(replacement if b >= 0x80 else b for b in head) + sep + body


def bodies_and_flags(server: DovecotServer, user: str) -> list[tuple[bytes, list[str]]]:
    result = []
    for entry in folder_contents(server, user, "INBOX"):
        body, flags = entry[b"BODY[]"], entry[b"FLAGS"]
        assert isinstance(body, bytes) and isinstance(flags, tuple)
        result.append((body, sorted(f.decode() for f in flags)))
    return result


def stored_as(message: SeedMessage, data: bytes) -> SeedMessage:
    return SeedMessage(message.folder, data, message.flags, message.internaldate, "")


SOURCE = [
    mail(1, "From: Jürgen <j@mailmig.test>\r\nSubject: Grüße\r\n"),
    mail(2, "From: Ann <a@mailmig.test>\r\nSubject: no line end\r\n", b"Last line, no CRLF"),
    mail(3, "From: Ann <a@mailmig.test>\r\nSubject: plain\r\n"),
    mail(4, "From: Ann <a@mailmig.test>\r\nSubject: mbox\r\nStatus: RO\r\nX-UID: 4\r\n"),
    mail(5, "From: Ann <a@mailmig.test>\r\nSubject: twin\r\n"),
    mail(5, "From: Ann <a@mailmig.test>\r\nSubject: twin\r\n"),  # a true duplicate
    mail(6, "From: Ann <a@mailmig.test>\r\nSubject: twin\r\n", b"Another message, same id\r\n"),
]


def new_pair(server: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A new source user and target user on `server`, their passwords where mailmig looks."""
    source, target = server.new_user(), server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(target))
    return source, target


def copy_report(args: list[str], path: Path) -> tuple[int, dict[str, Any]]:
    code = main(["copy", *args, "--report", str(path)])
    return code, json.loads(path.read_text())


def test_a_target_that_changed_messages_gets_no_second_copy_without_the_journal(
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = new_pair(slash_server, monkeypatch)
    seed_mailbox(slash_server, source, [], SOURCE)
    changed = [
        stored_as(SOURCE[0], munged(SOURCE[0].data, ord("X"))),  # Cyrus munge8bit
        stored_as(SOURCE[1], SOURCE[1].data + b"\r\n"),  # Courier's final CRLF
        SOURCE[2],
        stored_as(  # an mbox server rewrote its status fields
            SOURCE[3],
            SOURCE[3].data.replace(b"Status: RO\r\nX-UID: 4", b"Status: O\r\nX-Status: A"),
        ),
        SOURCE[4],  # one copy of the twin only: the second one must be copied
        SOURCE[6],
    ]
    seed_mailbox(slash_server, target, [], changed)
    src, dst = url(slash_server, source), url(slash_server, target)

    code, report = copy_report([src, dst], tmp_path / "r.json")
    err = capsys.readouterr().err
    assert code == 0, err
    assert report["copied"] == 1 and report["already_present"] == 6  # the twin's second copy
    verify = report["verify"]
    assert isinstance(verify, dict) and verify["ok"] is True and verify["missing"] == []
    changes = {a["message_id"]: a["change"] for a in verify["altered"]}
    assert changes == {
        "<fidelity-1@mailmig.test>": "From, Subject header changed",
        "<fidelity-2@mailmig.test>": "2 bytes added",
    }
    assert "altered by it" in err and "fidelity-1" in err

    # Again without the journal: nothing at all is copied.
    os.remove(Path(os.environ["MAILMIG_STATE_DIR"]) / "journal.sqlite3")
    code, report = copy_report([src, dst], tmp_path / "r2.json")
    assert code == 0 and report["copied"] == 0 and report["already_present"] == 7


def test_dovecots_nul_as_0x80_is_the_same_message(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source, target = new_pair(slash_server, monkeypatch)
    nul = mail(7, "From: Ann <a@mailmig.test>\r\nSubject: nul\r\n", b"a\0b\r\n")
    seed_mailbox(slash_server, source, [], [nul])
    served = folder_contents(slash_server, source, "INBOX")[0][b"BODY[]"]
    assert isinstance(served, bytes) and b"\x80" in served and b"\0" not in served
    seed_mailbox(slash_server, target, [], [stored_as(nul, served)])
    code, report = copy_report(
        [url(slash_server, source), url(slash_server, target)], tmp_path / "r.json"
    )
    assert code == 0 and report["copied"] == 0 and report["already_present"] == 1


def test_flags_changed_on_the_source_reach_the_target_without_the_journal(
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = new_pair(slash_server, monkeypatch)
    seed_mailbox(slash_server, source, [SeedFolder(("Work",), None)], SOURCE[:3])
    src, dst = url(slash_server, source), url(slash_server, target)
    assert main(["copy", src, dst]) == 0
    client = slash_server.client(source)  # the user goes on working on the old server
    try:
        client.select_folder("INBOX")
        uids = sorted(client.search(["ALL"]))
        client.add_flags(uids[0], ["\\Flagged", "$Important"])
        client.remove_flags(uids[1], ["\\Seen"])
    finally:
        client.logout()
    capsys.readouterr()

    assert main(["verify", src, dst, "--json"]) == 0  # flag differences warn, nothing missing
    checked = json.loads(capsys.readouterr().out)
    assert checked["flag_differences"] == 2
    diffs = {d["uid"]: d for f in checked["folders"] for d in f["flag_differences"]}
    assert diffs[uids[0]]["source_flags"] == ["$Important", "\\Flagged", "\\Seen"]
    assert diffs[uids[0]]["target_flags"] == ["\\Seen"]

    os.remove(Path(os.environ["MAILMIG_STATE_DIR"]) / "journal.sqlite3")
    code, report = copy_report([src, dst], tmp_path / "r.json")
    assert code == 0 and report["copied"] == 0
    assert report["folders"][0]["flags_updated"] == 2
    assert report["verify"]["flag_differences"] == []
    flags = {
        body.split(b"\r\n")[0]: names for body, names in bodies_and_flags(slash_server, target)
    }
    assert flags[b"Message-ID: <fidelity-1@mailmig.test>"] == ["$Important", "\\Flagged", "\\Seen"]
    assert flags[b"Message-ID: <fidelity-2@mailmig.test>"] == []


def test_a_folder_that_cannot_be_opened_is_listed_and_the_others_go_on(
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = new_pair(slash_server, monkeypatch)
    messages = [*SOURCE[:2], mail(8, "From: a@b\r\nSubject: locked\r\n", folder="Locked")]
    seed_mailbox(slash_server, source, [SeedFolder(("Locked",), None)], messages)
    # Its cur/ and new/ unreadable: Dovecot lists the folder, and STATUS fails every time.
    locked = [slash_server.maildir(source) / "Locked" / sub for sub in ("cur", "new")]
    mode = locked[0].stat().st_mode
    for path in locked:
        path.chmod(0)
    try:
        src, dst = url(slash_server, source), url(slash_server, target)
        assert main(["folders", src, "--json"]) == 1
        captured = capsys.readouterr()
        listed = {f["name"]: f for f in json.loads(captured.out)}
        assert listed["INBOX"]["messages"] == 2 and listed["INBOX"]["error"] is None
        assert listed["Locked"]["error"]
        assert "Locked: cannot be opened" in captured.err

        code, report = copy_report([src, dst], tmp_path / "r.json")
        assert code == 1
        folders = {f["source"]: f for f in report["folders"]}
        assert folders["INBOX"]["copied"] == 2 and folders["INBOX"]["error"] is None
        assert folders["Locked"]["error"] and folders["Locked"]["copied"] == 0
    finally:
        for path in locked:
            path.chmod(mode)
    assert len(folder_contents(slash_server, target, "INBOX")) == 2


@pytest.fixture(scope="module")
def strict_target() -> Iterator[DovecotServer]:
    """One APPEND per message (no LITERAL+), so a proxy can refuse exactly one."""
    server = DovecotServer(shape="courier", ssl=False, capabilities=EXCHANGE_CAPS).start()
    yield server
    server.cleanup()


@pytest.mark.parametrize("repair", [False, True])
def test_a_refused_message_fails_alone_or_is_repaired_and_reported(
    slash_server: DovecotServer,
    strict_target: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    repair: bool,
) -> None:
    """The target refuses the first APPEND (as Cyrus refuses 8-bit headers with reject8bit):
    without --repair a clear per-message failure, the rest copied; with it, the message goes
    again with its header RFC 2047 encoded and is reported as repaired."""
    source, target = slash_server.new_user(), strict_target.new_user()
    seed_mailbox(slash_server, source, [], [SOURCE[0], SOURCE[2]])
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", strict_target.password(target))
    proxy = FaultProxy(strict_target.imap_port)
    try:
        refused = proxy.answer(rb"^\S+ APPEND ", b"NO Message contains 8-bit header", times=1)
        args = [url(slash_server, source), url(strict_target, target, proxy.port)]
        code, report = copy_report([*args, *(["--repair"] if repair else [])], tmp_path / "r.json")
        assert refused.fired.is_set()
    finally:
        proxy.close()
    err = capsys.readouterr().err
    inbox = report["folders"][0]
    stored = [body for body, _flags in bodies_and_flags(strict_target, target)]
    if not repair:
        assert code == 1 and report["failed"] == 1 and report["copied"] == 1
        assert "8-bit header" in inbox["failures"][0]["reason"]
        assert len(stored) == 1
        return
    assert code == 0, err
    assert report["copied"] == 2 and report["repaired"] == 1 and report["failed"] == 0
    change = inbox["repaired"][0]["change"]
    assert change == "repaired: 8-bit bytes in From, Subject RFC 2047 encoded"
    assert "repaired:" in err and "fidelity-1" in err
    assert any(b"From: =?UTF-8?B?" in m for m in stored)
    # The check finds the repaired copy (as altered), not missing.
    assert report["verify"]["missing"] == []
