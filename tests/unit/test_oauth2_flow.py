"""The OAuth2 device-code flow, token renewal and settings, against the local fake server.

No real time passes: the provider gets a fake clock whose `sleep` only moves it forward, so
the polling intervals the flow honours are checked exactly.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from dataclasses import replace

import keyring
import keyring.backend
import keyring.errors
import pytest
import tomli_w

from mailmig_tui import oauth2, paths
from mailmig_tui.account_args import resolve_role
from mailmig_tui.cli import build_parser
from mailmig_tui.commands.copy import _accounts
from mailmig_tui.config import load_config, save_account
from mailmig_tui.errors import AuthError, ConfigError, UsageError
from mailmig_tui.model import AccountSpec, OAuth2Spec
from mailmig_tui.oauth2_flow import post_form
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer

USER, HOST = "alice@example.com", "imap.example.com"
KEY = f"oauth2:{USER}@{HOST}"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works, for the tests that need one (the suite's default has none)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeOAuthServer]:
    server = FakeOAuthServer(device_user=USER).start()
    yield server
    server.stop()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def fresh_providers() -> Iterator[None]:
    oauth2.forget_all()
    yield
    oauth2.forget_all()


def spec_for(**oauth2_fields: str) -> AccountSpec:
    fields = {"provider": "custom", "client_id": CLIENT_ID} | oauth2_fields
    return AccountSpec(kind="imap", user=USER, host=HOST, port=993, oauth2=OAuth2Spec(**fields))


def tables(fake: FakeOAuthServer) -> dict[str, dict[str, str]]:
    return {
        "custom": {
            "device_authorization_endpoint": fake.device_endpoint,
            "token_endpoint": fake.token_endpoint,
            "scope": "imap offline_access",
        }
    }


class Flow:
    """A device-code provider on the fake server, recording what it showed and said."""

    def __init__(self, fake: FakeOAuthServer) -> None:
        self.clock = Clock()
        self.codes: list[tuple[str, str, int]] = []
        self.notices: list[str] = []
        spec = oauth2.with_tables(spec_for(), tables(fake))
        self.provider = oauth2.DeviceTokens(
            spec,
            oauth2.endpoints(spec, tables(fake)),
            on_device_code=lambda *shown: self.codes.append(shown),
            on_notice=self.notices.append,
            clock=self.clock,
            sleep=self.clock.sleep,
        )


def test_the_code_is_shown_then_pending_polls_end_in_a_token(fake: FakeOAuthServer) -> None:
    fake.outcomes = ["pending", "pending"]
    flow = Flow(fake)
    token = flow.provider()
    assert fake.access_tokens[token] == USER
    assert flow.codes == [(fake.url + "/verify", "WXYZ-1234", 900)]
    assert flow.clock.sleeps == [5, 5, 5]  # the interval before every poll
    device = [form for path, form in fake.requests if path == "/device"]
    assert device == [{"client_id": CLIENT_ID, "scope": "imap offline_access"}]


def test_slow_down_adds_five_seconds_to_every_later_poll(fake: FakeOAuthServer) -> None:
    fake.outcomes = ["pending", "slow_down", "pending", "slow_down"]
    flow = Flow(fake)
    flow.provider()
    assert flow.clock.sleeps == [5, 5, 10, 10, 15]


@pytest.mark.parametrize(
    ("outcome", "words"),
    [("denied", "sign-in was declined at"), ("expired", "code expired before anyone used it")],
)
def test_denial_and_expiry_are_one_line_errors(
    fake: FakeOAuthServer, outcome: str, words: str
) -> None:
    fake.outcomes = ["pending", outcome]
    with pytest.raises(AuthError) as caught:
        Flow(fake).provider()
    line = caught.value.one_line()
    assert words in line and "\n" not in line
    assert "dc-" not in line  # the device code is a secret too


def test_polling_stops_when_the_code_runs_out_even_if_the_server_never_says(
    fake: FakeOAuthServer,
) -> None:
    fake.expires_in, fake.outcomes = 12, ["pending"] * 10
    flow = Flow(fake)
    with pytest.raises(AuthError, match="code expired"):
        flow.provider()
    assert flow.clock.sleeps == [5, 5, 5]
    assert len(fake.grants("urn:ietf:params:oauth:grant-type:device_code")) == 2


def test_the_refresh_token_goes_to_the_keyring_and_replaces_the_device_flow(
    fake: FakeOAuthServer, memory_keyring: MemoryKeyring
) -> None:
    Flow(fake).provider()
    stored = memory_keyring.entries[("mailmig", KEY)]
    assert fake.refresh_tokens[stored] == USER
    # A later run: the stored refresh token signs in without showing a code.
    later = Flow(fake)
    assert fake.access_tokens[later.provider()] == USER
    assert later.codes == []
    rotated = memory_keyring.entries[("mailmig", KEY)]
    assert rotated != stored and fake.refresh_tokens[rotated] == USER


def test_a_refused_refresh_token_is_dropped_and_the_operator_signs_in_again(
    fake: FakeOAuthServer, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.entries[("mailmig", KEY)] = "rt-revoked-long-ago"
    flow = Flow(fake)
    assert fake.access_tokens[flow.provider()] == USER
    assert len(flow.codes) == 1
    assert any("invalid_grant" in notice for notice in flow.notices)
    assert memory_keyring.entries[("mailmig", KEY)] != "rt-revoked-long-ago"


def test_the_token_is_renewed_within_a_minute_of_expiry_and_not_before(
    fake: FakeOAuthServer, memory_keyring: MemoryKeyring
) -> None:
    flow = Flow(fake)
    first = flow.provider()
    flow.clock.now += fake.access_lifetime - 61
    assert flow.provider() == first
    assert fake.grants("refresh_token") == []
    flow.clock.now += 2
    second = flow.provider()
    assert second != first and fake.access_tokens[second] == USER
    assert len(fake.grants("refresh_token")) == 1
    assert flow.codes and len(flow.codes) == 1


def test_without_a_keyring_the_sign_in_lasts_the_run_and_says_so_once(
    fake: FakeOAuthServer,
) -> None:
    # The suite's default keyring backend is keyring.backends.fail: a headless host.
    flow = Flow(fake)
    flow.provider()
    flow.clock.now += fake.access_lifetime
    flow.provider()  # renewed from the refresh token kept in memory
    assert len(fake.grants("refresh_token")) == 1 and len(flow.codes) == 1
    other = Flow(fake)
    other.notices = flow.notices
    other.provider.on_notice = flow.notices.append
    other.provider()
    assert len(flow.notices) == 1
    assert "kept for this run only" in flow.notices[0]
    assert "NoKeyringError" in flow.notices[0]


def test_parallel_connections_share_one_sign_in(fake: FakeOAuthServer) -> None:
    flow = Flow(fake)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(flow.provider())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 1 and len(flow.codes) == 1


def test_the_cli_shows_url_and_code_on_stderr(
    fake: FakeOAuthServer, capsys: pytest.CaptureFixture[str]
) -> None:
    oauth2.print_device_code("alice@example.com")("https://example.com/device", "AB-CD", 900)
    out, err = capsys.readouterr()
    assert out == ""
    assert "open https://example.com/device" in err and "the code AB-CD" in err
    assert "15 minutes" in err


def test_the_device_code_callback_can_be_set_by_the_caller(fake: FakeOAuthServer) -> None:
    # The [oauth2.custom] table of config.toml names the fake server's endpoints.
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(tomli_w.dumps({"oauth2": tables(fake)}))
    spec = oauth2.with_tables(spec_for(), tables(fake))
    shown: list[tuple[str, str, int]] = []
    provider = oauth2.token_provider(spec, on_device_code=lambda *args: shown.append(args))
    assert isinstance(provider, oauth2.DeviceTokens)
    provider.sleep = lambda seconds: None
    assert oauth2.token_provider(spec) is provider  # one per account: reconnects share it
    assert fake.access_tokens[provider()] == USER
    assert shown and shown[0][1] == "WXYZ-1234"


# -- settings: providers, options, the config file -------------------------------------------


def test_microsoft_endpoints_with_the_tenant_and_scope() -> None:
    spec = spec_for(provider="microsoft", tenant="contoso.onmicrosoft.com")
    ends = oauth2.endpoints(spec, {})
    base = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/"
    assert (ends.device_endpoint, ends.token_endpoint) == (base + "devicecode", base + "token")
    assert ends.scope == "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
    default = oauth2.endpoints(spec_for(provider="microsoft"), {})
    assert "/organizations/" in default.token_endpoint
    google = oauth2.endpoints(spec_for(provider="google"), {})
    assert google.flow == "authorization_code"  # Google's device flow refuses Gmail's scope
    assert google.authorization_endpoint == "https://accounts.google.com/o/oauth2/v2/auth"
    assert google.scope == "https://mail.google.com/"
    app = oauth2.endpoints(spec_for(provider="microsoft-app", tenant="contoso.com"), {})
    assert app.flow == "client_credentials"
    assert app.token_endpoint == "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
    assert app.scope == "https://outlook.office365.com/.default"


@pytest.mark.parametrize(
    "table",
    [
        {"device_authorization_endpoint": "https://oauth2.googleapis.com/device/code"},
        {
            "device_authorization_endpoint": "https://sso.example.com/device",
            "token_endpoint": "https://oauth2.googleapis.com/token",
        },
    ],
)
def test_a_device_flow_against_google_is_refused_up_front(table: dict[str, str]) -> None:
    for name in ("google", "gmail-device"):
        spec = spec_for(provider=name)
        with pytest.raises(UsageError) as caught:
            oauth2.check(
                spec, {name: table | {"client_id": "x", "scope": "https://mail.google.com/"}}
            )
        line = caught.value.one_line()
        assert "Google's device flow refuses the Gmail scope" in line
        assert "--source-oauth2 google" in line and "\n" not in line


def test_microsoft_app_needs_a_tenant() -> None:
    with pytest.raises(UsageError, match="microsoft-app needs your tenant"):
        oauth2.check(spec_for(provider="microsoft-app"), {})


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"provider": "microsoft", "client_id": ""}, "no OAuth2 client id for microsoft"),
        ({"provider": "yahoo"}, "unknown OAuth2 provider 'yahoo'"),
    ],
)
def test_settings_that_cannot_work_are_usage_errors(fields: dict[str, str], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        oauth2.check(spec_for(**fields), {})


def test_oauth2_is_for_imap_accounts_only() -> None:
    with pytest.raises(UsageError, match="works with IMAP accounts"):
        oauth2.with_options(
            AccountSpec(kind="maildir", path="/tmp/m"), provider="microsoft", tables={}
        )


def test_tokens_never_travel_over_plain_http_to_another_host() -> None:
    with pytest.raises(UsageError, match="only over https"):
        post_form("http://login.example.com/token", {}, timeout=1)


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_command_line_options_pick_the_side(fake: FakeOAuthServer) -> None:
    args = parse(
        "copy",
        f"imaps://bob@{HOST}",
        "imaps://alice%40contoso.com@outlook.office365.com",
        "--target-oauth2",
        "microsoft",
        "--oauth2-client-id",
        "app-123",
        "--oauth2-tenant",
        "contoso.com",
    )
    config = load_config()
    assert resolve_role(args, "source", config).oauth2 is None
    target = resolve_role(args, "target", config)
    assert target.oauth2 == OAuth2Spec("microsoft", "app-123", "contoso.com")
    assert target.user == "alice@contoso.com"


def test_the_shared_token_command_alone_turns_oauth2_on_for_one_account() -> None:
    args = parse("folders", f"imaps://{USER}@{HOST}", "--oauth2-token-command", "get-token  -u x")
    spec = resolve_role(args, "source", load_config())
    assert spec.oauth2 == OAuth2Spec(token_command="get-token -u x")


def test_shared_oauth2_options_without_an_oauth2_account_are_refused() -> None:
    args = parse("copy", f"imaps://a@{HOST}", "maildir:///tmp/x", "--oauth2-token-command", "t")
    with pytest.raises(UsageError, match="need an account signing in with OAuth2"):
        _accounts(args, target_readonly=True, copying=True)
    args = parse("folders", f"imaps://a@{HOST}", "--oauth2-client-id", "x")
    with pytest.raises(UsageError, match="--oauth2-client-id needs"):
        resolve_role(args, "source", load_config())


def test_saved_oauth2_accounts_round_trip_and_take_provider_defaults() -> None:
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(
        "[oauth2.microsoft]\nclient_id = 'org-app'\ntenant = 'contoso.com'\n"
        "[accounts.m365]\nhost = 'outlook.office365.com'\nuser = 'alice@contoso.com'\n"
        "oauth2 = 'microsoft'\n"
    )
    config = load_config()
    spec = config.accounts["m365"]
    assert spec.oauth2 == OAuth2Spec("microsoft")
    ends = oauth2.endpoints(spec, config.oauth2)
    assert ends.client_id == "org-app" and "/contoso.com/" in ends.token_endpoint
    save_account("copy", replace(spec, oauth2=OAuth2Spec("microsoft", "own-app", "t", "cmd")))
    saved = load_config().accounts["copy"]
    assert saved.oauth2 == OAuth2Spec("microsoft", "own-app", "t", "cmd")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[oauth2.microsoft]\nclient_secret = 'x'\n", "secrets never go in the config file"),
        ("[oauth2.microsoft]\ntenat = 'x'\n", 'unknown key "tenat"; did you mean "tenant"'),
        ("[accounts.a]\nhost = 'h'\nuser = 'u'\noauth2 = 'nope'\n", "unknown OAuth2 provider"),
        ("[accounts.a]\nhost = 'h'\nuser = 'u'\noauth2_tenant = 'x'\n", "no oauth2 provider"),
        ("[accounts.a]\nmaildir = '/m'\noauth2 = 'google'\n", "works with IMAP accounts"),
    ],
)
def test_bad_oauth2_config_is_one_clear_line(text: str, words: str) -> None:
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_config()
