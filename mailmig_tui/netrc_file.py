"""Passwords from the netrc file (`machine HOST login USER password PW`), read with the
stdlib `netrc` module.

The file is `$NETRC` when that is set (as Python's requests and curl 8.16+ read it), else
`~/.netrc`. It is used only when it belongs to the user running mailmig and nobody else may
read or write it (mode 600 or stricter), as fetchmail insists; otherwise it is ignored with a
one-line notice saying why. An entry is used when its machine is the account's host (case
does not matter) and its login is the account's user, or it names no login. The `default`
entry is never used: a catch-all password must not go to whichever mail server asks. The
stdlib keeps one entry per machine (the last in the file), so two users on one host need
another source (a password command, the environment, the keyring).
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Callable
from pathlib import Path

from mailmig_tui.model import AccountSpec

ENV = "NETRC"
"""Names another netrc file instead of ~/.netrc."""


def netrc_path() -> Path:
    given = os.environ.get(ENV)
    return Path(given).expanduser() if given else Path.home() / ".netrc"


def _why_unsafe(path: Path) -> str | None:
    """Why the file must not be trusted with passwords, or None when it is owner-only."""
    info = path.stat()
    if info.st_uid != os.getuid():
        return f"it belongs to another user (uid {info.st_uid}); it must be yours"
    if info.st_mode & 0o077:
        return f"others may read or change it (mode {info.st_mode & 0o777:o}); chmod 600 {path}"
    return None


def netrc_password(spec: AccountSpec, notice: Callable[[str], None]) -> str | None:
    """The netrc password for `spec`'s user at its host, or None.

    A file that is missing is no source; one that is unsafe or unreadable is ignored, and
    `notice` gets one line saying why (the caller says it once).
    """
    if not spec.host:
        return None
    path = netrc_path()
    try:
        unsafe = _why_unsafe(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        notice(f"ignoring {path}: {exc.strerror or type(exc).__name__}")
        return None
    if unsafe:
        notice(f"ignoring {path}: {unsafe}")
        return None
    try:
        parsed = netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        # Only the line: the parser's message quotes a token, which may be a password.
        notice(f"ignoring {path}: it is not in netrc form (line {exc.lineno})")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        notice(f"ignoring {path}: cannot read it ({type(exc).__name__})")
        return None
    host = spec.host.lower()
    for machine, (login, _account, password) in parsed.hosts.items():
        if machine.lower() == host and login in ("", spec.user) and password:
            return password
    return None
