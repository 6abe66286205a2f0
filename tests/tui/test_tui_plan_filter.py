"""The plan screen's copy filter: Tab to the fields, type a day, Enter plans again in a worker
and the counts follow; a wrong value is named in one line in place; the copy then takes only
what the filter keeps, from a marked folder on a real Dovecot."""

from __future__ import annotations

from datetime import date
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from mailmig_tui.engine.plan import CopyFilter
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from tests.support.dated import INSIDE, SEED, seed, subjects
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import (
    imap_spec,
    mark_folder,
    screen_text,
    wait_connected,
    wait_for,
    wait_screen,
)


async def type_in(pilot: Pilot[Any], text: str) -> None:
    await pilot.press("ctrl+a", "ctrl+k", *text)  # select_on_focus aside: start empty


async def test_since_and_before_change_the_counts_and_the_copy(
    slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    source_user, target_user = slash_server.new_user(), courier_server.new_user()
    seed(slash_server, source_user)
    source = AccountSession(
        imap_spec(slash_server, source_user),
        "source",
        label="Source",
        password=slash_server.password(source_user),
    )
    target = AccountSession(
        imap_spec(courier_server, target_user),
        "target",
        label="Target",
        password=courier_server.password(target_user),
    )
    app = MailmigApp(source, target)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await mark_folder(pilot, app, "Work")
        await pilot.press("c")
        await wait_screen(pilot, app, PlanScreen, "the plan")
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        assert screen.plan.messages_to_copy == len(SEED)
        assert "Filter: none" in screen_text(app)

        await pilot.press("tab")  # from the folder table to "Since"
        assert isinstance(app.focused, Input) and app.focused.id == "filter-since"
        await type_in(pilot, "2024-13-01")
        await pilot.press("enter")
        await pilot.pause()
        assert "Since: a day as YYYY-MM-DD" in screen_text(app)
        assert app.focused.id == "filter-since"  # stays, to be corrected
        assert screen.plan.messages_to_copy == len(SEED)

        await type_in(pilot, "2024-01-01")
        await pilot.press("tab")  # leaving the field plans again too
        await type_in(pilot, "2024-07-01")
        await pilot.press("enter")
        wanted = CopyFilter(date(2024, 1, 1), date(2024, 7, 1))
        await wait_for(
            pilot,
            lambda: screen.plan.filter == wanted and not screen.replanning,
            "the plan made with both days",
        )
        await pilot.pause()
        text = screen_text(app)
        assert "filtered out: 3" in text, text  # old, before-day and new
        assert "Since: a day" not in text
        assert screen.plan.messages_to_copy == 3  # first-day, big, last-day
        assert app.focused is not None and app.focused.id == "plan-folders"

        await pilot.press("enter")
        await wait_screen(pilot, app, ReportScreen, "the report")
        assert "filtered out 3" in screen_text(app)
    copied = subjects(courier_server, target_user, courier_server.folder_name(("Work",)))
    assert copied == sorted(f"Work-{s}" for s in {*INSIDE, "big"})
    assert subjects(courier_server, target_user, "INBOX") == []  # not marked: not copied


async def test_a_plan_that_fails_again_is_named_and_the_old_plan_stays() -> None:
    """When planning again fails (a server gone), the screen says so in place, keeps the
    plan it had and still starts on Enter: it never waits for a plan that will not come."""
    from textual.app import App

    from mailmig_tui.engine.journal import FolderKey
    from mailmig_tui.engine.mapping import FolderMapping
    from mailmig_tui.engine.plan import FolderWork, Plan
    from mailmig_tui.engine.rates import DEFAULT_RATE, Estimate
    from mailmig_tui.errors import ProtocolError
    from mailmig_tui.model import AccountSpec, FolderInfo

    spec = AccountSpec(kind="maildir", path="/nowhere")
    work = FolderWork(
        FolderMapping("INBOX", "INBOX", "inbox"),
        FolderInfo("INBOX", ".", messages=3),
        True,
        FolderKey(spec.identity, "INBOX", 1, spec.identity, "INBOX"),
        selected=3,
    )
    plan = Plan(spec, spec, [work], None, None)
    asked: list[CopyFilter] = []

    def failing(wanted: CopyFilter) -> tuple[Plan, Estimate]:
        asked.append(wanted)
        raise ProtocolError("the source went away")

    answers: list[bool | None] = []
    screen = PlanScreen(plan, Estimate(0, DEFAULT_RATE), "INBOX", ("A", "B"), on_filter=failing)
    app: App[None] = App()
    async with app.run_test() as pilot:
        app.push_screen(screen, answers.append)
        await pilot.pause()
        await pilot.press("tab", "tab", "tab")  # past "Since" and "Before" to "Skip over"
        await type_in(pilot, "25M")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.replanning, "the failed planning")
        await pilot.pause()
        assert "Could not plan again: the source went away" in screen_text(app)  # type: ignore[arg-type]
        assert asked == [CopyFilter(skip_larger_than=25 * 1024**2)]
        assert screen.plan is plan
        await pilot.press("shift+tab")  # back into "Skip over"
        assert app.focused is not None and app.focused.id == "filter-skip-over"
        await pilot.press("tab")  # and out: a failed filter is tried again on Enter only
        await pilot.pause()
        assert asked == [CopyFilter(skip_larger_than=25 * 1024**2)]
        assert app.focused is not None and app.focused.id == "plan-folders"
        await pilot.press("enter")
        await pilot.pause()
    assert answers == [True]
