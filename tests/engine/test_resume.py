"""Interruptions: kill -9 at random points, and servers restarted in the middle of a run.

Each scenario ends the same way: a later run completes, and every source message is on the
target exactly once, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.engine.events import CopyEvent, MessageCopied
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import connect_imap
from tests.support.corpus import bench_corpus
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_bulk

MESSAGES = 300


def contents(server: DovecotServer, user: str) -> Counter[tuple[str, str]]:
    """(folder path, sha256 of the message) for every message of the account."""
    client = server.client(user)
    names = [str(name) for flags, _d, name in client.list_folders() if b"\\Noselect" not in flags]
    client.logout()
    result: Counter[tuple[str, str]] = Counter()
    for name in names:
        path = name.removeprefix(server.prefix).replace(server.delimiter, "/")
        for entry in folder_contents(server, user, name):
            body = entry[b"BODY[]"]
            assert isinstance(body, bytes)
            result[(path, hashlib.sha256(body).hexdigest())] += 1
    return result


@pytest.fixture
def bench_source(slash_server: DovecotServer) -> str:
    user = slash_server.new_user()
    seed_bulk(
        slash_server, user, (m for m in bench_corpus(MESSAGES, seed=7) if len(m.data) < 300_000)
    )
    return user


def _copy_process(urls: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailmig_tui", "copy", *urls, "--debug"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _log_lines(process: subprocess.Popen[str]) -> Iterator[str]:
    assert process.stderr is not None
    return iter(process.stderr)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kill_9_at_a_random_point_then_rerun_gives_exactly_once(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    bench_source: str,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    def urls_for(user: str) -> list[str]:
        return [
            f"imap+plain://{bench_source}@127.0.0.1:{slash_server.imap_port}",
            f"imap+plain://{user}@127.0.0.1:{courier_server.imap_port}",
        ]

    def env_for(user: str, state: str) -> dict[str, str]:
        return dict(
            os.environ,
            MAILMIG_SOURCE_PASSWORD=slash_server.password(bench_source),
            MAILMIG_TARGET_PASSWORD=courier_server.password(user),
            MAILMIG_STATE_DIR=state,
        )

    # A calibration run counts the protocol lines of a whole copy, so that the kill can land
    # anywhere in it: mid-FETCH, mid-APPEND, between an APPEND's answer and the journal.
    scratch = courier_server.new_user()
    calibration = _copy_process(
        urls_for(scratch), env_for(scratch, os.environ["MAILMIG_STATE_DIR"] + "-calibration")
    )
    total = sum(1 for line in _log_lines(calibration) if "imapclient" in line)
    assert calibration.wait(timeout=120) == 0

    target_user = courier_server.new_user()
    urls, env = urls_for(target_user), env_for(target_user, os.environ["MAILMIG_STATE_DIR"])
    kill_at = random.Random(seed).randint(total // 20, total * 9 // 10)
    process = _copy_process(urls, env)
    seen = 0
    for line in _log_lines(process):
        seen += "imapclient" in line
        if seen >= kill_at:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the copy finished before the kill"
    courier_server.wait_sessions_closed(target_user)  # as a real re-run, minutes later
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", env["MAILMIG_SOURCE_PASSWORD"])
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", env["MAILMIG_TARGET_PASSWORD"])
    assert main(["copy", *urls]) == 0  # the same state dir: the rerun sees the journal
    assert contents(courier_server, target_user) == contents(slash_server, bench_source)
    assert main(["verify", *urls]) == 0


def _spec(server: DovecotServer, user: str) -> AccountSpec:
    return AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )


@pytest.mark.parametrize("side", ["target", "source"])
def test_server_restarted_mid_run_is_reconnected_and_resumed(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    bench_source: str,
    tmp_path: Path,
    side: str,
) -> None:
    # A server of its own: restarting the shared session server would disturb other tests.
    fresh = DovecotServer(shape="courier").start()
    source_server, source_user = slash_server, bench_source
    try:
        target_user = fresh.new_user()
        if side == "source":
            source_user = fresh.new_user()
            seed_bulk(fresh, source_user, (m for m in bench_corpus(120, seed=3)))
            source_server, target_server = fresh, courier_server
            target_user = courier_server.new_user()
        else:
            target_server = fresh
        source_spec = _spec(source_server, source_user)
        target_spec = _spec(target_server, target_user)

        def open_source() -> MailStore:
            return connect_imap(source_spec, source_server.password(source_user), readonly=True)

        def open_target() -> MailStore:
            return connect_imap(target_spec, target_server.password(target_user), readonly=False)

        journal = Journal(tmp_path / "journal.sqlite3")
        source, target = open_source(), open_target()
        plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
        copied = 0
        events: list[CopyEvent] = []

        def on_event(event: CopyEvent) -> None:
            nonlocal copied
            events.append(event)
            if isinstance(event, MessageCopied):
                copied += 1
                if copied == 25:  # runs on the engine's thread, between two messages
                    fresh.restart()

        report = copy_folders(
            plan,
            source=source,
            target=target,
            open_source=open_source,
            open_target=open_target,
            journal=journal,
            on_event=on_event,
            # One connection pair and small batches: work is surely left when the server dies.
            settings=CopySettings(backoff=0.05, connections=1, batch_messages=5),
        )
        assert report.error == ""
        assert report.complete, [f.error for f in report.folders]
        assert any(type(e).__name__ == "Reconnecting" for e in events)
        assert contents(target_server, target_user) == contents(source_server, source_user)
    finally:
        fresh.cleanup()
