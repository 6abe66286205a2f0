"""Microsoft 365 app-only access (provider microsoft-app, the client credentials grant)
against a real Dovecot whose oauth2 passdb checks every token at the fake authorisation
server, and a refused token fetched anew once.

The fake's app tokens stand for the mailboxes of `app_mailboxes` in the order they are
issued (see tests/support/oauth_server.py): Dovecot's introspection names no mailbox.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from mailmig_tui import oauth2
from mailmig_tui.accounts import parse_account_url
from mailmig_tui.engine.session import Accounts
from mailmig_tui.errors import AuthError
from mailmig_tui.model import OAuth2Spec
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.oauth_fixtures import fresh_fake, plain_url, run_mailmig, write_config
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer, app_certificate
from tests.support.seeding import folder_contents, seed_mailbox

SECRET = "app-secret-Qx7-never-shown"
TENANT = "contoso.example"


@pytest.fixture(autouse=True)
def fresh(fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    oauth2.forget_all()
    fresh_fake(fake, monkeypatch, SECRET)
    monkeypatch.setattr(fake, "app_mailboxes", [])
    monkeypatch.setattr(fake, "app_certificate", b"")
    monkeypatch.delenv("MAILMIG_OAUTH2_CLIENT_SECRET", raising=False)
    # The token endpoint of [oauth2.microsoft-app] points at the fake; everything else is
    # the built-in provider's (scope https://outlook.office365.com/.default).
    table = {"token_endpoint": fake.token_endpoint, "tenant": TENANT, "client_id": CLIENT_ID}
    write_config({"oauth2": {"microsoft-app": table}})
    yield
    oauth2.forget_all()


def test_folders_with_a_client_secret_from_the_environment(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mailbox = dovecot.new_user()
    seed_mailbox(dovecot, mailbox, standard_folders()[:2], standard_corpus()[:3])
    fake.app_mailboxes = [mailbox]
    monkeypatch.setenv("MAILMIG_OAUTH2_CLIENT_SECRET", SECRET)
    code, out, err = run_mailmig(
        capsys, "folders", plain_url(dovecot, mailbox), "--source-oauth2", "microsoft-app", "--json"
    )
    assert code == 0, err
    assert "INBOX" in {folder["name"] for folder in json.loads(out)}
    (grant,) = fake.grants("client_credentials")
    assert grant["scope"] == "https://outlook.office365.com/.default"
    assert grant["client_secret"] == SECRET and "refresh_token" not in grant
    assert f"user=<{mailbox}>, method=OAUTHBEARER" in dovecot.log_text()  # the mailbox signs in
    assert SECRET not in err and SECRET not in out


def test_ls_with_the_client_secret_from_a_command(
    dovecot: DovecotServer, fake: FakeOAuthServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mailbox = dovecot.new_user()
    seed_mailbox(dovecot, mailbox, standard_folders()[:1], standard_corpus()[:2])
    fake.app_mailboxes = [mailbox]
    command = shlex.join([sys.executable, "-c", f"print({SECRET!r}); print('second line')"])
    code, out, err = run_mailmig(
        capsys,
        "ls",
        plain_url(dovecot, mailbox),
        "INBOX",
        "--source-oauth2",
        "microsoft-app",
        "--oauth2-client-secret-command",
        command,
        "--json",
    )
    assert code == 0, err
    assert len(json.loads(out)) == 2
    assert fake.grants("client_credentials")[0]["client_secret"] == SECRET  # its first line


def test_no_client_secret_anywhere_is_one_line_naming_every_source(
    dovecot: DovecotServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_mailmig(
        capsys, "folders", plain_url(dovecot, "someone"), "--source-oauth2", "microsoft-app"
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "no client secret for the microsoft-app app" in err
    assert "MAILMIG_OAUTH2_CLIENT_SECRET" in err and "--oauth2-client-secret-command" in err


def test_copy_and_verify_into_an_app_only_target_with_a_certificate(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, target = dovecot.new_user(), dovecot.new_user()
    seed_mailbox(dovecot, source, standard_folders(), standard_corpus())
    key_file, certificate = app_certificate(tmp_path)
    fake.app_certificate = certificate  # the fake checks each assertion's signature with it
    fake.app_mailboxes = [target]
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", dovecot.password(source))
    app = ("--target-oauth2", "microsoft-app", "--oauth2-key-file", str(key_file))
    code, _out, err = run_mailmig(
        capsys, "copy", plain_url(dovecot, source), plain_url(dovecot, target), *app
    )
    assert code == 0, err
    for folder in standard_folders():
        name = dovecot.folder_name(folder.parts)
        want = [e[b"BODY[]"] for e in folder_contents(dovecot, source, name)]
        assert [e[b"BODY[]"] for e in folder_contents(dovecot, target, name)] == want
    grants = fake.grants("client_credentials")
    assert grants and all("client_secret" not in g for g in grants)
    assert {g["client_assertion_type"] for g in grants} == {
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    }
    assert len(grants) == 1  # one token, cached across the copy's connections
    code, _out, err = run_mailmig(
        capsys, "verify", plain_url(dovecot, source), plain_url(dovecot, target), *app
    )
    assert code == 0, err


def test_a_certificate_the_app_does_not_know_is_refused_in_one_line(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "other").mkdir()
    key_file, _ = app_certificate(tmp_path / "other")
    _registered, certificate = app_certificate(tmp_path)
    fake.app_certificate = certificate
    code, _out, err = run_mailmig(
        capsys,
        "folders",
        plain_url(dovecot, "bob"),
        "--source-oauth2",
        "microsoft-app",
        "--oauth2-key-file",
        str(key_file),
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "microsoft-app refused the app's sign-in (client credentials) (invalid_client" in err


def test_batch_with_one_app_for_every_rows_mailbox(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = []
    for number in (1, 2):
        source, target = dovecot.new_user(), dovecot.new_user()
        seed_mailbox(dovecot, source, standard_folders()[:2], standard_corpus()[:4])
        monkeypatch.setenv(f"SRC{number}", dovecot.password(source))
        rows.append(
            (plain_url(dovecot, source), plain_url(dovecot, target), f"SRC{number}", target)
        )
    fake.app_mailboxes = [row[3] for row in rows]  # --parallel 1: row 1 signs in first
    monkeypatch.setenv("MAILMIG_OAUTH2_CLIENT_SECRET", SECRET)
    users = tmp_path / "users.csv"
    users.write_text(
        "source,target,source_password_env\n" + "".join(f"{s},{t},{env}\n" for s, t, env, _ in rows)
    )
    report = tmp_path / "report.json"
    code, _out, err = run_mailmig(
        capsys,
        "batch",
        str(users),
        "--parallel",
        "1",
        "--target-oauth2",
        "microsoft-app",
        "--report",
        str(report),
    )
    assert code == 0, err
    assert [u["state"] for u in json.loads(report.read_text())["users"]] == ["done", "done"]
    log = dovecot.log_text()
    for *_, target in rows:
        assert f"user=<{target}>, method=OAUTHBEARER" in log
        assert folder_contents(dovecot, target, "INBOX")
    assert len(fake.grants("client_credentials")) == 2  # one token per mailbox, same app


# -- a token the server refuses is fetched anew, once -------------------------------------------


def app_spec(dovecot: DovecotServer, fake: FakeOAuthServer, mailbox: str) -> Accounts:
    spec = parse_account_url(plain_url(dovecot, mailbox))
    table = {"token_endpoint": fake.token_endpoint, "tenant": TENANT}
    tables = {"microsoft-app": table}
    spec = oauth2.with_options(spec, provider="microsoft-app", client_id=CLIENT_ID, tables=tables)
    assert spec.oauth2 is not None and spec.oauth2 == OAuth2Spec("microsoft-app", CLIENT_ID)
    return Accounts(spec, replace(spec))


def test_a_revoked_cached_token_is_dropped_and_fetched_anew(
    dovecot: DovecotServer, fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = dovecot.new_user()
    fake.app_mailboxes = [mailbox]
    monkeypatch.setenv("MAILMIG_OAUTH2_CLIENT_SECRET", SECRET)
    accounts = app_spec(dovecot, fake, mailbox)
    with accounts.open_source() as store:
        assert store.list_folders(with_status=False)
    first = oauth2.token_provider(accounts.source)()
    fake.revoke(first)  # e.g. the admin removed and re-added the mailbox permission
    with accounts.open_source() as store:
        assert store.list_folders(with_status=False)
    assert len(fake.grants("client_credentials")) == 2
    assert oauth2.token_provider(accounts.source)() != first


def test_a_new_token_refused_too_is_one_line_after_one_more_try(
    dovecot: DovecotServer, fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = dovecot.new_user()
    fake.app_mailboxes = [mailbox]
    monkeypatch.setattr(fake, "refuse_next", 5)  # e.g. no FullAccess on this mailbox
    monkeypatch.setenv("MAILMIG_OAUTH2_CLIENT_SECRET", SECRET)
    accounts = app_spec(dovecot, fake, mailbox)
    with pytest.raises(AuthError) as caught:
        accounts.open_source()
    line = caught.value.one_line()
    assert f"refused the OAuth2 sign-in (OAUTHBEARER) for {mailbox}" in line
    assert "(also with a new token)" in line and "\n" not in line
    assert len(fake.grants("client_credentials")) == 2  # the first, and one more: no loop
