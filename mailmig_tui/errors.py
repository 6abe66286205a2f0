"""One error hierarchy for everything the operator can cause or meet.

Every error carries a one-line message (what went wrong) and a hint (what to do). The CLI
prints `mailmig: <message> (<hint>)` and exits with `exit_code`; the TUI shows the same text
in a dialog. Nothing below the CLI prints tracebacks for these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class MailmigError(Exception):
    """Base of every error that is reported to the operator as one line."""

    exit_code = 2
    default_hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def one_line(self) -> str:
        """The message and the hint, as printed on stderr."""
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.one_line()


class UsageError(MailmigError):
    """The command line or a form field is wrong."""

    default_hint = "see `mailmig --help`"


@dataclass(frozen=True)
class MappingConflict:
    """Two source folders the automatic mapping rules would put into one target folder.

    `source_a` claimed `target` first (in source folder order), `source_b` came after it.
    """

    source_a: str
    source_b: str
    target: str


class FolderMapConflict(UsageError):
    """Source folders would go to one target folder by accident (`engine.mapping`).

    `conflicts` holds every collision found, in source folder order, so a front end can show
    them all without reading the message; the message names the first one.
    """

    default_hint = "use --map SOURCE=TARGET to choose the target folder yourself"

    def __init__(self, conflicts: Iterable[MappingConflict], hint: str | None = None) -> None:
        self.conflicts: tuple[MappingConflict, ...] = tuple(conflicts)
        if not self.conflicts:
            raise ValueError("FolderMapConflict needs at least one conflict")
        first = self.conflicts[0]
        message = (
            f"source folders {first.source_a!r} and {first.source_b!r} would both go to "
            f"target folder {first.target!r}"
        )
        if len(self.conflicts) > 1:
            message += f" (and {len(self.conflicts) - 1} more)"
        super().__init__(message, hint)


class ConfigError(MailmigError):
    """The config file or a saved account is wrong."""


class PasswordUnavailable(MailmigError):
    """No password could be found for an account that needs one."""


class ConnectError(MailmigError):
    """The server could not be reached (unknown host, refused, unreachable)."""


class TimeoutError_(ConnectError):
    """The server did not answer within the configured timeout."""

    default_hint = "check the network, or raise --timeout"


class TLSError(ConnectError):
    """The TLS handshake failed or the certificate was not trusted."""


class AuthError(MailmigError):
    """The server refused the login."""

    default_hint = "check the user name and password"


class OAuth2Refused(AuthError):
    """The server refused an OAuth2 access token at AUTHENTICATE (`oauth2.connect` drops a
    cached one and tries once more with a new one)."""


class ProtocolError(MailmigError):
    """The server answered something we cannot work with."""


class FolderMissing(MailmigError):
    """A folder named by the operator does not exist on that account."""

    default_hint = "run `mailmig folders ACCOUNT` to see the folder names"


class MessageRejected(MailmigError):
    """The target refused one message; the run records it and goes on."""

    exit_code = 1


class MessageTooLarge(MessageRejected):
    """The target refused one message because of its size."""


class QuotaExceeded(MessageRejected):
    """The target is full."""


class Throttled(MessageRejected):
    """The target asked us to send this message again later: not a refusal of the message.

    `delay` is the server's suggested wait in seconds (0.0 when it did not say).
    """

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message, "the run waits and retries; run it again later if it gave up")
        self.delay = delay


class ServerThrottled(ConnectError):
    """A command other than APPEND was throttled, or the server hung up after throttling.

    A ConnectError, so the engine reconnects after waiting at least `delay` seconds.
    """

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message, "the run waits and retries; run it again later if it gave up")
        self.delay = delay
