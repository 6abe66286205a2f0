"""The registry of account kinds: everything that differs between kinds of mail store.

Each kind ("imap", "pop3", "command", "maildir", "mbox") is one `StoreKind`: its URL schemes
with their security and default port, whether it is a local store, whether a copy can write
into it, whether it needs a password before connecting, whether it can sign in with OAuth2 or
open another user's mailbox (login_as), the words naming it in errors, its account URL, its
table in config.toml, its display and identity strings, and its opener. Callers ask the
registry (`kind_of(spec).can_be_target`) instead of comparing `spec.kind` with strings.

This module provides the openers, the five kinds (`IMAP`, `POP3`, `COMMAND`, `MAILDIR`,
`MBOX`) and, re-exported, every public name of `kinds.shapes` (the kind classes) and
`kinds.registry` (`KINDS`, `register`, `kind_of`...), so callers import from here.

A new kind is one store class plus one `register(...)` call at the end of this module. The
openers import their store module when called, so importing this package (as model, accounts
and config do) loads no store, no textual and no rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailmig_tui.kinds.registry import (
    DEFAULT_PROTOCOL,
    KINDS,
    TARGET_HINT,
    K,
    command_spec,
    kind_for_scheme,
    kind_for_table,
    kind_of,
    needs_password,
    register,
    require_target,
    url_forms,
)
from mailmig_tui.kinds.shapes import (
    CommandKind,
    HostKind,
    Opener,
    PathKind,
    Secret,
    StoreKind,
    Table,
)
from mailmig_tui.model import AccountSpec, Security

if TYPE_CHECKING:
    from mailmig_tui.stores.base import MailStore

__all__ = [
    "COMMAND",
    "DEFAULT_PROTOCOL",
    "IMAP",
    "KINDS",
    "MAILDIR",
    "MBOX",
    "POP3",
    "TARGET_HINT",
    "CommandKind",
    "HostKind",
    "K",
    "Opener",
    "PathKind",
    "Secret",
    "StoreKind",
    "Table",
    "command_spec",
    "kind_for_scheme",
    "kind_for_table",
    "kind_of",
    "needs_password",
    "register",
    "require_target",
    "url_forms",
]

# -- openers: each imports its store module only when an account of its kind opens ------------


def _open_imap(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    if spec.oauth2 is not None:
        # The access token comes first, on every (re)connect: a device sign-in can take
        # minutes, and a server would drop a connection waiting for it.
        from mailmig_tui import oauth2
        from mailmig_tui.stores.imap import ImapStore
        from mailmig_tui.stores.imap_connect import open_client

        client = oauth2.connect(spec, lambda token: open_client(spec, "", oauth2_token=token))
        return ImapStore(client, spec, readonly=readonly)
    from mailmig_tui.stores.imap import connect_imap

    return connect_imap(spec, secret(), readonly=readonly)


def _open_pop3(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.pop3 import connect_pop3

    return connect_pop3(spec, secret, readonly=readonly)  # asks after connecting


def _open_command(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.imap_command import connect_command

    return connect_command(spec, secret, readonly=readonly)  # asks only without PREAUTH


def _open_maildir(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.maildir import MaildirStore

    return MaildirStore(spec.path, readonly=readonly)


def _open_mbox(spec: AccountSpec, secret: Secret, readonly: bool) -> MailStore:
    from mailmig_tui.stores.mbox import MboxStore

    return MboxStore(spec.path, readonly=readonly)


IMAP = register(
    HostKind(
        name="imap",
        role_label="an IMAP account",
        protocol="IMAP",
        opener=_open_imap,
        url_schemes={
            "imaps": (Security.TLS, 993),
            "imap": (Security.STARTTLS, 143),
            "imap+plain": (Security.PLAIN, 143),
        },
        needs_password=True,
        oauth2=True,
        login_as=True,
    )
)
POP3 = register(
    HostKind(
        name="pop3",
        role_label="a POP3 account",
        protocol="POP3",
        starttls_command="STLS",
        opener=_open_pop3,
        url_schemes={
            "pop3s": (Security.TLS, 995),
            "pop3": (Security.STARTTLS, 110),
            "pop3+plain": (Security.PLAIN, 110),
        },
        can_be_target=False,
        needs_password=True,
    )
)
COMMAND = register(
    CommandKind(name="command", role_label="a command account", opener=_open_command)
)
MAILDIR = register(PathKind(name="maildir", role_label="a Maildir account", opener=_open_maildir))
MBOX = register(
    PathKind(name="mbox", role_label="an mbox account", opener=_open_mbox, can_be_target=False)
)
