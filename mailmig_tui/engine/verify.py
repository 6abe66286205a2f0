"""Verification: is every source message on the target? Compared by content identity.

`mailmig verify` calls it on its own; the copy service calls it after every copy, over the
copied folders (and only the marked messages of a folder, with `only`), because a target
that answers OK to an APPEND has not necessarily kept the message.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mailmig_tui.engine.events import MessageRef
from mailmig_tui.engine.folder_copier import describe
from mailmig_tui.engine.identity import identity_of
from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.errors import FolderMissing
from mailmig_tui.stores.base import MailStore

CHUNK = 2000
"""Source messages looked up per request while checking."""


@dataclass
class FolderCheck:
    source: str
    target: str
    source_messages: int = 0
    target_messages: int = 0
    target_exists: bool = True
    missing: list[MessageRef] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "target": self.target,
            "source_messages": self.source_messages,
            "target_messages": self.target_messages,
            "target_exists": self.target_exists,
            "missing": [
                {"uid": m.uid, "subject": m.subject, "message_id": m.message_id, "size": m.size}
                for m in self.missing
            ],
        }


@dataclass
class VerifyReport:
    folders: list[FolderCheck] = field(default_factory=list)
    interrupted: bool = False
    """Cancelled before every folder was checked: the counts are partial."""

    @property
    def missing(self) -> int:
        return sum(len(f.missing) for f in self.folders)

    @property
    def checked(self) -> int:
        return sum(f.source_messages for f in self.folders)

    @property
    def missing_messages(self) -> list[MessageRef]:
        return [ref for folder in self.folders for ref in folder.missing]

    def as_json(self) -> dict[str, object]:
        return {
            "folders": [f.as_json() for f in self.folders],
            "checked": self.checked,
            "missing": self.missing,
            "ok": self.missing == 0,
        }

    def summary_json(self) -> dict[str, object]:
        """The `verify` object of a copy report."""
        return {
            "checked": self.checked,
            "ok": self.missing == 0,
            "missing": [
                {
                    "folder": ref.folder,
                    "uid": ref.uid,
                    "message_id": ref.message_id,
                    "subject": ref.subject,
                }
                for ref in self.missing_messages
            ],
        }


Progress = Callable[[int, int], None]
"""(source messages checked so far, all to check)."""


class IdentityPool:
    """The target messages of one folder by content identity, as a multiset.

    A source without arrival dates (a POP3 message with no Received or Date header) cannot
    say when it arrived, while its copy got the APPEND's time: such a message matches on
    content and size alone.
    """

    def __init__(self) -> None:
        self._by_content: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, identity: str) -> None:
        content, _sep, when = identity.rpartition(":")
        self._by_content[content][when] += 1

    def take(self, identity: str, *, dated: bool) -> bool:
        """Use up one target copy of this message; False when there is none left."""
        content, _sep, when = identity.rpartition(":")
        copies = self._by_content.get(content)
        if not copies:
            return False
        if not dated and copies[when] <= 0:
            when = next((w for w, n in copies.items() if n > 0), when)
        if copies[when] <= 0:
            return False
        copies[when] -= 1
        return True


def verify(
    source: MailStore,
    target: MailStore,
    mappings: list[FolderMapping],
    *,
    only: Mapping[str, frozenset[int]] | None = None,
    progress: Progress = lambda checked, total: None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Per mapping: which source messages have no copy on the target.

    `only` limits a source folder to some UIDs (the marked messages a copy took); folders
    it does not name are checked whole; `cancel` stops between requests and leaves the
    report `interrupted`. Folders merged into one target share that target's
    messages, each copy accounting for one source message only.
    """
    report = VerifyReport()
    pools: dict[str, IdentityPool] = {}
    chosen = only or {}
    selected: list[list[int]] = []
    for mapping in mappings:
        uids = source.uids(mapping.source)
        wanted = chosen.get(mapping.source)
        selected.append(uids if wanted is None else [u for u in uids if u in wanted])
    total = sum(len(uids) for uids in selected)
    checked = 0
    progress(0, total)
    for mapping, uids in zip(mappings, selected, strict=True):
        check = FolderCheck(mapping.source, mapping.target)
        if mapping.target not in pools:
            pools[mapping.target], check.target_messages, check.target_exists = _target_pool(
                target, mapping.target
            )
        pool = pools[mapping.target]
        # The source in chunks, matched as they come: memory holds the target's identities
        # and the missing messages, never a 100k folder's headers; progress moves per chunk.
        for start in range(0, len(uids), CHUNK):
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                return report
            for probe in source.probes(mapping.source, uids[start : start + CHUNK]):
                check.source_messages += 1
                if not pool.take(identity_of(probe), dated=probe.internaldate is not None):
                    check.missing.append(describe(mapping.source, probe))
            progress(checked + min(start + CHUNK, len(uids)), total)
        report.folders.append(check)
        checked += len(uids)
    progress(checked, total)
    return report


def _target_pool(target: MailStore, folder: str) -> tuple[IdentityPool, int, bool]:
    """The identities of a target folder's messages, its message count, and whether it
    exists at all."""
    pool = IdentityPool()
    try:
        uids = target.uids(folder)
    except FolderMissing:
        return pool, 0, False
    for start in range(0, len(uids), CHUNK):
        for probe in target.probes(folder, uids[start : start + CHUNK]):
            pool.add(identity_of(probe))
    return pool, len(uids), True
