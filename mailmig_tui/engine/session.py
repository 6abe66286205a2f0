"""A copy between two accounts, from opening them to the report: what the CLI, the batch
runner and the TUI all do, in one place.

`Accounts` says how to open each side (the caller decides where passwords come from);
`CopySession` opens both, plans, and runs the plan over the engine's connection pool.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType

from mailmig_tui.engine.early_check import EarlyChecks
from mailmig_tui.engine.events import CopyReport
from mailmig_tui.engine.folder_copier import CopySettings, EventSink
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, Plan, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.engine.side_by_side import both
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.open import open_store


@dataclass(frozen=True)
class Accounts:
    """Both sides of a copy and how to open a connection to each, any number of times."""

    source: AccountSpec
    target: AccountSpec
    source_password: str = ""
    target_password: str = ""
    target_readonly: bool = False
    """A dry run or a verify opens the target read-only."""
    target_stand_in: AccountSpec | None = None
    """Opened instead of the target (a dry run's empty Maildir for one not made yet)."""

    def open_source(self) -> MailStore:
        return open_store(
            self.source,
            role="source",
            readonly=True,
            password=lambda _spec, _role: self.source_password,
        )

    def open_target(self) -> MailStore:
        return open_store(
            self.target_stand_in or self.target,
            role="target",
            readonly=self.target_readonly,
            password=lambda _spec, _role: self.target_password,
        )

    def open_both(self) -> tuple[MailStore, MailStore]:
        """(source, target), connecting and logging in to both at the same time where
        neither side may ask anything on the terminal; a source error comes first."""
        quiet = _quiet(self.source, self.source_password) and _quiet(
            self.target_stand_in or self.target, self.target_password
        )
        return both(self.open_source, self.open_target, at_once=quiet, unused=_close)


def _quiet(spec: AccountSpec, password: str) -> bool:
    """Opening `spec` asks nothing on the terminal: files, or a password login with the
    password at hand (not OAuth2's sign-in, not a command that may prompt itself)."""
    if spec.is_local:
        return True
    return bool(password) and spec.oauth2 is None and not spec.command


def _close(store: MailStore) -> None:
    store.close()


class CopySession:
    """Both accounts open; `plan()` then `run()`. Use as a context manager."""

    def __init__(self, accounts: Accounts, journal: Journal | None) -> None:
        self.accounts = accounts
        self.journal = journal
        self._closed = False
        self.source, self.target = accounts.open_both()

    def __enter__(self) -> CopySession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Log out of both; again is a no-op (the copy service closes before it verifies)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.source.close()
        finally:
            self.target.close()

    def plan(self, options: CopyOptions) -> Plan:
        return build_plan(
            self.accounts.source,
            self.accounts.target,
            self.source,
            self.target,
            self.journal,
            options,
        )

    def run(
        self,
        plan: Plan,
        *,
        cancel: threading.Event | None = None,
        on_event: EventSink = lambda event: None,
        settings: CopySettings | None = None,
        checks: EarlyChecks | None = None,
    ) -> CopyReport:
        if self.journal is None:
            raise ValueError("a copy needs a journal")
        return copy_folders(
            plan,
            source=self.source,
            target=self.target,
            open_source=self.accounts.open_source,
            open_target=self.accounts.open_target,
            journal=self.journal,
            cancel=cancel,
            on_event=on_event,
            settings=settings,
            checks=checks,
        )
