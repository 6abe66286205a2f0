"""SVG snapshots of the copy screens at 80x24 and 120x40: folder map, plan, the progress
panel mid-run and during the check after the copy, the report.

The map is the real app's over the demo data (with a target that makes a conflict). The
plan, the panel and the report render fixed values built here, not a live copy: no clock,
no temporary paths, the same pixels every run. Update with `--snapshot-update` and look at
the SVGs in tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from mailmig_tui.engine.events import CopyReport, Failure, FolderReport, MessageRef
from mailmig_tui.engine.journal import FolderKey
from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.plan import FolderWork, Plan
from mailmig_tui.engine.progress import FolderProgress, ProgressSnapshot
from mailmig_tui.engine.rates import DEFAULT_RATE, estimate
from mailmig_tui.engine.verify import FolderCheck, VerifyReport
from mailmig_tui.model import AccountSpec, FolderInfo, Security
from mailmig_tui.presets import EXCHANGE
from mailmig_tui.stores.base import HeaderProbe
from mailmig_tui.stores.maildir import MaildirStore
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.copy.folder_map_screen import FolderMapScreen
from mailmig_tui.tui.copy.map_list import MapList
from mailmig_tui.tui.copy.panel import CopyPanel
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.demo_data import make_maildir
from tests.tui.tuikit import demo_sessions, main_screen, wait_compared, wait_connected, wait_for

SnapCompare = Callable[..., bool]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SOURCE = AccountSpec(kind="maildir", path="/srv/mail/anna/Maildir")
TARGET = AccountSpec(kind="imap", user="anna@example.com", host="outlook.office365.com",
                     port=993, security=Security.TLS)  # fmt: skip
LABELS = ("Old server (Maildir)", "anna@example.com (Exchange)")

# (source, target, messages, already there, to copy, bytes per message, too large, exists)
FOLDERS = [
    ("INBOX", "INBOX", 1500, 200, 1299, 3600, 1, True),
    ("Sent", "Gesendete Elemente", 600, 0, 600, 4700, 0, True),
    ("Drafts", "Entwürfe", 6, 6, 0, 800, 0, True),
    ("Archive.2023", "Archiv/2023", 900, 0, 900, 3300, 0, False),
    ("Projekte.Kunden", "Projekte/Kunden", 240, 0, 240, 3400, 0, False),
]


def fixed_plan() -> Plan:
    works = []
    for source, target, messages, present, to_copy, size, big, exists in FOLDERS:
        reason = "inbox" if source == "INBOX" else "special" if target != source else "path"
        work = FolderWork(
            FolderMapping(source, target, reason),  # type: ignore[arg-type]
            FolderInfo(source, ".", messages=messages, size=messages * size),
            exists,
            FolderKey(SOURCE.identity, source, 1, TARGET.identity, target),
            to_copy=[HeaderProbe(uid, size, None, b"") for uid in range(1, to_copy + 1)],
            too_large=[HeaderProbe(9000 + n, 48_000_000, None, b"") for n in range(big)],
            selected=messages,
            present=present,
        )
        works.append(work)
    plan = Plan(SOURCE, TARGET, works, 35_000_000, (9_500_000_000, 10_737_418_240))
    plan.target_preset = EXCHANGE
    plan.warnings.append("the target's quota will not hold this copy: 10,712,000,000 bytes needed")
    return plan


def fixed_report() -> CopyReport:
    """A copy with every kind of trouble: a message too large, one refused, one the target
    said it stored but the check did not find, and a folder stopped by the full target."""
    report = CopyReport(elapsed=312.4, verify_wanted=True)
    big = MessageRef("INBOX", 4711, 48_000_000, "Fotos vom Betriebsausflug", "<demo-04711@ex>")
    refused = MessageRef("Sent", 815, 5120, "Rechnung 1815 – bitte prüfen", "<demo-00815@ex>")
    lost = MessageRef("Sent", 816, 4400, "AW: Rechnung 1815", "<demo-00816@ex>")
    for source, target, messages, present, to_copy, size, too_large, _exists in FOLDERS:
        folder = FolderReport(source, target, source_messages=messages, copied=to_copy,
                              already_present=present, too_large=too_large,
                              bytes=to_copy * size)  # fmt: skip
        if source == "INBOX":
            folder.failures.append(Failure(big, "larger than the target accepts", True))
        if source == "Sent":
            folder.copied -= 2
            folder.failed = 2
            folder.failures.append(Failure(refused, "NO [ALERT] message refused"))
            folder.failures.append(Failure(lost, "the target said it stored the message but "
                                                 "does not have it (found by verify)"))  # fmt: skip
        if source == "Projekte.Kunden":
            folder.copied, folder.not_copied = 100, 140
            folder.error = "the target is full (NO [OVERQUOTA])"
        report.folders.append(folder)
    checks = [
        FolderCheck("INBOX", "INBOX", 1500, 1499, missing=[big]),
        FolderCheck("Sent", "Gesendete Elemente", 600, 598, missing=[refused, lost]),
        FolderCheck("Drafts", "Entwürfe", 6, 6),
        FolderCheck("Archive.2023", "Archiv/2023", 900, 900),
        FolderCheck("Projekte.Kunden", "Projekte/Kunden", 240, 100, missing=[]),
    ]
    report.verify = VerifyReport(checks)
    report.log_path = Path("/home/anna/.local/state/mailmig/log/transfer-20240628-174500.log")
    report.description = "3 marked folders and 12 marked messages"
    return report


def fixed_progress() -> ProgressSnapshot:
    folders = (
        FolderProgress("INBOX", "INBOX", 1299, 1299 * 3600, 812, 812 * 3600, 0, 0, "copying"),
        FolderProgress("Sent", "Sent", 600, 600 * 4700, 119, 119 * 4700, 1, 0, "copying"),
        FolderProgress("Drafts", "Drafts", 6, 4800, 6, 4800, 0, 0, "done"),
        FolderProgress("Archive.2023", "Archive.2023", 900, 900 * 3300),
    )
    refused = MessageRef("Sent", 815, 5120, "Rechnung 1815 – bitte prüfen", "<demo-00815@ex>")
    return ProgressSnapshot(
        folders,
        messages=sum(f.messages for f in folders),
        bytes=sum(f.bytes for f in folders),
        copied=937,
        copied_bytes=812 * 3600 + 119 * 4700 + 4800,
        failed=1,
        elapsed=3.1,
        messages_per_second=302.0,
        bytes_per_second=1_110_000.0,
        failures=(Failure(refused, "NO [ALERT] message refused"),),
        failure_count=1,
    )


def fixed_checking() -> ProgressSnapshot:
    """The same copy done, its check a third of the way through."""
    copying = fixed_progress()
    folders = tuple(
        replace(f, copied=f.messages - f.failed, copied_bytes=f.bytes, state="done")
        for f in copying.folders
    )
    copied = sum(f.copied for f in folders)
    return replace(copying, folders=folders, copied=copied, copied_bytes=copying.bytes,
                   phase="verifying", checked=1_200, to_check=3_246)  # fmt: skip


def push(app: MailmigApp, screen: Callable[[], Any]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await app.push_screen(screen())
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_plan(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = MailmigApp()
    plan = fixed_plan()
    guess = estimate(plan.messages_to_copy, plan.bytes_to_copy, DEFAULT_RATE)
    screen = push(app, lambda: PlanScreen(plan, guess, "3 marked folders", LABELS))
    assert snap_compare(app, terminal_size=size, run_before=screen)


@pytest.mark.parametrize("size", SIZES)
def test_report(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = MailmigApp()
    screen = push(app, lambda: ReportScreen(fixed_report(), LABELS))
    assert snap_compare(app, terminal_size=size, run_before=screen)


def panel_showing(app: MailmigApp, snapshot: ProgressSnapshot) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_compared(pilot, app)
        screen = main_screen(app)
        screen.copy_control.state = "running"  # as during a copy: the footer offers x
        screen.refresh_bindings()
        screen.query_one(CopyPanel).show(snapshot)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_progress_panel(snap_compare: SnapCompare, demo_root: Path, size: tuple[int, int]) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    assert snap_compare(app, terminal_size=size, run_before=panel_showing(app, fixed_progress()))


@pytest.mark.parametrize("size", SIZES)
def test_progress_panel_checking(
    snap_compare: SnapCompare, demo_root: Path, size: tuple[int, int]
) -> None:
    """After the copy, the check: its own phase, bar and count, still cancellable."""
    app = MailmigApp(*demo_sessions(demo_root))
    assert snap_compare(app, terminal_size=size, run_before=panel_showing(app, fixed_checking()))


@pytest.fixture(scope="module")
def conflict_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A target whose only drafts folder is "Entwürfe": the demo's Drafts goes there by
    role, and its own "Entwürfe" by path, so both claim it."""
    root = tmp_path_factory.mktemp("conflict") / "target"
    make_maildir(root)
    store = MaildirStore(str(root), readonly=False)
    store.create_folder("Entwürfe")
    store.close()
    return root


@pytest.mark.parametrize("size", SIZES)
def test_folder_map_with_a_conflict(
    snap_compare: SnapCompare, demo_root: Path, conflict_target: Path, size: tuple[int, int]
) -> None:
    source = demo_sessions(demo_root)[0]
    target = AccountSession(
        AccountSpec(kind="maildir", path=str(conflict_target)), "target", label="New server"
    )
    app = MailmigApp(source, target)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_connected(pilot, app)
        await pilot.press("m")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, FolderMapScreen) and bool(app.screen.query_one(MapList).rows)
            ),
            "the folder map",
        )
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
