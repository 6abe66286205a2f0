"""Every target folder of a copy made ready at once, before the folder workers need them.

A worker used to CREATE, SUBSCRIBE, SELECT (for PERMANENTFLAGS) and UNSELECT each folder
before its first APPEND: four round trips per folder, on the critical path of each. A store
that can pipeline them (`FolderPreparer`, IMAP) does all folders in one round trip on the
planning connection while the workers are still logging in; a folder it could not prepare
is done the usual way by its worker, which reports any error as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from mailmig_tui.engine.plan import FolderWork
from mailmig_tui.errors import MailmigError
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap_prepare import Prepared

log = logging.getLogger(__name__)


@runtime_checkable
class FolderPreparer(Protocol):
    def prepare_folders(self, folders: Sequence[tuple[str, bool]]) -> Mapping[str, Prepared]: ...


def needs_target(work: FolderWork) -> bool:
    """Whether copying `work` sends anything to the target (appends or flag updates)."""
    return not work.error and bool(work.to_copy or work.flag_updates)


def prepare_targets(target: MailStore, folders: Sequence[FolderWork]) -> dict[str, Prepared]:
    """Target folder name -> how it was prepared, for the folders that will be written to
    or are to be created; empty when the store cannot do it in one go."""
    wanted: dict[str, bool] = {}
    for work in folders:
        if work.error or not (needs_target(work) or not work.target_exists):
            continue
        name = work.mapping.target
        wanted[name] = wanted.get(name, False) or not work.target_exists
    if not wanted or not isinstance(target, FolderPreparer):
        return {}
    try:
        return dict(target.prepare_folders(list(wanted.items())))
    except MailmigError as exc:  # the workers do it the usual way, and say what fails
        log.info("could not prepare the target folders at once: %s", exc.one_line())
        return {}
