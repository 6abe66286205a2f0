"""The TUI over the demo Maildirs: browsing, paging, marking, sorting, searching, preview, keys.

No server needed; these run first and fast. Every wait is on a condition of the app's state.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.preview import PreviewScreen
from mailmig_tui.tui.common.confirm import ConfirmDialog
from mailmig_tui.tui.common.help import HelpScreen
from mailmig_tui.tui.demo_data import DemoMailbox, demo_total
from tests.tui.tuikit import (
    demo_sessions,
    info_text,
    main_screen,
    open_folder,
    pane,
    screen_text,
    wait_connected,
    wait_for,
)


async def test_both_panes_list_their_folders_and_tab_switches(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        names = [f.name for f in pane(app, "source").folder_list.folders]
        assert names[0] == "INBOX"
        assert {"Archive.2023", "Projekte.Kunden", "Entwürfe", "Sent"} <= set(names)
        text = screen_text(app)
        assert "▶ Source: Demo mailbox (Maildir)" in text
        assert "Target: Empty target (Maildir)" in text
        assert "Entwürfe" in text and "1,500" in text
        assert "3,251 messages" in info_text(app, "source")
        assert pane(app, "source").active and not pane(app, "target").active

        await pilot.press("tab")
        await wait_for(pilot, lambda: pane(app, "target").active, "the target pane to activate")
        assert app.focused is pane(app, "target").folder_list
        assert "▶ Target" in screen_text(app)
        await pilot.press("tab")
        await wait_for(pilot, lambda: pane(app, "source").active, "the source pane again")


async def test_open_a_folder_page_through_and_go_back(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        messages = pane(app, "source").message_list
        assert len(messages.view) == 1500
        assert "INBOX · 1,500 messages · newest received first" in info_text(app, "source")
        dates = [messages.cache[uid].internaldate for uid in messages.view[:20]]
        assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
        # Far down the list: the rows there get their own page of summaries.
        await pilot.press("G")
        assert messages.cursor == 1499
        await wait_for(pilot, lambda: messages.view[-1] in messages.cache, "the last page")
        assert len(messages.cache) < 1500  # only what was looked at
        await pilot.press("g", "pagedown", "pagedown", "down", "j", "k", "up", "end", "home")
        assert messages.cursor == 0
        await pilot.press("backspace")
        await wait_for(pilot, lambda: not pane(app, "source").showing_messages, "folder list")
        current = pane(app, "source").folder_list.current
        assert current is not None and current.name == "INBOX"


async def test_marks_count_messages_and_bytes(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        source = pane(app, "source")
        drafts = next(f for f in source.folder_list.folders if f.name == "Drafts")
        await pilot.press("g", *["j"] * source.folder_list.folders.index(drafts), "space")
        totals = source.marks.totals()
        assert (totals.folders, totals.messages, totals.bytes) == (1, 6, drafts.size)
        assert "Source: 1 folder, 6 msgs" in screen_text(app)
        await pilot.press("k", "insert")  # unmark again
        assert source.marks.totals().empty

        await open_folder(pilot, app, "source", "Sent")
        messages = source.message_list
        first, second = messages.view[0], messages.view[1]
        await pilot.press("space", "t")
        assert messages.cursor == 2
        expected = messages.cache[first].size + messages.cache[second].size
        totals = source.marks.totals()
        assert (totals.messages, totals.bytes, totals.unknown_sizes) == (2, expected, 0)
        assert "* " in screen_text(app)

        # Invert: all 600 but the two are marked; sizes not yet seen are loaded in a worker.
        await pilot.press("asterisk")
        assert source.marks.totals().messages == 598
        await wait_for(
            pilot, lambda: source.marks.totals().unknown_sizes == 0, "the sizes of marked rows"
        )
        sent = next(f for f in source.folder_list.folders if f.name == "Sent")
        assert source.marks.totals().bytes == sent.size - expected


async def test_sort_cycles_and_search_filters(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "Projekte.Kunden")
        messages = pane(app, "source").message_list
        await pilot.press("s")
        await wait_for(pilot, lambda: messages.sort_key == "size" and not messages.status, "sort")
        sizes = [messages.cache[uid].size for uid in messages.view]
        assert sizes == sorted(sizes, reverse=True)
        assert "largest first" in info_text(app, "source")
        await pilot.press("s")
        await wait_for(pilot, lambda: messages.sort_key == "from" and not messages.status, "from")
        await pilot.press("s", "s")
        await wait_for(pilot, lambda: messages.sort_key == "date", "back to date order")
        assert messages.view == messages.arrival

        await pilot.press("slash")
        box = pane(app, "source").query_one("#search")
        assert app.focused is box
        await pilot.press("G", "r", "ü")  # typing reaches the box, not the list's keys
        assert box.value == "Grü"  # type: ignore[attr-defined]
        box.value = 'subject:"Grüße aus"'  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: messages.hits is not None, "the search result")
        assert messages.view and len(messages.view) < len(messages.arrival)
        assert all(
            "Grüße aus" in messages.cache[u].subject
            for u in messages.view[:5]
            if u in messages.cache
        )
        assert "found" in info_text(app, "source")
        await pilot.press("escape")
        await wait_for(pilot, lambda: messages.hits is None, "the search to clear")
        assert len(messages.view) == len(messages.arrival)

        await pilot.press("slash")
        box.value = "since:2024-99-01"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app._notifications) > 0, "a notice about the date")
        assert messages.hits is None


async def test_preview_shows_headers_body_and_attachments(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        messages = pane(app, "source").message_list
        # The newest message with an attachment: bigger than 2 KB in this corpus.
        index = next(i for i, u in enumerate(messages.view[:40]) if messages.cache[u].size > 2500)
        await pilot.press(*["j"] * index, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen), "the preview")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        await wait_for(pilot, lambda: preview.content is not None, "the message to load")
        assert preview.content is not None
        names = [name for name, _value in preview.content.headers]
        assert names[:2] == ["From", "To"] and "Subject" in names and "Date" in names
        assert preview.content.attachments
        assert "Hallo Anna" in preview.content.body
        text = screen_text(app)
        assert "From:" in text and "Files:" in text
        await pilot.press("space", "b", "j", "k", "G", "g", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PreviewScreen), "back to list")
        assert pane(app, "source").showing_messages


async def test_help_lists_every_key_and_keymap_remaps(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root), keymap={"mark": "x", "help": "f1,h"})
    async with app.run_test(size=(100, 100)) as pilot:  # the whole help, unscrolled
        await wait_connected(pilot, app)
        await pilot.press("space")  # no longer bound to "mark"
        assert pane(app, "source").marks.totals().empty
        await pilot.press("x")
        assert pane(app, "source").marks.totals().folders == 1
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        text = screen_text(app)
        for words in ("Quit", "Switch between the source and the target pane", "Sort by date",
                      "Search on the server", "Invert the marks", "tab", "pgdn", "f1"):  # fmt: skip
            assert words in text, words
        assert "x " in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), "help to close")


async def test_theme_palette_zoom_and_quit(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        assert app.theme == "mailmig-dark"
        await pilot.press("T")
        assert app.theme == "mailmig-light"
        await pilot.press("T", "T")
        assert app.theme == "mailmig-dark"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Help", "Theme", "Quit", "Switch pane", "Reload", "Zoom pane"):
            assert title in titles
        await pilot.press("z")
        assert main_screen(app).maximized is pane(app, "source")
        await pilot.press("z")
        assert main_screen(app).maximized is None

        app.copy_running = True
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the quit question")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog), "dialog gone")
        assert app.is_running
        app.copy_running = False
        await pilot.press("q")
    assert app.return_code == 0


async def test_demo_comes_up_at_once_and_shows_its_mailbox_being_written(
    tmp_path: Path,
) -> None:
    """`mailmig demo`'s panes write the mailbox in their connect workers: the screen is up
    meanwhile and says how far the writing is; then the folders are listed as usual."""
    demo = DemoMailbox(tmp_path / "demo", scale=0.1)
    release = threading.Event()

    def held_after_first_batch(report: Callable[[str], None]) -> None:
        def hold(text: str) -> None:
            report(text)
            if "of" in text and not text.startswith("writing the demo mailbox: 0 "):
                release.wait(10)  # the test looks at the screen while the writer waits

        demo.prepare(hold)

    source, target = demo_sessions(tmp_path / "demo")
    source.prepare = held_after_first_batch
    target.prepare = demo.prepare
    app = MailmigApp(source, target)
    async with app.run_test() as pilot:
        total = f"{demo_total(0.1):,}"
        writing = re.compile(rf"writing the demo mailbox: [1-9][\d,]* of {total} messages")
        await wait_for(
            pilot,
            lambda: writing.search(info_text(app, "source")) is not None,
            "the source pane to show the writing progress",
        )
        assert "writing the demo mailbox" in info_text(app, "target")  # it waits for it too
        assert not pane(app, "source").connected
        release.set()
        await wait_connected(pilot, app)
        assert f"{total} messages" in info_text(app, "source")
