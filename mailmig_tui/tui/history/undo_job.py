"""Undo from the TUI as the engine sees it: the journal opened per step, the target opened
with the password the session holds (never a terminal prompt). Blocking: worker threads."""

from __future__ import annotations

from mailmig_tui.engine.history import RunRecord
from mailmig_tui.engine.journal import Journal, default_path
from mailmig_tui.engine.undo import (
    MarkedFolder,
    MarkedUndoPlan,
    UndoPlan,
    UndoResult,
    plan_marked,
    plan_undo,
    undo_marked,
    undo_run,
)
from mailmig_tui.errors import PasswordUnavailable
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.open import open_store
from mailmig_tui.tui.accounts.session import AccountSession


def undo_plan(record: RunRecord) -> UndoPlan:
    """What undoing `record` removes, from the journal alone."""
    if not default_path().exists():
        return UndoPlan(record)
    journal = Journal()
    try:
        return plan_undo(journal, record)
    finally:
        journal.close()


def marked_plan(
    source: AccountSession, target: AccountSession, marked: list[MarkedFolder]
) -> MarkedUndoPlan:
    """Which of the target's marked messages a run of this pair appended (journal only)."""
    if not default_path().exists():
        return MarkedUndoPlan(marked=sum(f.marked for f in marked))
    journal = Journal()
    try:
        return plan_marked(journal, source.spec.identity, target.spec.identity, marked)
    finally:
        journal.close()


def run_undo(plan: UndoPlan | MarkedUndoPlan, target: AccountSession) -> UndoResult:
    def give(spec: AccountSpec, role: str) -> str:
        if not target.password:
            raise PasswordUnavailable(f"no password for the {role} account {spec.display}")
        return target.password

    target.sign_in()
    journal = Journal()
    try:
        with open_store(target.spec, role="target", readonly=False, password=give) as store:
            if isinstance(plan, MarkedUndoPlan):
                return undo_marked(plan, store, journal)
            return undo_run(plan, store, journal)
    finally:
        journal.close()
