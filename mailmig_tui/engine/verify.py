"""Verification: is every source message on the target? Compared by content identity.

Three outcomes per message: missing (a failure), present but altered by the target (a
warning: which header or how many bytes changed), and present; flags and keywords that
differ are listed per message too.

`mailmig verify` calls it on its own; the copy service calls it after every copy, over the
copied folders (and only the marked messages of a folder, with `only`), because a target
that answers OK to an APPEND has not necessarily kept the message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mailmig_tui.engine.events import Altered, MessageRef
from mailmig_tui.engine.folder_copier import describe
from mailmig_tui.engine.identity import Identity, Match, TargetPool, identity_of
from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.plan import same_flags
from mailmig_tui.errors import ConnectError, FolderMissing, MailmigError
from mailmig_tui.stores.base import HeaderProbe, MailStore

CHUNK = 2000
"""Source messages looked up per request while checking."""


@dataclass(frozen=True)
class FlagDifference:
    """A message on the target whose flags or keywords are not the source's."""

    message: MessageRef
    source_flags: tuple[str, ...]
    target_flags: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "folder": self.message.folder,
            "uid": self.message.uid,
            "message_id": self.message.message_id,
            "subject": self.message.subject,
            "source_flags": sorted(self.source_flags),
            "target_flags": sorted(self.target_flags),
        }


@dataclass
class FolderCheck:
    source: str
    target: str
    source_messages: int = 0
    target_messages: int = 0
    target_exists: bool = True
    missing: list[MessageRef] = field(default_factory=list)
    altered: list[Altered] = field(default_factory=list)
    """On the target, but changed by it (a header, or some bytes): a warning."""
    flag_differences: list[FlagDifference] = field(default_factory=list)
    error: str = ""
    """The folder could not be checked (it cannot be opened on one side)."""

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "target": self.target,
            "source_messages": self.source_messages,
            "target_messages": self.target_messages,
            "target_exists": self.target_exists,
            "error": self.error or None,
            "missing": [
                {"uid": m.uid, "subject": m.subject, "message_id": m.message_id, "size": m.size}
                for m in self.missing
            ],
            "altered": [a.as_json() for a in self.altered],
            "flag_differences": [d.as_json() for d in self.flag_differences],
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
    def altered(self) -> int:
        return sum(len(f.altered) for f in self.folders)

    @property
    def flag_differences(self) -> int:
        return sum(len(f.flag_differences) for f in self.folders)

    @property
    def unchecked(self) -> list[FolderCheck]:
        """Folders that could not be opened, so nothing in them was checked."""
        return [f for f in self.folders if f.error]

    @property
    def ok(self) -> bool:
        """Nothing missing and every folder checked; altered messages and flag
        differences are warnings."""
        return self.missing == 0 and not self.unchecked

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
            "altered": self.altered,
            "flag_differences": self.flag_differences,
            "ok": self.ok,
        }

    def summary_json(self) -> dict[str, object]:
        """The `verify` object of a copy report."""
        return {
            "checked": self.checked,
            "ok": self.ok,
            "missing": [
                {
                    "folder": ref.folder,
                    "uid": ref.uid,
                    "message_id": ref.message_id,
                    "subject": ref.subject,
                }
                for ref in self.missing_messages
            ],
            "altered": [a.as_json() for f in self.folders for a in f.altered],
            "flag_differences": [d.as_json() for f in self.folders for d in f.flag_differences],
        }


Progress = Callable[[int, int], None]
"""(source messages checked so far, all to check)."""


@dataclass
class _Target:
    """One target folder as verify sees it: its messages by identity, and their flags."""

    pool: TargetPool = field(default_factory=TargetPool)
    flags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    messages: int = 0
    exists: bool = True


def verify(
    source: MailStore,
    target: MailStore,
    mappings: list[FolderMapping],
    *,
    only: Mapping[str, frozenset[int]] | None = None,
    skip: Mapping[str, frozenset[int]] | None = None,
    progress: Progress = lambda checked, total: None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Per mapping: which source messages have no copy on the target, which copies the
    target altered, and whose flags differ.

    `only` limits a source folder to some UIDs (the marked messages a copy took); folders
    it does not name are checked whole; `skip` leaves some UIDs out (those the copy filter
    left on the source: not missing, just not wanted); `cancel` stops between requests
    and leaves the report `interrupted`. Folders merged into one target share that target's
    messages, each copy accounting for one source message only. A folder that cannot be
    opened is reported with its error; the others are checked.
    """
    report = VerifyReport()
    targets: dict[str, _Target] = {}
    chosen = only or {}
    selected: list[list[int] | str] = []
    for mapping in mappings:
        try:
            all_uids = source.uids(mapping.source)
        except ConnectError:
            raise
        except MailmigError as exc:
            selected.append(exc.one_line())
            continue
        wanted = chosen.get(mapping.source)
        unwanted = (skip or {}).get(mapping.source, frozenset())
        selected.append(
            [u for u in all_uids if (wanted is None or u in wanted) and u not in unwanted]
        )
    total = sum(len(uids) for uids in selected if not isinstance(uids, str))
    checked = 0
    progress(0, total)
    for mapping, uids in zip(mappings, selected, strict=True):
        check = FolderCheck(mapping.source, mapping.target)
        report.folders.append(check)
        if isinstance(uids, str):
            check.error = uids
            continue
        try:
            if mapping.target not in targets:
                targets[mapping.target] = _load_target(target, mapping.target)
        except ConnectError:
            raise
        except MailmigError as exc:
            check.error = exc.one_line()
            checked += len(uids)
            continue
        found = targets[mapping.target]
        check.target_messages, check.target_exists = found.messages, found.exists
        # The source in chunks, matched as they come: memory holds the target's identities
        # and what did not match exactly, never a 100k folder's headers; progress moves
        # per chunk. What has no exact copy gets a second, tolerant look at the end.
        leftovers: list[tuple[HeaderProbe, Identity]] = []
        for start in range(0, len(uids), CHUNK):
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                return report
            for probe in source.probes(mapping.source, uids[start : start + CHUNK]):
                check.source_messages += 1
                identity = identity_of(probe)
                match = found.pool.take(identity)
                if match is None:
                    leftovers.append((probe, identity))
                else:
                    _note(check, mapping.source, probe, match, found)
            progress(checked + min(start + CHUNK, len(uids)), total)
        for probe, identity in leftovers:
            match = found.pool.take(identity, exact=False)
            if match is None:
                check.missing.append(describe(mapping.source, probe))
            else:
                _note(check, mapping.source, probe, match, found)
        checked += len(uids)
    progress(checked, total)
    return report


def _note(
    check: FolderCheck, folder: str, probe: HeaderProbe, match: Match, found: _Target
) -> None:
    """A source message found on the target: altered? other flags?"""
    on_target = found.flags.get(match.uid, ())
    if not match.change and same_flags(on_target, probe.flags):
        return
    ref = describe(folder, probe)
    if match.change:
        check.altered.append(Altered(ref, match.change))
    if not same_flags(on_target, probe.flags):
        check.flag_differences.append(FlagDifference(ref, probe.flags, on_target))


def _load_target(target: MailStore, folder: str) -> _Target:
    """The identities and flags of a target folder's messages; an empty one when the
    folder does not exist at all."""
    found = _Target()
    try:
        uids = target.uids(folder)
    except FolderMissing:
        found.exists = False
        return found
    found.messages = len(uids)
    for start in range(0, len(uids), CHUNK):
        for probe in target.probes(folder, uids[start : start + CHUNK]):
            found.pool.add(identity_of(probe), probe.uid)
            found.flags[probe.uid] = probe.flags
    return found
