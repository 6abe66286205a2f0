"""Planning a copy: which folders go where, and per folder what is new, present or too big.

`analyse_folder` is the heart of "no duplicates, ever": a source message counts as done
when the journal's target UID for it still exists, or when a message with the same content
identity is on the target and not yet claimed by another source message. The copy calls
it again after a reconnect, so work interrupted at any point is re-derived from the servers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Protocol, runtime_checkable

from mailmig_tui import presets
from mailmig_tui.engine.identity import Identity, TargetPool, identity_of
from mailmig_tui.engine.journal import FolderKey, Journal, JournalEntry
from mailmig_tui.engine.mapping import (
    FolderMapping,
    Namespace,
    find_conflicts,
    map_folders,
    resolve_overrides,
    select_folders,
)
from mailmig_tui.engine.side_by_side import both
from mailmig_tui.engine.wording import human_size
from mailmig_tui.errors import (
    ConnectError,
    FolderMapConflict,
    FolderMissing,
    MailmigError,
    MappingConflict,
    ProtocolError,
    UsageError,
)
from mailmig_tui.model import AccountSpec, FolderInfo
from mailmig_tui.presets import Preset
from mailmig_tui.special import is_inbox
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery


@dataclass(frozen=True)
class CopyFilter:
    """Which selected messages a copy takes at all: received since/before a day, and at most
    a size. A message outside it is "filtered out": not copied, not counted as to copy, and
    left for a later run without the filter."""

    since: date | None = None
    """Received (INTERNALDATE) on this day or later, as IMAP SEARCH SINCE counts."""
    before: date | None = None
    """Received before this day (the day itself excluded), as IMAP SEARCH BEFORE."""
    skip_larger_than: int | None = None
    """At most this many bytes (RFC822.SIZE); larger ones are filtered out. Not the
    target's size limit (`CopyOptions.max_size`), which counts them too large."""

    @property
    def active(self) -> bool:
        return bool(self.since or self.before or self.skip_larger_than)

    def describe(self) -> str:
        """ "received since 2024-01-01, before 2025-01-01, at most 25.0 MB" ("" when off)."""
        parts = []
        if self.since is not None:
            parts.append(f"since {self.since.isoformat()}")
        if self.before is not None:
            parts.append(f"before {self.before.isoformat()}")
        text = "received " + ", ".join(parts) if parts else ""
        if self.skip_larger_than is not None:
            text += (", " if text else "") + f"at most {human_size(self.skip_larger_than)}"
        return text

    def excluded(
        self, source: MailStore, folder: str, uids: Sequence[int], sizes: Mapping[int, int] | None
    ) -> set[int]:
        """Which of `uids` fall outside (blocking). Dates are asked of the store's own
        search (IMAP: UID SEARCH SINCE/BEFORE on the server; local stores: their
        INTERNALDATEs); sizes come from `sizes` where planning read them already."""
        out: set[int] = set()
        if not uids:
            return out
        if self.since is not None or self.before is not None:
            query = SearchQuery(since=_midnight(self.since), before=_midnight(self.before))
            inside = set(source.search(folder, query))
            out.update(u for u in uids if u not in inside)
        if self.skip_larger_than is not None:
            if sizes is None:
                sizes = {p.uid: p.size for p in source.sizes(folder, list(uids))}
            limit = self.skip_larger_than
            out.update(u for u in uids if sizes.get(u, 0) > limit)
        return out


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


def parse_size(text: str) -> int:
    """ "25M", "500K", "1G", "1.5M" or plain bytes -> bytes (K = 1024); ValueError if not."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = 1
    if cleaned and cleaned[-1] in "KMG":
        factor = 1024 ** ("KMG".index(cleaned[-1]) + 1)
        cleaned = cleaned[:-1]
    value = float(cleaned.strip())  # ValueError on anything else
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(text)
    return max(1, round(value * factor))


def filter_options(args: object) -> CopyFilter:
    """`--since`, `--before`, `--skip-larger-than` of a parsed command line (absent ones:
    no filter); raises UsageError naming the option that is wrong."""
    since = _day_option("--since", getattr(args, "since", None))
    before = _day_option("--before", getattr(args, "before", None))
    if since is not None and before is not None and since >= before:
        raise UsageError(
            f"--since {since} is not before --before {before}: no message could match",
            "--since is inclusive, --before exclusive",
        )
    text = getattr(args, "skip_larger_than", None)
    try:
        skip_larger_than = None if text is None else parse_size(str(text))
    except ValueError:
        raise UsageError(
            "--skip-larger-than must be a positive number of bytes, or with K, M or G: "
            f"not {text!r}",
            "for example --skip-larger-than 25M",
        ) from None
    return CopyFilter(since, before, skip_larger_than)


def _day_option(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(
            f"{option} must be a day as YYYY-MM-DD: not {text!r}",
            f"for example {option} 2024-01-31",
        ) from None


@dataclass(frozen=True)
class CopyOptions:
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    overrides: Mapping[str, str] = field(default_factory=dict)
    saved_overrides: Mapping[str, str] = field(default_factory=dict)
    """The pair's saved folder map (the TUI's `m` screen): applied under `overrides`, and
    an entry naming a folder gone from the source is left out instead of refused."""
    max_size: int | None = None
    """The target's size limit (`--max-size`): larger messages count as too large instead
    of being sent; it replaces the preset's own limit (see `size_limit`)."""
    since: date | None = None
    before: date | None = None
    skip_larger_than: int | None = None
    """With `since` and `before`, the copy filter (see `CopyFilter`): what it leaves out
    is filtered out, not too large."""
    dry_run: bool = False
    only_uids: Mapping[str, frozenset[int]] = field(default_factory=dict)
    """Source folder -> the UIDs to copy from it (the TUI's marked messages); folders not
    named here are copied whole."""
    source_preset: str = "auto"
    target_preset: str = "auto"
    """"auto" (recognise Exchange/Gmail), "none", or a preset name (see presets.py)."""

    @property
    def filter(self) -> CopyFilter:
        return CopyFilter(self.since, self.before, self.skip_larger_than)


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
    filtered_out: frozenset[int] = frozenset()
    """Selected source UIDs outside the copy filter: neither copied nor to copy."""
    newly_matched: list[JournalEntry] = field(default_factory=list)
    """Found on the target by content identity: to be written to the journal."""
    flag_updates: list[tuple[JournalEntry, tuple[str, ...]]] = field(default_factory=list)
    """Copies whose flags differ from the source's: (entry with the flags the target has
    as far as known, current source flags)."""
    error: str = ""
    """The folder could not be opened (STATUS, SELECT or EXAMINE failed): it is reported
    with this error and left alone, and the other folders go on."""

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
    filter: CopyFilter = field(default_factory=CopyFilter)

    @property
    def messages_to_copy(self) -> int:
        return sum(len(f.to_copy) for f in self.folders)

    @property
    def filtered_out(self) -> int:
        return sum(len(f.filtered_out) for f in self.folders)

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
    quota: tuple[int, int] | None = None
    """The target's (used, total) bytes, when asked for (`with_quota`)."""

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
    with_quota: bool = False,
) -> AccountMap:
    """The selected source folders mapped onto the target (blocking: lists both accounts,
    each on its own thread where both are servers; `with_quota`: also the target's quota).

    Source folders that would share a target folder, also only by case on a target that
    ignores it, raise `FolderMapConflict` with all of them; with `allow_conflicts` they are
    mapped anyway and listed in `AccountMap.conflicts`.
    """

    def source_side() -> tuple[Preset | None, list[FolderInfo]]:
        preset = presets.choose(options.source_preset, source.info())
        return preset, source.list_folders(with_status=True)

    def target_side() -> tuple[Preset | None, list[FolderInfo], tuple[int, int] | None]:
        preset = presets.choose(options.target_preset, target.info())
        folders = target.list_folders(with_status=False)
        return preset, folders, target.quota("INBOX") if with_quota else None

    (source_preset, source_folders), (target_preset, target_folders, quota) = both(
        source_side, target_side, at_once=apart(source, target)
    )
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
        quota,
    )


def _still_there(saved: Mapping[str, str], folders: Sequence[FolderInfo]) -> dict[str, str]:
    """Saved map entries whose source folder still exists (INBOX always does)."""
    names = {f.name for f in folders if f.selectable}
    return {s: t for s, t in saved.items() if s in names or is_inbox(s)}


@runtime_checkable
class PipelinedPlanning(Protocol):
    """A store that answers planning's questions for many folders in one round trip."""

    def uid_lists(self, folders: Sequence[str]) -> dict[str, tuple[int, list[int]]]: ...

    def sizes_and_flags(
        self, folders: Sequence[str], flagged: Collection[str] = ()
    ) -> dict[str, tuple[dict[int, int], dict[int, tuple[str, ...]] | None]]: ...


def apart(source: MailStore, target: MailStore) -> bool:
    """Whether the two sides can be asked at the same time, one thread each: two distinct
    server connections (local stores answer at once anyway)."""
    return (
        source is not target
        and isinstance(source, PipelinedPlanning)
        and isinstance(target, PipelinedPlanning)
    )


@dataclass(frozen=True)
class Known:
    """What planning already read for a folder in bulk, so `analyse_folder` need not ask."""

    source: FolderInfo
    """The source folder's STATUS, read with the listing moments ago."""
    sizes: dict[int, int] | None = None
    """uid -> size of every source message."""
    target: tuple[int, int] | None = None
    """(messages, uidvalidity) of the target folder."""
    target_uids: list[int] | None = None
    """The target folder's UIDs, read with `target`."""
    flags: dict[int, tuple[str, ...]] | None = None
    """uid -> flags of every source message, read where the target folder holds messages
    (a re-run compares them with the journal's)."""


def read_ahead(
    source: MailStore,
    target: MailStore,
    pairs: Sequence[tuple[FolderMapping, FolderInfo]],
    target_folders: Mapping[str, FolderInfo],
) -> dict[str, Known]:
    """Every existing target folder's UIDVALIDITY and UIDs, then every source folder's UIDs
    and sizes (with flags where the target folder holds messages: a re-run compares them
    with the journal), each in one pipelined round trip where the stores can (IMAP): at a
    100 ms round trip, asking folder by folder kept a copy waiting seconds before its first
    message, and a re-run seconds before it found nothing to do. Empty source folders are
    not opened at all. Only UIDs, sizes and shared flag tuples are held for all folders at
    once, never headers."""
    readable = [(m, info) for m, info in pairs if info.selectable and not info.error]
    at_once = apart(source, target)
    existing = sorted(
        {m.target for m, _i in readable if m.target in target_folders}
        & {name for name, f in target_folders.items() if f.selectable}
    )
    # The largest folder last: it stays selected, so the estimate's sample and the copy's
    # first fetch from it need no EXAMINE of their own.
    with_messages = sorted((info.size, m.source) for m, info in readable if info.messages)
    names = [name for _size, name in with_messages]

    def target_side() -> dict[str, tuple[int, list[int]]]:
        if not isinstance(target, PipelinedPlanning) or not existing:
            return {}
        return target.uid_lists(existing)

    def source_side(
        flagged: Collection[str],
    ) -> dict[str, tuple[dict[int, int], dict[int, tuple[str, ...]] | None]]:
        if not isinstance(source, PipelinedPlanning) or not names:
            return {}
        return source.sizes_and_flags(names, flagged)

    try:
        if at_once:  # both at once; flags of every folder whose target exists at all
            present = set(existing)
            flagged = {m.source for m, _i in readable if m.target in present}
            sizes, listed = both(lambda: source_side(flagged), target_side)
        else:  # one after the other; flags only where the target folder holds messages
            listed = target_side()
            flagged = {m.source for m, _i in readable if listed.get(m.target, (0, []))[1]}
            sizes = source_side(flagged)
    except ConnectError:
        raise
    except MailmigError:  # asked again folder by folder, where each error is reported
        return {}
    if isinstance(source, PipelinedPlanning):
        sizes.update({m.source: ({}, {}) for m, info in readable if not info.messages})
    known = {}
    for m, info in readable:
        folder_sizes, flags = sizes.get(m.source, (None, None))
        on_target = listed.get(m.target)
        if on_target is None or not on_target[1]:
            flags = None  # nothing there to compare them with: let them go
        known[m.source] = Known(
            info,
            folder_sizes,
            None if on_target is None else (len(on_target[1]), on_target[0]),
            None if on_target is None else on_target[1],
            flags,
        )
    return known


def build_plan(
    source_spec: AccountSpec,
    target_spec: AccountSpec,
    source: MailStore,
    target: MailStore,
    journal: Journal | None,
    options: CopyOptions,
) -> Plan:
    mapped = map_accounts(source, target, options, with_quota=True)
    target_folders = mapped.target_folders
    limit = size_limit(target, options.max_size, mapped.target_preset)
    known = read_ahead(source, target, mapped.pairs, target_folders)
    claimed: dict[str, set[int]] = defaultdict(set)
    works = []
    for mapping, info in mapped.pairs:
        try:
            if info.error:
                raise ProtocolError(info.error)
            work = analyse_folder(
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
                known=known.pop(mapping.source, None),  # its UIDs are not needed after
                copy_filter=options.filter,
            )
        except ConnectError:
            raise
        except MailmigError as exc:  # this folder cannot be opened: the others go on
            key = FolderKey(
                source_spec.identity, mapping.source, 0, target_spec.identity, mapping.target
            )
            work = FolderWork(mapping, info, False, key, error=exc.one_line())
        works.append(work)
    plan = Plan(
        source_spec,
        target_spec,
        works,
        limit,
        mapped.quota,
        source_preset=mapped.source_preset,
        target_preset=mapped.target_preset,
        filter=options.filter,
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
    known: Known | None = None,
    copy_filter: CopyFilter | None = None,
) -> FolderWork:
    """Decide per source message: filtered out, done, present on the target, too large, or
    to copy. The filter comes first: what it leaves out is not even looked for on the
    target, so a later run without it finds those messages as they are."""
    status = known.source if known is not None else source.folder_status(mapping.source)
    key = FolderKey(
        source_spec.identity,
        mapping.source,
        status.uidvalidity,
        target_spec.identity,
        mapping.target,
    )
    work = FolderWork(mapping, status, target_exists, key, only)
    sizes = known.sizes if known is not None else None
    all_uids = sorted(sizes) if sizes is not None else source.uids(mapping.source)
    source_uids = [u for u in all_uids if only is None or u in only]
    work.selected = len(source_uids)
    if copy_filter is not None and copy_filter.active:
        out = copy_filter.excluded(source, mapping.source, source_uids, sizes)
        if out:
            work.filtered_out = frozenset(out)
            source_uids = [u for u in source_uids if u not in out]
    target_uids: set[int] = set()
    target_validity = 0
    if target_exists:
        try:
            if known is not None and known.target is not None:
                count, target_validity = known.target
                if known.target_uids is not None:
                    target_uids = set(known.target_uids)
                else:
                    target_uids = set(target.uids(mapping.target)) if count else set()
            else:
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
    _flag_changes(work, source, done, known.flags if known is not None else None)

    remaining = [u for u in source_uids if u not in done]
    if not remaining:
        return work
    unclaimed = sorted(target_uids - claimed)
    if not unclaimed:
        # Nothing on the target to recognise (a first copy, or the target folder emptied
        # since): sizes are all the plan needs.
        if sizes is not None:
            by_size = [HeaderProbe(u, sizes[u], None, b"") for u in remaining]
        else:
            by_size = source.sizes(mapping.source, remaining)
        _classify_by_size(work, by_size, limit)
        if work.too_large:  # fetch their headers, to name them in the report
            work.too_large = source.probes(mapping.source, [p.uid for p in work.too_large])
        return work
    pool = TargetPool()
    target_flags: dict[int, tuple[str, ...]] = {}
    for probe in target.probes(mapping.target, unclaimed) if unclaimed else []:
        pool.add(identity_of(probe), probe.uid)
        target_flags[probe.uid] = probe.flags
    # Two passes: exact copies first, then those a server altered a little, so that a
    # near copy never takes the place of a true one.
    unmatched: list[tuple[HeaderProbe, Identity]] = []
    for probe in source.probes(mapping.source, remaining):
        identity = identity_of(probe)
        match = pool.take(identity)
        if match is None:
            unmatched.append((probe, identity))
        else:
            _matched(work, probe, identity, match.uid, target_validity, target_flags, claimed)
    for probe, identity in unmatched:
        match = pool.take(identity, exact=False)
        if match is not None:
            _matched(work, probe, identity, match.uid, target_validity, target_flags, claimed)
        elif limit is not None and probe.size > limit:
            work.too_large.append(probe)
        else:
            work.to_copy.append(probe)
    work.to_copy.sort(key=lambda p: p.uid)
    work.too_large.sort(key=lambda p: p.uid)
    return work


def _matched(
    work: FolderWork,
    probe: HeaderProbe,
    identity: Identity,
    target_uid: int,
    target_validity: int,
    target_flags: Mapping[int, tuple[str, ...]],
    claimed: set[int],
) -> None:
    """A source message found on the target without the journal: journal it, and bring its
    flags over when they differ (they changed on the source since an earlier run)."""
    claimed.add(target_uid)
    work.present += 1
    entry = JournalEntry(probe.uid, target_validity, target_uid, str(identity), probe.flags)
    work.newly_matched.append(entry)
    on_target = target_flags.get(target_uid, ())
    if not same_flags(on_target, probe.flags):
        work.flag_updates.append((replace(entry, flags=on_target), probe.flags))


def same_flags(a: Sequence[str], b: Sequence[str]) -> bool:
    """Equal as IMAP compares flags: without case, order or \\Recent."""
    return _flag_set(a) == _flag_set(b)


def _flag_set(flags: Sequence[str]) -> frozenset[str]:
    return frozenset(f.lower() for f in flags if f.lower() != "\\recent")


def _classify_by_size(work: FolderWork, probes: list[HeaderProbe], limit: int | None) -> None:
    for probe in probes:
        if limit is not None and probe.size > limit:
            work.too_large.append(probe)
        else:
            work.to_copy.append(probe)


def _flag_changes(
    work: FolderWork,
    source: MailStore,
    done: dict[int, JournalEntry],
    known: Mapping[int, tuple[str, ...]] | None,
) -> None:
    if not done:
        return
    current = known if known is not None else source.flags(work.mapping.source, sorted(done))
    for uid, entry in done.items():
        flags = current.get(uid)
        if flags is not None and not same_flags(flags, entry.flags):
            work.flag_updates.append((entry, flags))
