"""OAuth2 sign-in for IMAP accounts (Microsoft 365, Gmail, any OAuth2 server) instead of a password.

An account signs in with OAuth2 when its `AccountSpec.oauth2` is set: from --source-oauth2 /
--target-oauth2 PROVIDER, a token command option, or a saved account's `oauth2` field. Its
access tokens come from one of two places:

- a token command (`--oauth2-token-command`, `oauth2_token_command = "..."`): run without a
  shell on every (re)connect; its stdout, stripped, is the access token;
- the device authorisation grant (RFC 8628) with the admin's own app registration (client id):
  the operator opens a URL on any device and types a code. The refresh token is kept in the
  keyring (service "mailmig", key "oauth2:USER@HOST"), or for this run only where there is no
  keyring; access tokens are renewed with it when within a minute of running out.

`token_provider(spec)` returns the account's provider, one per account and process, so the
engine's reconnects (Accounts.open_source/open_target -> open_store) share the cached token.
Calling it returns a valid access token, signing in first when needed.

This module never reads config.toml: whoever resolves an account (config.load_config, the
commands, the TUI) hands the [oauth2.PROVIDER] table in with `with_options(tables=...)`, and
the spec carries it (`OAuth2Spec.provider_table`) to wherever the sign-in happens.
"""

from __future__ import annotations

import os
import shlex
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from mailmig_tui import oauth2_flow, secrets
from mailmig_tui.errors import UsageError
from mailmig_tui.kinds import kind_of
from mailmig_tui.model import AccountSpec, OAuth2Spec
from mailmig_tui.oauth2_command import CommandTokens
from mailmig_tui.oauth2_flow import Clock, DeviceCodeCallback, Endpoints, Sleep, Tokens

TokenProvider = Callable[[], str]
"""Returns a valid access token; may sign in (device code) or run the token command."""
Notice = Callable[[str], None]


@dataclass(frozen=True)
class Provider:
    """A provider's endpoints; `{tenant}` in a URL is replaced by the account's tenant."""

    device_endpoint: str
    token_endpoint: str
    scope: str
    tenant: str = ""
    """The default tenant (Microsoft: "organizations", i.e. any work or school account)."""


BUILT_IN = {
    "microsoft": Provider(
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
        tenant="organizations",
    ),
    "google": Provider(
        "https://oauth2.googleapis.com/device/code",
        "https://oauth2.googleapis.com/token",
        "https://mail.google.com/",
    ),
}
TABLE_KEYS = ("client_id", "tenant", "device_authorization_endpoint", "token_endpoint", "scope")
"""Keys of an [oauth2.NAME] table in config.toml."""
CLIENT_SECRET_ENV = "MAILMIG_OAUTH2_CLIENT_SECRET"
"""Sent as client_secret where a server insists on one (never read from files or argv)."""
REFRESH_MARGIN = 60.0
"""Renew an access token this many seconds before it runs out: a connection made with it
must not fail at login because the token expired on the way."""
PROVIDER_HINT = "microsoft, google, or the name of an [oauth2.NAME] table in config.toml"


# -- resolving an account's settings ---------------------------------------------------------


def with_options(
    spec: AccountSpec,
    *,
    provider: str | None = None,
    client_id: str | None = None,
    tenant: str | None = None,
    token_command: str | None = None,
    tables: Mapping[str, Mapping[str, str]] | None = None,
    complete: bool = True,
) -> AccountSpec:
    """`spec` with command-line OAuth2 options laid over its saved ones, checked.

    A provider or a token command turns OAuth2 on; a client id or tenant alone does not.
    `complete=False` (a saved account) does not yet insist on a client id. `tables` are the
    config's [oauth2.NAME] tables: the provider's goes into the spec (`with_tables`), where
    signing in finds it; without them the spec keeps the table it carries.
    """
    current = spec.oauth2
    if current is None and not provider and not token_command:
        return spec
    current = current or OAuth2Spec()
    name = (provider or current.provider).lower()
    oauth2 = OAuth2Spec(
        provider=name,
        client_id=client_id or current.client_id,
        tenant=tenant or current.tenant,
        token_command=normalise_command(token_command) if token_command else current.token_command,
        # Only the same provider's table still applies.
        provider_table=current.provider_table if name == current.provider else None,
    )
    spec = replace(spec, oauth2=oauth2)
    if tables is not None:
        spec = with_tables(spec, tables)
    check(spec, complete=complete)
    return spec


def with_tables(spec: AccountSpec, tables: Mapping[str, Mapping[str, str]]) -> AccountSpec:
    """`spec` carrying its provider's table from `tables` (None in it when there is none)."""
    if spec.oauth2 is None:
        return spec
    table = tables.get(spec.oauth2.provider)
    carried = None if table is None else tuple((str(k), str(v)) for k, v in table.items())
    return replace(spec, oauth2=replace(spec.oauth2, provider_table=carried))


def _tables(
    spec: AccountSpec, tables: Mapping[str, Mapping[str, str]] | None
) -> Mapping[str, Mapping[str, str]]:
    """The tables given, else the one the spec carries."""
    if tables is not None:
        return tables
    assert spec.oauth2 is not None
    carried = spec.oauth2.provider_table
    return {} if carried is None else {spec.oauth2.provider: dict(carried)}


def normalise_command(command: str) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"cannot split the OAuth2 token command {command!r}: {exc}") from None
    if not argv:
        raise UsageError("the OAuth2 token command is empty", "give a command printing a token")
    return shlex.join(argv)


def check(
    spec: AccountSpec,
    tables: Mapping[str, Mapping[str, str]] | None = None,
    *,
    complete: bool = True,
) -> None:
    """Refuse what cannot work before anything connects; one clear line each.

    `tables` are the config's [oauth2.NAME] tables; without them, the one the spec carries.
    """
    if spec.oauth2 is None:
        return
    if not kind_of(spec).oauth2:
        raise UsageError(
            f"OAuth2 sign-in works with IMAP accounts, not with {spec.display}",
            "use an imaps:// or imap:// account, or sign in with a password",
        )
    if not spec.oauth2.token_command:
        if complete:
            endpoints(spec, tables)
        elif spec.oauth2.provider not in BUILT_IN and spec.oauth2.provider not in _tables(
            spec, tables
        ):
            raise UsageError(
                f"unknown OAuth2 provider {spec.oauth2.provider!r}", f"use {PROVIDER_HINT}"
            )


def endpoints(
    spec: AccountSpec, tables: Mapping[str, Mapping[str, str]] | None = None
) -> Endpoints:
    """The authorisation server for `spec`: its own fields, then [oauth2.PROVIDER] of the
    config file (from `tables`, else the table the spec carries), then the built-in ones."""
    assert spec.oauth2 is not None
    tables = _tables(spec, tables)
    oauth2 = spec.oauth2
    name = oauth2.provider
    if not name:
        raise UsageError(
            f"no OAuth2 provider for {spec.display}",
            f"give --source-oauth2 / --target-oauth2 PROVIDER ({PROVIDER_HINT})",
        )
    table = tables.get(name, {})
    built_in = BUILT_IN.get(name)
    if built_in is None and name not in tables:
        raise UsageError(f"unknown OAuth2 provider {name!r}", f"use {PROVIDER_HINT}")
    device = table.get("device_authorization_endpoint") or (built_in and built_in.device_endpoint)
    token = table.get("token_endpoint") or (built_in and built_in.token_endpoint)
    scope = table.get("scope") or (built_in and built_in.scope)
    if not (device and token and scope):
        raise UsageError(
            f"[oauth2.{name}] in config.toml lacks device_authorization_endpoint, "
            "token_endpoint or scope",
            "give all three (the server's .well-known/openid-configuration lists them)",
        )
    client_id = oauth2.client_id or table.get("client_id", "")
    if not client_id:
        raise UsageError(
            f"no OAuth2 client id for {name} ({spec.display})",
            f"register an app that allows the device code flow and give --oauth2-client-id, "
            f"or client_id under [oauth2.{name}] in config.toml",
        )
    tenant = oauth2.tenant or table.get("tenant") or (built_in.tenant if built_in else "")
    return Endpoints(
        provider=name,
        client_id=client_id,
        device_endpoint=device.replace("{tenant}", tenant),
        token_endpoint=token.replace("{tenant}", tenant),
        scope=scope,
        client_secret=os.environ.get(CLIENT_SECRET_ENV, ""),
        timeout=spec.timeout,
    )


# -- telling the operator --------------------------------------------------------------------


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


def print_notice(text: str) -> None:
    print(f"mailmig: note: {text}", file=sys.stderr, flush=True)


_told: set[str] = set()


def tell_once(notice: Notice, text: str, key: str) -> None:
    if key not in _told:
        _told.add(key)
        notice(text)


# -- tokens from the device flow --------------------------------------------------------------


class DeviceTokens:
    """Tokens from the device authorisation grant, renewed with a refresh token.

    Thread-safe: the engine's parallel connections share one provider, and a lock makes sure
    only one of them signs in or renews while the others wait for its token.
    """

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
    ) -> None:
        self.spec = spec
        self.endpoints = endpoints
        self.on_device_code = on_device_code or print_device_code(spec.display)
        self.on_notice = on_notice
        self.cancel = cancel
        self.clock = clock
        self.sleep = sleep
        self.key = f"oauth2:{spec.user}@{spec.host}"
        """The keyring entry (service "mailmig") holding the refresh token."""
        self._lock = threading.Lock()
        self._tokens: Tokens | None = None
        self._refresh_token: str | None = None  # None: not looked up in the keyring yet

    def __call__(self) -> str:
        with self._lock:
            tokens = self._tokens
            if tokens is not None and self.clock() < tokens.expires_at - REFRESH_MARGIN:
                return tokens.access_token
            tokens = self._renew() or self._sign_in()
            self._keep(tokens)
            return tokens.access_token

    def _renew(self) -> Tokens | None:
        if self._refresh_token is None:
            stored, _reason = secrets.keyring_lookup(self.key)
            self._refresh_token = stored or ""
            secrets.redact(self._refresh_token)
        if not self._refresh_token:
            return None
        try:
            return oauth2_flow.refresh(self.endpoints, self._refresh_token, clock=self.clock)
        except oauth2_flow.RefreshRefused as exc:
            # Revoked, expired or made for another client id: sign in afresh instead.
            self.on_notice(f"signing in again for {self.spec.display}: {exc.message}")
            self._refresh_token = ""
            secrets.keyring_delete(self.key)
            return None

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

    def _keep(self, tokens: Tokens) -> None:
        self._tokens = tokens
        if tokens.refresh_token and tokens.refresh_token != self._refresh_token:
            self._refresh_token = tokens.refresh_token
            reason = secrets.keyring_store(self.key, tokens.refresh_token)
            if reason:
                tell_once(
                    self.on_notice,
                    f"the OAuth2 sign-in is kept for this run only: {reason}; "
                    "you will be asked to sign in again next time",
                    "no-keyring",
                )


# -- one provider per account and process ----------------------------------------------------

_providers: dict[tuple[str, OAuth2Spec], TokenProvider] = {}
_providers_lock = threading.Lock()


def token_provider(
    spec: AccountSpec,
    *,
    on_device_code: DeviceCodeCallback | None = None,
    on_notice: Notice | None = None,
    cancel: threading.Event | None = None,
) -> TokenProvider:
    """The account's token provider, made on first use and shared by every connection.

    The TUI passes `on_device_code` (and `on_notice`, `cancel`) to show the sign-in its way;
    they replace the ones of an existing device-code provider.
    """
    if spec.oauth2 is None:
        raise ValueError(f"{spec.display} does not sign in with OAuth2")
    key = (spec.identity, spec.oauth2)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            check(spec)
            if spec.oauth2.token_command:
                provider = CommandTokens(spec, spec.oauth2.token_command)
            else:
                provider = DeviceTokens(spec, endpoints(spec))
            _providers[key] = provider
    if isinstance(provider, DeviceTokens):
        provider.on_device_code = on_device_code or provider.on_device_code
        provider.on_notice = on_notice or provider.on_notice
        provider.cancel = cancel or provider.cancel
    return provider


def register(spec: AccountSpec, provider: TokenProvider) -> None:
    """Use `provider` for `spec` (tests, and callers that build their own)."""
    assert spec.oauth2 is not None
    with _providers_lock:
        _providers[(spec.identity, spec.oauth2)] = provider


def forget_all() -> None:
    """Drop every provider and cached token (tests; a TUI "sign out")."""
    with _providers_lock:
        _providers.clear()
        _told.clear()
