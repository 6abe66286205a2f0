"""Verification: is every source message on the target? Compared by content identity."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from mailmig_tui.engine.events import MessageRef
from mailmig_tui.engine.identity import identity_of
from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.transfer import describe
from mailmig_tui.errors import FolderMissing
from mailmig_tui.stores.base import MailStore


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

    @property
    def missing(self) -> int:
        return sum(len(f.missing) for f in self.folders)

    def as_json(self) -> dict[str, object]:
        return {
            "folders": [f.as_json() for f in self.folders],
            "missing": self.missing,
            "ok": self.missing == 0,
        }


def verify(source: MailStore, target: MailStore, mappings: list[FolderMapping]) -> VerifyReport:
    """Per mapping: which source messages have no copy on the target.

    Folders merged into one target share that target's messages, each copy accounting for
    one source message only.
    """
    report = VerifyReport()
    pools: dict[str, dict[str, int]] = {}
    for mapping in mappings:
        check = FolderCheck(mapping.source, mapping.target)
        source_probes = source.probes(mapping.source, source.uids(mapping.source))
        check.source_messages = len(source_probes)
        if mapping.target not in pools:
            pool: dict[str, int] = defaultdict(int)
            try:
                target_uids = target.uids(mapping.target)
            except FolderMissing:
                check.target_exists, target_uids = False, []
            for probe in target.probes(mapping.target, target_uids) if target_uids else []:
                pool[identity_of(probe)] += 1
            pools[mapping.target] = pool
            check.target_messages = len(target_uids)
        pool = pools[mapping.target]
        for probe in source_probes:
            identity = identity_of(probe)
            if pool.get(identity, 0) > 0:
                pool[identity] -= 1
            else:
                check.missing.append(describe(mapping.source, probe))
        report.folders.append(check)
    return report
