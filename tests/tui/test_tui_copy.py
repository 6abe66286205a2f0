"""Copying from the TUI into a real Dovecot: marked folders, marked messages, cancel and
resume, browsing meanwhile, a wrong password, a server that goes away; and the folder map.

The source is the demo Maildir (read only); each test copies into a fresh user of the
shared Courier-style server and counts what arrived over a connection of its own. Points in
the middle of a copy are reached with a `Gate` on the engine's events, never a sleep.
"""

from __future__ import annotations

import json
import stat
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.folder_map import MapRow
from mailmig_tui.engine.saved_maps import map_path
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.maildir import MaildirStore
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.confirm import ConfirmDialog
from mailmig_tui.tui.common.error import ErrorDialog
from mailmig_tui.tui.copy.folder_map_screen import FolderMapScreen
from mailmig_tui.tui.copy.map_list import MapList
from mailmig_tui.tui.copy.panel import CopyPanel
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.progress_screen import CopyProgressScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.copy.target_picker import TargetPicker
from mailmig_tui.tui.demo_data import make_maildir
from tests.support.dovecot import DovecotServer
from tests.support.faultproxy import FaultProxy
from tests.tui.tuikit import (
    Gate,
    demo_sessions,
    imap_spec,
    info_text,
    main_screen,
    mark_folder,
    open_folder,
    pane,
    screen_text,
    wait_connected,
    wait_for,
    wait_screen,
)

KUNDEN = "INBOX.Projekte.Kunden"
"""Where the demo's Projekte.Kunden (240 messages) lands on the Courier-style target."""


def target_session(server: DovecotServer, user: str, port: int | None = None) -> AccountSession:
    spec = imap_spec(server, user)
    if port is not None:
        spec = replace(spec, port=port)
    return AccountSession(spec, "target", label="Target", password=server.password(user))


def message_ids(server: DovecotServer, user: str, folder: str) -> Counter[bytes]:
    """Message-ID of every message in a target folder, over a connection of the test's own."""
    client = server.client(user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search()
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
    finally:
        client.logout()
    return Counter(
        bytes(item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"]).strip()  # type: ignore[arg-type]
        for item in data.values()
    )


async def copy_through_plan(pilot: Pilot[Any], app: MailmigApp) -> PlanScreen:
    """Press c and wait for the plan screen."""
    await pilot.press("c")
    await wait_screen(pilot, app, PlanScreen, "the plan")
    plan = app.screen
    assert isinstance(plan, PlanScreen)
    return plan


async def test_copy_a_marked_folder_then_marked_messages(
    courier_server: DovecotServer, demo_root: Path, isolated_mailmig: Path
) -> None:
    user = courier_server.new_user()
    source = demo_sessions(demo_root)[0]
    app = MailmigApp(source, target_session(courier_server, user))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await mark_folder(pilot, app, "Projekte.Kunden")
        plan = await copy_through_plan(pilot, app)
        [work] = plan.plan.folders
        assert (work.mapping.target, work.target_exists, len(work.to_copy)) == (KUNDEN, False, 240)
        text = screen_text(app)
        assert f"{KUNDEN}  new" in text
        assert "240 messages" in text and "measured while planning" in " ".join(text.split())
        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the report")
        text = screen_text(app)
        assert "Copy finished" in text
        assert "Verify: all 240 messages of the copied folders are on the target" in text
        assert len(message_ids(courier_server, user, KUNDEN)) == 240

        # The log: owner-only, plan to verify, never a password.
        logs = list((isolated_mailmig / "log").glob("transfer-*.log"))
        report = app.screen
        assert isinstance(report, ReportScreen)
        assert logs == [report.report.log_path] and f"Log: {logs[0].name} in" in text
        assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
        log = logs[0].read_text()
        assert "Projekte.Kunden -> INBOX.Projekte.Kunden (new)" in log
        assert "verify: checked 240, every message is on the target" in log
        assert courier_server.password(user) not in log

        await pilot.press("escape")
        target = pane(app, "target")
        await wait_for(
            pilot,
            lambda: any(f.name == KUNDEN and f.messages == 240 for f in target.folder_list.folders),
            "the target pane's refreshed counts",
        )
        assert pane(app, "source").marks.totals().empty  # copied: the marks are cleared

        # Three marked messages of Sent, and only those.
        await open_folder(pilot, app, "source", "Sent")
        messages = pane(app, "source").message_list
        marked = messages.view[:3]
        await pilot.press("space", "space", "space")
        await copy_through_plan(pilot, app)
        assert "3 marked messages in 1 folder" in screen_text(app)
        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the second report")
        assert "Verify: all 3 messages" in screen_text(app)
        expected = Counter(
            f"Message-ID: {messages.cache[uid].message_id}".encode() for uid in marked
        )
        assert message_ids(courier_server, user, "INBOX.Sent") == expected


async def test_cancel_with_x_then_copy_again_lands_every_message_once(
    courier_server: DovecotServer, demo_root: Path
) -> None:
    user = courier_server.new_user()
    settings = CopySettings(batch_messages=50, connections=1)
    app = MailmigApp(
        demo_sessions(demo_root)[0], target_session(courier_server, user), copy_settings=settings
    )
    gate = Gate(at=20)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        control = main_screen(app).copy_control
        control.observer = gate
        await mark_folder(pilot, app, "Projekte.Kunden")
        await copy_through_plan(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, gate.reached.is_set, "the copy to reach its 20th message")
        await wait_for(pilot, lambda: app.copy_running, "the app to know a copy runs")
        await wait_for(pilot, lambda: main_screen(app).query_one(CopyPanel).display, "panel")
        assert "Copying:" in screen_text(app)

        # The keys work while the copy runs: other pane, open a folder, details, quit asks.
        await pilot.press("tab")
        await wait_for(pilot, lambda: pane(app, "target").active, "the target pane")
        await open_folder(pilot, app, "target", "INBOX")
        await pilot.press("p")
        await wait_screen(pilot, app, CopyProgressScreen, "the progress screen")
        assert "Projekte.Kunden" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("q")
        await wait_screen(pilot, app, ConfirmDialog, "the quit question")
        await pilot.press("n")

        await pilot.press("x")
        gate.release()
        await wait_screen(pilot, app, ReportScreen, "the cancelled report")
        assert "Copy cancelled" in screen_text(app)
        first = message_ids(courier_server, user, KUNDEN)
        assert 20 <= sum(first.values()) < 240
        assert not app.copy_running

        # Again: the journal and the target say what is there; the rest is copied once.
        control.observer = None
        await pilot.press("escape")
        plan = await copy_through_plan(pilot, app)
        [work] = plan.plan.folders
        assert (work.present, len(work.to_copy)) == (sum(first.values()), 240 - work.present)
        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the report of the second copy")
        assert "Verify: all 240 messages" in screen_text(app)
        ids = message_ids(courier_server, user, KUNDEN)
        assert len(ids) == 240 and set(ids.values()) == {1}


async def test_wrong_password_then_a_server_that_goes_away(
    courier_server: DovecotServer, demo_root: Path
) -> None:
    # A proxy answers the wrong password's LOGIN itself: Dovecot would slow down every later
    # login from this address after a real failure, and the server is shared.
    user = courier_server.new_user()
    proxy = FaultProxy(courier_server.imap_port)
    try:
        settings = CopySettings(batch_messages=20, connections=1, max_reconnects=1, backoff=0.05)
        target = target_session(courier_server, user, proxy.port)
        app = MailmigApp(demo_sessions(demo_root)[0], target, copy_settings=settings)
        async with app.run_test() as pilot:
            await wait_connected(pilot, app)
            await mark_folder(pilot, app, "Projekte.Kunden")
            refused = proxy.answer(
                rb"^\S+ LOGIN ", b"NO [AUTHENTICATIONFAILED] Authentication failed."
            )
            app.sessions[1].password = "wrong-password"
            await pilot.press("c")
            await wait_screen(pilot, app, ErrorDialog, "the login error")
            assert "Login failed" in screen_text(app) and "copy:" in screen_text(app)
            assert refused.fired.is_set()
            proxy.clear()
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: info_text(app, "target") == "login failed: press r to enter the password",
                "the target pane to say how to log in again",
            )
            pane(app, "target").focus_list()
            await pilot.press("r")
            await wait_screen(pilot, app, PasswordDialog, "the target's password asked again")
            dialog = app.screen
            assert isinstance(dialog, PasswordDialog) and dialog.session.role == "target"
            dialog.query_one("#password").value = courier_server.password(user)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_connected(pilot, app)

            gate = Gate(at=10)
            main_screen(app).copy_control.observer = gate
            await copy_through_plan(pilot, app)
            await pilot.press("enter")
            await wait_for(pilot, gate.reached.is_set, "the copy to reach its 10th message")
            proxy.close()  # every connection cut, new ones refused
            gate.release()
            await wait_screen(pilot, app, ReportScreen, "the report")
            text = screen_text(app)
            assert "Copy stopped" in text and "Gave up:" in text
            assert "Verify: not done" in text
            notices = [n.message for n in app._notifications if n.title == "Copy"]
            assert any("connection lost" in n and "reconnecting" in n for n in notices)
            assert any("The copy stopped" in n for n in notices)
            assert app.is_running and not app.copy_running
    finally:
        proxy.close()


def map_rows(app: MailmigApp) -> dict[str, MapRow]:
    screen = app.screen
    assert isinstance(screen, FolderMapScreen)
    return {row.source: row for row in screen.query_one(MapList).rows}


async def open_map(pilot: Pilot[Any], app: MailmigApp) -> FolderMapScreen:
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, FolderMapScreen), "the folder map")
    screen = app.screen
    assert isinstance(screen, FolderMapScreen)
    await wait_for(pilot, lambda: screen.result is not None, "the map to be computed")
    return screen


async def edit_row(pilot: Pilot[Any], screen: FolderMapScreen, source: str) -> TargetPicker:
    listing = screen.query_one(MapList)
    listing.cursor = [row.source for row in listing.rows].index(source)
    await pilot.press("enter")
    await wait_screen(pilot, screen.app, TargetPicker, "the target picker")  # type: ignore[arg-type]
    picker = screen.app.screen
    assert isinstance(picker, TargetPicker)
    return picker


async def test_folder_map_edits_are_saved_and_used_next_time(
    demo_root: Path, tmp_path: Path, isolated_mailmig: Path
) -> None:
    # The target's only drafts folder is "Entwürfe": the demo's Drafts goes there by role,
    # its own "Entwürfe" by name: a conflict, until the operator decides.
    target_root = tmp_path / "target"
    make_maildir(target_root)
    store = MaildirStore(str(target_root), readonly=False)
    store.create_folder("Entwürfe")
    store.close()
    source = demo_sessions(demo_root)[0]
    target = AccountSession(AccountSpec(kind="maildir", path=str(target_root)), "target")
    saved = map_path(source.spec, target.spec)

    app = MailmigApp(source, target)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        screen = await open_map(pilot, app)
        rows = map_rows(app)
        assert rows["Drafts"].conflict and rows["Entwürfe"].conflict
        assert "Conflict: 'Drafts' and 'Entwürfe'" in screen_text(app)

        # Pick an existing folder from the filtered list: Entwürfe merges into Entwürfe.
        picker = await edit_row(pilot, screen, "Entwürfe")
        picker.query_one(Input).value = "entw"
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: map_rows(app)["Entwürfe"].reason == "manual", "the edit")
        rows = map_rows(app)
        assert rows["Drafts"].merge and rows["Entwürfe"].merge and not rows["Drafts"].conflict
        assert json.loads(saved.read_text())["overrides"] == {"Entwürfe": "Entwürfe"}
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600

        # Type a new name.
        picker = await edit_row(pilot, screen, "Sent")
        picker.query_one(Input).value = "Gesendet"
        await pilot.press("enter")
        await wait_for(pilot, lambda: map_rows(app)["Sent"].target == "Gesendet", "the 2nd edit")
        assert not map_rows(app)["Sent"].target_exists
        await pilot.press("escape")
        assert json.loads(saved.read_text())["overrides"] == {
            "Entwürfe": "Entwürfe",
            "Sent": "Gesendet",
        }

        # The map opened again is read back from the saved file.
        screen = await open_map(pilot, app)
        assert map_rows(app)["Sent"].target == "Gesendet"
        assert map_rows(app)["Sent"].reason == "manual"
        await pilot.press("escape")
        # The copy plans with the saved map: the engine's copy service reads the same file.
        listing = pane(app, "source").folder_list
        listing.cursor = [f.name for f in listing.folders].index("Sent")
        plan = await copy_through_plan(pilot, app)
        assert [w.mapping.target for w in plan.plan.folders] == ["Gesendet"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PlanScreen), "the plan to go")

        screen = await open_map(pilot, app)
        map_list = screen.query_one(MapList)
        map_list.cursor = [row.source for row in map_list.rows].index("Sent")
        await pilot.press("a")
        await wait_for(pilot, lambda: map_rows(app)["Sent"].target == "Sent", "automatic again")
        assert json.loads(saved.read_text())["overrides"] == {"Entwürfe": "Entwürfe"}
