"""Small things of issue 13: notifications leave the bottom lines alone, the palette holds
only mailmig's commands, and help shows whole action ids at 80x24."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Static

from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.help import HelpScreen, sections
from tests.tui.tuikit import demo_sessions, screen_text, wait_connected, wait_for, wait_screen


async def test_a_notification_leaves_the_panel_status_line_and_footer_visible(
    demo_root: Path,
) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_connected(pilot, app)
        await wait_for(pilot, lambda: "? Help" in screen_text(app), "the footer")
        before = screen_text(app).splitlines()
        app.notify("Cancelling after the messages in flight; copy again", title="Copy")
        await wait_for(pilot, lambda: "Cancelling after" in screen_text(app), "the toast")
        after = screen_text(app).splitlines()
        assert after[-3:] == before[-3:]  # the pane totals, the status line, the footer
        assert after[0] == before[0]  # and the pane titles with the account names


async def test_the_palette_offers_only_mailmigs_commands(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:3] == ["Help", "Theme", "Quit"]
        assert "Copy" in " ".join(titles)  # the main screen's own
        await pilot.press("ctrl+p")
        await wait_screen(pilot, app, CommandPalette, "the palette")
        await wait_for(pilot, lambda: "Help" in screen_text(app), "the command list")
        text = screen_text(app)
        for generic in ("Screenshot", "Keys", "Maximize", "Change theme"):
            assert generic not in text


async def test_help_shows_every_action_id_whole_at_80x24() -> None:
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("question_mark")
        await wait_screen(pilot, app, HelpScreen, "help")
        table = app.screen.query(Static).last()  # the table below the title
        width = table.content_region.width
        assert width <= 76
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(table.content)
        lines = console.export_text().splitlines()
        ids = {
            binding.id
            for _title, classes in sections()
            for cls in classes
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", []))
            if binding.id and not binding.system
        }
        assert "preview-page-down" in ids and "swap-roles" in ids
        for ident in ids:
            assert any(line.rstrip().endswith(f" {ident}") for line in lines), ident
