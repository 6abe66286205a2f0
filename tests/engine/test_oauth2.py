"""OAuth2 sign-in (SASL OAUTHBEARER and XOAUTH2) against a real Dovecot.

Dovecot's oauth2 passdb checks every token at the fake authorisation server's introspection
endpoint (tests/support/oauth_server.py), so a token the fake issued for a user signs in as
that user and anything else is refused, as Microsoft 365 or Gmail would.
"""

from __future__ import annotations

import json
import shlex
import ssl
import sys
from dataclasses import replace
from pathlib import Path

import imapclient
import pytest

from mailmig_tui import oauth2
from mailmig_tui.accounts import parse_account_url
from mailmig_tui.engine.session import Accounts
from mailmig_tui.errors import AuthError, TimeoutError_
from mailmig_tui.model import AccountSpec, OAuth2Spec
from mailmig_tui.stores.imap_connect import authenticate_oauth2
from tests.support.corpus import standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.oauth_fixtures import (
    device_table,
    plain_url,
    run_mailmig,
    seeded_user,
    write_config,
)
from tests.support.oauth_server import CLIENT_ID, FakeOAuthServer
from tests.support.seeding import folder_contents

USER = "alice@example.com"
# Prints the token stored for the account mailmig names in the environment, and counts runs.
TOKEN_SCRIPT = """
import json, os, sys
with open(sys.argv[2], "a") as runs:
    runs.write(os.environ["MAILMIG_OAUTH2_USER"] + "\\n")
print(json.load(open(sys.argv[1]))[os.environ["MAILMIG_OAUTH2_USER"]])
"""


pytestmark = pytest.mark.usefixtures("providers_forgotten")


@pytest.fixture(scope="module")
def seeded(dovecot: DovecotServer) -> str:
    return seeded_user(dovecot)


def token_command(tmp_path: Path, tokens: dict[str, str]) -> tuple[str, Path]:
    (tmp_path / "tokens.json").write_text(json.dumps(tokens))
    script = tmp_path / "token.py"
    script.write_text(TOKEN_SCRIPT)
    runs = tmp_path / "runs.txt"
    argv = [sys.executable, str(script), str(tmp_path / "tokens.json"), str(runs)]
    return shlex.join(argv), runs


def test_folders_with_a_token_command_signs_in_by_oauthbearer(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    seeded: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = fake.issue(seeded)
    command, _runs = token_command(tmp_path, {seeded: token})
    code, out, err = run_mailmig(
        capsys, "folders", plain_url(dovecot, seeded), "--oauth2-token-command", command, "--json"
    )
    assert code == 0, err
    names = {folder["name"] for folder in json.loads(out)}
    assert {"INBOX", "Sent", "Archive/2023"} <= names
    assert f"user=<{seeded}>, method=OAUTHBEARER" in dovecot.log_text()


def test_imaps_with_xoauth2_where_oauthbearer_is_not_offered(
    dovecot: DovecotServer, fake: FakeOAuthServer, seeded: str
) -> None:
    client = imapclient.IMAPClient(
        "localhost", port=dovecot.imaps_port, ssl_context=_trusting(dovecot), timeout=10
    )
    offered = client.capabilities()
    assert b"AUTH=OAUTHBEARER" in offered
    # Microsoft 365 offers XOAUTH2 only: hide OAUTHBEARER and XOAUTH2 must be chosen.
    client.capabilities = lambda: tuple(c for c in offered if c != b"AUTH=OAUTHBEARER")
    spec = parse_account_url(f"imaps://{seeded}@localhost:{dovecot.imaps_port}")
    authenticate_oauth2(client, spec, fake.issue(seeded))
    assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] > 0
    client.logout()
    assert f"user=<{seeded}>, method=XOAUTH2" in dovecot.log_text()


def _trusting(server: DovecotServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def test_a_server_without_oauth2_mechanisms_is_refused_before_any_token_is_sent(
    dovecot: DovecotServer, seeded: str
) -> None:
    client = imapclient.IMAPClient("127.0.0.1", port=dovecot.imap_port, ssl=False, timeout=10)
    client.capabilities = lambda: (b"IMAP4REV1", b"AUTH=PLAIN")
    with pytest.raises(AuthError, match="does not offer OAuth2 sign-in"):
        authenticate_oauth2(client, parse_account_url(plain_url(dovecot, seeded)), "unused-token")
    client.logout()


def test_copy_signs_in_both_sides_with_one_token_command_run_on_every_connect(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    seeded: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = dovecot.new_user()
    command, runs = token_command(
        tmp_path, {seeded: fake.issue(seeded), target: fake.issue(target)}
    )
    code, _out, err = run_mailmig(
        capsys,
        "copy",
        plain_url(dovecot, seeded),
        plain_url(dovecot, target),
        "--source-oauth2",
        "microsoft",  # no client id needed: the token command supplies the tokens
        "--target-oauth2",
        "microsoft",
        "--oauth2-token-command",
        command,
        "--connections",
        "2",
    )
    assert code == 0, err
    for folder in standard_folders():
        name = dovecot.folder_name(folder.parts)
        want = folder_contents(dovecot, seeded, name)
        got = folder_contents(dovecot, target, name)
        assert [e[b"BODY[]"] for e in got] == [e[b"BODY[]"] for e in want], name
    ran = runs.read_text().split()
    # Up front, then again for each connection the engine opens: never a cached token.
    # (The target has one connection: the copy's pair also checks what it copied.)
    assert ran.count(seeded) >= 3 and ran.count(target) >= 2


def test_a_bad_token_is_exit_2_with_one_line_that_never_shows_it(
    dovecot: DovecotServer, seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = "at-not-a-live-token-4711"
    command, _runs = token_command(tmp_path, {seeded: bad})
    code, out, err = run_mailmig(
        capsys, "folders", plain_url(dovecot, seeded), "--oauth2-token-command", command, "--debug"
    )
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("mailmig: 127.0.0.1 refused the OAuth2 sign-in (OAUTHBEARER)"), err
    assert "AUTHENTICATE **REDACTED**" in err  # imapclient's debug log masks the command
    assert bad not in err and bad not in out


def test_copy_with_a_bad_target_token_is_exit_2(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    seeded: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = dovecot.new_user()
    command, _runs = token_command(tmp_path, {seeded: fake.issue(seeded), target: "at-wrong"})
    code, _out, err = run_mailmig(
        capsys,
        "copy",
        plain_url(dovecot, seeded),
        plain_url(dovecot, target),
        "--source-oauth2-token-command",
        command,
        "--target-oauth2-token-command",
        command,
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert f"refused the OAuth2 sign-in (OAUTHBEARER) for {target}" in err


def test_a_failing_token_command_shows_its_stderr(
    dovecot: DovecotServer, seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    script = "import sys; sys.exit('no cached token for this account')"
    command = shlex.join([sys.executable, "-c", script])
    code, _out, err = run_mailmig(
        capsys, "folders", plain_url(dovecot, seeded), "--source-oauth2-token-command", command
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "failed (exit status 1): no cached token for this account" in err


def test_folders_with_a_device_sign_in_shows_the_code_and_signs_in(
    dovecot: DovecotServer,
    fake: FakeOAuthServer,
    seeded: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config({"oauth2": {"custom": device_table(fake)}})
    monkeypatch.setattr(fake, "interval", 1)  # one real second per poll
    monkeypatch.setattr(fake, "device_user", seeded)
    monkeypatch.setattr(fake, "outcomes", ["pending"])
    code, out, err = run_mailmig(
        capsys, "folders", plain_url(dovecot, seeded), "--source-oauth2", "custom"
    )
    assert code == 0, err
    assert "INBOX" in out
    shown, note = err.strip().splitlines()
    assert shown.startswith(f"mailmig: OAuth2 sign-in for {seeded}@127.0.0.1: open ")
    assert "enter the code WXYZ-1234" in shown
    assert "kept for this run only" in note  # the suite's keyring backend is "fail"
    for token in [*fake.access_tokens, *fake.refresh_tokens]:
        assert token not in err


def test_device_sign_in_then_a_reconnect_near_expiry_uses_a_refreshed_token(
    dovecot: DovecotServer, fake: FakeOAuthServer, seeded: str
) -> None:
    """The engine reconnects through Accounts.open_source: the token is renewed there."""
    now = [1000.0]
    fake.device_user = seeded
    spec = replace(
        parse_account_url(plain_url(dovecot, seeded)), oauth2=OAuth2Spec("custom", CLIENT_ID)
    )
    tables = {
        "custom": {
            "device_authorization_endpoint": fake.device_endpoint,
            "token_endpoint": fake.token_endpoint,
            "scope": "imap offline_access",
        }
    }
    shown: list[str] = []
    provider = oauth2.DeviceTokens(
        spec,
        oauth2.endpoints(spec, tables),
        on_device_code=lambda uri, code, expires: shown.append(code),
        on_notice=lambda text: None,
        clock=lambda: now[0],
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
    )
    oauth2.register(spec, provider)
    accounts = Accounts(spec, spec)
    with accounts.open_source() as store:
        assert store.list_folders(with_status=False)
    assert shown == ["WXYZ-1234"]
    first = provider()
    fake.revoke(first)  # the server forgets it at its expiry; we must not send it again
    now[0] += fake.access_lifetime - 30
    with accounts.open_source() as store:
        assert store.list_folders(with_status=False)
    assert len(fake.grants("refresh_token")) == 1
    assert provider() != first


# -- the token command on its own ---------------------------------------------------------------


def command_spec(script: str, timeout: float = 10.0) -> AccountSpec:
    command = OAuth2Spec(token_command=shlex.join([sys.executable, "-c", script]))
    return AccountSpec(kind="imap", user=USER, host="h", timeout=timeout, oauth2=command)


def test_the_token_command_knows_the_account_and_runs_every_time(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    script = (
        f"import os; open({str(counter)!r}, 'a').write('x'); "
        "print(' tok-' + os.environ['MAILMIG_OAUTH2_USER'] + '  ')"
    )
    provider = oauth2.token_provider(command_spec(script))
    assert provider() == f"tok-{USER}"
    assert provider() == f"tok-{USER}"
    assert counter.read_text() == "xx"


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("import sys; sys.exit('token expired, run az login')", "exit status 1): token expired"),
        ("print()", "printed nothing"),
        ("print('two words')", "printed more than a token"),
    ],
)
def test_token_command_failures_are_one_line(script: str, words: str) -> None:
    with pytest.raises(AuthError) as caught:
        oauth2.token_provider(command_spec(script))()
    assert words in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


def test_a_hanging_token_command_times_out() -> None:
    with pytest.raises(TimeoutError_, match=r"did not finish within 0\.5 s"):
        oauth2.token_provider(command_spec("import time; time.sleep(5)", timeout=0.5))()
