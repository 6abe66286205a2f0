"""The plan screen's connections field: the preset's default shown, `-`/`+` change it, and
the copy then runs with what the screen shows (read where the runner splits them)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mailmig_tui.engine.runner as runner
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import (
    demo_sessions,
    imap_spec,
    mark_folder,
    screen_text,
    wait_connected,
    wait_screen,
)


async def test_changing_connections_on_the_plan_screen_changes_the_copy(
    courier_server: DovecotServer, demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[int] = []
    original = runner.plan_connections

    def recording(connections: int, folders: int) -> tuple[int, int]:
        used.append(connections)
        return original(connections, folders)

    monkeypatch.setattr(runner, "plan_connections", recording)
    user = courier_server.new_user()
    target = AccountSession(
        imap_spec(courier_server, user),
        "target",
        label="Target",
        password=courier_server.password(user),
    )
    app = MailmigApp(demo_sessions(demo_root)[0], target)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await mark_folder(pilot, app, "Projekte.Kunden")
        await pilot.press("c")
        await wait_screen(pilot, app, PlanScreen, "the plan")
        assert "Connections: 8 per server" in screen_text(app)  # no preset: the default
        for key in ("minus", "minus", "minus", "plus", "minus"):
            await pilot.press(key)
        await pilot.pause()
        assert "Connections: 5 per server" in screen_text(app)
        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the report")
        assert "Copy finished" in screen_text(app)
    assert used == [5]
    client = courier_server.client(user)
    try:
        client.select_folder("INBOX.Projekte.Kunden", readonly=True)
        assert len(client.search(["ALL"])) == 240
    finally:
        client.logout()
