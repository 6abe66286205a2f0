"""The batch screen: every user's row reaches its final state while the batch runs."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from mailmig_tui.accounts import parse_account_url
from mailmig_tui.engine.batch import BatchJob, BatchUser
from mailmig_tui.tui.copy.batch_app import BatchApp
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import seed_mailbox


def url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


async def test_batch_screen_shows_each_users_state(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = []
    for row in (2, 3):
        source, target = slash_server.new_user(), courier_server.new_user()
        seed_mailbox(slash_server, source, standard_folders()[:2], standard_corpus()[:6])
        monkeypatch.setenv(f"S{row}", slash_server.password(source))
        monkeypatch.setenv(f"T{row}", courier_server.password(target))
        users.append(
            BatchUser(
                row, url(slash_server, source), url(courier_server, target), f"S{row}", f"T{row}"
            )
        )
    monkeypatch.setenv("BAD", "wrong-password")
    users.append(
        BatchUser(
            4,
            url(slash_server, slash_server.new_user()),
            url(courier_server, courier_server.new_user()),
            "BAD",
            "BAD",
        )
    )
    app = BatchApp(BatchJob(users, parse_account_url, parallel=2))
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(600):  # the batch's end is the event; bounded, no fixed sleep
            if not app.running:
                break
            await pilot.pause(0.05)
        assert not app.running
        table = app.query_one(DataTable)
        state = table.ordered_columns[3].key
        assert [table.get_cell(str(n), state) for n in (2, 3, 4)] == ["done", "done", "error"]
        copied = table.ordered_columns[4].key
        assert table.get_cell("2", copied) == "6"
        errors = str(table.get_cell("4", table.ordered_columns[7].key))
        assert "refused the login" in errors and "wrong-password" not in errors
        await pilot.press("q")
    assert app.return_value == 1  # one user could not be copied
