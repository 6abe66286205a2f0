"""The Google browser sign-in (PKCE) in the TUI: a dialog with the address to open and a box
for the address the browser was sent to. Pasted back (the browser runs on another machine,
mailmig over SSH) or caught by the loopback listener, whichever comes first, signs in;
Escape cancels and closes the listener.

Against a real Dovecot whose oauth2 passdb checks every token at the fake authorisation
server (tests/support/oauth_server.py); the test plays the browser.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Static

from mailmig_tui import oauth2
from mailmig_tui.model import OAuth2Spec
from mailmig_tui.tui.accounts.browser_sign_in import BrowserSignInDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.error import ErrorDialog
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer
from tests.support.oauth_fixtures import browser_get, fresh_fake, google_table, write_config
from tests.support.oauth_server import FakeOAuthServer
from tests.tui.tuikit import demo_sessions, imap_spec, pane, screen_text, wait_for, wait_screen


@pytest.fixture(autouse=True)
def google_at_the_fake(fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """[oauth2.google] pointing at the fake, as an admin's config would point at Google."""
    oauth2.forget_all()
    fresh_fake(fake, monkeypatch)
    monkeypatch.delenv("MAILMIG_OAUTH2_CLIENT_SECRET", raising=False)
    write_config({"oauth2": {"google": google_table(fake)}})
    yield
    oauth2.forget_all()


def google_app(dovecot: DovecotServer, fake: FakeOAuthServer, demo_root: Path) -> MailmigApp:
    user = dovecot.new_user()
    fake.sign_in_user = user
    spec = replace(imap_spec(dovecot, user), oauth2=OAuth2Spec("google"))
    return MailmigApp(AccountSession(spec, "source"), demo_sessions(demo_root)[1])


async def browser_dialog(pilot: Pilot[Any], app: MailmigApp) -> BrowserSignInDialog:
    """The browser sign-in dialog, once the app shows it."""
    await wait_screen(pilot, app, BrowserSignInDialog, "the browser sign-in dialog")
    dialog = app.screen
    assert isinstance(dialog, BrowserSignInDialog)
    return dialog


async def sign_in_at_the_provider(dialog: BrowserSignInDialog) -> str:
    """The operator signs in at the shown address; returns where the browser is sent."""
    response = await asyncio.to_thread(browser_get, dialog.url)
    location = response.getheader("Location") or ""
    assert location.startswith(dialog.redirect_uri + "?")
    return location


async def test_the_address_pasted_into_the_dialog_signs_in(
    dovecot: DovecotServer, fake: FakeOAuthServer, demo_root: Path
) -> None:
    app = google_app(dovecot, fake, demo_root)
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await browser_dialog(pilot, app)
        assert "Open this address in a browser" in screen_text(app)
        said = " ".join(str(static.render()) for static in dialog.query(Static))
        assert f"paste the address the browser was sent to ({dialog.redirect_uri}" in said
        assert "enter the code" not in said and dialog.url in said
        location = await sign_in_at_the_provider(dialog)  # the browser is elsewhere
        box = dialog.query_one("#pasted-address", Input)
        assert box.has_focus
        box.post_message(events.Paste(location))  # what the terminal sends for a paste
        await wait_for(pilot, lambda: box.value == location, "the pasted address in the box")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and pane(app, "source").connected,
            "the source pane to list its folders after the pasted sign-in",
        )
        assert dialog.pasted
        assert not any(isinstance(s, BrowserSignInDialog) for s in app.screen_stack)
    (grant,) = fake.grants("authorization_code")
    assert grant["redirect_uri"] == dialog.redirect_uri
    assert f"user=<{fake.sign_in_user}>, method=OAUTHBEARER" in dovecot.log_text()


async def test_the_browser_coming_back_to_the_listener_closes_the_dialog_by_itself(
    dovecot: DovecotServer, fake: FakeOAuthServer, demo_root: Path
) -> None:
    app = google_app(dovecot, fake, demo_root)
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await browser_dialog(pilot, app)
        location = await sign_in_at_the_provider(dialog)
        thanked = await asyncio.to_thread(browser_get, location)  # a browser on this machine
        assert thanked.status == 200
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and pane(app, "source").connected,
            "the dialog to close and the source pane to list its folders",
        )
        assert not dialog.pasted
        assert not any(isinstance(s, BrowserSignInDialog) for s in app.screen_stack)
    assert len(fake.grants("authorization_code")) == 1


async def test_escape_cancels_the_browser_sign_in_and_closes_the_listener(
    dovecot: DovecotServer, fake: FakeOAuthServer, demo_root: Path
) -> None:
    app = google_app(dovecot, fake, demo_root)
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await browser_dialog(pilot, app)
        await pilot.press("escape")
        await wait_screen(pilot, app, ErrorDialog, "the error dialog")
        shown = screen_text(app)
        assert "sign-in was cancelled" in shown
        assert "Traceback" not in shown
        assert not any(isinstance(s, BrowserSignInDialog) for s in app.screen_stack)
        port = urllib.parse.urlsplit(dialog.redirect_uri).port
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port or 0), timeout=5).close()
    assert not fake.grants("authorization_code")


async def test_quitting_while_the_browser_sign_in_waits_ends_the_wait(
    dovecot: DovecotServer, fake: FakeOAuthServer, demo_root: Path
) -> None:
    app = google_app(dovecot, fake, demo_root)
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await browser_dialog(pilot, app)
        app.exit()
    # Else the worker waits (and the app's end with it) for a browser that never comes.
    assert dialog.cancel.is_set()
