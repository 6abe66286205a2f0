"""The report at the end of a copy: every planned folder with what was copied, already
there, too large, failed or not copied; the totals; the check on the target (its result,
every message it found missing, or why it did not run); every failure, those found by the
check included; and where the log file is.

It shows the engine's `CopyReport` as the service returned it. Escape or Enter closes
it; the panes stay as they were (the target's counts are refreshed).
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

from mailmig_tui.engine.events import CopyReport
from mailmig_tui.engine.wording import altered_line, failure_line, human_size
from mailmig_tui.tui.common.format import clean, count, plural
from mailmig_tui.tui.copy.text import duration, rate

MAX_LISTED = 200
"""Missing messages and failures listed here; the log file has every one."""


def headline(report: CopyReport) -> str:
    if report.cancelled:
        return "Copy cancelled"
    if report.error:
        return "Copy stopped"
    if report.complete:
        return "Copy finished"
    if report.verify is None and report.verify_wanted:
        return "Copy finished, not checked"
    return "Copy finished with problems"


def bold_if(number: int) -> Text:
    return Text(count(number), style="bold" if number else "")


def folder_table(report: CopyReport) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("Source → target", ratio=1, no_wrap=True, overflow="ellipsis")
    for title in ("Copied", "There", "Big", "Failed", "Not copied"):
        table.add_column(title, justify="right", no_wrap=True)
    for folder in report.folders:
        where = Text(folder.source)
        if folder.target != folder.source:
            where.append(f" → {folder.target}")
        if folder.error:
            where.append(" (stopped)", style="bold")  # why: below the table, never cut off
        table.add_row(
            where,
            count(folder.copied),
            count(folder.already_present),
            bold_if(folder.too_large),
            bold_if(folder.failed),
            bold_if(folder.not_copied),
        )
    return table


def totals(report: CopyReport) -> list[Text]:
    seconds = max(report.elapsed, 1e-6)
    lines = [
        Text.assemble(
            ("Total: ", "bold"),
            f"copied {count(report.copied)} ({human_size(report.bytes)}) · already there "
            f"{count(report.already_present)} · too large {count(report.too_large)} · "
            f"failed {count(report.failed)} · not copied {count(report.not_copied)}"
            + (f" · filtered out {count(report.filtered_out)}" if report.filtered_out else ""),
        ),
        Text(
            f"Elapsed {duration(report.elapsed)} · "
            f"{rate(report.copied / seconds, report.bytes / seconds)}"
        ),
    ]
    for folder in report.folders:
        if folder.error:
            lines.append(Text(f"Stopped {folder.source}: {folder.error}", style="bold"))
    if report.error:
        lines.append(Text(f"Gave up: {report.error}", style="bold"))
    if report.cancelled:
        lines.append(Text("Cancelled: copy again to copy the rest (nothing is copied twice)."))
    return lines


def verify_lines(report: CopyReport) -> list[Text]:
    """The check after the copy: all there, what is missing, or why it did not run."""
    result = report.verify
    if result is None:
        return [Text.assemble(("Verify: ", "bold"), f"not done: {report.verify_problem}")]
    altered = altered_lines(report)
    if result.missing == 0:
        return [
            Text.assemble(
                ("Verify: ", "bold"),
                f"all {count(result.checked)} messages of the copied folders are on the target",
            ),
            *altered,
        ]
    lines = [
        *altered,
        Text.assemble(
            ("Verify: ", "bold"),
            f"{plural(result.missing, 'message')} of {count(result.checked)} missing "
            "on the target:",
        ),
    ]
    for listed, ref in enumerate(result.missing_messages):
        if listed == MAX_LISTED:
            lines.append(Text(f"  … and {count(result.missing - listed)} more (see the log)"))
            break
        subject = clean(ref.subject) or "(no subject)"
        lines.append(Text(f"  {ref.folder} UID {ref.uid} {subject!r} {ref.message_id}"))
    return lines


def altered_lines(report: CopyReport) -> list[Text]:
    """Warnings: copies the target altered, messages mailmig repaired, other flags."""
    result = report.verify
    lines: list[Text] = []
    altered = [a for f in result.folders for a in f.altered] if result is not None else []
    repaired = [a for f in report.folders for a in f.repaired]
    for title, entries in (("Altered by the target", altered), ("Repaired", repaired)):
        if entries:
            lines.append(Text(f"{title} ({count(len(entries))}):", style="bold"))
            lines += [Text(f"  {clean(altered_line(a, 'warning'))}") for a in entries[:MAX_LISTED]]
            if len(entries) > MAX_LISTED:
                more = count(len(entries) - MAX_LISTED)
                lines.append(Text(f"  … and {more} more (see the log)"))
    if result is not None and result.flag_differences:
        lines.append(
            Text(
                f"Flags differ on the target for {plural(result.flag_differences, 'message')}: "
                "copy again to update them"
            )
        )
    return lines


def failure_lines(report: CopyReport) -> list[Text]:
    failures = [f for folder in report.folders for f in folder.failures]
    if not failures:
        return []
    lines = [Text(f"Errors ({count(len(failures))}):", style="bold")]
    lines += [Text(f"  {clean(failure_line(f))}") for f in failures[:MAX_LISTED]]
    if len(failures) > MAX_LISTED:
        lines.append(Text(f"  … and {count(len(failures) - MAX_LISTED)} more (see the log)"))
    return lines


def report_body(report: CopyReport) -> RenderableType:
    parts: list[RenderableType] = [Text(f"What: {report.description}"), folder_table(report)]
    parts += totals(report)
    parts += verify_lines(report)
    parts += failure_lines(report)
    path = report.log_path
    # The name first: a long directory wraps, the name stays beside its label.
    log = f"{path.name} in {path.parent}" if path else "not written (no log directory)"
    parts.append(Text.assemble(("Log: ", "bold"), log))
    return Group(*parts)


class ReportScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="close-report", tooltip="Back to the panes"),
        Binding(
            "v",
            "view_log",
            "Log",
            show=False,  # shown, it would change every report snapshot: help lists it
            id="report-log",
            tooltip="Read this run's log file",
        ),
    ]

    def __init__(self, report: CopyReport, labels: tuple[str, str]) -> None:
        super().__init__()
        self.report = report
        self.labels = labels

    def compose(self) -> ComposeResult:
        source, target = self.labels
        title = f"{headline(self.report)}: {source} → {target}"
        yield Static(Text(title), classes="screen-title")
        with VerticalScroll(id="report-body"):
            yield Static(report_body(self.report))
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_view_log(self) -> None:
        from mailmig_tui.tui.history.log_screen import LogScreen

        self.app.push_screen(LogScreen(self.report.log_path))

    def action_close(self) -> None:
        self.dismiss()
