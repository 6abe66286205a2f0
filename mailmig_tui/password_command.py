"""Passwords printed by a command the operator names, as mbsync's `PassCmd`, aerc's
`source-cred-cmd` and offlineimap's `remotepasseval` do: `pass show mail/alice`,
`secret-tool lookup …`, `gpg -dq ~/.mail-pw.gpg`.

The password is the first line the command prints. It runs without a shell (split like a
shell would) unless the saved account says `password_command_shell = true`, with stdin
closed and MAILMIG_PASSWORD_USER / MAILMIG_PASSWORD_HOST naming the account, so one command
(a script of the admin's) can serve every user of a batch. Its failure is one line naming
its program, never what it printed: the output is the secret, and a failing command's
stdout or stderr may hold part of it. `secrets.get_password` hands the password to
`secrets.redact` at once, so no log line can show it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import replace

from mailmig_tui.errors import PasswordUnavailable, UsageError
from mailmig_tui.model import AccountSpec

TIMEOUT = 60.0
"""Seconds a password command may take: long enough for a GPG passphrase typed into
pinentry, short enough that a hung command does not stall a batch for good."""
SHELL = "/bin/sh"


def normalised(command: str, *, shell: bool = False) -> str:
    """The command as kept in an AccountSpec; raises UsageError when it cannot be split."""
    if shell:
        if not command.strip():
            raise UsageError("the password command is empty", "give a command printing it")
        return command
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        # The text is not shown: a half-quoted command may hold a secret by mistake.
        raise UsageError(f"cannot split the password command: {exc}", "check its quotes") from None
    if not argv:
        raise UsageError("the password command is empty", "give a command printing it")
    return shlex.join(argv)


def with_password_command(spec: AccountSpec, command: str, *, shell: bool = False) -> AccountSpec:
    """`spec` taking its password from `command` (replacing any it had)."""
    return replace(
        spec,
        password_command=normalised(command, shell=shell),
        password_command_shell=shell,
    )


def program_of(spec: AccountSpec) -> str:
    """The program the command starts, for errors: "pass", or "/bin/sh" for a shell line."""
    if spec.password_command_shell:
        return SHELL
    return shlex.split(spec.password_command)[0]


def run_password_command(spec: AccountSpec, *, timeout: float = TIMEOUT) -> str:
    """The first line `spec.password_command` prints; PasswordUnavailable when it fails."""
    if spec.password_command_shell:
        argv = [SHELL, "-c", spec.password_command]
    else:
        argv = shlex.split(spec.password_command)
    program = program_of(spec)
    shown = f"the password command ({program}) for {spec.display}"
    hint = "run it by hand: it must print the password on its first line and exit 0"
    env = os.environ | {"MAILMIG_PASSWORD_USER": spec.user, "MAILMIG_PASSWORD_HOST": spec.host}
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise PasswordUnavailable(
            f"{shown} cannot run: {program} was not found",
            "install it, or give its full path in the password command",
        ) from None
    except OSError as exc:
        raise PasswordUnavailable(
            f"{shown} cannot run: {exc.strerror or type(exc).__name__}", hint
        ) from None
    except subprocess.TimeoutExpired:
        raise PasswordUnavailable(f"{shown} did not finish within {timeout:g} s", hint) from None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    password = lines[0] if lines else ""
    if done.returncode != 0:
        how = (
            f"was killed by signal {-done.returncode}"
            if done.returncode < 0
            else f"failed (exit status {done.returncode})"
        )
        raise PasswordUnavailable(f"{shown} {how}", hint)
    if not password:
        raise PasswordUnavailable(f"{shown} printed no password on its first line", hint)
    return password
