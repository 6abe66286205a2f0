"""What the TUI says when something fails: one line, what happened and what to do.

The errors' own hints speak of command-line flags; inside the TUI the operator acts with
keys, so some hints are replaced here. Login and configuration problems need the operator's
decision and open a dialog; everything else (a dropped connection, a vanished folder) is a
notification and the session goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailmig_tui.errors import (
    AuthError,
    ConfigError,
    ConnectError,
    FolderMapConflict,
    FolderMissing,
    MailmigError,
    PasswordUnavailable,
    TLSError,
    UsageError,
)
from mailmig_tui.secrets import scrub


@dataclass(frozen=True)
class Failure:
    title: str
    text: str
    dialog: bool
    """Show a dialog (needs the operator) rather than a notification."""


def describe_failure(exc: BaseException, where: str = "") -> Failure:
    """The one line to show for `exc`, which happened while doing `where`."""
    prefix = f"{where}: " if where else ""
    if isinstance(exc, FolderMissing):
        text = f"{exc.message} (press r to reload the folder list)"
        return Failure("Folder not found", scrub(prefix + text), dialog=False)
    if isinstance(exc, TLSError):
        return Failure("TLS problem", scrub(prefix + exc.one_line()), dialog=True)
    if isinstance(exc, ConnectError):
        text = f"{exc.message} (press r to reconnect; check that the server is reachable)"
        return Failure("Connection problem", scrub(prefix + text), dialog=False)
    if isinstance(exc, FolderMapConflict):  # the operator decides, in the folder map
        return Failure("Folder map conflict", scrub(prefix + exc.one_line()), dialog=True)
    if isinstance(exc, AuthError | PasswordUnavailable):
        return Failure("Login failed", scrub(prefix + exc.one_line()), dialog=True)
    if isinstance(exc, ConfigError | UsageError):
        return Failure("Check the account", scrub(prefix + exc.one_line()), dialog=True)
    if isinstance(exc, MailmigError):
        return Failure("Problem", scrub(prefix + exc.one_line()), dialog=False)
    text = (
        f"internal error: {type(exc).__name__}: {exc} "
        "(the session goes on; please report it with `mailmig --debug`)"
    )
    return Failure("Internal error", scrub(prefix + " ".join(text.split())), dialog=True)
