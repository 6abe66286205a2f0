"""Every message is accounted for when a copy stops early: for each folder of the report, and
for the totals, `source_messages == copied + already_present + too_large + failed +
not_copied`, and every planned folder is listed, those the run never reached too.

The counters are checked against the servers, not only against each other: after the stop
the target holds exactly `copied + already_present` per folder, and an unhindered second
run copies exactly `not_copied + failed` per folder. Three ways to stop: the target's quota
runs out, the operator cancels (engine API), the connection is cut for good (the run gives
up).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import mailmig_tui.commands.copy as copy_command
from mailmig_tui.cli import main
from mailmig_tui.engine.copy_service import CopyRequest, CopyService
from mailmig_tui.engine.events import CopyEvent, FolderStarted, MessageCopied
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.plan import CopyOptions
from mailmig_tui.engine.session import Accounts
from tests.faults.harness import ReconfigurableDovecot, spec, url
from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer
from tests.support.faultproxy import Direction, FaultProxy
from tests.support.seeding import seed_mailbox

COUNTERS = ("copied", "already_present", "too_large", "failed", "not_copied", "filtered_out")
FOLDERS = {"Alpha": 6, "Beta": 5, "Gamma": 4, "INBOX": 3}
"""Source folder -> messages; Alpha is the largest, so a run starts with it."""
SIZE = 24_000
"""Bytes per message, about: the whole source is some 430 kB."""
QUOTA = 200_000
Report = dict[str, Any]
"""A copy report as JSON."""


@dataclass(frozen=True)
class SmallSource:
    server: DovecotServer
    user: str

    @property
    def total(self) -> int:
        return sum(FOLDERS.values())


def message(folder: str, number: int) -> SeedMessage:
    message_id = f"<{folder.lower()}-{number}@accounting.mailmig.test>"
    head = (
        f"From: Ops <ops@accounting.mailmig.test>\r\nTo: Anna <anna@accounting.mailmig.test>\r\n"
        f"Subject: {folder} {number}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Wed, {number + 1:02d} May 2024 08:00:00 +0000\r\n\r\n"
    )
    lines = "".join(f"Line {i} of message {number} in {folder}.\r\n" for i in range(SIZE // 32))
    when = datetime(2024, 5, number + 1, 8, 0, tzinfo=UTC)
    return SeedMessage((folder,), (head + lines).encode(), (), when, message_id)


@pytest.fixture(scope="module")
def small_source(slash_server: DovecotServer) -> SmallSource:
    """Shared read-only by the tests here."""
    user = slash_server.new_user()
    folders = [SeedFolder((name,), None) for name in FOLDERS]
    messages = [message(name, n) for name, count in FOLDERS.items() for n in range(count)]
    seed_mailbox(slash_server, user, folders, messages)
    return SmallSource(slash_server, user)


# -- the checks --------------------------------------------------------------------------------


def assert_accounted(report: Report, source: SmallSource) -> None:
    folders: list[Report] = report["folders"]
    listed = {f["source"]: f for f in folders}
    assert len(listed) == len(folders), "a folder is listed twice"
    assert set(listed) == set(FOLDERS), "every planned folder is listed"
    for name, count in FOLDERS.items():
        assert listed[name]["source_messages"] == count, name
    for folder in folders:
        assert folder["source_messages"] == sum(folder[c] for c in COUNTERS), folder
    for counter in COUNTERS:
        assert report[counter] == sum(f[counter] for f in folders), counter
    assert sum(report[c] for c in COUNTERS) == source.total


def assert_target_holds_what_was_counted(report: Report, target: DovecotServer, user: str) -> None:
    """Read on the server: each target folder holds copied + already_present (the target
    account started empty)."""
    client = target.client(user)
    try:
        for folder in report["folders"]:
            name = folder["target"]
            held = (
                int(client.folder_status(name, ["MESSAGES"])[b"MESSAGES"])
                if client.folder_exists(name)
                else 0
            )
            assert held == folder["copied"] + folder["already_present"], folder
    finally:
        client.logout()


def assert_rerun_took_the_rest(first: Report, second: Report) -> None:
    """A second run without the fault copies exactly what the first left: not_copied + failed."""
    before = {f["source"]: f for f in first["folders"]}
    for folder in second["folders"]:
        was = before[folder["source"]]
        assert folder["copied"] == was["not_copied"] + was["failed"], (was, folder)
        assert folder["already_present"] == was["copied"] + was["already_present"], (was, folder)
        assert folder["failed"] == folder["not_copied"] == folder["too_large"] == 0, folder
    assert second["verify"] is not None and second["verify"]["ok"] is True


def use_passwords(
    monkeypatch: pytest.MonkeyPatch, source: SmallSource, target: DovecotServer, user: str
) -> None:
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", source.server.password(source.user))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", target.password(user))


def copy(urls: list[str], report: Path, *extra: str) -> tuple[int, Report]:
    code = main(["copy", *urls, "--report", str(report), *extra])
    return code, json.loads(report.read_text())


# -- (a) the target's quota runs out -----------------------------------------------------------


@pytest.fixture
def small_target() -> Iterator[ReconfigurableDovecot]:
    server = ReconfigurableDovecot(shape="courier", ssl=False, quota_bytes=QUOTA)
    server.start()
    yield server
    server.cleanup()


def test_a_quota_stop_accounts_for_every_message(
    small_source: SmallSource,
    small_target: ReconfigurableDovecot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Batches of two: a folder stops at its first refused batch, and what it did not send
    # yet is not copied (the refused ones failed).
    monkeypatch.setattr(
        copy_command, "CopySettings", functools.partial(CopySettings, batch_messages=2)
    )
    user = small_target.new_user()
    use_passwords(monkeypatch, small_source, small_target, user)
    urls = [url(small_source.server, small_source.user), url(small_target, user)]
    args = ("--connections", "1")

    code, first = copy(urls, tmp_path / "first.json", *args)
    assert code == 1
    assert first["error"] is None  # folders stopped one by one; the run did not give up
    assert 0 < first["copied"] < small_source.total
    assert first["failed"] > 0 and first["not_copied"] > 0
    assert_accounted(first, small_source)
    assert_target_holds_what_was_counted(first, small_target, user)

    small_target.reconfigure(quota_bytes=100_000_000)
    code, second = copy(urls, tmp_path / "second.json", *args)
    assert code == 0
    assert_accounted(second, small_source)
    assert_rerun_took_the_rest(first, second)


# -- (b) the operator cancels --------------------------------------------------------------------


def test_a_cancel_accounts_for_every_message_and_lists_folders_never_started(
    small_source: SmallSource, courier_server: DovecotServer
) -> None:
    user = courier_server.new_user()
    accounts = Accounts(
        spec(small_source.server, small_source.user),
        spec(courier_server, user),
        small_source.server.password(small_source.user),
        courier_server.password(user),
    )
    cancel = threading.Event()
    started: list[str] = []
    copied: list[str] = []

    def on_event(event: CopyEvent) -> None:
        if isinstance(event, FolderStarted):
            started.append(event.source)
        elif isinstance(event, MessageCopied):
            copied.append(event.message.folder)
            if len(copied) == 3:  # inside the first folder: it has 6, in batches of 2
                cancel.set()

    request = CopyRequest(
        options=CopyOptions(),
        settings=CopySettings(connections=1, batch_messages=2),
        verify=True,
    )
    report = CopyService(accounts).copy(request, cancel=cancel, on_event=on_event)
    first: Report = report.as_json()
    assert first["cancelled"] is True
    assert started == ["Alpha"]  # one connection pair, largest first; then the cancel
    assert_accounted(first, small_source)
    assert_target_holds_what_was_counted(first, courier_server, user)
    listed = {f["source"]: f for f in first["folders"]}
    assert 0 < listed["Alpha"]["copied"] < FOLDERS["Alpha"]
    assert listed["Alpha"]["not_copied"] == FOLDERS["Alpha"] - listed["Alpha"]["copied"]
    for name in set(FOLDERS) - set(started):
        assert listed[name]["copied"] == 0, name
        assert listed[name]["not_copied"] == FOLDERS[name], name

    again = CopyService(accounts).copy(
        CopyRequest(settings=CopySettings(connections=1, batch_messages=2))
    )
    second: Report = again.as_json()
    assert again.complete
    assert_accounted(second, small_source)
    assert_rerun_took_the_rest(first, second)


# -- (c) the connection is cut for good ---------------------------------------------------------


def test_a_run_that_gives_up_accounts_for_every_message(
    small_source: SmallSource,
    courier_server: DovecotServer,
    proxy_to: Callable[[DovecotServer], FaultProxy],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Quick backoff (the CLI's would wait half a minute) and batches of two messages.
    monkeypatch.setattr(
        copy_command,
        "CopySettings",
        functools.partial(CopySettings, backoff=0.01, max_backoff=0.02, batch_messages=2),
    )
    proxy = proxy_to(courier_server)
    # Alpha's second batch is answered, then the line goes; every reconnect is cut at LIST.
    proxy.cut(
        Direction.DOWN, pattern=b"[APPENDUID", occurrence=2, where="line-end", connections={1}
    )
    always = proxy.cut(
        Direction.UP, pattern=b" LIST ", where="line-start", connections=range(2, 10_000)
    )
    user = courier_server.new_user()
    use_passwords(monkeypatch, small_source, courier_server, user)
    urls = [url(small_source.server, small_source.user), url(courier_server, user, proxy.port)]
    args = ("--connections", "1")

    code, first = copy(urls, tmp_path / "first.json", *args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert always.fired.is_set()
    assert first["error"], "the report says the run gave up"
    assert_accounted(first, small_source)
    assert_target_holds_what_was_counted(first, courier_server, user)
    listed = {f["source"]: f for f in first["folders"]}
    assert listed["Alpha"]["copied"] == 4  # two batches of two, answered before the cut
    for name in ("Beta", "Gamma", "INBOX"):  # never reached
        assert listed[name]["copied"] == 0, name
        assert listed[name]["not_copied"] == FOLDERS[name], name

    proxy.clear()  # the same account (the proxy's port), now without faults
    code, second = copy(urls, tmp_path / "second.json", *args)
    assert code == 0, capsys.readouterr().err
    assert_accounted(second, small_source)
    assert_rerun_took_the_rest(first, second)
