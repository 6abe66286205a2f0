"""What the engine tells its caller while it works, and the report it returns.

Plain frozen dataclasses: the CLI renders them with rich, the TUI turns them into Textual
messages, tests collect them in a list. Nothing here knows about either screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MessageRef:
    """Names one message to the operator: where it is and what it looks like."""

    folder: str
    uid: int
    size: int = 0
    subject: str = ""
    message_id: str = ""


@dataclass(frozen=True)
class Failure:
    message: MessageRef
    reason: str
    too_large: bool = False


@dataclass
class FolderReport:
    """Counters of one source folder; mutable while the engine works on it."""

    source: str
    target: str
    source_messages: int = 0
    copied: int = 0
    already_present: int = 0
    too_large: int = 0
    failed: int = 0
    bytes: int = 0
    flags_updated: int = 0
    created: bool = False
    failures: list[Failure] = field(default_factory=list)
    error: str = ""
    """A folder-level problem (target full, folder vanished) that stopped this folder."""

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "target": self.target,
            "source_messages": self.source_messages,
            "copied": self.copied,
            "already_present": self.already_present,
            "too_large": self.too_large,
            "failed": self.failed,
            "bytes": self.bytes,
            "flags_updated": self.flags_updated,
            "error": self.error or None,
            "failures": [
                {
                    "uid": f.message.uid,
                    "subject": f.message.subject,
                    "message_id": f.message.message_id,
                    "size": f.message.size,
                    "reason": f.reason,
                    "too_large": f.too_large,
                }
                for f in self.failures
            ],
        }


@dataclass
class TransferReport:
    folders: list[FolderReport] = field(default_factory=list)
    elapsed: float = 0.0
    cancelled: bool = False
    dry_run: bool = False
    error: str = ""
    """Why the run stopped early (a server gone for good); empty when it ran through."""

    @property
    def copied(self) -> int:
        return sum(f.copied for f in self.folders)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders)

    @property
    def failed(self) -> int:
        return sum(f.failed for f in self.folders)

    @property
    def already_present(self) -> int:
        return sum(f.already_present for f in self.folders)

    @property
    def too_large(self) -> int:
        return sum(f.too_large for f in self.folders)

    @property
    def complete(self) -> bool:
        """Every selected message is on the target."""
        return (
            not self.cancelled
            and not self.error
            and self.failed == 0
            and self.too_large == 0
            and not any(f.error for f in self.folders)
        )

    def as_json(self) -> dict[str, object]:
        rate = self.copied / self.elapsed if self.elapsed > 0 else 0.0
        return {
            "folders": [f.as_json() for f in self.folders],
            "copied": self.copied,
            "bytes": self.bytes,
            "failed": self.failed,
            "too_large": self.too_large,
            "already_present": self.already_present,
            "elapsed_seconds": round(self.elapsed, 3),
            "messages_per_second": round(rate, 1),
            "cancelled": self.cancelled,
            "dry_run": self.dry_run,
            "error": self.error or None,
        }


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderStarted:
    source: str
    target: str
    messages: int
    """Messages this run will try to copy in the folder."""
    bytes: int


@dataclass(frozen=True)
class MessageCopied:
    message: MessageRef


@dataclass(frozen=True)
class MessageSkipped:
    message: MessageRef
    reason: str


@dataclass(frozen=True)
class MessageFailed:
    failure: Failure


@dataclass(frozen=True)
class FolderDone:
    report: FolderReport


@dataclass(frozen=True)
class Reconnecting:
    side: str
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True)
class ServerBusy:
    """The server asked us to slow down (throttling): the engine waits `delay` seconds, then
    sends the same messages again. Not a lost connection: nothing needs reconnecting."""

    side: str
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True)
class Finished:
    report: TransferReport


TransferEvent = (
    FolderStarted
    | MessageCopied
    | MessageSkipped
    | MessageFailed
    | FolderDone
    | Reconnecting
    | ServerBusy
    | Finished
)
