"""Keys that arrive in one read (a paste, a laggy SSH link) reach the fields they were typed for.

The burst goes through Textual's own terminal parser, as the Linux driver feeds it one read()
of bytes, and every key is handed to the app before any of them is handled.
"""

from __future__ import annotations

from typing import Any

from textual._xterm_parser import XTermParser
from textual.pilot import Pilot
from textual.widgets import Input, Select

from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from tests.tui.tuikit import wait_for, wait_screen


def one_read(app: MailmigApp, data: str) -> int:
    """Hand `data` to the app as the terminal driver does with one read(): parsed, then every
    event sent at once, nothing handled in between. Returns the number of keys sent."""
    driver = app._driver
    assert driver is not None
    events = list(XTermParser().feed(data))
    for event in events:
        driver.process_message(event)
    return len(events)


def values(screen: Any) -> dict[str, str]:
    return {box.id or "": box.value for box in screen.query(Input)}


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def test_a_burst_with_tabs_fills_the_form_field_by_field() -> None:
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        form = app.screen
        security = form.query_one("#security", Select).value
        # name, host, (the security choice: left alone), port, user
        sent = one_read(app, "lab\t127.0.0.1\t\t1143\tbob")
        assert sent == 3 + 1 + 9 + 2 + 4 + 1 + 3
        await wait_for(pilot, lambda: values(form)["user"] == "bob", "the last field's keys")
        await settle(pilot)
        typed = values(form)
        assert (typed["name"], typed["host"], typed["port"], typed["user"]) == (
            "lab",
            "127.0.0.1",
            "1143",
            "bob",
        )
        assert form.query_one("#security", Select).value == security
        assert form.focused is form.query_one("#user", Input)


async def test_a_burst_with_shift_tab_goes_back_a_field() -> None:
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        form = app.screen
        # ESC [ Z is shift+tab as terminals send it, ESC [ F is End (a field entered with
        # shift+tab has its text selected: End keeps it).
        one_read(app, "ab\tmail\x1b[Z\x1b[Fc")
        await wait_for(pilot, lambda: values(form)["name"] == "abc", "the key after shift+tab")
        await settle(pilot)
        assert values(form)["host"] == "mail"
        assert form.focused is form.query_one("#name", Input)


async def prompt_answers(burst: str) -> list[tuple[str, bool] | None]:
    """What the password prompt answers when `burst` arrives in one read."""
    app = MailmigApp()
    async with app.run_test() as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        spec = AccountSpec(kind="imap", user="u", host="127.0.0.1", port=9)
        answers: list[tuple[str, bool] | None] = []
        app.push_screen(PasswordDialog(AccountSession(spec, "source")), answers.append)
        await wait_screen(pilot, app, PasswordDialog, "the password prompt")
        one_read(app, burst)
        await wait_for(pilot, lambda: answers, "the prompt's answer")
    return answers


async def test_a_pasted_password_and_enter_in_one_read_answer_the_prompt() -> None:
    # "s3cr" in the field; Tab goes to the Log in button (the keyring box is disabled on
    # this headless host), where "et" means nothing and Enter presses it. Before the fix
    # all of it went to the field: ("s3cret", False).
    assert await prompt_answers("s3cr\tet\r") == [("s3cr", False)]


async def test_a_backspace_in_a_burst_deletes_what_was_typed_before_it() -> None:
    # A typo corrected over a laggy link: DEL (what Backspace sends) among the letters.
    assert await prompt_answers("passx\x7fword\r") == [("password", False)]
