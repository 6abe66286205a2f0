"""The servers every OAuth2 test module signs in against, as pytest fixtures (a plugin that
tests/conftest.py loads): the fake authorisation server and a real Dovecot whose oauth2
passdb checks every token at it. Module-scoped, so each test module has its own pair.

A module whose app has a client secret sets it per test
(`monkeypatch.setattr(fake, "client_secret", SECRET)`): the fake reads it on every request.
Also the helpers those modules share: the config an admin would write, and the browser.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterator

import pytest
import tomli_w

from mailmig_tui import paths
from tests.support.dovecot import DovecotServer
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer


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


def write_config(data: dict[str, object]) -> None:
    """mailmig's config file (owner-only directory, as mailmig makes it) holding `data`."""
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(tomli_w.dumps(data))


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
