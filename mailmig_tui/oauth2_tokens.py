"""Token providers: each is called for a valid access token and caches it until it is
within a minute of running out. One per account and process (`oauth2.token_provider`).

- `DeviceTokens`: the device authorisation grant (Microsoft), renewed with a refresh token;
- `BrowserTokens`: the PKCE browser sign-in (Google), renewed with a refresh token;
- `AppTokens`: app-only tokens, fetched anew when they run out (no refresh token):
  client credentials (microsoft-app) or a service account's signed JWT (google-service-account).

Refresh tokens live in a `TokenStore` (keyring, or an owner-only file with token_store =
"file"). `invalidate(token)` drops a token the IMAP server refused, so the next call fetches
a new one. Thread-safe: parallel connections share one provider and wait for one sign-in.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace

from mailmig_tui import oauth2_flow, oauth2_grants, oauth2_jwt, oauth2_pkce, secrets
from mailmig_tui.model import AccountSpec
from mailmig_tui.oauth2_flow import Clock, DeviceCodeCallback, Endpoints, Sleep, Tokens
from mailmig_tui.oauth2_secret import client_secret
from mailmig_tui.oauth2_store import TokenStore, store_for

Notice = Callable[[str], None]
REFRESH_MARGIN = 60.0
"""Renew an access token this many seconds before it runs out: a connection made with it
must not fail at login because the token expired on the way."""


def print_device_code(label: str) -> DeviceCodeCallback:
    """The CLI's way: both on stderr, so stdout stays clean for --json."""

    def show(verification_uri: str, user_code: str, expires_in: int) -> None:
        print(
            f"mailmig: OAuth2 sign-in for {label}: open {verification_uri} on any device and "
            f"enter the code {user_code} (valid {max(1, expires_in // 60)} minutes); waiting",
            file=sys.stderr,
            flush=True,
        )

    return show


def print_browser_url(label: str) -> oauth2_pkce.ShowUrl:
    def show(url: str, redirect_uri: str) -> None:
        print(
            f"mailmig: OAuth2 sign-in for {label}: open this URL in a browser:\n{url}\n"
            f"mailmig: waiting for the browser to come back to {redirect_uri} ; if it runs on "
            "another machine, paste the address it ends on here and press Enter:",
            file=sys.stderr,
            flush=True,
        )

    return show


def read_terminal_line(stop: threading.Event) -> str | None:
    """A line pasted into the terminal; None without one (a cron job, a pipe), at the end of
    input, or once `stop` is set (the browser came back to the listener first).

    Reads the descriptor with select(), never a blocking readline(): a reader that has lost
    the race must end, not sit on stdin for the rest of the run.
    """
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    fd = sys.stdin.fileno()
    pending = b""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], oauth2_pkce.STOP_POLL)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal hung up
            break
        if not chunk:  # end of input (Ctrl-D on an empty line)
            break
        pending += chunk
        if b"\n" in pending:
            return pending.partition(b"\n")[0].decode("utf-8", "replace")
    return pending.decode("utf-8", "replace") if pending and not stop.is_set() else None


def print_notice(text: str) -> None:
    print(f"mailmig: note: {text}", file=sys.stderr, flush=True)


_told: set[str] = set()


def tell_once(notice: Notice, text: str, key: str) -> None:
    if key not in _told:
        _told.add(key)
        notice(text)


def forget_notices() -> None:
    _told.clear()


class _CachedTokens(ABC):
    """The access token cache and its lock, shared by every kind of provider."""

    def __init__(self, spec: AccountSpec, endpoints: Endpoints, clock: Clock) -> None:
        self.spec = spec
        self.endpoints = endpoints
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: Tokens | None = None

    def __call__(self) -> str:
        with self._lock:
            tokens = self._tokens
            if tokens is not None and self.clock() < tokens.expires_at - REFRESH_MARGIN:
                return tokens.access_token
            tokens = self._fetch()
            self._keep(tokens)
            return tokens.access_token

    def invalidate(self, token: str) -> bool:
        """Drop `token` (the server refused it); True when a new one can be fetched."""
        with self._lock:
            if self._tokens is None or self._tokens.access_token != token:
                return self._tokens is not None  # another thread fetched a new one already
            self._tokens = None
            return True

    @abstractmethod
    def _fetch(self) -> Tokens:
        """A new access token: the grant of each kind of provider."""

    def _keep(self, tokens: Tokens) -> None:
        self._tokens = tokens


class AppTokens(_CachedTokens):
    """App-only access: a new token for every expiry, from the client credentials grant
    (a client secret or a certificate's signed assertion) or a service account's JWT."""

    def __init__(self, spec: AccountSpec, endpoints: Endpoints, clock: Clock = time.monotonic):
        super().__init__(spec, endpoints, clock)
        self._secret: str | None = None

    def _fetch(self) -> Tokens:
        endpoints = self.endpoints
        if endpoints.flow == "service_account":
            account = oauth2_jwt.service_account(endpoints.key_file)
            token_uri = endpoints.token_endpoint or account["token_uri"]
            assertion = oauth2_jwt.service_account_assertion(
                account | {"token_uri": token_uri}, self.spec.user, endpoints.scope
            )
            secrets.redact(assertion)
            where = replace(endpoints, token_endpoint=token_uri)
            return oauth2_grants.jwt_bearer(where, assertion, clock=self.clock)
        if endpoints.key_file:
            assertion = oauth2_jwt.client_assertion(
                endpoints.key_file, endpoints.client_id, endpoints.token_endpoint
            )
            secrets.redact(assertion)
            credential = oauth2_grants.ClientCredential(assertion=assertion)
        else:
            if self._secret is None:  # a secret command runs once per run, not per token
                self._secret = client_secret(endpoints, required=True)
            credential = oauth2_grants.ClientCredential(secret=self._secret)
        return oauth2_grants.client_credentials(endpoints, credential, clock=self.clock)


class UserTokens(_CachedTokens):
    """A user's sign-in, renewed with a refresh token kept in the token store."""

    def __init__(
        self,
        spec: AccountSpec,
        endpoints: Endpoints,
        *,
        on_notice: Notice = print_notice,
        cancel: threading.Event | None = None,
        clock: Clock = time.monotonic,
        store: TokenStore | None = None,
    ) -> None:
        super().__init__(spec, endpoints, clock)
        self.on_notice = on_notice
        self.cancel = cancel
        self.store = store or store_for(endpoints.token_store)
        self.key = f"oauth2:{spec.user}@{spec.host}"
        """The entry (keyring service "mailmig", or in the token file) of the refresh token."""
        self._refresh_token: str | None = None  # None: not looked up in the store yet

    def _fetch(self) -> Tokens:
        return self._renew() or self._sign_in()

    def _renew(self) -> Tokens | None:
        if self._refresh_token is None:
            stored, reason = self.store.load(self.key)
            self._refresh_token = stored or ""
            secrets.redact(self._refresh_token)
            if reason and self.endpoints.token_store == "file":
                self.on_notice(reason)
        if not self._refresh_token:
            return None
        try:
            return oauth2_flow.refresh(self.endpoints, self._refresh_token, clock=self.clock)
        except oauth2_flow.RefreshRefused as exc:
            # Revoked, expired or made for another client id: sign in afresh instead.
            self.on_notice(f"signing in again for {self.spec.display}: {exc.message}")
            self._refresh_token = ""
            self.store.delete(self.key)
            return None

    @abstractmethod
    def _sign_in(self) -> Tokens:
        """A fresh sign-in when no refresh token works: device code or browser."""

    def _keep(self, tokens: Tokens) -> None:
        super()._keep(tokens)
        if tokens.refresh_token and tokens.refresh_token != self._refresh_token:
            self._refresh_token = tokens.refresh_token
            reason = self.store.save(self.key, tokens.refresh_token)
            if reason:
                tell_once(
                    self.on_notice,
                    f"the OAuth2 sign-in is kept for this run only: {reason}; you will be "
                    'asked to sign in again next time (token_store = "file" under [settings] '
                    "keeps it in an owner-only file)",
                    "no-keyring",
                )


class DeviceTokens(UserTokens):
    """The device authorisation grant: a URL and a code for the operator."""

    def __init__(
        self,
        spec: AccountSpec,
        endpoints: Endpoints,
        *,
        on_device_code: DeviceCodeCallback | None = None,
        on_notice: Notice = print_notice,
        cancel: threading.Event | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        store: TokenStore | None = None,
    ) -> None:
        super().__init__(
            spec, endpoints, on_notice=on_notice, cancel=cancel, clock=clock, store=store
        )
        self.on_device_code = on_device_code or print_device_code(spec.display)
        self.sleep = sleep

    def _sign_in(self) -> Tokens:
        cancel = self.cancel

        def wait(seconds: float) -> None:
            if self.sleep is not None:
                self.sleep(seconds)
            elif cancel is not None:
                cancel.wait(seconds)  # returns at once when the TUI cancels
            else:
                time.sleep(seconds)

        return oauth2_flow.device_sign_in(
            self.endpoints, self.on_device_code, clock=self.clock, sleep=wait, cancel=cancel
        )


class BrowserTokens(UserTokens):
    """The PKCE browser sign-in: a URL to open, the redirect caught or pasted back."""

    def __init__(
        self,
        spec: AccountSpec,
        endpoints: Endpoints,
        *,
        show_url: oauth2_pkce.ShowUrl | None = None,
        read_line: oauth2_pkce.ReadLine | None = read_terminal_line,
        on_notice: Notice = print_notice,
        cancel: threading.Event | None = None,
        clock: Clock = time.monotonic,
        store: TokenStore | None = None,
    ) -> None:
        super().__init__(
            spec, endpoints, on_notice=on_notice, cancel=cancel, clock=clock, store=store
        )
        self.show_url = show_url or print_browser_url(spec.display)
        self.read_line = read_line
        self._secret: str | None = None

    def _renew(self) -> Tokens | None:
        self._with_secret()
        return super()._renew()

    def _with_secret(self) -> None:
        if self._secret is None:  # Google's desktop clients need theirs on every grant
            self._secret = client_secret(self.endpoints, required=False)
            self.endpoints = replace(self.endpoints, client_secret=self._secret)

    def _sign_in(self) -> Tokens:
        self._with_secret()
        return oauth2_pkce.browser_sign_in(
            self.endpoints,
            client_secret=self._secret or "",
            login_hint=self.spec.user,
            show_url=self.show_url,
            read_line=self.read_line,
            clock=self.clock,
            cancel=self.cancel,
        )
