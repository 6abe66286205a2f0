"""What is already on the target, and the folder tree: two real Dovecot servers.

The source is a user of the slash-style server ("/" delimiter), the target a user of the
Courier-style one ("INBOX." prefix, "." delimiter). The target holds some of the source's
messages from the start (appended byte for byte, as another tool would have copied them);
a copy of marked messages from the TUI makes the partial copy of the second test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.pilot import Pilot

from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.status_line import StatusLine
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import (
    imap_spec,
    main_screen,
    open_folder,
    pane,
    screen_text,
    wait_connected,
    wait_for,
    wait_screen,
)

START = datetime(2025, 3, 1, 9, tzinfo=UTC)
SOURCE_FOLDERS = {"INBOX": 5, "Archive": 2, "Archive/2023": 3, "Archive/2024": 1, "Work": 4}
"""Folder -> how many messages the source holds."""
ON_TARGET_FROM_START = {"INBOX": [0, 2], "Archive/2023": [0, 1, 2]}
"""Source folder -> which of its messages (0-based) the target holds before the test."""
TARGET_NAMES = {"INBOX": "INBOX", "Archive/2023": "INBOX.Archive.2023"}


def message(folder: str, number: int) -> bytes:
    when = START + timedelta(days=number)
    return (
        f"Message-ID: <{folder.replace('/', '-')}-{number}@example.test>\r\n"
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"From: Alice <alice@example.test>\r\n"
        f"Subject: {folder} message {number}\r\n\r\n"
        f"Body of {folder} {number}.\r\n"
    ).encode()


def seed(server: DovecotServer, user: str, folders: dict[str, list[int]]) -> None:
    """Append the numbered messages of each folder (creating folders as needed)."""
    client = server.client(user)
    try:
        for folder, numbers in folders.items():
            name = TARGET_NAMES.get(folder, folder) if server.shape == "courier" else folder
            if name != "INBOX" and not client.folder_exists(name):
                client.create_folder(name)
            for number in numbers:
                when = START + timedelta(days=number)
                client.append(name, message(folder, number), ["\\Seen"], when)
    finally:
        client.logout()


def accounts(
    slash_server: DovecotServer, courier_server: DovecotServer
) -> tuple[AccountSession, AccountSession]:
    source_user, target_user = slash_server.new_user(), courier_server.new_user()
    seed(slash_server, source_user, {f: list(range(n)) for f, n in SOURCE_FOLDERS.items()})
    seed(courier_server, target_user, ON_TARGET_FROM_START)
    return (
        AccountSession(
            imap_spec(slash_server, source_user),
            "source",
            label="Old server",
            password=slash_server.password(source_user),
        ),
        AccountSession(
            imap_spec(courier_server, target_user),
            "target",
            label="New server",
            password=courier_server.password(target_user),
        ),
    )


async def wait_compared(pilot: Pilot[Any], app: MailmigApp) -> None:
    await wait_connected(pilot, app)
    listing = pane(app, "source").folder_list
    await wait_for(pilot, lambda: listing.comparing, "the target's counts")
    await pilot.pause()


def status_text(app: MailmigApp) -> str:
    return str(main_screen(app).query_one(StatusLine).render())


def row_of(app: MailmigApp, label: str) -> str:
    """The source pane's folder row whose name is `label` (tree markers and all)."""
    listing = pane(app, "source").folder_list
    for index, row in enumerate(listing.shown_rows):
        if row.node.label == label:
            return listing.row_text(index, 60)[0]  # the list may be hidden (60: not cut)
    raise AssertionError(f"no row {label!r}")


async def test_folder_counts_presence_and_mark_missing_after_a_partial_copy(
    slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    app = MailmigApp(*accounts(slash_server, courier_server))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_compared(pilot, app)
        # Source count → target count, and the difference (a true minus sign).
        assert re.search(r"INBOX\s+5 →\s+2\s+−3", row_of(app, "INBOX"))
        assert re.search(r"2023\s+3 →\s+3\s+0", row_of(app, "2023"))
        assert re.search(r"Work\s+4 →\s+0\s+−4", row_of(app, "Work"))
        assert "Target" in screen_text(app) and "Diff" in screen_text(app)

        # INBOX: exactly the two messages the target has are marked ✓, by content.
        await open_folder(pilot, app, "source", "INBOX")
        messages = pane(app, "source").message_list
        await wait_for(pilot, lambda: "on the target" in status_text(app), "the lookup")
        assert messages.on_target == {1, 3}
        assert "2 of 5 on the target" in status_text(app)
        ticked = [line for line in screen_text(app).splitlines() if "✓" in line]
        assert len(ticked) == 2
        assert "INBOX message 0" in ticked[0] + ticked[1]
        assert "INBOX message 2" in ticked[0] + ticked[1]

        # A partial copy: two marked messages of Work; the rest stays behind.
        await pilot.press("backspace")
        await open_folder(pilot, app, "source", "Work")
        copied = set(messages.view[:2])
        await pilot.press("space", "space")
        await pilot.press("c")
        await wait_screen(pilot, app, PlanScreen, "the plan")
        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the report")
        await pilot.press("escape")

        # Opened again after the copy: exactly the copied ones are on the target.
        await pilot.press("backspace")
        await open_folder(pilot, app, "source", "Work")
        await wait_for(pilot, lambda: "2 of 4 on the target" in status_text(app), "Work's lookup")
        assert messages.on_target == copied
        await wait_for(
            pilot,
            lambda: re.search(r"Work\s+4 →\s+2\s+−2", row_of(app, "Work")),
            "the folder counts after the copy",
        )

        # `n` marks everything not on the target yet, and only that.
        await pilot.press("n")
        marks = pane(app, "source").marks
        assert set(marks.messages["Work"]) == set(messages.arrival) - copied
        assert all(size is not None for size in marks.messages["Work"].values())
        assert "2 msgs" in status_text(app)


async def test_tree_collapses_expands_and_filters_with_counts(
    slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    app = MailmigApp(*accounts(slash_server, courier_server))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_compared(pilot, app)
        listing = pane(app, "source").folder_list
        listing.focus()

        def labels() -> list[str]:
            return [row.node.label for row in listing.shown_rows]

        assert labels() == ["INBOX", "Archive", "2023", "2024", "Work"]
        assert "▾ Archive" in row_of(app, "Archive")
        assert re.search(r"Archive.*\s2 →\s+0\s+−2", row_of(app, "Archive"))

        # Collapsed: the subtree's sums (2 + 3 + 1 messages, 3 of them on the target).
        listing.select_name("Archive")
        await pilot.press("left")
        assert labels() == ["INBOX", "Archive", "Work"]
        assert re.search(r"▸ Archive.*\s6 →\s+3\s+−3", row_of(app, "Archive"))
        await pilot.press("right")
        assert labels() == ["INBOX", "Archive", "2023", "2024", "Work"]
        await pilot.press("minus")
        assert labels() == ["INBOX", "Archive", "Work"]
        await pilot.press("plus")
        assert labels() == ["INBOX", "Archive", "2023", "2024", "Work"]
        # On a subfolder, ← goes to the parent; a second ← collapses it.
        listing.select_name("Archive/2024")
        await pilot.press("left")
        assert listing.current is not None and listing.current.name == "Archive"

        # The filter narrows as you type and keeps the parents; keys go to it, not to marks.
        await pilot.press("slash", "2", "0", "2", "3")
        assert labels() == ["Archive", "2023"]
        assert listing.current is not None and listing.current.name == "Archive/2023"
        assert "Filter: 2023" in screen_text(app)
        assert pane(app, "source").marks.totals().empty
        await pilot.press("backspace", "backspace")
        assert labels() == ["Archive", "2023", "2024"]
        await pilot.press("escape")
        assert labels() == ["INBOX", "Archive", "2023", "2024", "Work"]
        assert "Filter" not in screen_text(app)

        # The target pane's tree uses the target's own delimiter (Courier: INBOX.Archive.2023).
        target_rows = pane(app, "target").folder_list.shown_rows
        assert [(row.node.depth, row.node.label) for row in target_rows] == [
            (0, "INBOX"),
            (0, "Archive"),
            (1, "2023"),
        ]
