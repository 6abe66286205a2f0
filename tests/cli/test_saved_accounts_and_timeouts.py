"""Saved accounts by name, an unknown name, a server that never answers, and a server
without STATUS=SIZE, through the real command line."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.config import save_account
from mailmig_tui.model import AccountSpec, Security, TlsOptions
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox


def test_saved_account_by_name(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    slash_server: DovecotServer,
    isolated_mailmig: Path,
) -> None:
    user = slash_server.new_user()
    save_account(
        "old",
        AccountSpec(
            kind="imap",
            user=user,
            host="localhost",
            port=slash_server.imaps_port,
            security=Security.TLS,
            tls=TlsOptions(ca_file=str(slash_server.ca_file)),
        ),
        isolated_mailmig / "config" / "config.toml",
    )
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(user))
    assert main(["folders", "old", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["name"] == "INBOX"
    assert main(["folders", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown saved account 'nope'" in err and "old" in err


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word (a stalled or firewalled server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_times_out_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, silent_server: int
) -> None:
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "x-Zq8-secret")
    code = main(["folders", f"imap+plain://a@127.0.0.1:{silent_server}", "--timeout", "0.5"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no answer" in err and "0.5 s" in err and "Traceback" not in err


def test_sizes_are_summed_where_status_size_is_missing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = DovecotServer(
        shape="slash", capabilities="IMAP4rev1 ID ENABLE UNSELECT CHILDREN NAMESPACE UIDPLUS"
    ).start()
    try:
        user = server.new_user()
        seed_mailbox(server, user, standard_folders(), standard_corpus())
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(user))
        assert main(["folders", f"imap+plain://{user}@127.0.0.1:{server.imap_port}", "--json"]) == 0
        sizes = {f["name"]: f["size"] for f in json.loads(capsys.readouterr().out)}
        inbox = sum(len(m.data) for m in standard_corpus() if m.folder == ("INBOX",))
        assert sizes["INBOX"] == inbox
    finally:
        server.cleanup()
