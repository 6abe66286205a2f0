"""Connecting to a mail server: TLS, STARTTLS, login, and what every failure means.

Socket, TLS and IMAP exceptions from imapclient become our one-line errors here, so that an
operator reads "the TLS certificate of mail:993 is not trusted (…)" and what to do about it.
The POP3 store and IMAP over a command reuse the TLS context and the error mapping. OAuth2
accounts sign in with SASL OAUTHBEARER (RFC 7628) or XOAUTH2 instead of LOGIN.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import logging
import socket
import ssl
from collections.abc import Iterator

import imapclient
import imapclient.exceptions
import imapclient.imap4
import imapclient.tls

from mailmig_tui.errors import (
    AuthError,
    ConnectError,
    MailmigError,
    OAuth2Refused,
    ProtocolError,
    TimeoutError_,
    TLSError,
)
from mailmig_tui.kinds import IMAP, HostKind, kind_of
from mailmig_tui.model import AccountSpec, Security


def _host_kind(spec: AccountSpec) -> HostKind:
    """The server kind the spec names; a command account speaks IMAP."""
    kind = kind_of(spec)
    return kind if isinstance(kind, HostKind) else IMAP


def tls_context(spec: AccountSpec) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=None)
    if spec.tls.ca_file:
        context.load_verify_locations(cafile=spec.tls.ca_file)
    if spec.tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect_error(spec: AccountSpec, exc: BaseException) -> MailmigError:
    """Turn a socket/TLS/IMAP exception from connecting into a one-line error."""
    where = f"{spec.host}:{spec.port}" if spec.port else spec.host
    kind = _host_kind(spec)
    protocol, ports = kind.protocol, kind.ports_text()
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or str(exc)
        if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
            what = f"the TLS certificate of {where} does not match the host name {spec.host}"
            hint = "connect with the name the certificate was issued for"
        else:
            what = f"the TLS certificate of {where} is not trusted ({reason})"
            hint = "pass --ca-file with the server's CA, or --insecure to skip verification"
        return TLSError(what, hint)
    if isinstance(exc, ssl.SSLError):
        return TLSError(
            f"TLS handshake with {where} failed ({exc.reason or exc})",
            f"check that the port speaks TLS ({ports})",
        )
    if isinstance(exc, socket.gaierror):
        return ConnectError(f"unknown host {spec.host}", "check the host name in the account")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(
            f"connection refused by {where}", f"check the port and that the {protocol} server runs"
        )
    if isinstance(exc, socket.timeout | TimeoutError):
        return TimeoutError_(f"no answer from {where} within {spec.timeout:g} s")
    closed = imaplib.IMAP4.abort | imapclient.exceptions.IMAPClientAbortError | EOFError
    if isinstance(exc, closed):
        return ConnectError(
            f"{where} closed the connection ({exc})",
            f"check that the port speaks {protocol} and the server accepts us",
        )
    if isinstance(exc, OSError):
        return ConnectError(f"cannot reach {where}: {exc.strerror or exc}", "check the network")
    return ProtocolError(f"{where}: {exc}", "run with --debug and report it")


def starttls_missing(spec: AccountSpec) -> TLSError:
    kind = _host_kind(spec)
    scheme = f"{kind.scheme_for(Security.TLS)}:// (port {kind.default_port(Security.TLS)})"
    return TLSError(
        f"{spec.host}:{spec.port} does not offer {kind.starttls_command}",
        f"use {scheme}; we never fall back to plaintext",
    )


def login_refused(spec: AccountSpec, text: str) -> AuthError:
    return AuthError(
        f"{spec.host} refused the login for {spec.user}" + (f": {text}" if text else "")
    )


@contextlib.contextmanager
def shut_on_error(client: imapclient.IMAPClient, spec: AccountSpec) -> Iterator[None]:
    """Close `client` when the block fails, turning the failure into one of our errors."""
    try:
        yield
    except MailmigError:
        shutdown(client)
        raise
    except imapclient.exceptions.LoginError as exc:
        shutdown(client)
        raise login_refused(spec, server_text(exc)) from None
    except Exception as exc:
        shutdown(client)
        raise connect_error(spec, exc) from None


def ready(client: imapclient.IMAPClient) -> imapclient.IMAPClient:
    """Settings every logged-in connection of ours needs."""
    # Timezone-aware INTERNALDATEs: naive local times would shift dates on the target.
    client.normalise_times = False
    if not logging.getLogger("imapclient").isEnabledFor(logging.DEBUG):
        # imapclient sets imaplib's debug level to 5, which formats a repr of every response,
        # message bodies included, before the logger discards it: most of our CPU time.
        client._imap.debug = 0
    return client


def open_client(
    spec: AccountSpec, password: str, *, oauth2_token: str | None = None
) -> imapclient.IMAPClient:
    """A logged-in imapclient connection; every failure becomes one of our errors.

    With `oauth2_token` it signs in by SASL OAUTHBEARER or XOAUTH2 instead of LOGIN.
    """
    timeout = imapclient.SocketTimeout(connect=spec.timeout, read=spec.timeout)
    try:
        client = _Client(
            spec.host,
            port=spec.port,
            ssl=spec.security is Security.TLS,
            ssl_context=tls_context(spec),
            timeout=timeout,
        )
    except Exception as exc:
        raise connect_error(spec, exc) from None
    with shut_on_error(client, spec):
        if spec.security is Security.STARTTLS:
            if b"STARTTLS" not in client.capabilities():
                raise starttls_missing(spec)
            client.starttls(tls_context(spec))
        if oauth2_token is None and spec.login_as:
            if b"AUTH=PLAIN" not in client.capabilities():
                raise AuthError(
                    f"{spec.host} offers no SASL PLAIN, needed to open {spec.login_as}'s "
                    f"mailbox as {spec.user}",
                    "use the server's master-user login form instead (Dovecot: USER*MASTER)",
                )
            client.plain_login(spec.user, password, spec.login_as)
        elif oauth2_token is None:
            client.login(spec.user, password)
        else:
            authenticate_oauth2(client, spec, oauth2_token)
    return ready(client)


class _GreetedCapabilities(imaplib.IMAP4):
    """imaplib asks CAPABILITY right after the greeting, a round trip per connection that a
    server announcing `[CAPABILITY ...]` in its greeting (RFC 3501 7.1) has answered
    already; the list is taken from there. Only for the greeting: after STARTTLS it is
    asked again, as RFC 3501 6.2.1 requires."""

    _greeting_seen = False

    def _get_capabilities(self) -> None:
        if not self._greeting_seen:
            self._greeting_seen = True
            said = self.untagged_responses.pop("CAPABILITY", None)
            if said and isinstance(said[-1], bytes) and said[-1].strip():
                self.capabilities = tuple(said[-1].decode("ascii", "replace").upper().split())
                return
        super()._get_capabilities()  # type: ignore[misc]


# imapclient's classes first, for their constructors; neither defines _get_capabilities.
class _PlainConnection(imapclient.imap4.IMAP4WithTimeout, _GreetedCapabilities):  # type: ignore[misc]
    pass


class _TlsConnection(imapclient.tls.IMAP4_TLS, _GreetedCapabilities):  # type: ignore[misc]
    pass


class _Client(imapclient.IMAPClient):  # type: ignore[misc]
    """IMAPClient over the connections above."""

    def _create_IMAP4(self) -> imaplib.IMAP4:
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            # mypy sees imaplib's constructor: imapclient's classes are untyped to it
            tls = _TlsConnection(self.host, self.port, self.ssl_context, connect_timeout)  # type: ignore[call-arg]
            return tls
        return _PlainConnection(self.host, self.port, connect_timeout)


class _OAuth2Exchange:
    """The client side of RFC 7628 (OAUTHBEARER) and Google's XOAUTH2, for imaplib.

    The first challenge gets the credentials. A failure comes as a second challenge holding
    a JSON error, which the client must answer with a dummy (RFC 7628 3.2.3: %x01;
    XOAUTH2: an empty line) before the server's NO; imapclient's own helpers would send the
    token again instead.
    """

    def __init__(self, mechanism: str, user: str, token: str) -> None:
        self.mechanism = mechanism
        if mechanism == "OAUTHBEARER":
            authzid = user.replace("=", "=3D").replace(",", "=2C")
            self.initial = f"n,a={authzid},\x01auth=Bearer {token}\x01\x01".encode()
        else:
            self.initial = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
        self.sent = False
        self.error = ""

    def __call__(self, challenge: bytes) -> bytes:
        if not self.sent:
            self.sent = True
            return self.initial
        with contextlib.suppress(ValueError):
            said = json.loads(challenge)
            if isinstance(said, dict):
                self.error = str(said.get("status") or said.get("error") or "")
        return b"\x01" if self.mechanism == "OAUTHBEARER" else b""


def authenticate_oauth2(client: imapclient.IMAPClient, spec: AccountSpec, token: str) -> None:
    """AUTHENTICATE with an access token: OAUTHBEARER where offered, else XOAUTH2."""
    offered = {bytes(c).upper() for c in client.capabilities()}
    if b"AUTH=OAUTHBEARER" in offered:
        mechanism = "OAUTHBEARER"
    elif b"AUTH=XOAUTH2" in offered:
        mechanism = "XOAUTH2"
    else:
        raise AuthError(
            f"{spec.host} does not offer OAuth2 sign-in (AUTH=OAUTHBEARER or AUTH=XOAUTH2)",
            "sign in to it with a password instead",
        )
    exchange = _OAuth2Exchange(mechanism, spec.user, token)
    try:
        client._imap.authenticate(mechanism, exchange)
    except imaplib.IMAP4.abort:
        raise  # a lost connection, not a refusal: shut_on_error says which
    except imaplib.IMAP4.error as exc:
        said = server_text(exc).rstrip(".")
        if exchange.error and exchange.error not in said:  # RFC 7628's status, e.g. invalid_token
            said += f"; {exchange.error}"
        raise OAuth2Refused(
            f"{spec.host} refused the OAuth2 sign-in ({mechanism}) for {spec.user}: {said}",
            "the token must be for this user and allow IMAP; for Microsoft 365 the scope "
            "IMAP.AccessAsUser.All, and IMAP enabled for the mailbox",
        ) from None


def server_text(exc: BaseException) -> str:
    """The server's words from an imapclient error, without its prefix and bytes repr."""
    text = str(exc)
    if text.startswith(("b'", 'b"')) and text[-1:] in ("'", '"'):
        text = text[2:-1]
    _head, sep, tail = text.partition(" failed: ")
    text = tail if sep else text
    for quote in ("b'", 'b"'):
        if text.startswith(quote) and text.endswith(quote[1]):
            text = text[2:-1]
    return text.strip()


def shutdown(client: imapclient.IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()
