"""The account chooser: each role given explicitly, swapped and confirmed before anything
connects; recent pairs first; j/k as in every list; Enter never reaches the password prompt.

Two saved accounts on a real Dovecot, named so that the alphabetical order puts the new
server (dst1) first: the order in which picking "the next role" made it the source.
"""

from __future__ import annotations

import stat

import pytest
from textual.widgets import Input, OptionList

from mailmig_tui.config import load_config, save_account
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.recent import load_recent, recent_file, remember_pair
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec, pane, screen_text, wait_connected, wait_for, wait_screen


def two_accounts(server: DovecotServer) -> tuple[str, str]:
    """Saves src1 and dst1; returns their users."""
    old, new = server.new_user(), server.new_user()
    save_account("src1", imap_spec(server, old))
    save_account("dst1", imap_spec(server, new))
    return old, new


def chooser(app: MailmigApp) -> AccountsScreen:
    assert isinstance(app.screen, AccountsScreen)
    return app.screen


def chosen_line(app: MailmigApp) -> str:
    return str(chooser(app).query_one("#chosen").render())


def highlighted(app: MailmigApp) -> str:
    options = chooser(app).query_one(OptionList)
    assert options.highlighted is not None
    return options.get_option_at_index(options.highlighted).id or ""


async def test_roles_are_given_explicitly_swapped_and_confirmed(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = two_accounts(slash_server)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(old))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", slash_server.password(new))
    config = load_config()
    app = MailmigApp(accounts=config.accounts, timeout=config.timeout)
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        assert highlighted(app) == "account:dst1"  # alphabetical: the new server first
        await pilot.press("enter")  # on an account Enter gives no role: it says which keys do
        assert chooser(app).chosen == {"source": None, "target": None}
        assert any("Press s" in n.message for n in app._notifications)
        await pilot.press("t", "j", "s")  # dst1 the target, j down, src1 the source
        assert highlighted(app) == "account:src1"
        assert "Source src1  →  Target dst1" in chosen_line(app)
        await pilot.press("w")  # swapped: shown, nothing connected
        assert "Source dst1  →  Target src1" in chosen_line(app)
        swapped = chooser(app).chosen
        assert swapped["source"] is not None and swapped["source"].role == "source"
        assert swapped["source"].spec.name == "dst1"
        await pilot.press("w", "k")
        assert "Source src1  →  Target dst1" in chosen_line(app)
        assert highlighted(app) == "account:dst1"
        text = screen_text(app)
        for key, what in (("s", "Source"), ("t", "Target"), ("w", "Swap"), ("c", "Connect")):
            assert f"{key} {what}" in text  # the footer names the role keys
        assert not recent_file().exists()  # nothing remembered before it connects
        await pilot.press("enter")  # both chosen: Enter confirms
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_connected(pilot, app)
        assert pane(app, "source").session.spec.name == "src1"
        assert pane(app, "target").session.spec.name == "dst1"
    assert [(p.source, p.target) for p in load_recent()] == [("src1", "dst1")]
    assert stat.S_IMODE(recent_file().stat().st_mode) == 0o600
    written = recent_file().read_text()
    assert slash_server.password(old) not in written and "password" not in written


async def test_recent_pairs_come_first_and_enter_chooses_then_connects(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = two_accounts(slash_server)
    accounts = load_config().accounts
    remember_pair(accounts["dst1"], accounts["src1"])  # an older pair, the other way round
    url_target = imap_spec(slash_server, new)  # a typed-in account is kept as its URL
    remember_pair(accounts["src1"], url_target)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(old))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", slash_server.password(new))
    app = MailmigApp(accounts=accounts)
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        lines = screen_text(app).splitlines()
        recent = next(i for i, line in enumerate(lines) if "Recent pairs" in line)
        newest = f"src1  →  {new}@127.0.0.1"
        assert newest in lines[recent + 1] and "dst1  →  src1" in lines[recent + 2]
        assert "Accounts" in lines[recent + 3]
        assert highlighted(app) == "pair:0"
        await pilot.press("j", "k")
        assert highlighted(app) == "pair:0"
        await pilot.press("enter")  # chooses both roles as they were; connects nothing
        assert "Source src1  →  Target" in chosen_line(app)
        assert isinstance(app.screen, AccountsScreen)
        await pilot.press("enter")  # the same pair again: confirmed
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_connected(pilot, app)
        assert pane(app, "source").session.spec.name == "src1"
        assert pane(app, "target").session.spec.user == new


async def test_enter_that_connects_never_reaches_the_password_prompt(
    slash_server: DovecotServer,
) -> None:
    two_accounts(slash_server)  # no passwords anywhere: connecting asks
    app = MailmigApp(accounts=load_config().accounts)
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("t", "j", "s", "enter")
        await wait_screen(pilot, app, PasswordDialog, "the source's password prompt")
        assert app.screen.query_one("#password", Input).value == ""
