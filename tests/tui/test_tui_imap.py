"""The TUI against real Dovecot servers: two accounts, paging, preview, passwords, failures."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.widgets import Input

from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.preview import PreviewScreen
from mailmig_tui.tui.common.error import ErrorDialog
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox
from tests.tui.tuikit import (
    demo_sessions,
    imap_spec,
    info_text,
    kill_imap_sessions,
    open_folder,
    pane,
    screen_text,
    seed_many,
    wait_connected,
    wait_for,
    wait_screen,
)

BULK = 5000


@dataclass(frozen=True)
class Accounts:
    source: DovecotServer
    source_user: str
    target: DovecotServer
    target_user: str


@pytest.fixture(scope="module")
def accounts(slash_server: DovecotServer, courier_server: DovecotServer) -> Accounts:
    """A slash-style source with the standard corpus and a 5,000-message folder; a
    Courier-style target with the standard folders. Only read by the tests."""
    source_user, target_user = slash_server.new_user(), courier_server.new_user()
    seed_mailbox(slash_server, source_user, standard_folders(), standard_corpus())
    seed_many(slash_server, source_user, "Bulk", BULK)
    seed_mailbox(courier_server, target_user, standard_folders(), standard_corpus()[:5])
    return Accounts(slash_server, source_user, courier_server, target_user)


def sessions(accounts: Accounts, *, passwords: bool = True) -> tuple[AccountSession, ...]:
    source = AccountSession(imap_spec(accounts.source, accounts.source_user), "source")
    target = AccountSession(imap_spec(accounts.target, accounts.target_user), "target")
    if passwords:
        source.password = accounts.source.password(accounts.source_user)
        target.password = accounts.target.password(accounts.target_user)
    return source, target


async def test_both_accounts_connect_and_both_trees_browse(accounts: Accounts) -> None:
    app = MailmigApp(*sessions(accounts))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        source_names = [f.name for f in pane(app, "source").folder_list.folders]
        target_names = [f.name for f in pane(app, "target").folder_list.folders]
        assert "Projects/Kunden/Müller GmbH" in source_names
        assert "INBOX.Projects.Kunden.Müller GmbH" in target_names
        text = screen_text(app)
        assert f"Source: {accounts.source_user}@127.0.0.1" in text
        assert "      Müller GmbH" in text  # indented two levels under Projects/Kunden
        assert "Entwürfe" in text
        assert "5,000" in text  # the Bulk folder's count

        await pilot.press("tab")
        await wait_for(pilot, lambda: pane(app, "target").active, "the target pane")
        await open_folder(pilot, app, "target", "INBOX")
        assert pane(app, "target").message_list.view
        await open_folder(pilot, app, "source", "Sent")
        assert pane(app, "source").message_list.view
        assert "Sent · " in info_text(app, "source")


async def test_a_big_folder_opens_fast_and_pages_on_demand(accounts: Accounts) -> None:
    app = MailmigApp(*sessions(accounts))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        started = time.monotonic()
        await open_folder(pilot, app, "source", "Bulk")
        elapsed = time.monotonic() - started
        messages = pane(app, "source").message_list
        assert len(messages.view) == BULK
        assert elapsed < 3.0, f"opening {BULK} messages took {elapsed:.2f} s"
        assert messages.cache[messages.view[0]].subject == "bulk message 04999"
        assert len(messages.cache) <= 400  # one or two pages, not the folder

        await pilot.press("pagedown", "pagedown", "G")
        await wait_for(pilot, lambda: messages.view[-1] in messages.cache, "the last page")
        assert messages.cache[messages.view[-1]].subject == "bulk message 00000"
        assert len(messages.cache) < BULK // 2

        await pilot.press("slash")
        pane(app, "source").query_one("#search").value = 'subject:"message 01234"'  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: messages.hits is not None, "the server search")
        assert len(messages.view) == 1
        await wait_for(pilot, lambda: messages.view[0] in messages.cache, "the hit's summary")
        assert messages.cache[messages.view[0]].subject == "bulk message 01234"


async def test_preview_reads_without_setting_seen(accounts: Accounts) -> None:
    client = accounts.source.client(accounts.source_user)
    try:
        client.select_folder("INBOX", readonly=True)
        unseen = sorted(client.search(["UNSEEN"]))
    finally:
        client.logout()
    assert unseen, "the corpus has unread mail in INBOX"

    app = MailmigApp(*sessions(accounts))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        messages = pane(app, "source").message_list
        messages.cursor = messages.view.index(unseen[0])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen), "the preview")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        await wait_for(pilot, lambda: preview.content is not None, "the message body")
        assert "From:" in screen_text(app)

    client = accounts.source.client(accounts.source_user)
    try:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags([unseen[0]])[unseen[0]]
    finally:
        client.logout()
    assert b"\\Seen" not in flags


async def test_wrong_password_shows_the_error_then_r_asks_with_an_empty_field(
    private_server: DovecotServer, demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server of its own: Dovecot slows down every later login from an address that failed
    # (so the target is a Maildir here, not a second login that would wait).
    user = private_server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "wrong-password")
    source = AccountSession(imap_spec(private_server, user), "source")
    app = MailmigApp(source, demo_sessions(demo_root)[1])
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, ErrorDialog, "the login error")
        error = app.screen
        assert isinstance(error, ErrorDialog)
        assert "Login failed" in screen_text(app)
        assert "refused the login" in error.text
        assert "check the user name and password" in error.text
        await pilot.press("enter")
        # Closing the error opens no prompt by itself: the pane says which key does.
        await wait_for(pilot, lambda: not isinstance(app.screen, ErrorDialog), "no error")
        await pilot.pause()
        assert not isinstance(app.screen, PasswordDialog)
        assert info_text(app, "source") == "login failed: press r to enter the password"
        # Asked again, in a dialog (the environment's password was the wrong one), and the
        # `r` that opened it is not its first character.
        await pilot.press("r")
        await wait_screen(pilot, app, PasswordDialog, "the password dialog")
        assert app.screen.query_one("#password", Input).value == ""
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PasswordDialog), "no dialog")
        assert "not connected: press r to log in" in info_text(app, "source")


async def test_password_dialog_when_no_password_is_known(accounts: Accounts) -> None:
    app = MailmigApp(*sessions(accounts, passwords=False))

    def dialog_for(role: str) -> bool:
        return isinstance(app.screen, PasswordDialog) and app.screen.session.role == role

    def not_remembered() -> int:
        return sum("not remembered" in (n.title or "") for n in app._notifications)

    async with app.run_test() as pilot:
        # Both panes ask. Cancel the target's; answer the source's (masked input).
        await wait_for(pilot, lambda: isinstance(app.screen, PasswordDialog), "a dialog")
        await pilot.pause()
        for _ in range(2):
            await wait_screen(pilot, app, PasswordDialog, "a password dialog")
            dialog = app.screen
            assert isinstance(dialog, PasswordDialog)
            if dialog.session.role == "target":
                await pilot.press("escape")
            else:
                await pilot.press("p", "w")
                assert "••" in screen_text(app) and "pw" not in screen_text(app)
                dialog.query_one("#password").value = accounts.source.password(  # type: ignore[attr-defined]
                    accounts.source_user
                )
                await pilot.press("enter")
        await wait_for(pilot, lambda: pane(app, "source").connected, "the source to connect")
        assert "not connected: press r to log in" in info_text(app, "target")
        # No keyring in the tests, as on an SSH host: the dialog said so (its box unticked),
        # so there is no notice to cover the next prompt.
        await pilot.pause()
        assert not_remembered() == 0

        await pilot.press("tab", "r")
        await wait_screen(pilot, app, PasswordDialog, "the target's dialog again")
        assert dialog_for("target")
        app.screen.query_one("#password").value = accounts.target.password(  # type: ignore[attr-defined]
            accounts.target_user
        )
        await pilot.press("enter")
        await wait_connected(pilot, app)
        await pilot.pause()
        assert not_remembered() == 0


async def test_a_server_that_goes_away_gives_a_notice(private_server: DovecotServer) -> None:
    user = private_server.new_user()
    seed_many(private_server, user, "INBOX", 700)
    password = private_server.password(user)
    source = AccountSession(imap_spec(private_server, user), "source", password=password)
    target = AccountSession(imap_spec(private_server, user), "target", password=password)
    app = MailmigApp(source, target)

    def notices() -> int:
        return sum(n.title == "Connection problem" for n in app._notifications)

    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", "INBOX")
        private_server.stop()
        # A new connection (the preview's) is refused.
        await pilot.press("enter")
        await wait_for(pilot, lambda: notices() == 1, "a notice for the preview")
        assert "Could not load" in screen_text(app)
        await pilot.press("escape")
        # Established sessions die as well: rows not loaded yet cannot be paged in.
        assert kill_imap_sessions(private_server) > 0
        await pilot.press("G")
        await wait_for(pilot, lambda: notices() == 2, "a notice for the lost connection")
        assert "not loading: press r to retry" in info_text(app, "source")
        await pilot.press("r")  # reloading reconnects, which is refused: one more notice
        await wait_for(pilot, lambda: notices() == 3, "a notice for the reload")
        await pilot.press("backspace", "tab", "r")
        await wait_for(pilot, lambda: notices() == 4, "a notice for the target pane")
        assert "not connected: press r to retry" in info_text(app, "target")
        assert app.is_running


async def test_a_folder_deleted_meanwhile_gives_a_notice(slash_server: DovecotServer) -> None:
    user = slash_server.new_user()
    client = slash_server.client(user)
    try:
        client.create_folder("Temp")
    finally:
        client.logout()
    password = slash_server.password(user)
    source = AccountSession(imap_spec(slash_server, user), "source", password=password)
    target = AccountSession(imap_spec(slash_server, user), "target", password=password)
    app = MailmigApp(source, target)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        client = slash_server.client(user)
        try:
            client.delete_folder("Temp")
        finally:
            client.logout()
        listing = pane(app, "source").folder_list
        listing.cursor = [f.name for f in listing.folders].index("Temp")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(n.title == "Folder not found" for n in app._notifications),
            "the folder-gone notice",
        )
        notice = next(n for n in app._notifications if n.title == "Folder not found")
        assert "Temp" in notice.message and "press r to reload the folder list" in notice.message
        await pilot.press("backspace", "r")
        await wait_for(
            pilot, lambda: "Temp" not in [f.name for f in listing.folders], "a fresh folder list"
        )
