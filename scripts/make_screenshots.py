"""Export the README screenshots (SVG) from the real app, driven by Pilot over the demo data.

    python scripts/make_screenshots.py [--out screenshots] [--size 100x30]

Writes main.svg (both folder trees), messages.svg (an open folder with marks) and
preview.svg (a message with an attachment). The folder map, a transfer in progress and the
final report come with the transfer screens; their steps are stubs below until then.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from textual.pilot import Pilot

from mailmig_tui.model import AccountSpec
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.demo_data import write_demo_maildirs
from mailmig_tui.tui.screens.main import MainScreen
from mailmig_tui.tui.screens.preview import PreviewScreen
from mailmig_tui.tui.session import AccountSession


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
        await pilot.press("escape")

        # Placeholders for the transfer screens (a later step):
        # save(app, out, "folder-map")      - the source -> target folder mapping, editable
        # save(app, out, "transfer")        - a copy in progress, per-folder bars, no clock ETA
        # save(app, out, "report")          - the final report: copied / present / too large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="directory for the SVGs")
    parser.add_argument("--size", default="100x30", help="terminal size COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mailmig-shots-") as tmp:
        write_demo_maildirs(Path(tmp))
        asyncio.run(shoot(Path(tmp), out, (cols, rows)))


if __name__ == "__main__":
    main()
