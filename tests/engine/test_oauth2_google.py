"""Google: the browser sign-in with PKCE and a loopback redirect (the test is the browser),
the pasted-back address of a browser on another machine, a Workspace service account, and
refresh tokens kept in an owner-only file; against Dovecot's oauth2 passdb and the fake
authorisation server, whose endpoints replace Google's through [oauth2.NAME] tables.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailmig_tui import oauth2, oauth2_pkce, oauth2_tokens, paths
from mailmig_tui.accounts import parse_account_url
from mailmig_tui.cli import main
from mailmig_tui.engine.session import Accounts
from mailmig_tui.errors import AuthError
from mailmig_tui.oauth2_pkce import ShowUrl
from tests.support.dovecot import DovecotServer
from tests.support.oauth_fixtures import (
    browser_get,
    fresh_fake,
    google_table,
    plain_url,
    write_config,
)
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer, service_account_key

DESKTOP_SECRET = "GOCSPX-desktop-client-secret"


@pytest.fixture(autouse=True)
def fresh(fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    oauth2.forget_all()
    fresh_fake(fake, monkeypatch, DESKTOP_SECRET)
    monkeypatch.setenv("MAILMIG_OAUTH2_CLIENT_SECRET", DESKTOP_SECRET)
    yield
    oauth2.forget_all()


def google_mailbox(
    dovecot: DovecotServer, fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A new mailbox whose user signs in at the fake, [oauth2.google] in the config pointing
    there."""
    user = dovecot.new_user()
    monkeypatch.setattr(fake, "sign_in_user", user)
    write_config({"oauth2": {"google": google_table(fake)}})
    return user


def test_the_browser_coming_back_to_the_loopback_listener_signs_in(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = google_mailbox(dovecot, fake, monkeypatch)
    pages: list[int] = []
    browsing: list[threading.Thread] = []

    def browser(label: str) -> ShowUrl:
        def show(address: str, redirect_uri: str) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(address).query)
            assert query["code_challenge_method"] == ["S256"]
            assert query["redirect_uri"] == [redirect_uri] and query["login_hint"] == [user]

            def visit() -> None:  # the operator signs in; Google sends the browser back
                location = browser_get(address).getheader("Location") or ""
                assert location.startswith(redirect_uri)
                pages.append(browser_get(location).status)

            browsing.append(threading.Thread(target=visit))
            browsing[-1].start()

        return show

    monkeypatch.setattr(oauth2_tokens, "print_browser_url", browser)
    code = main(["folders", plain_url(dovecot, user), "--source-oauth2", "google", "--json"])
    out, err = capsys.readouterr()
    browsing[0].join(10)
    assert code == 0, err
    assert "INBOX" in {f["name"] for f in json.loads(out)}
    assert pages == [200]  # the listener thanked the browser
    (grant,) = fake.grants("authorization_code")
    assert grant["client_secret"] == DESKTOP_SECRET and len(grant["code_verifier"]) >= 43
    assert "kept for this run only" in err  # no keyring in the suite
    assert f"user=<{user}>, method=OAUTHBEARER" in dovecot.log_text()


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A pseudo-terminal as stdin, as over SSH; yields the side the operator types into."""
    primary, secondary = os.openpty()
    stdin = open(secondary, encoding="utf-8")  # noqa: SIM115 (closed below)
    monkeypatch.setattr(sys, "stdin", stdin)
    try:
        yield primary
    finally:
        stdin.close()
        os.close(primary)


def watch_readers(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[threading.Thread], threading.Event]:
    """The paste readers started, and an event set once the first one runs."""
    readers: list[threading.Thread] = []
    started = threading.Event()
    start = oauth2_pkce._start_reader

    def recording(*args: object) -> threading.Thread:
        readers.append(start(*args))  # type: ignore[arg-type]
        started.set()
        return readers[-1]

    monkeypatch.setattr(oauth2_pkce, "_start_reader", recording)
    return readers, started


def test_after_the_listener_wins_no_reader_stays_blocked_on_the_terminal(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    terminal: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = google_mailbox(dovecot, fake, monkeypatch)
    readers, reading = watch_readers(monkeypatch)
    browsing: list[threading.Thread] = []

    def browser(label: str) -> ShowUrl:
        def show(address: str, redirect_uri: str) -> None:
            def visit() -> None:  # once the terminal waits for a paste, the browser returns
                assert reading.wait(10)
                browser_get(browser_get(address).getheader("Location") or "")

            browsing.append(threading.Thread(target=visit))
            browsing[-1].start()

        return show

    monkeypatch.setattr(oauth2_tokens, "print_browser_url", browser)
    code, _out, err = run_folders(capsys, plain_url(dovecot, user), "--source-oauth2", "google")
    browsing[0].join(10)
    assert code == 0, err
    (reader,) = readers
    assert not reader.is_alive()  # it gave up the terminal when the listener won
    assert "oauth2-paste" not in {thread.name for thread in threading.enumerate()}
    assert len(fake.grants("authorization_code")) == 1


def test_the_address_pasted_into_the_terminal_signs_in(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    terminal: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = google_mailbox(dovecot, fake, monkeypatch)

    def browser(label: str) -> ShowUrl:
        def show(address: str, redirect_uri: str) -> None:
            # The browser runs elsewhere: its redirect never reaches the listener.
            location = browser_get(address).getheader("Location") or ""
            os.write(terminal, location.encode() + b"\n")

        return show

    monkeypatch.setattr(oauth2_tokens, "print_browser_url", browser)
    code, out, err = run_folders(capsys, plain_url(dovecot, user), "--source-oauth2", "google")
    assert code == 0, err
    assert "INBOX" in out
    assert f"user=<{user}>, method=OAUTHBEARER" in dovecot.log_text()


def paste_provider(
    dovecot: DovecotServer, fake: FakeOAuthServer, user: str, pasted: list[str]
) -> tuple[Accounts, threading.Event]:
    """A provider whose browser runs elsewhere: its redirect never reaches the listener, the
    operator pastes the address (`pasted` says how: whole address, or state changed)."""
    spec = oauth2.with_options(
        parse_account_url(plain_url(dovecot, user)),
        provider="google",
        tables={"google": google_table(fake)},
    )
    shown = threading.Event()
    location: list[str] = []

    def show(address: str, redirect_uri: str) -> None:
        location.append(browser_get(address).getheader("Location") or "")
        shown.set()

    def read_line(_stop: threading.Event) -> str:
        shown.wait(10)
        return pasted[0].replace("{location}", location[0]) + "\n"

    provider = oauth2.BrowserTokens(
        spec, oauth2.endpoints(spec), show_url=show, read_line=read_line, on_notice=lambda _: None
    )
    oauth2.register(spec, provider)
    return Accounts(spec, spec), shown


def test_the_redirected_address_pasted_back_signs_in(
    dovecot: DovecotServer, fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = dovecot.new_user()
    monkeypatch.setattr(fake, "sign_in_user", user)
    accounts, shown = paste_provider(dovecot, fake, user, ["{location}"])
    with accounts.open_source() as store:
        assert store.list_folders(with_status=False)
    assert shown.is_set()
    (grant,) = fake.grants("authorization_code")
    assert grant["redirect_uri"].startswith("http://127.0.0.1:")


def test_a_pasted_address_of_another_sign_in_is_refused(
    dovecot: DovecotServer, fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = dovecot.new_user()
    monkeypatch.setattr(fake, "sign_in_user", user)
    accounts, _shown = paste_provider(dovecot, fake, user, ["{location}x"])  # state changed
    with pytest.raises(AuthError, match="belongs to another sign-in"):
        accounts.open_source()
    assert not fake.grants("authorization_code")


def test_a_workspace_service_account_signs_in_as_the_mailbox(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = dovecot.new_user()
    key_file, email, public = service_account_key(tmp_path, fake.token_endpoint)
    monkeypatch.setitem(fake.service_accounts, email, public)
    write_config({})
    code, out, err = run_folders(
        capsys,
        plain_url(dovecot, user),
        "--source-oauth2",
        "google-service-account",
        "--oauth2-key-file",
        str(key_file),
    )
    assert code == 0, err
    assert "INBOX" in out
    (grant,) = fake.grants("urn:ietf:params:oauth:grant-type:jwt-bearer")
    assert "client_secret" not in grant  # the signed JWT is the credential
    assert f"user=<{user}>, method=OAUTHBEARER" in dovecot.log_text()


def run_folders(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["folders", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_device_flow_table_for_google_is_refused_before_any_request(
    dovecot: DovecotServer, fake: FakeOAuthServer, capsys: pytest.CaptureFixture[str]
) -> None:
    table = {"client_id": CLIENT_ID, "device_authorization_endpoint": fake.device_endpoint}
    write_config({"oauth2": {"google": table}})
    code, _out, err = run_folders(
        capsys, plain_url(dovecot, "someone"), "--source-oauth2", "google"
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Google's device flow refuses the Gmail scope" in err
    assert not fake.requests


def test_token_store_file_keeps_the_sign_in_for_the_next_run(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = dovecot.new_user()
    monkeypatch.setattr(fake, "device_user", user)
    monkeypatch.setattr(fake, "interval", 1)
    custom = {
        "client_id": CLIENT_ID,
        "device_authorization_endpoint": fake.device_endpoint,
        "token_endpoint": fake.token_endpoint,
        "scope": "imap offline_access",
    }
    write_config({"settings": {"token_store": "file"}, "oauth2": {"custom": custom}})
    code, _out, err = run_folders(capsys, plain_url(dovecot, user), "--source-oauth2", "custom")
    assert code == 0, err
    assert "enter the code WXYZ-1234" in err and "kept for this run only" not in err
    (token_file,) = (paths.state_dir() / "oauth2-tokens").iterdir()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    oauth2.forget_all()  # the next run: a new process, nothing in memory
    code, _out, err = run_folders(capsys, plain_url(dovecot, user), "--source-oauth2", "custom")
    assert code == 0, err
    assert "enter the code" not in err  # no device code the second time
    assert len(fake.grants("refresh_token")) == 1
    assert len(fake.grants("urn:ietf:params:oauth:grant-type:device_code")) == 1
