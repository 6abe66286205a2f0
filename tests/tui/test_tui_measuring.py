"""Estimates measured, not assumed: the plan says it measured the link; the panel, the
progress screen and the CLI say "measuring…" until the rate has settled, then an ETA that
follows the copy's own pace (not `ETA 4:42:31` after the first message)."""

from __future__ import annotations

import io

from mailmig_tui.commands.progress import ProgressDisplay
from mailmig_tui.engine.events import FolderStarted, MessageCopied, MessageRef
from mailmig_tui.engine.progress import SETTLE_MESSAGES, SETTLE_SECONDS, ProgressTracker
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.progress_screen import CopyProgressScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.copy.text import progress_line
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import (
    Gate,
    imap_spec,
    main_screen,
    mark_folder,
    screen_text,
    seed_many,
    wait_connected,
    wait_for,
    wait_screen,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_eta_until_the_rate_settles_then_the_copys_own_pace() -> None:
    clock = FakeClock()
    tracker = ProgressTracker([("INBOX", "INBOX", 1000, 1_024_000)], clock)
    tracker.feed(FolderStarted("INBOX", "INBOX", 1000, 1_024_000))
    clock.now += 3.0  # connecting and the first fetch: not the copy's pace
    tracker.feed(MessageCopied(MessageRef("INBOX", 1, 1024)))
    first = tracker.snapshot()
    assert first.measuring and first.eta is None
    assert progress_line(first).endswith("1/1,000 msgs · 1.0 KB/1000.0 KB · measuring…")
    uid = 1
    while clock.now < 1003.0 + SETTLE_SECONDS or uid < SETTLE_MESSAGES:
        clock.now += 0.1  # ten messages a second from now on
        uid += 1
        tracker.feed(MessageCopied(MessageRef("INBOX", uid, 1024)))
        tracker.snapshot()
    settled = tracker.snapshot()
    assert not settled.measuring
    assert round(settled.messages_per_second, 6) == 10.0
    left = (1000 - uid) / 10  # at ten a second, what is left
    assert settled.eta is not None and round(settled.eta, 6) == round(left, 6)
    assert progress_line(settled).endswith(f"10 msg/s · 10.0 KB/s · ETA 1:{round(left) - 60:02d}")


def test_the_cli_says_measuring_then_rate_and_eta() -> None:
    clock = FakeClock()
    display = ProgressDisplay(1000, 1_000_000, stream=io.StringIO(), clock=clock)
    clock.now += 3.0
    display(MessageCopied(MessageRef("INBOX", 1, 1000)))
    assert display.live_text() == "measuring…"
    for uid in range(2, 31):
        clock.now += 0.1
        display(MessageCopied(MessageRef("INBOX", uid, 1000)))
        display.live_text()  # the render thread samples ~10 times a second
    assert display.live_text() == "10 msg/s 0.0 MB/s ETA 1:37"  # 970 left at 10 a second


async def test_plan_measures_the_link_and_the_panels_measure_before_an_eta(
    slash_server: DovecotServer,
) -> None:
    source_user, target_user = slash_server.new_user(), slash_server.new_user()
    seed_many(slash_server, source_user, "INBOX", 300)
    source = AccountSession(
        imap_spec(slash_server, source_user), "source", password=slash_server.password(source_user)
    )
    target = AccountSession(
        imap_spec(slash_server, target_user), "target", password=slash_server.password(target_user)
    )
    app = MailmigApp(source, target)
    gate = Gate(at=1)
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        main_screen(app).copy_control.observer = gate
        await mark_folder(pilot, app, "INBOX")
        await pilot.press("c")
        await wait_screen(pilot, app, PlanScreen, "the plan")
        text = " ".join(screen_text(app).split())
        assert "measured while planning, round trip" in text
        assert "20 msg/s" not in text
        try:
            await pilot.press("enter")
            await wait_for(pilot, gate.reached.is_set, "the first copied message")
            await wait_for(pilot, lambda: "measuring…" in screen_text(app), "the panel")
            assert "ETA" not in screen_text(app)
            await pilot.press("p")
            await wait_screen(pilot, app, CopyProgressScreen, "the progress screen")
            assert "measuring…" in screen_text(app) and "ETA" not in screen_text(app)
        finally:
            gate.release()
        await wait_screen(pilot, app, ReportScreen, "the report")
