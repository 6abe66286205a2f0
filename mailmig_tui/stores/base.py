"""The interface every mail store implements: IMAP accounts and local Maildir/mbox trees.

The engine and the UI talk only to `MailStore`. A store object owns one connection (or file
handle set) and is used from one thread; a second thread opens a second store with
`open_store(spec)`. Folder names are always full Unicode names as `list_folders` returns them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from mailmig_tui.errors import ProtocolError
from mailmig_tui.model import AccountInfo, AppendResult, FolderInfo, Message, MessageSummary


def as_text(value: Any) -> str:
    """A protocol library's value (bytes or str) as text; undecodable bytes never raise."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)  # one per message in a plan: keep them small
class HeaderProbe:
    """What the engine needs to recognise a message by content: size, date, a few headers."""

    uid: int
    size: int
    """Size with CRLF line endings, as IMAP's RFC822.SIZE counts it."""
    internaldate: datetime | None
    headers: bytes
    """The raw Message-ID, Date, From, To and Subject header lines (any order)."""
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    """A server-side search of one folder; empty fields do not restrict."""

    sender: str = ""
    subject: str = ""
    text: str = ""
    since: datetime | None = None
    before: datetime | None = None
    larger: int | None = None


class MailStore(abc.ABC):
    """One open account. Reading never changes anything when opened with `readonly=True`."""

    readonly: bool

    def __enter__(self) -> MailStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abc.abstractmethod
    def close(self) -> None:
        """Log out / release files; never raises."""

    def round_trip(self) -> float | None:
        """The fastest command round trip seen on this connection, in seconds; None when
        none was timed (local stores have none to time)."""
        return None

    @abc.abstractmethod
    def info(self) -> AccountInfo:
        """Delimiter, namespace prefix, capabilities, size limit."""

    @abc.abstractmethod
    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        """Every folder, sorted by name; figures filled in when `with_status`."""

    @abc.abstractmethod
    def folder_status(self, folder: str) -> FolderInfo:
        """Figures for one folder; raises FolderMissing when it does not exist."""

    @abc.abstractmethod
    def uids(self, folder: str) -> list[int]:
        """All UIDs of the folder in ascending order."""

    @abc.abstractmethod
    def summaries(self, folder: str, uids: Sequence[int]) -> list[MessageSummary]:
        """Summaries of the given UIDs (missing UIDs are left out), in the order given."""

    @abc.abstractmethod
    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        """Bulk identity data for the given UIDs, in ascending UID order."""

    @abc.abstractmethod
    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        """Full messages without setting \\Seen, in ascending UID order; missing UIDs skipped."""

    def sizes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        """Probes without headers or dates, where the store can skip them more cheaply.

        Enough to plan a copy into an empty target folder, where there is nothing to
        recognise: the identity is then taken from the message itself as it is copied.
        """
        return self.probes(folder, uids)

    def flags(self, folder: str, uids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """Current flags of the given UIDs (missing ones left out)."""
        return {p.uid: p.flags for p in self.probes(folder, uids)}

    def newest_first(self, folder: str) -> list[int]:
        """All UIDs ordered by arrival (INTERNALDATE), newest first."""
        oldest = datetime.min.replace(tzinfo=UTC)
        probes = self.probes(folder, self.uids(folder))
        ordered = sorted(probes, key=lambda p: (p.internaldate or oldest, p.uid), reverse=True)
        return [p.uid for p in ordered]

    @abc.abstractmethod
    def search(self, folder: str, query: SearchQuery) -> list[int]:
        """UIDs of the messages that match, ascending."""

    # Writing: a store opened with readonly=True raises ProtocolError for all of these.

    @abc.abstractmethod
    def create_folder(self, folder: str) -> None:
        """Create (and subscribe) a folder; an already existing folder is success."""

    @abc.abstractmethod
    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        """Store messages in order with their flags and dates; one result per message.

        A message the store refuses (too large, over quota, malformed) comes back as a result
        with `error` set; the others are still stored. Connection failures raise.
        """

    @abc.abstractmethod
    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        """Replace the flags of one message (used when flags changed on the source)."""

    def set_flags_of(self, folder: str, uids: Sequence[int], flags: Sequence[str]) -> None:
        """Give every message in `uids` exactly `flags`; a server store does it in one
        command (a re-run after a staged migration may change thousands)."""
        for uid in uids:
            self.set_flags(folder, uid, flags)

    def removal_refusal(self) -> str:
        """Why `remove` cannot work on this store, in one line; "" when it can."""
        return "this kind of account cannot have messages removed"

    def remove(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
        """Remove exactly these messages (undo of a run) and nothing else; returns the UIDs
        that were there and are gone now. Raises FolderMissing when the folder is gone or
        its UIDVALIDITY is no longer `uidvalidity` (the UIDs name other messages then)."""
        raise ProtocolError(self.removal_refusal())

    def permanent_flags(self, folder: str) -> frozenset[str] | None:
        """Flags the folder keeps; None means every flag and keyword is kept."""
        return None

    def quota(self, folder: str) -> tuple[int, int] | None:
        """(used, limit) bytes of the quota root holding the folder, if the store has one."""
        return None
