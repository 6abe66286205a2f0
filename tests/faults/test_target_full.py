"""A target that fills up: `NO [OVERQUOTA]` stops each folder cleanly, the report says what
was copied and what not (exit 1), and after the quota is raised a re-run completes, each
message exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from tests.faults.harness import (
    ReconfigurableDovecot,
    Source,
    assert_exactly_once,
    assert_no_secret,
    assert_verify_clean,
    expected,
    snapshot,
    url,
)

QUOTA = 600_000
"""Bytes: less than half of the source (about 1.4 MB)."""


@pytest.fixture
def small_target() -> Iterator[ReconfigurableDovecot]:
    server = ReconfigurableDovecot(shape="courier", ssl=False, quota_bytes=QUOTA).start()
    yield server
    server.cleanup()


def test_over_quota_stops_folders_then_a_rerun_with_more_room_completes(
    fault_source: Source,
    small_target: ReconfigurableDovecot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = small_target.new_user()
    passwords = (fault_source.server.password(fault_source.user), small_target.password(user))
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", passwords[0])
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", passwords[1])
    urls = [url(fault_source.server, fault_source.user), url(small_target, user)]
    first, second = tmp_path / "first.json", tmp_path / "second.json"

    assert main(["copy", *urls, "--report", str(first)]) == 1
    out, err = capsys.readouterr()
    assert "quota will not hold this copy" in err  # the plan warned before copying
    assert "Traceback" not in err
    report = json.loads(first.read_text())
    assert report["error"] is None  # not a give-up: folders stopped one by one
    stopped = [f for f in report["folders"] if f["error"]]
    assert stopped and all("over quota" in f["error"] for f in stopped)
    for folder in stopped:  # one clear line each on stderr
        assert any(
            line.startswith(f"mailmig: {folder['source']}: ") and "over quota" in line
            for line in err.splitlines()
        )
    failures = [x for f in report["folders"] for x in f["failures"]]
    assert failures and all("OVERQUOTA" in x["reason"].upper() for x in failures)
    copied = report["copied"]
    assert 0 < copied < fault_source.messages
    # What the report calls copied is on the target, once; nothing else is.
    got = snapshot(small_target, user)
    assert sum(got.values()) == copied and not got - expected(fault_source)

    small_target.reconfigure(quota_bytes=100_000_000)
    assert main(["copy", *urls, "--report", str(second)]) == 0
    again = json.loads(second.read_text())
    assert again["already_present"] == copied
    assert again["copied"] == fault_source.messages - copied
    assert again["failed"] == 0
    more_out, more_err = capsys.readouterr()
    assert_no_secret([out, err, more_out, more_err, first.read_text()], *passwords)
    assert_exactly_once(fault_source, small_target, user)
    assert_verify_clean(monkeypatch, fault_source, small_target, user)
