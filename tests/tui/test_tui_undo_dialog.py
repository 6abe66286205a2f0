"""Undo from the history screen as a new user meets it (issue 13): the run count in words,
a confirmation worded for the target's kind that names its keys and moves between its
buttons with ←/→ (the safe one focused), and after the undo the open source folder is
looked up again, so no ✓ of a removed message is left. Real Maildirs, real `mailmig copy`."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button

from mailmig_tui.engine import history
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.confirm import ConfirmDialog
from mailmig_tui.tui.history.history_screen import HistoryScreen, removal_wording
from mailmig_tui.tui.main_screen import MainScreen
from tests.tui.test_tui_history import files, open_history, pair, sessions
from tests.tui.tuikit import (
    main_screen,
    open_folder,
    pane,
    screen_text,
    wait_compared,
    wait_for,
    wait_on_target,
    wait_screen,
)


def test_the_removal_is_worded_by_the_target_kind() -> None:
    assert "UID EXPUNGE" in removal_wording("imap")
    assert removal_wording("maildir") == "Only those files are deleted"
    assert "UID EXPUNGE" not in removal_wording("mbox")


async def test_one_run_is_a_run_and_the_dialog_names_its_keys_and_arrows(tmp_path: Path) -> None:
    source, target, _theirs = pair(tmp_path)
    app = MailmigApp(*sessions(source, target))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_history(pilot, app, 1)
        text = screen_text(app)
        assert "1 run, newest first" in text and "1 runs" not in text
        await pilot.press("u")
        await wait_screen(pilot, app, ConfirmDialog, "the undo confirmation")
        dialog = app.screen
        text = screen_text(app)
        assert "Only those files are deleted" in text and "UID EXPUNGE" not in text
        assert "y Remove · n Keep" in text
        assert isinstance(app.focused, Button) and app.focused.id == "no"  # the safe default
        await pilot.press("left")
        assert isinstance(app.focused, Button) and app.focused.id == "yes"
        await pilot.press("right")
        assert isinstance(app.focused, Button) and app.focused.id == "no"
        await pilot.press("enter")  # Keep
        await wait_screen(pilot, app, HistoryScreen, "back to the history")
        assert not dialog.is_attached
    assert len(files(target)) == 4
    assert history.all_runs()[0].result == "complete"


async def test_left_then_enter_removes_and_the_open_folder_is_compared_again(
    tmp_path: Path,
) -> None:
    source, target, theirs = pair(tmp_path)
    app = MailmigApp(*sessions(source, target))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_compared(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        await wait_on_target(pilot, app)
        screen = main_screen(app)
        messages = pane(app, "source").message_list
        assert screen.on_target_text() == "3 of 3 on the target"
        assert len(messages.on_target) == 3

        history_screen = await open_history(pilot, app, 1)
        await pilot.press("u")
        await wait_screen(pilot, app, ConfirmDialog, "the undo confirmation")
        await pilot.press("left", "enter")  # Remove
        await wait_screen(pilot, app, HistoryScreen, "back to the history")
        await wait_for(
            pilot,
            lambda: bool(history_screen.records) and history_screen.records[0].result == "undone",
            "undone",
        )
        await pilot.press("escape")
        await wait_screen(pilot, app, MainScreen, "back to the main screen")
        await wait_for(
            pilot,
            lambda: screen.on_target_text() == "0 of 3 on the target",
            "the open folder looked up again",
        )
        assert not messages.on_target
        assert "✓" not in screen_text(app)
    assert files(target) == [theirs]
