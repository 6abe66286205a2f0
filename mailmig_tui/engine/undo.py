"""Undo a run: remove from the target exactly the messages that run appended.

What a run appended is what the journal recorded with its run id (`Journal.appended_by`):
target folder, UIDVALIDITY and UID, from APPENDUID (RFC 4315). Messages found on the target
by content, there before, or put there by anyone else carry no run id and are never
touched; neither is the source, which undo does not even open. On IMAP the store removes
them with STORE +FLAGS \\Deleted and UID EXPUNGE of those UIDs only, so a server without
UIDPLUS is refused up front with that reason (`MailStore.removal_refusal`).

The undone entries leave the journal, so a later copy sends those messages again; the run's
record in the history says it was undone. `mailmig undo RUN-ID` and the TUI's history
screen both call `plan_undo` (for the confirmation's counts) and then `undo_run`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from mailmig_tui.engine import history
from mailmig_tui.engine.journal import AppendedCopy, Journal
from mailmig_tui.errors import FolderMissing, MailmigError
from mailmig_tui.stores.base import MailStore


class UndoRefused(MailmigError):
    """Undo cannot remove only mailmig's copies here (no UIDPLUS, read-only): nothing done."""

    exit_code = 1


@dataclass
class UndoPlan:
    """What undoing a run would remove, from the journal alone (no connection)."""

    record: history.RunRecord
    copies: list[AppendedCopy] = field(default_factory=list)
    """Appended by the run, with the target UID they got: these are removed."""
    unplaced: int = 0
    """Appended by the run, but the target named no UID for them (no APPENDUID): they
    cannot be found without guessing, so they stay."""

    @property
    def folders(self) -> dict[tuple[str, int], list[AppendedCopy]]:
        """(target folder, UIDVALIDITY) -> its copies, in folder order."""
        grouped: dict[tuple[str, int], list[AppendedCopy]] = defaultdict(list)
        for copy in self.copies:
            grouped[(copy.target_folder, copy.target_uidvalidity or 0)].append(copy)
        return dict(grouped)

    @property
    def summary(self) -> str:
        names = {c.target_folder for c in self.copies}
        text = f"{_count(len(self.copies), 'message')} in {_count(len(names), 'folder')}"
        if self.unplaced:
            text += f" ({self.unplaced} more without a target UID stay)"
        return text


@dataclass
class UndoResult:
    removed: int = 0
    """Copies removed from the target now."""
    gone: int = 0
    """Copies no longer there (deleted by someone, or their folder made anew)."""
    unplaced: int = 0
    problems: list[str] = field(default_factory=list)
    """Folders that could not be undone, one line each; their entries stay in the journal."""

    @property
    def ok(self) -> bool:
        return not self.problems


def plan_undo(journal: Journal, record: history.RunRecord) -> UndoPlan:
    plan = UndoPlan(record)
    for copy in journal.appended_by(record.run_id):
        if copy.target != record.target_identity:
            continue  # never the case for a run's own entries; a guard, not a feature
        if copy.target_uid is None or copy.target_uidvalidity is None:
            plan.unplaced += 1
        else:
            plan.copies.append(copy)
    return plan


def undo_run(plan: UndoPlan, target: MailStore, journal: Journal) -> UndoResult:
    """Remove the plan's copies from `target` (blocking), folder by folder; each folder's
    entries leave the journal once its copies are gone. Raises UndoRefused before touching
    anything where the store cannot remove exactly those messages."""
    reason = target.removal_refusal()
    if reason:
        raise UndoRefused(f"cannot undo run {plan.record.run_id}: {reason}")
    result = UndoResult(unplaced=plan.unplaced)
    for (folder, validity), copies in plan.folders.items():
        uids = [c.target_uid for c in copies if c.target_uid is not None]
        try:
            removed = target.remove(folder, validity, uids)
        except FolderMissing:
            removed = []  # the folder or its numbering is gone: so are the copies
        except MailmigError as exc:
            result.problems.append(f"{folder}: {exc.one_line()}")
            continue
        result.removed += len(removed)
        result.gone += len(copies) - len(removed)
        journal.forget_copies(copies)
    record = plan.record
    record.undone = {
        "at": history.local_time(),
        "removed": result.removed,
        "gone": result.gone,
        "problems": result.problems,
    }
    if result.ok:
        record.result = "undone"
    history.save(record)
    return result


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"
