"""Opening a source folder: what the operator sees meanwhile, and the lookup on the target
that follows without delaying the rows. Two users of a real Dovecot, one per role.

The source's connections are held (as a busy or far server would) at exact points, never
slept through: the folder's UIDs wait on the "browse" connection, the lookup on "compare".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.worker import Worker

from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.status_line import StatusLine
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import (
    imap_spec,
    info_text,
    main_screen,
    open_folder,
    pane,
    wait_compared,
    wait_for,
)

START = datetime(2025, 3, 1, 9, tzinfo=UTC)


def message(folder: str, number: int) -> bytes:
    return (
        f"Message-ID: <open-{folder}-{number}@example.test>\r\n"
        "Date: Sat, 01 Mar 2025 09:00:00 +0000\r\n"
        "From: Alice <alice@example.test>\r\n"
        f"Subject: {folder} {number}\r\n\r\nBody {number}.\r\n"
    ).encode()


def seed(server: DovecotServer, user: str, folders: dict[str, list[int]]) -> None:
    client = server.client(user)
    try:
        for folder, numbers in folders.items():
            if folder != "INBOX":
                client.create_folder(folder)
            for number in numbers:
                client.append(folder, message(folder, number), [], START + timedelta(number))
    finally:
        client.logout()


def sessions(
    server: DovecotServer, source: dict[str, list[int]], target: dict[str, list[int]]
) -> tuple[AccountSession, AccountSession]:
    source_user, target_user = server.new_user(), server.new_user()
    seed(server, source_user, source)
    seed(server, target_user, target)
    return (
        AccountSession(
            imap_spec(server, source_user), "source", password=server.password(source_user)
        ),
        AccountSession(
            imap_spec(server, target_user), "target", password=server.password(target_user)
        ),
    )


def status_text(app: MailmigApp) -> str:
    return str(main_screen(app).query_one(StatusLine).render())


async def test_opening_says_how_many_messages_then_what_the_empty_target_has(
    slash_server: DovecotServer,
) -> None:
    source, target = sessions(slash_server, {"INBOX": [0, 1, 2], "Work": [0]}, {})
    app = MailmigApp(source, target)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_compared(pilot, app)
        listing = pane(app, "source").folder_list
        messages = pane(app, "source").message_list
        with source.connection("browse").use():  # the folder's UIDs wait for this
            listing.focus()
            listing.select_name("INBOX")
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: "opening 3 messages…" in info_text(app, "source"),
                "the count while opening",
            )
            assert messages.opening and not messages.rows_shown
            assert "on the target" not in status_text(app)  # the lookup waits for the rows
        # The target's INBOX is empty: the answer needs no source message read.
        await wait_for(pilot, lambda: "0 of 3 on the target" in status_text(app), "the lookup")
        assert not messages.opening and not messages.on_target
        presence = main_screen(app).presence
        assert presence is not None and not presence.sizes

        # `n` marks all three, and their sizes (not probed) are fetched for the totals.
        await pilot.press("n")
        marks = pane(app, "source").marks
        assert set(marks.messages["INBOX"]) == set(messages.arrival)
        await wait_for(pilot, lambda: not marks.unknown_in("INBOX"), "the marked sizes")


async def test_opening_another_folder_cancels_the_running_lookup(
    slash_server: DovecotServer,
) -> None:
    source, target = sessions(
        slash_server, {"INBOX": [0, 1], "Work": [0, 1, 2]}, {"INBOX": [0], "Work": [1, 2]}
    )
    app = MailmigApp(source, target)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_compared(pilot, app)
        messages = pane(app, "source").message_list

        def lookups() -> list[Worker[None]]:
            return [w for w in app.workers if w.group == "compare-messages"]

        with target.connection("compare").use():  # every lookup waits for this
            await open_folder(pilot, app, "source", "INBOX")
            await wait_for(pilot, lambda: len(lookups()) == 1, "INBOX's lookup")
            inbox_lookup = lookups()[0]
            assert "looking on the target…" in status_text(app)
            await pilot.press("backspace")
            await open_folder(pilot, app, "source", "Work")
            # Its thread goes on to the next chunk boundary, and stops there.
            await wait_for(pilot, lambda: inbox_lookup.is_cancelled, "INBOX's cancel")
            assert [w for w in lookups() if w is not inbox_lookup and not w.is_cancelled]
        await wait_for(pilot, lambda: "2 of 3 on the target" in status_text(app), "Work's lookup")
        presence = main_screen(app).presence
        assert presence is not None and presence.folder == "Work"
        assert messages.on_target == {2, 3}
