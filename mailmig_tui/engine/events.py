"""What the engine tells its caller while it works, and the report it returns.

Plain frozen dataclasses: the CLI renders them with rich, the TUI turns them into Textual
messages, tests collect them in a list. Nothing here knows about either screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailmig_tui.engine.verify import VerifyReport


@dataclass(frozen=True)
class MessageRef:
    """Names one message to the operator: where it is and what it looks like."""

    folder: str
    uid: int
    size: int = 0
    subject: str = ""
    message_id: str = ""

    def as_json(self) -> dict[str, object]:
        """The message on its own in a report: its folder, UID, Message-ID and subject."""
        return {
            "folder": self.folder,
            "uid": self.uid,
            "message_id": self.message_id,
            "subject": self.subject,
        }

    def in_folder_json(self) -> dict[str, object]:
        """The message in its folder's part of a report: UID, subject, Message-ID, size."""
        return {
            "uid": self.uid,
            "subject": self.subject,
            "message_id": self.message_id,
            "size": self.size,
        }


@dataclass(frozen=True)
class Failure:
    message: MessageRef
    reason: str
    too_large: bool = False


@dataclass(frozen=True)
class Altered:
    """A message whose copy differs from the source: mailmig repaired it (`--repair`), or
    the target changed it (found by verify). A warning, not a failure."""

    message: MessageRef
    change: str
    """Which header or how many bytes changed, in words."""

    def as_json(self) -> dict[str, object]:
        return {**self.message.as_json(), "change": self.change}


@dataclass
class FolderReport:
    """Counters of one source folder; mutable while the engine works on it."""

    source: str
    target: str
    source_messages: int = 0
    """The selected source messages (the whole folder, or the marked ones)."""
    copied: int = 0
    already_present: int = 0
    too_large: int = 0
    failed: int = 0
    not_copied: int = 0
    """Left alone because the run stopped (quota, cancel, server gone, folder aborted) or
    because they vanished from the source meanwhile: a re-run takes them."""
    filtered_out: int = 0
    """Outside the copy filter (received since/before, at most a size): left alone on
    purpose; a run without the filter takes them."""
    bytes: int = 0
    flags_updated: int = 0
    created: bool = False
    failures: list[Failure] = field(default_factory=list)
    repaired: list[Altered] = field(default_factory=list)
    """Refused, then copied in a repaired form (`--repair`); counted in `copied` too."""
    error: str = ""
    """A folder-level problem (target full, folder vanished, cannot be opened) that stopped
    this folder."""
    copied_uids: dict[int, int] = field(default_factory=dict, repr=False)
    """Source UID -> size of each message this run copied, until verify has confirmed them."""

    def count_copied(self, uid: int, size: int) -> None:
        self.copied += 1
        self.bytes += size
        self.copied_uids[uid] = size

    def lost(self, ref: MessageRef) -> Failure | None:
        """Verify did not find this message: if this run counted it as copied, the target
        answered OK and kept nothing, so it is a failure after all (None: counted already,
        as failed, too large or not copied)."""
        size = self.copied_uids.pop(ref.uid, None)
        if size is None:
            return None
        self.copied -= 1
        self.bytes -= size
        failure = Failure(
            ref, "the target said it stored the message but does not have it (found by verify)"
        )
        self.failures.append(failure)
        self.failed += 1
        return failure

    def settle(self) -> None:
        """Count what no other counter took as not copied, so every message is accounted
        for: source_messages == copied + already_present + too_large + failed + not_copied
        + filtered_out."""
        taken = (
            self.copied + self.already_present + self.too_large + self.failed + self.filtered_out
        )
        self.not_copied = max(0, self.source_messages - taken)

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "target": self.target,
            "source_messages": self.source_messages,
            "copied": self.copied,
            "already_present": self.already_present,
            "too_large": self.too_large,
            "failed": self.failed,
            "not_copied": self.not_copied,
            "filtered_out": self.filtered_out,
            "bytes": self.bytes,
            "flags_updated": self.flags_updated,
            "error": self.error or None,
            "repaired": [a.as_json() for a in self.repaired],
            "failures": [
                {**f.message.in_folder_json(), "reason": f.reason, "too_large": f.too_large}
                for f in self.failures
            ],
        }


@dataclass
class CopyReport:
    folders: list[FolderReport] = field(default_factory=list)
    elapsed: float = 0.0
    cancelled: bool = False
    dry_run: bool = False
    error: str = ""
    """Why the run stopped early (a server gone for good); empty when it ran through."""
    verify_wanted: bool = False
    """The copy was to be checked: without a verify result it is not complete."""
    verify: VerifyReport | None = None
    """The check after the copy; None when it was skipped or could not run (see below)."""
    verify_problem: str = ""
    """Why there is no verify result: --no-verify, cancelled, or the server went away."""
    log_path: Path | None = None
    """This run's log file; None when no log could be written (the report says so)."""
    description: str = ""
    """What was asked for, in words ("2 folders", "12 marked messages in INBOX")."""
    run_id: str = ""
    """This run's id in the history (`mailmig history`, `mailmig undo RUN-ID`)."""

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
    def not_copied(self) -> int:
        return sum(f.not_copied for f in self.folders)

    @property
    def filtered_out(self) -> int:
        return sum(f.filtered_out for f in self.folders)

    @property
    def repaired(self) -> int:
        """Messages copied in a repaired form (`--repair`): altered by mailmig, on purpose."""
        return sum(len(f.repaired) for f in self.folders)

    @property
    def missing(self) -> int:
        """Messages the check after the copy did not find on the target."""
        return self.verify.missing if self.verify is not None else 0

    @property
    def complete(self) -> bool:
        """Every selected message is on the target, and the check (if it ran) agrees."""
        return (
            not self.cancelled
            and not self.error
            and self.failed == 0
            and self.too_large == 0
            and self.not_copied == 0
            and self.missing == 0
            and (self.verify is None or not self.verify.unchecked)
            and (self.verify is not None or not self.verify_wanted)
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
            "not_copied": self.not_copied,
            "filtered_out": self.filtered_out,
            "repaired": self.repaired,
            "elapsed_seconds": round(self.elapsed, 3),
            "messages_per_second": round(rate, 1),
            "cancelled": self.cancelled,
            "dry_run": self.dry_run,
            "error": self.error or None,
            "verify": self.verify.summary_json() if self.verify is not None else None,
            "verify_problem": self.verify_problem or None,
            "log": str(self.log_path) if self.log_path is not None else None,
            "run_id": self.run_id or None,
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
class MessageRepaired:
    """The target refused a message and took it in a repaired form (`--repair`)."""

    altered: Altered


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
class Verifying:
    """The check after the copy: `checked` of `total` source messages looked up so far."""

    checked: int
    total: int


@dataclass(frozen=True)
class Finished:
    """The last event of a run: copy, check and log are done; the report is final."""

    report: CopyReport


CopyEvent = (
    FolderStarted
    | MessageCopied
    | MessageSkipped
    | MessageFailed
    | MessageRepaired
    | FolderDone
    | Reconnecting
    | ServerBusy
    | Verifying
    | Finished
)
