"""IMAP accounts on imapclient: connecting, listing, reading read-only, appending.

imapclient is untyped and speaks in bytes keys and tuples; this module is the one place that
converts its answers into our dataclasses and its exceptions into our one-line errors. One
`ImapStore` is one connection and must stay on one thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import imaplib
import logging
import socket
import threading
import time
from collections.abc import Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import imapclient
import imapclient.exceptions

from mailmig_tui.errors import (
    ConnectError,
    FolderMissing,
    MailmigError,
    MessageRejected,
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
from mailmig_tui.stores import (
    imap_append,
    imap_esearch,
    imap_pipelined,
    imap_prepare,
    imap_probe_ahead,
    imap_remove,
    imap_staging,
)
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery, as_text
from mailmig_tui.stores.imap_compact import shared_flags, shared_zone
from mailmig_tui.stores.imap_connect import open_client, server_text, shutdown
from mailmig_tui.stores.imap_folders import folder_from_list, parse_capabilities

log = logging.getLogger(__name__)


class AppendCut(ConnectError):
    """The connection broke while reading a ticket's answers; `results` are those of its
    first messages, answered before it broke (the rest are unknown)."""

    def __init__(self, message: str, hint: str, results: list[AppendResult]) -> None:
        super().__init__(message, hint)
        self.results = results


@dataclass
class MultiAppend:
    """One MULTIAPPEND command that the tickets of consecutive batches add messages to."""

    folder: str
    tag: bytes
    messages: list[Message] = field(default_factory=list)
    closed: bool = False
    results: list[AppendResult] | None = None
    """Once its answer is read (and a refusal resent singly), one per message."""


@dataclass
class AppendTicket:
    """APPENDs sent by `ImapStore.append_send` whose answers are still to be read."""

    folder: str
    commands: list[imap_append.SentAppend] = field(default_factory=list)
    unsent: tuple[Message, ...] = ()
    """Held back after the server asked to slow down: handed back as throttled."""
    unsent_reason: MessageRejected | None = None
    multi: MultiAppend | None = None
    """The MULTIAPPEND holding this ticket's messages, from index `first` on."""
    first: int = 0
    count: int = 0


SUMMARY_FIELDS = "DATE FROM TO SUBJECT MESSAGE-ID"
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({SUMMARY_FIELDS})]"
PROBE_ITEM = (
    f"BODY.PEEK[HEADER.FIELDS ({SUMMARY_FIELDS} STATUS X-STATUS X-UID X-KEYWORDS "
    "CONTENT-LENGTH X-IMAP X-IMAPBASE)]"
)
"""Probes also take the fields mbox servers rewrite, so identity can leave them out."""
FETCH_CHUNK = 500
"""UIDs per FETCH: explicit lists (imapclient 4 rejects ranges) keep commands a few KB."""
PROBES_AHEAD = 2
"""Probe FETCHes on their way while one answer is read: far away, a chunk's answer is
parsed in less than a round trip, so one request ahead leaves the line idle."""
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
        self._broken: ConnectError | None = None
        self._open_multi: MultiAppend | None = None
        """A MULTIAPPEND still taking messages (its CRLF not sent)."""
        self._unanswered_multi: MultiAppend | None = None
        """A closed MULTIAPPEND whose answer is not read yet."""
        """Why the connection is unusable: after a timeout or an abort, whatever the server
        sends next belongs to the command that failed, so no later command may use it."""
        self._closed = False
        self._round_trip: float | None = None
        """The fastest round trip a command of this connection took (see `_timed`)."""
        _no_delay(client)

    # -- connection ----------------------------------------------------------------------

    def close(self) -> None:
        """Send LOGOUT and return at once: a thread reads the answer and closes the
        connection (each LOGOUT waited for cost a round trip between phases). A broken
        connection is just closed."""
        if self._closed:
            return
        self._closed = True
        imap = self.client._imap
        tag: bytes | None = None
        if self._broken is None and self._open_multi is None:
            try:
                tag = imap._new_tag()
                imap.send(tag + b" LOGOUT\r\n")
            except Exception:
                tag = None
        if tag is None:
            shutdown(self.client)
            return
        threading.Thread(
            target=_finish_logout, args=(self.client, tag), name="mailmig-logout", daemon=True
        ).start()

    def round_trip(self) -> float | None:
        return self._round_trip

    def _timed(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        """`_call` for a command known to go to the server (never a cached answer), timed:
        the fastest of them is the connection's round trip, measured at no extra cost."""
        started = time.perf_counter()
        result = self._call(what, func, *args, **kwargs)
        took = time.perf_counter() - started
        if self._round_trip is None or took < self._round_trip:
            self._round_trip = took
        return result

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run an imapclient call, turning lost connections and timeouts into our errors.

        A connection that failed once stays failed (`_broken`), with the first reason: a
        caller that carried on after one (a planning sample) must not hide it behind
        "cannot read from timed out object" on the next command."""
        if self._open_multi is not None:
            self._close_multi(what)  # another command must not land inside its literals
        return self._run(what, func, *args, **kwargs)

    def _run(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self._broken is not None:
            raise type(self._broken)(self._broken.message, self._broken.hint)
        try:
            return func(*args, **kwargs)
        except MailmigError:
            raise
        except TimeoutError:
            self._broken = TimeoutError_(
                f"{self.spec.host} did not answer {what} within {self.spec.timeout:g} s"
            )
            raise TimeoutError_(self._broken.message, self._broken.hint) from None
        except (imaplib.IMAP4.abort, imapclient.exceptions.IMAPClientAbortError, OSError) as exc:
            self._broken = ConnectError(
                f"lost the connection to {self.spec.host} during {what} ({exc})",
                "run the command again; finished work is kept",
            )
            raise ConnectError(self._broken.message, self._broken.hint) from None
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
                personal = self._timed("NAMESPACE", self.client.namespace).personal
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
        folders = self._list_with_status() if with_status and self._has("LIST-STATUS") else None
        if folders is None:
            listing = self._timed("LIST", self.client.list_folders)
            folders = [folder_from_list(flags, delim, name) for flags, delim, name in listing]
            if with_status:
                folders = self._statuses(folders)
        folders = with_guessed_roles(folders, self.info().prefix)
        return sorted(folders, key=lambda f: (f.name.upper() != "INBOX", f.name))

    def _statuses(self, folders: list[FolderInfo]) -> list[FolderInfo]:
        """STATUS of every selectable folder, pipelined: one round trip, not one per folder
        (a folder the server refuses is asked again alone, for its own error)."""
        wanted = [f for f in folders if f.selectable]
        size = self._has("STATUS=SIZE")
        wires = [self._wire_name(f.name) for f in wanted]
        answers = self._timed("STATUS", imap_pipelined.statuses, self.client._imap, wires, size)
        figures = {
            folder.name: self._with_figures(folder, answer.data if answer.ok else {}, size)
            for folder, answer in zip(wanted, answers, strict=True)
        }
        return [figures.get(f.name, f) for f in folders]

    def _with_figures(self, folder: FolderInfo, data: dict[bytes, int], size: bool) -> FolderInfo:
        """`folder` with its STATUS figures, or asked alone when they are incomplete."""
        if not all(k in data for k in imap_pipelined.STATUS_ITEMS):
            return self._status_or_error(folder)
        return dataclasses.replace(
            folder,
            messages=data[b"MESSAGES"],
            unseen=data[b"UNSEEN"],
            size=data.get(b"SIZE", 0) if size else self._summed_size(folder.name),
            uidvalidity=data[b"UIDVALIDITY"],
            uidnext=data[b"UIDNEXT"],
        )

    def _list_with_status(self) -> list[FolderInfo] | None:
        """LIST with the STATUS of every folder in the same answer (RFC 5819): one round
        trip instead of two. None when the server refuses it (the caller asks the usual
        way)."""
        size = self._has("STATUS=SIZE")
        items = b" ".join(imap_pipelined.STATUS_ITEMS + ((b"SIZE",) if size else ()))
        # With RETURN options a server only reports the attributes asked for: ask for those
        # a plain LIST reports (RFC 5258 CHILDREN, RFC 6154 SPECIAL-USE) as well.
        options = [b"CHILDREN"] if self._has("LIST-EXTENDED") else []
        options += [b"SPECIAL-USE"] if self._has("SPECIAL-USE") else []
        options.append(b"STATUS (" + items + b")")
        imap = self.client._imap
        args = (b'""', b'"*"', b"RETURN", b"(" + b" ".join(options) + b")")
        try:
            typ, _said = self._timed("LIST", imap._simple_command, "LIST", *args)
        except ProtocolError:  # BAD: a server announcing what it does not take
            typ = "BAD"
        listed = imap.untagged_responses.pop("LIST", [])
        statuses = imap.untagged_responses.pop("STATUS", [])
        if typ != "OK":
            return None
        folders = [
            folder_from_list(flags, delim, name)
            for flags, delim, name in self.client._proc_folder_list(listed)
        ]
        figures = imap_pipelined.status_lines(statuses, decode=self.client.folder_encode)
        return [
            self._with_figures(f, figures.get(f.name, {}), size) if f.selectable else f
            for f in folders
        ]

    def uid_sizes(self, folders: Sequence[str]) -> dict[str, dict[int, int]]:
        """uid -> size of every message of each folder (EXAMINE and UID FETCH 1:*,
        pipelined for all folders); a folder the server refuses is left out."""
        return {folder: sizes for folder, (sizes, _f) in self.sizes_and_flags(folders).items()}

    def sizes_and_flags(
        self, folders: Sequence[str], flagged: Collection[str] = ()
    ) -> dict[str, tuple[dict[int, int], dict[int, tuple[str, ...]] | None]]:
        """As `uid_sizes`, with the flags of every message of the `flagged` folders (None
        for the others), in the same pipelined round trip."""
        self._selected = None  # the pipeline leaves some folder selected: SELECT anew
        wires = [self._wire_name(f) for f in folders]
        marks = [f in flagged for f in folders]
        imap = self.client._imap
        answers = self._timed("FETCH", imap_pipelined.uid_sizes_flags, imap, wires, marks)
        self._examined_last(folders, answers[-1][0].ok if answers else False)
        return {
            folder: (sizes, flags)
            for folder, (answer, sizes, flags) in zip(folders, answers, strict=True)
            if answer.ok
        }

    def uid_lists(self, folders: Sequence[str]) -> dict[str, tuple[int, list[int]]]:
        """(UIDVALIDITY, ascending UIDs) of each folder, EXAMINE and UID SEARCH pipelined
        for all folders; a folder the server refuses is left out (the caller asks it alone)."""
        self._selected = None
        wires = [self._wire_name(f) for f in folders]
        esearch = self._has("ESEARCH")
        answers = self._timed("SEARCH", imap_pipelined.uid_lists, self.client._imap, wires, esearch)
        self._examined_last(folders, answers[-1].ok if answers else False)
        return {
            folder: (answer.uidvalidity, answer.uids)
            for folder, answer in zip(folders, answers, strict=True)
            if answer.ok
        }

    def _examined_last(self, folders: Sequence[str], ok: bool) -> None:
        """A pipeline of EXAMINEs leaves its last folder selected read-only when it
        succeeded: the next command there needs no EXAMINE of its own."""
        self._selected = (folders[-1], True) if ok and folders else None
        self._select_info = {}
        if self._selected is not None:  # imaplib checks its own idea of the state
            self.client._imap.state = "SELECTED"
            self.client._imap.is_readonly = True

    def _status_or_error(self, folder: FolderInfo) -> FolderInfo:
        """The folder's figures, or the folder with the reason it cannot be read: one
        unreadable folder must not hide the others (a lost connection still raises)."""
        try:
            return self.folder_status(folder.name)
        except ConnectError:
            raise
        except (ProtocolError, FolderMissing) as exc:
            return dataclasses.replace(folder, error=exc.one_line())

    def folder_status(self, folder: str) -> FolderInfo:
        listing = self._timed("LIST", self.client.list_folders, "", folder)
        if not listing:
            raise FolderMissing(f"no folder {folder!r} on {self.spec.display}")
        base = folder_from_list(*listing[0])
        if not base.selectable:
            return base
        items = ["MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY"]
        has_size = "STATUS=SIZE" in self.info().capabilities
        status = self._timed(
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
            self._select_info = self._timed(
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

    def _leave_writable(self) -> None:
        """Close the folder opened read-write, without expunging, where UNSELECT allows.

        Never APPEND into the folder this session holds read-write: GNU Mailutils imap4d
        (mbox) rewrites the file from its stale view when the session ends, losing every
        message appended meanwhile but the first, and their flags. (Not EXAMINE instead:
        Courier refuses an APPEND into a folder selected read-only; not CLOSE: it would
        expunge.)"""
        if self._has("UNSELECT"):
            self._selected = None
            self._call("UNSELECT", self.client.unselect_folder)

    def uids(self, folder: str) -> list[int]:
        # Capabilities first: the login's answer is kept only until a SELECT, after which
        # asking costs a CAPABILITY round trip.
        esearch = self._has("ESEARCH")
        self._call("SELECT", self._select, folder)
        if esearch:
            return sorted(self._esearch(b"SEARCH", [b"ALL"]))
        return sorted(int(u) for u in self._call("SEARCH", self.client.search, ["ALL"]))

    def _has(self, capability: str) -> bool:
        """Whether the server has `capability`, without the NAMESPACE and LIST round trips
        a first `info()` adds (imapclient keeps the CAPABILITY answer of the login)."""
        if self._info is not None:
            return capability in self._info.capabilities
        caps = parse_capabilities(self._call("CAPABILITY", self.client.capabilities))
        return capability in caps

    def _esearch(self, command: bytes, args: list[bytes]) -> list[int]:
        """`UID SEARCH|SORT RETURN (ALL) …`: the matching UIDs as one compact sequence set
        (RFC 4731/5267) instead of one number each, in the order the server gives."""
        answer = self._call(
            command.decode(),
            self.client._raw_command_untagged,
            command,
            [b"RETURN", b"(ALL)", *args],
            response_name="ESEARCH",
        )
        # Several untagged ESEARCH lines cannot come for one command; none means no match.
        return imap_esearch.esearch_all(answer[0]) if answer and answer[0] else []

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
        if self._has("ESORT"):
            return self._esearch(b"SORT", [b"(REVERSE ARRIVAL)", b"UTF-8", b"ALL"])
        if self._has("SORT"):
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
        items = ["INTERNALDATE", "FLAGS", "RFC822.SIZE", PROBE_ITEM]
        for chunk in _chunks(sorted(uids), FETCH_CHUNK * 2):
            answer = self._call("FETCH", self.client.fetch, chunk, items)
            probes.extend(_probe(uid, answer[uid]) for uid in chunk if uid in answer)
        return probes

    def probes_ahead(
        self, folder: str, uids: Sequence[int]
    ) -> Generator[tuple[list[HeaderProbe], int], None, None]:
        """`probes` a chunk at a time, with (probes, UIDs asked) per chunk; the next chunk's
        FETCH is sent before this one's answer is read (`imap_probe_ahead`). Close the
        iterator when leaving early: that reads what is still on its way."""
        self._call("SELECT", self._select, folder)
        chunks = list(_chunks(sorted(uids), FETCH_CHUNK * 2))
        items = ["INTERNALDATE", "FLAGS", "RFC822.SIZE", PROBE_ITEM]
        answers = imap_probe_ahead.fetch_ahead(
            self.client._imap,
            chunks,
            items,
            normalise_times=self.client.normalise_times,
            ahead=PROBES_AHEAD,
        )
        try:
            for chunk in chunks:
                answer = self._call("FETCH", next, answers)
                yield [_probe(uid, answer[uid]) for uid in chunk if uid in answer], len(chunk)
        finally:
            answers.close()

    def sizes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        # One FETCH per 1,000 UID ranges (a whole 100,000-message folder is "1:100000"),
        # read by a regex: a round trip per 2,000 messages costs seconds at 50 ms.
        self._call("SELECT", self._select, folder)
        wanted = sorted(set(uids))
        found: dict[int, int] = {}
        for piece in imap_esearch.compact_pieces(wanted):
            typ, data = self._call("FETCH", self.client._imap.uid, "FETCH", piece, "(RFC822.SIZE)")
            if typ != "OK":
                raise ProtocolError(f"{self.spec.host} refused FETCH: {_said(data)}")
            found.update(imap_esearch.fetch_sizes(data))
        return [HeaderProbe(uid, found[uid], None, b"") for uid in wanted if uid in found]

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
        return self.search_within(folder, query, "")

    def search_within(self, folder: str, query: SearchQuery, uid_set: str) -> list[int]:
        """`search` among the UIDs of `uid_set` (`1:5000`, `5001:*`; "" for all): one
        part of a search split over several connections (`engine.split_search`)."""
        self._call("SELECT", self._select, folder)
        criteria: list[Any] = ["UID", uid_set] if uid_set else []
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
        if self._has("ESEARCH"):
            args = [b"CHARSET", b"UTF-8"] if charset else []
            args += imapclient.imapclient._normalise_search_criteria(criteria or ["ALL"], charset)
            return sorted(self._esearch(b"SEARCH", args))
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
        return self.append_receive(self.append_send(folder, messages))

    def append_send(self, folder: str, messages: Sequence[Message]) -> AppendTicket:
        """Send the APPENDs for `messages` without reading their answers (see
        `append_receive`, which must be called for tickets in the order they were sent).

        With LITERAL+ and MULTIAPPEND the messages join the open MULTIAPPEND of this
        folder (opening one when there is none); it is closed by the first `append_receive`
        of its tickets or by any other command. A new MULTIAPPEND is only opened once the
        previous one is answered, so a refused one is resent before anything after it.
        With LITERAL+ alone each message is a pipelined APPEND. Without it each message
        waits for the server's "+" only, one round trip instead of two; after a "slow
        down" answer the rest are not sent but handed back as throttled, to be retried in
        order.
        """
        self._require_writable()
        ticket = AppendTicket(folder)
        if not messages:
            return ticket
        if self._selected == (folder, False):
            self._leave_writable()
        # Not info(): its NAMESPACE would cost a worker's fresh connection a round trip.
        caps = self._info.capabilities if self._info else self._login_capabilities()
        wire = self._wire_name(folder)
        imap = self.client._imap
        if "LITERAL+" in caps and "MULTIAPPEND" in caps:
            command = self._open_multi
            if command is None or command.folder != folder:
                if command is not None:
                    self._close_multi("APPEND")
                if not self._can_withdraw():
                    self._answer_multi()  # else it streams while the last one is answered
                tag = self._run("APPEND", imap_append.open_multi, imap, wire)
                command = self._open_multi = MultiAppend(folder, tag)
            ticket.multi, ticket.first, ticket.count = command, len(command.messages), len(messages)
            command.messages.extend(messages)
            self._run("APPEND", imap_append.send_literals, imap, messages)
            return ticket
        self._answer_multi()
        if "LITERAL+" in caps:
            for message in messages:
                sent = self._call("APPEND", imap_append.send_single, imap, wire, message)
                ticket.commands.append(sent)
            return ticket
        for index, message in enumerate(messages):
            said = imap_append.earlier_refusal(imap, ticket.commands)
            if said is not None:
                ticket.unsent = tuple(messages[index:])
                ticket.unsent_reason = imap_append.refusal(self.spec.host, folder, said)
                break
            sent = self._call("APPEND", imap_append.send_synchronising, imap, wire, message)
            ticket.commands.append(sent)
        return ticket

    def append_receive(self, ticket: AppendTicket) -> list[AppendResult]:
        """The results of a ticket's APPENDs, one per message in the order sent."""
        if ticket.multi is not None:
            results = self._multi_results(ticket.multi)
            return results[ticket.first : ticket.first + ticket.count]
        host, folder, imap = self.spec.host, ticket.folder, self.client._imap
        results = []
        for command in ticket.commands:
            try:
                (typ, text) = self._call("APPEND", imap_append.receive_all, imap, [command])[0]
            except ConnectError as exc:
                if not results or isinstance(exc, ServerThrottled):
                    raise
                # What was answered before the line broke is copied: say so with the loss.
                raise AppendCut(exc.message, exc.hint, results) from None
            results += imap_append.results(host, folder, [(typ, text)])
        reason = ticket.unsent_reason
        if ticket.unsent and isinstance(reason, Throttled):
            results += [AppendResult(None, error=reason) for _m in ticket.unsent]
        return results

    def append_flush(self) -> None:
        """End the open MULTIAPPEND now, so the server stores its messages while we go on
        (its answer is still read by `append_receive`)."""
        self._close_multi("APPEND")

    def _can_withdraw(self) -> bool:
        """Whether an open MULTIAPPEND can be withdrawn (`imap_append.withdraw`), so the
        next one may stream while the last is answered: Dovecot's refusal of an empty
        message is known; elsewhere each waits for the last one's answer."""
        welcome = self.client.welcome
        text = welcome.decode("utf-8", "replace") if isinstance(welcome, bytes) else str(welcome)
        return "dovecot" in text.lower()

    def _login_capabilities(self) -> frozenset[str]:
        """The capabilities, from the login's answer where it gave them (no round trip)."""
        return parse_capabilities(self._call("CAPABILITY", self.client.capabilities))

    def prepare_folders(
        self, folders: Sequence[tuple[str, bool]]
    ) -> dict[str, imap_prepare.Prepared]:
        """Make (folder, create) ready to append to, all in one round trip: created when
        `create`, and its PERMANENTFLAGS read (`imap_prepare`). A folder left out failed
        and is to be done the usual way. Only where UNSELECT leaves none selected."""
        self._require_writable()
        caps = self._info.capabilities if self._info else self._login_capabilities()
        if not folders or "UNSELECT" not in caps:
            return {}
        wires = [(self._wire_name(name), create) for name, create in folders]
        answers = self._call("SELECT", imap_prepare.prepare, self.client._imap, wires)
        self._selected = None
        return {
            name: answer
            for (name, _create), answer in zip(folders, answers, strict=True)
            if answer is not None
        }

    # -- staging folders (`imap_staging`): a big folder over several connections ---------

    def staging_name(self, folder: str, part: int) -> str | None:
        """The hidden folder part `part` of `folder` is staged in, or None where staging
        cannot help or cannot keep the order: APPENDs that do not wait a round trip each
        (LITERAL+), no COPYUID (UIDPLUS) or no UNSELECT."""
        caps = self._info.capabilities if self._info else self._login_capabilities()
        if "LITERAL+" in caps or not {"UIDPLUS", "UNSELECT"} <= caps:
            return None  # decided before info(), whose NAMESPACE costs a round trip
        digest = hashlib.sha256(folder.encode("utf-8")).hexdigest()[:10]
        return f"{self.info().prefix}{imap_staging.STAGING_MARK}{digest}-{part}"

    def recreate_staging(self, name: str) -> None:
        """`name` empty and ready: whatever an interrupted run left there is deleted."""
        self._require_writable()
        self._login_capabilities()  # kept by imapclient before the pipeline clears them
        self._selected = None
        wire = self._wire_name(name)
        made, text = self._call("CREATE", imap_staging.recreate, self.client._imap, wire)
        if not made:
            raise ProtocolError(f"{self.spec.host} refused to create {name!r}: {text}")

    def move_staged(self, staging: str, folder: str) -> imap_staging.Moved:
        """Move every message of `staging` into `folder` in UID order, then delete
        `staging`."""
        self._require_writable()
        self._selected = None
        move = "MOVE" in self.info().capabilities
        wires = (self._wire_name(staging), self._wire_name(folder))
        answer: imap_staging.Moved = self._call(
            "COPY", imap_staging.move_all, self.client._imap, *wires, move=move
        )
        return answer

    def drop_leftover_staging(self) -> list[str]:
        """Delete the staging folders an interrupted run left (never journaled, so nothing
        in them is counted as copied); their names. Only where staging can happen."""
        if self.staging_name("INBOX", 1) is None:
            return []
        pattern = f"*{imap_staging.STAGING_MARK}*"
        listing = self._call("LIST", self.client.list_folders, "", pattern)
        names = [as_text(name) for _flags, _delim, name in listing]
        names = [n for n in names if imap_staging.STAGING_MARK in n]
        if names:
            self.drop_staging(names)
        return names

    def drop_staging(self, names: Sequence[str]) -> None:
        self._require_writable()
        self._selected = None
        wires = [self._wire_name(name) for name in names]
        self._call("DELETE", imap_staging.drop, self.client._imap, wires)

    def _close_multi(self, what: str) -> None:
        """End the open MULTIAPPEND (its answer is read later, by `_answer_multi`), once
        the one before it is answered: a refusal there withdraws and resends this one."""
        command = self._open_multi
        if command is None:
            return
        self._answer_multi()
        self._open_multi = None
        command.closed = True
        self._unanswered_multi = command
        self._run(what, imap_append.close_command, self.client._imap)

    def _withdraw(self, command: MultiAppend) -> None:
        imap = self.client._imap
        self._run("APPEND", imap_append.withdraw, imap)
        sent = imap_append.SentAppend(command.tag, (), True)
        (typ, text) = self._run("APPEND", imap_append.receive_all, imap, [sent])[0]
        if typ == "OK":  # stored after all: the order can no longer be kept
            raise ProtocolError(
                f"{self.spec.host} stored a MULTIAPPEND meant to be withdrawn: {as_text(text)}"
            )

    def _reopen(self, command: MultiAppend) -> None:
        imap = self.client._imap
        command.tag = self._run(
            "APPEND", imap_append.open_multi, imap, self._wire_name(command.folder)
        )
        self._run("APPEND", imap_append.send_literals, imap, command.messages)

    def _answer_multi(self) -> None:
        """Read the answer of the last MULTIAPPEND, if not yet done (see `_multi_results`)."""
        if self._unanswered_multi is not None:
            self._multi_results(self._unanswered_multi)

    def _multi_results(self, command: MultiAppend) -> list[AppendResult]:
        if command.results is not None:
            return command.results
        if not command.closed:
            self._close_multi("APPEND")
        host, folder, imap = self.spec.host, command.folder, self.client._imap
        sent = imap_append.SentAppend(command.tag, tuple(command.messages), True)
        (typ, text) = self._run("APPEND", imap_append.receive_all, imap, [sent])[0]
        self._unanswered_multi = None
        count = len(command.messages)
        refused = None if typ == "OK" else imap_append.refusal(host, folder, as_text(text).strip())
        if refused is None:
            command.results = imap_append.multi_results(count, text)
        elif isinstance(refused, Throttled):  # nothing stored: retry all later
            command.results = [AppendResult(None, error=refused)] * count
        else:
            # All-or-nothing refused: resend singly to learn which message is the problem.
            # A MULTIAPPEND streaming after it is withdrawn first and sent again after, so
            # everything still lands in order.
            later = self._open_multi
            if later is not None:
                self._withdraw(later)
            wire = self._wire_name(folder)
            singles = self._run(
                "APPEND", imap_append.append_pipelined, imap, wire, command.messages
            )
            command.results = imap_append.results(host, folder, singles)
            if later is not None:
                self._reopen(later)
        command.messages = []  # answered: the bodies are no longer needed here
        return command.results

    def _wire_name(self, folder: str) -> bytes:
        wire = self.client._normalise_folder(folder)  # mUTF-7, quoted
        return wire if isinstance(wire, bytes) else str(wire).encode("ascii")

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        self.set_flags_of(folder, [uid], flags)

    def set_flags_of(self, folder: str, uids: Sequence[int], flags: Sequence[str]) -> None:
        self._call("SELECT", self._select, folder, write=True)
        self._call("STORE", self.client.set_flags, list(uids), list(flags), silent=True)

    def removal_refusal(self) -> str:
        return imap_remove.refusal(self)

    def remove(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
        return imap_remove.remove(self, folder, uidvalidity, uids)

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


def _finish_logout(client: imapclient.IMAPClient, tag: bytes) -> None:
    """Read LOGOUT's answer (so the server ends the session cleanly), then close."""
    with contextlib.suppress(Exception):
        client._imap._get_tagged_response(tag, expect_bye=True)
    shutdown(client)


def _probe(uid: int, data: dict[bytes, Any]) -> HeaderProbe:
    return HeaderProbe(
        uid=uid,
        size=int(data.get(b"RFC822.SIZE", 0)),
        internaldate=shared_zone(data.get(b"INTERNALDATE")),
        headers=_header_block(data),
        flags=_flags(data.get(b"FLAGS", ())),
    )


def _no_delay(client: imapclient.IMAPClient) -> None:
    """Send small writes at once (TCP_NODELAY). A synchronising literal's command line, and
    the CRLF that ends an APPEND, are tiny writes after big ones; Nagle's algorithm would
    hold each until the previous data is acknowledged, which a delayed ACK makes 40 ms:
    per message, on a server without LITERAL+."""
    sock = getattr(getattr(client, "_imap", None), "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _said(data: Any) -> str:
    """The text of an imaplib NO answer."""
    return " ".join(as_text(d) for d in data or () if isinstance(d, (bytes, str))).strip()


def _opt_text(value: Any) -> str | None:
    return None if value is None else as_text(value)


def _flags(values: Any) -> tuple[str, ...]:
    return shared_flags(values)


def _header_block(data: dict[bytes, Any]) -> bytes:
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER.FIELDS") and value:
            return bytes(value)
    return b""
