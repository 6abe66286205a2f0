"""The copy as the TUI runs it over the engine's copy service, between local Maildirs: the
messages the copy control posts and the snapshots it publishes, the check after the copy as
a phase of its own (and cancelling it), the report of a cancelled copy, a folder map
conflict, and quitting during a copy (exit status 1, one line on stderr from the launcher).

Points inside a copy are reached by holding the engine's thread in an observer of its
events, never by sleeping.
"""

from __future__ import annotations

import inspect
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget

from mailmig_tui.engine.events import CopyEvent, Verifying
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.folder_map import CONFLICT_HINT
from mailmig_tui.engine.progress import ProgressSnapshot
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.maildir import MaildirStore
from mailmig_tui.tui import launch
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse import account_pane as account_pane_module
from mailmig_tui.tui.common.confirm import ConfirmDialog
from mailmig_tui.tui.common.error import ErrorDialog
from mailmig_tui.tui.copy import control as control_module
from mailmig_tui.tui.copy import panel as panel_module
from mailmig_tui.tui.copy.control import CopyControl
from mailmig_tui.tui.copy.panel import CopyPanel
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.progress_screen import CopyProgressScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.demo_data import make_maildir
from tests.tui.tuikit import (
    Gate,
    demo_sessions,
    drive_headless,
    main_screen,
    mark_folder,
    pane,
    screen_text,
    wait_connected,
    wait_for,
    wait_screen,
)


def local_app(demo_root: Path, target_root: Path, **kwargs: Any) -> MailmigApp:
    """The demo mailbox copied into a Maildir of the test's own."""
    if not target_root.exists():
        make_maildir(target_root)
    spec = AccountSpec(kind="maildir", path=str(target_root))
    target = AccountSession(spec, "target", label="Local target")
    return MailmigApp(demo_sessions(demo_root)[0], target, **kwargs)


async def copy_marked(pilot: Pilot[Any], app: MailmigApp, *folders: str) -> None:
    """Mark `folders`, press c, wait for the plan, press Enter."""
    for name in folders:
        await mark_folder(pilot, app, name)
    await pilot.press("c")
    await wait_screen(pilot, app, PlanScreen, "the plan")
    await pilot.press("enter")


class Recorder(Widget):
    """A subscriber the copy control knows nothing of: it only gets the signal."""

    def __init__(self, control: CopyControl) -> None:
        super().__init__()
        self.control = control
        self.seen: list[ProgressSnapshot] = []

    def on_mount(self) -> None:
        self.control.progress.subscribe(self, self.seen.append)


class CheckGate:
    """Holds the engine's thread in the check after the copy, between two folders."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, event: CopyEvent) -> None:
        holding = isinstance(event, Verifying) and 0 < event.checked < event.total
        if holding and not self.reached.is_set():
            self.reached.set()
            self.released.wait(30)


def test_the_control_the_panel_and_the_panes_never_reach_for_a_screen_or_the_app() -> None:
    for module in (control_module, panel_module):
        source = inspect.getsource(module)
        for reach in ("self.screen", "self.app", "screen_stack", "query_one", "push_screen"):
            assert reach not in source, (module.__name__, reach)
    # A pane queries its own children; its screen and the app it only posts messages to.
    source = inspect.getsource(account_pane_module)
    for reach in ("self.screen", "self.app", "screen_stack", "push_screen", ".maximize("):
        assert reach not in source, (account_pane_module.__name__, reach)


async def test_progress_reaches_a_subscriber_through_the_signal(
    demo_root: Path, tmp_path: Path
) -> None:
    posted: dict[int, Message] = {}  # one entry per message, however far it bubbles

    def hook(message: Message) -> None:
        if isinstance(message, CopyControl.StateChanged | CopyControl.PlanReady):
            posted.setdefault(id(message), message)
        if isinstance(message, CopyControl.Finished):
            posted.setdefault(id(message), message)

    app = local_app(demo_root, tmp_path / "target")
    async with app.run_test(message_hook=hook) as pilot:
        await wait_connected(pilot, app)
        control = main_screen(app).copy_control
        recorder = Recorder(control)
        await main_screen(app).mount(recorder)
        await copy_marked(pilot, app, "Projekte.Kunden")
        await wait_screen(pilot, app, ReportScreen, "the report")

        phases = [snapshot.phase for snapshot in recorder.seen]
        assert phases[0] == "copying" and recorder.seen[0].copied == 0
        assert recorder.seen[0].messages == 240
        assert "verifying" in phases and phases[-1] == "finished"
        copied = [s.copied for s in recorder.seen]
        assert copied == sorted(copied) and copied[-1] == 240
        checked = [s for s in recorder.seen if s.phase == "verifying"]
        assert checked[-1].checked == checked[-1].to_check == 240

        kinds = [
            (type(m).__name__, getattr(m, "state", "")) for m in posted.values()
        ]  # in the order they were posted
        assert kinds == [
            ("StateChanged", "planning"),
            ("PlanReady", ""),
            ("StateChanged", "running"),
            ("StateChanged", "idle"),
            ("Finished", ""),
        ]
        assert not app.copy_running
        assert "Verify: all 240 messages" in screen_text(app)


async def test_the_check_is_a_phase_with_progress_and_cancelling_it_keeps_the_report(
    demo_root: Path, tmp_path: Path
) -> None:
    app = local_app(demo_root, tmp_path / "target")
    gate = CheckGate()
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        control = main_screen(app).copy_control
        control.observer, control.progress_interval = gate, 0.0  # every snapshot, in order
        await copy_marked(pilot, app, "Drafts", "Entwürfe")
        await wait_for(pilot, gate.reached.is_set, "the check between the two folders")
        panel = main_screen(app).query_one(CopyPanel)
        await wait_for(pilot, lambda: "Checking " in screen_text(app), "the check on the panel")
        text = screen_text(app)
        assert "Checking 6/11 messages on the target" in text or (
            "Checking 5/11 messages on the target" in text
        )
        assert panel.snapshot is not None and panel.snapshot.phase == "verifying"
        await pilot.press("p")
        await wait_screen(pilot, app, CopyProgressScreen, "the progress screen")
        assert "Checking the copy on the target" in screen_text(app)

        await pilot.press("x")  # on the progress screen: the same cancel
        await wait_for(
            pilot, lambda: "Cancelling the check at" in screen_text(app), "cancelling shown"
        )
        gate.released.set()
        await wait_screen(pilot, app, ReportScreen, "the report")
        report_screen = app.screen
        assert isinstance(report_screen, ReportScreen)
        report = report_screen.report
        assert not report.cancelled and report.verify is None
        assert "the check was cancelled" in report.verify_problem
        assert [(f.source, f.copied) for f in report.folders] == [("Drafts", 6), ("Entwürfe", 5)]
        text = screen_text(app)
        assert "Copy finished, not checked" in text
        assert "Verify: not done: the check was cancelled" in text
        assert "Drafts" in text and "Entwürfe" in text
        assert report.log_path is not None and "verify: not run" in report.log_path.read_text()
        await pilot.press("escape")
        assert not pane(app, "source").marks.totals().empty  # not checked: the marks stay


async def test_a_cancelled_copy_reports_every_folder_and_what_was_not_copied(
    demo_root: Path, tmp_path: Path
) -> None:
    settings = CopySettings(batch_messages=20, connections=1)
    app = local_app(demo_root, tmp_path / "target", copy_settings=settings)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await copy_marked(pilot, app, "Drafts")  # copied whole: nothing left to copy there
        await wait_screen(pilot, app, ReportScreen, "the first report")
        await pilot.press("escape")

        gate = Gate(at=10)
        main_screen(app).copy_control.observer = gate
        await copy_marked(pilot, app, "Drafts", "Projekte.Kunden")
        await wait_for(pilot, gate.reached.is_set, "the copy to reach its 10th message")
        await pilot.press("x")
        gate.release()
        await wait_screen(pilot, app, ReportScreen, "the cancelled report")
        report_screen = app.screen
        assert isinstance(report_screen, ReportScreen)
        report = report_screen.report
        assert report.cancelled
        drafts, kunden = report.folders
        assert (drafts.source, drafts.copied, drafts.already_present) == ("Drafts", 0, 6)
        assert kunden.source == "Projekte.Kunden" and kunden.not_copied > 0
        assert kunden.copied + kunden.not_copied == 240
        text = screen_text(app)
        assert "Copy cancelled" in text and "Not copied" in text
        assert any(line.lstrip().startswith("Drafts") for line in text.splitlines())
        assert f"not copied {kunden.not_copied}" in " ".join(text.split())  # the total


async def test_a_folder_map_conflict_is_shown_with_the_tui_hint(
    demo_root: Path, tmp_path: Path
) -> None:
    # The target's only drafts folder is "Entwürfe": Drafts goes there by role, the demo's
    # own Entwürfe by name.
    target_root = tmp_path / "target"
    make_maildir(target_root)
    store = MaildirStore(str(target_root), readonly=False)
    store.create_folder("Entwürfe")
    store.close()
    app = local_app(demo_root, target_root)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot, app)
        await mark_folder(pilot, app, "Drafts")
        await mark_folder(pilot, app, "Entwürfe")
        await pilot.press("c")
        await wait_screen(pilot, app, ErrorDialog, "the conflict")
        dialog = app.screen
        assert isinstance(dialog, ErrorDialog) and dialog.title_text == "Folder map conflict"
        assert "'Drafts' and 'Entwürfe' would both go to target folder 'Entwürfe'" in dialog.text
        assert dialog.text.endswith(f"({CONFLICT_HINT})") and "--map" not in dialog.text
        assert "Folder map conflict" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not main_screen(app).copy_control.busy, "idle again")
        assert not app.copy_running


async def quit_during_a_held_copy(pilot: Pilot[Any], app: MailmigApp) -> None:
    """Copy Projekte.Kunden, hold it at its 10th message, press q and answer yes."""
    gate = Gate(at=10)
    await wait_connected(pilot, app)
    main_screen(app).copy_control.observer = gate
    try:
        await copy_marked(pilot, app, "Projekte.Kunden")
        await wait_for(pilot, gate.reached.is_set, "the copy to reach its 10th message")
        await wait_for(pilot, lambda: app.copy_running, "the app to know a copy runs")
        await pilot.press("q")
        await wait_screen(pilot, app, ConfirmDialog, "the quit question")
        await pilot.press("y")
    finally:
        gate.release()  # the engine's thread goes on, to find the copy cancelled


async def test_quitting_during_a_copy_ends_the_app_with_1(demo_root: Path, tmp_path: Path) -> None:
    app = local_app(demo_root, tmp_path / "target")
    async with app.run_test() as pilot:
        await quit_during_a_held_copy(pilot, app)
    assert app.quit_during_copy
    assert (app.return_code, app.return_value) == (1, 1)


def test_the_launcher_returns_1_and_says_why_after_quitting_during_a_copy(
    demo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def auto_pilot(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app, MailmigApp)
        await quit_during_a_held_copy(pilot, pilot.app)

    drive_headless(monkeypatch, auto_pilot)
    make_maildir(tmp_path / "target")
    source = demo_sessions(demo_root)[0]
    spec = AccountSpec(kind="maildir", path=str(tmp_path / "target"))
    target = AccountSession(spec, "target", label="Local target")
    assert launch._run(source, target, {}, {}, 30.0) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines == [launch.QUIT_DURING_COPY]
    assert launch.QUIT_DURING_COPY == (
        "mailmig: quit during a copy; finished work is kept, run the copy again to resume"
    )
