"""How long a planned copy will take: measured, never assumed when it can be helped.

The estimate uses, in this order:

1. the rate of the last copy between the same pair of accounts (kept per pair in the state
   directory, owner-only), a copy being the best measure of itself;
2. else the link measured while planning (`measure_link`): the round trip to each server
   (the fastest command planning itself sent on the connection, `MailStore.round_trip`:
   no command is sent only to time it) and the time to fetch a sample of the messages to
   copy (BODY.PEEK, as the copy will), turned into a time by `modelled_estimate`;
3. else (nothing to sample, or the sample failed) a deliberately cautious default.

The plan says which, with the rate it comes to.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.engine.events import CopyReport
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.plan import Plan
from mailmig_tui.engine.runner import plan_connections
from mailmig_tui.engine.saved_maps import pair_key
from mailmig_tui.errors import MailmigError
from mailmig_tui.model import AccountSpec
from mailmig_tui.presets import default_connections
from mailmig_tui.stores.base import MailStore

DEFAULT_MESSAGES_PER_SECOND = 20.0
DEFAULT_BYTES_PER_SECOND = 1024.0 * 1024.0
"""Assumed before any run was measured: a slow remote IMAP server, one message at a time."""
MIN_MEASURED = 50
"""A run must copy at least this many messages for its rate to be kept."""
SAMPLE_MESSAGES = 20
SAMPLE_BYTES = 2 * 1024 * 1024
"""The planning sample: at most this many messages and (beyond its first) bytes."""
WRITE_COST = 8.0
"""How many times longer a server takes to store a message than to read it back (a new
file or record, index updates, a sync): measured with Dovecot 2.3 on loopback, where 5,000
small messages took 0.07 ms each to fetch and 0.7 ms each to append. Nothing is written
while planning, so the append side is estimated from the fetch with this factor."""


@dataclass(frozen=True)
class Rate:
    messages_per_second: float
    bytes_per_second: float
    measured: bool
    """From an earlier run of this pair."""
    sampled: bool = False
    """Measured while planning (round trips and a sample fetch), from `link`."""
    link: LinkSample | None = None


@dataclass(frozen=True)
class LinkSample:
    """What planning measured of the link: round trips and one sample fetch."""

    source_rtt: float
    target_rtt: float
    """Seconds per round trip (0 for a local Maildir or mbox)."""
    messages: int
    bytes: int
    seconds: float
    """The sample: `messages` of `bytes` in total fetched in one request in `seconds`."""
    target_pipelines: bool
    """The target takes a batch in one round trip (LITERAL+); else one per message."""


@dataclass(frozen=True)
class Estimate:
    seconds: float
    rate: Rate


DEFAULT_RATE = Rate(DEFAULT_MESSAGES_PER_SECOND, DEFAULT_BYTES_PER_SECOND, measured=False)


def estimate(messages: int, size: int, rate: Rate) -> Estimate:
    """Time for `messages` of `size` bytes: the slower of the message and the byte rate."""
    seconds = max(
        messages / max(rate.messages_per_second, 1e-6), size / max(rate.bytes_per_second, 1e-6)
    )
    return Estimate(seconds, rate)


def round_trip(store: MailStore, local: bool) -> float:
    """The store's round trip as planning observed it; timed with one STATUS only where
    no command of planning was (a POP3 source)."""
    if local:
        return 0.0
    seen = store.round_trip()
    if seen is not None:
        return seen
    started = time.perf_counter()
    store.folder_status("INBOX")
    return time.perf_counter() - started


def measure_link(source: MailStore, target: MailStore, plan: Plan) -> LinkSample | None:
    """Round trips and a sample fetch on the planning connections (blocking).

    Reads only: a BODY.PEEK fetch of the first messages to copy of the largest folder (the
    round trips are those planning saw). None when there is nothing to copy or a server
    refuses.
    """
    works = [w for w in plan.folders if w.to_copy and not w.error]
    if not works:
        return None
    work = max(works, key=lambda w: w.bytes_to_copy)
    uids: list[int] = []
    planned = 0
    for probe in work.to_copy[:SAMPLE_MESSAGES]:
        if uids and planned + probe.size > SAMPLE_BYTES:
            break
        uids.append(probe.uid)
        planned += probe.size
    try:
        source_rtt = round_trip(source, plan.source.is_local)
        target_rtt = round_trip(target, plan.target.is_local)
        started = time.perf_counter()
        fetched = sum(len(message.data) for message in source.fetch(work.mapping.source, uids))
        seconds = time.perf_counter() - started
        capabilities = target.info().capabilities
    except MailmigError:
        return None
    pipelines = plan.target.is_local or "LITERAL+" in capabilities
    return LinkSample(source_rtt, target_rtt, len(uids), fetched, seconds, pipelines)


def modelled_estimate(plan: Plan, link: LinkSample, settings: CopySettings) -> Estimate:
    """The copy's time from what planning measured.

    Per folder: fetching costs a source round trip per batch plus the sample's time per
    message or per byte, whichever the folder's messages make larger; appending costs
    `WRITE_COST` times as much per message, as much per byte, and a target round trip per
    batch, or per message where the target lacks LITERAL+. The two overlap (batches are
    fetched ahead while others are appended), so the slower sets the pace. Folders run on
    the copy's folder workers at once, largest first: the copy takes the longer of the
    largest folder and an even share of all of them.
    """
    transfer = max(link.seconds - link.source_rtt, 1e-6)
    per_message = transfer / max(link.messages, 1)
    bytes_per_second = max(link.bytes, 1) / transfer
    times = []
    for work in plan.folders:
        count, size = len(work.to_copy), work.bytes_to_copy
        if not count:
            continue
        batches = math.ceil(count / max(settings.batch_messages, 1))
        fetch = batches * link.source_rtt + max(count * per_message, size / bytes_per_second)
        appends = batches if link.target_pipelines else count
        store = max(count * per_message * WRITE_COST, size / bytes_per_second)
        times.append(max(fetch, appends * link.target_rtt + store))
    connections = settings.connections or default_connections(
        plan.source_preset, plan.target_preset
    )
    workers, _pooled = plan_connections(connections, len(times))
    seconds = max(max(times, default=0.0), sum(times) / workers)
    span = max(seconds, 1e-6)
    rate = Rate(
        plan.messages_to_copy / span,
        plan.bytes_to_copy / span,
        measured=False,
        sampled=True,
        link=link,
    )
    return Estimate(seconds, rate)


def plan_estimate(
    source: MailStore, target: MailStore, plan: Plan, settings: CopySettings
) -> Estimate:
    """The plan's estimate: the last run's rate, else measured now, else the default
    (blocking: it may measure on the planning connections)."""
    rate = load_rate(plan.source, plan.target)
    if not rate.measured and plan.messages_to_copy:
        link = measure_link(source, target, plan)
        if link is not None and link.messages:
            return modelled_estimate(plan, link, settings)
    return estimate(plan.messages_to_copy, plan.bytes_to_copy, rate)


def _rates_path() -> Path:
    return paths.state_dir() / "rates.json"


_rates_lock = threading.Lock()


def load_rate(source: AccountSpec, target: AccountSpec) -> Rate:
    """The last measured rate for this pair, or the default (never fails)."""
    try:
        data = json.loads(_rates_path().read_text(encoding="utf-8"))
        entry = data[pair_key(source, target)]
        return Rate(float(entry["messages_per_second"]), float(entry["bytes_per_second"]), True)
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_RATE


def save_rate(source: AccountSpec, target: AccountSpec, report: CopyReport) -> None:
    """Remember the rate of a run that copied enough to measure it (never fails)."""
    if report.copied < MIN_MEASURED or report.elapsed <= 0:
        return
    with _rates_lock, contextlib.suppress(OSError, ValueError):
        path = _rates_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data[pair_key(source, target)] = {
            "messages_per_second": round(report.copied / report.elapsed, 2),
            "bytes_per_second": round(report.bytes / report.elapsed, 1),
        }
        paths.write_private(path, json.dumps(data, indent=2) + "\n")
