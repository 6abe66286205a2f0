"""OAuth2 over HTTP with the standard library: the device authorisation grant (RFC 8628) and
refresh_token grants (RFC 6749 section 6).

Everything here blocks and knows nothing of terminals: `device_sign_in` hands the URL and code
to a callback and waits with an injected `sleep` and `clock`, so tests need no real time.
Every failure is one of our one-line errors; tokens and device codes are registered with
`secrets.redact` the moment they arrive, so no log line or error message can show them.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailmig_tui import secrets
from mailmig_tui.accounts import is_loopback
from mailmig_tui.errors import AuthError, ConnectError, ProtocolError, TimeoutError_, UsageError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5
"""RFC 8628 3.5: after slow_down, poll 5 seconds less often, for good."""

DeviceCodeCallback = Callable[[str, str, int], None]
"""(verification_uri, user_code, expires_in seconds): show them to the operator."""
Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Endpoints:
    """One authorisation server, fully resolved for one account."""

    provider: str
    """Named in messages ("microsoft", "google", a config table's name)."""
    client_id: str
    device_endpoint: str
    token_endpoint: str
    scope: str
    client_secret: str = ""
    """Only for servers that insist (Google's device clients); from the environment."""
    timeout: float = 30.0
    flow: str = "device"
    """How the operator (or the app) signs in: see `oauth2.FLOWS`."""
    authorization_endpoint: str = ""
    """Where the browser goes (authorization code flow)."""
    key_file: str = ""
    """A PEM with certificate and private key (microsoft-app), or a service account's JSON
    key (google-service-account)."""
    client_secret_command: str = ""
    """A command printing the client secret (run without a shell), normalised."""
    token_store: str = "keyring"
    """Where refresh tokens are kept: "keyring", or "file" (owner-only, in the state dir)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: float
    """When the access token runs out, on the caller's clock."""
    refresh_token: str = ""


class RefreshRefused(AuthError):
    """The refresh token is no longer accepted (revoked, expired, another client id)."""


@dataclass(frozen=True)
class _DeviceCode:
    device_code: str
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int


def post_form(url: str, form: dict[str, str], *, timeout: float) -> tuple[int, dict[str, Any]]:
    """POST a form and return (HTTP status, JSON object); error statuses are returned too,
    since OAuth2 errors are JSON answers with status 400 (Google: 403, 428)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or url
    loopback = is_loopback(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise UsageError(
            f"refusing the OAuth2 endpoint {url}: tokens travel only over https",
            "use an https:// URL (http:// only to a loopback address)",
        )
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode("ascii"),
        headers={"Accept": "application/json"},
        method="POST",
    )
    # Corporate proxies from the environment apply, except to a local server.
    opener = urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if loopback else []))
    try:
        with opener.open(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TimeoutError_(f"no answer from {host} within {timeout:g} s") from None
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        raise ConnectError(
            f"cannot reach the OAuth2 server {host}: {reason}", "check the network and the URL"
        ) from None
    except TimeoutError:
        raise TimeoutError_(f"no answer from {host} within {timeout:g} s") from None
    except OSError as exc:
        raise ConnectError(f"cannot reach the OAuth2 server {host}: {exc}") from None
    except http.client.HTTPException as exc:
        raise ProtocolError(f"{host} broke off the HTTP exchange ({exc!r})") from None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProtocolError(
            f"{host} answered HTTP {status} without a JSON object", "check the OAuth2 endpoint URL"
        )
    return status, data


def failure(endpoints: Endpoints, data: dict[str, Any], status: int, doing: str) -> AuthError:
    """A one-line error from an OAuth2 error answer, with what the operator can do about it."""
    error = str(data.get("error") or f"HTTP {status}")
    # Microsoft appends trace and correlation ids on further lines: the first line says it.
    said = str(data.get("error_description") or "").strip().splitlines()
    detail = f": {said[0][:200]}" if said else ""
    hint = {
        "invalid_client": "check the client id; the app registration must allow public "
        "client (device code) flows",
        "unauthorized_client": "the app registration must allow the device code flow "
        "(Microsoft: Authentication > Allow public client flows)",
        "invalid_scope": "the server refuses this scope for this sign-in; for Google use "
        "--source-oauth2 google (the browser sign-in) or google-service-account",
        "invalid_request": "check the client id and, for Microsoft, the tenant",
    }.get(error, "check the OAuth2 settings of the account")
    return AuthError(f"{endpoints.provider} refused {doing} ({error}{detail})", hint)


def tokens_from(endpoints: Endpoints, data: dict[str, Any], now: float) -> Tokens:
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise ProtocolError(f"{endpoints.provider} answered without an access token")
    secrets.redact(access)
    refresh = data.get("refresh_token")
    refresh = refresh if isinstance(refresh, str) else ""
    secrets.redact(refresh)
    try:
        lifetime = float(data.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return Tokens(access, now + lifetime, refresh)


def _client_form(endpoints: Endpoints) -> dict[str, str]:
    form = {"client_id": endpoints.client_id}
    if endpoints.client_secret:
        form["client_secret"] = endpoints.client_secret
    return form


def refresh(endpoints: Endpoints, refresh_token: str, *, clock: Clock) -> Tokens:
    """New tokens for a refresh token; keeps the old refresh token unless a new one comes."""
    form = _client_form(endpoints) | {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "scope": endpoints.scope,
    }
    status, data = post_form(endpoints.token_endpoint, form, timeout=endpoints.timeout)
    if status != 200 or "error" in data:
        error = failure(endpoints, data, status, "to renew the sign-in")
        if data.get("error") in ("invalid_grant", "interaction_required", "consent_required"):
            raise RefreshRefused(error.message, error.hint)
        raise error
    tokens = tokens_from(endpoints, data, clock())
    if not tokens.refresh_token:
        tokens = Tokens(tokens.access_token, tokens.expires_at, refresh_token)
    return tokens


def _device_code(endpoints: Endpoints) -> _DeviceCode:
    form = _client_form(endpoints) | {"scope": endpoints.scope}
    status, data = post_form(endpoints.device_endpoint, form, timeout=endpoints.timeout)
    if status != 200 or "error" in data:
        raise failure(endpoints, data, status, "the device sign-in")
    # Google says verification_url, RFC 8628 and Microsoft verification_uri.
    uri = data.get("verification_uri") or data.get("verification_url")
    device_code, user_code = data.get("device_code"), data.get("user_code")
    if not (isinstance(device_code, str) and isinstance(user_code, str) and isinstance(uri, str)):
        raise ProtocolError(
            f"{endpoints.provider} answered the device sign-in without a code and a URL",
            "check the device authorization endpoint",
        )
    secrets.redact(device_code)
    try:
        expires_in = int(data.get("expires_in", 900))
        interval = max(1, int(data.get("interval", 5)))
    except (TypeError, ValueError):
        raise ProtocolError(f"{endpoints.provider} sent a malformed device code answer") from None
    return _DeviceCode(device_code, user_code, uri, expires_in, interval)


def device_sign_in(
    endpoints: Endpoints,
    on_device_code: DeviceCodeCallback,
    *,
    clock: Clock,
    sleep: Sleep,
    cancel: threading.Event | None = None,
) -> Tokens:
    """Run the device authorisation grant: show the code, poll until the operator signed in."""
    code = _device_code(endpoints)
    on_device_code(code.verification_uri, code.user_code, code.expires_in)
    deadline = clock() + code.expires_in
    interval = code.interval
    form = _client_form(endpoints) | {"grant_type": DEVICE_GRANT, "device_code": code.device_code}
    while True:
        sleep(interval)
        if cancel is not None and cancel.is_set():
            raise AuthError(f"the {endpoints.provider} sign-in was cancelled", "")
        if clock() >= deadline:
            raise _expired(endpoints)
        status, data = post_form(endpoints.token_endpoint, form, timeout=endpoints.timeout)
        error = data.get("error")
        if status == 200 and not error:
            return tokens_from(endpoints, data, clock())
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        if error in ("access_denied", "authorization_declined"):
            raise AuthError(
                f"the {endpoints.provider} sign-in was declined at {code.verification_uri}",
                "run again and approve the request, signed in as the mailbox's user",
            )
        if error in ("expired_token", "code_expired"):
            raise _expired(endpoints)
        raise failure(endpoints, data, status, "the device sign-in")


def _expired(endpoints: Endpoints) -> AuthError:
    return AuthError(
        f"the {endpoints.provider} sign-in code expired before anyone used it",
        "run again and enter the code within the time shown",
    )
