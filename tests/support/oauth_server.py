"""A local fake OAuth2 authorisation server: the only fake the OAuth2 tests use.

One HTTP server on a loopback port with three endpoints:

- `/device`: RFC 8628 device authorisation (device_code, user_code, verification_uri);
- `/token`: the device_code grant, answering each poll with the next of `outcomes`
  ("pending", "slow_down", "denied", "expired", then "ok" once they run out), and the
  refresh_token grant (rotating refresh tokens, refusing unknown ones with invalid_grant);
- `/introspect`: RFC 7662 token introspection as the test Dovecot's oauth2 passdb asks it
  (POST token=…): {"active": true, "username": USER} for a live token, else {"active": false}.

`issue(user)` makes a token directly, for tests that take tokens from a token command.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_ID = "mailmig-test-client"


@dataclass
class FakeOAuthServer:
    device_user: str = ""
    """Who "signs in" at the verification page when a device code is approved."""
    outcomes: list[str] = field(default_factory=list)
    """What successive device_code polls answer; "ok" once the list is used up."""
    interval: int = 5
    expires_in: int = 900
    access_lifetime: int = 3600
    client_id: str = CLIENT_ID
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Every request as (path, form), for the tests to check what the client sent."""
    access_tokens: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    _httpd: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> FakeOAuthServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # Dovecot's HTTP client keeps connections open

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("ascii", "replace")
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                self._answer(*server.handle(self.path.split("?")[0], form))

            def do_GET(self) -> None:  # introspection_mode = get also works
                path, _, query = self.path.partition("?")
                form = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
                self._answer(*server.handle(path, form))

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def device_endpoint(self) -> str:
        return self.url + "/device"

    @property
    def token_endpoint(self) -> str:
        return self.url + "/token"

    @property
    def introspection_url(self) -> str:
        return self.url + "/introspect"

    # -- tokens ----------------------------------------------------------------------------

    def issue(self, user: str) -> str:
        """A live access token for `user`."""
        token = "at-" + secrets.token_urlsafe(24)
        with self._lock:
            self.access_tokens[token] = user
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self.access_tokens.pop(token, None)
            self.refresh_tokens.pop(token, None)

    def grants(self, grant_type: str) -> list[dict[str, str]]:
        return [
            form
            for path, form in self.requests
            if path == "/token" and form.get("grant_type") == grant_type
        ]

    def _tokens(self, user: str) -> dict[str, Any]:
        refresh = "rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = user
        access = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = user
        return {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.access_lifetime,
        }

    # -- the endpoints ---------------------------------------------------------------------

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((path, form))
            if path == "/introspect":
                user = self.access_tokens.get(form.get("token", ""))
                return 200, {"active": True, "username": user} if user else {"active": False}
            if form.get("client_id") != self.client_id:
                return 400, _error("invalid_client", "unknown client id")
            if path == "/device":
                return 200, {
                    "device_code": "dc-" + secrets.token_urlsafe(16),
                    "user_code": "WXYZ-1234",
                    "verification_uri": self.url + "/verify",
                    "expires_in": self.expires_in,
                    "interval": self.interval,
                }
            if path == "/token":
                return self._token(form)
        return 404, _error("not_found", path)

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        if grant == "refresh_token":
            user = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if user is None:
                return 400, _error("invalid_grant", "the refresh token is not valid")
            return 200, self._tokens(user)
        if grant != "urn:ietf:params:oauth:grant-type:device_code":
            return 400, _error("unsupported_grant_type", str(grant))
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        errors = {
            "pending": "authorization_pending",
            "slow_down": "slow_down",
            "denied": "access_denied",
            "expired": "expired_token",
        }
        if outcome in errors:
            return 400, _error(errors[outcome], f"test outcome {outcome}")
        return 200, self._tokens(self.device_user)


def _error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}
