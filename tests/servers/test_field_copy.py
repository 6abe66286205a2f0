"""Copy, re-run and verify between the servers admins leave and the ones they move to.

Clean mail (nothing a server changes on APPEND) must arrive byte for byte with flags and
dates; a re-run with the journal copies nothing; verify passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dovecot import DovecotServer
from tests.support.servers.base import ImapServer
from tests.support.servers.migration import Migration, clean_corpus

PAIRS = {
    "courier-to-cyrus": ("courier_imap", "cyrus_imap"),
    "cyrus-to-courier": ("cyrus_imap", "courier_imap"),
    "cyrus-to-dovecot": ("cyrus_imap", "slash_server"),
    "mbox-to-dovecot": ("mailutils_imap", "slash_server"),
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_clean_mail_arrives_exactly_and_a_rerun_copies_nothing(
    pair: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_name, target_name = PAIRS[pair]
    source: ImapServer = request.getfixturevalue(source_name)
    target: ImapServer = request.getfixturevalue(target_name)
    folders, messages = clean_corpus(mbox=source_name == "mailutils_imap")
    run = Migration(source, target, monkeypatch, tmp_path, messages, folders)

    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == len(messages)
    assert report["failed"] == 0
    run.assert_target_matches_source()

    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == 0
    assert report["already_present"] == len(messages)
    assert run.verify() == 0, capsys.readouterr().err


def test_mbox_source_flag_change_follows_on_rerun_with_the_journal(
    mailutils_imap: ImapServer,
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The staged migration: the user keeps working on the old mbox server between runs."""
    folders, messages = clean_corpus(mbox=True)
    inbox = [m for m in messages if m.folder == ("INBOX",)]
    run = Migration(mailutils_imap, slash_server, monkeypatch, tmp_path, inbox, folders[:1])
    assert run.copy()[0] == 0, capsys.readouterr().err
    _flag_first_inbox_message(mailutils_imap, run.source_user)

    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == 0
    target = slash_server.client(run.target_user)
    try:
        target.select_folder("INBOX", readonly=True)
        assert len(target.search(["FLAGGED"])) == 1 + sum("\\Flagged" in m.flags for m in inbox)
    finally:
        target.logout()


def _flag_first_inbox_message(server: ImapServer, user: str) -> None:
    client = server.client(user)
    try:
        client.select_folder("INBOX")
        first = min(client.search(["UNFLAGGED"]))
        client.add_flags([first], ["\\Flagged"])
    finally:
        client.logout()
