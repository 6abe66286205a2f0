"""Account URLs, saved accounts and the config file: every wrong value is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailmig_tui.accounts import apply_options, parse_account_url, to_url
from mailmig_tui.config import load_config, save_account
from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.model import AccountSpec, Security


@pytest.mark.parametrize(
    ("url", "security", "port", "user"),
    [
        ("imaps://alice@mail.example.com", Security.TLS, 993, "alice"),
        ("imap://alice@mail.example.com", Security.STARTTLS, 143, "alice"),
        ("imap+plain://bob@127.0.0.1:1143", Security.PLAIN, 1143, "bob"),
        (
            "imaps://alice%40example.com@mail.example.com:10993",
            Security.TLS,
            10993,
            "alice@example.com",
        ),
        ("IMAPS://a%3Ab@host", Security.TLS, 993, "a:b"),
    ],
)
def test_account_urls(url: str, security: Security, port: int, user: str) -> None:
    spec = parse_account_url(url)
    assert (spec.kind, spec.security, spec.port, spec.user) == ("imap", security, port, user)
    assert parse_account_url(to_url(spec)) == spec


def test_local_urls() -> None:
    assert parse_account_url("maildir:///home/alice/Maildir").path == "/home/alice/Maildir"
    assert parse_account_url("mbox:///var/mail/alice").kind == "mbox"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("pop5://alice@host", "unknown account URL scheme"),
        ("imaps://host", "has no user"),
        ("imaps://alice@", "has no host"),
        ("imaps://alice@host:99999", "bad port"),
        ("imaps://alice@host:abc", "bad port"),
        ("imaps://alice:secret@host", "password does not belong"),
        ("maildir://relative/path", "absolute path"),
        ("imaps://alice@host/INBOX", "unexpected path"),
    ],
)
def test_bad_urls_are_one_line_usage_errors(url: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_account_url(url)
    assert words in caught.value.one_line()
    assert "\n" not in caught.value.one_line()
    assert "secret" not in caught.value.one_line()


def test_plaintext_only_to_loopback_unless_allowed(tmp_path: Path) -> None:
    remote = parse_account_url("imap+plain://alice@mail.example.com")
    with pytest.raises(UsageError, match="unencrypted"):
        apply_options(remote)
    assert apply_options(remote, allow_plaintext=True).allow_plaintext
    for host in ("127.0.0.1", "localhost", "[::1]"):
        apply_options(parse_account_url(f"imap+plain://alice@{host}:1143"))


def test_unreadable_ca_file_is_refused(tmp_path: Path) -> None:
    spec = parse_account_url("imaps://alice@mail.example.com")
    with pytest.raises(UsageError, match="cannot read the CA file"):
        apply_options(spec, ca_file=str(tmp_path / "missing.pem"))


def test_saved_accounts_round_trip_without_passwords(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    spec = AccountSpec(
        kind="imap",
        user="alice@example.com",
        host="mail.example.com",
        port=993,
        security=Security.TLS,
    )
    save_account("old", spec, path)
    save_account("files", AccountSpec(kind="maildir", path="/home/alice/Maildir"), path)
    config = load_config(path)
    assert config.accounts["old"].user == "alice@example.com"
    assert config.accounts["old"].name == "old"
    assert config.accounts["files"].path == "/home/alice/Maildir"
    assert "password" not in path.read_text()
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[accounts.x]\nhost = "h"\nuser = "u"\npassword = "hunter2"\n', "passwords never go"),
        ("[accounts.x\nhost=1", "not valid TOML"),
        ('[accounts.x]\nhost = "h"\n', "lacks 'user'"),
        ('[accounts.x]\nhost = "h"\nuser = "u"\nsecurity = "ssl3"\n', "security is"),
        ("[settings]\ntimeout = -1\n", "positive number"),
    ],
)
def test_config_errors_are_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert words in caught.value.one_line()
    assert "hunter2" not in caught.value.one_line()


def test_missing_config_is_empty(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml").accounts == {}
