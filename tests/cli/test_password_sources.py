"""Where passwords come from, through the real command line against a real Dovecot: a
password command (option, saved account, batch CSV column), the netrc file, and the order
between them and the environment.

Each login that works proves the password came from the source under test: the environment
then holds a wrong password or nothing, and the wrong one would be refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.config import save_account
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.password_command import with_password_command
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox

REPO = Path(__file__).resolve().parents[2]


def plain_url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def password_file(tmp_path: Path, password: str, name: str = "pw") -> Path:
    """A file holding the password (what `pass` or `gpg -d` would print), owner-only."""
    path = tmp_path / name
    path.write_text(f"{password}\nsecond line, never used\n")
    path.chmod(0o600)
    return path


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mailmig: ") and "Traceback" not in err
    return lines[0]


def test_password_command_logs_in_and_wins_over_the_environment(
    slash_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = slash_server.new_user()
    secret = password_file(tmp_path, slash_server.password(user))
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "wrong-Zq8-password")
    argv = ["folders", plain_url(slash_server, user), "--json"]
    code = main([*argv, "--source-password-command", f"cat {secret}"])
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)[0]["name"] == "INBOX"


def test_a_failing_password_command_is_one_line_without_its_output(
    slash_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = slash_server.new_user()
    printed = "printed-Zq8-before-failing"
    url = plain_url(slash_server, user)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(user))
    cases = {
        # (command, words the one line must hold)
        "exit": (f"sh -c 'echo {printed}; exit 3'", "(sh) for"),
        "missing": ("no-such-program-Zq8 --get", "no-such-program-Zq8 was not found"),
        "empty": ("true", "printed no password"),
    }
    for name, (command, words) in cases.items():
        capsys.readouterr()
        code = main(["folders", url, "--source-password-command", command, "--debug"])
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert printed not in err, name
        if name == "exit":
            assert "failed (exit status 3)" in err
        # --debug adds a traceback by design; without it, exactly one line.
        code = main(["folders", url, "--source-password-command", command])
        line = one_error_line(capsys.readouterr().err)
        assert code == 2 and words in line and printed not in line, (name, line)


def test_a_saved_account_runs_its_command_through_a_shell_only_when_told(
    slash_server: DovecotServer,
    tmp_path: Path,
    isolated_mailmig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = slash_server.new_user()
    secret = password_file(tmp_path, slash_server.password(user))
    config = isolated_mailmig / "config" / "config.toml"
    spec = AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=slash_server.imap_port,
        security=Security.PLAIN,
    )  # fmt: skip
    piped = f"cat {secret} | head -n 1"
    save_account("piped", with_password_command(spec, piped, shell=True), config)
    save_account("unshelled", with_password_command(spec, piped), config)
    assert "password_command_shell = true" in config.read_text()
    assert main(["folders", "piped", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)[0]["name"] == "INBOX"
    # Without the shell, `|` is an argument of cat: cat fails on the file named "|".
    assert main(["folders", "unshelled"]) == 2
    assert "the password command (cat)" in one_error_line(capsys.readouterr().err)


def write_netrc(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_netrc_is_read_only_when_owner_only(
    slash_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user, other = slash_server.new_user(), slash_server.new_user()
    netrc = tmp_path / "netrc"
    monkeypatch.setenv("NETRC", str(netrc))
    text = (
        f"machine 127.0.0.1 login {other} password wrong-Zq8-for-another-login\n"
        f'machine 127.0.0.1 login {user} password "{slash_server.password(user)}"\n'
    )
    write_netrc(netrc, text, 0o600)
    url = plain_url(slash_server, user)
    assert main(["folders", url, "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)[0]["name"] == "INBOX"

    netrc.chmod(0o640)  # group-readable: ignored, and the notice says why
    assert main(["folders", url]) == 2
    err = capsys.readouterr().err
    assert f"mailmig: note: ignoring {netrc}: others may read or change it (mode 640)" in err
    assert "no password for the source account" in err
    assert slash_server.password(user) not in err


def test_netrc_entry_must_name_the_accounts_login(
    slash_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user, other = slash_server.new_user(), slash_server.new_user()
    netrc = write_netrc(
        tmp_path / "netrc",
        f"machine 127.0.0.1 login {other} password {slash_server.password(user)}\n",
        0o600,
    )
    monkeypatch.setenv("NETRC", str(netrc))
    assert main(["folders", plain_url(slash_server, user)]) == 2
    assert "no password for the source account" in one_error_line(capsys.readouterr().err)


def test_batch_takes_passwords_from_the_csv_command_columns_and_the_default(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    messages = standard_corpus()[:6]
    rows = ["source,target,source_password_command,target_password_command"]
    for n in range(2):
        source, target = slash_server.new_user(), courier_server.new_user()
        seed_mailbox(slash_server, source, standard_folders()[:2], messages)
        src_pw = password_file(tmp_path, slash_server.password(source), f"src{n}")
        dst_pw = password_file(tmp_path, courier_server.password(target), f"dst{n}")
        # The second row names no source command: --source-password-command serves it.
        source_column = f"cat {src_pw}" if n == 0 else ""
        target_column = f"cat {dst_pw}"
        rows.append(
            f"{plain_url(slash_server, source)},{plain_url(courier_server, target)},"
            f"{source_column},{target_column}"
        )
        if n == 1:
            default = f"cat {src_pw}"
    users = tmp_path / "users.csv"
    users.write_text("\n".join(rows) + "\n")
    report = tmp_path / "batch.json"
    code = main(
        ["batch", str(users), "--source-password-command", default, "--report", str(report)]
    )
    assert code == 0, capsys.readouterr().err
    data = json.loads(report.read_text())
    assert [u["state"] for u in data["users"]] == ["done", "done"]
    assert all(u["report"]["copied"] == len(messages) for u in data["users"])


def test_batch_refuses_an_unsplittable_command_naming_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.csv"
    users.write_text(
        "source,target,source_password_command\n"
        "imaps://a@old.example.com,imaps://a@new.example.com,pass show 'old/a\n"
    )
    assert main(["batch", str(users)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "row 2: cannot split the password command" in line


def test_a_real_mailmig_process_takes_its_password_from_a_command(
    slash_server: DovecotServer, tmp_path: Path, isolated_mailmig: Path
) -> None:
    """As an admin runs it: `python -m mailmig_tui`, no password in argv or environment."""
    user = slash_server.new_user()
    secret = password_file(tmp_path, slash_server.password(user))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MAILMIG_") or key.endswith("_DIR")
    }
    done = subprocess.run(
        [
            sys.executable, "-m", "mailmig_tui", "folders", plain_url(slash_server, user),
            "--source-password-command", f"cat {secret}", "--json",
        ],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["name"] == "INBOX"
    assert slash_server.password(user).encode() not in done.stdout + done.stderr
