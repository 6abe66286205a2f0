"""The registry of account kinds: every kind's flags, URL and config round trips, and the
one-line refusal of a source-only kind as a copy's target. Pure: nothing connects."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mailmig_tui import oauth2
from mailmig_tui.accounts import apply_options, needs_password, parse_account_url, to_url
from mailmig_tui.config import account_table, load_config, save_account
from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.kinds import (
    KINDS,
    HostKind,
    PathKind,
    command_spec,
    kind_for_scheme,
    kind_for_table,
    kind_of,
    register,
    require_target,
    url_forms,
)
from mailmig_tui.model import AccountSpec, OAuth2Spec, Security, TlsOptions

# name: (local, can_be_target, needs_password, oauth2, login_as, role_label)
FLAGS = {
    "imap": (False, True, True, True, True, "an IMAP account"),
    "pop3": (False, False, True, False, False, "a POP3 account"),
    "command": (False, True, False, False, False, "a command account"),
    "maildir": (True, True, False, False, False, "a Maildir account"),
    "mbox": (True, False, False, False, False, "an mbox account"),
}

SPECS = {
    "imap": AccountSpec(kind="imap", user="alice@example.com", host="mail.example.com", port=993),
    "pop3": AccountSpec(
        kind="pop3", user="bob", host="pop.example.com", port=110, security=Security.STARTTLS
    ),
    "command": command_spec("ssh  oldhost '/opt/my imap'", user="alice"),
    "maildir": AccountSpec(kind="maildir", path="/home/alice/Maildir"),
    "mbox": AccountSpec(kind="mbox", path="/var/mail/alice"),
}


def test_the_registry_holds_every_kind_in_order() -> None:
    assert list(KINDS) == ["imap", "pop3", "command", "maildir", "mbox"]
    assert all(kind.name == name for name, kind in KINDS.items())


@pytest.mark.parametrize("name", list(FLAGS))
def test_every_kind_says_what_it_can_do(name: str) -> None:
    kind = KINDS[name]
    local, target, password, oauth, login_as, label = FLAGS[name]
    assert kind.local is local
    assert kind.can_be_target is target
    assert kind.needs_password is password
    assert kind.oauth2 is oauth
    assert kind.login_as is login_as
    assert kind.role_label == label
    assert kind_of(SPECS[name]) is kind
    assert SPECS[name].is_local is local
    assert kind.uses_tls is (name in ("imap", "pop3"))


def test_url_schemes_with_their_security_and_default_port() -> None:
    assert dict(KINDS["imap"].url_schemes) == {
        "imaps": (Security.TLS, 993),
        "imap": (Security.STARTTLS, 143),
        "imap+plain": (Security.PLAIN, 143),
    }
    assert dict(KINDS["pop3"].url_schemes) == {
        "pop3s": (Security.TLS, 995),
        "pop3": (Security.STARTTLS, 110),
        "pop3+plain": (Security.PLAIN, 110),
    }
    assert list(KINDS["maildir"].url_schemes) == ["maildir"]
    assert list(KINDS["mbox"].url_schemes) == ["mbox"]
    assert not KINDS["command"].url_schemes  # no URL form: --source-command or config only
    assert kind_for_scheme("pop3+plain") is KINDS["pop3"]
    assert kind_for_scheme("smtp") is None


@pytest.mark.parametrize(
    "url",
    [
        "imaps://alice@mail.example.com",
        "imap://alice@mail.example.com",
        "imap+plain://alice@127.0.0.1:1143",
        "imaps://alice%40example.com@mail.example.com:10993",
        "pop3s://bob@pop.example.com",
        "pop3://bob@pop.example.com:1110",
        "pop3+plain://bob@127.0.0.1",
        "maildir:///home/alice/Maildir",
        "mbox:///var/mail/alice",
    ],
)
def test_every_url_scheme_round_trips(url: str) -> None:
    spec = parse_account_url(url)
    scheme = url.partition("://")[0]
    assert spec.kind == kind_for_scheme(scheme).name  # type: ignore[union-attr]
    assert to_url(spec) == url
    assert parse_account_url(to_url(spec)) == spec


@pytest.mark.parametrize("security", list(Security))
def test_a_host_account_url_carries_the_security_and_its_default_port(
    security: Security,
) -> None:
    for name in ("imap", "pop3"):
        kind = KINDS[name]
        assert isinstance(kind, HostKind)
        scheme = kind.scheme_for(security)
        spec = parse_account_url(f"{scheme}://u@h")
        assert (spec.security, spec.port) == kind.url_schemes[scheme]
        assert spec.port == kind.default_port(security)


def test_url_forms_name_every_scheme_for_hints() -> None:
    assert url_forms() == (
        "imaps://USER@HOST[:PORT], imap://…, imap+plain://…, pop3s://…, pop3://…, "
        "pop3+plain://…, maildir:///PATH or mbox:///PATH"
    )


@pytest.mark.parametrize("name", list(SPECS))
def test_every_kind_round_trips_through_its_config_table(name: str) -> None:
    kind = KINDS[name]
    spec = SPECS[name]
    table = kind.to_config(spec)
    assert kind_for_table(table) is kind
    assert kind.from_config(table, name="saved") == replace(spec, name="saved")


def test_config_tables_have_each_kinds_fields() -> None:
    assert KINDS["imap"].to_config(SPECS["imap"]) == {
        "host": "mail.example.com",
        "port": 993,
        "security": "tls",
        "user": "alice@example.com",
    }
    assert KINDS["pop3"].to_config(SPECS["pop3"])["protocol"] == "pop3"
    assert KINDS["command"].to_config(SPECS["command"]) == {
        "command": "ssh oldhost '/opt/my imap'",
        "user": "alice",
    }
    assert KINDS["maildir"].to_config(SPECS["maildir"]) == {"maildir": "/home/alice/Maildir"}
    assert KINDS["mbox"].to_config(SPECS["mbox"]) == {"mbox": "/var/mail/alice"}


def test_a_saved_imap_account_keeps_its_tls_file_login_as_and_oauth2(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    spec = AccountSpec(
        kind="imap",
        user="admin",
        host="mail.example.com",
        port=10993,
        tls=TlsOptions(ca_file="/etc/ca.pem"),
        login_as="alice",
        oauth2=OAuth2Spec("google", "app-1"),
    )
    save_account("a", spec, path)
    saved = load_config(path).accounts["a"]
    assert saved == replace(spec, name="a")
    assert account_table(saved)["login_as"] == "alice"


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"protocol": "smtp", "host": "h", "user": "u"}, "unknown protocol 'smtp'"),
        ({"protocol": "maildir", "host": "h", "user": "u"}, "unknown protocol 'maildir'"),
        ({"maildir": "/m", "command": "ssh x"}, "has both 'command' and 'maildir'"),
        ({"host": "h"}, "lacks 'user'"),
        ({"host": "h", "user": "u", "port": 0}, "port must be a number"),
        ({"protocol": "pop3", "host": "h", "user": "u", "login_as": "x"}, "login_as does not"),
        ({"command": "ssh 'oops"}, "cannot split the command"),
    ],
)
def test_bad_config_tables_are_one_line(table: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        kind_for_table(table, "[accounts.x]").from_config(table, where="[accounts.x]")
    line = caught.value.one_line()
    assert words in line and "\n" not in line and "[accounts.x]" in line


def test_display_and_identity_come_from_the_kind() -> None:
    shown = {name: (spec.display, spec.identity) for name, spec in SPECS.items()}
    assert shown == {
        "imap": (
            "alice@example.com@mail.example.com",
            "imap://alice@example.com@mail.example.com:993",
        ),
        "pop3": ("bob@pop.example.com", "pop3://bob@pop.example.com:110"),
        "command": ("command:ssh oldhost '/opt/my imap'",) * 2,
        "maildir": ("maildir:/home/alice/Maildir", "maildir:///home/alice/Maildir"),
        "mbox": ("mbox:/var/mail/alice", "mbox:///var/mail/alice"),
    }
    admin = AccountSpec(kind="imap", user="admin", host="h", port=993, login_as="alice")
    assert admin.display == "alice@h (as admin)"
    assert admin.identity == "imap://alice@h:993"  # the mailbox's owner, whoever logs in


@pytest.mark.parametrize(
    ("name", "words"),
    [("pop3", "a POP3 account can only be a source"), ("mbox", "an mbox account can only be")],
)
def test_require_target_refuses_source_only_kinds_in_one_line(name: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        require_target(SPECS[name])
    line = caught.value.one_line()
    assert words in line and "\n" not in line
    assert caught.value.hint == "copy into maildir:// or IMAP"


@pytest.mark.parametrize("name", ["imap", "command", "maildir"])
def test_require_target_accepts_writable_kinds(name: str) -> None:
    require_target(SPECS[name])


def test_needs_password_before_connecting() -> None:
    assert [name for name, spec in SPECS.items() if needs_password(spec)] == ["imap", "pop3"]
    signed_in = AccountSpec(kind="imap", user="u", host="h", oauth2=OAuth2Spec("google"))
    assert not needs_password(signed_in)


def test_plaintext_hints_name_the_kinds_secure_schemes() -> None:
    for url, words in [
        ("imap+plain://u@mail.example.com", "imaps:// or imap:// (STARTTLS)"),
        ("pop3+plain://u@mail.example.com", "pop3s:// or pop3:// (STLS)"),
    ]:
        with pytest.raises(UsageError) as caught:
            apply_options(parse_account_url(url))
        assert words in caught.value.one_line()
    pop3 = KINDS["pop3"]
    assert isinstance(pop3, HostKind)
    assert pop3.ports_text() == "pop3s:// is 995, pop3:// with STLS is 110"


def test_an_unknown_kind_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown account kind 'jmap'"):
        kind_of(AccountSpec(kind="jmap"))


def test_names_and_schemes_cannot_be_registered_twice() -> None:
    opener = KINDS["maildir"].opener
    with pytest.raises(ValueError, match="registered already"):
        register(PathKind(name="maildir", role_label="x", opener=opener))
    clash = {"mbox": (Security.TLS, 0)}
    with pytest.raises(ValueError, match="belongs to another kind"):
        register(PathKind(name="mh", role_label="x", opener=opener, url_schemes=clash))
    assert "mh" not in KINDS


def test_oauth2_is_refused_for_kinds_without_it() -> None:
    for name in ("pop3", "command", "maildir", "mbox"):
        spec = replace(SPECS[name], oauth2=OAuth2Spec(token_command="t"))
        with pytest.raises(UsageError, match="works with IMAP accounts"):
            oauth2.check(spec, {})


def test_the_provider_table_travels_in_the_spec_and_is_not_compared() -> None:
    tables = {
        "custom": {
            "client_id": "c",
            "token_endpoint": "https://t",
            "scope": "s",
            "device_authorization_endpoint": "https://d",
        }
    }
    spec = oauth2.with_options(SPECS["imap"], provider="custom", tables=tables)
    assert spec.oauth2 is not None and spec.oauth2.provider_table is not None
    assert spec.oauth2 == OAuth2Spec("custom")
    ends = oauth2.endpoints(spec)  # no tables given: the carried one
    assert (ends.client_id, ends.token_endpoint) == ("c", "https://t")
    other = oauth2.with_options(spec, provider="google", complete=False)
    assert other.oauth2 is not None and other.oauth2.provider_table is None  # not custom's
    bare = replace(SPECS["imap"], oauth2=OAuth2Spec("custom"))  # made without the config
    with pytest.raises(UsageError, match="unknown OAuth2 provider 'custom'"):
        oauth2.endpoints(bare)


def test_the_registry_imports_no_store_textual_or_rich() -> None:
    code = (
        "import sys, mailmig_tui.kinds, mailmig_tui.accounts, mailmig_tui.config\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
        " or m.startswith('mailmig_tui.stores'))\n"
        "print(bad)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
