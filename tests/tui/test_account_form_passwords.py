"""The account form saves an account without a password: with a password command (tested
by a real login through it), or with nothing (saved untested, asked for on connecting)."""

from __future__ import annotations

from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.config import load_config
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.app import MailmigApp
from tests.support.dovecot import DovecotServer
from tests.tui.test_tui_accounts import fill_form
from tests.tui.tuikit import wait_for, wait_screen


async def add_account(app: MailmigApp, pilot: object, **values: str) -> AccountFormScreen:
    await wait_screen(pilot, app, AccountsScreen, "the account chooser")  # type: ignore[arg-type]
    await pilot.press("a")  # type: ignore[attr-defined]
    await wait_screen(pilot, app, AccountFormScreen, "the form")  # type: ignore[arg-type]
    form = app.screen
    assert isinstance(form, AccountFormScreen)
    fill_form(form, **values)
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    return form


async def test_a_password_command_is_tested_and_saved(
    slash_server: DovecotServer, tmp_path: Path
) -> None:
    user = slash_server.new_user()
    secret = tmp_path / "pw"
    secret.write_text(slash_server.password(user) + "\n")
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await add_account(
            app, pilot, name="lab", host="127.0.0.1", security="plain",
            port=str(slash_server.imap_port), user=user, **{"password-command": f"cat {secret}"},
        )  # fmt: skip
        await wait_for(
            pilot, lambda: not isinstance(app.screen, AccountFormScreen), "form to close"
        )
        assert load_config().accounts["lab"].password_command == f"cat {secret}"
        assert slash_server.password(user) not in paths.config_file().read_text()


async def test_a_failing_password_command_keeps_the_form_open_with_one_line(
    slash_server: DovecotServer, tmp_path: Path
) -> None:
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await add_account(
            app, pilot, name="lab", host="127.0.0.1", security="plain",
            port=str(slash_server.imap_port), user="nobody",
            **{"password-command": f"cat {tmp_path / 'missing'}"},
        )  # fmt: skip
        error = form.query_one("#form-error")
        await wait_for(pilot, lambda: "(cat)" in str(error.render()), "the command's error")
        assert "failed (exit status 1)" in str(error.render())
        assert isinstance(app.screen, AccountFormScreen)
        assert "lab" not in load_config().accounts


async def test_an_account_without_any_password_is_saved_untested(
    slash_server: DovecotServer,
) -> None:
    user = slash_server.new_user()
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await add_account(
            app, pilot, name="later", host="127.0.0.1", security="plain",
            port=str(slash_server.imap_port), user=user,
        )  # fmt: skip
        await wait_for(
            pilot, lambda: not isinstance(app.screen, AccountFormScreen), "form to close"
        )
        saved = load_config().accounts["later"]
        assert (saved.user, saved.password_command) == (user, "")
        notices = [notice.message for notice in app._notifications]
        assert any("without a test login" in text for text in notices), notices
