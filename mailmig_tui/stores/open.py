"""Opening any account as a `MailStore`: one entry point, dispatching through `kinds.KINDS`
(each kind's opener knows its store class)."""

from __future__ import annotations

from collections.abc import Callable

from mailmig_tui import secrets
from mailmig_tui.kinds import kind_of
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
    """Connect (or open files) and return a ready store; raises our one-line errors.

    The password is asked for only when a login needs it: after connecting for POP3, and
    for a command account only when its server does not greet preauthenticated. An OAuth2
    account gets its access token before connecting (a device sign-in can take minutes, and
    a server would drop the waiting connection), on every (re)connect, so a long run signs
    in again with a renewed token.
    """

    def secret() -> str:
        # "" means the caller had none ready (copy gathers them up front only for accounts
        # that surely need one): ask the usual sources now.
        value = password(spec, role) or secrets.get_password(spec, role)
        secrets.redact(value)
        return value

    kind = kind_of(spec)
    if spec.oauth2 is not None and not kind.oauth2:
        from mailmig_tui import oauth2

        oauth2.check(spec)  # refuses, naming the account
    return kind.open(spec, secret, readonly)
