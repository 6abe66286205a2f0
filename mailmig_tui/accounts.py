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
`oauth2.with_options`.
"""

from __future__ import annotations

import ipaddress
import shlex
import ssl
from dataclasses import replace
from urllib.parse import unquote, urlsplit

from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions

SCHEMES = {
    "imaps": (Security.TLS, 993),
    "imap": (Security.STARTTLS, 143),
    "imap+plain": (Security.PLAIN, 143),
}
"""IMAP URL schemes: (security, default port)."""
POP3_SCHEMES = {
    "pop3s": (Security.TLS, 995),
    "pop3": (Security.STARTTLS, 110),
    "pop3+plain": (Security.PLAIN, 110),
}
SCHEMES_BY_KIND = {"imap": SCHEMES, "pop3": POP3_SCHEMES}
LOCAL_SCHEMES = ("maildir", "mbox")
FORMS = (
    "imaps://USER@HOST[:PORT], imap://…, imap+plain://…, pop3s://…, pop3://…, pop3+plain://…, "
    "maildir:///PATH or mbox:///PATH"
)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_port(kind: str, security: Security) -> int:
    return next(port for sec, port in SCHEMES_BY_KIND[kind].values() if sec is security)


def needs_password(spec: AccountSpec) -> bool:
    """Whether to ask for a password before connecting.

    A command account usually starts a preauthenticated server (`* PREAUTH`); if its server
    asks for a login after all, the password is asked for then. An account signing in with
    OAuth2 needs a token instead (`oauth2.token_provider`).
    """
    return spec.kind in SCHEMES_BY_KIND and spec.oauth2 is None


def command_account(command: str, *, user: str = "", name: str = "") -> AccountSpec:
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


def parse_account_url(text: str) -> AccountSpec:
    """Parse one account URL; raises UsageError with the form expected."""
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise UsageError(f"not an account URL: {text!r}", f"use {FORMS} or a saved account name")
    if scheme in LOCAL_SCHEMES:
        path = unquote(rest)
        if not path.startswith("/"):
            raise UsageError(
                f"{scheme} URL needs an absolute path: {text!r}", f"write {scheme}:///full/path"
            )
        return AccountSpec(kind=scheme, path=path)
    userinfo = rest.split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo:  # checked first: no later error may repeat the password
        raise UsageError(
            "a password does not belong in an account URL",
            "set MAILMIG_SOURCE_PASSWORD / MAILMIG_TARGET_PASSWORD or use the keyring",
        )
    kind = "pop3" if scheme in POP3_SCHEMES else "imap"
    schemes = SCHEMES_BY_KIND[kind]
    if scheme not in schemes:
        raise UsageError(f"unknown account URL scheme {scheme!r} in {text!r}", f"use {FORMS}")
    parts = urlsplit(text)
    user = unquote(parts.username or "")
    host = parts.hostname or ""
    if not user:
        raise UsageError(f"the account URL has no user: {text!r}", f"write {scheme}://USER@HOST")
    if not host:
        raise UsageError(f"the account URL has no host: {text!r}", f"write {scheme}://USER@HOST")
    if parts.path not in ("", "/"):
        raise UsageError(f"unexpected path in account URL: {text!r}", f"use {FORMS}")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(
            f"bad port in account URL: {text!r}", "the port is a number from 1 to 65535"
        ) from None
    security, default = schemes[scheme]
    if port == 0:
        raise UsageError(f"bad port in account URL: {text!r}", "the port is a number 1-65535")
    return AccountSpec(kind=kind, user=user, host=host, port=port or default, security=security)


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
    plaintext = spec.kind in SCHEMES_BY_KIND and spec.security is Security.PLAIN
    if plaintext and not (spec.allow_plaintext or is_loopback(spec.host)):
        secure = (
            "pop3s:// or pop3:// (STLS)"
            if spec.kind == "pop3"
            else "imaps:// or imap:// (STARTTLS)"
        )
        raise UsageError(
            f"refusing to send a password unencrypted to {spec.host}",
            f"use {secure}, or pass --allow-plaintext if you must",
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
    """The URL form of a spec, for display and for the TUI's account list."""
    if spec.is_local:
        return f"{spec.kind}://{spec.path}"
    if spec.kind == "command":
        return spec.display  # not a URL: shown only, never parsed back
    schemes = SCHEMES_BY_KIND[spec.kind]
    scheme = {v[0]: k for k, v in schemes.items()}[spec.security]
    user = spec.user.replace("%", "%25").replace("@", "%40").replace(":", "%3A")
    default = schemes[scheme][1]
    port = "" if spec.port == default else f":{spec.port}"
    return f"{scheme}://{user}@{spec.host}{port}"
