"""IMAP accounts on imapclient: connecting, listing, reading read-only, appending.

imapclient is untyped and speaks in bytes keys and tuples; this module is the one place that
converts its answers into our dataclasses and its exceptions into our one-line errors. One
`ImapStore` is one connection and must stay on one thread.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import imapclient
import imapclient.exceptions

from mailmig_tui.errors import (
    ConnectError,
    FolderMissing,
    MailmigError,
    ProtocolError,
    ServerThrottled,
    Throttled,
    TimeoutError_,
)
from mailmig_tui.headers import build_summary
from mailmig_tui.model import (
    AccountInfo,
    AccountSpec,
    AppendResult,
    FolderInfo,
    Message,
    MessageSummary,
)
from mailmig_tui.special import with_guessed_roles
from mailmig_tui.stores import imap_append
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery, as_text
from mailmig_tui.stores.imap_connect import open_client, server_text, shutdown
from mailmig_tui.stores.imap_folders import folder_from_list, parse_capabilities

log = logging.getLogger(__name__)

SUMMARY_FIELDS = "DATE FROM TO SUBJECT MESSAGE-ID"
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({SUMMARY_FIELDS})]"
FETCH_CHUNK = 500
"""UIDs per FETCH: explicit lists (imapclient 4 rejects ranges) keep commands a few KB."""
_READING = frozenset({"FETCH", "SEARCH", "STATUS", "SORT", "LIST"})
"""Commands whose NO/BAD no caller handles: `_call` turns it into a one-line error."""


def connect_imap(spec: AccountSpec, password: str, *, readonly: bool) -> ImapStore:
    """Open, secure and log in; every failure becomes one of our one-line errors."""
    return ImapStore(open_client(spec, password), spec, readonly=readonly)


class ImapStore(MailStore):
    def __init__(self, client: imapclient.IMAPClient, spec: AccountSpec, *, readonly: bool):
        self.client = client
        self.spec = spec
        self.readonly = readonly
        self._selected: tuple[str, bool] | None = None
        self._select_info: dict[bytes, Any] = {}
        self._info: AccountInfo | None = None

    # -- connection ----------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:
            shutdown(self.client)

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run an imapclient call, turning lost connections and timeouts into our errors."""
        try:
            return func(*args, **kwargs)
        except MailmigError:
            raise
        except TimeoutError:
            raise TimeoutError_(
                f"{self.spec.host} did not answer {what} within {self.spec.timeout:g} s"
            ) from None
        except (imaplib.IMAP4.abort, imapclient.exceptions.IMAPClientAbortError, OSError) as exc:
            raise ConnectError(
                f"lost the connection to {self.spec.host} during {what} ({exc})",
                "run the command again; finished work is kept",
            ) from None
        except imapclient.exceptions.IMAPClientError as exc:  # a tagged NO or BAD
            text = server_text(exc)
            delay = imap_append.throttle_delay(text)
            if delay is not None:  # Exchange's "Request is throttled": reconnect after a wait
                raise ServerThrottled(
                    f"{self.spec.host} asked to slow down during {what}: {text}", delay
                ) from None
            if what in _READING:
                # Reading commands have no caller that expects a refusal: say it in one line
                # instead of letting imaplib's exception end the run with a traceback.
                if "[NONEXISTENT]" in text.upper():
                    raise FolderMissing(f"{self.spec.host}: the folder is gone ({text})") from None
                raise ProtocolError(f"{self.spec.host} refused {what}: {text}") from None
            raise

    def info(self) -> AccountInfo:
        if self._info is None:
            caps = parse_capabilities(self._call("CAPABILITY", self.client.capabilities))
            delimiter, prefix = None, ""
            if "NAMESPACE" in caps:
                personal = self._call("NAMESPACE", self.client.namespace).personal
                if personal:
                    prefix, delimiter = as_text(personal[0][0]), _opt_text(personal[0][1])
            if delimiter is None:
                listing = self._call("LIST", self.client.list_folders, "", "")
                if listing:
                    delimiter = _opt_text(listing[0][1])
            limit = next(
                (int(c.split("=", 1)[1]) for c in caps if c.startswith("APPENDLIMIT=")), None
            )
            welcome = self.client.welcome
            self._info = AccountInfo(
                delimiter=delimiter,
                prefix=prefix,
                capabilities=caps,
                append_limit=limit,
                greeting=welcome.decode("utf-8", "replace")
                if isinstance(welcome, bytes)
                else str(welcome or ""),
            )
        return self._info

    # -- folders -------------------------------------------------------------------------

    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        listing = self._call("LIST", self.client.list_folders)
        folders = [folder_from_list(flags, delim, name) for flags, delim, name in listing]
        if with_status:
            folders = [self.folder_status(f.name) if f.selectable else f for f in folders]
        folders = with_guessed_roles(folders, self.info().prefix)
        return sorted(folders, key=lambda f: (f.name.upper() != "INBOX", f.name))

    def folder_status(self, folder: str) -> FolderInfo:
        listing = self._call("LIST", self.client.list_folders, "", folder)
        if not listing:
            raise FolderMissing(f"no folder {folder!r} on {self.spec.display}")
        base = folder_from_list(*listing[0])
        if not base.selectable:
            return base
        items = ["MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY"]
        has_size = "STATUS=SIZE" in self.info().capabilities
        status = self._call(
            "STATUS", self.client.folder_status, folder, items + (["SIZE"] if has_size else [])
        )
        size = int(status.get(b"SIZE", 0)) if has_size else self._summed_size(folder)
        return FolderInfo(
            name=base.name,
            delimiter=base.delimiter,
            special_use=base.special_use,
            selectable=True,
            messages=int(status[b"MESSAGES"]),
            unseen=int(status[b"UNSEEN"]),
            size=size,
            uidvalidity=int(status[b"UIDVALIDITY"]),
            uidnext=int(status[b"UIDNEXT"]),
        )

    def _summed_size(self, folder: str) -> int:
        uids = self.uids(folder)
        total = 0
        for chunk in _chunks(uids, FETCH_CHUNK * 4):
            answer = self._call("FETCH", self.client.fetch, chunk, ["RFC822.SIZE"])
            total += sum(int(v.get(b"RFC822.SIZE", 0)) for v in answer.values())
        return total

    def _select(self, folder: str, *, write: bool = False) -> dict[bytes, Any]:
        readonly = self.readonly or not write
        if self._selected == (folder, readonly):
            return self._select_info
        if write and self.readonly:
            raise ProtocolError(f"{self.spec.display} is opened read-only")
        try:
            # _call turns lost connections and "slow down" answers into our errors and
            # leaves a plain NO, which for SELECT means the folder cannot be opened.
            self._select_info = self._call(
                "SELECT", self.client.select_folder, folder, readonly=readonly
            )
        except imapclient.exceptions.IMAPClientError as exc:
            self._selected = None
            raise FolderMissing(
                f"cannot open folder {folder!r} on {self.spec.display}: {server_text(exc)}"
            ) from None
        except MailmigError:
            self._selected = None
            raise
        self._selected = (folder, readonly)
        return self._select_info

    def uids(self, folder: str) -> list[int]:
        self._call("SELECT", self._select, folder)
        return sorted(int(u) for u in self._call("SEARCH", self.client.search, ["ALL"]))

    def permanent_flags(self, folder: str) -> frozenset[str] | None:
        if self.readonly:
            return None
        # EXAMINE always answers PERMANENTFLAGS (): only SELECT tells what the folder keeps.
        info = self._call("SELECT", self._select, folder, write=True)
        flags = info.get(b"PERMANENTFLAGS")
        if flags is None:
            return None
        names = frozenset(as_text(f) for f in flags)
        return None if "\\*" in names else names

    def newest_first(self, folder: str) -> list[int]:
        self._call("SELECT", self._select, folder)
        if "SORT" in self.info().capabilities:
            return [int(u) for u in self._call("SORT", self.client.sort, ["REVERSE", "ARRIVAL"])]
        dates: dict[int, datetime] = {}
        for chunk in _chunks(self.uids(folder), FETCH_CHUNK * 4):
            answer = self._call("FETCH", self.client.fetch, chunk, ["INTERNALDATE"])
            dates.update((int(u), d[b"INTERNALDATE"]) for u, d in answer.items())
        return sorted(dates, key=lambda u: (dates[u], u), reverse=True)

    # -- reading -------------------------------------------------------------------------

    def summaries(self, folder: str, uids: Sequence[int]) -> list[MessageSummary]:
        self._call("SELECT", self._select, folder)
        rows: dict[int, MessageSummary] = {}
        items = ["INTERNALDATE", "FLAGS", "RFC822.SIZE", HEADER_ITEM]
        for chunk in _chunks(list(uids), FETCH_CHUNK):
            answer = self._call("FETCH", self.client.fetch, chunk, items)
            for uid, data in answer.items():
                rows[int(uid)] = build_summary(
                    int(uid),
                    data.get(b"INTERNALDATE"),
                    _flags(data.get(b"FLAGS", ())),
                    int(data.get(b"RFC822.SIZE", 0)),
                    _header_block(data),
                )
        return [rows[u] for u in uids if u in rows]

    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        self._call("SELECT", self._select, folder)
        probes: list[HeaderProbe] = []
        items = ["INTERNALDATE", "FLAGS", "RFC822.SIZE", HEADER_ITEM]
        for chunk in _chunks(sorted(uids), FETCH_CHUNK * 2):
            answer = self._call("FETCH", self.client.fetch, chunk, items)
            for uid in chunk:
                data = answer.get(uid)
                if data is None:
                    continue
                probes.append(
                    HeaderProbe(
                        uid=uid,
                        size=int(data.get(b"RFC822.SIZE", 0)),
                        internaldate=data.get(b"INTERNALDATE"),
                        headers=_header_block(data),
                        flags=_flags(data.get(b"FLAGS", ())),
                    )
                )
        return probes

    def sizes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        self._call("SELECT", self._select, folder)
        probes: list[HeaderProbe] = []
        for chunk in _chunks(sorted(uids), FETCH_CHUNK * 4):
            answer = self._call("FETCH", self.client.fetch, chunk, ["RFC822.SIZE"])
            probes.extend(
                HeaderProbe(uid, int(answer[uid].get(b"RFC822.SIZE", 0)), None, b"")
                for uid in chunk
                if uid in answer
            )
        return probes

    def flags(self, folder: str, uids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        self._call("SELECT", self._select, folder)
        result: dict[int, tuple[str, ...]] = {}
        for chunk in _chunks(sorted(uids), FETCH_CHUNK * 4):
            answer = self._call("FETCH", self.client.fetch, chunk, ["FLAGS"])
            result.update((int(u), _flags(d.get(b"FLAGS", ()))) for u, d in answer.items())
        return result

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        self._call("SELECT", self._select, folder)
        for chunk in _chunks(sorted(uids), 50):
            answer = self._call(
                "FETCH", self.client.fetch, chunk, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]
            )
            for uid in chunk:
                data = answer.get(uid)
                if data is None or b"BODY[]" not in data:
                    continue
                yield Message(
                    uid=uid,
                    data=bytes(data[b"BODY[]"]),
                    flags=_flags(data.get(b"FLAGS", ())),
                    internaldate=data.get(b"INTERNALDATE"),
                )
            del answer

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        self._call("SELECT", self._select, folder)
        criteria: list[Any] = []
        for key, value in (
            ("FROM", query.sender),
            ("SUBJECT", query.subject),
            ("TEXT", query.text),
        ):
            if value:
                criteria += [key, value]
        if query.since:
            criteria += ["SINCE", query.since.date()]
        if query.before:
            criteria += ["BEFORE", query.before.date()]
        if query.larger is not None:
            criteria += ["LARGER", query.larger]
        charset = "UTF-8" if any(isinstance(c, str) and not c.isascii() for c in criteria) else None
        result = self._call("SEARCH", self.client.search, criteria or ["ALL"], charset)
        return sorted(int(u) for u in result)

    # -- writing -------------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self.readonly:
            raise ProtocolError(f"{self.spec.display} is opened read-only")

    def create_folder(self, folder: str) -> None:
        self._require_writable()
        try:
            self._call("CREATE", self.client.create_folder, folder)
        except imapclient.exceptions.IMAPClientError as exc:
            # Another client (or our own lost attempt) made it meanwhile: that is success.
            text = str(exc).upper()
            if "ALREADYEXISTS" not in text and "ALREADY EXISTS" not in text:
                raise ProtocolError(
                    f"{self.spec.host} refused to create folder {folder!r}: {server_text(exc)}",
                    "check the name is allowed on the target, or map it with --map",
                ) from None
        try:
            self._call("SUBSCRIBE", self.client.subscribe_folder, folder)
        except imapclient.exceptions.IMAPClientError as exc:
            log.info("could not subscribe %r: %s", folder, exc)

    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        self._require_writable()
        if not messages:
            return []
        caps = self.info().capabilities
        if "LITERAL+" not in caps:
            results: list[AppendResult] = []
            for message in messages:
                results.append(self._append_one(folder, message))
                error = results[-1].error
                if isinstance(error, Throttled):
                    # Sending the rest now would only be throttled too: hand them back
                    # unsent, with the same answer, to be retried in order after the wait.
                    results += [AppendResult(None, error=error)] * (len(messages) - len(results))
                    break
            return results
        wire = self._wire_name(folder)
        host, imap = self.spec.host, self.client._imap
        if "MULTIAPPEND" in caps and len(messages) > 1:
            typ, text = self._call("APPEND", imap_append.append_multi, imap, wire, messages)
            if typ == "OK":
                return imap_append.multi_results(len(messages), text)
            said = text.decode("utf-8", "replace").strip()
            refused = imap_append.refusal(host, folder, said)
            if isinstance(refused, Throttled):  # nothing stored: retry all later
                return [AppendResult(None, error=refused) for _m in messages]
            # All-or-nothing refused: resend singly to learn which message is the problem.
        answers = self._call("APPEND", imap_append.append_pipelined, imap, wire, messages)
        return imap_append.results(host, folder, answers)

    def _wire_name(self, folder: str) -> bytes:
        wire = self.client._normalise_folder(folder)  # mUTF-7, quoted
        return wire if isinstance(wire, bytes) else str(wire).encode("ascii")

    def _append_one(self, folder: str, message: Message) -> AppendResult:
        """Synchronous APPEND for servers without LITERAL+ (Exchange, Gmail).

        Not imapclient's append(): it goes through imaplib's, which turns every bare CR and
        LF into CRLF, so a message with a bare CR would arrive altered (and larger, so that
        verify and the next run's content identity would not recognise it as the copy).
        """
        imap = self.client._imap
        try:
            answer = self._call(
                "APPEND", imap_append.append_one, imap, self._wire_name(folder), message
            )
        except imapclient.exceptions.IMAPClientError as exc:  # BAD
            return AppendResult(
                None, error=imap_append.refusal(self.spec.host, folder, server_text(exc))
            )
        except ServerThrottled as exc:  # `_call` turned a throttling BAD into this
            return AppendResult(None, error=Throttled(exc.message, exc.delay))
        return imap_append.results(self.spec.host, folder, [answer])[0]

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        self._call("SELECT", self._select, folder, write=True)
        self._call("STORE", self.client.set_flags, [uid], list(flags), silent=True)

    def quota(self, folder: str) -> tuple[int, int] | None:
        if "QUOTA" not in self.info().capabilities:
            return None
        try:
            _roots, quotas = self._call(
                "GETQUOTAROOT", self.client.get_quota_root, self.client._normalise_folder(folder)
            )
        except (imapclient.exceptions.IMAPClientError, IndexError):
            return None  # IndexError: imapclient on a "No quota" answer without QUOTAROOT
        for quota in quotas:
            if str(quota.resource).upper() == "STORAGE":
                return int(quota.usage) * 1024, int(quota.limit) * 1024
        return None


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _opt_text(value: Any) -> str | None:
    return None if value is None else as_text(value)


def _flags(values: Any) -> tuple[str, ...]:
    return tuple(as_text(v) for v in values if as_text(v).lower() != "\\recent")


def _header_block(data: dict[bytes, Any]) -> bytes:
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER.FIELDS") and value:
            return bytes(value)
    return b""
