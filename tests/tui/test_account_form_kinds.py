"""The account form offers every kind of account (issue 13, item 10): a kind selector shows
only that kind's rows; each kind is tested where that makes sense (a login, opening the
files) and saved as its own table; a target the TUI cannot write into is refused in the
registry's one line, and a Maildir target that does not exist yet is created on connect."""

from __future__ import annotations

import mailbox
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from mailmig_tui import kinds, paths
from mailmig_tui.config import load_config
from mailmig_tui.kinds import TARGET_HINT
from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.accounts.form_fields import NEW_MAILDIR_NOTE, kind_choices
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer
from tests.tui.test_tui_accounts import fill_form
from tests.tui.tuikit import screen_text, wait_connected, wait_for, wait_screen

IMAP_BINARY = "/usr/lib/dovecot/imap"


@pytest.fixture(scope="module")
def pop3_server() -> Iterator[DovecotServer]:
    server = DovecotServer(pop3=True).start()
    try:
        yield server
    finally:
        server.cleanup()


async def open_form(app: MailmigApp, pilot: Pilot[Any], kind: str) -> AccountFormScreen:
    await wait_screen(pilot, app, AccountsScreen, "the account chooser")
    await pilot.press("a")
    await wait_screen(pilot, app, AccountFormScreen, "the form")
    form = app.screen
    assert isinstance(form, AccountFormScreen)
    form.query_one("#kind", Select).value = kind
    await pilot.pause()
    return form


async def save(app: MailmigApp, pilot: Pilot[Any], form: AccountFormScreen, **values: str) -> None:
    fill_form(form, **values)
    await pilot.press("ctrl+s")


async def closed(app: MailmigApp, pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: not isinstance(app.screen, AccountFormScreen), "form to close")


def error_of(form: AccountFormScreen) -> str:
    return str(form.query_one("#form-error").render())


def shown(form: AccountFormScreen, field: str) -> bool:
    return form.query_one(f"#{field}").display


def test_the_selector_offers_every_registered_kind() -> None:
    offered = dict((value, label) for label, value in kind_choices())
    assert list(offered) == list(kinds.KINDS)
    assert offered["pop3"].endswith("(source only)") and offered["mbox"].endswith("(source only)")
    assert "source only" not in offered["maildir"] + offered["imap"] + offered["command"]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_each_kind_shows_only_its_rows_and_the_buttons_stay_in_view(
    size: tuple[int, int],
) -> None:
    app = MailmigApp()
    async with app.run_test(size=size) as pilot:
        form = await open_form(app, pilot, "imap")
        assert all(shown(form, f) for f in ("host", "port", "user", "sign-in", "password", "ca"))
        assert not shown(form, "path") and not shown(form, "command")
        form.query_one("#sign-in", Select).value = "microsoft"
        await pilot.pause()
        assert shown(form, "oauth2-tenant")

        form.query_one("#kind", Select).value = "maildir"
        await pilot.pause()
        assert shown(form, "path")
        hidden = ("host", "user", "password", "sign-in", "oauth2-tenant", "command", "ca")
        assert not any(shown(form, f) for f in hidden)

        form.query_one("#kind", Select).value = "command"
        await pilot.pause()
        assert shown(form, "command") and shown(form, "user") and shown(form, "password")
        assert not any(shown(form, f) for f in ("host", "sign-in", "path", "ca"))

        form.query_one("#kind", Select).value = "pop3"
        await pilot.pause()
        assert not shown(form, "sign-in")  # POP3 has no OAuth2 sign-in
        assert form.query_one("#port").placeholder == "995"  # type: ignore[attr-defined]
        form.query_one("#security", Select).value = "starttls"
        await pilot.pause()
        assert form.query_one("#port").placeholder == "110"  # type: ignore[attr-defined]
        assert "STLS" in screen_text(app)

        form.query_one("#kind", Select).value = "imap"
        await pilot.pause()
        screen = app.screen.region
        for button in ("#save", "#cancel", "#kind"):
            assert screen.contains_region(form.query_one(button).region), (button, size)
        ca = form.query_one("#ca")
        ca.focus()  # the last row: scrolled into view when the screen is short
        await pilot.pause()
        assert screen.contains_region(ca.region), size
        assert screen.contains_region(form.query_one("#save").region), size


async def test_a_pop3_account_is_tested_by_a_login_and_saved_as_pop3(
    pop3_server: DovecotServer,
) -> None:
    user = pop3_server.new_user()
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, "pop3")
        await save(
            app, pilot, form, name="old-pop", host="127.0.0.1", security="plain",
            port=str(pop3_server.pop3_port), user=user, password="wrong",
        )  # fmt: skip
        await wait_for(pilot, lambda: "try again" in error_of(form).lower() or
                       "password" in error_of(form).lower(), "the login's error")  # fmt: skip
        assert "old-pop" not in load_config().accounts
        fill_form(form, password=pop3_server.password(user))
        await pilot.press("ctrl+s")
        await closed(app, pilot)
    saved = load_config().accounts["old-pop"]
    assert (saved.kind, saved.user, saved.port) == ("pop3", user, pop3_server.pop3_port)
    text = paths.config_file().read_text()
    assert 'protocol = "pop3"' in text and pop3_server.password(user) not in text


async def test_a_command_account_is_tested_and_saves_its_command(
    slash_server: DovecotServer,
) -> None:
    user = slash_server.new_user()
    command = shlex.join([IMAP_BINARY, "-c", str(slash_server.root / "dovecot.conf"), "-u", user])
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, "command")
        await save(app, pilot, form, name="over-ssh", command=command)
        await closed(app, pilot)
    saved = load_config().accounts["over-ssh"]
    assert (saved.kind, saved.command, saved.user) == ("command", command, "")
    assert f"command = {command!r}".replace("'", '"') in paths.config_file().read_text()


async def test_maildir_accounts_exist_or_are_noted_as_made_when_a_target(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (existing / sub).mkdir(parents=True)
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, "maildir")
        await save(app, pilot, form, name="nowhere", path=str(tmp_path / "no" / "such"))
        await wait_for(pilot, lambda: "does not exist" in error_of(form), "the parent's error")
        assert "\n" not in error_of(form).strip()

        fill_form(form, name="here", path=str(existing))
        await pilot.press("ctrl+s")
        await closed(app, pilot)

        form = await open_form(app, pilot, "maildir")
        await save(app, pilot, form, name="later", path=str(tmp_path / "new-maildir"))
        await closed(app, pilot)
        notices = [notice.message for notice in app._notifications]
        assert any(NEW_MAILDIR_NOTE in text for text in notices), notices
    accounts = load_config().accounts
    assert accounts["here"] == AccountSpec(kind="maildir", path=str(existing), name="here")
    assert accounts["later"].path == str(tmp_path / "new-maildir")
    assert "nowhere" not in accounts
    assert not (tmp_path / "new-maildir").exists()  # saving creates nothing


async def test_an_mbox_must_exist_and_is_saved_as_mbox(tmp_path: Path) -> None:
    box = tmp_path / "inbox.mbox"
    mailbox.mbox(str(box)).close()
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot, "mbox")
        await save(app, pilot, form, name="old-mbox", path=str(tmp_path / "missing.mbox"))
        await wait_for(pilot, lambda: "no such file" in error_of(form), "the missing mbox")
        assert "must exist" in error_of(form)
        assert isinstance(app.screen, AccountFormScreen)
        fill_form(form, path=str(box))
        await pilot.press("ctrl+s")
        await closed(app, pilot)
    assert load_config().accounts["old-mbox"].kind == "mbox"
    assert f'mbox = "{box}"' in paths.config_file().read_text()


def under_the_dialog(app: MailmigApp) -> MainScreen:
    return next(screen for screen in app.screen_stack if isinstance(screen, MainScreen))


async def test_a_source_only_kind_is_refused_as_the_target_in_one_line(
    demo_root: Path, tmp_path: Path
) -> None:
    box = tmp_path / "inbox.mbox"
    mailbox.mbox(str(box)).close()
    source = AccountSession(AccountSpec(kind="maildir", path=str(demo_root / "source")), "source")
    target = AccountSession(AccountSpec(kind="mbox", path=str(box)), "target")
    app = MailmigApp(source, target)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: "an mbox account can only be a source" in screen_text(app),
            "the target's refusal",
        )
        text = " ".join(screen_text(app).replace("│", " ").split())  # the dialog wraps it
        assert f"target: an mbox account can only be a source ({TARGET_HINT})" in text
        # The pane's own state line (under the dialog, so read from the pane itself).
        await wait_for(
            pilot,
            lambda: under_the_dialog(app).pane("target").state == "not connected: press r to retry",
            "the target pane saying it is not connected",
        )


async def test_a_maildir_target_that_does_not_exist_yet_is_created_on_connect(
    demo_root: Path, tmp_path: Path
) -> None:
    new = tmp_path / "fresh"
    source = AccountSession(AccountSpec(kind="maildir", path=str(demo_root / "source")), "source")
    target = AccountSession(AccountSpec(kind="maildir", path=str(new)), "target")
    app = MailmigApp(source, target)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot, app)
    assert all((new / sub).is_dir() for sub in ("cur", "new", "tmp"))


async def test_the_kind_is_picked_with_the_keyboard_alone() -> None:
    app = MailmigApp()
    async with app.run_test(size=(60, 20)) as pilot:
        form = await open_form(app, pilot, "imap")
        assert app.focused is form.query_one("#name")
        await pilot.press("shift+tab")  # the kind is the row above the name
        assert app.focused is form.query_one("#kind")
        maildir = [value for _label, value in kind_choices()].index("maildir")
        await pilot.press("enter", *["down"] * maildir, "enter")
        await wait_for(pilot, lambda: shown(form, "path"), "the Maildir rows")
        assert form.query_one("#kind", Select).value == "maildir"
        assert not shown(form, "host")
