"""Shared fixtures: real Dovecot servers of both shapes, isolated mailmig directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer, running
from tests.support.seeding import seed_mailbox

# `fake` and `dovecot` (module-scoped) for the OAuth2 tests: the authorisation server and a
# Dovecot that checks tokens at it.
pytest_plugins = ("tests.support.oauth_fixtures",)

SHAPES = ("slash", "courier")


@pytest.fixture(autouse=True)
def isolated_mailmig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config/state/log in a temp dir, no passwords inherited, no real keyring touched."""
    home = tmp_path / "mailmig-home"
    for name in ("CONFIG", "STATE", "LOG"):
        monkeypatch.setenv(f"MAILMIG_{name}_DIR", str(home / name.lower()))
    monkeypatch.delenv("MAILMIG_SOURCE_PASSWORD", raising=False)
    monkeypatch.delenv("MAILMIG_TARGET_PASSWORD", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return home


@pytest.fixture(scope="session")
def slash_server() -> Iterator[DovecotServer]:
    yield from running(DovecotServer(shape="slash"))


@pytest.fixture(scope="session")
def courier_server() -> Iterator[DovecotServer]:
    yield from running(DovecotServer(shape="courier"))


@pytest.fixture(params=SHAPES)
def server(request: pytest.FixtureRequest) -> DovecotServer:
    """Each test that takes `server` runs once per server shape."""
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


_seeded_users: dict[str, str] = {}


@pytest.fixture
def seeded_user(server: DovecotServer) -> str:
    """A user holding the standard corpus; shared read-only across tests of one shape."""
    if server.shape not in _seeded_users:
        user = server.new_user()
        seed_mailbox(server, user, standard_folders(), standard_corpus())
        _seeded_users[server.shape] = user
    return _seeded_users[server.shape]
