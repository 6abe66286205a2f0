"""POP3 as a migration source, against Dovecot's real POP3 server.

The source is seeded over IMAP (only INBOX is visible over POP3) and copied with
`mailmig copy pop3+plain://… imap+plain://…`. Checked: byte-exact copies, re-runs copying
only new mail, the source left exactly as it was (not even \\Seen set), the TLS forms, the
three login methods, and one-line errors.
"""

from __future__ import annotations

import hashlib
import json
import poplib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailmig_tui import paths
from mailmig_tui.cli import main
from mailmig_tui.stores import pop3
from tests.support.corpus import SeedMessage, standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_mailbox


@pytest.fixture(scope="module")
def pop_server() -> Iterator[DovecotServer]:
    server = DovecotServer(pop3=True).start()
    try:
        yield server
    finally:
        server.cleanup()


def pop_url(server: DovecotServer, user: str) -> str:
    return f"pop3+plain://{user}@127.0.0.1:{server.pop3_port}"


def imap_url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def inbox_of(messages: list[SeedMessage]) -> list[SeedMessage]:
    return [m for m in messages if m.folder == ("INBOX",)]


def uidls(server: DovecotServer, user: str) -> list[str]:
    """The UIDL list, read over POP3 outside the code under test."""
    client = poplib.POP3("127.0.0.1", server.pop3_port, timeout=30)
    try:
        client.user(user)
        client.pass_(server.password(user))
        return [line.split()[1].decode() for line in client.uidl()[1]]
    finally:
        client.quit()


def imap_state(server: DovecotServer, user: str) -> list[tuple[str, list[bytes]]]:
    """(body digest, stored flags) of every INBOX message, as IMAP sees them."""
    state = []
    for entry in folder_contents(server, user, "INBOX"):
        body, flags = entry[b"BODY[]"], entry[b"FLAGS"]
        assert isinstance(body, bytes) and isinstance(flags, tuple)
        # \Recent is session state that any login (POP3 too) clears, not a stored flag.
        state.append((hashlib.sha256(body).hexdigest(), [f for f in flags if f != b"\\Recent"]))
    return state


class Pop3Migration:
    def __init__(
        self, server: DovecotServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        self.server = server
        self.source, self.target = server.new_user(), server.new_user()
        self.messages = standard_corpus()
        seed_mailbox(server, self.source, standard_folders(), self.messages)
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(self.source))
        monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(self.target))
        self.report = tmp_path / "report.json"

    def copy(self) -> tuple[int, dict[str, object]]:
        urls = [pop_url(self.server, self.source), imap_url(self.server, self.target)]
        code = main(["copy", *urls, "--report", str(self.report)])
        return code, json.loads(self.report.read_text())

    def target_bodies(self) -> list[object]:
        return [e[b"BODY[]"] for e in folder_contents(self.server, self.target, "INBOX")]


def test_copy_is_byte_exact_reruns_copy_only_new_mail_and_the_source_is_unchanged(
    pop_server: DovecotServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_ = Pop3Migration(pop_server, monkeypatch, tmp_path)
    inbox = inbox_of(run_.messages)
    uidls_before = uidls(pop_server, run_.source)
    imap_before = imap_state(pop_server, run_.source)

    code, report = run_.copy()
    assert code == 0
    assert (report["copied"], report["failed"]) == (len(inbox), 0)
    assert run_.target_bodies() == [m.data for m in inbox]
    # INTERNALDATE on the target: the date of the topmost Received header (or Date).
    entries = folder_contents(pop_server, run_.target, "INBOX")
    for entry, message in zip(entries, inbox, strict=True):
        head = message.data.partition(b"\r\n\r\n")[0]
        assert entry[b"INTERNALDATE"] == pop3.arrival(head)
        # \Recent is the session's, not stored: whichever session selects first gets it.
        assert set(entry[b"FLAGS"]) - {b"\\Recent"} == set()

    code, report = run_.copy()
    assert (code, report["copied"], report["already_present"]) == (0, 0, len(inbox))

    new = inbox[0].data.replace(b"Message-ID: <std-", b"Message-ID: <new-", 1)
    client = pop_server.client(run_.source)
    client.append("INBOX", new, msg_time=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    client.logout()
    code, report = run_.copy()
    assert (code, report["copied"], report["already_present"]) == (0, 1, len(inbox))
    assert run_.target_bodies() == [m.data for m in inbox] + [new]

    # The source: the same messages under the same UIDLs, plus the new one; no flag changed.
    uidls_after = uidls(pop_server, run_.source)
    assert uidls_after[: len(uidls_before)] == uidls_before
    assert len(uidls_after) == len(uidls_before) + 1
    assert imap_state(pop_server, run_.source)[: len(imap_before)] == imap_before


def test_long_lines_and_dot_lines_copy_byte_for_byte(
    pop_server: DovecotServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source, target = pop_server.new_user(), pop_server.new_user()
    message = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: long\r\n"
        b"X-Long: " + b"h" * 10_000 + b"\r\n"
        b"Message-ID: <long@example.com>\r\n\r\n"
        b".starts with a dot\r\n..two dots\r\n.\r\n" + b"b" * 100_000 + b"\r\nend\r\n"
    )
    client = pop_server.client(source)
    client.append("INBOX", message)
    client.logout()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", pop_server.password(source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", pop_server.password(target))
    code = main(["copy", pop_url(pop_server, source), imap_url(pop_server, target)])
    assert code == 0
    [entry] = folder_contents(pop_server, target, "INBOX")
    assert entry[b"BODY[]"] == message
    assert poplib._MAXLINE == 2048  # raised for our connections only


def test_folders_and_ls_over_pop3s_and_stls(
    pop_server: DovecotServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = pop_server.new_user()
    messages = standard_corpus()
    seed_mailbox(pop_server, user, standard_folders(), messages)
    inbox = inbox_of(messages)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", pop_server.password(user))
    ca = ["--ca-file", str(pop_server.ca_file)]
    for url in (
        f"pop3s://{user}@localhost:{pop_server.pop3s_port}",
        f"pop3://{user}@localhost:{pop_server.pop3_port}",
    ):
        code, out, err = run(capsys, "folders", url, *ca, "--json")
        assert code == 0, err
        [folder] = json.loads(out)
        assert (folder["name"], folder["special_use"]) == ("INBOX", "\\Inbox")
        assert (folder["messages"], folder["size"]) == (len(inbox), sum(len(m.data) for m in inbox))
        code, out, err = run(capsys, "ls", url, "INBOX", "--limit", "3", *ca, "--json")
        assert code == 0, err
        rows = json.loads(out)
        assert [r["size"] for r in rows] == [len(m.data) for m in inbox[::-1][:3]]
        assert all(r["flags"] == [] and r["subject"] for r in rows)
    code, _out, err = run(
        capsys, "ls", f"pop3s://{user}@localhost:{pop_server.pop3s_port}", "Sent", *ca
    )
    assert code == 2 and "only INBOX" in err


@pytest.mark.parametrize("method", ["user", "apop"])
def test_user_pass_and_apop_logins(
    pop_server: DovecotServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
) -> None:
    user = pop_server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", pop_server.password(user))
    sent: list[str] = []
    real_capabilities = pop3.capabilities

    def without_sasl(client: pop3.Pop3Client) -> dict[str, list[str]]:
        caps = real_capabilities(client)
        caps.pop("SASL", None)
        return caps

    def refuse_user(client: pop3.Pop3Client, name: str) -> bytes:
        sent.append("USER")
        raise poplib.error_proto(b"-ERR use APOP")

    real_apop = poplib.POP3.apop

    def apop(client: pop3.Pop3Client, name: str, password: str) -> bytes:
        sent.append("APOP")
        return real_apop(client, name, password)

    real_pass = poplib.POP3.pass_

    def pass_(client: pop3.Pop3Client, password: str) -> bytes:
        sent.append("PASS")
        return real_pass(client, password)

    monkeypatch.setattr(pop3, "capabilities", without_sasl)
    monkeypatch.setattr(pop3.Pop3Client, "apop", apop)
    monkeypatch.setattr(pop3.Pop3Client, "pass_", pass_)
    if method == "apop":
        monkeypatch.setattr(pop3.Pop3Client, "user", refuse_user)
    code, _out, err = run(capsys, "folders", pop_url(pop_server, user))
    assert code == 0, err
    assert sent == (["PASS"] if method == "user" else ["USER", "APOP"])


def test_wrong_password_unknown_host_and_untrusted_tls_are_one_line(
    pop_server: DovecotServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = pop_server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "not-the-password")
    cases = [
        ([pop_url(pop_server, user)], "refused the login for " + user),
        ([f"pop3s://{user}@localhost:{pop_server.pop3s_port}"], "is not trusted"),
        ([f"pop3s://{user}@no-such-host.invalid"], "unknown host no-such-host.invalid"),
    ]
    for argv, words in cases:
        code, _out, err = run(capsys, "folders", *argv)
        assert code == 2
        assert words in err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_pop3_without_stls_is_refused_and_pop3_is_never_a_target(
    pop_server: DovecotServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = DovecotServer(pop3=True, ssl=False).start()
    try:
        user = bare.new_user()
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", bare.password(user))
        code, _out, err = run(capsys, "folders", f"pop3://{user}@127.0.0.1:{bare.pop3_port}")
        assert code == 2
        assert "does not offer STLS" in err and "never fall back" in err
        assert err.count("\n") == 1
    finally:
        bare.cleanup()
    user = pop_server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", pop_server.password(user))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", pop_server.password(user))
    code, _out, err = run(capsys, "copy", imap_url(pop_server, user), pop_url(pop_server, user))
    assert code == 2 and "can only be a source" in err


def test_a_server_without_uidl_and_top_is_still_copied_once(
    pop_server: DovecotServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_ = Pop3Migration(pop_server, monkeypatch, tmp_path)
    real_capabilities = pop3.capabilities

    def bare(client: pop3.Pop3Client) -> dict[str, list[str]]:
        caps = real_capabilities(client)
        return {name: args for name, args in caps.items() if name not in ("UIDL", "TOP")}

    monkeypatch.setattr(pop3, "capabilities", bare)
    inbox = inbox_of(run_.messages)
    code, report = run_.copy()
    assert (code, report["copied"]) == (0, len(inbox))
    assert run_.target_bodies() == [m.data for m in inbox]
    code, report = run_.copy()  # header digests stand in for UIDLs: the same on every run
    assert (code, report["copied"], report["already_present"]) == (0, 0, len(inbox))
    with sqlite3.connect(paths.state_dir() / "pop3-uids.sqlite3") as db:
        uidls = [row[0] for row in db.execute("SELECT uidl FROM uid ORDER BY uid")]
    assert len(uidls) == len(inbox) and all(u.startswith("headers:") for u in uidls)
