"""A copy from the TUI as the engine's `CopyService` sees it: accounts, a request, a plan.

The service does everything a copy is (plan with the pair's saved folder map, copy, verify,
log, keep the rate); this module only hands it what the TUI holds. `CopyAccounts` opens each
side with the password kept in memory and signs an OAuth2 side in through the TUI's dialog,
never on the terminal; a refused login comes back as `LoginFailed` naming the side, so the
TUI can ask for that password again. A folder map conflict keeps its type and gets the
TUI's words for the fix.

No Textual here: `plan_copy` runs in a thread worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mailmig_tui.engine.copy_service import CopyRequest, CopyService, PreparedCopy
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.folder_map import CONFLICT_HINT
from mailmig_tui.engine.session import Accounts
from mailmig_tui.errors import AuthError, FolderMapConflict, MailmigError, PasswordUnavailable
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.open import open_store
from mailmig_tui.tui.copy.selection import Selection


class LoginFailed(AuthError):
    """A login of the copy failed; `role` says which account, so the TUI can ask for its
    password again (not for an account signing in with OAuth2: it has none)."""

    def __init__(self, role: str, error: MailmigError) -> None:
        super().__init__(error.message, error.hint)
        self.role = role


@dataclass(frozen=True)
class CopyAccounts(Accounts):
    """Opens each side with the password the TUI holds in memory: never a terminal prompt."""

    sign_in: Callable[[str], None] | None = None
    """Called with the role before each connection: an OAuth2 account signs in through the
    TUI (`AccountSession.sign_in`), never on stderr."""

    def open_source(self) -> MailStore:
        return self._open("source", self.source, True, self.source_password)

    def open_target(self) -> MailStore:
        spec = self.target_stand_in or self.target
        return self._open("target", spec, self.target_readonly, self.target_password)

    def _open(self, role: str, spec: AccountSpec, readonly: bool, password: str) -> MailStore:
        def give(_spec: AccountSpec, _role: str) -> str:
            if not password:
                raise PasswordUnavailable(f"no password for the {role} account {spec.display}")
            return password

        try:
            if self.sign_in is not None and spec.oauth2 is not None:
                self.sign_in(role)
            return open_store(spec, role=role, readonly=readonly, password=give)
        except (AuthError, PasswordUnavailable) as exc:
            raise LoginFailed(role, exc) from None


@dataclass
class PlannedCopy:
    """A plan waiting for the operator's Enter: the service that made it runs it too."""

    service: CopyService
    prepared: PreparedCopy
    selection: Selection


def plan_copy(accounts: CopyAccounts, selection: Selection, settings: CopySettings) -> PlannedCopy:
    """Open both accounts and plan the copy of `selection` (blocking: a worker thread only)."""
    service = CopyService(accounts)
    request = CopyRequest(
        options=selection.options(), settings=settings, description=selection.description
    )
    try:
        prepared = service.prepare(request)
    except FolderMapConflict as exc:
        # The engine's hint names --map; in the TUI the folder map is where to decide.
        raise FolderMapConflict(exc.conflicts, CONFLICT_HINT) from None
    return PlannedCopy(service, prepared, selection)
