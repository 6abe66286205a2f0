"""Decide which target folder each source folder goes to.

Rules, first match wins, for every selectable source folder:

1. `--map SOURCE=TARGET` overrides ("manual"); the target is taken exactly as typed.
2. INBOX, in any case, goes to "INBOX" ("inbox").
3. A Sent, Drafts, Trash, Junk or Archive folder goes to the target folder with the same role,
   whatever that is called ("special"). A role comes from the SPECIAL-USE attribute, else from
   the folder's name (see `special`); on either side, a role that some folder declares is not
   also guessed from other names. Without such a target folder the path rule applies.
4. Everything else keeps its path ("path"): the name is split with the source namespace and
   joined with the target's, so "Archive/2023" <-> "INBOX.Archive.2023".

Folders below a folder moved by rule 1 or 3 keep their path below its target ("manual" or
"special"), so "Sent/2023" becomes "Gesendete Elemente/2023". This works for nested folders
too; the nearest such ancestor wins, and a --map for the subfolder itself wins over both.

Escaping. A path component that contains the target delimiter cannot keep its spelling, so it
is percent-escaped: every "%" becomes "%25" and the delimiter becomes "%" plus the upper-case
hex of each of its UTF-8 bytes ("." -> "%2E", "/" -> "%2F"). A component is escaped only if it
contains the delimiter or a "%" followed by two hex digits, so ordinary names, "100%" included,
are left alone; and since every escaped component contains "%25" or the delimiter's code and
no unescaped one contains "%" plus two hex digits, `unescape_component` can always undo it.
Mapping never guesses that a source name is already escaped.

Two source folders never end up in one target folder by accident. Every such collision is
a `MappingConflict` value (`find_conflicts`); `map_folders` raises `FolderMapConflict`
carrying all of them, found in one pass, unless the caller asks for the mappings anyway
(`allow_conflicts=True`, for a front end that shows them). A folder sent to its target with
--map is never in a conflict: merging may be the point.
"""

from __future__ import annotations

import fnmatch
import re
import string
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from mailmig_tui.errors import FolderMapConflict, FolderMissing, MappingConflict, UsageError
from mailmig_tui.model import AccountInfo, FolderInfo, SpecialUse
from mailmig_tui.special import is_inbox, with_guessed_roles

Reason = Literal["inbox", "special", "path", "manual"]

_BY_ROLE = frozenset(
    {SpecialUse.SENT, SpecialUse.DRAFTS, SpecialUse.TRASH, SpecialUse.JUNK, SpecialUse.ARCHIVE}
)
_PERCENT_HEX = re.compile("%[0-9A-Fa-f]{2}")
_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})
_MAP_HINT = FolderMapConflict.default_hint


@dataclass(frozen=True)
class Namespace:
    """An account's personal namespace: hierarchy delimiter and prefix ("INBOX." or "")."""

    delimiter: str | None
    prefix: str = ""

    @classmethod
    def of(cls, info: AccountInfo) -> Namespace:
        return cls(info.delimiter, info.prefix)


@dataclass(frozen=True)
class FolderMapping:
    """Where one source folder goes, and which rule decided it."""

    source: str
    target: str
    reason: Reason
    renamed: bool = False
    """A path component had to be escaped for the target delimiter."""


def split_name(name: str, ns: Namespace) -> tuple[str, ...]:
    """Path components of a full folder name, namespace prefix removed; INBOX is ("INBOX",)."""
    if is_inbox(name):
        return ("INBOX",)
    if ns.prefix and name.startswith(ns.prefix):
        name = name[len(ns.prefix) :]
    return tuple(name.split(ns.delimiter)) if ns.delimiter else (name,)


def join_name(parts: Sequence[str], ns: Namespace) -> str:
    """The full folder name for path components; the inverse of `split_name`."""
    if len(parts) == 1 and is_inbox(parts[0]):
        return "INBOX"
    if not parts or (len(parts) > 1 and not ns.delimiter):
        raise ValueError(f"cannot make a folder name of {list(parts)!r} with {ns!r}")
    return ns.prefix + (ns.delimiter or "").join(parts)


def _code(delimiter: str) -> str:
    return "".join(f"%{byte:02X}" for byte in delimiter.encode())


def escape_component(text: str, delimiter: str | None) -> str:
    """`text` made free of `delimiter` by percent-escaping (see the module docstring)."""
    if not delimiter:
        return text
    # "%" or a hex digit as delimiter would reappear inside the escapes.
    if len(delimiter) != 1 or delimiter in string.hexdigits + "%":
        raise ValueError(f"unsupported hierarchy delimiter {delimiter!r}")
    if delimiter not in text and not _PERCENT_HEX.search(text):
        return text
    return text.replace("%", "%25").replace(delimiter, _code(delimiter))


def unescape_component(text: str, delimiter: str | None) -> str:
    """The inverse of `escape_component` for the same delimiter."""
    if not delimiter or "%" not in text:
        return text
    code = _code(delimiter)
    return re.sub(f"%25|{re.escape(code)}", lambda m: "%" if m[0] == "%25" else delimiter, text)


def _roles(folders: Sequence[FolderInfo], ns: Namespace) -> dict[str, SpecialUse]:
    """Folder name -> role mapped across servers (declared, else guessed from the name)."""
    return {
        f.name: f.special_use
        for f in with_guessed_roles(folders, ns.prefix)
        if f.special_use is not None and f.special_use in _BY_ROLE
    }


def resolve_overrides(
    folders: Sequence[FolderInfo], overrides: Mapping[str, str]
) -> dict[str, str]:
    by_name = {f.name: f for f in folders}
    inbox = next((f.name for f in folders if is_inbox(f.name)), None)
    resolved: dict[str, str] = {}
    for source, target in overrides.items():
        name = source if source in by_name else (inbox if is_inbox(source) else None)
        if name is None:
            raise UsageError(
                f"--map names a source folder that does not exist: {source}",
                "run `mailmig folders SOURCE` to see the folder names",
            )
        if not by_name[name].selectable:
            raise UsageError(f"--map names a folder that cannot hold messages: {source}")
        resolved[name] = "INBOX" if is_inbox(target) else target
    return resolved


def _target_name(base: str | None, rest: Sequence[str], ns: Namespace, source: str) -> str:
    """`rest` joined below the target folder `base`, or as a top-level path if `base` is None."""
    if base is not None and not rest:
        return base
    if not ns.delimiter and (base is not None or len(rest) > 1):
        raise UsageError(f"the target has no folder hierarchy to hold {source!r}", _MAP_HINT)
    if base is None:
        return join_name(rest, ns)
    return (ns.delimiter or "").join([base, *rest])


def target_key(name: str, *, fold_case: bool = False) -> str:
    """What makes two target folder names one folder: INBOX in any case is "INBOX", and on a
    server that compares names without case (`fold_case`) every name is casefolded."""
    if is_inbox(name):
        return "INBOX"
    return name.casefold() if fold_case else name


def find_conflicts(
    mappings: Iterable[FolderMapping],
    chosen: Collection[str] = (),
    *,
    fold_case: bool = False,
) -> list[MappingConflict]:
    """Every pair of source folders put into one target folder, in the order of the later one.

    `chosen` names the source folders whose target the operator gave (the --map keys, INBOX
    in any case): they are exempt, in either role. Of three folders in one target, the first
    is paired with each later one. `fold_case` compares targets as `target_key` does.
    """
    exempt = {"INBOX" if is_inbox(name) else name for name in chosen}
    claimed: dict[str, str] = {}
    conflicts: list[MappingConflict] = []
    for mapping in mappings:
        if ("INBOX" if is_inbox(mapping.source) else mapping.source) in exempt:
            continue
        key = target_key(mapping.target, fold_case=fold_case)
        first = claimed.setdefault(key, mapping.source)
        if first != mapping.source:
            conflicts.append(MappingConflict(first, mapping.source, mapping.target))
    return conflicts


def map_folders(
    source_folders: Sequence[FolderInfo],
    source_ns: Namespace,
    target_folders: Sequence[FolderInfo],
    target_ns: Namespace,
    overrides: Mapping[str, str] = _NO_OVERRIDES,
    *,
    allow_conflicts: bool = False,
) -> list[FolderMapping]:
    """One mapping per selectable source folder, in source order (rules in the docstring).

    Source folders that would share a target folder raise `FolderMapConflict` with all of
    them; with `allow_conflicts` they are mapped anyway, and `find_conflicts(result,
    overrides)` names them.
    """
    manual = resolve_overrides(source_folders, overrides)
    homes: dict[SpecialUse, str] = {}
    for name, role in _roles([f for f in target_folders if f.selectable], target_ns).items():
        homes.setdefault(role, name)
    # Source path of a role or --map folder -> where it and the folders below it go.
    anchors: dict[tuple[str, ...], tuple[str, Reason]] = {
        split_name(name, source_ns): (homes[role], "special")
        for name, role in _roles(source_folders, source_ns).items()
        if role in homes
    }
    anchors.update({split_name(name, source_ns): (t, "manual") for name, t in manual.items()})

    result: list[FolderMapping] = []
    for folder in (f for f in source_folders if f.selectable):
        if folder.name in manual:
            result.append(FolderMapping(folder.name, manual[folder.name], "manual"))
        elif is_inbox(folder.name):
            result.append(FolderMapping(folder.name, "INBOX", "inbox"))
        else:
            parts = split_name(folder.name, source_ns)
            depth = next((k for k in range(len(parts), 0, -1) if parts[:k] in anchors), 0)
            anchor: tuple[str | None, Reason] = anchors[parts[:depth]] if depth else (None, "path")
            base, reason = anchor
            rest = [escape_component(part, target_ns.delimiter) for part in parts[depth:]]
            target = _target_name(base, rest, target_ns, folder.name)
            result.append(FolderMapping(folder.name, target, reason, rest != list(parts[depth:])))
    if not allow_conflicts:
        conflicts = find_conflicts(result, manual)
        if conflicts:
            raise FolderMapConflict(conflicts)
    return result


def parse_map_option(values: Sequence[str]) -> dict[str, str]:
    """--map values "SOURCE=TARGET" as a dict; split on the first "=", nothing stripped."""
    result: dict[str, str] = {}
    for value in values:
        source, _, target = value.partition("=")
        if not source or not target:
            raise UsageError(f"--map needs SOURCE=TARGET, got {value!r}")
        if result.setdefault(source, target) != target:
            raise UsageError(
                f"two --map options give different targets for {source}: "
                f"{result[source]!r} and {target!r}"
            )
    return result


def _matches(name: str, pattern: str) -> bool:
    # Exact first: "[Gmail]/Sent Mail" is a name, not a character class.
    if name == pattern or (is_inbox(name) and is_inbox(pattern)):
        return True
    return fnmatch.fnmatchcase(name, pattern)


def select_folders(
    folders: Sequence[FolderInfo], include: Sequence[str], exclude: Sequence[str]
) -> list[FolderInfo]:
    """Selectable folders matching an include (all if none) and no exclude, in list order.

    Patterns are exact names or case-sensitive fnmatch globs whose "*" crosses delimiters.
    """
    for pattern in include:
        hits = [f for f in folders if _matches(f.name, pattern)]
        if not hits:
            raise FolderMissing(f"no folder matches {pattern!r}")
        if not any(f.selectable for f in hits):
            below = f"{pattern}{hits[0].delimiter or '/'}*"
            raise FolderMissing(
                f"{pattern!r} matches only folders that cannot hold messages",
                f"to take the folders below it, use {below!r}",
            )
    return [
        f
        for f in folders
        if f.selectable
        and (not include or any(_matches(f.name, p) for p in include))
        and not any(_matches(f.name, p) for p in exclude)
    ]
