"""SVG snapshot of the plan screen with a copy filter applied, at 80x24: the filter
fields filled in, the "Out" column and the filtered-out total. Fixed values (the copy
snapshots' plan, filtered here), no live copy. Update with `--snapshot-update`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from mailmig_tui.engine.plan import CopyFilter, Plan
from mailmig_tui.engine.rates import DEFAULT_RATE, Estimate, estimate
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from tests.tui.test_tui_copy_snapshots import LABELS, fixed_plan, push

SnapCompare = Callable[..., bool]
OUT = (700, 310, 0, 900, 40)
"""Per folder of the fixed plan: how many were received before the filter's day."""


def filtered_plan() -> Plan:
    plan = fixed_plan()
    plan.filter = CopyFilter(since=date(2024, 1, 1))
    for work, out in zip(plan.folders, OUT, strict=True):
        work.filtered_out = frozenset(range(100_000, 100_000 + out))
        work.to_copy = work.to_copy[: max(len(work.to_copy) - out, 0)]
    return plan


def test_plan_with_a_filter(snap_compare: SnapCompare) -> None:
    plan = filtered_plan()
    assert plan.filtered_out == sum(OUT)
    guess = estimate(plan.messages_to_copy, plan.bytes_to_copy, DEFAULT_RATE)

    def never_replanned(copy_filter: CopyFilter) -> tuple[Plan, Estimate]:
        raise AssertionError(f"the snapshot plans nothing again ({copy_filter})")

    app = MailmigApp()
    screen = push(
        app,
        lambda: PlanScreen(plan, guess, "3 marked folders", LABELS, on_filter=never_replanned),
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=screen)
