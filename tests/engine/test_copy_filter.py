"""The copy filter (`--since`, `--before`, `--skip-larger-than`) between real Dovecot servers:
exactly
the messages inside it are copied, the rest are counted as filtered out, verify does not
call them missing, and a later run without the filter copies the rest, nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from tests.support.dated import FILTER, INSIDE, SEED, seed, subjects
from tests.support.dovecot import DovecotServer

KEYS = ("copied", "already_present", "too_large", "failed", "not_copied", "filtered_out")


class FilteredRun:
    def __init__(
        self,
        source: DovecotServer,
        target: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        self.source, self.target = source, target
        self.source_user, self.target_user = source.new_user(), target.new_user()
        seed(source, self.source_user)
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", source.password(self.source_user))
        monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", target.password(self.target_user))
        self.report_path = tmp_path / "report.json"
        self.urls = [
            f"imap+plain://{self.source_user}@127.0.0.1:{source.imap_port}",
            f"imap+plain://{self.target_user}@127.0.0.1:{target.imap_port}",
        ]

    def copy(self, *extra: str) -> tuple[int, dict[str, object]]:
        self.report_path.unlink(missing_ok=True)
        code = main(["copy", *self.urls, "--report", str(self.report_path), *extra])
        return code, json.loads(self.report_path.read_text())

    def on_target(self, folder: str) -> list[str]:
        return subjects(self.target, self.target_user, self.target.folder_name((folder,)))


def accounted(report: dict[str, object]) -> None:
    """Every selected message in exactly one counter, per folder."""
    folders = report["folders"]
    assert isinstance(folders, list)
    for folder in folders:
        assert folder["source_messages"] == sum(folder[key] for key in KEYS), folder
    for key in KEYS:
        assert report[key] == sum(f[key] for f in folders), key


def test_filter_copies_exactly_the_messages_inside_then_the_rest_without_it(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = FilteredRun(slash_server, courier_server, monkeypatch, tmp_path)
    code, report = run.copy(*FILTER)
    err = capsys.readouterr().err
    assert code == 0, err  # leaving messages out on purpose is no failure
    accounted(report)
    assert (report["copied"], report["filtered_out"], report["too_large"]) == (4, 8, 0)
    for folder in ("INBOX", "Work"):
        assert run.on_target(folder) == sorted(f"{folder}-{s}" for s in INSIDE)
    verify = report["verify"]
    assert isinstance(verify, dict)
    assert verify["ok"] is True and verify["missing"] == []
    assert verify["checked"] == 4  # only what the filter took

    # Again with the filter: nothing new, nothing twice.
    code, report = run.copy(*FILTER)
    assert code == 0
    accounted(report)
    assert (report["copied"], report["already_present"], report["filtered_out"]) == (0, 4, 8)
    assert run.on_target("INBOX") == sorted(f"INBOX-{s}" for s in INSIDE)

    # Without it: the rest, and each message once.
    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    accounted(report)
    assert (report["copied"], report["already_present"], report["filtered_out"]) == (8, 4, 0)
    for folder in ("INBOX", "Work"):
        assert run.on_target(folder) == sorted(f"{folder}-{s}" for s, _d, _n in SEED)
    assert run.copy()[1]["copied"] == 0


def test_skip_larger_than_alone_and_dry_run_plan_count_filtered_out(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = FilteredRun(slash_server, courier_server, monkeypatch, tmp_path)
    capsys.readouterr()
    assert main(["copy", *run.urls, "--dry-run", "--json", "--skip-larger-than", "10000"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["filtered_out"] == 2
    assert plan["to_copy"] == 10
    inbox = next(f for f in plan["folders"] if f["source"] == "INBOX")
    assert (inbox["to_copy"], inbox["filtered_out"], inbox["too_large"]) == (5, 1, 0)
    assert run.on_target("INBOX") == []  # a dry run changes nothing

    code, report = run.copy("--since", "2024-07-01", "--folder", "Work")
    assert code == 0
    accounted(report)
    assert run.on_target("Work") == ["Work-before-day", "Work-new"]


def test_filter_leaves_out_before_the_size_limit_counts_too_large(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """--skip-larger-than filters (exit 0); --max-size is the target's limit (too large,
    exit 1); given both, the filter decides first: a message left out on purpose is no
    failure."""
    run = FilteredRun(slash_server, courier_server, monkeypatch, tmp_path)
    code, report = run.copy("--folder", "INBOX", "--max-size", "10000")
    assert code == 1
    accounted(report)
    assert (report["too_large"], report["filtered_out"]) == (1, 0)
    assert "INBOX-big" not in run.on_target("INBOX")

    code, report = run.copy("--folder", "Work", "--max-size", "10000", "--skip-larger-than", "50K")
    assert code == 0
    accounted(report)
    assert (report["too_large"], report["filtered_out"]) == (0, 1)

    code, report = run.copy("--folder", "Work", "--max-size", "10000", "--skip-larger-than", "100K")
    assert code == 1  # 80 KB passes the filter and is over the limit
    assert (report["too_large"], report["filtered_out"]) == (1, 0)
    assert "Work-big" not in run.on_target("Work")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--since", "2024-13-01"), "--since must be a day as YYYY-MM-DD"),
        (("--before", "yesterday"), "--before must be a day as YYYY-MM-DD"),
        (("--skip-larger-than", "lots"), "--skip-larger-than must be a positive number"),
        (("--skip-larger-than", "0"), "--skip-larger-than must be a positive number"),
        (("--max-size", "0"), "--max-size must be a positive number of bytes"),
        (("--max-size", "25M"), "--max-size: invalid int value"),  # BYTES, as ever
        (("--since", "2024-02-01", "--before", "2024-02-01"), "is not before --before"),
    ],
)
def test_bad_filter_is_one_line(
    args: tuple[str, ...], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["copy", "maildir:///nowhere/a", "maildir:///nowhere/b", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_batch_takes_the_same_filter_for_every_user(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    rows = ["source,target,source_password_env,target_password_env"]
    targets = []
    for n in range(2):
        source, target = slash_server.new_user(), courier_server.new_user()
        seed(slash_server, source)
        monkeypatch.setenv(f"SRC_PW_{n}", slash_server.password(source))
        monkeypatch.setenv(f"DST_PW_{n}", courier_server.password(target))
        rows.append(
            f"imap+plain://{source}@127.0.0.1:{slash_server.imap_port},"
            f"imap+plain://{target}@127.0.0.1:{courier_server.imap_port},SRC_PW_{n},DST_PW_{n}"
        )
        targets.append(target)
    users = tmp_path / "users.csv"
    users.write_text("\n".join(rows) + "\n")
    report = tmp_path / "batch.json"
    assert main(["batch", str(users), "--report", str(report), *FILTER]) == 0
    for entry in json.loads(report.read_text())["users"]:
        assert entry["state"] == "done"
        assert (entry["report"]["copied"], entry["report"]["filtered_out"]) == (4, 8)
    for target in targets:
        assert subjects(courier_server, target, "INBOX") == sorted(f"INBOX-{s}" for s in INSIDE)


def test_filter_on_a_maildir_source_goes_by_its_dates_and_sizes(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    run = FilteredRun(slash_server, courier_server, monkeypatch, tmp_path)
    maildir = f"maildir://{tmp_path / 'Maildir'}"
    assert main(["copy", run.urls[0], maildir]) == 0  # the dates travel with the files
    code = main(["copy", maildir, run.urls[1], "--report", str(run.report_path), *FILTER])
    report = json.loads(run.report_path.read_text())
    assert code == 0
    accounted(report)
    assert (report["copied"], report["filtered_out"]) == (4, 8)
    for folder in ("INBOX", "Work"):
        assert run.on_target(folder) == sorted(f"{folder}-{s}" for s in INSIDE)
