"""The folder map as a front end shows it: every source folder with its target folder.

`compute_map` asks the engine the same question a copy's plan asks (`map_accounts`), but
with `allow_conflicts=True`: source folders the automatic rules would put into one target
folder come back as `MappingConflict` values, all at once, and their rows are flagged.
Folders sent to one target on purpose (a manual entry among them) are a merge, flagged as
such. Nothing here reads an error's text.

Pure and blocking, no front-end code: the TUI calls it from a thread worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from mailmig_tui.engine.mapping import target_key
from mailmig_tui.engine.plan import CopyOptions, map_accounts
from mailmig_tui.errors import MappingConflict, UsageError
from mailmig_tui.special import is_inbox
from mailmig_tui.stores.base import MailStore

CONFLICT_HINT = "choose the target of one of them in the folder map (m, then Enter)"
"""The hint of a `FolderMapConflict` when a copy from the TUI meets one (instead of --map)."""


@dataclass(frozen=True)
class MapRow:
    source: str
    target: str
    reason: str
    """"inbox", "special", "path", "manual", or "conflict": a later folder of a conflict
    (its `MappingConflict.source_b`), whose target the first folder had claimed already."""
    target_exists: bool
    messages: int = 0
    conflict: bool = False
    """In a conflict: the copy cannot start until the operator decides."""
    merge: bool = False
    """Another source folder goes to the same target on purpose (a manual entry)."""
    renamed: bool = False


@dataclass
class MapResult:
    rows: list[MapRow] = field(default_factory=list)
    target_folders: list[str] = field(default_factory=list)
    """Existing target folders that can hold messages: what the picker offers."""
    overrides: dict[str, str] = field(default_factory=dict)
    """The manual entries in force (saved ones naming folders gone from the source dropped)."""
    dropped: list[str] = field(default_factory=list)
    conflicts: list[MappingConflict] = field(default_factory=list)
    error: str = ""
    """Why no map could be made at all (e.g. the target has no folder hierarchy)."""

    @property
    def conflict_text(self) -> str:
        if not self.conflicts:
            return ""
        first = self.conflicts[0]
        text = f"{first.source_a!r} and {first.source_b!r} would both go to {first.target!r}"
        if len(self.conflicts) > 1:
            text += f" (and {len(self.conflicts) - 1} more conflicts)"
        return text


def _sort_key(name: str) -> tuple[bool, str]:
    return (not is_inbox(name), name.casefold())


def compute_map(source: MailStore, target: MailStore, overrides: Mapping[str, str]) -> MapResult:
    """The map for every source folder (blocking: call from a worker thread)."""
    selectable = {f.name for f in source.list_folders(with_status=False) if f.selectable}
    has_inbox = any(is_inbox(name) for name in selectable)
    kept = {s: t for s, t in overrides.items() if s in selectable or (is_inbox(s) and has_inbox)}
    result = MapResult(overrides=kept, dropped=sorted(set(overrides) - set(kept)))
    try:
        mapped = map_accounts(source, target, CopyOptions(overrides=kept), allow_conflicts=True)
    except UsageError as exc:
        result.error = exc.message
        return result
    result.conflicts = list(mapped.conflicts)
    involved = {c.source_a for c in result.conflicts} | {c.source_b for c in result.conflicts}
    later = {c.source_b for c in result.conflicts}
    by_target: dict[str, list[str]] = defaultdict(list)
    for mapping, _info in mapped.pairs:
        by_target[target_key(mapping.target, fold_case=mapped.fold_case)].append(mapping.source)
    for mapping, info in mapped.pairs:
        shared = len(by_target[target_key(mapping.target, fold_case=mapped.fold_case)]) > 1
        clash = mapping.source in involved
        result.rows.append(
            MapRow(
                source=mapping.source,
                target=mapping.target,
                reason="conflict" if mapping.source in later else mapping.reason,
                target_exists=mapping.target in mapped.target_folders,
                messages=info.messages,
                conflict=clash,
                merge=shared and not clash,
                renamed=mapping.renamed,
            )
        )
    result.rows.sort(key=lambda row: _sort_key(row.source))
    result.target_folders = sorted(
        (name for name, info in mapped.target_folders.items() if info.selectable),
        key=_sort_key,
    )
    return result
