"""Signed JWTs for app-only sign-in: Microsoft's certificate credential (a client assertion)
and Google's service-account assertion (domain-wide delegation).

The signing (RS256) is done by PyJWT with its `crypto` extra (the `cryptography` package,
which keyring's Linux backend already pulls in): one small, well-kept library for both
providers instead of google-auth, which would bring its own HTTP stack and still leave the
Microsoft assertion to us. It is an optional extra (`mailmig-tui[google]`,
`mailmig-tui[microsoft-cert]`) since only these two sign-ins need it; without it they stop
with one line saying how to add it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

from mailmig_tui.errors import ConfigError, UsageError

ASSERTION_LIFETIME = 600
"""Seconds a signed assertion is valid: Microsoft and Google accept up to an hour; ten
minutes cover a slow network and a skewed clock without leaving a long-lived credential."""


def _jwt(extra: str) -> Any:
    try:
        import jwt
        from cryptography import x509  # noqa: F401  (PyJWT signs RS256 only with it)
    except ImportError:
        raise UsageError(
            "this sign-in needs PyJWT with cryptography, which is not installed",
            f"pip install 'mailmig-tui[{extra}]' (with pipx: pipx inject mailmig-tui "
            "'PyJWT[crypto]')",
        ) from None
    return jwt


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} {path}: {exc.strerror or exc}", "check the path"
        ) from None


def client_assertion(key_file: str, client_id: str, audience: str) -> str:
    """A client assertion for Microsoft's certificate credential.

    `key_file` is a PEM holding the certificate registered with the app and its private
    key (unencrypted). The header names the certificate by its SHA-1 thumbprint (`x5t`,
    base64url), as Microsoft documents; `aud` is the token endpoint.
    """
    jwt = _jwt("microsoft-cert")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    pem = _read(key_file, "certificate file")
    try:
        certificate = x509.load_pem_x509_certificate(pem)
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{key_file} must hold the certificate and its unencrypted private key in PEM "
            f"({type(exc).__name__})",
            "cat cert.pem key.pem > mailmig-app.pem (openssl pkey -in key.pem to decrypt)",
        ) from None
    thumbprint = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).rstrip(b"=")
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    }
    headers = {"x5t": thumbprint.decode("ascii")}
    return str(jwt.encode(claims, key, algorithm="RS256", headers=headers))


def service_account(key_file: str) -> dict[str, str]:
    """The fields of a Google service account's JSON key that the sign-in needs."""
    raw = _read(key_file, "service account key file")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    needed = ("client_email", "private_key", "token_uri")
    if not isinstance(data, dict) or any(not isinstance(data.get(k), str) for k in needed):
        raise ConfigError(
            f"{key_file} is not a service account's JSON key (client_email, private_key, "
            "token_uri)",
            "download a JSON key in the Google Cloud console: IAM > Service accounts > Keys",
        )
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def service_account_assertion(account: dict[str, str], subject: str, scope: str) -> str:
    """The JWT a service account signs to act for `subject` (domain-wide delegation)."""
    jwt = _jwt("google")
    now = int(time.time())
    claims = {
        "iss": account["client_email"],
        "sub": subject,
        "scope": scope,
        "aud": account["token_uri"],
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    }
    headers = {"kid": account["private_key_id"]} if account.get("private_key_id") else None
    try:
        return str(jwt.encode(claims, account["private_key"], algorithm="RS256", headers=headers))
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"the service account key of {account['client_email']} cannot sign "
            f"({type(exc).__name__})",
            "download a new JSON key for it",
        ) from None
