"""The built-in OAuth2 providers and the flows a provider can sign in with (`oauth2.py`)."""

from __future__ import annotations

from dataclasses import dataclass

FLOWS = ("device", "authorization_code", "client_credentials", "service_account")
"""How a provider signs in; a custom [oauth2.NAME] table picks one with `flow` (device)."""


@dataclass(frozen=True)
class Provider:
    """A provider's endpoints; `{tenant}` in a URL is replaced by the account's tenant."""

    flow: str
    token_endpoint: str
    scope: str
    device_endpoint: str = ""
    authorization_endpoint: str = ""
    tenant: str = ""
    """The default tenant (Microsoft: "organizations", i.e. any work or school account)."""


MICROSOFT_TOKEN = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
BUILT_IN = {
    "microsoft": Provider(
        "device",
        MICROSOFT_TOKEN,
        "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
        device_endpoint="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
        tenant="organizations",
    ),
    # App-only access (IMAP.AccessAsApp): Microsoft's documented token request.
    "microsoft-app": Provider(
        "client_credentials", MICROSOFT_TOKEN, "https://outlook.office365.com/.default"
    ),
    "google": Provider(
        "authorization_code",
        "https://oauth2.googleapis.com/token",
        "https://mail.google.com/",
        authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
    ),
    # The token endpoint comes from the key file (token_uri) unless a table sets one.
    "google-service-account": Provider("service_account", "", "https://mail.google.com/"),
}
