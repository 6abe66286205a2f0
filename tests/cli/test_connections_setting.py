"""`connections`: --connections, a saved account's own limit, [settings], else the presets.

What the copy actually uses is read where the runner splits the connections
(`runner.plan_connections`), on real copies between two Dovecots.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mailmig_tui.engine.runner as runner
from mailmig_tui.cli import main
from mailmig_tui.config import load_config
from mailmig_tui.errors import ConfigError
from tests.support.dovecot import DovecotServer


def url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The connections per server each copy ran with."""
    seen: list[int] = []
    original = runner.plan_connections

    def recording(connections: int, folders: int) -> tuple[int, int]:
        seen.append(connections)
        return original(connections, folders)

    monkeypatch.setattr(runner, "plan_connections", recording)
    return seen


def test_the_option_the_saved_account_and_the_settings_decide_in_that_order(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    isolated_mailmig: Path,
    monkeypatch: pytest.MonkeyPatch,
    used: list[int],
) -> None:
    source_user = slash_server.new_user()
    client = slash_server.client(source_user)
    try:
        client.append("INBOX", b"Subject: one\r\nMessage-ID: <c1@x>\r\n\r\nbody\r\n")
    finally:
        client.logout()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(source_user))
    config = isolated_mailmig / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)

    def copy(*extra: str) -> None:
        target_user = courier_server.new_user()
        monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", courier_server.password(target_user))
        args = ["copy", "old", url(courier_server, target_user), "--no-verify", *extra]
        assert main(args) == 0

    account = (
        f'[accounts.old]\nhost = "127.0.0.1"\nport = {slash_server.imap_port}\n'
        f'security = "plain"\nuser = "{source_user}"\n'
    )
    config.write_text(account)
    copy()
    config.write_text("[settings]\nconnections = 5\n" + account)
    copy()
    config.write_text("[settings]\nconnections = 5\n" + account + "connections = 3\n")
    copy()
    copy("--connections", "2")
    assert used == [8, 5, 3, 2]  # Dovecot has no preset: the default of 8


@pytest.mark.parametrize("value", ["0", "-2", "2.5", '"many"', "true"])
def test_a_bad_connections_value_is_one_clear_line(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[settings]\nconnections = {value}\n")
    with pytest.raises(ConfigError, match=r"settings\.connections must be a whole number"):
        load_config(config)
    config.write_text(f'[accounts.a]\nhost = "h"\nuser = "u"\nconnections = {value}\n')
    with pytest.raises(ConfigError, match=r"accounts\.a\.connections must be a whole number"):
        load_config(config)


def test_the_smallest_saved_limit_of_the_two_accounts_wins(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[settings]\nconnections = 6\n[accounts.a]\nhost = "h"\nuser = "u"\nconnections = 4\n'
        '[accounts.b]\nhost = "h2"\nuser = "u"\nconnections = 12\n'
        '[accounts.c]\nhost = "h3"\nuser = "u"\n'
    )
    loaded = load_config(config)
    a, b, c = (loaded.accounts[name] for name in "abc")
    assert loaded.connection_limit(a, b) == 4
    assert loaded.connection_limit(b, c) == 12
    assert loaded.connection_limit(c) == 6  # [settings]
