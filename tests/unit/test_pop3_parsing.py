"""POP3 pieces that need no server: login choice, line reading, dates, the UID map, URLs."""

from __future__ import annotations

import io
import os
import poplib
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailmig_tui.accounts import apply_options, parse_account_url, to_url
from mailmig_tui.config import account_table, load_config
from mailmig_tui.errors import UsageError
from mailmig_tui.model import Security
from mailmig_tui.stores import pop3, pop3_uids

DOVECOT_GREETING = b"+OK Dovecot ready. <10ad.6.6b0a424a.mpKyNHGTM1m/wfkh2YZqiQ==@vm>"


@pytest.mark.parametrize(
    ("caps", "greeting", "method"),
    [
        ({"SASL": ["PLAIN", "LOGIN"], "USER": []}, DOVECOT_GREETING, "sasl-plain"),
        ({"SASL": ["login", "plain"]}, b"+OK ready", "sasl-plain"),
        ({"SASL": ["CRAM-MD5"], "USER": []}, DOVECOT_GREETING, "user"),
        ({"TOP": [], "UIDL": []}, DOVECOT_GREETING, "apop"),  # no USER offered, APOP is
        ({"TOP": [], "UIDL": []}, b"+OK ready", "user"),  # nothing else to try
        ({}, DOVECOT_GREETING, "user"),  # no CAPA: an RFC 1939 server, USER first
    ],
)
def test_login_method(caps: dict[str, list[str]], greeting: bytes, method: str) -> None:
    assert pop3.login_method(caps, greeting) == method


def fake_client(wire: bytes) -> pop3.Pop3Client:
    client = pop3.Pop3Client.__new__(pop3.Pop3Client)  # no connection: read from `wire`
    client.file = io.BytesIO(wire)
    setattr(client, "_debugging", 0)  # noqa: B010 (poplib's private attribute)
    return client


def test_long_lines_line_ends_and_dot_stuffing() -> None:
    header = b"X-Long: " + b"h" * 10_000
    body = b"b" * 100_000
    wire = b"+OK\r\n" + header + b"\r\n\r\n..dot\r\n" + body + b"\nbare-lf\r\n.\r\n"
    _resp, lines, _octets = fake_client(wire)._getlongresp()  # type: ignore[attr-defined]
    assert pop3._join(lines) == header + b"\r\n\r\n.dot\r\n" + body + b"\r\nbare-lf\r\n"
    assert poplib._MAXLINE == 2048  # the module-wide limit is untouched
    with pytest.raises(poplib.error_proto, match="line too long"):
        poplib.POP3._getline(fake_client(header + b"\r\n"))  # type: ignore[attr-defined]
    with pytest.raises(EOFError):
        fake_client(b"")._getline()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            b"Received: from b by mx; Tue, 2 Jan 2024 10:00:05 +0100\r\n"
            b"Received: from a by b; Tue, 2 Jan 2024 09:59:00 +0100\r\n"
            b"Date: Mon, 1 Jan 2024 08:00:00 +0000\r\n",
            datetime(2024, 1, 2, 10, 0, 5, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            b"Received: from b\r\n\tby mx with ESMTP;\r\n\tWed, 3 Jan 2024 12:00:00 -0500\r\n",
            datetime(2024, 1, 3, 17, 0, tzinfo=UTC),
        ),
        (
            b"Received: no date here\r\nDate: Mon, 1 Jan 2024 08:00:00 +0000\r\n",
            datetime(2024, 1, 1, 8, 0, tzinfo=UTC),
        ),
        (b"Date: Mon, 1 Jan 2024 08:00:00 -0000\r\n", datetime(2024, 1, 1, 8, 0, tzinfo=UTC)),
        (b"Subject: no dates at all\r\n", None),
    ],
)
def test_arrival_date(head: bytes, expected: datetime | None) -> None:
    got = pop3.arrival(head)
    assert got == expected
    assert got is None or got.tzinfo is not None


def test_repeated_uidls_are_told_apart() -> None:
    assert pop3_uids.distinct(["a", "b", "a", "a"]) == ["a", "b", "a#2", "a#3"]


def test_uid_map_is_stable_assigns_in_order_and_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "pop3-uids.sqlite3"
    validity, uids = pop3_uids.assign_uids("pop3://a@h:110", ["x", "y", "z"], path)
    assert uids == [1, 2, 3] and validity != 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # "y" was deleted on the server, "w" arrived: old numbers stay, new ones follow, none reused.
    again, uids = pop3_uids.assign_uids("pop3://a@h:110", ["x", "z", "w"], path)
    assert (again, uids) == (validity, [1, 3, 4])
    assert pop3_uids.assign_uids("pop3://a@h:110", ["y", "w2"], path)[1] == [2, 5]
    other, uids = pop3_uids.assign_uids("pop3://b@h:110", ["x"], path)
    assert uids == [1] and other != validity
    # A lost map starts over with a new UIDVALIDITY, so old journal entries never match.
    path.unlink()
    assert pop3_uids.assign_uids("pop3://a@h:110", ["x"], path)[0] != validity


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("pop3s://alice@pop.example.com", Security.TLS, 995),
        ("pop3://alice@pop.example.com", Security.STARTTLS, 110),
        ("pop3+plain://alice@127.0.0.1:1110", Security.PLAIN, 1110),
    ],
)
def test_pop3_urls(url: str, security: Security, port: int) -> None:
    spec = parse_account_url(url)
    assert (spec.kind, spec.security, spec.port, spec.user) == ("pop3", security, port, "alice")
    assert parse_account_url(to_url(spec)) == spec
    assert spec.identity == f"pop3://alice@{spec.host}:{port}"


def test_plain_pop3_only_to_loopback() -> None:
    with pytest.raises(UsageError, match="pop3s:// or pop3:// \\(STLS\\)"):
        apply_options(parse_account_url("pop3+plain://alice@pop.example.com"))
    assert apply_options(parse_account_url("pop3+plain://alice@localhost")).port == 110


def test_saved_pop3_account(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[accounts.old]\nprotocol = "pop3"\nhost = "pop.example.com"\nuser = "alice"\n'
        'security = "starttls"\n'
    )
    spec = load_config(path).accounts["old"]
    assert (spec.kind, spec.port, spec.security) == ("pop3", 110, Security.STARTTLS)
    assert account_table(spec)["protocol"] == "pop3"
