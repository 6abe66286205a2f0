"""What a copy does before its first APPEND, counted on real Dovecots (issue 12): every
target folder is created and its PERMANENTFLAGS read in one pipelined round trip on the
planning connection, not folder by folder on the workers; a run with nothing to copy opens
no connection beyond the planning pair and selects no target folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import ImapStore, connect_imap
from tests.engine.test_parallel_fetch import (
    assert_same_in_order,
    inbox_source,
    small_batches,
    spec,
)
from tests.support.dovecot import DovecotServer

__all__ = ["inbox_source"]  # a fixture this module uses


def counted(monkeypatch: pytest.MonkeyPatch, *names: str) -> dict[str, int]:
    """Calls of these ImapStore methods, on every connection."""
    calls = dict.fromkeys(names, 0)
    for name in names:
        original = getattr(ImapStore, name)

        def counting(
            self: ImapStore, *args: object, _o: object = original, _n: str = name
        ) -> object:
            calls[_n] += 1
            return _o(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(ImapStore, name, counting)
    return calls


def run_copy(
    source_server: DovecotServer,
    source_user: str,
    target_server: DovecotServer,
    target_user: str,
    journal: Journal,
) -> tuple[int, int]:
    """One copy like `mailmig copy`; (connections opened by the copy itself, copied)."""
    source_spec, target_spec = spec(source_server, source_user), spec(target_server, target_user)
    opened = [0]

    def open_source() -> MailStore:
        opened[0] += 1
        return connect_imap(source_spec, source_server.password(source_user), readonly=True)

    def open_target() -> MailStore:
        opened[0] += 1
        return connect_imap(target_spec, target_server.password(target_user), readonly=False)

    source = connect_imap(source_spec, source_server.password(source_user), readonly=True)
    target = connect_imap(target_spec, target_server.password(target_user), readonly=False)
    try:
        plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
        report = copy_folders(
            plan,
            source=source,
            target=target,
            open_source=open_source,
            open_target=open_target,
            journal=journal,
            settings=small_batches(connections=6),
        )
    finally:
        source.close()
        target.close()
    assert report.error == "" and report.failed == 0
    return opened[0], report.copied


def test_target_folders_are_prepared_at_once_and_a_rerun_opens_nothing(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    inbox_source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counted(monkeypatch, "prepare_folders", "create_folder", "permanent_flags")
    target_user = courier_server.new_user()
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        opened, copied = run_copy(slash_server, inbox_source, courier_server, target_user, journal)
        assert copied > 0 and opened > 0
        # One pipelined round trip for every folder; no worker created or selected one.
        assert calls == {"prepare_folders": 1, "create_folder": 0, "permanent_flags": 0}
        assert_same_in_order(slash_server, inbox_source, courier_server, target_user)

        calls.update(dict.fromkeys(calls, 0))
        opened, copied = run_copy(slash_server, inbox_source, courier_server, target_user, journal)
        assert (opened, copied) == (0, 0)  # the planning pair did it all
        assert calls == {"prepare_folders": 0, "create_folder": 0, "permanent_flags": 0}
    finally:
        journal.close()
