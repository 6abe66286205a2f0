"""The folder map as the TUI shows and edits it: every source folder with its target folder.

`compute_map` asks the engine (`map_accounts`, the same call a copy plans with) and turns
its one-conflict-at-a-time `UsageError` into a full picture: each conflict found is pinned
to the target the engine named, so the next call gets past it, and the rows of both folders
involved are flagged. Two source folders sent to one target on purpose (manual entries) are
a merge and flagged as such.

The operator's manual entries are saved per pair of accounts, owner-only, as JSON under
`paths.state_dir() / "maps"`, and become `CopyOptions.overrides` of every copy.

No Textual here: this runs in thread workers and is tested on its own.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.engine.plan import CopyOptions, map_accounts
from mailmig_tui.errors import ConfigError, UsageError
from mailmig_tui.model import AccountSpec
from mailmig_tui.special import is_inbox
from mailmig_tui.stores.base import MailStore

_LITERAL = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_CONFLICT = re.compile(
    rf"source folders {_LITERAL} and {_LITERAL} would both go to target folder {_LITERAL}"
)
"""The engine's collision message (mapping.map_folders); its names are Python reprs."""
CONFLICT_HINT = "choose the target of one of them in the folder map (m, then Enter)"


@dataclass(frozen=True)
class Conflict:
    first: str
    second: str
    target: str


def parse_conflict(message: str) -> Conflict | None:
    """The two source folders and the target of the engine's collision error, if it is one."""
    found = _CONFLICT.search(message)
    if found is None:
        return None
    first, second, target = (ast.literal_eval(part) for part in found.groups())
    return Conflict(first, second, target)


@dataclass(frozen=True)
class MapRow:
    source: str
    target: str
    reason: str
    """"inbox", "special", "path", "manual", or "conflict" (pinned only to show the rest)."""
    target_exists: bool
    messages: int = 0
    conflict: bool = False
    merge: bool = False
    """Another source folder goes to the same target (both manual: on purpose)."""
    renamed: bool = False


@dataclass
class MapResult:
    rows: list[MapRow] = field(default_factory=list)
    target_folders: list[str] = field(default_factory=list)
    """Existing target folders that can hold messages: what the picker offers."""
    overrides: dict[str, str] = field(default_factory=dict)
    """The manual entries in force (saved ones naming folders gone from the source dropped)."""
    dropped: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    error: str = ""
    """Why no map could be made at all (e.g. the target has no folder hierarchy)."""

    @property
    def conflict_text(self) -> str:
        if not self.conflicts:
            return ""
        first = self.conflicts[0]
        text = f"{first.first!r} and {first.second!r} would both go to {first.target!r}"
        if len(self.conflicts) > 1:
            text += f" (and {len(self.conflicts) - 1} more conflicts)"
        return text


def _target_key(name: str) -> str:
    return "INBOX" if is_inbox(name) else name


def compute_map(source: MailStore, target: MailStore, overrides: Mapping[str, str]) -> MapResult:
    """The map for every source folder (blocking: call from a worker thread)."""
    selectable = {f.name for f in source.list_folders(with_status=False) if f.selectable}
    has_inbox = any(is_inbox(name) for name in selectable)
    kept = {s: t for s, t in overrides.items() if s in selectable or (is_inbox(s) and has_inbox)}
    result = MapResult(overrides=kept, dropped=sorted(set(overrides) - set(kept)))
    pinned: dict[str, str] = {}
    for _attempt in range(len(selectable) + 1):
        try:
            mapped = map_accounts(source, target, CopyOptions(overrides={**pinned, **kept}))
            break
        except UsageError as exc:
            conflict = parse_conflict(exc.message)
            if conflict is None or conflict.second in pinned:
                result.error = exc.message
                return result
            result.conflicts.append(conflict)
            pinned[conflict.second] = conflict.target
    else:  # cannot happen: every round pins one more folder
        result.error = "the folder map did not settle"
        return result
    involved = {c.first for c in result.conflicts} | {c.second for c in result.conflicts}
    by_target: dict[str, list[str]] = defaultdict(list)
    for mapping, _info in mapped.pairs:
        by_target[_target_key(mapping.target)].append(mapping.source)
    for mapping, info in mapped.pairs:
        shared = len(by_target[_target_key(mapping.target)]) > 1
        clash = mapping.source in involved
        result.rows.append(
            MapRow(
                source=mapping.source,
                target=mapping.target,
                reason="conflict" if mapping.source in pinned else mapping.reason,
                target_exists=mapping.target in mapped.target_folders,
                messages=info.messages,
                conflict=clash,
                merge=shared and not clash,
                renamed=mapping.renamed,
            )
        )
    result.rows.sort(key=lambda row: (not is_inbox(row.source), row.source.casefold()))
    result.target_folders = sorted(
        (name for name, info in mapped.target_folders.items() if info.selectable),
        key=lambda name: (not is_inbox(name), name.casefold()),
    )
    return result


# -- saved maps -----------------------------------------------------------------------------


def pair_key(source: AccountSpec, target: AccountSpec) -> str:
    """A stable file-name-safe key for a pair of accounts (their identities, hashed)."""
    text = f"{source.identity}\0{target.identity}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def map_path(source: AccountSpec, target: AccountSpec) -> Path:
    return paths.state_dir() / "maps" / f"{pair_key(source, target)}.json"


def load_overrides(source: AccountSpec, target: AccountSpec) -> dict[str, str]:
    """The saved manual entries for this pair; {} when none were saved (or unreadable)."""
    try:
        data = json.loads(map_path(source, target).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the saved folder map {map_path(source, target)}: {exc}",
            "fix or delete the file; the map starts empty without it",
        ) from None
    entries = data.get("overrides", {}) if isinstance(data, dict) else {}
    if not isinstance(entries, dict):
        return {}
    return {str(s): str(t) for s, t in entries.items() if isinstance(t, str) and t}


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, owner-only from the first byte."""
    paths.ensure_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def save_overrides(source: AccountSpec, target: AccountSpec, overrides: Mapping[str, str]) -> Path:
    """Save the manual entries for this pair; returns the file written."""
    path = map_path(source, target)
    data = {
        "source": source.identity,
        "target": target.identity,
        "overrides": dict(sorted(overrides.items())),
    }
    try:
        write_private(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot save the folder map {path}: {exc.strerror or exc}",
            "make the state directory writable, or set MAILMIG_STATE_DIR",
        ) from None
    return path
