"""What a copy takes: the marked folders whole, the marked messages, or the folder at hand.

Marks live in the source pane (`MarkSet`). A marked folder is copied whole; messages marked
in a folder that is not itself marked go through `CopyOptions.only_uids` (the engine then
verifies only those). With nothing marked, the copy takes the open folder, or in the folder
list the folder under the cursor.

No Textual here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mailmig_tui.engine.plan import CopyOptions
from mailmig_tui.model import FolderInfo
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.common.format import plural


@dataclass(frozen=True)
class Selection:
    """What one copy takes; after a complete copy the main screen unmarks exactly this."""

    folders: tuple[str, ...]
    """Source folders, in the order the operator sees them."""
    patterns: tuple[str, ...]
    """The same folders as `--folder` patterns that select exactly them (`exact_pattern`)."""
    only_uids: Mapping[str, frozenset[int]] = field(default_factory=dict)
    description: str = ""
    """In words, for the plan, the log and the report: "2 marked folders"."""

    def options(self) -> CopyOptions:
        """The engine's options; the folder map saved for the pair is the service's to add."""
        return CopyOptions(include=self.patterns, only_uids=dict(self.only_uids))


def exact_pattern(name: str, all_folders: Sequence[str]) -> str:
    """A --folder pattern that selects exactly `name`.

    The engine tries a pattern as a name first and then as a glob, so "[Gmail]/Sent Mail"
    would also take a folder called "G/Sent Mail". Only where the name as a glob matches
    another folder are its wildcards escaped (escaped, the engine's exact-name check no
    longer applies, which matters to Gmail's label folders).
    """
    if not any(c in name for c in "*?["):
        return name
    others = [f for f in all_folders if f != name]
    if not any(fnmatch.fnmatchcase(other, name) for other in others):
        return name
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def selection_from(
    marks: MarkSet, folders: Sequence[FolderInfo], current: FolderInfo | None
) -> Selection | None:
    """What F5 copies now; None when there is nothing to copy (no folder at all)."""
    order = {f.name: i for i, f in enumerate(folders)}
    names = list(order)
    whole = [name for name in marks.folders if name in order]
    partial = {
        name: frozenset(uids)
        for name, uids in marks.messages.items()
        if uids and name not in marks.folders
    }
    if whole or partial:
        parts = []
        if whole:
            parts.append(plural(len(whole), "marked folder"))
        if partial:
            count = sum(len(uids) for uids in partial.values())
            parts.append(f"{plural(count, 'marked message')} in {plural(len(partial), 'folder')}")
        chosen = tuple(sorted({*whole, *partial}, key=lambda n: order.get(n, len(order))))
        patterns = tuple(exact_pattern(name, names) for name in chosen)
        return Selection(chosen, patterns, partial, " and ".join(parts))
    if current is None or not current.selectable:
        return None
    pattern = exact_pattern(current.name, names)
    return Selection((current.name,), (pattern,), {}, f"the folder {current.name}")
