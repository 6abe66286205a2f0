"""Opening any account kind as a `MailStore`: the one place that knows every store class."""

from __future__ import annotations

from collections.abc import Callable

from mailmig_tui import secrets
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.base import MailStore

PasswordSource = Callable[[AccountSpec, str], str]
"""(spec, role) -> password; the CLI asks the environment/keyring/terminal, the TUI a dialog."""


def default_password(spec: AccountSpec, role: str) -> str:
    return secrets.get_password(spec, role)


def open_store(
    spec: AccountSpec,
    *,
    role: str,
    readonly: bool,
    password: PasswordSource = default_password,
) -> MailStore:
    """Connect (or open files) and return a ready store; raises our one-line errors."""
    if spec.kind == "maildir":
        from mailmig_tui.stores.maildir import MaildirStore

        return MaildirStore(spec.path, readonly=readonly)
    if spec.kind == "mbox":
        from mailmig_tui.stores.mbox import MboxStore

        return MboxStore(spec.path, readonly=readonly)
    from mailmig_tui.stores.imap import connect_imap

    secret = password(spec, role)
    secrets.redact(secret)
    return connect_imap(spec, secret, readonly=readonly)
