"""The history of copy runs: one owner-only JSON record per run in the state directory.

The copy service writes a run's record when the run starts (so even a run killed halfway
is listed, and can be undone) and again with its report when it ends, for `mailmig copy`,
`mailmig batch` and the TUI alike. `mailmig history`, the TUI's history screen and undo
read them back: `runs/<RUN-ID>.json` under `paths.state_dir()`.

A run id is `YYYYMMDD-HHMMSS-xxxx` (local start time, four random hex digits): sortable,
readable, and unique without a counter shared between processes.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mailmig_tui import paths
from mailmig_tui.engine.events import Altered, CopyReport, Failure, FolderReport, MessageRef
from mailmig_tui.engine.verify import FlagDifference, FolderCheck, VerifyReport
from mailmig_tui.errors import ConfigError, UsageError

RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")

UNFINISHED = "unfinished"
"""The result of a run that has not written its end: still running, or killed."""


def runs_dir() -> Path:
    return paths.state_dir() / "runs"


def new_run_id(now: float | None = None) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{secrets.token_hex(2)}"


def local_time(now: float | None = None) -> str:
    """ISO date and time, as history lists it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))


@dataclass
class RunRecord:
    """What history keeps of one copy run."""

    run_id: str
    started: str
    source: str
    """The source account as shown (`alice@old.example.com`)."""
    target: str
    source_identity: str
    """`AccountSpec.identity`: history lists the runs of one pair by these."""
    target_identity: str
    target_account: str
    """A saved account name or URL that opens the target again (undo); "" when the target
    was reached by a command without a saved name."""
    description: str = ""
    log: str | None = None
    finished: str | None = None
    result: str = UNFINISHED
    """complete, cancelled, failed, verify problems, unfinished; undone after an undo."""
    verify_wanted: bool = True
    report: dict[str, Any] | None = None
    """`CopyReport.as_json()` once the run has ended."""
    undone: dict[str, Any] | None = None
    """After `mailmig undo`: when, and how many copies were removed."""

    def count(self, name: str) -> int | None:
        """A total of the report (copied, already_present, failed, not_copied, ...)."""
        if self.report is None:
            return None
        value = self.report.get(name)
        return value if isinstance(value, int) else None

    @property
    def not_copied(self) -> int | None:
        """Everything the run did not copy for any reason but "already there"."""
        parts = [self.count(n) for n in ("not_copied", "too_large")]
        return None if None in parts else sum(p or 0 for p in parts)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def result_of(report: CopyReport) -> str:
    """One word (or two) for a finished run, as history lists it."""
    if report.cancelled:
        return "cancelled"
    if report.complete:
        return "complete"
    stopped = report.error or any(f.error for f in report.folders)
    if stopped or report.failed or report.too_large or report.not_copied:
        return "failed"
    return "verify problems"


def record_path(run_id: str) -> Path:
    return runs_dir() / f"{run_id}.json"


def save(record: RunRecord) -> None:
    """Write (or rewrite) the record, owner-only; a failure is a one-line error."""
    text = json.dumps(record.as_json(), ensure_ascii=False, indent=1) + "\n"
    try:
        paths.write_private(record_path(record.run_id), text)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the run record in {runs_dir()}: {exc.strerror or exc}",
            "make the state directory writable, or set MAILMIG_STATE_DIR",
        ) from None


def _parse(data: object) -> RunRecord | None:
    if not isinstance(data, dict):
        return None
    known = RunRecord.__dataclass_fields__
    try:
        record = RunRecord(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None
    return record if RUN_ID.match(str(record.run_id)) else None


def load(run_id: str) -> RunRecord:
    """The record of `run_id`, or a one-line error naming how to find one."""
    if not RUN_ID.match(run_id):
        raise UsageError(
            f"{run_id!r} is not a run id (they look like 20251031-142530-7f3a)",
            "`mailmig history SOURCE TARGET` lists the run ids",
        )
    try:
        record = _parse(json.loads(record_path(run_id).read_text(encoding="utf-8")))
    except FileNotFoundError:
        record = None
        missing = True
    except (OSError, ValueError):
        record, missing = None, False
    else:
        missing = False
    if record is None:
        why = "no such run" if missing else "its record cannot be read"
        raise UsageError(
            f"run {run_id}: {why} in {runs_dir()}",
            "`mailmig history SOURCE TARGET` lists the run ids",
        )
    return record


def all_runs() -> list[RunRecord]:
    """Every readable record, newest first (an unreadable one is skipped)."""
    found: list[RunRecord] = []
    try:
        files = list(runs_dir().glob("*.json"))
    except OSError:
        return []
    for path in files:
        try:
            record = _parse(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
        if record is not None:
            found.append(record)
    return sorted(found, key=lambda r: r.run_id, reverse=True)


def runs_between(source_identity: str, target_identity: str) -> list[RunRecord]:
    """The runs from this source to this target, newest first."""
    return [
        r
        for r in all_runs()
        if r.source_identity == source_identity and r.target_identity == target_identity
    ]


# -- a stored report back as the engine's CopyReport (for the report screen) ---------------


def _ref(data: dict[str, Any], folder: str = "") -> MessageRef:
    return MessageRef(
        str(data.get("folder") or folder),
        int(data.get("uid") or 0),
        int(data.get("size") or 0),
        str(data.get("subject") or ""),
        str(data.get("message_id") or ""),
    )


def _folder(data: dict[str, Any]) -> FolderReport:
    source = str(data.get("source", ""))
    folder = FolderReport(source, str(data.get("target", "")))
    for name in ("source_messages", "copied", "already_present", "too_large", "failed"):
        setattr(folder, name, int(data.get(name) or 0))
    folder.not_copied = int(data.get("not_copied") or 0)
    folder.filtered_out = int(data.get("filtered_out") or 0)
    folder.bytes = int(data.get("bytes") or 0)
    folder.flags_updated = int(data.get("flags_updated") or 0)
    folder.error = str(data.get("error") or "")
    folder.repaired = [
        Altered(_ref(a, source), str(a.get("change", ""))) for a in data.get("repaired") or []
    ]
    folder.failures = [
        Failure(_ref(f, source), str(f.get("reason", "")), bool(f.get("too_large")))
        for f in data.get("failures") or []
    ]
    return folder


def _verify(data: dict[str, Any]) -> VerifyReport:
    """The report's `verify` summary as a VerifyReport: per folder only what it names."""
    checks: dict[str, FolderCheck] = {}

    def check(name: str) -> FolderCheck:
        return checks.setdefault(name, FolderCheck(name, name))

    for item in data.get("missing") or []:
        check(str(item.get("folder", ""))).missing.append(_ref(item))
    for item in data.get("altered") or []:
        check(str(item.get("folder", ""))).altered.append(
            Altered(_ref(item), str(item.get("change", "")))
        )
    for item in data.get("flag_differences") or []:
        check(str(item.get("folder", ""))).flag_differences.append(
            FlagDifference(
                _ref(item),
                tuple(item.get("source_flags") or ()),
                tuple(item.get("target_flags") or ()),
            )
        )
    result = VerifyReport(list(checks.values()) or [FolderCheck("", "")])
    result.folders[0].source_messages = int(data.get("checked") or 0)
    if not data.get("ok", True) and result.missing == 0:
        result.folders.append(FolderCheck("", "", error="not every folder could be checked"))
    return result


def stored_report(record: RunRecord) -> CopyReport | None:
    """The run's report as the engine made it, as far as the JSON keeps it; None for a run
    that never ended."""
    data = record.report
    if data is None:
        return None
    report = CopyReport(
        folders=[_folder(f) for f in data.get("folders") or []],
        elapsed=float(data.get("elapsed_seconds") or 0.0),
        cancelled=bool(data.get("cancelled")),
        error=str(data.get("error") or ""),
        verify_wanted=record.verify_wanted,
        verify_problem=str(data.get("verify_problem") or ""),
        description=record.description,
    )
    verify = data.get("verify")
    if isinstance(verify, dict):
        report.verify = _verify(verify)
    log = data.get("log") or record.log
    report.log_path = Path(log) if log else None
    return report
