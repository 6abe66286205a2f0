"""SVG snapshots of the real app over the demo Maildirs (fixed data, no animations, no clock).

Update after an intended change with `pytest tests/tui/test_tui_snapshots.py --snapshot-update`
and look at the SVGs in tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from mailmig_tui.tui.app import MailmigApp
from tests.tui.tuikit import demo_sessions, open_folder, wait_compared, wait_on_target

SnapCompare = Callable[..., bool]


def connected(app: MailmigApp) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_compared(pilot, app)

    return run_before


def test_main_screen_80x24(snap_compare: SnapCompare, demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    assert snap_compare(app, terminal_size=(80, 24), run_before=connected(app))


def test_main_screen_120x40(snap_compare: SnapCompare, demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    assert snap_compare(app, terminal_size=(120, 40), run_before=connected(app))


def test_message_list_with_marks_80x24(snap_compare: SnapCompare, demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_compared(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        await wait_on_target(pilot, app)
        await pilot.press("j", "space", "space")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
