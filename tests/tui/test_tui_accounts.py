"""`mailmig` without arguments: choosing saved accounts, typing URLs, adding an account."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pytest

from mailmig_tui import paths
from mailmig_tui.config import load_config, save_account
from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.launch import run_demo, run_tui
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import (
    imap_spec,
    pane,
    screen_text,
    wait_connected,
    wait_for,
    wait_screen,
)


def chooser(app: MailmigApp) -> AccountsScreen:
    assert isinstance(app.screen, AccountsScreen)
    return app.screen


def fill_form(form: AccountFormScreen, **values: str) -> None:
    for field, value in values.items():
        if field == "security":
            form.query_one("#security").value = value  # type: ignore[attr-defined]
        else:
            form.query_one(f"#{field}").value = value  # type: ignore[attr-defined]


async def test_saved_accounts_are_listed_and_picked_in_order(
    slash_server: DovecotServer, demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = slash_server.new_user()
    save_account("old-server", imap_spec(slash_server, user))
    save_account("new-maildir", AccountSpec(kind="maildir", path=str(demo_root / "target")))
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(user))
    config = load_config()
    app = MailmigApp(accounts=config.accounts, timeout=config.timeout)
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        text = screen_text(app)
        assert "old-server" in text and "new-maildir" in text
        assert "Source (press s)  →  Target (press t)" in text
        # Sorted by name: new-maildir, old-server. Pick old-server as source with s.
        await pilot.press("down", "s")
        assert chooser(app).chosen["source"] is not None
        await pilot.press("up", "t")
        assert not isinstance(app.screen, MainScreen)  # Enter or c connects, nothing else
        assert "Source old-server  →  Target new-maildir" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_connected(pilot, app)
        assert pane(app, "source").session.spec.name == "old-server"
        assert pane(app, "target").session.spec.kind == "maildir"


async def test_typed_urls_and_their_errors(demo_root: Path) -> None:
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        assert "no saved accounts yet" in screen_text(app)
        await pilot.press("slash")
        box = app.screen.query_one("#url")
        box.value = "no-such-account"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: app._notifications, "an error notice")
        notices = list(app._notifications)
        assert "no saved account 'no-such-account'" in notices[0].message
        box.value = "imap+plain://alice@mail.example.com"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app._notifications) == 2, "the plaintext refusal")
        assert "unencrypted" in list(app._notifications)[1].message
        for name in ("source", "target"):
            box.value = f"maildir://{demo_root / name}"  # type: ignore[attr-defined]
            await pilot.press("enter")
        await pilot.press("c")  # the list has the focus back, so c connects
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_connected(pilot, app)


async def test_add_account_tests_the_login_and_saves_it(slash_server: DovecotServer) -> None:
    user = slash_server.new_user()
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        form = app.screen
        assert isinstance(form, AccountFormScreen)
        await pilot.press("enter")  # empty form: says what is missing, stays open
        assert "give the account a short name" in str(form.query_one("#form-error").render())
        fill_form(
            form, name="lab", host="127.0.0.1", security="plain", port=str(slash_server.imap_port),
            user=user, password=slash_server.password(user),
        )  # fmt: skip
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: not isinstance(app.screen, AccountFormScreen), "form to close"
        )
        saved = load_config().accounts["lab"]
        assert (saved.host, saved.port, saved.user) == ("127.0.0.1", slash_server.imap_port, user)
        text = paths.config_file().read_text()
        assert slash_server.password(user) not in text and "password" not in text
        session = chooser(app).chosen["source"]
        assert session is not None and session.password == slash_server.password(user)


async def test_add_account_shows_the_real_login_error(private_server: DovecotServer) -> None:
    user = private_server.new_user()
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        form = app.screen
        assert isinstance(form, AccountFormScreen)
        fill_form(
            form, name="lab", host="127.0.0.1", security="plain",
            port=str(private_server.imap_port), user=user, password="wrong",
        )  # fmt: skip
        await pilot.press("ctrl+s")
        error = form.query_one("#form-error")
        await wait_for(pilot, lambda: "refused" in str(error.render()), "the login error")
        text = str(error.render())
        assert f"127.0.0.1 refused the login for {user}" in text
        assert "(check the user name and password)" in text
        assert isinstance(app.screen, AccountFormScreen)
        assert "lab" not in load_config().accounts


def test_run_tui_checks_accounts_before_drawing() -> None:
    with pytest.raises(UsageError, match="unknown saved account"):
        run_tui("nowhere", "maildir:///tmp", argparse.Namespace())
    with pytest.raises(UsageError, match="unencrypted"):
        run_tui("imap+plain://bob@mail.example.com", None, None)


def test_demo_starts_on_generated_maildirs_and_cleans_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def fake_run(app: MailmigApp) -> int:
        assert app.source is not None and app.target is not None
        assert app.source.prepare is not None  # the panes' workers write the mailbox
        progress: list[str] = []
        app.source.prepare(progress.append)
        seen["progress"] = progress
        seen["labels"] = (app.source.label, app.target.label)
        seen["root"] = Path(app.source.spec.path).parent
        folders = {p.name for p in Path(app.source.spec.path).iterdir() if p.name.startswith(".")}
        seen["folders"] = folders
        return 0

    shm = Path("/dev/shm")
    if shm.is_dir():  # the demo's Maildirs are fsynced message by message: tmpfs is quicker
        monkeypatch.setattr(tempfile, "tempdir", str(shm))
    monkeypatch.setattr(MailmigApp, "run", fake_run)
    assert run_demo(argparse.Namespace(keep=False)) == 0
    assert seen["labels"] == ("Demo mailbox (Maildir)", "Empty target (Maildir)")
    assert {".Archive.2023", ".Projekte.Kunden", ".Sent", ".Drafts"} <= seen["folders"]  # type: ignore[operator]
    assert not Path(str(seen["root"])).exists()
    assert "writing the demo mailbox: 3,251 of 3,251 messages" in seen["progress"]  # type: ignore[operator]
