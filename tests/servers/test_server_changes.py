"""What real servers change about stored mail, and what mailmig must do about it (issue 11).

The first tests pin the servers' own behaviour (so a package update that changes it shows
here first); the others show that a re-run, also from another machine (no journal), copies
nothing again after a server changed what it stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import imapclient
import pytest

from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer
from tests.support.servers.base import ImapServer, fetch_folder, seed_messages
from tests.support.servers.courier import CourierServer
from tests.support.servers.cyrus import CyrusServer
from tests.support.servers.mailutils import MailutilsServer
from tests.support.servers.migration import Migration, clean_corpus

WHEN = datetime(2023, 5, 17, 9, 30, tzinfo=UTC)
INBOX = [SeedFolder(("INBOX",), None)]


def message(number: int, headers: bytes = b"", body: bytes = b"Hello.\r\n") -> SeedMessage:
    mid = f"<field-{number}@servers.mailmig.test>"
    data = (
        b"From: Anna <anna@servers.mailmig.test>\r\n"
        b"To: Bob <bob@servers.mailmig.test>\r\n"
        + f"Subject: field test {number}\r\nMessage-ID: {mid}\r\n".encode()
        + b"Date: Wed, 17 May 2023 11:30:00 +0200\r\n"
        + headers
        + b"\r\n"
        + body
    )
    return SeedMessage(("INBOX",), data, ("\\Seen",), WHEN, mid)


NO_FINAL_CRLF = message(1, body=b"No line end at the very end.")
EIGHT_BIT_HEADER = message(2, headers="X-Sender-Name: Jürgen Müller\r\n".encode())
WITH_NUL = message(3, body=b"Before\x00after.\r\n")
INVALID_HEADER = message(4, headers=b"This line is not a header\r\n")


def append_answer(server: ImapServer, user: str, data: bytes) -> bytes | None:
    """The stored bytes, or None when the server refused the APPEND."""
    client = server.client(user)
    try:
        try:
            client.append("INBOX", data, msg_time=WHEN)
        except imapclient.exceptions.IMAPClientError:
            return None
        client.select_folder("INBOX", readonly=True)
        last = max(client.search(["ALL"]))
        body = client.fetch([last], ["BODY.PEEK[]"])[last][b"BODY[]"]
        assert isinstance(body, bytes)
        return body
    finally:
        client.logout()


# -- what the servers do ----------------------------------------------------------------------


def test_courier_adds_crlf_to_a_message_without_a_final_line_end(
    courier_imap: CourierServer,
) -> None:
    stored = append_answer(courier_imap, courier_imap.new_user(), NO_FINAL_CRLF.data)
    assert stored == NO_FINAL_CRLF.data + b"\r\n"


def test_cyrus_turns_8bit_header_bytes_into_x(cyrus_imap: CyrusServer) -> None:
    stored = append_answer(cyrus_imap, cyrus_imap.new_user(), EIGHT_BIT_HEADER.data)
    assert stored is not None
    assert b"X-Sender-Name: JXXrgen MXXller\r\n" in stored
    assert len(stored) == len(EIGHT_BIT_HEADER.data)  # every byte becomes one X: "ü" -> "XX"


def test_cyrus_refuses_nul_and_invalid_headers(cyrus_imap: CyrusServer) -> None:
    user = cyrus_imap.new_user()
    assert append_answer(cyrus_imap, user, WITH_NUL.data) is None
    assert append_answer(cyrus_imap, user, INVALID_HEADER.data) is None
    assert append_answer(cyrus_imap, user, message(5).data) == message(5).data


def test_cyrus_with_reject8bit_refuses_8bit_headers(cyrus_reject8bit: CyrusServer) -> None:
    user = cyrus_reject8bit.new_user()
    assert append_answer(cyrus_reject8bit, user, EIGHT_BIT_HEADER.data) is None


def test_dovecot_serves_nul_as_0x80(slash_server: DovecotServer) -> None:
    stored = append_answer(slash_server, slash_server.new_user(), WITH_NUL.data)
    assert stored == WITH_NUL.data.replace(b"\x00", b"\x80")


def test_courier_keeps_nul_and_8bit_headers(courier_imap: CourierServer) -> None:
    user = courier_imap.new_user()
    assert append_answer(courier_imap, user, WITH_NUL.data) == WITH_NUL.data
    assert append_answer(courier_imap, user, EIGHT_BIT_HEADER.data) == EIGHT_BIT_HEADER.data


def test_mbox_server_rewrites_its_headers_when_a_flag_changes(
    mailutils_imap: MailutilsServer,
) -> None:
    user = mailutils_imap.new_user()
    seed_messages(mailutils_imap, user, [message(6), message(7)], INBOX, keywords=False)
    before = [e[b"BODY[]"] for e in fetch_folder(mailutils_imap, user, "INBOX")]
    assert all(b"\r\nX-UID: " in body and b"\r\nStatus: R\r\n" in body for body in before)  # type: ignore[operator]
    assert b"\r\nX-IMAPbase: " in before[0]  # type: ignore[operator]
    client = mailutils_imap.client(user)
    try:
        client.select_folder("INBOX")
        client.add_flags([max(client.search(["ALL"]))], ["\\Flagged"])
    finally:
        client.logout()
    after = [e[b"BODY[]"] for e in fetch_folder(mailutils_imap, user, "INBOX")]
    # Opening the folder read-write rewrote the message nobody touched as well (\Recent gone).
    assert after[0] == before[0].replace(b"Status: R\r\n", b"Status: OR\r\n")  # type: ignore[attr-defined]
    assert after[1] == before[1].replace(b"Status: R\r\n", b"Status: FOR\r\n")  # type: ignore[attr-defined]
    assert b"\nStatus: FOR\n" in mailutils_imap.mbox_path(user, "INBOX").read_bytes()


def test_mbox_server_cuts_a_message_at_nul_and_refuses_keywords(
    mailutils_imap: MailutilsServer,
) -> None:
    user = mailutils_imap.new_user()
    stored = append_answer(mailutils_imap, user, WITH_NUL.data)
    assert stored is not None and b"after." not in stored and stored.endswith(b"Before\r\n")
    client = mailutils_imap.client(user)
    try:
        with pytest.raises(imapclient.exceptions.IMAPClientError, match="Unrecognized flag"):
            client.append("INBOX", message(8).data, flags=["$label1"], msg_time=WHEN)
    finally:
        client.logout()


# -- what mailmig does about it ---------------------------------------------------------------


def test_cyrus_refusals_are_per_message_failures_and_the_run_goes_on(
    courier_imap: CourierServer,
    cyrus_imap: CyrusServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean = [message(10), message(11)]
    run = Migration(
        courier_imap, cyrus_imap, monkeypatch, tmp_path, [WITH_NUL, *clean, INVALID_HEADER], INBOX
    )
    code, report = run.copy()
    assert code == 1, capsys.readouterr().err
    assert report["copied"] == len(clean)
    assert report["failed"] == 2
    stored = {e[b"BODY[]"] for e in fetch_folder(cyrus_imap, run.target_user, "INBOX")}
    assert stored == {m.data for m in clean}


@pytest.mark.parametrize(
    ("source_server", "target_server", "changed"),
    [
        pytest.param("slash_server", "courier_imap", NO_FINAL_CRLF, id="courier-added-final-crlf"),
        pytest.param("courier_imap", "cyrus_imap", EIGHT_BIT_HEADER, id="cyrus-munged-8bit-header"),
        pytest.param("courier_imap", "slash_server", WITH_NUL, id="dovecot-replaced-nul"),
    ],
)
def test_rerun_without_journal_copies_nothing_after_the_target_changed_a_message(
    source_server: str,
    target_server: str,
    changed: SeedMessage,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The target stored `changed` otherwise than sent; found again by content all the same."""
    source = request.getfixturevalue(source_server)
    target = request.getfixturevalue(target_server)
    messages = [changed, message(20)]
    run = Migration(source, target, monkeypatch, tmp_path, messages, INBOX)
    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == len(messages)
    run.forget_journal()
    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == 0
    assert report["already_present"] == len(messages)


def test_mbox_flag_change_then_rerun_without_journal_copies_nothing_and_updates_flags(
    mailutils_imap: MailutilsServer,
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The staged migration: users keep working on the old server between runs, and the
    second run happens from another machine (or after the journal was deleted)."""
    _folders, messages = clean_corpus(mbox=True)
    inbox = [m for m in messages if m.folder == ("INBOX",)]
    run = Migration(mailutils_imap, slash_server, monkeypatch, tmp_path, inbox, INBOX)
    assert run.copy()[0] == 0, capsys.readouterr().err
    client = mailutils_imap.client(run.source_user)
    try:
        client.select_folder("INBOX")
        client.add_flags([min(client.search(["UNFLAGGED"]))], ["\\Flagged"])
    finally:
        client.logout()
    run.forget_journal()
    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == 0
    target = slash_server.client(run.target_user)
    try:
        target.select_folder("INBOX", readonly=True)
        flagged = len(target.search(["FLAGGED"]))
    finally:
        target.logout()
    assert flagged == 1 + sum("\\Flagged" in m.flags for m in inbox)
