"""80x24 (and 60x20) keep what matters: the subject's room, whole counts, account names,
the search's hit count; zoom only adds room; target marks say they are not copied; one form
of role labels, `Unseen`, ISO dates of the received date the list is ordered by, and the flag
letters explained (issue 13, items 5, 6, 7 and 11)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from mailmig_tui.engine.progress import FolderProgress, ProgressSnapshot
from mailmig_tui.model import AccountSpec, FolderInfo, MessageSummary, SpecialUse
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.account_pane import pane_title
from mailmig_tui.tui.browse.rows import (
    FLAG_LEGEND,
    folder_columns,
    folder_row,
    message_columns,
    message_row,
)
from mailmig_tui.tui.browse.status_line import StatusLine
from mailmig_tui.tui.common.format import join_fitting, shorten_middle
from mailmig_tui.tui.common.help import HelpScreen
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.text import headline
from tests.tui.tuikit import (
    demo_sessions,
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

SHORT_ROLE_TAG = re.compile(r"\[[A-Z]\]")


def long_named_sessions(root: Path) -> tuple[AccountSession, AccountSession]:
    source, _target = demo_sessions(root)
    spec = AccountSpec(kind="maildir", path=str(root / "target"))
    label = "alice.longname@example-company.com"
    return source, AccountSession(spec, "target", label=label)


def notices(app: MailmigApp) -> list[str]:
    return [notice.message for notice in app._notifications]


# -- rows, titles and lines that fit --------------------------------------------------------


def test_counts_are_never_cut_and_roles_have_one_form() -> None:
    big = FolderInfo("Archiv", "/", messages=100_000, unseen=100_000, size=5 * 2**30)
    archive = FolderInfo("Archive", "/", messages=3, special_use=SpecialUse.ARCHIVE)
    for width in range(15, 90):
        row = folder_row(folder_columns(width), big, "", marked=False)
        assert "100,000" in row, (width, row)
        assert not SHORT_ROLE_TAG.search(folder_row(folder_columns(width), archive, "", False))
    assert "Archive [Archive]" in folder_row(folder_columns(40), archive, "", False)
    assert "Unseen" in folder_columns(39).header() and "New" not in folder_columns(39).header()
    assert "100,000 100,000" in folder_row(folder_columns(38), big, "", marked=False)


def test_the_received_date_is_shown_in_iso_form_and_named() -> None:
    summary = MessageSummary(
        uid=1,
        internaldate=datetime(2025, 10, 31, 9, tzinfo=UTC),
        flags=("\\Answered", "$label1"),
        size=2048,
        date=datetime(2020, 1, 2, tzinfo=UTC),  # the sender's clock: not what the order uses
        sender="Anna <a@x>",
        subject="Quarterly figures",
    )
    columns = message_columns(60)
    assert columns.header().split()[0] == "Received"
    row = message_row(columns, summary, "")
    assert "2025-10-31" in row and "2020" not in row and not re.search(r"(?<!\d)25-10-31", row)
    assert "Nr+" in message_row(message_columns(80), summary, "")  # unread, replied, keyword
    narrow = message_columns(40)  # 60x20: the year and month, still ISO
    assert narrow.header().split()[0] == "Recvd"
    assert message_row(narrow, summary, "").startswith("  2025-10 Anna")
    assert all(word in FLAG_LEGEND for word in ("N unread", "! flagged", "r replied", "+"))


def test_names_shorten_in_the_middle_and_lines_drop_whole_parts() -> None:
    assert shorten_middle("alice@example.com", 17) == "alice@example.com"
    short = shorten_middle("alice@example.com", 12)
    assert short.startswith("alice@") and short.endswith(".com") and len(short) == 12
    title = pane_title(False, "target", "alice.longname@example-company.com", 30)
    assert title.startswith("  Target: alice") and title.endswith(".com") and "…" in title
    parts = [(2, "INBOX"), (1, "100,000 messages"), (0, "search x: 1,234 found"), (3, "sort")]
    line = join_fitting(parts, 40)
    assert "1,234 found" in line and "sort" not in line and len(line) <= 40
    assert "100,000" not in join_fitting(parts, 30) and "1,234 found" in join_fitting(parts, 30)


# -- the real app at 80x24 and 60x20 --------------------------------------------------------


async def test_80x24_gives_the_open_folder_30_cells_of_subject(demo_root: Path) -> None:
    app = MailmigApp(*long_named_sessions(demo_root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        await pilot.pause()
        listing = pane(app, "source").message_list
        assert message_columns(listing.list_width).subject >= 30
        text = screen_text(app)
        assert "Re: Protokoll der Teamsitzung " in text  # 29 characters and the gap, whole
        assert "Received" in text and "2024-06-28" in text
        # The other pane: the account's name both ends, whole counts.
        title = str(pane(app, "target").query_one(".pane-title").render())
        assert "alice" in title and title.rstrip().endswith(".com") and "…" in title
        assert "INBOX" in text and "Folder" in text
        # Searching: the hit count stays in the info line, the order's name goes first.
        await pilot.press("slash")
        await pilot.press(*"subject:Angebot", "enter")
        await wait_for(pilot, lambda: listing.hits is not None, "the search to answer")
        info = info_text(app, "source")
        assert f"{len(listing.view):,} found" in info, info


async def test_60x20_keeps_whole_counts_and_the_search_hits(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "target", "INBOX")
        text = screen_text(app)
        assert "1,500" in text and "900" in text  # the source's folder list, counts whole
        await open_folder(pilot, app, "source", "INBOX")
        listing = pane(app, "source").message_list
        await pilot.press("slash")
        await pilot.press(*"from:Weiß", "enter")
        await wait_for(pilot, lambda: listing.hits is not None, "the search to answer")
        assert f"{len(listing.view):,} found" in info_text(app, "source")
        assert not SHORT_ROLE_TAG.search(screen_text(app))


async def test_zoom_keeps_every_column_and_only_widens(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        source = pane(app, "source")
        before = message_columns(source.message_list.list_width)
        await pilot.press("z")
        await wait_for(pilot, lambda: main_screen(app).maximized is source, "the zoom")
        await pilot.pause()
        after = message_columns(source.message_list.list_width)
        assert source.message_list.list_width > 70
        assert after.subject > before.subject and after.sender >= before.sender
        assert (after.date, after.size) == (before.date, before.size) and after.flags >= 2
        header = str(source.query_one(".pane-columns").render())
        for column in ("Received", "From", "Subject", "Size", "Fl"):
            assert column in header, header
        assert "455B" in screen_text(app)  # the first row's size is still there
        assert "Marked" in str(app.screen.query_one(StatusLine).render())  # still shown


async def test_target_marks_are_said_to_be_not_copied(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        target = pane(app, "target")
        target.folder_list.focus()
        await pilot.press("space")  # marks the target's INBOX
        await wait_for(pilot, lambda: not target.marks.totals().empty, "the target mark")
        await wait_for(pilot, lambda: any("not copied" in n for n in notices(app)), "a notice")
        status = str(app.screen.query_one(StatusLine).render())
        assert "Target: 1 folder" in status and "(u undoes copies)" in status
        assert status.index("Source") < status.index("Target")
        # `c` here with nothing marked in the source: refused, not the source's cursor folder.
        before = len(notices(app))
        await pilot.press("c")
        await wait_for(pilot, lambda: len(notices(app)) > before, "the refusal")
        assert "Nothing marked in the source" in notices(app)[-1]
        assert main_screen(app).copy_control.state == "idle"
        # With source marks, `c` from the target pane copies them and says so.
        await mark_folder(pilot, app, "Sent")
        target.folder_list.focus()
        await pilot.pause()
        status = str(app.screen.query_one(StatusLine).render())
        assert "Source: 1 folder" in status and "Target: 1 folder (u undoes copies)" in status
        await pilot.press("c")
        await wait_screen(pilot, app, PlanScreen, "the plan of the source's marks")
        assert any("Copying what is marked in the source" in n for n in notices(app))
        assert "Sent" in screen_text(app)
        await pilot.press("escape")


async def test_help_explains_the_flag_letters_and_the_date(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(100, 60)) as pilot:
        await wait_connected(pilot, app)
        await pilot.press("question_mark")
        await wait_screen(pilot, app, HelpScreen, "the help screen")
        console = Console(width=100, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        text = console.export_text()
        assert "N unread" in text and "! flagged" in text and "INTERNALDATE" in text


def test_the_copy_line_leaves_out_the_rate_before_it_cuts_the_eta() -> None:
    inbox = FolderProgress("INBOX", "INBOX", 100_000, 300 * 2**20, 41_200, 120 * 2**20)
    snapshot = ProgressSnapshot(
        folders=(inbox,),
        messages=100_000,
        bytes=300 * 2**20,
        copied=41_200,
        copied_bytes=120 * 2**20,
        elapsed=33.0,
        messages_per_second=1_248.5,
        bytes_per_second=3.9 * 2**20,
    )
    whole = " ".join(headline(snapshot))
    assert "msg/s" in whole and "ETA" in whole and len(whole) > 78  # too long for 80x24
    verb, rest = headline(snapshot, 78)  # the panel's width at 80 columns
    assert len(verb) + 1 + len(rest) <= 78
    assert "41,200/100,000 msgs" in rest and "ETA" in rest and "msg/s" not in rest
