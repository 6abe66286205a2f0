"""Accounts reached through a command (`ssh oldhost /usr/lib/dovecot/imap`) speaking IMAP.

Dovecot's own `imap` binary, started as `imap -c dovecot.conf -u USER`, is exactly what ssh
would start on an old server: a preauthenticated IMAP session on stdin/stdout.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import imapclient
import pytest
import tomli_w

from mailmig_tui import paths
from mailmig_tui.accounts import command_account
from mailmig_tui.cli import main
from mailmig_tui.config import account_table, load_config
from mailmig_tui.errors import UsageError
from mailmig_tui.stores.open import open_store
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_mailbox

IMAP_BINARY = "/usr/lib/dovecot/imap"

# Relays stdin/stdout to a TCP port: an IMAP server over a command that greets with OK.
RELAY = """
import socket, sys, threading
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
def up():
    while data := sys.stdin.buffer.read1(65536):
        sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while data := sock.recv(65536):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
"""


def preauth_command(server: DovecotServer, user: str) -> str:
    return shlex.join([IMAP_BINARY, "-c", str(server.root / "dovecot.conf"), "-u", user])


def save_accounts(accounts: dict[str, dict[str, str]]) -> None:
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(tomli_w.dumps({"accounts": accounts}))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def seeded(slash_server: DovecotServer) -> str:
    user = slash_server.new_user()
    seed_mailbox(slash_server, user, standard_folders(), standard_corpus())
    return user


def test_imapclient_stream_mode_crashes_and_our_command_client_does_not(
    slash_server: DovecotServer, seeded: str
) -> None:
    command = preauth_command(slash_server, seeded)
    # imapclient 4.1 runs it through a shell, then sets a timeout on a socket it lacks.
    with pytest.raises(AttributeError, match="settimeout"):
        imapclient.IMAPClient(command, stream=True, ssl=False, timeout=5)
    store = open_store(command_account(command, user=seeded), role="source", readonly=True)
    with store:
        names = {folder.name for folder in store.list_folders(with_status=False)}
    assert {"INBOX", "Sent", "Archive/2023"} <= names


def test_folders_over_a_preauth_command_asks_no_password(
    slash_server: DovecotServer, seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No MAILMIG_SOURCE_PASSWORD, no keyring, no terminal: a password request would fail.
    command = preauth_command(slash_server, seeded)
    code, out, err = run(capsys, "folders", "--source-command", command, "--json")
    assert code == 0, err
    listed = {f["name"]: f["messages"] for f in json.loads(out)}
    expected = Counter(slash_server.folder_name(m.folder) for m in standard_corpus())
    assert {name: listed[name] for name in expected} == dict(expected)
    code, out, err = run(capsys, "ls", "--source-command", command, "Sent", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == expected["Sent"]


def test_copy_from_a_saved_command_account_is_byte_exact_and_reruns_copy_nothing(
    slash_server: DovecotServer,
    seeded: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    target = slash_server.new_user()
    save_accounts({"old": {"command": preauth_command(slash_server, seeded)}})
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", slash_server.password(target))
    report_path = tmp_path / "report.json"
    argv = ["copy", "old", f"imap+plain://{target}@127.0.0.1:{slash_server.imap_port}"]
    assert main([*argv, "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert (report["copied"], report["failed"]) == (len(standard_corpus()), 0)
    for folder in standard_folders():
        name = slash_server.folder_name(folder.parts)
        want = folder_contents(slash_server, seeded, name)
        got = folder_contents(slash_server, target, name)
        assert [(e[b"BODY[]"], e[b"INTERNALDATE"]) for e in got] == [
            (e[b"BODY[]"], e[b"INTERNALDATE"]) for e in want
        ], name
    assert main([*argv, "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert (report["copied"], report["already_present"]) == (0, len(standard_corpus()))


def test_copy_and_verify_with_a_source_command_option(
    slash_server: DovecotServer,
    seeded: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = slash_server.new_user()
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", slash_server.password(target))
    command = preauth_command(slash_server, seeded)
    url = f"imap+plain://{target}@127.0.0.1:{slash_server.imap_port}"
    code, _out, err = run(capsys, "copy", "--source-command", command, url, "--folder", "Sent")
    assert code == 0, err
    code, _out, err = run(capsys, "verify", url, "--source-command", command, "--folder", "Sent")
    assert code == 0, err
    code, _out, err = run(capsys, "copy", "--source-command", command, url, url)
    assert code == 2 and "one account argument too many" in err


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("true", "the command `true` ended (exit status 0)"),
        (
            "sh -c 'echo \"Permission denied (publickey).\" >&2; exit 255'",
            "ended (exit status 255): Permission denied (publickey).",
        ),
        ("/nonexistent/imapd", "cannot run /nonexistent/imapd: No such file or directory"),
        ("echo hello", "does not speak IMAP"),
        ("sleep 30", "no IMAP greeting from `sleep 30` within 1 s"),
    ],
)
def test_a_failing_command_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], command: str, words: str
) -> None:
    started = time.monotonic()
    code, _out, err = run(capsys, "folders", "--source-command", command, "--timeout", "1")
    assert code == 2
    assert words in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert time.monotonic() - started < 8  # a silent command is given up, then killed


def test_a_command_whose_server_wants_a_login(
    slash_server: DovecotServer,
    seeded: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    command = shlex.join([sys.executable, "-c", RELAY, "127.0.0.1", str(slash_server.imap_port)])
    code, _out, err = run(capsys, "folders", "--source-command", command)
    assert code == 2 and "asks for a login, and the account has no user" in err
    save_accounts({"relayed": {"command": command, "user": seeded}})
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(seeded))
    code, out, err = run(capsys, "folders", "relayed")
    assert code == 0, err
    assert "INBOX" in out and out.startswith("command:")
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "wrong")
    code, _out, err = run(capsys, "folders", "relayed")
    assert code == 2 and f"refused the login for {seeded}" in err


def test_a_command_takes_the_place_of_the_account_argument(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _out, err = run(capsys, "folders", "maildir:///tmp/x", "--source-command", "true")
    assert code == 2 and "one account argument too many" in err


def test_command_accounts_are_normalised_and_saved() -> None:
    spec = command_account("ssh   oldhost  '/usr/lib/dovecot/imap'")
    assert spec.identity == spec.display == "command:ssh oldhost /usr/lib/dovecot/imap"
    save_accounts({"old": {"command": "ssh oldhost '/opt/my imap'", "user": "alice"}})
    saved = load_config().accounts["old"]
    assert (saved.kind, saved.user, saved.command) == (
        "command",
        "alice",
        "ssh oldhost '/opt/my imap'",
    )
    assert account_table(saved) == {"command": "ssh oldhost '/opt/my imap'", "user": "alice"}
    with pytest.raises(UsageError, match="check its quotes"):
        command_account("ssh 'oldhost")
