"""The registry of account kinds and the questions asked of it.

Provides `KINDS` (every kind by name), `register`, the look-ups `kind_of`, `kind_for_scheme` and
`kind_for_table`, the helpers built on them (`url_forms`, `needs_password`, `require_target`),
`command_spec`, and the constants `DEFAULT_PROTOCOL` and `TARGET_HINT`.

A leaf of the package: it imports the kind classes (`kinds.shapes`) only for type checking,
so `shapes` can import it back at run time without a cycle.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, TypeVar

from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.model import AccountSpec

if TYPE_CHECKING:
    from mailmig_tui.kinds.shapes import StoreKind, Table

DEFAULT_PROTOCOL = "imap"
"""The kind of a saved account that names no kind (no `protocol`, `command`, `maildir`...)."""
TARGET_HINT = "copy into maildir:// or IMAP"

KINDS: dict[str, StoreKind] = {}
"""Every kind by name, in registration order (which orders URL forms in messages)."""
_BY_SCHEME: dict[str, StoreKind] = {}
K = TypeVar("K", bound="StoreKind")


def register(kind: K) -> K:
    """Add a kind; its name and URL schemes must be new."""
    if kind.name in KINDS:
        raise ValueError(f"the account kind {kind.name!r} is registered already")
    taken = [scheme for scheme in kind.url_schemes if scheme in _BY_SCHEME]
    if taken:
        raise ValueError(f"the URL scheme {taken[0]!r} belongs to another kind already")
    KINDS[kind.name] = kind
    _BY_SCHEME.update(dict.fromkeys(kind.url_schemes, kind))
    return kind


def kind_of(spec: AccountSpec) -> StoreKind:
    """The kind of an account."""
    try:
        return KINDS[spec.kind]
    except KeyError:
        raise UsageError(
            f"unknown account kind {spec.kind!r}", "known kinds: " + ", ".join(KINDS)
        ) from None


def kind_for_scheme(scheme: str) -> StoreKind | None:
    """The kind a URL scheme (lower case) belongs to, if any."""
    return _BY_SCHEME.get(scheme)


def kind_for_table(table: Table, where: str = "the account") -> StoreKind:
    """The kind of a saved account: the kind whose field it has (`maildir = ...`,
    `command = ...`), else its `protocol` (imap when it names none)."""
    marked = [kind for kind in KINDS.values() if kind.config_key and kind.config_key in table]
    if len(marked) > 1:
        keys = " and ".join(repr(kind.config_key) for kind in marked)
        raise ConfigError(f"{where} has both {keys}", "an account is one kind: keep one of them")
    if marked:
        return marked[0]
    protocol = str(table.get("protocol", DEFAULT_PROTOCOL)).lower()
    kind = KINDS.get(protocol)
    if kind is None or kind.config_key:
        protocols = [name for name, kind in KINDS.items() if not kind.config_key]
        raise ConfigError(
            f"{where}: unknown protocol {protocol!r}", "protocol is " + " or ".join(protocols)
        )
    return kind


def url_forms() -> str:
    """Every URL form, for hints: "imaps://USER@HOST[:PORT], imap://…, …, mbox:///PATH"."""
    forms = []
    for kind in KINDS.values():
        for scheme in kind.url_schemes:
            if kind.local:
                forms.append(f"{scheme}:///PATH")
            else:
                forms.append(f"{scheme}://" + ("…" if forms else "USER@HOST[:PORT]"))
    return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)


def needs_password(spec: AccountSpec) -> bool:
    """Whether to ask for a password before connecting.

    A command account usually starts a preauthenticated server (`* PREAUTH`); if its server
    asks for a login after all, the password is asked for then. An account signing in with
    OAuth2 needs a token instead (`oauth2.token_provider`).
    """
    return kind_of(spec).needs_password and spec.oauth2 is None


def require_target(spec: AccountSpec) -> None:
    """Refuse, in one line, an account that a copy cannot write into."""
    kind = kind_of(spec)
    if not kind.can_be_target:
        raise UsageError(f"{kind.role_label} can only be a source", TARGET_HINT)


def command_spec(command: str, *, user: str = "", name: str = "") -> AccountSpec:
    """An account reached by running `command` (split like a shell would, never run by one)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(
            f"cannot split the command {command!r}: {exc}", "check its quotes"
        ) from None
    if not argv:
        raise UsageError("the account command is empty", "give the command that speaks IMAP")
    # Normalised, so that re-typing it with other spacing or quoting is the same account.
    return AccountSpec(kind="command", command=shlex.join(argv), user=user, name=name)
