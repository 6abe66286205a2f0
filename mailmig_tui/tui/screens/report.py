"""The report at the end of a copy: per folder what happened, the totals, the verify result
naming every missing message, every failure, and where the log file is.

Escape or Enter closes it; the panes stay as they were (the target's counts are refreshed).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from mailmig_tui.engine.events import TransferReport
from mailmig_tui.engine.verify import VerifyReport
from mailmig_tui.tui.copy_job import CopyOutcome
from mailmig_tui.tui.format import clean, count, human_size, plural
from mailmig_tui.tui.transfer_text import duration, failure_line, rate

MAX_LISTED = 200
"""Missing messages and failures listed here; the log file has every one."""


def headline(report: TransferReport) -> str:
    if report.cancelled:
        return "Copy cancelled"
    if report.error:
        return "Copy stopped"
    return "Copy finished" if report.complete else "Copy finished with problems"


def folder_table(report: TransferReport) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("Source → target", ratio=1, no_wrap=True, overflow="ellipsis")
    for title in ("Copied", "There", "Big", "Failed"):
        table.add_column(title, justify="right", no_wrap=True)
    for folder in report.folders:
        where = Text(folder.source)
        if folder.target != folder.source:
            where.append(f" → {folder.target}")
        if folder.error:
            where.append(f"  stopped: {folder.error}", style="bold")
        table.add_row(
            where,
            count(folder.copied),
            count(folder.already_present),
            Text(count(folder.too_large), style="bold" if folder.too_large else ""),
            Text(count(folder.failed), style="bold" if folder.failed else ""),
        )
    return table


def totals(report: TransferReport) -> list[Text]:
    seconds = max(report.elapsed, 1e-6)
    lines = [
        Text.assemble(
            ("Total: ", "bold"),
            f"copied {count(report.copied)} ({human_size(report.bytes)}) · already there "
            f"{count(report.already_present)} · too large {count(report.too_large)} · "
            f"failed {count(report.failed)}",
        ),
        Text(
            f"Elapsed {duration(report.elapsed)} · "
            f"{rate(report.copied / seconds, report.bytes / seconds)}"
        ),
    ]
    if report.error:
        lines.append(Text(f"Gave up: {report.error}", style="bold"))
    if report.cancelled:
        lines.append(Text("Cancelled: copy again to copy the rest (nothing is copied twice)."))
    return lines


def verify_lines(result: VerifyReport | None, problem: str) -> list[Text]:
    if result is None:
        return [Text.assemble(("Verify: ", "bold"), f"not run: {problem}")]
    if result.missing == 0:
        checked = sum(f.source_messages for f in result.folders)
        return [
            Text.assemble(
                ("Verify: ", "bold"),
                f"all {count(checked)} messages of the copied folders are on the target",
            )
        ]
    lines = [
        Text.assemble(
            ("Verify: ", "bold"), f"{plural(result.missing, 'message')} missing on the target:"
        )
    ]
    listed = 0
    for folder in result.folders:
        for ref in folder.missing:
            if listed == MAX_LISTED:
                lines.append(Text(f"  … and {count(result.missing - listed)} more (see the log)"))
                return lines
            subject = clean(ref.subject) or "(no subject)"
            lines.append(Text(f"  {folder.source} UID {ref.uid} {subject!r} {ref.message_id}"))
            listed += 1
    return lines


def failure_lines(report: TransferReport) -> list[Text]:
    failures = [f for folder in report.folders for f in folder.failures]
    if not failures:
        return []
    lines = [Text(f"Errors ({count(len(failures))}):", style="bold")]
    lines += [Text(f"  {failure_line(f)}") for f in failures[:MAX_LISTED]]
    if len(failures) > MAX_LISTED:
        lines.append(Text(f"  … and {count(len(failures) - MAX_LISTED)} more (see the log)"))
    return lines


def report_body(outcome: CopyOutcome) -> RenderableType:
    report = outcome.report
    parts: list[RenderableType] = [Text(f"What: {outcome.description}"), folder_table(report)]
    parts += totals(report)
    parts += verify_lines(outcome.verify, outcome.verify_problem)
    parts += failure_lines(report)
    path = outcome.log_path
    # The name first: a long directory wraps, the name stays beside its label.
    log = f"{path.name} in {path.parent}" if path else "not written (no log directory)"
    parts.append(Text.assemble(("Log: ", "bold"), log))
    return Group(*parts)


class ReportScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="close-report", tooltip="Back to the panes"),
    ]

    def __init__(self, outcome: CopyOutcome, labels: tuple[str, str]) -> None:
        super().__init__()
        self.outcome = outcome
        self.labels = labels

    def compose(self) -> ComposeResult:
        source, target = self.labels
        title = f"{headline(self.outcome.report)}: {source} → {target}"
        yield Static(Text(title), classes="screen-title")
        with VerticalScroll(id="report-body"):
            yield Static(report_body(self.outcome))
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss()
