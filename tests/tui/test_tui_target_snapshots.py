"""SVG snapshots of what is on the target and of the folder tree, over two real Dovecots.

The data is fixed (see `test_tui_target_compare`); update with
`pytest tests/tui/test_tui_target_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from mailmig_tui.tui.app import MailmigApp
from tests.support.dovecot import DovecotServer
from tests.tui.test_tui_target_compare import accounts, status_text, wait_compared
from tests.tui.tuikit import open_folder, pane, wait_for

SnapCompare = Callable[..., bool]


def test_folder_tree_with_target_counts_and_a_collapsed_subtree_80x24(
    snap_compare: SnapCompare, slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    app = MailmigApp(*accounts(slash_server, courier_server))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_compared(pilot, app)
        listing = pane(app, "target").folder_list
        await wait_for(pilot, lambda: len(listing.shown_rows) == 3, "the target's tree")
        pane(app, "source").folder_list.select_name("Archive")
        await pilot.press("minus")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_folder_tree_filtered_80x24(
    snap_compare: SnapCompare, slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    app = MailmigApp(*accounts(slash_server, courier_server))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_compared(pilot, app)
        await pilot.press("slash", "2", "0", "2")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_open_folder_marks_what_is_on_the_target_80x24(
    snap_compare: SnapCompare, slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    app = MailmigApp(*accounts(slash_server, courier_server))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_compared(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        await wait_for(pilot, lambda: "2 of 5 on the target" in status_text(app), "lookup")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
