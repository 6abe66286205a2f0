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

Target marks feed the same removal: `plan_marked` keeps, of the marked target messages
(or every message of a marked target folder), only those the journal says a run between
the pair appended, at the folder's current UIDVALIDITY; `undo_marked` removes them as
`undo_run` does. The runs' history records stay as they are (part of a run may be undone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
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
        return _by_folder(self.copies)

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
    _remove_copies(plan.folders, target, journal, result)
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


def _remove_copies(
    folders: Mapping[tuple[str, int], list[AppendedCopy]],
    target: MailStore,
    journal: Journal,
    result: UndoResult,
) -> None:
    """Remove each folder's copies by UID; its entries leave the journal once they are gone.
    A folder that fails is one line in `result.problems` and keeps its entries."""
    for (folder, validity), copies in folders.items():
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


# -- target marks: undo what mailmig copied among the marked messages ---------------------


@dataclass(frozen=True)
class MarkedFolder:
    """A target folder with marks: its name, UIDVALIDITY (0: unknown), the marked UIDs, or
    None for the whole folder marked (`messages` then says how many it holds)."""

    name: str
    uidvalidity: int
    uids: frozenset[int] | None
    messages: int = 0

    @property
    def marked(self) -> int:
        return self.messages if self.uids is None else len(self.uids)


@dataclass
class MarkedUndoPlan:
    """Which of the marked target messages mailmig appended (any run between the pair, as
    the journal says): only these are removed; the others stay."""

    marked: int = 0
    copies: list[AppendedCopy] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)

    @property
    def folders(self) -> dict[tuple[str, int], list[AppendedCopy]]:
        return _by_folder(self.copies)

    @property
    def kept(self) -> int:
        """Marked messages mailmig did not copy (by the journal): they stay."""
        return max(self.marked - len(self.copies), 0)

    @property
    def question(self) -> str:
        """`Remove 3 of the 5 marked messages: mailmig copied them (runs …). 2 were not
        copied by mailmig and stay.`"""
        runs = ", ".join(self.run_ids)
        text = (
            f"Remove {len(self.copies):,} of the {_count(self.marked, 'marked message')}: "
            f"mailmig copied {'it' if len(self.copies) == 1 else 'them'} "
            f"(run{'s' if len(self.run_ids) != 1 else ''} {runs})."
        )
        if self.kept:
            one = self.kept == 1
            text += f" {self.kept:,} {'was' if one else 'were'} not copied by mailmig "
            text += f"and stay{'s' if one else ''}."
        return text


def plan_marked(
    journal: Journal, source: str, target: str, marked: Iterable[MarkedFolder]
) -> MarkedUndoPlan:
    """From the journal alone: the marked messages that a run from `source` to `target`
    (account identities) appended, with the UID they got. A message found on the target by
    content, or put there by anyone else, has no run id and is never in the plan."""
    plan = MarkedUndoPlan()
    runs: set[str] = set()
    for folder in marked:
        plan.marked += folder.marked
        for run_id, copy in journal.appended_into(source, target, folder.name):
            if copy.target_uid is None or copy.target_uidvalidity is None:
                continue  # no APPENDUID: which message it is cannot be told
            if folder.uidvalidity and copy.target_uidvalidity != folder.uidvalidity:
                continue  # an older numbering of the folder: that UID names another message
            if folder.uids is not None and copy.target_uid not in folder.uids:
                continue
            plan.copies.append(copy)
            runs.add(run_id)
    plan.run_ids = sorted(runs)
    return plan


def undo_marked(plan: MarkedUndoPlan, target: MailStore, journal: Journal) -> UndoResult:
    """Remove the plan's copies from `target` (blocking), as `undo_run` does; the runs'
    history records are left as they are (only part of a run may be undone)."""
    reason = target.removal_refusal()
    if reason:
        raise UndoRefused(f"cannot remove mailmig's copies: {reason}")
    result = UndoResult()
    _remove_copies(plan.folders, target, journal, result)
    return result


def _by_folder(copies: Iterable[AppendedCopy]) -> dict[tuple[str, int], list[AppendedCopy]]:
    """(target folder, UIDVALIDITY) -> its copies, in folder order: what `_remove_copies`
    removes one folder at a time."""
    grouped: dict[tuple[str, int], list[AppendedCopy]] = defaultdict(list)
    for copy in copies:
        grouped[(copy.target_folder, copy.target_uidvalidity or 0)].append(copy)
    return dict(grouped)


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"
