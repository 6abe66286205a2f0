"""Small pieces of the OAuth2 sign-ins: the optional JWT library, the token file, what a
pasted answer may look like, and the known config keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mailmig_tui import oauth2_jwt, oauth2_pkce
from mailmig_tui.config import load_config
from mailmig_tui.errors import AuthError, ConfigError, UsageError
from mailmig_tui.oauth2_store import FileStore


def test_without_pyjwt_the_service_account_sign_in_says_how_to_add_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "jwt", None)  # import jwt now raises ImportError
    account = {"client_email": "a@b", "private_key": "k", "token_uri": "https://t"}
    with pytest.raises(UsageError) as caught:
        oauth2_jwt.service_account_assertion(account, "alice@example.com", "s")
    line = caught.value.one_line()
    assert "pip install 'mailmig-tui[google]'" in line and "pipx inject mailmig-tui" in line


def test_the_token_file_is_owner_only_and_ignored_once_others_can_read_it(
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path / "tokens")
    assert store.save("oauth2:alice@h", "rt-1") is None
    path = store.path("oauth2:alice@h")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert store.load("oauth2:alice@h") == ("rt-1", None)
    assert store.load("oauth2:bob@h") == (None, None)
    os.chmod(path, 0o644)
    token, reason = store.load("oauth2:alice@h")
    assert token is None and reason is not None and "readable by others" in reason
    store.delete("oauth2:alice@h")
    assert not path.exists()


def test_a_pasted_answer_is_an_address_or_the_bare_code() -> None:
    assert oauth2_pkce.parse_answer("  c0de-only_123 \n", "st") == "c0de-only_123"
    assert oauth2_pkce.parse_answer("4/0AbCd-code_123", "st") == "4/0AbCd-code_123"
    assert oauth2_pkce.parse_answer("http://127.0.0.1:5/?state=st&code=c1", "st") == "c1"
    with pytest.raises(AuthError, match="another sign-in"):
        oauth2_pkce.parse_answer("http://127.0.0.1:5/?state=zz&code=c1", "st")
    with pytest.raises(AuthError, match="access_denied"):
        oauth2_pkce.parse_answer("http://127.0.0.1:5/?error=access_denied&state=st", "st")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[settings]\ntoken_store = "disk"\n', "token_store must be keyring or file"),
        ('[settings]\ntoken_stor = "file"\n', 'did you mean "token_store"'),
        ('[oauth2.microsoft-app]\nclient_secret = "x"\n', "secrets never go in the config"),
    ],
)
def test_oauth2_settings_in_the_config_file(text: str, words: str) -> None:
    from mailmig_tui import paths

    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_config()


def test_a_client_secret_command_is_a_known_key_not_a_secret() -> None:
    from mailmig_tui import paths

    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(
        '[settings]\ntoken_store = "file"\n[oauth2.microsoft-app]\nclient_id = "c"\n'
        'tenant = "t"\nclient_secret_command = "pass show app"\n'
        '[accounts.m]\nhost = "h"\nuser = "u@h"\noauth2 = "microsoft-app"\n'
        'oauth2_key_file = "/k.pem"\n'
    )
    spec = load_config().accounts["m"]
    assert spec.oauth2 is not None
    assert (spec.oauth2.key_file, spec.oauth2.token_store) == ("/k.pem", "file")
