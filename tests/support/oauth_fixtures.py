"""The servers every OAuth2 test module signs in against, as pytest fixtures (a plugin that
tests/conftest.py loads): the fake authorisation server and a real Dovecot whose oauth2
passdb checks every token at it. Module-scoped, so each test module has its own pair.

A module whose app has a client secret sets it per test (`fresh_fake(fake, monkeypatch,
SECRET)`): the fake reads it on every request. `providers_forgotten` is opt-in (not autouse),
as a plugin's autouse fixture would run for the whole suite. Also the helpers those modules
share: the config an admin would write, the seeded mailbox, the account address, a mailmig
run, and the browser.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterator

import pytest
import tomli_w

from mailmig_tui import oauth2, paths
from mailmig_tui.cli import main
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer
from tests.support.seeding import seed_mailbox


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuthServer]:
    server = FakeOAuthServer(client_id=CLIENT_ID).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dovecot(fake: FakeOAuthServer) -> Iterator[DovecotServer]:
    server = DovecotServer(oauth2_introspection_url=fake.introspection_url).start()
    yield server
    server.cleanup()


def fresh_fake(
    fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch, client_secret: str | None = None
) -> None:
    """The fake with no request recorded yet and, when given, the app's client secret; both
    undone after the test."""
    monkeypatch.setattr(fake, "requests", [])
    if client_secret is not None:
        monkeypatch.setattr(fake, "client_secret", client_secret)


def write_config(data: dict[str, object]) -> None:
    """mailmig's config file (owner-only directory, as mailmig makes it) holding `data`."""
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(tomli_w.dumps(data))


@pytest.fixture
def providers_forgotten() -> Iterator[None]:
    """No OAuth2 provider or token carried into or out of a test; a module opts in with
    `pytestmark = pytest.mark.usefixtures("providers_forgotten")`."""
    oauth2.forget_all()
    yield
    oauth2.forget_all()


def seeded_user(dovecot: DovecotServer) -> str:
    """A new mailbox holding the standard folders and corpus."""
    user = dovecot.new_user()
    seed_mailbox(dovecot, user, standard_folders(), standard_corpus())
    return user


def plain_url(server: DovecotServer, user: str) -> str:
    """The account address of `user` on `server`'s plain-text IMAP port."""
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def run_mailmig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """One `mailmig` command line: its exit status, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def device_table(fake: FakeOAuthServer) -> dict[str, str]:
    """[oauth2.custom] for the device sign-in at the fake."""
    return {
        "client_id": CLIENT_ID,
        "device_authorization_endpoint": fake.device_endpoint,
        "token_endpoint": fake.token_endpoint,
        "scope": "imap offline_access",
    }


def google_table(fake: FakeOAuthServer) -> dict[str, str]:
    """[oauth2.google] pointing at the fake, as an admin's config would point at Google."""
    return {
        "client_id": CLIENT_ID,
        "authorization_endpoint": fake.url + "/authorize",
        "token_endpoint": fake.token_endpoint,
    }


def browser_get(address: str) -> http.client.HTTPResponse:
    """One GET, redirects not followed: what a browser's first request sees."""
    parts = urllib.parse.urlsplit(address)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", f"{parts.path or '/'}?{parts.query}")
    response = connection.getresponse()
    response.read()
    connection.close()
    return response
