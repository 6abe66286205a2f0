"""Account URLs and saved account names, turned into `AccountSpec`.

Forms (USER percent-encoded where it holds `@` or `:`):
  imaps://USER@HOST[:PORT]       TLS from the first byte, port 993
  imap://USER@HOST[:PORT]        STARTTLS, port 143; refused when the server lacks STARTTLS
  imap+plain://USER@HOST[:PORT]  no encryption: loopback only, or with --allow-plaintext
  maildir:///PATH                a local Maildir++ tree (read and write)
  mbox:///PATH                   a local mbox file or a directory of mbox files (read)
Anything without `://` is the name of a saved account in the config file.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from urllib.parse import unquote, urlsplit

from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec, Security, TlsOptions

SCHEMES = {
    "imaps": (Security.TLS, 993),
    "imap": (Security.STARTTLS, 143),
    "imap+plain": (Security.PLAIN, 143),
}
LOCAL_SCHEMES = ("maildir", "mbox")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_account_url(text: str) -> AccountSpec:
    """Parse one account URL; raises UsageError with the form expected."""
    forms = "imaps://USER@HOST[:PORT], imap://…, imap+plain://…, maildir:///PATH or mbox:///PATH"
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise UsageError(f"not an account URL: {text!r}", f"use {forms} or a saved account name")
    if scheme in LOCAL_SCHEMES:
        path = unquote(rest)
        if not path.startswith("/"):
            raise UsageError(
                f"{scheme} URL needs an absolute path: {text!r}", f"write {scheme}:///full/path"
            )
        return AccountSpec(kind=scheme, path=path)
    if scheme not in SCHEMES:
        raise UsageError(f"unknown account URL scheme {scheme!r} in {text!r}", f"use {forms}")
    parts = urlsplit(text)
    if parts.password is not None:
        raise UsageError(
            "a password does not belong in an account URL",
            "set MAILMIG_SOURCE_PASSWORD / MAILMIG_TARGET_PASSWORD or use the keyring",
        )
    user = unquote(parts.username or "")
    host = parts.hostname or ""
    if not user:
        raise UsageError(f"the account URL has no user: {text!r}", f"write {scheme}://USER@HOST")
    if not host:
        raise UsageError(f"the account URL has no host: {text!r}", f"write {scheme}://USER@HOST")
    if parts.path not in ("", "/"):
        raise UsageError(f"unexpected path in account URL: {text!r}", f"use {forms}")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(
            f"bad port in account URL: {text!r}", "the port is a number from 1 to 65535"
        ) from None
    security, default_port = SCHEMES[scheme]
    if port == 0:
        raise UsageError(f"bad port in account URL: {text!r}", "the port is a number 1-65535")
    return AccountSpec(
        kind="imap", user=user, host=host, port=port or default_port, security=security
    )


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
    plaintext = spec.kind == "imap" and spec.security is Security.PLAIN
    if plaintext and not (spec.allow_plaintext or is_loopback(spec.host)):
        raise UsageError(
            f"refusing to send a password unencrypted to {spec.host}",
            "use imaps:// or imap:// (STARTTLS), or pass --allow-plaintext if you must",
        )
    if spec.tls.ca_file:
        try:
            with open(spec.tls.ca_file, "rb"):
                pass
        except OSError as exc:
            raise UsageError(
                f"cannot read the CA file {spec.tls.ca_file}: {exc.strerror}",
                "give --ca-file a readable PEM file",
            ) from None
    return spec


def to_url(spec: AccountSpec) -> str:
    """The URL form of a spec, for display and for the TUI's account list."""
    if spec.is_local:
        return f"{spec.kind}://{spec.path}"
    scheme = {v[0]: k for k, v in SCHEMES.items()}[spec.security]
    user = spec.user.replace("%", "%25").replace("@", "%40").replace(":", "%3A")
    default = SCHEMES[scheme][1]
    port = "" if spec.port == default else f":{spec.port}"
    return f"{scheme}://{user}@{spec.host}{port}"
