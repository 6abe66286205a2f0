"""OAuth2 sign-in for IMAP accounts (Microsoft 365, Gmail, any OAuth2 server) instead of a password.

An account signs in with OAuth2 when its `AccountSpec.oauth2` is set: from --source-oauth2 /
--target-oauth2 PROVIDER, a token command option, or a saved account's `oauth2` field. Its
access tokens come from a token command (run on every connect, `oauth2_command.py`) or from
the provider's flow (`FLOWS`; the token providers are in `oauth2_tokens.py`):

- `microsoft`: the device authorisation grant (RFC 8628): the operator opens a URL on any
  device and types a code;
- `microsoft-app`: app-only access (client credentials) with a client secret or a
  certificate: no user signs in, the XOAUTH2 user is the mailbox's address;
- `google`: the browser sign-in with PKCE and a loopback redirect (`oauth2_pkce.py`). Google's
  device flow refuses the Gmail scope, so a device flow against Google is refused up front;
- `google-service-account`: a Workspace service account with domain-wide delegation.

Refresh tokens go to the keyring (service "mailmig", key "oauth2:USER@HOST"), or with
token_store = "file" to an owner-only file (`oauth2_store.py`).

`token_provider(spec)` returns the account's provider, one per account and process, so the
engine's reconnects (Accounts.open_source/open_target -> open_store) share the cached token.
`connect(spec, open_with)` signs in and retries once with a new token when the server refuses
a cached one.

This module never reads config.toml: whoever resolves an account (config.load_config, the
commands, the TUI) hands the [oauth2.PROVIDER] table in with `with_options(tables=...)`, and
the spec carries it (`OAuth2Spec.provider_table`) to wherever the sign-in happens.
"""

from __future__ import annotations

import os
import shlex
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from mailmig_tui.errors import AuthError, OAuth2Refused, UsageError
from mailmig_tui.kinds import kind_of
from mailmig_tui.model import AccountSpec, OAuth2Spec
from mailmig_tui.oauth2_command import CommandTokens
from mailmig_tui.oauth2_flow import DeviceCodeCallback, Endpoints
from mailmig_tui.oauth2_providers import BUILT_IN, FLOWS, Provider
from mailmig_tui.oauth2_secret import CLIENT_SECRET_ENV
from mailmig_tui.oauth2_store import STORES
from mailmig_tui.oauth2_tokens import (
    REFRESH_MARGIN,
    AppTokens,
    BrowserTokens,
    DeviceTokens,
    Notice,
    UserTokens,
    forget_notices,
    print_device_code,
    print_notice,
    tell_once,
)

__all__ = [
    "BUILT_IN",
    "CLIENT_SECRET_ENV",
    "FLOWS",
    "REFRESH_MARGIN",
    "STORES",
    "AppTokens",
    "BrowserTokens",
    "DeviceTokens",
    "Provider",
    "UserTokens",
    "print_device_code",
    "print_notice",
    "tell_once",
]

TokenProvider = Callable[[], str]
"""Returns a valid access token; may sign in (device code, browser) or run the token command."""
T = TypeVar("T")

TABLE_KEYS = (
    "client_id",
    "tenant",
    "flow",
    "device_authorization_endpoint",
    "authorization_endpoint",
    "token_endpoint",
    "scope",
    "client_secret_command",
    "key_file",
    "token_store",
)
"""Keys of an [oauth2.NAME] table in config.toml."""
ACCOUNT_KEYS = (
    "oauth2",
    "oauth2_client_id",
    "oauth2_tenant",
    "oauth2_token_command",
    "oauth2_client_secret_command",
    "oauth2_key_file",
    "token_store",
)
"""The OAuth2 keys of an [accounts.NAME] table."""
SETTINGS_KEYS = ("token_store",)
"""The OAuth2 keys of [settings]."""
PROVIDER_HINT = (
    "microsoft, microsoft-app, google, google-service-account, or the name of an "
    "[oauth2.NAME] table in config.toml"
)
GOOGLE_DEVICE_REFUSED = (
    "Google's device flow refuses the Gmail scope (https://mail.google.com/), so it cannot "
    "sign in to Gmail"
)
GOOGLE_DEVICE_HINT = (
    "use --source-oauth2 google (a browser sign-in that works over SSH) or "
    "google-service-account; remove device_authorization_endpoint from the table"
)


# -- resolving an account's settings ---------------------------------------------------------


def with_options(
    spec: AccountSpec,
    *,
    provider: str | None = None,
    client_id: str | None = None,
    tenant: str | None = None,
    token_command: str | None = None,
    client_secret_command: str | None = None,
    key_file: str | None = None,
    token_store: str | None = None,
    tables: Mapping[str, Mapping[str, str]] | None = None,
    complete: bool = True,
) -> AccountSpec:
    """`spec` with command-line OAuth2 options laid over its saved ones, checked.

    A provider or a token command turns OAuth2 on; the other options alone do not.
    `complete=False` (a saved account) does not yet insist on a client id. `tables` are the
    config's [oauth2.NAME] tables: the provider's goes into the spec (`with_tables`), where
    signing in finds it; without them the spec keeps the table it carries.
    """
    current = spec.oauth2
    if current is None and not provider and not token_command:
        return spec
    current = current or OAuth2Spec()
    name = (provider or current.provider).lower()
    if token_store and token_store not in STORES:
        raise UsageError(
            f"token_store must be keyring or file, not {token_store!r}",
            'write token_store = "file" for an owner-only file in the state directory',
        )
    oauth2 = OAuth2Spec(
        provider=name,
        client_id=client_id or current.client_id,
        tenant=tenant or current.tenant,
        token_command=normalise_command(token_command) if token_command else current.token_command,
        client_secret_command=normalise_command(client_secret_command, "client secret")
        if client_secret_command
        else current.client_secret_command,
        key_file=key_file or current.key_file,
        token_store=token_store or current.token_store,
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


def normalise_command(command: str, what: str = "token") -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"cannot split the OAuth2 {what} command {command!r}: {exc}") from None
    if not argv:
        raise UsageError(f"the OAuth2 {what} command is empty", f"give a command printing a {what}")
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


def _is_google(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host == "googleapis.com" or host.endswith((".googleapis.com", ".google.com"))


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
    base = built_in or Provider("device", "", "")
    device = table.get("device_authorization_endpoint") or base.device_endpoint
    flow = table.get("flow") or base.flow
    if name == "google" and device:  # an old [oauth2.google] table made for the device flow
        flow = "device"
    if flow not in FLOWS:
        raise UsageError(f"[oauth2.{name}] has flow = {flow!r}", "use one of: " + ", ".join(FLOWS))
    token = table.get("token_endpoint") or base.token_endpoint
    authorize = table.get("authorization_endpoint") or base.authorization_endpoint
    scope = table.get("scope") or base.scope
    if flow == "device" and (_is_google(device) or _is_google(token)):
        raise UsageError(GOOGLE_DEVICE_REFUSED, GOOGLE_DEVICE_HINT)
    needed: dict[str, str] = {
        "device": {"device_authorization_endpoint": device, "token_endpoint": token},
        "authorization_code": {"authorization_endpoint": authorize, "token_endpoint": token},
        "client_credentials": {"token_endpoint": token},
        "service_account": {},
    }[flow] | {"scope": scope}
    missing = [key for key, value in needed.items() if not value]
    if missing:
        raise UsageError(
            f"[oauth2.{name}] in config.toml lacks " + ", ".join(missing),
            "give them (the server's .well-known/openid-configuration lists them)",
        )
    key_file = oauth2.key_file or table.get("key_file", "")
    client_id = oauth2.client_id or table.get("client_id", "")
    if not client_id and flow != "service_account":
        raise UsageError(
            f"no OAuth2 client id for {name} ({spec.display})",
            f"register an app and give --oauth2-client-id, or client_id under [oauth2.{name}] "
            "in config.toml",
        )
    tenant = oauth2.tenant or table.get("tenant") or base.tenant
    if "{tenant}" in token and not tenant:
        raise UsageError(
            f"{name} needs your tenant ({spec.display})",
            f"give --oauth2-tenant contoso.com (or its id), or tenant under [oauth2.{name}]",
        )
    if flow == "service_account" and not key_file:
        raise UsageError(
            f"{name} needs the service account's JSON key ({spec.display})",
            f"give --oauth2-key-file FILE, or key_file under [oauth2.{name}]",
        )
    token_store = oauth2.token_store or table.get("token_store") or "keyring"
    return Endpoints(
        provider=name,
        client_id=client_id,
        device_endpoint=device.replace("{tenant}", tenant),
        token_endpoint=token.replace("{tenant}", tenant),
        scope=scope,
        client_secret=os.environ.get(CLIENT_SECRET_ENV, ""),
        timeout=spec.timeout,
        flow=flow,
        authorization_endpoint=authorize.replace("{tenant}", tenant),
        key_file=key_file,
        client_secret_command=oauth2.client_secret_command
        or table.get("client_secret_command", ""),
        token_store=token_store if token_store in STORES else "keyring",
    )


def signs_in_alone(spec: AccountSpec) -> bool:
    """True when no person takes part in the sign-in (a token command, app-only access), so
    a test login can run unseen (the TUI's account form)."""
    if spec.oauth2 is None or spec.oauth2.token_command:
        return True
    return endpoints(spec).flow in ("client_credentials", "service_account")


# -- one provider per account and process ----------------------------------------------------

_providers: dict[tuple[str, OAuth2Spec], TokenProvider] = {}
_providers_lock = threading.Lock()


def _new_provider(spec: AccountSpec) -> TokenProvider:
    assert spec.oauth2 is not None
    if spec.oauth2.token_command:
        return CommandTokens(spec, spec.oauth2.token_command)
    where = endpoints(spec)
    if where.flow in ("client_credentials", "service_account"):
        return AppTokens(spec, where)
    if where.flow == "authorization_code":
        return BrowserTokens(spec, where)
    return DeviceTokens(spec, where)


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
            provider = _new_provider(spec)
            _providers[key] = provider
    if isinstance(provider, DeviceTokens):
        provider.on_device_code = on_device_code or provider.on_device_code
    if isinstance(provider, UserTokens):
        provider.on_notice = on_notice or provider.on_notice
        provider.cancel = cancel or provider.cancel
    return provider


def connect(spec: AccountSpec, open_with: Callable[[str], T]) -> T:
    """`open_with(access token)`, signing in first; when the server refuses a token this
    provider cached, it is dropped and the connection tried once more with a new one."""
    provider = token_provider(spec)
    token = provider()
    try:
        return open_with(token)
    except OAuth2Refused as refused:
        invalidate = getattr(provider, "invalidate", None)
        if invalidate is None or not invalidate(token):
            raise  # a token command's token is its own business: it runs on every connect
        try:
            return open_with(provider())
        except OAuth2Refused as again:
            raise AuthError(f"{again.message} (also with a new token)", refused.hint) from None


def register(spec: AccountSpec, provider: TokenProvider) -> None:
    """Use `provider` for `spec` (tests, and callers that build their own)."""
    assert spec.oauth2 is not None
    with _providers_lock:
        _providers[(spec.identity, spec.oauth2)] = provider


def forget_all() -> None:
    """Drop every provider and cached token (tests; a TUI "sign out")."""
    with _providers_lock:
        _providers.clear()
        forget_notices()
