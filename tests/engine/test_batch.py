"""`mailmig batch` over real Dovecot users, and `mailmig coexistence` from its journal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox


def url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def test_batch_copies_every_user_and_reports_each(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    messages = standard_corpus()[:12]
    rows = ["source,target,source_password_env,target_password_env"]
    for n in range(3):
        source, target = slash_server.new_user(), courier_server.new_user()
        seed_mailbox(slash_server, source, standard_folders()[:3], messages)
        monkeypatch.setenv(f"SRC_PW_{n}", slash_server.password(source))
        monkeypatch.setenv(f"DST_PW_{n}", courier_server.password(target))
        rows.append(
            f"{url(slash_server, source)},{url(courier_server, target)},SRC_PW_{n},DST_PW_{n}"
        )
    # A fourth user whose password is wrong: reported, and the others still go through.
    bad_source, bad_target = slash_server.new_user(), courier_server.new_user()
    monkeypatch.setenv("WRONG", "not-the-password")
    rows.append(f"{url(slash_server, bad_source)},{url(courier_server, bad_target)},WRONG,WRONG")
    users = tmp_path / "users.csv"
    users.write_text("\n".join(rows) + "\n")
    report = tmp_path / "batch.json"
    capsys.readouterr()
    assert main(["batch", str(users), "--parallel", "2", "--report", str(report)]) == 1
    data = json.loads(report.read_text())
    states = [u["state"] for u in data["users"]]
    assert states == ["done", "done", "done", "error"]
    assert all(u["report"]["copied"] == len(messages) for u in data["users"][:3])
    assert "refused the login" in data["users"][3]["error"]
    assert "not-the-password" not in report.read_text() + capsys.readouterr().err
    # Resumable: a second run copies nothing for the users already done.
    rows.pop()
    users.write_text("\n".join(rows) + "\n")
    assert main(["batch", str(users), "--report", str(report)]) == 0
    assert all(u["report"]["copied"] == 0 for u in json.loads(report.read_text())["users"])


def test_batch_refuses_passwords_in_the_csv_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.csv"
    users.write_text("EmailAddress,UserName,Password\nalice@example.com,alice,hunter2\n")
    assert main(["batch", str(users), "--source-host", "old", "--target-host", "new"]) == 2
    err = capsys.readouterr().err
    assert "--passwords-in-csv" in err and "hunter2" not in err


def test_passwords_file_must_be_private(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    users = tmp_path / "users.csv"
    users.write_text("source,target\nimaps://a@old,imaps://a@new\n")
    secrets = tmp_path / "pw.tsv"
    secrets.write_text("imaps://a@old\tx\n")
    os.chmod(secrets, 0o644)
    assert main(["batch", str(users), "--passwords-file", str(secrets)]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_coexistence_writes_postfix_maps_for_migrated_users(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = slash_server.new_user(), courier_server.new_user()
    seed_mailbox(slash_server, source, standard_folders()[:1], standard_corpus()[:2])
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", courier_server.password(target))
    assert main(["copy", url(slash_server, source), url(courier_server, target)]) == 0
    out = tmp_path / "postfix"
    assert (
        main(["coexistence", "--format", "postfix", "--domain", "example.com", "--out", str(out)])
        == 0
    )
    transport = (out / "transport").read_text()
    assert f"{target}@example.com\tsmtp:[127.0.0.1]" in transport
    assert f"{target}@example.com\tOK" in (out / "relay_recipients").read_text()
