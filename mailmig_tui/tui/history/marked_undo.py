"""`u` in the target pane: undo fed by the target's marks.

Of the marked target messages (or every message of a marked target folder), only those the
journal says a run between these accounts appended are removed, after the same
confirmation as undoing a run, with the counts; a message mailmig did not copy stays,
whatever is marked. The engine does the work (`undo.plan_marked`, `undo.undo_marked`) in
worker threads; afterwards the marks clear and the main screen looks at the target again.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from mailmig_tui.engine.undo import MarkedFolder, MarkedUndoPlan, UndoResult
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.browse.account_pane import AccountPane
from mailmig_tui.tui.common.app_messages import WorkFailed
from mailmig_tui.tui.common.format import count
from mailmig_tui.tui.history import undo_job
from mailmig_tui.tui.history.history_screen import removal_wording


def marked_folders(pane: AccountPane) -> list[MarkedFolder]:
    """The pane's marks as the engine takes them: whole folders, then single messages."""
    marks = pane.marks
    known = {folder.name: folder for folder in pane.folder_list.folders}
    if pane.message_list.folder is not None:  # the open folder's figures are the freshest
        known[pane.message_list.folder.name] = pane.message_list.folder
    marked = [
        MarkedFolder(name, folder.uidvalidity, None, folder.messages)
        for name, folder in marks.folders.items()
    ]
    for name, uids in marks.messages.items():
        if uids and name not in marks.folders:
            info = known.get(name)
            marked.append(MarkedFolder(name, info.uidvalidity if info else 0, frozenset(uids)))
    return marked


class MarkedUndo:
    """One `u`: plan from the journal, ask, remove, then clear the marks and refresh."""

    def __init__(
        self,
        screen: Screen[None],
        source: AccountSession,
        pane: AccountPane,
        on_undone: Callable[[], None],
    ) -> None:
        self.screen, self.source, self.pane, self.on_undone = screen, source, pane, on_undone
        self.target = pane.session

    def start(self) -> None:
        marked = marked_folders(self.pane)
        self.screen.run_worker(
            lambda: self._plan(marked), thread=True, group="undo", exclusive=True
        )

    def _plan(self, marked: list[MarkedFolder]) -> None:
        try:
            plan = undo_job.marked_plan(self.source, self.target, marked)
        except Exception as exc:  # shown by the app, as every worker's failure is
            self.screen.post_message(WorkFailed(exc, "undo"))
            return
        self.screen.app.call_from_thread(self._ask, plan)

    def _ask(self, plan: MarkedUndoPlan) -> None:
        from mailmig_tui.tui.common.confirm import ConfirmDialog

        if not plan.copies:
            self.screen.notify(
                f"Nothing to remove: mailmig copied none of the "
                f"{count(plan.marked)} marked (by its journal), so they stay",
                title="Undo",
                severity="warning",
            )
            return
        question = (
            f"{plan.question}\n\n{removal_wording(self.target.spec.kind)}; nothing else on "
            "the target, and nothing on the source, is touched. A later copy copies them again."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.screen.run_worker(
                    lambda: self._undo(plan), thread=True, group="undo", exclusive=True
                )

        dialog = ConfirmDialog("Remove mailmig's copies?", question, yes="Remove", no="Keep")
        self.screen.app.push_screen(dialog, answered)

    def _undo(self, plan: MarkedUndoPlan) -> None:
        try:
            result = undo_job.run_undo(plan, self.target)
        except Exception as exc:  # UndoRefused (no UIDPLUS) included: nothing was removed
            self.screen.post_message(WorkFailed(exc, "undo"))
            return
        self.screen.app.call_from_thread(self._done, result)

    def _done(self, result: UndoResult) -> None:
        text = f"Removed {count(result.removed)} messages from the target"
        if result.gone:
            text += f"; {count(result.gone)} were gone already"
        for problem in result.problems:
            text += f"\nNot undone: {problem}"
        if result.ok:
            self.screen.notify(text, title="Undo", markup=False)
        else:
            self.screen.notify(text, title="Undo", severity="error", markup=False)
        pane = self.pane
        pane.marks.clear()
        pane.folder_list.refresh()
        if pane.showing_messages:
            pane.action_reload()  # the removed messages leave the open folder's list
        self.on_undone()
