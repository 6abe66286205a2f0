"""Access tokens from a command the operator names (`--oauth2-token-command`).

The command runs without a shell (split like a shell would) on every (re)connect, so a tool
that caches and renews tokens itself (oauth2l, `az account get-access-token`, a script of
the admin's) decides when to renew. Its stdout, stripped, is the access token; its stderr
ends up in the one-line error when it fails. MAILMIG_OAUTH2_USER and MAILMIG_OAUTH2_HOST in
its environment name the account, so one command can serve both sides of a copy.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from mailmig_tui import secrets
from mailmig_tui.errors import AuthError, TimeoutError_
from mailmig_tui.model import AccountSpec


class CommandTokens:
    """Runs the token command on every call: it may cache or renew tokens itself."""

    def __init__(self, spec: AccountSpec, command: str) -> None:
        self.spec = spec
        self.command = command
        self.argv = shlex.split(command)

    def __call__(self) -> str:
        # The account goes into the environment, so one command can serve both sides.
        env = os.environ | {
            "MAILMIG_OAUTH2_USER": self.spec.user,
            "MAILMIG_OAUTH2_HOST": self.spec.host,
        }
        shown = f"the OAuth2 token command `{self.command}`"
        token = run_command(self.argv, shown, timeout=self.spec.timeout, env=env).strip()
        secrets.redact(token)
        hint = "check that it prints an access token when run by hand"
        if not token or any(c.isspace() for c in token):
            raise AuthError(f"{shown} printed {'more than a token' if token else 'nothing'}", hint)
        return token


def run_command(
    argv: list[str], shown: str, *, timeout: float, env: dict[str, str] | None = None
) -> str:
    """Run `argv` without a shell and return its stdout; failures are one line with the
    tail of its stderr. The output is a secret: the caller registers it for redaction."""
    hint = "check that it works when run by hand"
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, check=False)
    except OSError as exc:
        raise AuthError(f"cannot run {argv[0]}: {exc.strerror or exc}", hint) from None
    except subprocess.TimeoutExpired:
        raise TimeoutError_(f"{shown} did not finish within {timeout:g} s", hint) from None
    said = stderr_tail(done.stderr)
    if done.returncode != 0:
        raise AuthError(
            f"{shown} failed (exit status {done.returncode})" + (f": {said}" if said else ""),
            hint,
        )
    return done.stdout.decode("utf-8", "replace")


def stderr_tail(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    return secrets.scrub(" / ".join(line for line in lines[-3:] if line))[:300]
