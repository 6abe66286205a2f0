"""The plan of a copy, before anything is written: Enter starts it, Escape drops it.

Per folder: where it goes, its messages (or the marked ones), those already on the target,
those to copy with their size, those too large for the target. Below: totals, the target's
size limit and quota, the server presets in force, the plan's warnings, and the time it may
take, labelled as an estimate with the rate it assumes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from mailmig_tui.engine.plan import Plan
from mailmig_tui.engine.rates import Estimate
from mailmig_tui.engine.wording import human_size, quota_text, size_limit_text
from mailmig_tui.tui.common.format import count, plural, short_size
from mailmig_tui.tui.copy.text import estimate_text


def plan_table(plan: Plan) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("Source folder", ratio=4, no_wrap=True, overflow="ellipsis")
    table.add_column("Target folder", ratio=5, no_wrap=True, overflow="ellipsis")
    table.add_column("New", no_wrap=True)
    for title in ("Msgs", "There", "Copy", "Size", "Big"):
        table.add_column(title, justify="right", no_wrap=True)
    for work in plan.folders:
        big = len(work.too_large)
        table.add_row(
            Text(work.mapping.source),
            Text(work.mapping.target),
            "" if work.target_exists else "new",
            count(work.selected),
            count(work.present),
            count(len(work.to_copy)),
            short_size(work.bytes_to_copy),
            Text(count(big), style="bold" if big else ""),
        )
    return table


def plan_summary(plan: Plan, guess: Estimate, description: str) -> Group:
    present = sum(w.present for w in plan.folders)
    too_large = sum(len(w.too_large) for w in plan.folders)
    lines = [
        Text.assemble(
            ("To copy: ", "bold"),
            f"{plural(plan.messages_to_copy, 'message')}, {human_size(plan.bytes_to_copy)} "
            f"from {plural(len(plan.folders), 'folder')} ({description}) · already on the "
            f"target: {count(present)} · too large: {count(too_large)}",
        )
    ]
    limit, quota = size_limit_text(plan.size_limit), quota_text(plan.quota)
    lines.append(Text(f"Size limit: {limit} · Target quota: {quota}"))
    for side, preset in (("Source", plan.source_preset), ("Target", plan.target_preset)):
        if preset is not None:
            lines.append(Text(f"{side} is {preset.title}: {'; '.join(preset.notes)}"))
    for warning in plan.warnings:
        lines.append(Text(f"Warning: {warning}", style="bold"))
    if plan.messages_to_copy:
        lines.append(Text.assemble(("Time: ", "bold"), estimate_text(guess)))
    else:
        lines.append(Text("Nothing to copy: every message is on the target already."))
    return Group(*lines)


class PlanScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start copy", id="start-copy", tooltip="Start this copy"),
        Binding(
            "escape",
            "drop",
            "Cancel",
            id="drop-plan",
            tooltip="Leave without copying anything",
        ),
    ]

    def __init__(
        self, plan: Plan, guess: Estimate, description: str, labels: tuple[str, str]
    ) -> None:
        super().__init__()
        self.plan = plan
        self.guess = guess
        self.description = description
        self.labels = labels

    def compose(self) -> ComposeResult:
        source, target = self.labels
        yield Static(Text(f"Copy plan: {source} → {target}"), classes="screen-title")
        with VerticalScroll(id="plan-folders"):
            yield Static(plan_table(self.plan))
        yield Static(plan_summary(self.plan, self.guess, self.description), id="plan-summary")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_start(self) -> None:
        self.dismiss(True)

    def action_drop(self) -> None:
        self.dismiss(False)
