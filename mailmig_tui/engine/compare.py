"""What is already on the target: per folder counts, and per message by content identity.

`target_counts` maps every source folder as a copy would (`map_accounts`, with the pair's
saved folder map) and reads the message count of each target folder. `on_target` says which
messages of one source folder a copy would find on the target: the same identity key and the
same multiset matching as the plan (`analyse_folder`), exact matches first and near ones
(a server's small alteration) only over what those left. The journal is not read: what is
on the target is what the target holds now, whoever put it there.

Blocking, no front-end code: the TUI calls it from a thread worker, with a progress
callback and a cancel check between chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mailmig_tui.engine.identity import CLOSE_BYTES, Identity, identity_of
from mailmig_tui.engine.plan import CopyOptions, map_accounts
from mailmig_tui.errors import FolderMissing, UsageError
from mailmig_tui.stores.base import MailStore

CHUNK = 2000
"""Source UIDs probed per request: progress and cancelling move at this step."""
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TargetCount:
    """One source folder's target folder and how many messages it holds now."""

    target: str
    messages: int | None
    """None: the target folder does not exist yet (the copy creates it)."""

    def difference(self, source_messages: int) -> int:
        """Target minus source: negative while messages are missing on the target."""
        return (self.messages or 0) - source_messages


@dataclass(frozen=True)
class Presence:
    """Which messages of one source folder are on the target."""

    folder: str
    target: str
    uids: frozenset[int]
    """Source UIDs found on the target."""
    total: int
    """Messages in the source folder when it was compared."""
    sizes: Mapping[int, int]
    """Source UID -> size, for every message probed (marking them needs no other fetch);
    empty when the target folder was empty or missing: no source message was read."""
    compared: Sequence[int] = ()
    """Every source UID compared."""
    complete: bool = True
    """False: the lookup was cancelled part way (another folder was opened)."""

    @property
    def missing(self) -> list[int]:
        """Source UIDs not on the target, in UID order."""
        return sorted(uid for uid in self.compared if uid not in self.uids)


def target_counts(
    source: MailStore, target: MailStore, saved_map: Mapping[str, str]
) -> dict[str, TargetCount]:
    """Source folder -> its target folder and that folder's message count (blocking).

    Folders the automatic rules would send to one target are mapped anyway (as the folder
    map shows them); a target the mapping cannot make at all gives no counts.
    """
    try:
        mapped = map_accounts(
            source, target, CopyOptions(saved_overrides=saved_map), allow_conflicts=True
        )
    except UsageError:
        return {}
    counted = {f.name: f for f in target.list_folders(with_status=True)}
    result: dict[str, TargetCount] = {}
    for mapping, _info in mapped.pairs:
        found = counted.get(mapping.target)
        exists = found is not None and found.selectable and not found.error
        result[mapping.source] = TargetCount(
            mapping.target, found.messages if exists and found is not None else None
        )
    return result


def target_folder_of(
    source: MailStore, target: MailStore, folder: str, saved_map: Mapping[str, str]
) -> str | None:
    """Where a copy would put `folder` (None: the mapping cannot place it)."""
    try:
        mapped = map_accounts(
            source,
            target,
            CopyOptions(include=[folder], saved_overrides=saved_map),
            allow_conflicts=True,
        )
    except UsageError:
        return None
    return next((m.target for m, _info in mapped.pairs if m.source == folder), None)


def on_target(
    source: MailStore,
    target: MailStore,
    folder: str,
    target_folder: str,
    uids: Sequence[int] | None = None,
    *,
    progress: Progress = lambda done, total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Presence:
    """Which of `uids` (default: the whole folder) are on `target_folder` (blocking).

    The target is asked first: a missing or empty target folder answers at once, without
    reading the source. Otherwise the target's identities are pooled and the source is
    probed `CHUNK` UIDs at a time, so memory holds the pool and one chunk of headers, never
    a 100k folder's; `progress(done, total)` follows each chunk, and `cancelled()` is asked
    between chunks (a thread cannot be interrupted mid-request): the answer is then
    incomplete and says so.
    """
    source_uids = list(source.uids(folder)) if uids is None else list(uids)
    pool = KeyPool()
    try:
        target_uids = target.uids(target_folder) if source_uids else []
    except FolderMissing:
        target_uids = []
    for start in range(0, len(target_uids), CHUNK):
        if cancelled():
            return Presence(folder, target_folder, frozenset(), len(source_uids), {}, (), False)
        for probe in target.probes(target_folder, target_uids[start : start + CHUNK]):
            pool.add(identity_of(probe))
    if not target_uids:
        return Presence(folder, target_folder, frozenset(), len(source_uids), {}, source_uids)
    found: set[int] = set()
    sizes: dict[int, int] = {}
    # Exact matches as the chunks come; what has none gets the tolerant pass at the end, so a
    # near copy never takes the place of a true one (as the plan does).
    leftovers: list[tuple[int, Identity]] = []
    for start in range(0, len(source_uids), CHUNK):
        if cancelled():
            return Presence(folder, target_folder, frozenset(found), len(source_uids), sizes,
                            source_uids, False)  # fmt: skip
        for probe in source.probes(folder, source_uids[start : start + CHUNK]):
            sizes[probe.uid] = probe.size
            identity = identity_of(probe)
            if pool.take(identity):
                found.add(probe.uid)
            else:
                leftovers.append((probe.uid, identity))
        progress(min(start + CHUNK, len(source_uids)), len(source_uids))
    for uid, identity in leftovers:
        if pool.take(identity, exact=False):
            found.add(uid)
    return Presence(folder, target_folder, frozenset(found), len(source_uids), sizes, source_uids)


_WHEN_BITS = 40
_WHEN_MASK = (1 << _WHEN_BITS) - 1


class KeyPool:
    """A target folder's identities as a multiset, holding only what presence needs.

    `TargetPool`'s matching (equal key; equal size, or within `CLOSE_BYTES` in the second
    pass; equal arrival unless the source has none) over a compact store: per 16-byte key
    digest, each copy's size and arrival packed into one int (a list only for duplicates).
    About a third of `TargetPool`'s memory, which keeps target UIDs and field digests for
    the copy's reports: 100,000 target messages take about 15 MB.
    """

    def __init__(self) -> None:
        self._by_key: dict[bytes, int | list[int]] = {}

    def add(self, identity: Identity) -> None:
        key = bytes.fromhex(identity.key)
        packed = identity.size << _WHEN_BITS | identity.when & _WHEN_MASK
        held = self._by_key.get(key)
        if held is None:
            self._by_key[key] = packed
        elif isinstance(held, int):
            self._by_key[key] = [held, packed]
        else:
            held.append(packed)

    def take(self, identity: Identity, *, exact: bool = True) -> bool:
        """Use up one copy that stands for `identity`; False when none does."""
        key = bytes.fromhex(identity.key)
        held = self._by_key.get(key)
        if held is None:
            return False
        copies = [held] if isinstance(held, int) else held
        when = identity.when & _WHEN_MASK
        best, best_distance = None, (0 if exact else CLOSE_BYTES) + 1
        for index, packed in enumerate(copies):
            if identity.when and packed & _WHEN_MASK != when:
                continue
            distance = abs((packed >> _WHEN_BITS) - identity.size)
            if distance < best_distance:
                best, best_distance = index, distance
                if distance == 0:
                    break
        if best is None:
            return False
        if isinstance(held, int):
            del self._by_key[key]
        else:
            held.pop(best)
        return True
