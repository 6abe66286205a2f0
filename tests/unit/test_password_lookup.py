"""The password sources one by one, and their order (secrets.find_password): a password
command, the environment, the netrc file; with real commands and real files."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from mailmig_tui import secrets
from mailmig_tui.errors import PasswordUnavailable, UsageError
from mailmig_tui.model import AccountSpec
from mailmig_tui.netrc_file import netrc_password
from mailmig_tui.password_command import run_password_command, with_password_command

SPEC = AccountSpec(kind="imap", user="alice", host="Mail.Example.com", port=993)


def commanded(command: str, *, shell: bool = False) -> AccountSpec:
    return with_password_command(SPEC, command, shell=shell)


def test_the_first_line_is_the_password_and_the_account_is_in_the_environment() -> None:
    spec = commanded('sh -c \'printf "%s@%s\\nnext\\n" "$MAILMIG_PASSWORD_USER" '
                     '"$MAILMIG_PASSWORD_HOST"\'')  # fmt: skip
    assert run_password_command(spec) == "alice@Mail.Example.com"
    assert run_password_command(commanded("printf ' spaced pw \\r\\n'")) == " spaced pw "


def test_a_shell_line_runs_only_when_the_setting_says_so() -> None:
    line = "echo one | tr o O"
    assert run_password_command(commanded(line, shell=True)) == "One"
    assert run_password_command(commanded(line)) == "one | tr o O"  # echo's arguments
    assert commanded("pass  show 'mail/a b'").password_command == "pass show 'mail/a b'"
    with pytest.raises(UsageError, match="cannot split the password command"):
        commanded("pass show 'x")
    with pytest.raises(UsageError, match="empty"):
        commanded("  ")


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("sh -c 'echo Zq8-said-this; exit 4'", "(sh) for alice@Mail.Example.com failed (exit"),
        ("sh -c 'echo Zq8-said-this >&2; kill -9 $$'", "was killed by signal 9"),
        ("/nonexistent/Zq8-pw-tool", "cannot run: /nonexistent/Zq8-pw-tool was not found"),
        ("sh -c 'echo; echo Zq8-said-this'", "printed no password on its first line"),
        (str(Path(__file__)), "cannot run: Permission denied"),
    ],
)
def test_failures_are_one_line_naming_the_program_never_the_output(
    command: str, words: str
) -> None:
    with pytest.raises(PasswordUnavailable) as caught:
        run_password_command(commanded(command))
    line = caught.value.one_line()
    assert words in line and "Zq8-said-this" not in line and "\n" not in line, line


def test_a_command_that_hangs_is_stopped() -> None:
    with pytest.raises(PasswordUnavailable, match=r"\(sleep\) .* did not finish within 0.3 s"):
        run_password_command(commanded("sleep 30"), timeout=0.3)


def write_netrc(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "netrc"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def notices() -> list[str]:
    return []


def test_netrc_matches_host_without_case_and_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notices: list[str]
) -> None:
    monkeypatch.setenv("NETRC", str(write_netrc(tmp_path, (
        "machine other.example.com login alice password not-this\n"
        'machine mail.example.com login alice password "pw with space"\n'
        "default login alice password never-the-default\n"
    ))))  # fmt: skip
    assert netrc_password(SPEC, notices.append) == "pw with space"
    bob = AccountSpec(kind="imap", user="bob", host="mail.example.com", port=993)
    assert netrc_password(bob, notices.append) is None  # its entry names alice
    elsewhere = AccountSpec(kind="imap", user="alice", host="new.example.com", port=993)
    assert netrc_password(elsewhere, notices.append) is None  # `default` is never used
    monkeypatch.setenv("NETRC", str(write_netrc(tmp_path, "machine mail.example.com password p\n")))
    assert netrc_password(bob, notices.append) == "p"  # no login: any user
    assert notices == []


def test_netrc_in_home_is_read_when_netrc_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notices: list[str]
) -> None:
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert netrc_password(SPEC, notices.append) is None and notices == []  # no file: silent
    (tmp_path / ".netrc").write_text("machine mail.example.com login alice password home-pw\n")
    (tmp_path / ".netrc").chmod(0o600)
    assert netrc_password(SPEC, notices.append) == "home-pw"


@pytest.mark.parametrize(
    ("mode", "text", "words"),
    [
        (0o644, "machine mail.example.com login alice password p\n", "(mode 644); chmod 600"),
        (0o620, "machine mail.example.com login alice password p\n", "(mode 620)"),
        (0o600, "machine mail.example.com login alice password Zq8-pw Zq8-stray\n", "not in netrc"),
    ],
)
def test_an_unsafe_or_broken_netrc_is_ignored_with_a_notice(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    notices: list[str],
    mode: int,
    text: str,
    words: str,
) -> None:
    path = write_netrc(tmp_path, text, mode)
    monkeypatch.setenv("NETRC", str(path))
    assert netrc_password(SPEC, notices.append) is None
    assert len(notices) == 1 and notices[0].startswith(f"ignoring {path}: ")
    assert words in notices[0] and "Zq8" not in notices[0], notices


def test_the_order_command_then_environment_then_netrc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NETRC", str(write_netrc(
        tmp_path, "machine mail.example.com login alice password from-netrc\n"
    )))  # fmt: skip
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "from-env")
    assert secrets.find_password(commanded("echo from-command"), "source") == "from-command"
    assert secrets.find_password(SPEC, "source") == "from-env"
    assert secrets.find_password(SPEC, "source", given=lambda: "from-row") == "from-row"
    monkeypatch.delenv("MAILMIG_SOURCE_PASSWORD")
    assert secrets.find_password(SPEC, "source") == "from-netrc"
    assert secrets.find_password(SPEC, "target") == "from-netrc"
    Path(tmp_path / "netrc").chmod(0o604)
    assert secrets.find_password(SPEC, "source") is None  # the keyring has no backend here
    assert secrets.find_password(SPEC, "target") is None
    assert capsys.readouterr().err.count("mailmig: note: ignoring") == 1  # said once


def test_what_a_command_or_netrc_gave_is_masked_in_every_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETRC", str(write_netrc(
        tmp_path, "machine mail.example.com login alice password Zq8-netrc-pw\n"
    )))  # fmt: skip
    given = {
        secrets.find_password(commanded("echo Zq8-command-pw"), "source"),
        secrets.find_password(SPEC, "source"),
    }
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(secrets.RedactingFilter())
    logger = logging.getLogger("test.password-lookup")
    logger.addHandler(handler)
    try:
        for password in given:
            logger.warning("LOGIN alice %s", password)
    finally:
        logger.removeHandler(handler)
    assert given == {"Zq8-command-pw", "Zq8-netrc-pw"}
    assert "Zq8" not in stream.getvalue() and stream.getvalue().count("********") == 2


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a file to another user")
def test_a_netrc_of_another_user_is_ignored_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notices: list[str]
) -> None:
    path = write_netrc(tmp_path, "machine mail.example.com login alice password p\n")
    os.chown(path, 65534, 65534)  # nobody's, mode 600
    monkeypatch.setenv("NETRC", str(path))
    assert netrc_password(SPEC, notices.append) is None
    assert notices == [f"ignoring {path}: it belongs to another user (uid 65534); it must be yours"]
