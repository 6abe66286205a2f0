"""What an account pane posts up and what the main screen does with it: the password dialog
(the answer handed back down to the pane), the preview, the zoom.

The pane never pushes a screen or maximizes itself: `run_test(message_hook=...)` sees each
wish posted, and the screen it leads to shows that the main screen acted on it.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.tui.accounts.device_code import DeviceCodeSignIn
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.account_pane import AccountPane
from mailmig_tui.tui.browse.preview import PreviewScreen
from mailmig_tui.tui.main_screen import MainScreen
from tests.tui.tuikit import (
    demo_sessions,
    info_text,
    main_screen,
    open_folder,
    pane,
    wait_connected,
    wait_for,
    wait_screen,
)


class Posted:
    """A message hook keeping each message of the given kinds once, however far it bubbles,
    with the nodes it reached."""

    def __init__(self, *kinds: type[Message]) -> None:
        self.kinds = kinds
        self.messages: dict[int, Message] = {}

    def __call__(self, message: Message) -> None:
        if isinstance(message, self.kinds):
            self.messages.setdefault(id(message), message)

    def of(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.messages.values() if isinstance(m, kind)]


def no_password_source() -> AccountSession:
    """An IMAP account with no password anywhere: the pane must ask before it connects."""
    spec = AccountSpec(
        kind="imap",
        user="nobody",
        host="127.0.0.1",
        port=9,  # never reached: the dialog is cancelled
        security=Security.PLAIN,
        timeout=2.0,
    )
    return AccountSession(spec, "source", label="No password")


async def test_the_pane_posts_password_wanted_and_the_screen_asks_and_answers_it(
    demo_root: Path,
) -> None:
    posted = Posted(AccountPane.PasswordWanted)
    source = no_password_source()
    app = MailmigApp(source, demo_sessions(demo_root)[1])
    async with app.run_test(message_hook=posted) as pilot:
        await wait_screen(pilot, app, PasswordDialog, "the password dialog")
        dialog = app.screen
        assert isinstance(dialog, PasswordDialog) and dialog.session is source
        screen = app.screen_stack[0]
        assert isinstance(screen, MainScreen)
        wanted = posted.of(AccountPane.PasswordWanted)
        assert len(wanted) == 1
        message = wanted[0]
        assert isinstance(message, AccountPane.PasswordWanted)
        assert message.pane is screen.pane("source") and message.session is source
        assert message.control is message.pane

        await pilot.press("escape")  # the answer (None) goes back down to the pane
        await wait_for(pilot, lambda: app.screen is screen, "back to the main screen")
        await wait_for(
            pilot,
            lambda: info_text(app, "source") == "not connected: press r to log in",
            "the pane to take the cancelled answer",
        )
        assert source.password is None and not pane(app, "source").connected
        # The app gave the session its sign-in view; the pane only used the session.
        assert isinstance(source.sign_in_view, DeviceCodeSignIn)

        await pilot.press("r")  # asked again, through the screen again
        await wait_screen(pilot, app, PasswordDialog, "the password dialog again")
        assert len(posted.of(AccountPane.PasswordWanted)) == 2


async def test_the_pane_posts_preview_and_zoom_and_the_screen_does_them(demo_root: Path) -> None:
    posted = Posted(AccountPane.PreviewWanted, AccountPane.ZoomToggled)
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(message_hook=posted) as pilot:
        await wait_connected(pilot, app)
        source = pane(app, "source")

        await pilot.press("z")
        await wait_for(pilot, lambda: main_screen(app).maximized is source, "the zoomed pane")
        await pilot.press("z")
        await wait_for(pilot, lambda: main_screen(app).maximized is None, "both panes again")
        zooms = posted.of(AccountPane.ZoomToggled)
        assert len(zooms) == 2
        assert all(isinstance(z, AccountPane.ZoomToggled) and z.pane is source for z in zooms)

        await open_folder(pilot, app, "source", "INBOX")
        uid = source.message_list.view[0]
        await pilot.press("enter")
        await wait_screen(pilot, app, PreviewScreen, "the preview")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        (wanted,) = posted.of(AccountPane.PreviewWanted)
        assert isinstance(wanted, AccountPane.PreviewWanted)
        assert (wanted.session, wanted.folder, wanted.uid) == (source.session, "INBOX", uid)
        assert (preview.session, preview.folder, preview.uid) == (source.session, "INBOX", uid)
