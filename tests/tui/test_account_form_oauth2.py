"""The account form takes the OAuth2 client id and tenant of the providers that need them,
so an account signs in without an [oauth2.PROVIDER] table in config.toml."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from mailmig_tui.config import load_config
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.app import MailmigApp
from tests.tui.tuikit import wait_for, wait_screen


async def open_form(app: MailmigApp, pilot: Pilot[Any]) -> AccountFormScreen:
    await wait_screen(pilot, app, AccountsScreen, "the account chooser")
    await pilot.press("a")
    await wait_screen(pilot, app, AccountFormScreen, "the form")
    form = app.screen
    assert isinstance(form, AccountFormScreen)
    return form


def shown(form: AccountFormScreen, field: str) -> bool:
    return form.query_one(f"#{field}", Input).display


async def choose(pilot: Pilot[Any], form: AccountFormScreen, provider: str) -> None:
    form.query_one("#sign-in").value = provider  # type: ignore[attr-defined]
    await pilot.pause()


async def test_client_id_and_tenant_show_only_for_the_providers_that_take_them() -> None:
    app = MailmigApp()
    async with app.run_test(size=(80, 30)) as pilot:
        form = await open_form(app, pilot)
        assert not shown(form, "oauth2-client-id") and not shown(form, "oauth2-tenant")
        await choose(pilot, form, "google")
        assert shown(form, "oauth2-client-id") and not shown(form, "oauth2-tenant")
        await choose(pilot, form, "microsoft-app")
        assert shown(form, "oauth2-client-id") and shown(form, "oauth2-tenant")
        await choose(pilot, form, "google-service-account")
        assert not shown(form, "oauth2-client-id") and not shown(form, "oauth2-tenant")


async def test_the_client_id_and_tenant_typed_are_saved_with_the_account() -> None:
    app = MailmigApp()
    async with app.run_test(size=(80, 30)) as pilot:
        form = await open_form(app, pilot)
        await choose(pilot, form, "microsoft")
        values = {
            "#name": "m365-carol", "#host": "outlook.office365.com",
            "#user": "carol@contoso.example", "#oauth2-client-id": "11111111-2222-client",
            "#oauth2-tenant": "contoso.example",
        }  # fmt: skip
        for selector, value in values.items():
            form.query_one(selector, Input).value = value
        await pilot.press("ctrl+s")  # a device code sign-in: saved, shown when it connects
        await wait_for(
            pilot, lambda: not isinstance(app.screen, AccountFormScreen), "the form to close"
        )
    saved = load_config().accounts["m365-carol"]
    assert saved.oauth2 is not None
    assert (saved.oauth2.provider, saved.oauth2.client_id, saved.oauth2.tenant) == (
        "microsoft",
        "11111111-2222-client",
        "contoso.example",
    )


async def test_a_tenant_left_in_the_form_is_not_saved_for_google() -> None:
    app = MailmigApp()
    async with app.run_test(size=(80, 30)) as pilot:
        form = await open_form(app, pilot)
        await choose(pilot, form, "microsoft")
        form.query_one("#oauth2-tenant", Input).value = "contoso.example"
        await choose(pilot, form, "google")  # changed their mind: the tenant row is hidden
        values = {
            "#name": "gmail-dave", "#host": "imap.gmail.com", "#user": "dave@example.com",
            "#oauth2-client-id": "123-desktop.apps.googleusercontent.com",
        }  # fmt: skip
        for selector, value in values.items():
            form.query_one(selector, Input).value = value
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: not isinstance(app.screen, AccountFormScreen), "the form to close"
        )
    saved = load_config().accounts["gmail-dave"]
    assert saved.oauth2 is not None
    assert saved.oauth2.client_id == "123-desktop.apps.googleusercontent.com"
    assert saved.oauth2.tenant == ""
