"""The client secret of an app registration (Microsoft 365 app-only, Google's desktop
client): never on the command line, never in config.toml.

Looked up in this order: the environment (MAILMIG_OAUTH2_CLIENT_SECRET), the keyring
(service "mailmig", entry "oauth2-client:CLIENT_ID"), then the account's
`oauth2_client_secret_command` (`--oauth2-client-secret-command`), whose first line of output
is the secret, as with mbsync's PassCmd. The command runs without a shell.
"""

from __future__ import annotations

import os
import shlex

from mailmig_tui import secrets
from mailmig_tui.errors import AuthError
from mailmig_tui.oauth2_command import run_command
from mailmig_tui.oauth2_flow import Endpoints

CLIENT_SECRET_ENV = "MAILMIG_OAUTH2_CLIENT_SECRET"


def keyring_key(client_id: str) -> str:
    return f"oauth2-client:{client_id}"


def client_secret(endpoints: Endpoints, *, required: bool) -> str:
    """The secret from the first source that has one; "" (or, when `required`, a one-line
    error naming every source) when none has."""
    value = os.environ.get(CLIENT_SECRET_ENV, "")
    if not value:
        stored, _reason = secrets.keyring_lookup(keyring_key(endpoints.client_id))
        value = stored or ""
    if not value and endpoints.client_secret_command:
        output = run_command(
            shlex.split(endpoints.client_secret_command),
            f"the client secret command `{endpoints.client_secret_command}`",
            timeout=endpoints.timeout,
        )
        value = output.splitlines()[0].strip() if output.strip() else ""
        if not value:
            raise AuthError(
                f"the client secret command `{endpoints.client_secret_command}` printed nothing",
                "check that it prints the secret when run by hand",
            )
    if value:
        secrets.redact(value)
    elif required:
        raise AuthError(
            f"no client secret for the {endpoints.provider} app {endpoints.client_id}",
            f"set {CLIENT_SECRET_ENV}, store it in the keyring (service mailmig, user "
            f"{keyring_key(endpoints.client_id)}), give --oauth2-client-secret-command, or "
            "use a certificate (--oauth2-key-file)",
        )
    return value
