"""Target marks feed undo (issue 13): in the target pane `u` removes, after a confirmation
with the counts, exactly the marked messages a run of this pair appended; a marked message
mailmig did not copy stays. The `u` shows in the footer only while the target pane is the
active one and holds marks. Real Maildirs, a real `mailmig copy`."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Footer

from mailmig_tui.engine.journal import Journal
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.confirm import ConfirmDialog
from mailmig_tui.tui.main_screen import MainScreen
from tests.tui.test_tui_history import files, pair, sessions
from tests.tui.tuikit import (
    main_screen,
    open_folder,
    pane,
    screen_text,
    wait_connected,
    wait_for,
    wait_screen,
)


def footer_text(app: MailmigApp) -> str:
    footer = app.screen.query_one(Footer)
    return " ".join(str(key.render()) for key in footer.children)


async def test_u_in_the_target_pane_removes_only_mailmigs_marked_copies(tmp_path: Path) -> None:
    source, target, theirs = pair(tmp_path)  # 3 copied by a run, 1 not mailmig's
    assert len(files(target)) == 4
    app = MailmigApp(*sessions(source, target))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        screen = main_screen(app)
        assert "u Undo" not in footer_text(app)  # the source pane is the active one

        await open_folder(pilot, app, "target", "INBOX")
        await pilot.pause()
        assert "u Undo" not in footer_text(app)  # nothing marked yet
        messages = pane(app, "target").message_list
        await pilot.press("asterisk")  # mark every message shown: all 4
        await wait_for(pilot, lambda: pane(app, "target").marks.totals().messages == 4, "marks")
        assert "Target: 4 msgs (u undoes copies)" in screen_text(app)
        await pilot.pause()
        assert "u Undo" in footer_text(app)

        await pilot.press("u")
        await wait_screen(pilot, app, ConfirmDialog, "the confirmation")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        text = dialog.question  # whole: on screen it wraps
        assert "Remove 3 of the 4 marked messages: mailmig copied them (run " in text
        assert "1 was not copied by mailmig and stays." in text
        await pilot.press("y")
        await wait_screen(pilot, app, MainScreen, "back to the main screen")
        await wait_for(pilot, lambda: len(files(target)) == 1, "the 3 copies removed")
        await wait_for(pilot, lambda: pane(app, "target").marks.totals().empty, "marks cleared")
        await wait_for(pilot, lambda: len(messages.view) == 1, "the open folder reloaded")
        assert screen.pane("target").active
    assert files(target) == [theirs]
    journal = Journal()
    try:
        assert journal.migrated_sources() == []  # the journal forgot the removed copies
    finally:
        journal.close()


async def test_u_with_nothing_mailmig_copied_marked_removes_nothing(tmp_path: Path) -> None:
    source, target, theirs = pair(tmp_path)
    app = MailmigApp(*sessions(source, target))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "target", "INBOX")
        messages = pane(app, "target").message_list
        uid = next(
            uid for uid in messages.view if "not mailmig" in str(messages.cache[uid].subject)
        )
        pane(app, "target").marks.toggle_message("INBOX", uid, None)
        main_screen(app).refresh_bindings()  # as a MarksChanged from the list does
        await pilot.press("u")
        await wait_for(
            pilot,
            lambda: any("Nothing to remove" in n.message for n in app._notifications),
            "the notice",
        )
        assert not isinstance(app.screen, ConfirmDialog)
    assert theirs in files(target) and len(files(target)) == 4
