"""TLS and plaintext rules end to end, and owner-only files.

Already covered elsewhere, so not repeated: an untrusted certificate and a host name
mismatch are refused and `--ca-file` is accepted (tests/cli/test_browse.py), `imap://` and
`pop3://` to servers without STARTTLS/STLS are refused (test_browse.py, test_pop3.py), and
apply_options refuses plaintext to a remote host (tests/unit/test_accounts_config.py).

Added here: `--insecure` against a self-signed server (one warning line); STARTTLS and STLS
stripped by a man in the middle, refused before any credential crosses the wire; plaintext
to a host that is not loopback refused before connecting, allowed with --allow-plaintext;
and the modes of the journal, pop3-uids, report, config file and tui.log (0600 files in
0700 directories) under the usual umask 022, also when mailmig makes the config, state and
log directories and their missing parents itself, from `mailmig copy` and `mailmig demo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from mailmig_tui.cli import main
from mailmig_tui.config import save_account
from mailmig_tui.engine.journal import Journal
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.demo_data import write_demo_maildirs
from mailmig_tui.tui.launch import _log_to_file
from tests.security.conftest import leaks, secret_forms, seed_small
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import drive_headless, mark_folder, wait_connected, wait_screen

Rewrite = Callable[[bytes], bytes]


class Proxy:
    """A TCP relay to a loopback port: records what the client sent, may rewrite server lines.

    With `rewrite`, the server's side is read line by line and each line passes through it
    (a man in the middle editing the plaintext part of the protocol); without, bytes pass
    untouched, STARTTLS included.
    """

    def __init__(self, target_port: int, rewrite: Rewrite | None = None, host: str = "127.0.0.1"):
        self.target_port = target_port
        self.rewrite = rewrite
        self.listener = socket.create_server((host, 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepted = 0
        self.from_client = bytearray()
        self._sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, server]
            threading.Thread(target=self._up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                self.from_client += data
                server.sendall(data)
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_WR)

    def _down(self, server: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if self.rewrite is None:
                while data := server.recv(65536):
                    client.sendall(data)
            else:
                lines = server.makefile("rb")
                while line := lines.readline():
                    client.sendall(self.rewrite(line))
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


@contextlib.contextmanager
def proxy(
    target_port: int, rewrite: Rewrite | None = None, host: str = "127.0.0.1"
) -> Iterator[Proxy]:
    relay = Proxy(target_port, rewrite, host)
    try:
        yield relay
    finally:
        relay.close()


class Stripper:
    """Rewrites server lines to hide one capability; counts how often it did."""

    def __init__(self, word: bytes, whole_line: bool) -> None:
        self.word = word
        self.whole_line = whole_line
        self.stripped = 0

    def __call__(self, line: bytes) -> bytes:
        if self.whole_line and line.strip().upper() == self.word:
            self.stripped += 1
            return b""
        if not self.whole_line and b" " + self.word in line:
            self.stripped += 1
            return line.replace(b" " + self.word, b"")
        return line


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    out, err = capsys.readouterr()
    return out, err.splitlines()


@pytest.fixture
def imap_user(slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> str:
    user = slash_server.new_user()
    seed_small(slash_server, user, {"INBOX": 2})
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(user))
    return user


# -- --insecure ---------------------------------------------------------------------------


def test_insecure_accepts_a_self_signed_server_and_warns_once(
    slash_server: DovecotServer, imap_user: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # 127.0.0.1: the test CA is in no trust store, and its certificate names only localhost.
    url = f"imaps://{imap_user}@127.0.0.1:{slash_server.imaps_port}"
    assert main(["folders", url, "--json"]) == 2  # refused without --insecure
    assert "is not trusted" in capsys.readouterr().err
    assert main(["folders", url, "--json", "--insecure"]) == 0
    out, lines = stderr_lines(capsys)
    assert '"INBOX"' in out
    assert len(lines) == 1, lines
    assert lines[0].startswith("mailmig: warning: ") and "NOT verified" in lines[0], lines
    assert "127.0.0.1" in lines[0]


def test_insecure_warns_only_for_the_accounts_that_use_tls(
    slash_server: DovecotServer,
    imap_user: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = f"imaps://{imap_user}@localhost:{slash_server.imaps_port}"
    code = main(["copy", source, f"maildir://{tmp_path}/new", "--insecure", "--dry-run"])
    _out, lines = stderr_lines(capsys)
    assert code == 0
    assert len(lines) == 1 and imap_user in lines[0], lines


# -- STARTTLS / STLS stripping ------------------------------------------------------------


def test_stripped_starttls_is_refused_before_the_password_is_sent(
    slash_server: DovecotServer, imap_user: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = slash_server.password(imap_user)
    ca = ["--ca-file", str(slash_server.ca_file)]
    with proxy(slash_server.imap_port) as honest:  # the relay itself lets STARTTLS work
        url = f"imap://{imap_user}@localhost:{honest.port}"
        assert main(["folders", url, *ca]) == 0, capsys.readouterr().err
    capsys.readouterr()
    strip = Stripper(b"STARTTLS", whole_line=False)
    with proxy(slash_server.imap_port, strip) as attacker:
        url = f"imap://{imap_user}@localhost:{attacker.port}"
        code = main(["folders", url, *ca])
        sent = bytes(attacker.from_client)
    _out, lines = stderr_lines(capsys)
    assert strip.stripped >= 1, "the server never offered STARTTLS through the relay"
    assert code == 2
    assert len(lines) == 1 and "does not offer STARTTLS" in lines[0], lines
    assert "never fall back" in lines[0]
    assert b"LOGIN" not in sent.upper() and b"AUTHENTICATE" not in sent.upper(), sent
    assert not leaks(sent, secret_forms(password)), sent


def test_stripped_stls_is_refused_before_the_password_is_sent(
    canary_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = canary_server.new_user()
    password = canary_server.password(user)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", password)
    strip = Stripper(b"STLS", whole_line=True)
    with proxy(canary_server.pop3_port, strip) as attacker:
        url = f"pop3://{user}@localhost:{attacker.port}"
        code = main(["folders", url, "--ca-file", str(canary_server.ca_file)])
        sent = bytes(attacker.from_client)
    _out, lines = stderr_lines(capsys)
    assert strip.stripped >= 1, "the server never offered STLS through the relay"
    assert code == 2
    assert len(lines) == 1 and "does not offer STLS" in lines[0], lines
    for command in (b"USER", b"PASS", b"AUTH", b"APOP"):
        assert command not in sent.upper(), sent
    assert not leaks(sent, secret_forms(password)), sent


# -- plaintext ----------------------------------------------------------------------------


def outward_address() -> str | None:
    """This machine's address on its default route, if it has one that is not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: picks a route, sends nothing
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture
def remote_address() -> str:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    return address


@pytest.mark.parametrize("scheme", ["imap+plain", "pop3+plain"])
def test_plaintext_to_a_host_that_is_not_loopback_is_refused_before_connecting(
    scheme: str,
    remote_address: str,
    slash_server: DovecotServer,
    canary_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = slash_server if scheme == "imap+plain" else canary_server
    port = server.imap_port if scheme == "imap+plain" else server.pop3_port
    user = server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(user))
    with proxy(port, host=remote_address) as relay:
        url = f"{scheme}://{user}@{remote_address}:{relay.port}"
        code = main(["folders", url])
        _out, lines = stderr_lines(capsys)
        assert code == 2
        assert len(lines) == 1, lines
        assert f"refusing to send a password unencrypted to {remote_address}" in lines[0]
        assert "--allow-plaintext" in lines[0]
        assert relay.accepted == 0, "it connected before refusing"
        if scheme == "imap+plain":  # allowed on request (POP3 logins stay off this server)
            assert main(["folders", url, "--allow-plaintext", "--json"]) == 0
            out, lines = stderr_lines(capsys)
            assert '"INBOX"' in out and lines == []
            assert relay.accepted >= 1


# -- owner-only files ---------------------------------------------------------------------


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """umask 022, as on most systems: a file created with default modes ends up 0644."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_tree(root: Path) -> list[str]:
    """Every directory from `root` down is 0700 and every file 0600; returns the files."""
    wrong = {}
    files = []
    for path in [root, *sorted(root.rglob("*"))]:
        want = 0o700 if path.is_dir() else 0o600
        if mode(path) != want:
            wrong[str(path.relative_to(root.parent))] = oct(mode(path))
        if path.is_file():
            files.append(path.relative_to(root).as_posix())
    assert not wrong, f"not owner-only: {wrong}"
    return files


def test_journal_pop3_uids_and_report_are_owner_only_after_copies(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    canary_server: DovecotServer,
    isolated_mailmig: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    usual_umask: None,
) -> None:
    source, target = slash_server.new_user(), courier_server.new_user()
    seed_small(slash_server, source, {"INBOX": 3, "Work": 2})
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", courier_server.password(target))
    report = tmp_path / "report.json"
    plain = "imap+plain://{}@127.0.0.1:{}"
    urls = [
        plain.format(source, slash_server.imap_port),
        plain.format(target, courier_server.imap_port),
    ]
    assert main(["copy", *urls, "--report", str(report)]) == 0
    pop_user = canary_server.new_user()
    seed_small(canary_server, pop_user, {"INBOX": 2})
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", canary_server.password(pop_user))
    pop3 = f"pop3+plain://{pop_user}@127.0.0.1:{canary_server.pop3_port}"
    assert main(["copy", pop3, urls[1]]) == 0
    assert mode(report) == 0o600
    journal = Journal()  # open, as during a run: its WAL and shared-memory files exist too
    try:
        journal.migrated_sources()
        files = assert_private_tree(isolated_mailmig / "state")
    finally:
        journal.close()
    assert {"journal.sqlite3", "pop3-uids.sqlite3"} <= set(files), files
    assert any(name.endswith("-wal") for name in files), files


def test_saving_an_account_writes_an_owner_only_config(
    isolated_mailmig: Path, usual_umask: None
) -> None:
    config = isolated_mailmig / "config" / "config.toml"
    spec = AccountSpec(
        kind="imap", user="alice", host="mail.example.com", port=993, security=Security.TLS
    )
    save_account("first", spec, config)
    assert assert_private_tree(config.parent) == ["config.toml"]
    config.chmod(0o644)  # as an editor may have left it
    save_account("second", spec, config)
    assert assert_private_tree(config.parent) == ["config.toml"]
    assert "second" in config.read_text() and "first" in config.read_text()


def test_tui_log_is_owner_only_after_a_tui_session(
    isolated_mailmig: Path, tmp_path: Path, usual_umask: None
) -> None:
    for side in ("source", "target"):
        for sub in ("cur", "new", "tmp"):
            (tmp_path / side / sub).mkdir(parents=True)
    app = MailmigApp(
        AccountSession(AccountSpec(kind="maildir", path=str(tmp_path / "source")), "source"),
        AccountSession(AccountSpec(kind="maildir", path=str(tmp_path / "target")), "target"),
    )

    async def session() -> None:
        async with app.run_test() as pilot:
            await wait_connected(pilot, app)

    with _log_to_file():
        asyncio.run(session())
    log = isolated_mailmig / "log"
    assert (log / "tui.log").exists()
    assert_private_tree(log)


async def _copy_drafts_then_quit(pilot: Pilot[Any]) -> None:
    """`mailmig demo` driven headless: copy the Drafts folder, then quit (no copy running)."""
    app = pilot.app
    assert isinstance(app, MailmigApp)
    await wait_connected(pilot, app)
    await mark_folder(pilot, app, "Drafts")
    await pilot.press("c")
    await wait_screen(pilot, app, PlanScreen, "the plan")
    await pilot.press("enter")
    await wait_screen(pilot, app, ReportScreen, "the report")
    await pilot.press("escape")
    await pilot.press("q")


@pytest.mark.parametrize("entry", ["copy", "demo", "account"])
def test_mailmig_makes_its_directories_and_their_missing_parents_owner_only(
    entry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usual_umask: None
) -> None:
    volume = tmp_path / "volume"  # there before mailmig: not its to change
    volume.mkdir()
    volume.chmod(0o755)
    home = volume / "mailmig" / "nested"
    for name in ("CONFIG", "STATE", "LOG"):
        monkeypatch.setenv(f"MAILMIG_{name}_DIR", str(home / name.lower()))
    if entry == "copy":
        source, target = write_demo_maildirs(tmp_path / "mail", scale=0.01)
        assert main(["copy", f"maildir://{source}", f"maildir://{target}"]) == 0
        made = {"state/journal.sqlite3", "log/transfer-"}
    elif entry == "demo":
        shm = Path("/dev/shm")  # the demo mailbox, fsynced message by message: in memory
        if shm.is_dir():
            monkeypatch.setattr(tempfile, "tempdir", str(shm))
        drive_headless(monkeypatch, _copy_drafts_then_quit)
        assert main(["demo"]) == 0
        made = {"state/journal.sqlite3", "log/tui.log", "log/transfer-"}
    else:  # what the TUI's account form calls to save an account
        spec = AccountSpec(
            kind="imap", user="al", host="mail.example.com", port=993, security=Security.TLS
        )
        save_account("work", spec)
        made = {"config/config.toml"}
    files = assert_private_tree(volume / "mailmig")
    for name in made:
        assert any(f.startswith(f"nested/{name}") for f in files), (name, files)
    assert mode(volume) == 0o755
