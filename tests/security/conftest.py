"""Shared pieces of the security tests: a Dovecot whose passwords are canaries, seeding, and
the search for a secret in every form it could leak in (plain, percent-encoded, base64).

The canary server is a session-scoped Dovecot of its own (slash shape, IMAP and POP3) whose
every user's password starts with `CANARY`, a random string no other test or file contains,
so that finding it anywhere is proof of a leak.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

# Read by Textual when it is first imported: the sweep's TUI session runs without animations.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from tests.support.dovecot import DovecotServer

CANARY = f"Pw-Zq8!leak-canary-{secrets.token_hex(6)}"
"""Every canary user's password starts with this; it must never show up anywhere."""


def _permissions_ignored() -> bool:
    """Whether chmod fails to stop us (root, or CAP_DAC_OVERRIDE): probe rather than guess."""
    with tempfile.TemporaryDirectory() as directory:
        probe = Path(directory) / "probe"
        probe.write_text("x")
        probe.chmod(0)
        try:
            probe.read_bytes()
        except PermissionError:
            return False
        return True


PERMISSIONS_IGNORED = _permissions_ignored()
"""Tests that need an unreadable file or a read-only directory are skipped then; others
(a path below a regular file) cover the same errors."""


class CanaryDovecot(DovecotServer):
    """A test Dovecot whose passwords are `CANARY-<user>` (its passwd-file is {PLAIN})."""

    @staticmethod
    def password(user: str) -> str:
        return f"{CANARY}-{user}"

    def _config(self, uid: int, gid: int) -> str:
        # Refused logins answer at once (Dovecot waits 2 s by default); its per-address
        # penalty for later logins stays, which is why refused logins go to a server of
        # their own.
        return super()._config(uid, gid) + "auth_failure_delay = 0\n"


@pytest.fixture(scope="session")
def canary() -> str:
    """The canary. Test modules take it (and `start_canary_server`) from fixtures: importing
    this conftest by its package name would run it a second time, with another canary."""
    return CANARY


@pytest.fixture(scope="session")
def start_canary_server() -> Callable[[], DovecotServer]:
    """Starts a canary server (IMAP and POP3); the caller cleans it up."""
    return lambda: CanaryDovecot(shape="slash", pop3=True).start()


@pytest.fixture(scope="session")
def canary_server(start_canary_server: Callable[[], DovecotServer]) -> Iterator[DovecotServer]:
    server = start_canary_server()
    try:
        yield server
    finally:
        server.cleanup()


def secret_forms(secret: str) -> dict[str, bytes]:
    """The byte strings whose presence shows that `secret` leaked.

    Besides the text itself: its percent-encodings (URLs, form data) and its base64 at each
    of the three alignments, as SASL PLAIN sends `\\0user\\0password` base64-encoded. For an
    alignment other than 0 the first base64 group mixes in the bytes before the secret, and
    the last group always mixes in what follows it, so both are cut off.
    """
    raw = secret.encode()
    forms = {
        "plain": raw,
        "percent-encoded": quote(secret, safe="").encode(),
        "form-encoded": quote_plus(secret, safe="").encode(),
    }
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        core = encoded[4 if shift else 0 : -4]
        forms[f"base64 (offset {shift})"] = core
    return forms


def leaks(data: bytes, forms: dict[str, bytes]) -> list[str]:
    """The names of the forms of the secret (see `secret_forms`) found in `data`."""
    return [name for name, form in forms.items() if form in data]


def sample_message(number: int, folder: str, when: datetime) -> bytes:
    return (
        f"Message-ID: <sec-{folder}-{number}@example.test>\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"From: Sender {number} <s{number}@example.test>\r\n"
        "To: someone@example.test\r\n"
        f"Subject: {folder} message {number:04d}\r\n\r\n"
        + f"body line {number} of a message that is long enough to take a moment\r\n"
        * 12
    ).encode()


def seed_small(server: DovecotServer, user: str, folders: dict[str, int]) -> None:
    """`count` small messages per folder (created when missing), in one MULTIAPPEND each."""
    client = server.client(user)
    try:
        start = datetime(2024, 3, 1, 9, tzinfo=UTC)
        for folder, count in folders.items():
            if folder != "INBOX":
                client.create_folder(folder)
                client.subscribe_folder(folder)
            batch = [
                {
                    "msg": sample_message(n, folder, start + timedelta(hours=n)),
                    "date": start + timedelta(hours=n),
                    "flags": ["\\Seen"] if n % 3 else [],
                }
                for n in range(count)
            ]
            if batch:
                client.multiappend(folder, batch)
    finally:
        client.logout()


def mailbox_state(server: DovecotServer, user: str) -> dict[str, int]:
    """Every folder of `user` with its message count, through a separate imapclient login."""
    client = server.client(user)
    try:
        names = [str(name) for _flags, _delim, name in client.list_folders()]
        return {name: int(client.folder_status(name, [b"MESSAGES"])[b"MESSAGES"]) for name in names}
    finally:
        client.logout()
