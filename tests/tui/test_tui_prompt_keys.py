"""Keys that open a prompt never reach it, and no keyring means an unticked box, not notices.

The key that opens a prompt (`r` after a refused login, `c` in the chooser, `a` for the
account form) is taken by its binding; the prompt opens afterwards with an empty field. A
prompt never opens by itself where the screen tells the operator to press a key for it.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, Input

from mailmig_tui.config import load_config, save_account
from mailmig_tui.model import AccountSpec
from mailmig_tui.secrets import keyring_unusable
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.app_messages import KeyringUnavailable
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec, screen_text, wait_for, wait_screen


async def test_c_in_the_chooser_opens_the_password_prompt_empty(
    slash_server: DovecotServer, demo_root: Path
) -> None:
    user = slash_server.new_user()
    save_account("a-server", imap_spec(slash_server, user))  # no password anywhere
    save_account("b-maildir", AccountSpec(kind="maildir", path=str(demo_root / "target")))
    app = MailmigApp(accounts=load_config().accounts)
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("s", "down", "t")
        await pilot.pause(0.3)
        assert isinstance(app.screen, AccountsScreen)  # chosen, not connected yet
        await pilot.press("c")
        await wait_screen(pilot, app, PasswordDialog, "the source's password prompt")
        assert isinstance(app.screen_stack[-2], MainScreen)
        assert app.screen.query_one("#password", Input).value == ""


async def test_a_in_the_chooser_opens_the_account_form_empty() -> None:
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        form = app.screen
        assert form.focused is form.query_one("#name", Input)
        assert all(box.value == "" for box in form.query(Input))


async def test_no_keyring_unticks_and_disables_remember() -> None:
    # This machine is headless, as our users' SSH hosts are: keyring has no backend.
    reason = keyring_unusable()
    assert reason is not None
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        box = app.screen.query_one("#remember", Checkbox)
        assert not box.value and box.disabled
        assert "no keyring here" in screen_text(app)
        await pilot.press("escape")
        await wait_screen(pilot, app, AccountsScreen, "the chooser again")

        spec = AccountSpec(kind="imap", user="u", host="127.0.0.1", port=9)
        session = AccountSession(spec, "source")  # never connected: only asked
        results: list[tuple[str, bool] | None] = []
        app.push_screen(PasswordDialog(session), results.append)
        await wait_screen(pilot, app, PasswordDialog, "the password prompt")
        box = app.screen.query_one("#remember", Checkbox)
        assert not box.value and box.disabled
        assert "no keyring here, kept in memory" in screen_text(app)
        await pilot.press("tab", "space")  # disabled: skipped by Tab, never ticked
        assert not box.value and app.screen.focused is not box
        app.screen.query_one("#password", Input).value = "secret"
        app.screen.query_one("#password", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: results, "the answer")
        assert results == [("secret", False)]


async def test_the_in_memory_notice_is_short_and_said_once() -> None:
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        for _ in range(3):  # the source, the target, a copy: the same reason every time
            app.post_message(KeyringUnavailable("the system keyring is not available here"))
        await pilot.pause(0.2)
        notices = [n for n in app._notifications if n.title == "Password not remembered"]
        assert len(notices) == 1
        notice = notices[0]
        assert "kept in memory" in notice.message
        assert len(notice.message) <= 60 and "\n" not in notice.message  # one line
        assert notice.timeout <= 5
