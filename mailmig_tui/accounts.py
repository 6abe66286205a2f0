"""Account URLs and saved account names, turned into `AccountSpec`.

Forms (USER percent-encoded where it holds `@` or `:`):
  imaps://USER@HOST[:PORT]       TLS from the first byte, port 993
  imap://USER@HOST[:PORT]        STARTTLS, port 143; refused when the server lacks STARTTLS
  imap+plain://USER@HOST[:PORT]  no encryption: loopback only, or with --allow-plaintext
  pop3s://USER@HOST[:PORT]       POP3 source over TLS, port 995
  pop3://USER@HOST[:PORT]        POP3 source with STLS, port 110; refused without STLS
  pop3+plain://USER@HOST[:PORT]  POP3 source without encryption (like imap+plain)
  maildir:///PATH                a local Maildir++ tree (read and write)
  mbox:///PATH                   a local mbox file or a directory of mbox files (read)
Anything without `://` is the name of a saved account in the config file. A command account
(IMAP over a command's stdin/stdout, e.g. `ssh oldhost /usr/lib/dovecot/imap`) comes from
--source-command / --target-command or a saved account's `command` field. OAuth2 sign-in
(--source-oauth2 PROVIDER, a saved account's `oauth2` field) is laid over an IMAP account by
`oauth2.with_options`. What each kind of account is (schemes, ports, source only or not)
is in the `kinds` package.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import replace

from mailmig_tui import kinds
from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions

SCHEMES = kinds.IMAP.url_schemes
"""IMAP URL schemes: (security, default port); every kind's are in `kinds.KINDS`."""


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_port(kind: str, security: Security) -> int:
    """The default port of a network kind ("imap", "pop3") with `security`."""
    found = kinds.KINDS[kind]
    if not isinstance(found, kinds.HostKind):
        raise ValueError(f"{found.role_label} has no port")
    return found.default_port(security)


def needs_password(spec: AccountSpec) -> bool:
    """Whether to ask for a password before connecting (see `kinds.needs_password`)."""
    return kinds.needs_password(spec)


def command_account(command: str, *, user: str = "", name: str = "") -> AccountSpec:
    """An account reached by running `command` (split like a shell would, never run by one)."""
    return kinds.command_spec(command, user=user, name=name)


def parse_account_url(text: str) -> AccountSpec:
    """Parse one account URL; raises UsageError with the form expected."""
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise UsageError(
            f"not an account URL: {text!r}", f"use {kinds.url_forms()} or a saved account name"
        )
    kind = kinds.kind_for_scheme(scheme)
    if kind is not None and kind.local:
        return kind.from_url(text)
    userinfo = rest.split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo:  # checked first: no later error may repeat the password
        raise UsageError(
            "a password does not belong in an account URL",
            "set MAILMIG_SOURCE_PASSWORD / MAILMIG_TARGET_PASSWORD or use the keyring",
        )
    if kind is None:
        raise UsageError(
            f"unknown account URL scheme {scheme!r} in {text!r}", f"use {kinds.url_forms()}"
        )
    return kind.from_url(text)


def apply_options(
    spec: AccountSpec,
    *,
    ca_file: str | None = None,
    insecure: bool = False,
    allow_plaintext: bool = False,
    timeout: float | None = None,
) -> AccountSpec:
    """Combine command-line options with an account and check plaintext is allowed."""
    tls = TlsOptions(ca_file=ca_file or spec.tls.ca_file, insecure=insecure or spec.tls.insecure)
    spec = replace(
        spec,
        tls=tls,
        allow_plaintext=allow_plaintext or spec.allow_plaintext,
        timeout=timeout if timeout is not None else spec.timeout,
    )
    kind = kinds.kind_of(spec)
    remote = not (spec.allow_plaintext or is_loopback(spec.host))
    if isinstance(kind, kinds.HostKind) and spec.security is Security.PLAIN and remote:
        raise UsageError(
            f"refusing to send a password unencrypted to {spec.host}",
            f"use {kind.secure_schemes()}, or pass --allow-plaintext if you must",
        )
    if spec.timeout <= 0:
        raise UsageError(
            f"the timeout must be a positive number of seconds, not {spec.timeout:g}",
            "for example --timeout 30",
        )
    if spec.tls.ca_file:
        check_ca_file(spec.tls.ca_file)
    return spec


def check_ca_file(path: str) -> None:
    """Refuse a CA file that cannot be read or holds no certificate, naming the file."""
    try:
        with open(path, "rb"):
            pass
        ssl.create_default_context().load_verify_locations(cafile=path)
    except ssl.SSLError:  # before OSError, which it subclasses
        raise UsageError(
            f"the CA file {path} holds no PEM certificate",
            "give --ca-file the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)",
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot read the CA file {path}: {exc.strerror}", "give --ca-file a readable PEM file"
        ) from None


def to_url(spec: AccountSpec) -> str:
    """The URL form of a spec, for display and for the TUI's account list (a command
    account's form is shown only, never parsed back)."""
    return kinds.kind_of(spec).to_url(spec)
