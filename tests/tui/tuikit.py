"""Helpers for the TUI tests: waiting on conditions, reading the screen, accounts and stores."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot

from mailmig_tui.engine.events import CopyEvent, MessageCopied
from mailmig_tui.model import (
    AccountInfo,
    AccountSpec,
    AppendResult,
    FolderInfo,
    Message,
    MessageSummary,
    Security,
)
from mailmig_tui.stores.base import HeaderProbe, MailStore, SearchQuery
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.account_pane import AccountPane
from mailmig_tui.tui.main_screen import MainScreen
from tests.support.dovecot import DovecotServer


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], object], what: str, timeout: float = 10.0
) -> None:
    """Let the app run until `condition()` holds; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout

    def holds() -> bool:
        try:
            return bool(condition())
        except NoMatches:  # not composed yet
            return False

    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)


async def wait_screen(pilot: Pilot[Any], app: MailmigApp, kind: type, what: str) -> None:
    """Wait until a screen of `kind` is on top and painted."""
    await wait_for(pilot, lambda: isinstance(app.screen, kind) and app.screen.is_mounted, what)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def screen_text(app: MailmigApp) -> str:
    """What the terminal shows now, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def main_screen(app: MailmigApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), f"expected the main screen, got {screen!r}"
    return screen


def pane(app: MailmigApp, role: str) -> AccountPane:
    return main_screen(app).pane(role)


def info_text(app: MailmigApp, role: str) -> str:
    return str(pane(app, role).query_one(".pane-info").render())


async def wait_connected(pilot: Pilot[Any], app: MailmigApp, timeout: float = 10.0) -> None:
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, MainScreen)
            and pane(app, "source").connected
            and pane(app, "target").connected
        ),
        "both panes to list their folders",
        timeout,
    )


async def wait_compared(pilot: Pilot[Any], app: MailmigApp) -> None:
    """Both panes listed and the source's folders compared with the target (what a snapshot
    shows is then fixed: the comparison comes from a worker of its own)."""
    await wait_connected(pilot, app)
    listing = pane(app, "source").folder_list
    await wait_for(pilot, lambda: listing.comparing, "the target's counts")


async def wait_on_target(pilot: Pilot[Any], app: MailmigApp) -> None:
    """The open source folder's messages looked up on the target."""
    screen = main_screen(app)
    await wait_for(pilot, lambda: " of " in screen.on_target_text(), "the target lookup")


async def open_folder(pilot: Pilot[Any], app: MailmigApp, role: str, name: str) -> None:
    """Put the cursor on folder `name` and press Enter; wait for its first rows."""
    listing = pane(app, role).folder_list
    listing.focus()
    listing.select_name(name)
    assert listing.current is not None and listing.current.name == name, name
    await pilot.press("enter")
    messages = pane(app, role).message_list
    await wait_for(
        pilot,
        lambda: (
            messages.folder is not None
            and messages.folder.name == name
            and not messages.status
            and (not messages.view or messages.view[0] in messages.cache)
        ),
        f"{role} folder {name} to open",
    )


class Gate:
    """A copy observer that holds the copy at its `at`-th copied message until released.

    The engine's thread waits inside the event sink, so what the test does meanwhile (keys,
    cancel, cutting the server) happens at an exact point of the copy, never after a sleep.
    """

    def __init__(self, at: int) -> None:
        self.at = at
        self.copied = 0
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, event: CopyEvent) -> None:
        if isinstance(event, MessageCopied):
            self.copied += 1
            if self.copied == self.at:
                self.reached.set()
                self.released.wait(30)

    def release(self) -> None:
        self.released.set()


def drive_headless(
    monkeypatch: pytest.MonkeyPatch, auto_pilot: Callable[[Pilot[Any]], Awaitable[None]]
) -> None:
    """Make `MailmigApp.run` run headless under `auto_pilot`, so the launcher's own path
    (`mailmig demo`, `mailmig tui`, `launch._run`) runs without a terminal. The pilot must
    end the app; anything it raises is raised again when `run` returns."""
    run = MailmigApp.run

    def headless(app: MailmigApp, **_: Any) -> int | None:
        failures: list[BaseException] = []

        async def pilot_noting_failures(pilot: Pilot[Any]) -> None:
            try:
                await auto_pilot(pilot)
            except Exception as exc:
                failures.append(exc)
                raise

        result = run(app, headless=True, auto_pilot=pilot_noting_failures)
        if failures:
            raise failures[0]
        return result

    monkeypatch.setattr(MailmigApp, "run", headless)


async def mark_folder(pilot: Pilot[Any], app: MailmigApp, name: str) -> None:
    """Put the source folder list's cursor on `name` and mark it."""
    listing = pane(app, "source").folder_list
    listing.focus()
    listing.select_name(name)
    assert listing.current is not None and listing.current.name == name, name
    await pilot.press("space")


def demo_sessions(root: Path) -> tuple[AccountSession, AccountSession]:
    source = AccountSpec(kind="maildir", path=str(root / "source"))
    target = AccountSpec(kind="maildir", path=str(root / "target"))
    return (
        AccountSession(source, "source", label="Demo mailbox (Maildir)"),
        AccountSession(target, "target", label="Empty target (Maildir)"),
    )


def imap_spec(server: DovecotServer, user: str) -> AccountSpec:
    return AccountSpec(
        kind="imap",
        user=user,
        host="127.0.0.1",
        port=server.imap_port,
        security=Security.PLAIN,
        timeout=10.0,
    )


def imap_url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def kill_imap_sessions(server: DovecotServer) -> int:
    """Kill the imap processes that outlive a stopped test server (Dovecot lets established
    sessions finish): what a crash or a network cut does. Only that server's own processes,
    found by its unique instance name, each by its pid."""
    marker = f"mailmig-test-{server.root.name}".encode()
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline and b"/imap" in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def tiny_message(number: int, when: datetime) -> bytes:
    return (
        f"Message-ID: <bulk-{number}@example.test>\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"From: Sender {number % 97} <s{number % 97}@example.test>\r\n"
        "To: someone@example.test\r\n"
        f"Subject: bulk message {number:05d}\r\n\r\n"
        f"body {number}\r\n"
    ).encode()


def seed_many(server: DovecotServer, user: str, folder: str, count: int) -> None:
    """`count` tiny messages, MULTIAPPENDed in batches (one round trip per batch)."""
    client = server.client(user)
    try:
        if folder != "INBOX":
            client.create_folder(folder)
        start = datetime(2024, 1, 1, 8, tzinfo=UTC)
        for first in range(0, count, 500):
            batch = [
                {"msg": tiny_message(n, start + timedelta(minutes=n)),
                 "date": start + timedelta(minutes=n), "flags": ["\\Seen"]}
                for n in range(first, min(count, first + 500))
            ]  # fmt: skip
            client.multiappend(folder, batch)
    finally:
        client.logout()


class FakeStore(MailStore):
    """An in-memory folder of `count` messages, counting what the UI asks for."""

    def __init__(self, count: int, log: list[tuple[str, int]]) -> None:
        self.count = count
        self.readonly = True
        self.log = log
        base = datetime(2024, 6, 1, tzinfo=UTC)
        # Precomputed parts: building 100,000 summaries must not be what a test measures.
        self.dates = [base + timedelta(minutes=m) for m in range(1440)]
        self.senders = [f"Sender {n} <s{n}@example.test>" for n in range(13)]

    def close(self) -> None:
        pass

    def info(self) -> AccountInfo:
        return AccountInfo(delimiter="/", prefix="")

    def list_folders(self, with_status: bool = True) -> list[FolderInfo]:
        return [self.folder_status("INBOX")]

    def folder_status(self, folder: str) -> FolderInfo:
        return FolderInfo("INBOX", "/", messages=self.count, size=self.count * 1000)

    def uids(self, folder: str) -> list[int]:
        return list(range(1, self.count + 1))

    def newest_first(self, folder: str) -> list[int]:
        self.log.append(("newest_first", self.count))
        return list(range(self.count, 0, -1))

    def summaries(self, folder: str, uids: Sequence[int]) -> list[MessageSummary]:
        self.log.append(("summaries", len(uids)))
        dates, senders, seen = self.dates, self.senders, ("\\Seen",)
        return [
            MessageSummary(
                uid,
                dates[uid % 1440],
                seen,
                1000 + (uid * 7919) % 50_000,
                dates[uid % 1440],
                senders[uid % 13],
                "",
                f"Message {uid:06d}",
            )
            for uid in uids
        ]

    def probes(self, folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        return []

    def fetch(self, folder: str, uids: Sequence[int]) -> Iterator[Message]:
        for uid in uids:
            yield Message(uid, f"Subject: Message {uid}\r\n\r\nbody\r\n".encode(), (), None)

    def search(self, folder: str, query: SearchQuery) -> list[int]:
        return [uid for uid in range(1, self.count + 1) if uid % 1000 == 0]

    def create_folder(self, folder: str) -> None:
        raise NotImplementedError

    def append(self, folder: str, messages: Sequence[Message]) -> list[AppendResult]:
        raise NotImplementedError

    def set_flags(self, folder: str, uid: int, flags: Sequence[str]) -> None:
        raise NotImplementedError


class FakeSession(AccountSession):
    """A session whose connections are `FakeStore`s."""

    def __init__(self, role: str, count: int, log: list[tuple[str, int]]) -> None:
        super().__init__(AccountSpec(kind="maildir", path=f"/fake/{role}"), role, label="Fake")
        self.count = count
        self.log = log

    def open_store(self) -> MailStore:
        return FakeStore(self.count, self.log)
