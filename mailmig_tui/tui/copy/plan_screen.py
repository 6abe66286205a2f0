"""The plan of a copy, before anything is written: Enter starts it, Escape drops it.

Per folder: where it goes, its messages (or the marked ones), those already on the target,
those to copy with their size, those too large for the target. Below: totals, the target's
size limit and quota, the server presets in force, the plan's warnings, and the time it may
take, labelled as an estimate with the rate it assumes.

The copy filter (received since / before, at most a size) sits in three fields under it:
Enter in a field (or leaving it with Tab) plans again in a worker, and the counts follow;
what the filter leaves out shows as "Out" and is not copied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from mailmig_tui.engine.plan import CopyFilter, Plan, parse_size
from mailmig_tui.engine.rates import Estimate
from mailmig_tui.engine.wording import human_size, quota_text, size_limit_text
from mailmig_tui.errors import MailmigError
from mailmig_tui.secrets import scrub
from mailmig_tui.tui.common.format import count, plural, short_size
from mailmig_tui.tui.copy.text import estimate_text


def plan_table(plan: Plan) -> Table:
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    table.add_column("Source folder", ratio=4, no_wrap=True, overflow="ellipsis")
    table.add_column("Target folder", ratio=5, no_wrap=True, overflow="ellipsis")
    table.add_column("New", no_wrap=True)
    filtered = plan.filter.active
    for title in ("Msgs", "There", "Copy", "Size", "Big", *(("Out",) if filtered else ())):
        table.add_column(title, justify="right", no_wrap=True)
    for folder in plan.folders:
        big = len(folder.too_large)
        out = (count(len(folder.filtered_out)),) if filtered else ()
        table.add_row(
            Text(folder.mapping.source),
            Text(folder.mapping.target),
            "" if folder.target_exists else "new",
            count(folder.selected),
            count(folder.present),
            count(len(folder.to_copy)),
            short_size(folder.bytes_to_copy),
            Text(count(big), style="bold" if big else ""),
            *out,
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
            f"target: {count(present)} · too large: {count(too_large)}"
            + (f" · filtered out: {count(plan.filtered_out)}" if plan.filter.active else ""),
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
    elif plan.filtered_out:
        lines.append(Text("Nothing to copy within the filter."))
    else:
        lines.append(Text("Nothing to copy: every message is on the target already."))
    return Group(*lines)


def read_filter(since: str, before: str, skip_over: str) -> CopyFilter | str:
    """The three fields as a filter, or what is wrong with them in one line."""
    days: list[date | None] = []
    for name, text in (("Since", since), ("Before", before)):
        try:
            days.append(date.fromisoformat(text.strip()) if text.strip() else None)
        except ValueError:
            return f"{name}: a day as YYYY-MM-DD, for example 2024-01-31 (empty: no limit)"
    try:
        size = parse_size(skip_over) if skip_over.strip() else None
    except ValueError:
        return "Skip over: bytes, or with K, M or G, for example 25M (empty: no limit)"
    first, last = days
    if first is not None and last is not None and first >= last:
        return "Since must be before Before (Since counts its day, Before does not)"
    return CopyFilter(first, last, size)


def filter_note(copy_filter: CopyFilter, replanning: bool) -> Text:
    if replanning:
        return Text("Filter: planning again…")
    if copy_filter.active:
        return Text(f"Filter: {copy_filter.describe()} · Tab to change")
    return Text("Filter: none · Tab to set: received since, before (YYYY-MM-DD), skip over")


MAX_CONNECTIONS = 32
"""The most the plan screen offers; beyond, servers refuse or throttle (Exchange ~20)."""


FILTER_FIELDS = ("since", "before", "skip-over")


def _day(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def connections_text(connections: int) -> Text:
    return Text(
        f"Connections: {connections} per server (+/-) · a pair per folder copied at once, "
        "the rest fetch big folders in parallel"
    )


def repair_text(on: bool) -> Text:
    if on:
        return Text(
            "Repair: on (r) · a refused message goes once more with bare LF as CRLF, 8-bit "
            "headers RFC 2047 encoded and NUL removed, and is reported as repaired"
        )
    return Text("Repair: off (r) · a message the target refuses is reported as failed")


class PlanScreen(Screen[bool]):
    DEFAULT_CSS = """
    PlanScreen #plan-filter { height: 1; padding: 0 1; }
    PlanScreen #plan-filter Label { padding: 0 1 0 0; }
    PlanScreen #plan-filter Input { width: 14; margin: 0 2 0 0; }
    PlanScreen #plan-filter-note { padding: 0 1; }
    PlanScreen #plan-filter-note.error { text-style: bold; color: $error; }
    """

    class Replanned(Message):
        """A worker planned again with `copy_filter`: the new plan, or why it could not."""

        def __init__(
            self, copy_filter: CopyFilter, result: tuple[Plan, Estimate] | None, error: str
        ) -> None:
            super().__init__()
            self.copy_filter = copy_filter
            self.result = result
            self.error = error

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start copy", id="start-copy", tooltip="Start this copy"),
        Binding(
            "r",
            "toggle_repair",
            "Repair",
            id="toggle-repair",
            tooltip="Send a message the target refuses once more, repaired, and report it",
        ),
        Binding(
            "plus,equals_sign",
            "connections(1)",
            "More connections",
            id="more-connections",
            tooltip="Open one more connection to each server",
            show=False,
        ),
        Binding(
            "minus",
            "connections(-1)",
            "Fewer connections",
            id="fewer-connections",
            tooltip="Open one connection fewer to each server (the server allows only so many)",
            show=False,
        ),
        Binding(
            "escape",
            "drop",
            "Cancel",
            id="drop-plan",
            tooltip="Leave without copying anything",
        ),
    ]

    def __init__(
        self,
        plan: Plan,
        guess: Estimate,
        description: str,
        labels: tuple[str, str],
        on_repair: Callable[[bool], None] | None = None,
        connections: int = 0,
        on_connections: Callable[[int], None] | None = None,
        on_filter: Callable[[CopyFilter], tuple[Plan, Estimate]] | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.guess = guess
        self.description = description
        self.labels = labels
        self.on_repair = on_repair
        """Told when `r` turns repairing refused messages on or off (`--repair`)."""
        self.repair = False
        self.connections = connections
        """Connections per server the copy will open (the preset's or the setting's)."""
        self.on_connections = on_connections
        """Told the new number when `+`/`-` change it (`--connections`)."""
        self.on_filter = on_filter
        """Plans again with another copy filter (blocking: called in a worker thread)."""
        self.copy_filter = plan.filter
        """The filter the plan shown was made with."""
        self.requested = plan.filter
        """The filter the fields last asked for: planned next when a planning runs."""
        self.replanning = False
        """A worker plans again: one at a time, as the accounts' connections serve one."""
        self.failed: CopyFilter | None = None
        """The last filter whose planning failed (its error is shown)."""

    def compose(self) -> ComposeResult:
        source, target = self.labels
        yield Static(Text(f"Copy plan: {source} → {target}"), classes="screen-title")
        with VerticalScroll(id="plan-folders"):
            yield Static(plan_table(self.plan))
        yield Static(plan_summary(self.plan, self.guess, self.description), id="plan-summary")
        if self.on_filter is not None:
            shown = self.copy_filter
            with Horizontal(id="plan-filter"):
                yield Label("Since")
                yield Input(_day(shown.since), "YYYY-MM-DD", id="filter-since", compact=True)
                yield Label("Before")
                yield Input(_day(shown.before), "YYYY-MM-DD", id="filter-before", compact=True)
                yield Label("Skip over")  # the filter, not the target's size limit
                yield Input(
                    str(shown.skip_larger_than or ""),
                    "e.g. 25M",
                    id="filter-skip-over",
                    compact=True,
                )
            yield Static(filter_note(shown, False), id="plan-filter-note")
        yield Static(repair_text(False), id="plan-repair")
        if self.on_connections is not None:
            yield Static(connections_text(self.connections), id="plan-connections")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_toggle_repair(self) -> None:
        if self.on_repair is None:
            return
        self.repair = not self.repair
        self.on_repair(self.repair)
        self.query_one("#plan-repair", Static).update(repair_text(self.repair))

    def action_connections(self, change: int) -> None:
        if self.on_connections is None:
            return
        wanted = min(max(self.connections + change, 1), MAX_CONNECTIONS)
        if wanted == self.connections:
            return
        self.connections = wanted
        self.on_connections(wanted)
        self.query_one("#plan-connections", Static).update(connections_text(wanted))

    # -- the copy filter ---------------------------------------------------------------------

    @on(Input.Submitted, "#plan-filter Input")
    def filter_submitted(self) -> None:
        if self._apply_filter(again=True):
            self.query_one("#plan-folders").focus()  # the next Enter starts the copy

    @on(Input.Blurred, "#plan-filter Input")
    def filter_left(self) -> None:
        self._apply_filter()

    def _apply_filter(self, *, again: bool = False) -> bool:
        """Plan again when the fields say something new; False when they are wrong. A
        filter whose planning failed is tried again on Enter (`again`), not on leaving."""
        if self.on_filter is None:
            return False
        wanted = read_filter(
            *(self.query_one(f"#filter-{name}", Input).value for name in FILTER_FIELDS)
        )
        note = self.query_one("#plan-filter-note", Static)
        if isinstance(wanted, str):
            note.set_class(True, "error")
            note.update(Text(wanted))
            return False
        note.set_class(False, "error")
        self.requested = wanted
        if wanted == self.failed and not again:
            return True
        if self.replanning:  # `replanned` plans again for it when this one is done
            return True
        if wanted != self.copy_filter:
            self.replanning = True
            note.update(filter_note(wanted, True))
            self._replan(wanted)
        else:
            note.update(filter_note(wanted, False))
        return True

    @work(thread=True, group="replan", exit_on_error=False)
    def _replan(self, wanted: CopyFilter) -> None:
        assert self.on_filter is not None
        try:
            result = self.on_filter(wanted)
        except Exception as exc:  # any: the screen must not wait for this plan forever
            why = exc.one_line() if isinstance(exc, MailmigError) else scrub(str(exc))
            self.post_message(self.Replanned(wanted, None, why or type(exc).__name__))
        else:
            self.post_message(self.Replanned(wanted, result, ""))

    @on(Replanned)
    def replanned(self, message: Replanned) -> None:
        note = self.query_one("#plan-filter-note", Static)
        self.replanning = False
        self.failed = message.copy_filter if message.result is None else None
        if message.result is None:
            note.set_class(True, "error")
            note.update(Text(f"Could not plan again: {message.error}"))
        else:
            self.plan, self.guess = message.result
            self.copy_filter = message.copy_filter
            self.query_one("#plan-folders Static", Static).update(plan_table(self.plan))
            summary = plan_summary(self.plan, self.guess, self.description)
            self.query_one("#plan-summary", Static).update(summary)
            note.update(filter_note(self.copy_filter, False))
        if self.requested not in (self.copy_filter, message.copy_filter):
            self.replanning = True  # the fields changed meanwhile: plan for them too
            note.update(filter_note(self.requested, True))
            self._replan(self.requested)

    def action_start(self) -> None:
        if self.replanning:
            self.notify("Planning again with the new filter: Enter once the counts are new.")
            return
        self.dismiss(True)

    def action_drop(self) -> None:
        self.dismiss(False)
