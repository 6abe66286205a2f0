"""Export the README screenshots (SVG) from the real app, driven by Pilot over the demo data.

    python scripts/make_screenshots.py [--out screenshots] [--size 100x30]

Writes main.svg (both folder trees), messages.svg (an open folder with marks),
preview.svg (a message with an attachment), folder-map.svg (the map with one folder merged
by hand), transfer.svg (a copy in progress, held at a fixed message by an observer of the
engine's events), progress.svg (the same copy on the whole screen), checking.svg (the check
after the copy, held between two folders), report.svg (its report), compare.svg (the
folder tree with each folder's count on the target, one subtree collapsed), filter.svg (the
tree narrowed by a filter) and on-target.svg (an open folder, its messages on the target
ticked), history.svg (the runs between the two accounts). Config, state and
logs go to the temporary directory, never the user's own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from textual.pilot import Pilot

from mailmig_tui.engine.events import CopyEvent, MessageCopied, Verifying
from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.preview import PreviewScreen
from mailmig_tui.tui.copy.folder_map_screen import FolderMapScreen
from mailmig_tui.tui.copy.map_list import MapList
from mailmig_tui.tui.copy.plan_screen import PlanScreen
from mailmig_tui.tui.copy.progress_screen import CopyProgressScreen
from mailmig_tui.tui.copy.report_screen import ReportScreen
from mailmig_tui.tui.copy.target_picker import TargetPicker
from mailmig_tui.tui.demo_data import write_demo_maildirs
from mailmig_tui.tui.history.history_screen import HistoryScreen
from mailmig_tui.tui.main_screen import MainScreen

HOLD_AT = 1400
"""The copy is held at its 1,400th message for the progress screenshots."""


class Hold:
    """Holds the copy's engine thread twice until released: at the HOLD_AT-th copied
    message, and in the check after the copy, between two folders."""

    def __init__(self) -> None:
        self.copied = 0
        self.reached, self.released = threading.Event(), threading.Event()
        self.checking, self.checked = threading.Event(), threading.Event()

    def __call__(self, event: CopyEvent) -> None:
        if isinstance(event, MessageCopied):
            self.copied += 1
            if self.copied == HOLD_AT:
                self.reached.set()
                self.released.wait(60)
        elif isinstance(event, Verifying) and 0 < event.checked < event.total:
            if self.checking.is_set():
                return  # held once is enough
            self.checking.set()
            self.checked.wait(60)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"make_screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def save(app: MailmigApp, out: Path, name: str) -> None:
    app.save_screenshot(filename=f"{name}.svg", path=str(out))
    print(f"wrote {out / name}.svg")


async def shoot(root: Path, out: Path, size: tuple[int, int]) -> None:
    source = AccountSession(
        AccountSpec(kind="maildir", path=str(root / "source")),
        "source",
        label="Demo mailbox (Maildir)",
    )
    target = AccountSession(
        AccountSpec(kind="maildir", path=str(root / "target")),
        "target",
        label="Empty target (Maildir)",
    )
    app = MailmigApp(source, target)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        panes = [screen.pane("source"), screen.pane("target")]
        await wait_for(pilot, lambda: all(p.connected for p in panes), "both accounts")
        await pilot.press("j", "j", "space")  # mark a folder, as an operator would
        await settle(pilot)
        save(app, out, "main")

        await pilot.press("g", "enter")
        messages = panes[0].message_list
        await wait_for(
            pilot, lambda: bool(messages.view) and messages.view[0] in messages.cache, "INBOX"
        )
        await pilot.press("j", "space", "space", "space")
        await settle(pilot)
        save(app, out, "messages")

        # A message with an attachment: the corpus makes those the larger ones.
        index = next(
            i for i, uid in enumerate(messages.view[:60]) if messages.cache[uid].size > 3000
        )
        messages.cursor = index
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, PreviewScreen) and app.screen.content is not None,
            "the preview",
        )
        await settle(pilot)
        save(app, out, "preview")
        await pilot.press("escape", "backspace")
        await folder_map(pilot, app, out)
        await copy(pilot, app, out)
        await compare(pilot, app, out)
        await history(pilot, app, out)


async def folder_map(pilot: Pilot[Any], app: MailmigApp, out: Path) -> None:
    """The map with Entwürfe merged into Drafts by hand, through the target picker."""
    await pilot.press("m")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, FolderMapScreen) and app.screen.result is not None,
        "the folder map",
    )
    screen = app.screen
    assert isinstance(screen, FolderMapScreen)
    listing = screen.query_one(MapList)
    listing.cursor = [row.source for row in listing.rows].index("Entwürfe")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TargetPicker), "the target picker")
    await pilot.press(*"\b" * 0)
    picker = app.screen
    assert isinstance(picker, TargetPicker)
    picker.query_one("#target-name").value = "Drafts"  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, FolderMapScreen)
            and any(r.source == "Entwürfe" and r.merge for r in listing.rows)
        ),
        "the merge",
    )
    await settle(pilot)
    save(app, out, "folder-map")
    await pilot.press("escape")


async def copy(pilot: Pilot[Any], app: MailmigApp, out: Path) -> None:
    """Mark INBOX, Archive/2023 and Sent, copy, hold the copy for two shots, then report."""
    screen = app.screen
    assert isinstance(screen, MainScreen)
    source = screen.pane("source")
    source.marks.clear()  # the earlier shots marked other things
    listing = source.folder_list
    listing.focus()
    for name in ("INBOX", "Archive.2023", "Sent"):
        listing.select_name(name)
        await pilot.press("space")
    hold = Hold()
    control = screen.copy_control
    control.observer = hold
    control.progress_interval = 0.0  # every event's snapshot: the held one is the one shown
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
    await pilot.press("enter")
    await wait_for(pilot, hold.reached.is_set, "the copy to reach the held message")
    await wait_for(
        pilot,
        lambda: control.snapshot is not None and control.snapshot.copied >= HOLD_AT,
        "progress",
    )
    await settle(pilot)
    save(app, out, "transfer")
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(app.screen, CopyProgressScreen), "the progress screen")
    await settle(pilot)
    save(app, out, "progress")
    await pilot.press("escape")
    hold.released.set()
    await wait_for(pilot, hold.checking.is_set, "the check after the copy")
    await wait_for(
        pilot,
        lambda: control.snapshot is not None and control.snapshot.checked > 0,
        "the check's progress",
    )
    await settle(pilot)
    save(app, out, "checking")
    hold.checked.set()
    await wait_for(pilot, lambda: isinstance(app.screen, ReportScreen), "the report")
    await settle(pilot)
    save(app, out, "report")


async def compare(pilot: Pilot[Any], app: MailmigApp, out: Path) -> None:
    """After the copy: the tree with the target's counts, a filter, and an open folder."""
    await pilot.press("escape")  # the report
    screen = app.screen
    assert isinstance(screen, MainScreen)
    listing = screen.pane("source").folder_list
    await wait_for(
        pilot,
        lambda: (
            listing.target_counts.get("INBOX") is not None
            and listing.target_counts["INBOX"].messages is not None
        ),
        "the target's counts after the copy",
    )
    listing.focus()
    listing.select_name("Projekte")
    await pilot.press("minus")
    await settle(pilot)
    save(app, out, "compare")
    await pilot.press("plus", "slash", *"arch")
    await settle(pilot)
    save(app, out, "filter")
    await pilot.press("escape")
    listing.select_name("Sent")
    await pilot.press("enter")
    await wait_for(pilot, lambda: "on the target" in screen.on_target_text(), "the lookup")
    await settle(pilot)
    save(app, out, "on-target")


async def history(pilot: Pilot[Any], app: MailmigApp, out: Path) -> None:
    """The runs between these two accounts, the copy above among them."""
    await pilot.press("l")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history")
    await settle(pilot)
    save(app, out, "history")
    await pilot.press("escape")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="directory for the SVGs")
    parser.add_argument("--size", default="100x30", help="terminal size COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mailmig-shots-") as tmp:
        for name in ("CONFIG", "STATE", "LOG"):  # the saved map and the log stay in here
            os.environ[f"MAILMIG_{name}_DIR"] = os.path.join(tmp, name.lower())
        write_demo_maildirs(Path(tmp))
        asyncio.run(shoot(Path(tmp), out, (cols, rows)))


if __name__ == "__main__":
    main()
