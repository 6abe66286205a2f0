"""Passwords: never from argv or the config file. Also the keyring entries of OAuth2 refresh
tokens, and the log filter masking every secret.

The order of lookup, first to last (the README's table says the same):
1. the account's password command (--ROLE-password-command, else the saved account's
   `password_command`; a batch row's column), which wins because it was named on purpose;
2. MAILMIG_SOURCE_PASSWORD / MAILMIG_TARGET_PASSWORD (a batch: the row's variable, the
   passwords file);
3. the netrc file, when it is owner-only (`netrc_file`);
4. the keyring, service "mailmig" (on headless SSH hosts keyring has no backend and raises;
   that is normal and simply falls through);
5. a prompt when stdin is a terminal (the TUI: its password dialog), else a one-line error.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import threading
from collections.abc import Callable

from mailmig_tui.errors import PasswordUnavailable
from mailmig_tui.model import AccountSpec
from mailmig_tui.netrc_file import netrc_password
from mailmig_tui.password_command import run_password_command

SERVICE = "mailmig"
ENV_BY_ROLE = {"source": "MAILMIG_SOURCE_PASSWORD", "target": "MAILMIG_TARGET_PASSWORD"}

log = logging.getLogger(__name__)


def keyring_unusable() -> str | None:
    """Why no keyring backend works here (no D-Bus on an SSH host, ...), or None when one may.

    Asks keyring which backend it would use, without reading or writing a secret; keyring
    picks its fail backend (which raises NoKeyringError on every call) when none is usable.
    """
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception as exc:
        return f"the system keyring is not available here ({type(exc).__name__})"
    if isinstance(backend, fail.Keyring):
        return "no system keyring is available here"
    return None


def keyring_key(spec: AccountSpec) -> str:
    return f"{spec.user}@{spec.host}:{spec.port}"


def from_keyring(spec: AccountSpec) -> str | None:
    """The stored password, or None when there is none or no keyring backend works here."""
    try:
        import keyring
        import keyring.errors

        return keyring.get_password(SERVICE, keyring_key(spec))
    except Exception as exc:  # NoKeyringError, D-Bus errors, broken backends: all mean "none"
        log.debug("keyring unavailable: %s", type(exc).__name__)
        return None


def store_in_keyring(spec: AccountSpec, password: str) -> str | None:
    """Remember a password; returns a reason when it cannot be remembered."""
    try:
        import keyring

        keyring.set_password(SERVICE, keyring_key(spec), password)
        return None
    except Exception as exc:
        return f"the system keyring is not available here ({type(exc).__name__})"


def keyring_lookup(key: str) -> tuple[str | None, str | None]:
    """(the secret stored under `key`, None), or (None, why no keyring works here)."""
    try:
        import keyring

        return keyring.get_password(SERVICE, key), None
    except Exception as exc:  # NoKeyringError on headless hosts: the normal case
        log.debug("keyring unavailable: %s", type(exc).__name__)
        return None, f"the system keyring is not available here ({type(exc).__name__})"


def keyring_store(key: str, secret: str) -> str | None:
    """Keep a secret (an OAuth2 refresh token) under `key`; returns why it cannot be kept."""
    try:
        import keyring

        keyring.set_password(SERVICE, key, secret)
        return None
    except Exception as exc:
        return f"the system keyring is not available here ({type(exc).__name__})"


def keyring_delete(key: str) -> None:
    """Forget a secret that no longer works; nothing stored, or no keyring, is fine."""
    try:
        import keyring

        keyring.delete_password(SERVICE, key)
    except Exception as exc:
        log.debug("keyring delete: %s", type(exc).__name__)


_told: set[str] = set()
_told_lock = threading.Lock()


def tell_once(text: str) -> None:
    """A notice on stderr (`mailmig: note: …`), once per process: a batch asks for many
    passwords, and an ignored netrc file needs saying only once."""
    with _told_lock:
        if text in _told:
            return
        _told.add(text)
    log.info("%s", text)
    print(f"mailmig: note: {text}", file=sys.stderr, flush=True)


def find_password(
    spec: AccountSpec, role: str, *, given: Callable[[], str | None] | None = None
) -> str | None:
    """The password from every source but a prompt, in the documented order, or None.

    `given` replaces the environment variable of `role` (a batch row's variable and the
    passwords file). A failing password command raises PasswordUnavailable: the operator
    named it, so falling through to another source would hide the failure.
    """
    if spec.password_command:
        printed = run_password_command(spec)
        redact(printed)
        return printed
    value = given() if given is not None else os.environ.get(ENV_BY_ROLE[role])
    if value:
        return value
    value = netrc_password(spec, tell_once)
    if value:
        redact(value)
        return value
    return from_keyring(spec)


def get_password(
    spec: AccountSpec,
    role: str,
    *,
    prompt: Callable[[str], str] | None = None,
) -> str:
    """Find the password for `spec` acting as `role` ("source" or "target")."""
    env_name = ENV_BY_ROLE[role]
    value = find_password(spec, role)
    if value:
        return value
    if prompt is None and sys.stdin is not None and sys.stdin.isatty():
        prompt = getpass.getpass
    if prompt is not None:
        value = prompt(f"Password for {spec.display} ({role}): ")
        if value:
            return value
    raise PasswordUnavailable(
        f"no password for the {role} account {spec.display}",
        f"give --{role}-password-command, set {env_name}, add it to ~/.netrc, store it with "
        f"the keyring (service {SERVICE!r}), or run on a terminal",
    )


_KNOWN_SECRETS: set[str] = set()


def redact(secret: str) -> None:
    """Remember a secret so that the log filter masks it wherever it might appear."""
    if len(secret) >= 4:
        _KNOWN_SECRETS.add(secret)


def scrub(text: str) -> str:
    for secret in _KNOWN_SECRETS:
        if secret in text:
            text = text.replace(secret, "********")
    return text


class RedactingFilter(logging.Filter):
    """Masks known passwords in every log record, including those from imapclient."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _KNOWN_SECRETS:
            record.msg = scrub(record.getMessage())
            record.args = None
        return True
