"""The history screen (`l`): past runs of the pair with counts and result, Enter opens a
stored report, `v` the log viewer, `u` undoes a run after a confirmation with the counts;
and an SVG snapshot of the list. Runs are made by the real `mailmig copy` between Maildirs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Log

from mailmig_tui.cli import main
from mailmig_tui.engine import history
from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.confirm import ConfirmDialog
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.demo_data import make_maildir
from mailmig_tui.tui.history.history_screen import HistoryScreen
from mailmig_tui.tui.history.log_screen import LogScreen
from tests.tui.tuikit import demo_sessions, screen_text, wait_connected, wait_for, wait_screen

SnapCompare = Callable[..., bool]


def mail(number: int) -> bytes:
    return (
        f"From: Ops <ops@history.mailmig.test>\r\nSubject: History note {number}\r\n"
        f"Message-ID: <history-{number}@mailmig.test>\r\n"
        f"Date: Tue, 0{number} Apr 2024 09:30:00 +0000\r\n\r\nNote {number}.\r\n"
    ).encode()


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new"))


def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A source Maildir of three messages, a target holding one of its own, and a run
    copying the three (by the real CLI)."""
    source, target = tmp_path / "src", tmp_path / "dst"
    make_maildir(source)
    make_maildir(target)
    for number in (1, 2, 3):
        (source / "cur" / f"170000000{number}.M{number}P1.host:2,S").write_bytes(mail(number))
    theirs = target / "cur" / "1600000000.M9P1.host:2,S"
    theirs.write_bytes(b"Subject: not mailmig's\r\n\r\nkeep me\r\n")
    assert main(["copy", f"maildir://{source}", f"maildir://{target}"]) == 0
    return source, target, theirs


def sessions(source: Path, target: Path) -> tuple[AccountSession, AccountSession]:
    return (
        AccountSession(AccountSpec(kind="maildir", path=str(source)), "source"),
        AccountSession(AccountSpec(kind="maildir", path=str(target)), "target", readonly=False),
    )


async def open_history(pilot: Pilot[Any], app: MailmigApp, runs: int) -> HistoryScreen:
    await wait_connected(pilot, app)
    await pilot.press("l")
    await wait_screen(pilot, app, HistoryScreen, "the history screen")
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_for(pilot, lambda: len(screen.records) == runs, f"{runs} runs listed")
    await pilot.pause()
    return screen


async def test_history_lists_runs_opens_report_and_log(tmp_path: Path) -> None:
    source, target, _theirs = pair(tmp_path)
    (run,) = history.all_runs()
    app = MailmigApp(*sessions(source, target))
    async with app.run_test() as pilot:
        await open_history(pilot, app, 1)
        text = screen_text(app)
        assert run.started[:16] in text and "complete" in text
        assert run.run_id in text and "transfer-" in text  # the details line: id and log

        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the stored report")
        text = screen_text(app)
        assert "Copy finished" in text and "INBOX" in text and "3" in text
        await pilot.press("escape")
        await wait_screen(pilot, app, HistoryScreen, "back to the history")

        await pilot.press("v")
        await wait_screen(pilot, app, LogScreen, "the log viewer")
        view = app.screen.query_one(Log)
        await wait_for(pilot, lambda: view.line_count > 3, "the log's lines")
        assert any("mailmig copy log" in line for line in view.lines)
        await pilot.press("escape")
        await wait_screen(pilot, app, HistoryScreen, "back to the history")


async def test_undo_from_the_history_asks_with_counts_and_removes_the_copies(
    tmp_path: Path,
) -> None:
    source, target, theirs = pair(tmp_path)
    assert len(files(target)) == 4
    app = MailmigApp(*sessions(source, target))
    async with app.run_test() as pilot:
        screen = await open_history(pilot, app, 1)
        await pilot.press("u")
        await wait_screen(pilot, app, ConfirmDialog, "the undo confirmation")
        assert "Remove 3 messages in 1 folder" in screen_text(app)
        await pilot.press("y")
        await wait_screen(pilot, app, HistoryScreen, "back to the history")
        await wait_for(
            pilot, lambda: screen.records and screen.records[0].result == "undone", "undone"
        )
        assert "undone" in screen_text(app)
    assert files(target) == [theirs]

    # Undo again: nothing left to remove, and the CLI agrees nothing is recorded.
    (run,) = history.all_runs()
    assert run.undone is not None and run.undone["removed"] == 3


async def test_declining_the_undo_removes_nothing(tmp_path: Path) -> None:
    source, target, _theirs = pair(tmp_path)
    app = MailmigApp(*sessions(source, target))
    async with app.run_test() as pilot:
        await open_history(pilot, app, 1)
        await pilot.press("u")
        await wait_screen(pilot, app, ConfirmDialog, "the undo confirmation")
        await pilot.press("n")
        await wait_screen(pilot, app, HistoryScreen, "back to the history")
    assert len(files(target)) == 4
    assert history.all_runs()[0].result == "complete"


def fixed_runs(source: AccountSpec, target: AccountSpec) -> None:
    """Three runs with fixed dates, counts and log paths: nothing varies between runs."""
    log_dir = "/home/admin/.local/state/mailmig/log"
    for run_id, started, result, report in (
        ("20251031-142530-7f3a", "2025-10-31 14:25:30", "complete", (1204, 0, 0, 0)),
        ("20251030-091502-1c2d", "2025-10-30 09:15:02", "cancelled", (310, 12, 0, 882)),
        ("20251029-170044-9e0b", "2025-10-29 17:00:44", "verify problems", (4, 900, 1, 0)),
    ):
        copied, there, failed, not_copied = report
        history.save(
            history.RunRecord(
                run_id=run_id,
                started=started,
                source=source.display,
                target=target.display,
                source_identity=source.identity,
                target_identity=target.identity,
                target_account=f"maildir://{target.path}",
                description="all selected folders",
                log=f"{log_dir}/transfer-{run_id[:15]}.log",
                finished=started,
                result=result,
                report={
                    "copied": copied,
                    "already_present": there,
                    "failed": failed,
                    "not_copied": not_copied,
                    "too_large": 0,
                },
            )
        )


def test_history_screen_80x24(snap_compare: SnapCompare, demo_root: Path) -> None:
    source, target = demo_sessions(demo_root)
    fixed_runs(source.spec, target.spec)
    app = MailmigApp(source, target)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_history(pilot, app, 3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
