"""The TUI's account form with an OAuth2 provider: Microsoft 365 app-only access is tested
with a real sign-in (Dovecot's oauth2 passdb and the fake token endpoint) and saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import tomli_w

from mailmig_tui import oauth2, paths
from mailmig_tui.config import load_config
from mailmig_tui.tui.accounts.account_form import AccountFormScreen
from mailmig_tui.tui.accounts.chooser import AccountsScreen
from mailmig_tui.tui.app import MailmigApp
from tests.support.dovecot import DovecotServer
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer
from tests.tui.tuikit import wait_for, wait_screen

SECRET = "tui-app-secret-never-saved"


@pytest.fixture(autouse=True)
def fresh(fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(fake, "client_secret", SECRET)
    oauth2.forget_all()
    yield
    oauth2.forget_all()


async def test_the_form_saves_a_microsoft_app_account_after_signing_in(
    dovecot: DovecotServer, fake: FakeOAuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = dovecot.new_user()
    monkeypatch.setattr(fake, "app_mailboxes", [mailbox])
    monkeypatch.setenv("MAILMIG_OAUTH2_CLIENT_SECRET", SECRET)
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    table = {"client_id": CLIENT_ID, "tenant": "contoso.example"}
    path.write_text(
        "# the admin's own comment\n"
        + tomli_w.dumps(
            {"oauth2": {"microsoft-app": table | {"token_endpoint": fake.token_endpoint}}}
        )
    )
    app = MailmigApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, app, AccountsScreen, "the account chooser")
        await pilot.press("a")
        await wait_screen(pilot, app, AccountFormScreen, "the form")
        form = app.screen
        assert isinstance(form, AccountFormScreen)
        values = {
            "#name": "m365-bob", "#host": "127.0.0.1", "#port": str(dovecot.imap_port),
            "#user": mailbox, "#security": "plain", "#sign-in": "microsoft-app",
        }  # fmt: skip
        for selector, value in values.items():
            form.query_one(selector).value = value  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: not isinstance(app.screen, AccountFormScreen), "form to close"
        )
    saved = load_config().accounts["m365-bob"]
    assert saved.oauth2 is not None and saved.oauth2.provider == "microsoft-app"
    assert len(fake.grants("client_credentials")) == 1  # the test login signed in
    assert f"user=<{mailbox}>, method=OAUTHBEARER" in dovecot.log_text()
    assert SECRET not in path.read_text()
