"""Migrating without the users' passwords: an admin opens each user's mailbox."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mailmig_tui.cli import main
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox


@pytest.fixture(scope="module")
def admin_server() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="slash", master_user="admin").start()
    yield server
    server.cleanup()


def test_sasl_plain_authzid_and_master_user_login_open_the_users_mailbox(
    admin_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = admin_server.new_user()
    seed_mailbox(admin_server, user, standard_folders()[:2], standard_corpus()[:5])
    target = courier_server.new_user()
    # Only the admin's password is known: never the user's.
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", admin_server.password("admin"))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", courier_server.password(target))
    source = f"imap+plain://admin@127.0.0.1:{admin_server.imap_port}"
    dest = f"imap+plain://{target}@127.0.0.1:{courier_server.imap_port}"
    capsys.readouterr()
    assert main(["folders", source, "--source-login-as", user, "--json"]) == 0
    inbox = {f["name"]: f for f in json.loads(capsys.readouterr().out)}["INBOX"]
    assert inbox["messages"] == sum(1 for m in standard_corpus()[:5] if m.folder == ("INBOX",))
    assert main(["copy", source, dest, "--source-login-as", user]) == 0
    assert "(as admin)" in capsys.readouterr().out
    # Dovecot's master-user login form needs nothing of ours: USER*MASTER is just a login.
    master_form = f"imap+plain://{user}%2Aadmin@127.0.0.1:{admin_server.imap_port}"
    assert main(["verify", master_form, dest]) == 0
    # A wrong admin password is refused like any login.
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "not-the-admin-password")
    assert main(["folders", source, "--source-login-as", user]) == 2
    assert "refused the login" in capsys.readouterr().err
