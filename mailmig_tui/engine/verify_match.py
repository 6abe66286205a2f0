"""One folder's check: the target folder's identities loaded by one thread, the source's
probes fetched and matched against them by another.

The source is read in chunks of CHUNK, matched as they come: memory holds the target's
identities, what did not match exactly, and at most AHEAD chunks fetched while the target
is still loading, never a 100k folder's headers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mailmig_tui.engine.events import Altered
from mailmig_tui.engine.folder_copier import describe
from mailmig_tui.engine.identity import Identity, Match, TargetPool, identity_of
from mailmig_tui.engine.plan import same_flags
from mailmig_tui.engine.verify_board import Board, Load
from mailmig_tui.engine.verify_report import FlagDifference, FolderCheck
from mailmig_tui.errors import ConnectError, FolderMissing, MailmigError
from mailmig_tui.stores.base import HeaderProbe, MailStore

CHUNK = 2000
"""Messages looked up per request while checking (where a store cannot send the next
request before this one is answered)."""
AHEAD = 5
"""Source chunks fetched ahead while the target folder is still being loaded (about 1 MB
each): far away, the source's probes are then in by the time the target's are."""

Chunks = Generator[tuple[list[HeaderProbe], int], None, None]
"""Probes a chunk at a time, each with the number of UIDs asked for (the progress)."""


@runtime_checkable
class ProbesAhead(Protocol):
    """A store that sends the next chunk's request before this one is answered (IMAP)."""

    def probes_ahead(self, folder: str, uids: Sequence[int]) -> Chunks: ...


@runtime_checkable
class UidLists(Protocol):
    """A store that lists folders' UIDs on a new EXAMINE, with the UID SEARCH in the same
    round trip (`ImapStore.uid_lists`)."""

    def uid_lists(self, folders: Sequence[str]) -> dict[str, tuple[int, list[int]]]: ...


def fresh_uids(store: MailStore, folder: str) -> list[int]:
    """The folder's UIDs from a new look at it: one round trip where the store can, and
    never a view a connection kept from earlier work (the copy's)."""
    if isinstance(store, UidLists):
        listed = store.uid_lists([folder])
        if folder in listed:
            return listed[folder][1]
    return store.uids(folder)  # and its one-line error for a folder that can't be opened


def chosen_uids(
    uids: Sequence[int],
    folder: str,
    only: Mapping[str, frozenset[int]] | None,
    skip: Mapping[str, frozenset[int]] | None,
) -> list[int]:
    """The UIDs of a source folder to check: `only` the marked ones where it names the
    folder, never those `skip` names (left on the source by the copy filter)."""
    wanted = (only or {}).get(folder)
    unwanted = (skip or {}).get(folder, frozenset())
    return [u for u in uids if (wanted is None or u in wanted) and u not in unwanted]


def probe_chunks(store: MailStore, folder: str, uids: list[int]) -> Chunks:
    """The probes of `uids`, a chunk at a time; close it when leaving early."""
    if isinstance(store, ProbesAhead):
        return store.probes_ahead(folder, uids)
    return (
        (store.probes(folder, uids[start : start + CHUNK]), len(uids[start : start + CHUNK]))
        for start in range(0, len(uids), CHUNK)
    )


@dataclass
class TargetFolder:
    """One target folder as verify sees it: its messages by identity, and their flags."""

    pool: TargetPool = field(default_factory=TargetPool)
    flags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    messages: int = 0
    exists: bool = True


def load_target(target: MailStore, folder: str, board: Board) -> TargetFolder | str:
    """The identities and flags of a target folder's messages; an empty one when the
    folder does not exist at all; the error in one line when it cannot be opened."""
    found = TargetFolder()
    try:
        uids = fresh_uids(target, folder)
    except FolderMissing:
        found.exists = False
        return found
    except ConnectError:
        raise
    except MailmigError as exc:
        return exc.one_line()
    found.messages = len(uids)
    with closing(probe_chunks(target, folder, uids)) as chunks:
        for probes, _asked in chunks:
            for probe in probes:
                found.pool.add(identity_of(probe), probe.uid)
                found.flags[probe.uid] = probe.flags
            board.check_cancel()
    return found


def check_folder(
    source: MailStore,
    folder: str,
    uids: list[int],
    check: FolderCheck,
    load: Load[TargetFolder | str],
    board: Board,
) -> None:
    """Match the source folder's `uids` against the target folder `load` brings; a few
    source chunks are fetched while it is still loading."""
    fetched: deque[tuple[list[HeaderProbe], int]] = deque()
    """Probes not matched yet, each with the number of UIDs asked for (the progress)."""
    leftovers: list[tuple[HeaderProbe, Identity]] = []
    found: TargetFolder | None = None
    board.check_cancel()
    with closing(probe_chunks(source, folder, uids)) as chunks:
        for probes, asked in chunks:
            fetched.append((probes, asked))
            if found is None and len(fetched) < AHEAD and not load.ready():
                continue
            if found is None:
                found = _loaded_target(check, load, board, len(uids))
                if found is None:
                    return
            while fetched:
                probes, asked = fetched.popleft()
                _match_chunk(check, folder, probes, found, leftovers)
                board.add_checked(asked)
            board.check_cancel()
    if found is None:  # the target was still loading after the last chunk, or none came
        found = _loaded_target(check, load, board, len(uids))
        if found is None:
            return
    for probes, asked in fetched:
        _match_chunk(check, folder, probes, found, leftovers)
        board.add_checked(asked)
    for probe, identity in leftovers:
        match = found.pool.take(identity, exact=False)
        if match is None:
            check.missing.append(describe(folder, probe))
        else:
            _note(check, folder, probe, match, found)


def _loaded_target(
    check: FolderCheck, load: Load[TargetFolder | str], board: Board, messages: int
) -> TargetFolder | None:
    """The target folder once loaded, its counts noted in `check`; None when it could not
    be opened: the error noted, and the source's `messages` counted as checked."""
    loaded = load.wait()
    if isinstance(loaded, str):
        check.error = loaded
        board.add_checked(messages)
        return None
    check.target_messages, check.target_exists = loaded.messages, loaded.exists
    return loaded


def _match_chunk(
    check: FolderCheck,
    folder: str,
    probes: list[HeaderProbe],
    found: TargetFolder,
    leftovers: list[tuple[HeaderProbe, Identity]],
) -> None:
    for probe in probes:
        check.source_messages += 1
        identity = identity_of(probe)
        match = found.pool.take(identity)
        if match is None:
            leftovers.append((probe, identity))
        else:
            _note(check, folder, probe, match, found)


def _note(
    check: FolderCheck, folder: str, probe: HeaderProbe, match: Match, found: TargetFolder
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
