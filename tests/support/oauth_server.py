"""A local fake OAuth2 authorisation server: the only fake the OAuth2 tests use.

One HTTP server on a loopback port with four endpoints:

- `/device`: RFC 8628 device authorisation (device_code, user_code, verification_uri);
- `/authorize`: the browser's side of the authorization code flow: answers a GET with a
  302 redirect to the client's loopback redirect_uri, carrying a code and the state, after
  checking client_id and the S256 code_challenge (the tests act as the browser);
- `/token`: the device_code grant, answering each poll with the next of `outcomes`
  ("pending", "slow_down", "denied", "expired", then "ok" once they run out); the
  refresh_token grant (rotating refresh tokens, refusing unknown ones with invalid_grant);
  the authorization_code grant (checking code_verifier against the code_challenge); the
  client_credentials grant (a client secret, or a client assertion whose RS256 signature,
  x5t thumbprint, aud, iss, sub, jti, nbf and exp are checked against `app_certificate`);
  and the JWT bearer grant of Google service accounts (signature checked with the account's
  public key in `service_accounts`; the token is for the JWT's `sub`);
- `/introspect`: RFC 7662 token introspection as the test Dovecot's oauth2 passdb asks it
  (POST token=…): {"active": true, "username": USER} for a live token, else {"active": false}.

`issue(user)` makes a token directly, for tests that take tokens from a token command.

App-only tokens (client credentials) name no user, and Dovecot's introspection request names
none either, so each app token stands for the next mailbox of `app_mailboxes` (as if the app
had been granted FullAccess to it): tests using it keep the order of sign-ins fixed.
`refuse_next` makes the next N access tokens dead on arrival, as a revoked token would be.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLIENT_ID = "mailmig-test-client"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


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
    client_secret: str = ""
    """The app's secret (client credentials; also required by authorization_code if set)."""
    app_certificate: bytes = b""
    """PEM of the certificate registered with the app: client assertions are checked with it."""
    app_mailboxes: list[str] = field(default_factory=list)
    """The mailboxes successive app-only tokens act for (the last one repeats)."""
    service_accounts: dict[str, bytes] = field(default_factory=dict)
    """client_email -> public key PEM, of the service accounts allowed domain-wide delegation."""
    sign_in_user: str = ""
    """Who signs in at /authorize."""
    refuse_next: int = 0
    """The next N access tokens are issued dead: the IMAP server refuses them."""
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """Authorization code -> (code_challenge, redirect_uri, user)."""
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
                if status == 302:
                    self.send_header("Location", data["location"])
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

    def _tokens(self, user: str, *, refresh: bool = True) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(24)
        if self.refuse_next > 0:
            self.refuse_next -= 1
        else:
            self.access_tokens[access] = user
        answer = {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": self.access_lifetime,
        }
        if refresh:
            answer["refresh_token"] = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[answer["refresh_token"]] = user
        return answer

    # -- the endpoints ---------------------------------------------------------------------

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((path, form))
            if path == "/introspect":
                user = self.access_tokens.get(form.get("token", ""))
                return 200, {"active": True, "username": user} if user else {"active": False}
            if path == "/token" and form.get("grant_type") == JWT_BEARER:
                return self._jwt_bearer(form.get("assertion", ""), form)
            if form.get("client_id") != self.client_id:
                return 400, _error("invalid_client", "unknown client id")
            if path == "/authorize":
                return self._authorize(form)
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
        if grant == "client_credentials":
            return self._client_credentials(form)
        if grant == "authorization_code":
            return self._code(form)
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

    # -- the authorization code flow with PKCE ----------------------------------------------

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        redirect = query.get("redirect_uri", "")
        if not redirect.startswith("http://127.0.0.1:") or query.get("response_type") != "code":
            return 400, _error("invalid_request", "a loopback redirect_uri and response_type=code")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, _error("invalid_request", "PKCE with S256 is required")
        code = "ac-" + secrets.token_urlsafe(16)
        self.codes[code] = (query["code_challenge"], redirect, self.sign_in_user)
        answer = urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
        return 302, {"location": f"{redirect}?{answer}"}

    def _code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.client_secret and form.get("client_secret") != self.client_secret:
            return 401, _error("invalid_client", "the client secret is missing or wrong")
        found = self.codes.pop(form.get("code", ""), None)
        if found is None:
            return 400, _error("invalid_grant", "unknown or used code")
        challenge, redirect, user = found
        verifier = form.get("code_verifier", "").encode("ascii")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if digest.decode("ascii") != challenge:
            return 400, _error("invalid_grant", "code_verifier does not match code_challenge")
        if form.get("redirect_uri") != redirect:
            return 400, _error("invalid_grant", "redirect_uri differs from the authorization's")
        return 200, self._tokens(user)

    # -- app-only grants ----------------------------------------------------------------------

    def _client_credentials(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not form.get("scope", "").endswith("/.default"):
            return 400, _error("invalid_scope", "client credentials need a /.default scope")
        assertion = form.get("client_assertion")
        if assertion is not None:
            if form.get("client_assertion_type") != ASSERTION_TYPE or not self.app_certificate:
                return 401, _error("invalid_client", "unexpected client assertion")
            problem = self._check_assertion(assertion)
            if problem:
                return 401, _error("invalid_client", problem)
        elif not self.client_secret or form.get("client_secret") != self.client_secret:
            return 401, _error("invalid_client", "AADSTS7000215: Invalid client secret")
        mailbox = self.app_mailboxes.pop(0) if len(self.app_mailboxes) > 1 else ""
        mailbox = mailbox or (self.app_mailboxes[0] if self.app_mailboxes else "")
        return 200, self._tokens(mailbox, refresh=False)

    def _check_assertion(self, assertion: str) -> str:
        certificate = x509.load_pem_x509_certificate(self.app_certificate)
        thumbprint = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1()))
        if jwt.get_unverified_header(assertion).get("x5t") != thumbprint.rstrip(b"=").decode():
            return "the x5t header is not the certificate's thumbprint"
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=self.token_endpoint,
                issuer=self.client_id,
                options={"require": ["exp", "nbf", "jti", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return f"bad client assertion: {exc}"
        return "" if claims["sub"] == self.client_id else "sub must be the client id"

    def _jwt_bearer(self, assertion: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
            key = self.service_accounts.get(str(issuer))
            if key is None:
                return 401, _error("unauthorized_client", f"{issuer} may not delegate")
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=self.token_endpoint,
                options={"require": ["exp", "iat", "sub", "scope"]},
            )
        except jwt.PyJWTError as exc:
            return 400, _error("invalid_grant", f"bad assertion: {exc}")
        if "https://mail.google.com/" not in str(claims["scope"]).split():
            return 400, _error("invalid_scope", "the Gmail scope is missing")
        return 200, self._tokens(str(claims["sub"]), refresh=False)


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def app_certificate(directory: Path) -> tuple[Path, bytes]:
    """(a PEM with a self-signed certificate and its key, for mailmig; the certificate's PEM,
    for the fake server), as an admin makes one for an Entra app registration."""
    import datetime

    key = rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailmig test app")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    path = directory / "mailmig-app.pem"
    path.write_bytes(cert_pem + private_pem(key))
    path.chmod(0o600)
    return path, cert_pem


def service_account_key(directory: Path, token_uri: str) -> tuple[Path, str, bytes]:
    """(a JSON key file as Google's console gives one, its client_email, its public key PEM)."""
    key = rsa_key()
    email = "mailmig-migration@example-project.iam.gserviceaccount.com"
    data = {
        "type": "service_account",
        "project_id": "example-project",
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem(key).decode("ascii"),
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, email, public


def _error(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}
