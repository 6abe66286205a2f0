"""Issue 11's bullets, each shown on the real server that causes it.

Verify's three outcomes on Cyrus (munge8bit), flags without the journal between Courier and
Cyrus, Courier's own Maildir read with its keywords, an mbox account without its INBOX file,
`--repair` on Cyrus's refusals, keywords sent to Mailutils (which refuses them) and the
INTERNALDATE an mbox server keeps. Few messages each: the servers are the session's.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mailmig_tui.cli import main
from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer
from tests.support.servers.base import ImapServer, fetch_folder, seed_messages
from tests.support.servers.courier import CourierServer
from tests.support.servers.cyrus import CyrusServer
from tests.support.servers.mailutils import MailutilsServer
from tests.support.servers.migration import Migration, plain_url

WHEN = datetime(2022, 11, 3, 8, 15, 42, tzinfo=UTC)
INBOX = [SeedFolder(("INBOX",), None)]


def mail(
    number: int,
    sender: str = "Anna <anna@fidelity.mailmig.test>",
    *,
    body: bytes = b"Hello.\r\n",
    flags: tuple[str, ...] = ("\\Seen",),
    folder: tuple[str, ...] = ("INBOX",),
    extra: bytes = b"",
) -> SeedMessage:
    message_id = f"<real-{number}@fidelity.mailmig.test>"
    head = (
        f"From: {sender}\r\nTo: Bob <bob@fidelity.mailmig.test>\r\n"
        f"Subject: fidelity {number}\r\nMessage-ID: {message_id}\r\n"
        "Date: Thu, 3 Nov 2022 09:15:42 +0100\r\n"
    )
    data = head.encode() + extra + b"\r\n" + body
    return SeedMessage(folder, data, flags, WHEN, message_id)


def copy_report(run: Migration, *extra: str) -> tuple[int, dict[str, Any]]:
    """`mailmig copy` with its JSON report."""
    return run.copy(*extra)


def verify_json(run: Migration, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run.verify("--json")
    return code, json.loads(capsys.readouterr().out)


def flags_by_id(server: ImapServer, user: str, folder: str = "INBOX") -> dict[str, list[str]]:
    """Message-ID -> sorted flags (without \\Recent), read-only."""
    result = {}
    for entry in fetch_folder(server, user, folder):
        body, flags = entry[b"BODY[]"], entry[b"FLAGS"]
        assert isinstance(body, bytes) and isinstance(flags, tuple)
        message_id = body.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
        result[message_id] = sorted(f.decode() for f in flags if f != b"\\Recent")
    return result


def change_flags(
    server: ImapServer, user: str, message_id: str, add: list[str], remove: list[str]
) -> None:
    """The user goes on working on a server: one message's flags changed over IMAP."""
    client = server.client(user)
    try:
        client.select_folder("INBOX")
        (uid,) = client.search(["HEADER", "Message-ID", message_id])
        if add:
            client.add_flags([uid], add)
        if remove:
            client.remove_flags([uid], remove)
    finally:
        client.logout()


def expunge(server: ImapServer, user: str, message_id: str) -> None:
    client = server.client(user)
    try:
        client.select_folder("INBOX")
        (uid,) = client.search(["HEADER", "Message-ID", message_id])
        client.delete_messages([uid])
        client.expunge()
    finally:
        client.logout()


# -- verify: missing, altered, present ---------------------------------------------------------


def test_verify_tells_missing_from_altered_from_present_on_cyrus(
    courier_imap: CourierServer,
    cyrus_imap: CyrusServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    juergen = mail(1, "Jürgen <j@fidelity.mailmig.test>")  # Cyrus stores "JXXrgen"
    kept, deleted = mail(2), mail(3)
    run = Migration(
        courier_imap, cyrus_imap, monkeypatch, tmp_path, [juergen, kept, deleted], INBOX
    )

    code, report = copy_report(run)
    err = capsys.readouterr().err
    assert code == 0, err  # altered is a warning
    assert report["copied"] == 3
    checked = report["verify"]
    assert checked["ok"] is True and checked["missing"] == [] and checked["checked"] == 3
    assert [(a["message_id"], a["change"]) for a in checked["altered"]] == [
        (juergen.message_id, "From header changed")
    ]
    assert "warning: altered:" in err and juergen.message_id in err and "altered by it" in err

    expunge(cyrus_imap, run.target_user, deleted.message_id)
    code, result = verify_json(run, capsys)
    assert code == 1  # missing is a failure
    assert (result["checked"], result["missing"], result["altered"]) == (3, 1, 1)
    assert result["ok"] is False
    (inbox,) = result["folders"]
    assert [m["message_id"] for m in inbox["missing"]] == [deleted.message_id]
    assert [(a["message_id"], a["change"]) for a in inbox["altered"]] == [
        (juergen.message_id, "From header changed")
    ]
    assert inbox["flag_differences"] == []  # the present ones: nothing to say about them


# -- flags without the journal ---------------------------------------------------------------


def test_flags_changed_on_courier_reach_cyrus_without_the_journal(
    courier_imap: CourierServer,
    cyrus_imap: CyrusServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = mail(11, flags=("\\Seen", "$label1")), mail(12)
    untouched = mail(13, flags=("\\Answered", "\\Seen"))
    messages = [first, second, untouched]
    run = Migration(courier_imap, cyrus_imap, monkeypatch, tmp_path, messages, INBOX)
    assert copy_report(run)[0] == 0, capsys.readouterr().err
    source, target = (courier_imap, run.source_user), (cyrus_imap, run.target_user)
    change_flags(*source, first.message_id, ["\\Flagged", "$Important"], ["$label1"])
    change_flags(*source, second.message_id, [], ["\\Seen"])

    code, result = verify_json(run, capsys)
    assert code == 0  # flag differences are warnings
    assert result["missing"] == 0 and result["flag_differences"] == 2
    differences = {d["message_id"]: d for d in result["folders"][0]["flag_differences"]}
    assert set(differences) == {first.message_id, second.message_id}
    assert differences[first.message_id]["source_flags"] == ["$Important", "\\Flagged", "\\Seen"]
    assert differences[first.message_id]["target_flags"] == ["$label1", "\\Seen"]
    assert differences[second.message_id]["source_flags"] == []
    assert differences[second.message_id]["target_flags"] == ["\\Seen"]

    run.forget_journal()
    code, report = copy_report(run)
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == 0 and report["already_present"] == 3
    assert report["folders"][0]["flags_updated"] == 2
    assert report["verify"]["flag_differences"] == []
    assert flags_by_id(*target) == flags_by_id(*source)


# -- Courier's keywords through maildir:// ---------------------------------------------------


def test_maildir_over_couriers_own_maildir_carries_its_keywords(
    courier_imap: CourierServer,
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = courier_imap.new_user()
    messages = [mail(21, flags=("\\Seen", "$label1", "Work")), mail(22), mail(23)]
    seed_messages(courier_imap, user, messages, INBOX)
    change_flags(courier_imap, user, messages[1].message_id, ["$Important"], [])  # a STORE too
    want = flags_by_id(courier_imap, user)
    assert want[messages[0].message_id] == ["$label1", "Work", "\\Seen"]
    assert want[messages[1].message_id] == ["$Important", "\\Seen"]
    maildir = courier_imap.maildir(user)
    assert (maildir / "courierimapkeywords").is_dir()  # Courier's own place, not file names

    target = slash_server.new_user()
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", slash_server.password(target))
    code = main(["copy", f"maildir://{maildir}", plain_url(slash_server, target)])
    assert code == 0, capsys.readouterr().err
    assert flags_by_id(slash_server, target) == want


# -- one folder's failure stays local: an mbox account without its INBOX file ------------------


def test_mbox_account_without_inbox_file_lists_and_copies_the_other_folders(
    mailutils_imap: MailutilsServer,
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = mailutils_imap.new_user(inbox=False)
    folders = [SeedFolder(("Sent",), None), SeedFolder(("Archive",), None)]
    messages = [
        mail(31, folder=("Sent",)),
        mail(32, folder=("Archive",)),
        mail(33, folder=("Archive",)),
    ]
    run = Migration(
        mailutils_imap, slash_server, monkeypatch, tmp_path, messages, folders, source_user=user
    )
    assert not mailutils_imap.mbox_path(user, "INBOX").exists()

    capsys.readouterr()
    code = main(["folders", run.urls[0], "--json"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    listed = {f["name"]: f for f in json.loads(captured.out)}
    assert listed["INBOX"]["error"], listed
    assert (listed["Sent"]["messages"], listed["Sent"]["error"]) == (1, None)
    assert (listed["Archive"]["messages"], listed["Archive"]["error"]) == (2, None)
    assert "INBOX: cannot be opened" in captured.err
    assert main(["folders", run.urls[0]]) == 1
    table = capsys.readouterr().out
    assert "INBOX (unreadable)" in table
    assert "(hierarchy delimiter '/')" in table  # INBOX has none (NIL): the others' one

    code, report = copy_report(run)
    err = capsys.readouterr().err
    assert code == 1, err
    by_source = {f["source"]: f for f in report["folders"]}
    assert by_source["INBOX"]["error"] and by_source["INBOX"]["copied"] == 0
    assert (by_source["Sent"]["copied"], by_source["Sent"]["error"]) == (1, None)
    assert (by_source["Archive"]["copied"], by_source["Archive"]["error"]) == (2, None)
    assert report["copied"] == 3 and report["error"] is None
    assert "mailmig: INBOX: " in err
    assert len(fetch_folder(slash_server, run.target_user, "Archive")) == 2


# -- Cyrus's refusals, repaired on request ---------------------------------------------------

NUL_BODY = mail(41, body=b"Before\x00after.\r\n")
EIGHT_BIT_HEADER = mail(42, extra="X-Sender-Name: Jürgen Müller\r\n".encode())


@pytest.mark.parametrize(
    ("target_name", "refused", "change"),
    [
        ("cyrus_imap", NUL_BODY, "repaired: 1 NUL byte removed"),
        (
            "cyrus_reject8bit",
            EIGHT_BIT_HEADER,
            "repaired: 8-bit bytes in X-Sender-Name RFC 2047 encoded",
        ),
    ],
    ids=["nul", "reject8bit"],
)
def test_repair_sends_what_cyrus_refused_once_more_and_says_so(
    target_name: str,
    refused: SeedMessage,
    change: str,
    courier_imap: CourierServer,  # keeps NUL and 8-bit headers as they are
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cyrus: CyrusServer = request.getfixturevalue(target_name)
    clean = mail(43)
    run = Migration(courier_imap, cyrus, monkeypatch, tmp_path, [refused, clean], INBOX)

    code, report = copy_report(run, "--repair")
    err = capsys.readouterr().err
    assert code == 0, err
    assert (report["copied"], report["repaired"], report["failed"]) == (2, 1, 0)
    (repaired,) = report["folders"][0]["repaired"]
    assert (repaired["message_id"], repaired["change"]) == (refused.message_id, change)
    assert report["verify"]["missing"] == []
    assert refused.message_id in {a["message_id"] for a in report["verify"]["altered"]}
    # Never silent: named on stderr and in the log.
    line = next(line for line in err.splitlines() if "repaired:" in line)
    assert refused.message_id in line and change.removeprefix("repaired: ") in line
    assert refused.message_id in Path(report["log"]).read_text()

    stored = {e[b"BODY[]"] for e in fetch_folder(cyrus, run.target_user, "INBOX")}
    if refused is NUL_BODY:
        assert refused.data.replace(b"\x00", b"") in stored
    else:
        (copy,) = stored - {clean.data}
        assert isinstance(copy, bytes) and copy.isascii()
        assert b"X-Sender-Name: =?UTF-8?B?" in copy

    run.forget_journal()  # the repaired copy is recognised: nothing goes twice
    code, report = copy_report(run, "--repair")
    assert code == 0, capsys.readouterr().err
    assert (report["copied"], report["already_present"]) == (0, 2)


# -- Mailutils as a target: keywords refused, dates kept ---------------------------------------


def test_mailutils_loses_appends_into_the_folder_its_session_holds_read_write(
    mailutils_imap: MailutilsServer,
) -> None:
    """Why the IMAP store never APPENDs into a folder it has SELECTed: imap4d answers OK to
    both APPENDs, then rewrites the mbox from its stale view when the session ends."""
    user = mailutils_imap.new_user()
    client = mailutils_imap.client(user)
    try:
        client.select_folder("INBOX")
        for number in (71, 72):
            client.append("INBOX", mail(number).data, flags=["\\Seen"], msg_time=WHEN)
    finally:
        client.logout()
    stored = fetch_folder(mailutils_imap, user, "INBOX")
    assert len(stored) == 1 and stored[0][b"FLAGS"] == ()


def test_keywords_sent_to_mailutils_are_dropped_not_fatal(
    slash_server: DovecotServer,
    mailutils_imap: MailutilsServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """imap4d answers BAD "Unrecognized flag" to any keyword; its PERMANENTFLAGS lists the
    system flags only, so keywords are left out of the APPEND, and verify names them."""
    tagged = mail(51, flags=("\\Seen", "$label1", "Work"))
    plain = mail(52, flags=("\\Flagged",))
    run = Migration(slash_server, mailutils_imap, monkeypatch, tmp_path, [tagged, plain], INBOX)

    code, report = copy_report(run)
    err = capsys.readouterr().err
    assert code == 0, err
    assert (report["copied"], report["failed"]) == (2, 0)
    assert flags_by_id(mailutils_imap, run.target_user) == {
        tagged.message_id: ["\\Seen"],
        plain.message_id: ["\\Flagged"],
    }
    (dropped,) = report["verify"]["flag_differences"]  # the notice: per message, by name
    assert dropped["message_id"] == tagged.message_id
    assert (dropped["source_flags"], dropped["target_flags"]) == (
        ["$label1", "Work", "\\Seen"],
        ["\\Seen"],
    )
    assert "warning: flags differ: INBOX UID 1 'fidelity 51': source ($label1 Work" in err

    run.forget_journal()  # no loop: what the target cannot keep is not "updated" each run
    code, report = copy_report(run)
    assert code == 0, capsys.readouterr().err
    assert (report["copied"], report["already_present"]) == (0, 2)
    assert report["folders"][0]["flags_updated"] == 0


def test_mailutils_keeps_internaldate_through_append_and_flag_rewrites(
    slash_server: DovecotServer,
    mailutils_imap: MailutilsServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The identity counts on the INTERNALDATE: an mbox server keeps it in the "From " line."""
    summer = datetime(2021, 7, 1, 23, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    messages = [mail(61), replace(mail(62, flags=()), internaldate=summer)]
    run = Migration(slash_server, mailutils_imap, monkeypatch, tmp_path, messages, INBOX)
    assert copy_report(run)[0] == 0, capsys.readouterr().err
    want = [WHEN.timestamp(), summer.timestamp()]

    def dates() -> list[float]:
        entries = fetch_folder(mailutils_imap, run.target_user, "INBOX")
        return [e[b"INTERNALDATE"].timestamp() for e in entries]  # type: ignore[attr-defined]

    assert dates() == want  # the instant; the zone becomes the server's
    change_flags(mailutils_imap, run.target_user, messages[1].message_id, ["\\Answered"], [])
    assert dates() == want  # the file was rewritten, the dates were not

    run.forget_journal()
    code, report = copy_report(run)
    assert code == 0, capsys.readouterr().err
    assert (report["copied"], report["already_present"]) == (0, 2)
