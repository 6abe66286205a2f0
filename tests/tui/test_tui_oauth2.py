"""OAuth2 sign-in in the TUI: the device code in a dialog (never on stderr), Escape cancels,
a refused token is an error dialog and never a password prompt.

Against a real Dovecot that checks every token at the fake authorisation server's
introspection endpoint (tests/support/oauth_server.py), as in tests/engine/test_oauth2.py.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mailmig_tui.cli import build_parser
from mailmig_tui.model import AccountSpec, OAuth2Spec
from mailmig_tui.tui import launch
from mailmig_tui.tui.accounts.device_code import DeviceCodeDialog
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.common.error import ErrorDialog
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer
from tests.support.oauth_fixtures import device_table, seeded_user, write_config
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer
from tests.tui.tuikit import (
    demo_sessions,
    imap_spec,
    imap_url,
    pane,
    screen_text,
    wait_for,
    wait_screen,
)

USER_CODE = "WXYZ-1234"


pytestmark = pytest.mark.usefixtures("providers_forgotten")


@pytest.fixture(scope="module")
def seeded(dovecot: DovecotServer) -> str:
    return seeded_user(dovecot)


@pytest.fixture
def device_flow(fake: FakeOAuthServer, seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """[oauth2.custom] pointing at the fake; every poll pending until a test clears them."""
    write_config({"oauth2": {"custom": device_table(fake)}})
    monkeypatch.setattr(fake, "interval", 1)  # the shortest RFC 8628 allows: one second
    monkeypatch.setattr(fake, "device_user", seeded)
    monkeypatch.setattr(fake, "outcomes", ["pending"] * 600)


def oauth2_source(dovecot: DovecotServer, user: str, oauth: OAuth2Spec) -> AccountSession:
    return AccountSession(replace(imap_spec(dovecot, user), oauth2=oauth), "source")


def app_for(source: AccountSession, demo_root: Path) -> MailmigApp:
    return MailmigApp(source, demo_sessions(demo_root)[1])


def no_password_dialog(app: MailmigApp) -> bool:
    return not any(isinstance(screen, PasswordDialog) for screen in app.screen_stack)


async def test_the_device_code_is_shown_in_a_dialog_and_the_sign_in_lists_folders(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    seeded: str,
    device_flow: None,
    demo_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = oauth2_source(dovecot, seeded, OAuth2Spec("custom", CLIENT_ID))
    app = app_for(source, demo_root)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_screen(pilot, app, DeviceCodeDialog, "the device code dialog")
        shown = screen_text(app)
        assert USER_CODE in shown
        assert fake.url + "/verify" in shown
        assert "valid for 15 minutes" in shown
        fake.outcomes.clear()  # the operator signs in at the URL: the next poll gets tokens
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and pane(app, "source").connected,
            "the source pane to list its folders after the sign-in",
        )
        names = [folder.name for folder in pane(app, "source").folder_list.folders]
        assert {"INBOX", "Sent"} <= set(names)
        assert no_password_dialog(app)
        # The suite's keyring backend refuses: the app says so in a notification.
        await wait_for(pilot, lambda: app._notifications, "the keyring notice")
        notices = [notice.message for notice in app._notifications]
        assert any("kept for this run only" in text for text in notices), notices
    out, err = capsys.readouterr()
    assert USER_CODE not in err + out  # never on the terminal under the TUI
    assert f"user=<{seeded}>, method=OAUTHBEARER" in dovecot.log_text()


async def test_escape_on_the_device_code_dialog_cancels_with_an_error_not_a_traceback(
    dovecot: DovecotServer, seeded: str, device_flow: None, demo_root: Path
) -> None:
    source = oauth2_source(dovecot, seeded, OAuth2Spec("custom", CLIENT_ID))
    app = app_for(source, demo_root)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_screen(pilot, app, DeviceCodeDialog, "the device code dialog")
        await pilot.press("escape")
        await wait_screen(pilot, app, ErrorDialog, "the error dialog")
        shown = screen_text(app)
        assert "Login failed" in shown
        assert "sign-in was cancelled" in shown
        assert "Traceback" not in shown
        assert not any(isinstance(s, DeviceCodeDialog) for s in app.screen_stack)
        await pilot.press("enter")
        await wait_screen(pilot, app, MainScreen, "the main screen again")
        assert no_password_dialog(app)
        assert not pane(app, "source").connected
        assert "press r to retry" in str(pane(app, "source").query_one(".pane-info").render())


async def test_a_refused_token_is_an_error_dialog_never_a_password_prompt(
    dovecot: DovecotServer, seeded: str, demo_root: Path
) -> None:
    command = shlex.join([sys.executable, "-c", "print('at-not-a-live-token')"])
    source = oauth2_source(dovecot, seeded, OAuth2Spec(token_command=command))
    app = app_for(source, demo_root)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_screen(pilot, app, ErrorDialog, "the login error")
        shown = screen_text(app)
        assert "refused the OAuth2 sign-in" in shown
        assert "at-not-a-live-token" not in shown
        await pilot.press("enter")
        await wait_screen(pilot, app, MainScreen, "the main screen again")
        assert no_password_dialog(app)


def test_tui_passes_the_role_so_source_oauth2_applies(
    dovecot: DovecotServer, fake: FakeOAuthServer, seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[AccountSession | None] = []

    def run(source: AccountSession | None, target: AccountSession | None, *_args: object) -> int:
        opened.extend([source, target])
        return 0

    monkeypatch.setattr(launch, "_run", run)
    url = imap_url(dovecot, seeded)
    args: argparse.Namespace = build_parser().parse_args(
        ["tui", url, url, "--source-oauth2", "microsoft", "--oauth2-client-id", CLIENT_ID]
    )
    assert launch.main_tui(args) == 0
    source, target = opened
    assert source is not None and target is not None
    spec: AccountSpec = source.spec
    assert spec.oauth2 == OAuth2Spec("microsoft", CLIENT_ID, "", "")
    assert not source.needs_password
    assert target.spec.oauth2 is None and target.needs_password
