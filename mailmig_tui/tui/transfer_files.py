"""Files a copy from the TUI leaves behind: its log, and the measured rate for the next estimate.

The log (`paths.log_dir() / "transfer-<timestamp>.log"`, owner-only) holds the plan, every
failure as it happens, the report and the verify result; every line passes `secrets.scrub`,
so a password can never end up there. The rate of the last run that copied enough to be
measured is kept per pair of accounts in the state directory; a plan's time estimate uses it,
else a deliberately conservative default, and says which.

No Textual here: written and read in thread workers only.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mailmig_tui import paths
from mailmig_tui.engine.events import Failure, TransferReport
from mailmig_tui.engine.plan import Plan
from mailmig_tui.engine.verify import VerifyReport
from mailmig_tui.model import AccountSpec
from mailmig_tui.secrets import scrub
from mailmig_tui.tui.folder_map import pair_key, write_private
from mailmig_tui.tui.format import human_size

DEFAULT_MESSAGES_PER_SECOND = 20.0
DEFAULT_BYTES_PER_SECOND = 1024.0 * 1024.0
"""Assumed before any run was measured: a slow remote IMAP server, one message at a time."""
MIN_MEASURED = 50
"""A run must copy at least this many messages for its rate to be kept."""


@dataclass(frozen=True)
class Rate:
    messages_per_second: float
    bytes_per_second: float
    measured: bool
    """From an earlier run of this pair; False: the conservative default."""


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


def _rates_path() -> Path:
    return paths.state_dir() / "tui-rates.json"


_rates_lock = threading.Lock()


def load_rate(source: AccountSpec, target: AccountSpec) -> Rate:
    """The last measured rate for this pair, or the default (never fails)."""
    try:
        data = json.loads(_rates_path().read_text(encoding="utf-8"))
        entry = data[pair_key(source, target)]
        return Rate(float(entry["messages_per_second"]), float(entry["bytes_per_second"]), True)
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_RATE


def save_rate(source: AccountSpec, target: AccountSpec, report: TransferReport) -> None:
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
        write_private(path, json.dumps(data, indent=2) + "\n")


def log_path(now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return paths.log_dir() / f"transfer-{stamp}.log"


class TransferLog:
    """One transfer's log file; every write is scrubbed of secrets and flushed."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or log_path()
        paths.ensure_private_dir(path.parent)
        candidate, number = path, 1
        while candidate.exists():  # two copies in one second: never overwrite a log
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        self.path = candidate
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: TextIO = os.fdopen(fd, "w", encoding="utf-8")
        self._lock = threading.Lock()

    def line(self, text: str = "") -> None:
        with self._lock:
            if not self._file.closed:
                self._file.write(scrub(text) + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def plan(self, plan: Plan, description: str) -> None:
        self.line(f"mailmig transfer log, {time.strftime('%Y-%m-%d %H:%M:%S %z')}")
        self.line(f"source: {plan.source.display}")
        self.line(f"target: {plan.target.display}")
        self.line(f"what: {description}")
        for side, preset in (("source", plan.source_preset), ("target", plan.target_preset)):
            if preset is not None:
                self.line(f"{side} preset: {preset.title}: {'; '.join(preset.notes)}")
        self.line("plan:")
        for work in plan.folders:
            new = "" if work.target_exists else " (new)"
            self.line(
                f"  {work.mapping.source} -> {work.mapping.target}{new} [{work.mapping.reason}]:"
                f" {work.source.messages} messages, {work.present} already there,"
                f" {len(work.to_copy)} to copy ({human_size(work.bytes_to_copy)}),"
                f" {len(work.too_large)} too large"
            )
        self.line(
            f"to copy: {plan.messages_to_copy} messages, {human_size(plan.bytes_to_copy)}; "
            f"size limit {plan.size_limit or 'none'}; quota {plan.quota or 'none reported'}"
        )
        for warning in plan.warnings:
            self.line(f"warning: {warning}")

    def failure(self, failure: Failure) -> None:
        ref = failure.message
        what = "too large" if failure.too_large else "failed"
        self.line(
            f"{what}: {ref.folder} UID {ref.uid} size {ref.size} subject {ref.subject!r} "
            f"message-id {ref.message_id or '-'}: {failure.reason}"
        )

    def notice(self, text: str) -> None:
        self.line(f"notice: {text}")

    def report(self, report: TransferReport) -> None:
        rate = report.copied / report.elapsed if report.elapsed > 0 else 0.0
        state = "cancelled" if report.cancelled else "stopped" if report.error else "finished"
        self.line(f"report ({state}):")
        for folder in report.folders:
            self.line(
                f"  {folder.source} -> {folder.target}: copied {folder.copied}, already there "
                f"{folder.already_present}, too large {folder.too_large}, failed {folder.failed}"
                + (f"; stopped: {folder.error}" if folder.error else "")
            )
        self.line(
            f"total: copied {report.copied} ({human_size(report.bytes)}), already there "
            f"{report.already_present}, too large {report.too_large}, failed {report.failed}; "
            f"{report.elapsed:.1f} s, {rate:.1f} messages/s"
        )
        if report.error:
            self.line(f"gave up: {report.error}")

    def verify(self, result: VerifyReport | None, problem: str) -> None:
        if result is None:
            self.line(f"verify: not run: {problem}")
            return
        for folder in result.folders:
            for ref in folder.missing:
                self.line(
                    f"missing: {folder.source} UID {ref.uid} subject {ref.subject!r} "
                    f"message-id {ref.message_id or '-'}"
                )
        self.line(
            "verify: every message is on the target"
            if result.missing == 0
            else f"verify: {result.missing} messages missing on the target"
        )
