"""What the account form shows and builds for each kind of account, asked of `kinds.KINDS`.

Provides `kind_choices` (the kind selector's lines), `field_groups` (which rows a kind shows),
`security_choices` (a host kind's TLS modes with its own ports), `build_kind_spec` (the
account a filled form describes; raises UsageError naming the field to fix) and
`check_path` (the local path check, run in the form's worker: it touches the disk).

No Textual here: the rows are named by group, and the form shows or hides them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from mailmig_tui import kinds
from mailmig_tui.accounts import apply_options
from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions

HOST, USER, SIGN_IN, PASSWORD, COMMAND, PATH, TLS = (
    "host", "user", "sign-in", "password", "command", "path", "tls",
)  # fmt: skip
GROUPS = (HOST, USER, SIGN_IN, PASSWORD, COMMAND, PATH, TLS)
"""Every row group of the form; each row carries its group as a CSS class `row-GROUP`."""

NEW_MAILDIR_NOTE = "will be created when used as a target"

_SECURITY_WORDS = {
    Security.TLS: "TLS",
    Security.STARTTLS: "",  # the kind's own word: STARTTLS, STLS
    Security.PLAIN: "none (loopback only)",
}


def kind_label(kind: kinds.StoreKind) -> str:
    """ "IMAP", "POP3 (source only)", "Maildir"... from the kind's role label."""
    words = kind.role_label.split(" ", 1)[-1].removesuffix(" account")
    if isinstance(kind, kinds.CommandKind):
        words += " (IMAP through ssh or a pipe)"
    return words + ("" if kind.can_be_target else " (source only)")


def kind_choices() -> list[tuple[str, str]]:
    """(label, kind name) for every registered kind, in registration order."""
    return [(kind_label(kind), name) for name, kind in kinds.KINDS.items()]


def field_groups(kind: kinds.StoreKind) -> frozenset[str]:
    """The row groups a kind's account is described by."""
    if kind.local:
        return frozenset({PATH})
    groups = {USER, PASSWORD}  # a command's server may ask for a login after all
    if isinstance(kind, kinds.HostKind):
        groups |= {HOST}
    if isinstance(kind, kinds.CommandKind):
        groups |= {COMMAND}
    if kind.uses_tls:
        groups |= {TLS}
    if kind.oauth2:
        groups |= {SIGN_IN}
    return frozenset(groups)


def security_choices(kind: kinds.StoreKind) -> list[tuple[str, str]]:
    """(label, security) of a host kind: "TLS (pop3s, port 995)", "STLS (port 110)"..."""
    if not isinstance(kind, kinds.HostKind):
        return [("TLS", Security.TLS.value)]
    choices = []
    for scheme, (security, port) in kind.url_schemes.items():
        word = _SECURITY_WORDS[security] or kind.starttls_command
        detail = "" if security is Security.PLAIN else f" ({scheme}, port {port})"
        choices.append((word + detail, security.value))
    return choices


def path_placeholder(kind: kinds.StoreKind) -> str:
    if kind.can_be_target:
        return f"/home/alice/Maildir ({NEW_MAILDIR_NOTE})"
    return "/var/mail/alice, or a directory of mbox files"


def check_name(name: str) -> str:
    name = name.strip()
    if not name or any(c in name for c in ":/[]\"'") or name != " ".join(name.split()):
        raise UsageError("give the account a short name", "letters, digits, - and _ work best")
    return name


def build_kind_spec(kind_name: str, values: Mapping[str, str], timeout: float) -> AccountSpec:
    """The account of kind `kind_name` that the form's `values` (by input id) describe."""
    kind = kinds.KINDS[kind_name]
    name = check_name(values.get("name", ""))
    user = values.get("user", "").strip()
    if kind.local:
        path = os.path.expanduser(values.get("path", "").strip())
        if not path:
            raise UsageError(f"the path of {kind.role_label} is missing", path_placeholder(kind))
        return AccountSpec(kind=kind.name, path=os.path.abspath(path), name=name)
    if isinstance(kind, kinds.CommandKind):
        command = values.get("command", "").strip()
        if not command:
            raise UsageError("the command is missing", "e.g. ssh oldhost /usr/lib/dovecot/imap")
        spec = kinds.command_spec(command, user=user, name=name)
        return apply_options(spec, timeout=timeout)
    if not isinstance(kind, kinds.HostKind):
        raise UsageError(f"the form cannot describe {kind.role_label}", "use a config file")
    host = values.get("host", "").strip()
    if not host:
        raise UsageError("the host is missing", "e.g. mail.example.com")
    if not user:
        raise UsageError("the user is missing", "the login name, often the mail address")
    security = Security(values.get("security") or Security.TLS.value)
    port_text = values.get("port", "").strip()
    try:
        port = int(port_text) if port_text else kind.default_port(security)
    except ValueError:
        raise UsageError(
            f"the port {port_text!r} is not a number", "leave it empty for the default"
        ) from None
    if not 0 < port < 65536:
        raise UsageError(f"the port {port} is out of range", "a port is 1 to 65535")
    ca_file = values.get("ca", "").strip()
    spec = AccountSpec(
        kind=kind.name, user=user, host=host, port=port, security=security,
        tls=TlsOptions(ca_file=ca_file or None), name=name,
    )  # fmt: skip
    return apply_options(spec, timeout=timeout)


def check_path(spec: AccountSpec) -> str:
    """For a local account: "" when its path can be opened now, NEW_MAILDIR_NOTE when it does
    not exist yet but a copy would create it (a kind that can be a target); raises UsageError
    for a source-only kind's missing path. Touches the disk: call from a worker."""
    kind = kinds.kind_of(spec)
    if not kind.local or os.path.lexists(spec.path):
        return ""
    if not kind.can_be_target:
        raise UsageError(
            f"no such file or directory: {spec.path}", f"{kind.role_label} must exist already"
        )
    if not os.path.isdir(os.path.dirname(spec.path)):
        raise UsageError(
            f"the directory above {spec.path} does not exist",
            "a new Maildir needs an existing parent directory",
        )
    return NEW_MAILDIR_NOTE
