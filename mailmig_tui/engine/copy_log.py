"""The per-run log every copy and verify leaves behind, whichever front end started it.

`paths.log_dir() / "transfer-<timestamp>.log"`, owner-only from the first byte: the plan,
every failure and connection notice as it happens, the report and the verify result. Every
line passes `secrets.scrub`, so a password can never end up there. Lines are flushed at
once: after a kill -9 the log still says how far the run got.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TextIO

from mailmig_tui import paths
from mailmig_tui.engine.events import (
    CopyEvent,
    CopyReport,
    Failure,
    MessageFailed,
    MessageRepaired,
    Reconnecting,
    ServerBusy,
)
from mailmig_tui.engine.plan import Plan
from mailmig_tui.engine.verify import VerifyReport
from mailmig_tui.engine.wording import (
    altered_line,
    failure_line,
    flags_line,
    human_size,
    missing_line,
    notice_text,
    quota_text,
    size_limit_text,
)
from mailmig_tui.model import AccountSpec
from mailmig_tui.secrets import scrub


def log_path(now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return paths.log_dir() / f"transfer-{stamp}.log"


class CopyLog:
    """One run's log file; every write is scrubbed of secrets and flushed."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or log_path()
        paths.ensure_private_dir(path.parent)
        number = 1
        while True:  # two runs in one second: never overwrite (or share) a log
            candidate = path if number == 1 else path.with_name(f"{path.stem}-{number}.log")
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                number += 1
        self.path = candidate
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

    def header(self, what: str, source: AccountSpec, target: AccountSpec) -> None:
        self.line(f"mailmig {what} log, {time.strftime('%Y-%m-%d %H:%M:%S %z')}")
        self.line(f"source: {source.display}")
        self.line(f"target: {target.display}")

    def plan(self, plan: Plan, description: str) -> None:
        self.header("copy", plan.source, plan.target)
        self.line(f"what: {description}")
        for side, preset in (("source", plan.source_preset), ("target", plan.target_preset)):
            if preset is not None:
                self.line(f"{side} preset: {preset.title}: {'; '.join(preset.notes)}")
        self.line("plan:")
        for work in plan.folders:
            new = "" if work.target_exists else " (new)"
            self.line(
                f"  {work.mapping.source} -> {work.mapping.target}{new} [{work.mapping.reason}]:"
                f" {work.selected} messages, {work.present} already there,"
                f" {len(work.to_copy)} to copy ({human_size(work.bytes_to_copy)}),"
                f" {len(work.too_large)} too large"
            )
        self.line(
            f"to copy: {plan.messages_to_copy} messages, {human_size(plan.bytes_to_copy)}; "
            f"size limit {size_limit_text(plan.size_limit)}; target quota {quota_text(plan.quota)}"
        )
        if plan.filter.active:
            self.line(f"filter: {plan.filter.describe()}; filtered out {plan.filtered_out}")
        for warning in plan.warnings:
            self.line(f"warning: {warning}")

    def event(self, event: CopyEvent) -> None:
        """What the log keeps of the engine's events: failures and connection notices."""
        if isinstance(event, MessageFailed):
            self.failure(event.failure)
        elif isinstance(event, MessageRepaired):
            self.line(altered_line(event.altered, "repaired"))
        elif isinstance(event, Reconnecting | ServerBusy):
            self.line(f"notice: {notice_text(event)}")

    def failure(self, failure: Failure) -> None:
        self.line(f"{failure_line(failure)} (size {failure.message.size})")

    def report(self, report: CopyReport) -> None:
        rate = report.copied / report.elapsed if report.elapsed > 0 else 0.0
        state = "cancelled" if report.cancelled else "stopped" if report.error else "finished"
        self.line(f"report ({state}):")
        for folder in report.folders:
            self.line(
                f"  {folder.source} -> {folder.target}: {folder.source_messages} messages: "
                f"copied {folder.copied}, already there {folder.already_present}, "
                f"too large {folder.too_large}, failed {folder.failed}, "
                f"not copied {folder.not_copied}"
                + (f", filtered out {folder.filtered_out}" if folder.filtered_out else "")
                + (f"; stopped: {folder.error}" if folder.error else "")
            )
        self.line(
            f"total: copied {report.copied} ({human_size(report.bytes)}), already there "
            f"{report.already_present}, too large {report.too_large}, failed {report.failed}, "
            f"not copied {report.not_copied}"
            + (f", filtered out {report.filtered_out}" if report.filtered_out else "")
            + f"; {report.elapsed:.1f} s, {rate:.1f} messages/s"
        )
        if report.error:
            self.line(f"gave up: {report.error}")

    def verify(self, result: VerifyReport | None, problem: str) -> None:
        if result is None:
            self.line(f"verify: not run: {problem}")
            return
        for folder in result.folders:
            for ref in folder.missing:
                self.line(missing_line(folder.source, ref.uid, ref.subject, ref.message_id))
            for altered in folder.altered:
                self.line(altered_line(altered))
            for diff in folder.flag_differences:
                ref = diff.message
                self.line(
                    flags_line(
                        ref.folder, ref.uid, ref.subject, diff.source_flags, diff.target_flags
                    )
                )
            if folder.error:
                self.line(f"verify: {folder.source}: not checked: {folder.error}")
        if result.altered or result.flag_differences:
            self.line(
                f"verify: {result.altered} altered by the target, "
                f"{result.flag_differences} with other flags"
            )
        self.line(
            f"verify: checked {result.checked}, every message is on the target"
            if result.missing == 0
            else f"verify: checked {result.checked}, {result.missing} missing on the target"
        )


def open_log() -> CopyLog | None:
    """A new run's log, or None where the log directory cannot be written: the run still
    goes on, and its report says there is no log."""
    try:
        return CopyLog()
    except OSError:
        return None
