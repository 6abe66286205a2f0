"""Each user of `mailmig batch` is copied like a single `mailmig copy`: verified afterwards
and logged to an owner-only file of its own, named in the batch report and on stderr."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox

USERS = 2
MESSAGES = 6


def url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def test_every_user_is_verified_and_logged_on_its_own(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolated_mailmig: Path,
) -> None:
    messages = standard_corpus()[:MESSAGES]
    rows = ["source,target,source_password_env,target_password_env"]
    owners: dict[str, str] = {}  # source URL -> its user
    for n in range(USERS):
        source, target = slash_server.new_user(), courier_server.new_user()
        owners[url(slash_server, source)] = source
        seed_mailbox(slash_server, source, standard_folders()[:2], messages)
        monkeypatch.setenv(f"SRC_PW_{n}", slash_server.password(source))
        monkeypatch.setenv(f"DST_PW_{n}", courier_server.password(target))
        rows.append(
            f"{url(slash_server, source)},{url(courier_server, target)},SRC_PW_{n},DST_PW_{n}"
        )
    users = tmp_path / "users.csv"
    users.write_text("\n".join(rows) + "\n")
    report_path = tmp_path / "batch.json"
    capsys.readouterr()

    code = main(["batch", str(users), "--parallel", "2", "--report", str(report_path)])
    err = capsys.readouterr().err
    assert code == 0, err
    entries = json.loads(report_path.read_text())["users"]
    assert len(entries) == USERS
    logs = []
    for entry in entries:
        report = entry["report"]
        assert entry["state"] == "done", entry
        assert report["copied"] == MESSAGES
        assert report["verify"] == {
            "checked": MESSAGES,
            "ok": True,
            "missing": [],
            "altered": [],
            "flag_differences": [],
        }
        log = Path(report["log"])
        assert log.is_file() and log.parent == isolated_mailmig / "log"
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert f"mailmig: log: {log}" in err.splitlines()
        assert f"{owners[entry['source']]}@127.0.0.1" in log.read_text()  # this user's run
        logs.append(log)
    assert len(set(logs)) == USERS, "each user has a log of its own"
