"""config.toml as its owner wrote it: saving an account keeps every comment and every other
table byte for byte, and an unknown key is refused by name with the key it likely meant."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailmig_tui import paths
from mailmig_tui.cli import main
from mailmig_tui.config import (
    ACCOUNT_KEYS,
    OAUTH2_TABLE_KEYS,
    SETTINGS_KEYS,
    account_table,
    load_config,
    save_account,
)
from mailmig_tui.errors import ConfigError
from mailmig_tui.kinds import KINDS
from mailmig_tui.model import AccountSpec, OAuth2Spec, Security, TlsOptions
from mailmig_tui.password_command import with_password_command

HEAD = """\
# mailmig's config, kept by hand on the migration host
[settings]
timeout = 45   # the old box is slow

# ---- accounts ---------------------------------------------------------------
[accounts.old]   # the basement server
host = "mail.example.com"  # until June
port = 993
security = "tls"
user = "alice@example.com"
"""
MIDDLE = """\

# Maildir copied off the old disk
[accounts.files]
maildir = "/srv/old/alice/Maildir"
"""
TAIL = """\

# ---- sign-in defaults (no secrets here!) ---------------------------------------
[oauth2.microsoft]
client_id = "00001111-aaaa-2222-bbbb-3333cccc4444"   # our app registration
tenant = "contoso.com"

[keymap]
copy = "f5,c"   # like mc
"""
COMMENTED = HEAD + MIDDLE + TAIL

NEW = AccountSpec(
    kind="imap", user="bob@example.com", host="new.example.com", port=993,
    security=Security.TLS, tls=TlsOptions(ca_file="/etc/ssl/our-ca.pem"),
)  # fmt: skip


def config_path() -> Path:
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    return path


def comments(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def test_adding_an_account_keeps_every_comment_and_other_table_byte_for_byte() -> None:
    path = config_path()
    path.write_text(COMMENTED)
    save_account("new", with_password_command(NEW, "pass show mail/bob"))
    text = path.read_text()
    assert text.startswith(HEAD + MIDDLE), text
    assert text.endswith(TAIL), text  # the comment above [oauth2.…] stays with it
    assert comments(text) == comments(COMMENTED)
    config = load_config()
    assert list(config.accounts) == ["old", "files", "new"]
    assert config.accounts["new"].password_command == "pass show mail/bob"
    assert config.accounts["new"].tls.ca_file == "/etc/ssl/our-ca.pem"
    assert config.timeout == 45 and config.keymap == {"copy": "f5,c"}


def test_replacing_an_account_changes_its_changed_lines_only() -> None:
    path = config_path()
    path.write_text(COMMENTED)
    old = load_config().accounts["old"]
    save_account("old", AccountSpec(**{**old.__dict__, "security": Security.STARTTLS}))
    text = path.read_text()
    assert text == COMMENTED.replace('security = "tls"', 'security = "starttls"'), text
    save_account("files", AccountSpec(kind="maildir", path="/srv/new/Maildir", name="files"))
    text = path.read_text()
    assert text.startswith(HEAD.replace('"tls"', '"starttls"')) and text.endswith(TAIL)
    assert comments(text) == comments(COMMENTED)
    assert load_config().accounts["files"].path == "/srv/new/Maildir"


def test_saving_into_a_new_or_accountless_file() -> None:
    path = config_path()
    save_account("new", NEW)
    assert tomllib.loads(path.read_text())["accounts"]["new"]["host"] == "new.example.com"
    path.write_text(TAIL.lstrip("\n"))
    save_account("new", NEW)
    text = path.read_text()
    assert text.startswith(TAIL.lstrip("\n")) and load_config().accounts["new"] == NEW.__class__(
        **{**NEW.__dict__, "name": "new"}
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[accounts.old]\nhost = "h"\nuser = "u"\nsecurty = "starttls"\n',
            '[accounts.old] unknown key "securty"; did you mean "security"?',
        ),
        ("[settings]\ntimeuot = 30\n", '[settings] unknown key "timeuot"; did you mean "timeout"?'),
        ("[setings]\ntimeout = 30\n", ': unknown key "setings"; did you mean "settings"?'),
        (
            "[oauth2.microsoft]\ntennant = 'x'\n",
            '[oauth2.microsoft] unknown key "tennant"; did you mean "tenant"?',
        ),
        (
            "[accounts.files]\nmaildir = '/m'\npassword_command = 'x'\n",
            '[accounts.files] unknown key "password_command"',
        ),
        (
            "[accounts.ssh]\ncommand = 'ssh old imap'\npassword_comand = 'pass x'\n",
            '[accounts.ssh] unknown key "password_comand"; did you mean "password_command"?',
        ),
        (
            "[accounts.a]\nhost = 'h'\nuser = 'u'\npassword_command_shell = 'yes'\n",
            "password_command_shell is true or false",
        ),
        (
            "[accounts.a]\nhost = 'h'\nuser = 'u'\npassword_command = \"pass 'x\"\n",
            "cannot split the password command",
        ),
    ],
)
def test_unknown_and_wrong_keys_are_refused_by_name(text: str, expected: str) -> None:
    config_path().write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    line = caught.value.one_line()
    assert expected in line and "\n" not in line, line
    assert line.startswith(str(paths.config_file()))


def test_an_unknown_key_without_a_likely_match_lists_the_known_keys() -> None:
    config_path().write_text("[accounts.a]\nhost = 'h'\nuser = 'u'\nzzz = 1\n")
    known = r'unknown key "zzz" \(known keys: ca_file, connections, host, '
    with pytest.raises(ConfigError, match=known):
        load_config()


def test_a_typo_stops_the_command_line_with_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path().write_text('[accounts.old]\nhost = "h"\nuser = "u"\nsecurty = "starttls"\n')
    assert main(["folders", "old"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.endswith('[accounts.old] unknown key "securty"; did you mean "security"?\n')


def test_every_kind_has_its_known_keys_and_saves_only_known_keys() -> None:
    assert set(ACCOUNT_KEYS) == set(KINDS)
    assert "timeout" in SETTINGS_KEYS and "client_id" in OAUTH2_TABLE_KEYS
    samples = [
        with_password_command(NEW, "echo x | head -1", shell=True),
        AccountSpec(kind="imap", user="a", host="h", port=993, login_as="b",
                    oauth2=OAuth2Spec("microsoft", "id", "t", "cmd")),
        AccountSpec(kind="pop3", user="a", host="h", port=995),
        with_password_command(AccountSpec(kind="command", command="ssh x imap", user="a"), "p"),
        AccountSpec(kind="maildir", path="/m"),
        AccountSpec(kind="mbox", path="/m.mbox"),
    ]  # fmt: skip
    for spec in samples:
        table = account_table(spec)
        assert set(table) <= ACCOUNT_KEYS[spec.kind], (spec.kind, table)
    path = config_path()
    for number, spec in enumerate(samples):
        save_account(f"a{number}", spec)
    loaded = load_config().accounts
    assert loaded["a0"].password_command_shell and loaded["a0"].password_command == (
        "echo x | head -1"
    )
    assert loaded["a3"].password_command == "p"
    assert len(tomllib.loads(path.read_text())["accounts"]) == len(samples)
