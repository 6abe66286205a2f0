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

    if spec.oauth2 is not None:
        return _open_oauth2(spec, readonly=readonly)
    if spec.kind == "maildir":
        from mailmig_tui.stores.maildir import MaildirStore

        return MaildirStore(spec.path, readonly=readonly)
    if spec.kind == "mbox":
        from mailmig_tui.stores.mbox import MboxStore

        return MboxStore(spec.path, readonly=readonly)
    if spec.kind == "pop3":
        from mailmig_tui.stores.pop3 import connect_pop3

        return connect_pop3(spec, secret, readonly=readonly)
    if spec.kind == "command":
        from mailmig_tui.stores.imap_command import connect_command

        return connect_command(spec, secret, readonly=readonly)
    from mailmig_tui.stores.imap import connect_imap

    return connect_imap(spec, secret(), readonly=readonly)


def _open_oauth2(spec: AccountSpec, *, readonly: bool) -> MailStore:
    from mailmig_tui import oauth2
    from mailmig_tui.stores.imap import ImapStore
    from mailmig_tui.stores.imap_connect import open_client

    token = oauth2.token_provider(spec)()  # refuses anything but IMAP accounts
    return ImapStore(open_client(spec, "", oauth2_token=token), spec, readonly=readonly)
