"""Planning a copy: which folders go where, and per folder what is new, present or too big.

`analyse_folder` is the heart of "no duplicates, ever": a source message counts as done
when the journal's target UID for it still exists, or when a message with the same content
identity is on the target and not yet claimed by another source message. The copy calls
it again after a reconnect, so work interrupted at any point is re-derived from the servers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from mailmig_tui import presets
from mailmig_tui.engine.identity import identity_of
from mailmig_tui.engine.journal import FolderKey, Journal, JournalEntry
from mailmig_tui.engine.mapping import (
    FolderMapping,
    Namespace,
    find_conflicts,
    map_folders,
    resolve_overrides,
    select_folders,
)
from mailmig_tui.errors import FolderMapConflict, FolderMissing, MappingConflict
from mailmig_tui.model import AccountSpec, FolderInfo
from mailmig_tui.presets import Preset
from mailmig_tui.special import is_inbox
from mailmig_tui.stores.base import HeaderProbe, MailStore


@dataclass(frozen=True)
class CopyOptions:
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    overrides: Mapping[str, str] = field(default_factory=dict)
    saved_overrides: Mapping[str, str] = field(default_factory=dict)
    """The pair's saved folder map (the TUI's `m` screen): applied under `overrides`, and
    an entry naming a folder gone from the source is left out instead of refused."""
    max_size: int | None = None
    dry_run: bool = False
    only_uids: Mapping[str, frozenset[int]] = field(default_factory=dict)
    """Source folder -> the UIDs to copy from it (the TUI's marked messages); folders not
    named here are copied whole."""
    source_preset: str = "auto"
    target_preset: str = "auto"
    """"auto" (recognise Exchange/Gmail), "none", or a preset name (see presets.py)."""


@dataclass
class FolderWork:
    """What one source folder needs, as far as the servers and the journal tell."""

    mapping: FolderMapping
    source: FolderInfo
    target_exists: bool
    key: FolderKey
    only: frozenset[int] | None = None
    """Copy only these source UIDs (marked messages); None means the whole folder."""
    selected: int = 0
    """Source messages this copy is about: the folder's, or the marked ones."""
    to_copy: list[HeaderProbe] = field(default_factory=list)
    too_large: list[HeaderProbe] = field(default_factory=list)
    present: int = 0
    newly_matched: list[JournalEntry] = field(default_factory=list)
    """Found on the target by content identity: to be written to the journal."""
    flag_updates: list[tuple[JournalEntry, tuple[str, ...]]] = field(default_factory=list)
    """Journaled copies whose source flags changed since: (entry, current source flags)."""

    @property
    def bytes_to_copy(self) -> int:
        return sum(p.size for p in self.to_copy)


@dataclass
class Plan:
    source: AccountSpec
    target: AccountSpec
    folders: list[FolderWork]
    size_limit: int | None
    quota: tuple[int, int] | None
    warnings: list[str] = field(default_factory=list)
    source_preset: Preset | None = None
    target_preset: Preset | None = None

    @property
    def messages_to_copy(self) -> int:
        return sum(len(f.to_copy) for f in self.folders)

    @property
    def bytes_to_copy(self) -> int:
        return sum(f.bytes_to_copy for f in self.folders)


def size_limit(target: MailStore, max_size: int | None, preset: Preset | None) -> int | None:
    """The smaller of the target's APPENDLIMIT (RFC 7889) and --max-size, or without
    --max-size the preset's default limit (35 MB on Exchange Online)."""
    chosen = max_size or (preset.size_limit if preset else None)
    limits = [x for x in (chosen, target.info().append_limit) if x]
    return min(limits) if limits else None


@dataclass
class AccountMap:
    """Selected source folders with their mapping, and what we know of the target."""

    pairs: list[tuple[FolderMapping, FolderInfo]]
    target_folders: dict[str, FolderInfo]
    source_preset: Preset | None
    target_preset: Preset | None
    conflicts: list[MappingConflict] = field(default_factory=list)
    """Source folders sharing a target by accident; only ever filled with allow_conflicts."""

    @property
    def fold_case(self) -> bool:
        """The target compares folder names without case ("Archiv" is "archiv")."""
        return bool(self.target_preset and self.target_preset.case_insensitive_names)


def map_accounts(
    source: MailStore,
    target: MailStore,
    options: CopyOptions,
    *,
    allow_conflicts: bool = False,
) -> AccountMap:
    """The selected source folders mapped onto the target (blocking: lists both accounts).

    Source folders that would share a target folder, also only by case on a target that
    ignores it, raise `FolderMapConflict` with all of them; with `allow_conflicts` they are
    mapped anyway and listed in `AccountMap.conflicts`.
    """
    source_preset = presets.choose(options.source_preset, source.info())
    target_preset = presets.choose(options.target_preset, target.info())
    source_folders = source.list_folders(with_status=True)
    target_folders = target.list_folders(with_status=False)
    selected = [
        f
        for f in select_folders(source_folders, options.include, options.exclude)
        # Gmail's label views only hold copies; taken only when named exactly.
        if not (source_preset and source_preset.skips(f) and f.name not in options.include)
    ]
    # Every --map must name a real folder, even one the selection leaves out.
    overrides = {
        **resolve_overrides(source_folders, _still_there(options.saved_overrides, source_folders)),
        **resolve_overrides(source_folders, options.overrides),
    }
    chosen = {f.name for f in selected}
    manual = {s: t for s, t in overrides.items() if s in chosen}
    mappings = map_folders(
        selected,
        Namespace.of(source.info()),
        target_folders,
        Namespace.of(target.info()),
        manual,
        allow_conflicts=True,
    )
    fold_case = bool(target_preset and target_preset.case_insensitive_names)
    if fold_case:
        # "Archiv" and "archiv" are one folder there: use the one that exists.
        existing = {name.casefold(): name for name in (f.name for f in target_folders)}
        mappings = [
            replace(m, target=existing.get(m.target.casefold(), m.target)) for m in mappings
        ]
    conflicts = find_conflicts(mappings, manual, fold_case=fold_case)
    if conflicts and not allow_conflicts:
        raise FolderMapConflict(conflicts)
    by_name = {f.name: f for f in selected}
    return AccountMap(
        [(m, by_name[m.source]) for m in mappings],
        {f.name: f for f in target_folders},
        source_preset,
        target_preset,
        conflicts,
    )


def _still_there(saved: Mapping[str, str], folders: Sequence[FolderInfo]) -> dict[str, str]:
    """Saved map entries whose source folder still exists (INBOX always does)."""
    names = {f.name for f in folders if f.selectable}
    return {s: t for s, t in saved.items() if s in names or is_inbox(s)}


def build_plan(
    source_spec: AccountSpec,
    target_spec: AccountSpec,
    source: MailStore,
    target: MailStore,
    journal: Journal | None,
    options: CopyOptions,
) -> Plan:
    mapped = map_accounts(source, target, options)
    target_folders = mapped.target_folders
    limit = size_limit(target, options.max_size, mapped.target_preset)
    claimed: dict[str, set[int]] = defaultdict(set)
    works = [
        analyse_folder(
            source_spec,
            target_spec,
            source,
            target,
            journal,
            mapping,
            info,
            target_exists=mapping.target in target_folders
            and target_folders[mapping.target].selectable,
            limit=limit,
            claimed=claimed[mapping.target],
            only=options.only_uids.get(mapping.source),
        )
        for mapping, info in mapped.pairs
    ]
    plan = Plan(
        source_spec,
        target_spec,
        works,
        limit,
        target.quota("INBOX"),
        source_preset=mapped.source_preset,
        target_preset=mapped.target_preset,
    )
    if plan.quota is not None:
        used, total = plan.quota
        if used + plan.bytes_to_copy > total:
            plan.warnings.append(
                f"the target's quota will not hold this copy: {used + plan.bytes_to_copy:,} "
                f"bytes needed, {total:,} allowed"
            )
    return plan


def analyse_folder(
    source_spec: AccountSpec,
    target_spec: AccountSpec,
    source: MailStore,
    target: MailStore,
    journal: Journal | None,
    mapping: FolderMapping,
    info: FolderInfo,
    *,
    target_exists: bool,
    limit: int | None,
    claimed: set[int],
    only: frozenset[int] | None = None,
) -> FolderWork:
    """Decide per source message: done, present on the target, too large, or to copy."""
    status = source.folder_status(mapping.source)
    key = FolderKey(
        source_spec.identity,
        mapping.source,
        status.uidvalidity,
        target_spec.identity,
        mapping.target,
    )
    work = FolderWork(mapping, status, target_exists, key, only)
    source_uids = [u for u in source.uids(mapping.source) if only is None or u in only]
    work.selected = len(source_uids)
    target_uids: set[int] = set()
    target_validity = 0
    if target_exists:
        try:
            target_validity = target.folder_status(mapping.target).uidvalidity
            target_uids = set(target.uids(mapping.target))
        except FolderMissing:
            work.target_exists = False
    entries = journal.entries(key) if journal else {}
    done: dict[int, JournalEntry] = {}
    for uid in source_uids:
        entry = entries.get(uid)
        if (
            entry is not None
            and entry.target_uid is not None
            and entry.target_uidvalidity == target_validity
            and entry.target_uid in target_uids
            and entry.target_uid not in claimed
        ):
            done[uid] = entry
            claimed.add(entry.target_uid)
    work.present = len(done)
    _flag_changes(work, source, done)

    remaining = [u for u in source_uids if u not in done]
    if not remaining:
        return work
    unclaimed = sorted(target_uids - claimed)
    if not unclaimed and not entries:
        # Nothing on the target to recognise (a first copy): sizes are all the plan needs.
        _classify_by_size(work, source.sizes(mapping.source, remaining), limit)
        if work.too_large:  # fetch their headers, to name them in the report
            work.too_large = source.probes(mapping.source, [p.uid for p in work.too_large])
        return work
    by_identity: dict[str, list[int]] = defaultdict(list)
    for probe in target.probes(mapping.target, unclaimed) if unclaimed else []:
        by_identity[identity_of(probe)].append(probe.uid)
    for probe in source.probes(mapping.source, remaining):
        identity = identity_of(probe)
        candidates = by_identity.get(identity)
        if candidates:
            target_uid = candidates.pop(0)
            claimed.add(target_uid)
            work.present += 1
            work.newly_matched.append(
                JournalEntry(probe.uid, target_validity, target_uid, identity, probe.flags)
            )
        elif limit is not None and probe.size > limit:
            work.too_large.append(probe)
        else:
            work.to_copy.append(probe)
    return work


def _classify_by_size(work: FolderWork, probes: list[HeaderProbe], limit: int | None) -> None:
    for probe in probes:
        if limit is not None and probe.size > limit:
            work.too_large.append(probe)
        else:
            work.to_copy.append(probe)


def _flag_changes(work: FolderWork, source: MailStore, done: dict[int, JournalEntry]) -> None:
    if not done:
        return
    current = source.flags(work.mapping.source, sorted(done))
    for uid, entry in done.items():
        flags = current.get(uid)
        if flags is not None and sorted(flags) != sorted(entry.flags):
            work.flag_updates.append((entry, flags))
