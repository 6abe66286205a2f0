"""The TUI's split text search against real Dovecot: the connection cap comes down from the
screen (the message list needs no app attribute), and the helper connections the search
opens are logged out once it is done, not kept. The folder is small and `split_from` is
lowered to make the search split (speed itself is bench/big_folder.py's)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from mailmig_tui.engine import split_search
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.model import FolderInfo
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import ImapStore
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.browse.message_list import MessageList
from mailmig_tui.tui.browse.paged_messages import PagedMessages
from tests.support.dovecot import DovecotServer
from tests.support.wire import Wire, watch
from tests.tui.tuikit import imap_spec, open_folder, pane, seed_many, wait_connected, wait_for

FOLDER = "Big"
COUNT = 60
SEARCHED = "body 1"
"""In the bodies of messages 1 and 10-19 only (`tiny_message`)."""


@dataclass(eq=False)
class CountingSession(AccountSession):
    """An account that records every connection it opens: the opening thread and its wire
    (LOGIN is sent before the wire is watched; LOGOUT is seen)."""

    opened: list[tuple[str, Wire]] = field(default_factory=list, repr=False)

    def open_store(self) -> MailStore:
        store = super().open_store()
        assert isinstance(store, ImapStore)
        self.opened.append((threading.current_thread().name, watch(store)))
        return store

    def helpers(self) -> list[Wire]:
        """The wires of the split search's helper connections (`split_search`'s threads)."""
        return [wire for thread, wire in self.opened if thread == "mailmig-search"]


@pytest.fixture(scope="module")
def user(slash_server: DovecotServer) -> str:
    name = slash_server.new_user()
    seed_many(slash_server, name, FOLDER, COUNT)
    return name


@pytest.fixture(autouse=True)
def split_small_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    # The widget leaves `split_from` to its default, which Python bound at definition.
    defaults = split_search.split_search.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "split_from", 10)


def session(server: DovecotServer, user: str, role: str) -> CountingSession:
    return CountingSession(imap_spec(server, user), role, password=server.password(user))


def expected_hits(server: DovecotServer, user: str) -> set[int]:
    client = server.client(user)
    try:
        client.select_folder(FOLDER, readonly=True)
        return set(client.search(["TEXT", SEARCHED]))
    finally:
        client.logout()


def serving(server: DovecotServer, user: str) -> int:
    """The server's imap processes for `user`: its connections still open on the server."""
    marker = f"[{user} ".encode()
    return sum(marker in title for title in server._imap_titles())


async def search(pilot: Pilot[Any], messages: PagedMessages, text: str) -> None:
    assert isinstance(messages, MessageList)
    messages.search(text)
    assert messages.status == "searching…"
    await wait_for(pilot, lambda: not messages.status, f"the search for {text!r}")


async def test_the_helper_connections_are_logged_out_after_the_search(
    slash_server: DovecotServer, user: str
) -> None:
    source = session(slash_server, user, "source")
    target = session(slash_server, slash_server.new_user(), "target")
    app = MailmigApp(source, target)  # the default settings: no cap, two connections
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", FOLDER)
        messages = pane(app, "source").message_list
        expected = expected_hits(slash_server, user)
        assert len(expected) == 11

        await search(pilot, messages, SEARCHED)
        assert messages.hits == expected
        helpers = source.helpers()
        assert len(helpers) == 1
        assert all(wire.commands[-1] == "LOGOUT" for wire in helpers), helpers
        panes_own = len(source.opened) - len(helpers)
        await wait_for(
            pilot,
            lambda: serving(slash_server, user) <= panes_own,
            "the server to end the helpers' sessions",
        )

        # The next search logs in afresh, and out again.
        await search(pilot, messages, SEARCHED)
        assert messages.hits == expected
        helpers = source.helpers()
        assert len(helpers) == 2
        assert all(wire.commands.count("LOGOUT") == 1 for wire in helpers)


async def test_the_cap_comes_down_from_the_copy_settings(
    slash_server: DovecotServer, user: str
) -> None:
    source = session(slash_server, user, "source")
    target = session(slash_server, slash_server.new_user(), "target")
    app = MailmigApp(source, target, copy_settings=CopySettings(connections=1))
    async with app.run_test() as pilot:
        await wait_connected(pilot, app)
        await open_folder(pilot, app, "source", FOLDER)
        messages = pane(app, "source").message_list
        assert messages.connection_cap == 1
        await search(pilot, messages, SEARCHED)
        assert messages.hits == expected_hits(slash_server, user)
        assert not source.helpers()  # its own connection only


class ListApp(App[None]):
    """A bare app holding one message list: no `copy_settings`, no main screen."""

    def __init__(self, account: AccountSession, cap: int | None) -> None:
        super().__init__()
        self.account, self.cap = account, cap

    def compose(self) -> ComposeResult:
        yield MessageList(self.account, MarkSet(), connection_cap=self.cap, id="messages")


async def test_the_message_list_needs_only_the_cap_it_is_given(
    slash_server: DovecotServer, user: str
) -> None:
    source = session(slash_server, user, "source")
    app = ListApp(source, cap=2)
    assert not hasattr(app, "copy_settings")
    try:
        async with app.run_test() as pilot:
            messages = app.query_one(MessageList)
            messages.load(FolderInfo(FOLDER, "/", messages=COUNT))
            await wait_for(pilot, lambda: len(messages.arrival) == COUNT, "the folder to open")
            await search(pilot, messages, SEARCHED)
            assert messages.hits == expected_hits(slash_server, user)
            helpers = source.helpers()
            assert len(helpers) == 1
            assert helpers[0].commands[-1] == "LOGOUT"
    finally:
        source.close()
