"""The message list stays virtual: 100,000 messages open at once and page in as they are seen."""

from __future__ import annotations

import time

from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.paging import PAGE_SIZE
from tests.tui.tuikit import FakeSession, info_text, open_folder, pane, wait_connected, wait_for

HUGE = 100_000


def fetched(log: list[tuple[str, int]]) -> int:
    return sum(n for what, n in log if what == "summaries")


async def test_a_100k_folder_opens_in_about_a_second_and_pages_on_demand() -> None:
    log: list[tuple[str, int]] = []
    app = MailmigApp(FakeSession("source", HUGE, log), FakeSession("target", 3, log))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        started = time.monotonic()
        await open_folder(pilot, app, "source", "INBOX")
        elapsed = time.monotonic() - started
        messages = pane(app, "source").message_list
        assert len(messages.view) == HUGE
        assert elapsed < 1.5, f"opening took {elapsed:.2f} s"
        assert fetched(log) <= 2 * PAGE_SIZE
        assert "100,000 messages" in info_text(app, "source")

        # Holding PgDn: only pages that are on screen when their turn comes are fetched.
        await pilot.press(*["pagedown"] * 10)
        await wait_for(pilot, lambda: messages.current_uid in messages.cache, "the rows shown")
        assert messages.cursor > 150
        assert fetched(log) < 10 * PAGE_SIZE
        await pilot.press("G")
        await wait_for(pilot, lambda: messages.view[-1] in messages.cache, "the last rows")
        assert fetched(log) < 12 * PAGE_SIZE

        # Sorting by size needs every size: loaded in a worker, then sorted.
        await pilot.press("s")
        await wait_for(
            pilot, lambda: messages.sort_key == "size" and not messages.status, "size order", 30
        )
        sizes = [messages.cache[uid].size for uid in messages.view[:500]]
        assert sizes == sorted(sizes, reverse=True)
        assert len(messages.view) == HUGE

        await pilot.press("slash", "enter")  # an empty search is ignored
        search = pane(app, "source").query_one("#search")
        assert not search.display
        await pilot.press("slash")
        search.value = "anything"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: messages.hits is not None, "the search")
        assert len(messages.view) == HUGE // 1000
