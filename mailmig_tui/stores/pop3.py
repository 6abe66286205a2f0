"""POP3 accounts as a read-only migration source, on the standard library's poplib.

POP3 has one mailbox (shown as the folder INBOX), message numbers valid for one session,
UIDL strings instead of UIDs, and neither flags nor INTERNALDATE. Mapped onto `MailStore`:

- UIDs: a small SQLite map in the state directory gives every UIDL a stable integer (new ones
  in server order) and keeps the mailbox's UIDVALIDITY, so the journal knows a message again
  in the next run and a re-run copies only new mail. A lost map starts with a new UIDVALIDITY,
  so old journal entries are never taken for other messages (content identity still
  recognises what is on the target).
- Arrival date: the newest (topmost) Received header's date, when this server took the
  message in; else the Date header.
- Reading changes nothing: never DELE, and whole messages are read with `TOP n <all lines>`
  where the server has TOP, because Dovecot and others mark a message \\Seen for their IMAP
  side when it is RETRieved; RETR is the fallback.

Login, chosen from CAPA and never retried with another method after a refused password
(three failed logins would count against lockouts): SASL PLAIN when CAPA lists it, else
USER/PASS; APOP when the server lists no USER or refuses the USER command and its greeting
carries an APOP timestamp.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import poplib
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mailmig_tui.errors import (
    ConnectError,
    FolderMissing,
    MailmigError,
    ProtocolError,
    TimeoutError_,
)
from mailmig_tui.headers import build_summary, parse_date, split_header_block
from mailmig_tui.model import (
    AccountInfo,
    AccountSpec,
    AppendResult,
    FolderInfo,
    Message,
    MessageSummary,
    Security,
    SpecialUse,
)
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery, as_text
from mailmig_tui.stores.imap_connect import (
    connect_error,
    login_refused,
    starttls_missing,
    tls_context,
)
from mailmig_tui.stores.local_common import make_probe, matches
from mailmig_tui.stores.pop3_uids import assign_uids, distinct

log = logging.getLogger(__name__)

FOLDER = "INBOX"
SOURCE_ONLY = "a POP3 account can only be a source"
MAX_LINE = 256 << 20
"""poplib allows 2048 bytes a line; real mail has far longer header and base64 lines."""
ALL_LINES = 999_999_999
"""TOP's line count meaning "the whole body"; nine digits, as servers parse a 32-bit int."""
_TIMESTAMP = re.compile(rb"<[^<>\s]+>")


class Pop3Client(poplib.POP3):
    """poplib with a line limit for our connections only, implicit TLS, and AUTH PLAIN."""

    def __init__(
        self, host: str, port: int, timeout: float, context: ssl.SSLContext | None
    ) -> None:
        self._context = context  # read by _create_socket, which POP3.__init__ calls
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout)
        if self._context is None:
            return sock
        try:
            return self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

    def _getline(self) -> tuple[bytes, int]:
        # poplib's own version checks the module-wide _MAXLINE; this one applies MAX_LINE.
        line = self.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise poplib.error_proto("line too long")
        if not line:
            raise EOFError("the server closed the connection")
        if line.endswith(b"\r\n"):
            return line[:-2], len(line)
        return line.removesuffix(b"\n"), len(line)

    def command(self, line: str) -> bytes:
        """Send one command and return its one-line answer; -ERR raises error_proto."""
        self.sock.sendall(line.encode("utf-8") + b"\r\n")
        answer = self._getline()[0]
        if not answer.startswith(b"+"):
            raise poplib.error_proto(answer)
        return answer

    def auth_plain(self, user: str, password: str) -> bytes:
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        answer = self.command(f"AUTH PLAIN {token}")
        if answer == b"+" or answer.startswith(b"+ "):  # no initial response taken: send it now
            answer = self.command(token)
        return answer


def apop_timestamp(greeting: bytes) -> bool:
    return _TIMESTAMP.search(greeting) is not None


def login_method(caps: Mapping[str, Sequence[str]], greeting: bytes) -> str:
    """The first login to try: "sasl-plain", "user" or "apop" (see the module docstring)."""
    if "PLAIN" in (mechanism.upper() for mechanism in caps.get("SASL", ())):
        return "sasl-plain"
    if caps and "USER" not in caps and apop_timestamp(greeting):
        return "apop"
    return "user"


def capabilities(client: Pop3Client) -> dict[str, list[str]]:
    """CAPA (RFC 2449); {} from an RFC 1939 server without it."""
    try:
        return {name.upper(): args for name, args in client.capa().items()}
    except poplib.error_proto:
        return {}


def connect_pop3(spec: AccountSpec, password: Callable[[], str], *, readonly: bool) -> Pop3Store:
    """Connect, secure and log in; every failure becomes one of our one-line errors."""
    if not readonly:
        raise ProtocolError(SOURCE_ONLY, "copy from it into an IMAP or maildir:// account")
    context = tls_context(spec)
    try:
        implicit = context if spec.security is Security.TLS else None
        client = Pop3Client(spec.host, spec.port, spec.timeout, implicit)
    except Exception as exc:
        raise _error(spec, exc) from None
    try:
        caps = capabilities(client)
        if spec.security is Security.STARTTLS:
            if "STLS" not in caps:
                raise starttls_missing(spec)
            client.stls(context)
            caps = capabilities(client)
        _login(client, spec, password(), caps)
        return Pop3Store(client, spec, capabilities(client))
    except MailmigError:
        client.close()
        raise
    except Exception as exc:
        client.close()
        raise _error(spec, exc) from None


def _login(
    client: Pop3Client, spec: AccountSpec, password: str, caps: dict[str, list[str]]
) -> None:
    greeting = client.getwelcome()
    method = login_method(caps, greeting)
    try:
        if method == "sasl-plain":
            client.auth_plain(spec.user, password)
        elif method == "apop":
            client.apop(spec.user, password)
        else:
            try:
                client.user(spec.user)
            except poplib.error_proto:
                if not apop_timestamp(greeting):
                    raise
                log.info("%s refuses USER; logging in with APOP", spec.host)
                client.apop(spec.user, password)
            else:
                client.pass_(password)
    except poplib.error_proto as exc:
        raise login_refused(spec, _server_words(exc)) from None


def _error(spec: AccountSpec, exc: BaseException) -> MailmigError:
    if isinstance(exc, poplib.error_proto):
        return ProtocolError(
            f"{spec.host}:{spec.port} answered {_server_words(exc)!r}",
            "check that the port speaks POP3 (pop3s:// is 995, pop3:// is 110)",
        )
    return connect_error(spec, exc)


def _server_words(exc: poplib.error_proto) -> str:
    """The server's words from a poplib error, without the -ERR."""
    return as_text(exc.args[0] if exc.args else "").removeprefix("-ERR").strip()


def _join(lines: list[bytes]) -> bytes:
    # poplib strips every line's CRLF and undoes the dot-stuffing: put the line ends back.
    return b"".join(line + b"\r\n" for line in lines)


def arrival(header_block: bytes) -> datetime | None:
    """When the message arrived: the topmost Received header's date, else Date (UTC if naive).

    The topmost Received line is the last one added, by the server that delivered it here:
    the nearest thing POP3 has to IMAP's INTERNALDATE.
    """
    fields = split_header_block(header_block)
    when = None
    received = fields.get("received", b"")
    if b";" in received:
        when = parse_date(received.rpartition(b";")[2])
    if when is None and "date" in fields:
        when = parse_date(fields["date"])
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


class Pop3Store(MailStore):
    """One POP3 session; the message list is the server's snapshot taken at login."""

    def __init__(self, client: Pop3Client, spec: AccountSpec, caps: dict[str, list[str]]):
        self.client = client
        self.spec = spec
        self.readonly = True
        self._caps = caps
        self._top = not caps or "TOP" in caps  # without CAPA: try, TOP is near universal
        self._whole_by_top = self._top
        by_number: dict[int, int] = {}  # message number -> size
        for line in self._call("LIST", self.client.list)[1]:
            number, size = line.split()[:2]
            by_number[int(number)] = int(size)
        numbers = sorted(by_number)
        self.uidvalidity, uids = assign_uids(spec.identity, distinct(self._uidls(numbers)))
        self._numbers = dict(zip(uids, numbers, strict=True))
        """Our UID -> this session's message number."""
        self._sizes = {uid: by_number[n] for uid, n in self._numbers.items()}

    def _call(self, what: str, func: Callable[..., Any], *args: Any) -> Any:
        """Run a poplib call, turning lost connections and timeouts into our errors."""
        try:
            return func(*args)
        except TimeoutError:
            raise TimeoutError_(
                f"{self.spec.host} did not answer {what} within {self.spec.timeout:g} s"
            ) from None
        except (EOFError, OSError) as exc:
            raise ConnectError(
                f"lost the connection to {self.spec.host} during {what} ({exc})",
                "run the command again; finished work is kept",
            ) from None
        except poplib.error_proto as exc:
            raise ProtocolError(f"{self.spec.host} refused {what}: {_server_words(exc)}") from None

    def _uidls(self, numbers: list[int]) -> list[str]:
        if not self._caps or "UIDL" in self._caps:
            try:
                lines = self.client.uidl()[1]
            except poplib.error_proto:
                if self._caps:
                    raise
            else:
                pairs = (line.split(None, 1) for line in lines)
                by_number = {int(n): uidl.strip().decode("ascii", "replace") for n, uidl in pairs}
                return [by_number[n] for n in numbers]
        # No UIDL (it is optional in RFC 1939): a digest of each message's header block
        # stands in; it stays the same as long as the message does.
        log.info("%s has no UIDL; identifying messages by their headers", self.spec.host)
        return [f"headers:{hashlib.sha256(self._head(n)).hexdigest()[:32]}" for n in numbers]

    def _head(self, number: int) -> bytes:
        if self._top:
            return _join(self._call("TOP", self.client.top, number, 0)[1])
        data = _join(self._call("RETR", self.client.retr, number)[1])
        return data.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"

    def _whole(self, number: int, size: int) -> bytes:
        if self._whole_by_top:
            data = _join(self._call("TOP", self.client.top, number, ALL_LINES)[1])
            if len(data) == size:
                return data
            # TOP cut the message short, or LIST gives estimated sizes: RETR from now on.
            log.info("%s: TOP gave %d of %d bytes; using RETR", self.spec.host, len(data), size)
            self._whole_by_top = False
        return _join(self._call("RETR", self.client.retr, number)[1])

    def _check(self, folder: str) -> None:
        if folder.upper() != FOLDER:
            raise FolderMissing(
                f"no folder {folder!r} on {self.spec.display}", "a POP3 account has only INBOX"
            )

    def _known(self, uids: Sequence[int]) -> list[int]:
        return sorted(uid for uid in uids if uid in self._numbers)

    def close(self) -> None:
        # QUIT without DELE removes nothing; it only ends the session cleanly.
        try:
            self.client.quit()
        except Exception:
            self.client.close()

    def info(self) -> AccountInfo:
        return AccountInfo(delimiter=None, prefix="", capabilities=frozenset(self._caps))

    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        if with_status:
            return [self.folder_status(FOLDER)]
        return [FolderInfo(FOLDER, None, SpecialUse.INBOX, uidvalidity=self.uidvalidity)]

    def folder_status(self, folder: str) -> FolderInfo:
        self._check(folder)
        count = len(self._numbers)
        return FolderInfo(
            name=FOLDER,
            delimiter=None,
            special_use=SpecialUse.INBOX,
            messages=count,
            unseen=count,  # no \Seen in POP3: every message arrives unread on the target
            size=sum(self._sizes.values()),
            uidvalidity=self.uidvalidity,
            uidnext=max(self._numbers, default=0) + 1,
        )

    def uids(self, folder: str) -> list[int]:
        self._check(folder)
        return sorted(self._numbers)

    def newest_first(self, folder: str) -> list[int]:
        self._check(folder)  # the maildrop is in arrival order: no need to read any header
        return sorted(self._numbers, key=self._numbers.__getitem__, reverse=True)

    def _heads(self, folder: str, uids: Iterable[int]) -> Iterator[tuple[int, bytes]]:
        """(UID, header block) of each given message the server has."""
        self._check(folder)
        for uid in uids:
            if uid in self._numbers:
                yield uid, self._head(self._numbers[uid])

    def summaries(self, folder: str, uids: Sequence[int]) -> list[MessageSummary]:
        rows = self._heads(folder, uids)
        return [build_summary(u, arrival(h), (), self._sizes[u], h) for u, h in rows]

    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        rows = self._heads(folder, sorted(uids))
        return [make_probe(u, arrival(h), (), self._sizes[u], h) for u, h in rows]

    def sizes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        self._check(folder)
        return [HeaderProbe(uid, self._sizes[uid], None, b"") for uid in self._known(uids)]

    def flags(self, folder: str, uids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        self._check(folder)
        return {uid: () for uid in self._known(uids)}

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        self._check(folder)
        for uid in self._known(uids):
            data = self._whole(self._numbers[uid], self._sizes[uid])
            head = data.partition(b"\r\n\r\n")[0]
            yield Message(uid=uid, data=data, flags=(), internaldate=arrival(head))

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        found = []
        for uid, head in self._heads(folder, sorted(self._numbers)):
            load = functools.partial(self._whole, self._numbers[uid], self._sizes[uid])
            if matches(query, head, arrival(head), self._sizes[uid], load):
                found.append(uid)
        return found

    def create_folder(self, folder: str) -> None:
        raise ProtocolError(SOURCE_ONLY)

    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        raise ProtocolError(SOURCE_ONLY)

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        raise ProtocolError(SOURCE_ONLY)
