"""The OAuth2 grants beside the device flow: client credentials (Microsoft 365 app-only
access), the JWT bearer grant (Google service accounts with domain-wide delegation), and the
authorization code exchange of the PKCE browser sign-in.

Each is one POST to the token endpoint through `oauth2_flow.post_form`; answers become
`Tokens` (registered with `secrets.redact`) or one-line `AuthError`s.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailmig_tui.errors import AuthError
from mailmig_tui.oauth2_flow import Clock, Endpoints, Tokens, failure, post_form, tokens_from

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class ClientCredential:
    """How an app proves who it is: a client secret, or a signed JWT (RFC 7523 section 2.2)."""

    secret: str = ""
    assertion: str = ""

    def form(self) -> dict[str, str]:
        if self.assertion:
            return {
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": self.assertion,
            }
        return {"client_secret": self.secret} if self.secret else {}


def client_credentials(
    endpoints: Endpoints, credential: ClientCredential, *, clock: Clock
) -> Tokens:
    """An app-only access token (RFC 6749 section 4.4); there is never a refresh token."""
    form = {
        "client_id": endpoints.client_id,
        "grant_type": "client_credentials",
        "scope": endpoints.scope,
    } | credential.form()
    status, data = post_form(endpoints.token_endpoint, form, timeout=endpoints.timeout)
    if status != 200 or "error" in data:
        raise failure(endpoints, data, status, "the app's sign-in (client credentials)")
    return tokens_from(endpoints, data, clock())


def jwt_bearer(endpoints: Endpoints, assertion: str, *, clock: Clock) -> Tokens:
    """An access token for a signed JWT (RFC 7523 section 2.1): Google service accounts."""
    form = {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
    status, data = post_form(endpoints.token_endpoint, form, timeout=endpoints.timeout)
    if status != 200 or "error" in data:
        error = failure(endpoints, data, status, "the service account's sign-in")
        if data.get("error") in ("unauthorized_client", "access_denied"):
            raise AuthError(
                error.message,
                "in the Google Admin console (Security > API controls > Domain-wide "
                "delegation) allow the service account's client id the scope "
                "https://mail.google.com/",
            )
        raise error
    return tokens_from(endpoints, data, clock())


def exchange_code(
    endpoints: Endpoints, code: str, verifier: str, redirect_uri: str, secret: str, *, clock: Clock
) -> Tokens:
    """Tokens for the authorization code the browser brought back (RFC 7636 section 4.5)."""
    form = {
        "client_id": endpoints.client_id,
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri,
    }
    if secret:  # Google's desktop clients have one, though it is not secret in the RFC's sense
        form["client_secret"] = secret
    status, data = post_form(endpoints.token_endpoint, form, timeout=endpoints.timeout)
    if status != 200 or "error" in data:
        raise failure(endpoints, data, status, "the browser sign-in")
    return tokens_from(endpoints, data, clock())
