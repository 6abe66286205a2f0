#!/usr/bin/env python3
"""Big-folder benchmark: one 100,000-message folder, the paths an admin waits on.

    python3 bench/big_folder.py [--messages 100000] [--rtt-ms 0 50] [--out FILE]

Writes a generated Maildir straight to disk (not timed) and measures it; then writes the
same messages into a throw-away Dovecot user's Maildir on disk (fast; Dovecot indexes it on
a warm-up login, not timed: a real server's index is warm) and measures that over IMAP, at
each round trip given (bench/delay_proxy.py in front of Dovecot for rtt > 0). Each
measurement runs in a fresh process: `mailmig ls --limit 5`, a plan (`mailmig copy
--dry-run` into an empty account of the same kind), a header search and a text search (as
the TUI runs them: `engine.split_search`, which cuts an IMAP text search into UID ranges
searched at once on the store's connection and a helper it logs in, login timed too;
folder already listed), the TUI's Enter-to-first-rows with its peak RSS
(Textual's headless Pilot), and writing the `mailmig demo` mailbox. Wall seconds; RSS is the
TUI process's own high-water mark (VmHWM: on Linux a child's `ru_maxrss` starts from the
size of the process that spawned it, here this bench holding 100,000 messages' worth).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import DelayProxy
from tests.support.dovecot import DovecotServer, _mail_owner

REPO = Path(__file__).resolve().parent.parent
NAMES = ["Grace Hopper <grace@example.org>", "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@example.de>",
         "IT-Service <it@example.com>", "Linda Chen <linda@example.net>"]  # fmt: skip


def write_maildir(root: Path, count: int, seed: int = 7) -> None:
    """Courier-style names (",S=" only, so sizes need reading); mtime = arrival."""
    rng = random.Random(seed)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    when = datetime(2015, 1, 1, tzinfo=UTC)
    for n in range(count):
        when += timedelta(seconds=rng.randint(60, 5000))
        lines = "\n".join(
            f"line {i} of message {n}: the text goes on" for i in range(rng.randint(5, 80))
        )
        data = (
            f"Received: from mx.example.org by mail.example.com; {format_datetime(when)}\n"
            f"Message-ID: <big-{n}@example.com>\nDate: {format_datetime(when)}\n"
            f"From: {rng.choice(NAMES)}\nTo: Anna <anna@example.com>\n"
            f"Subject: Report {n} about topic {rng.randint(1, 500)}\nMIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{lines}\n"
        ).encode()
        path = root / "cur" / f"{int(when.timestamp())}.M{n}P1.bench,S={len(data)}:2,S"
        path.write_bytes(data)
        os.utime(path, (when.timestamp(), when.timestamp()))


SEARCHES = {  # row -> (query, helper connections)
    "search-header": ("SearchQuery(subject='topic 349')", 1),
    "search-text": ("SearchQuery(text='zzqx nowhere')", 1),
    "search-text-single": ("SearchQuery(text='zzqx nowhere')", 0),
}
STORE = """
import json, sys, time
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.open import open_store
from mailmig_tui.engine.split_search import split_search
d = json.loads(sys.argv[1]); d["security"] = Security(d.get("security", "tls"))
spec = AccountSpec(**d)
helper = lambda: open_store(spec, role="source", readonly=True)
with open_store(spec, role="source", readonly=True) as s:
    uids = s.uids("INBOX")
    t = time.monotonic()
    split_search(s, "INBOX", QUERY, helpers=[helper] * HELPERS, uids=uids)  # as the TUI does
    print(time.monotonic() - t)
"""
TUI = """
import asyncio, json, os, resource, sys, time
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
def spec(text):
    d = json.loads(text); d["security"] = Security(d.get("security", "tls"))
    return AccountSpec(**d)
async def main():
    src = AccountSession(spec(sys.argv[1]), "source")
    dst = AccountSession(spec(sys.argv[2]), "target")
    src.password = os.environ.get("MAILMIG_SOURCE_PASSWORD")
    dst.password = os.environ.get("MAILMIG_TARGET_PASSWORD")
    app = MailmigApp(src, dst)
    async with app.run_test() as pilot:
        while not hasattr(app.screen, "pane") or not app.screen.pane("source").connected:
            await pilot.pause(0.02)
        pane = app.screen.pane("source")
        pane.folder_list.focus()
        pane.folder_list.cursor = [f.name for f in pane.folder_list.folders].index("INBOX")
        started = time.monotonic()
        await pilot.press("enter")
        ml = pane.message_list
        while not (ml.view and ml.view[0] in ml.cache):
            await pilot.pause(0.01)
        print(f"{time.monotonic() - started:.2f}")
asyncio.run(main())
try:  # this process's own peak: ru_maxrss also counts the parent's size when it was spawned
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    print(int(hwm.split()[1]) // 1024)
except (OSError, StopIteration):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
ROWS = [
    ("ls", "`mailmig ls … --limit 5`, first time", "< 1 s"),
    ("ls-again", "`mailmig ls … --limit 5` again (Maildir: the state dir's index)", "< 1 s"),
    ("plan", "planning a copy (`copy --dry-run`, whole process)", "< 3 s"),
    ("search-header", "a search (subject, folder already listed)", "< 2 s"),
    (
        "search-text",
        "a search (whole text, folder already listed; IMAP: in 2 parts at once)",
        "< 2 s",
    ),
    ("search-text-single", "the same text search on one connection (as before)", ""),
    ("open", "Enter to the first rows in the TUI", "< 1 s"),
    ("rss", "peak RSS of the TUI with the list open", "< 150 MB"),
]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and the child's peak RSS in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    wall = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) // 1024


def child_seconds(argv: list[str], env: dict[str, str]) -> float:
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True, cwd=REPO)
    return float(out.stdout.split()[-1])


def measure(source: dict[str, object], target: dict[str, object], source_url: str,
            target_url: str, env: dict[str, str]) -> dict[str, str]:  # fmt: skip
    """One column: every row for one source account (and an empty target of its kind)."""
    py = sys.executable
    got: dict[str, str] = {}
    wall, _ = timed([py, "-m", "mailmig_tui", "ls", source_url, "INBOX", "--limit", "5"], env)
    got["ls"] = f"{wall:.2f} s"
    wall, _ = timed([py, "-m", "mailmig_tui", "ls", source_url, "INBOX", "--limit", "5"], env)
    got["ls-again"] = f"{wall:.2f} s"
    wall, _ = timed([py, "-m", "mailmig_tui", "copy", source_url, target_url, "--dry-run"], env)
    got["plan"] = f"{wall:.2f} s"
    for name, (query, helpers) in SEARCHES.items():
        code = STORE.replace("QUERY", query).replace("HELPERS", str(helpers))
        got[name] = f"{child_seconds([py, '-c', code, json.dumps(source)], env):.2f} s"
    # The TUI reports its own peak RSS: RUSAGE_CHILDREN would give the largest child so far.
    argv = [py, "-c", TUI, json.dumps(source), json.dumps(target)]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True, cwd=REPO)
    opened, rss = out.stdout.split()[-2:]
    got["open"] = f"{float(opened):.2f} s"
    got["rss"] = f"{rss} MB"
    return got


def seed_dovecot(server: DovecotServer, user: str, count: int) -> None:
    """Messages straight into the user's Maildir on disk, then one login that lets Dovecot
    build its index and cache (sizes, dates, the headers the list shows)."""
    maildir = server.maildir(user)
    write_maildir(maildir, count)
    uid, gid = _mail_owner()
    for path in [server.root / "mail" / user, maildir, *maildir.rglob("*")]:
        os.chown(path, uid, gid)
    client = server.client(user)
    try:
        client.select_folder("INBOX", readonly=True)
        client.sort(["REVERSE", "ARRIVAL"])
        imap = client._imap
        for items in ("(INTERNALDATE RFC822.SIZE FLAGS)",
                      "(BODY.PEEK[HEADER.FIELDS (DATE FROM TO SUBJECT MESSAGE-ID)])"):  # fmt: skip
            typ, _data = imap.uid("FETCH", "1:*", items)
            imap.untagged_responses.clear()
            assert typ == "OK", typ
    finally:
        client.logout()


def imap_columns(
    count: int, rtts: list[float], env: dict[str, str], work: Path
) -> dict[str, dict[str, str]]:
    server = DovecotServer(shape="courier").start()
    columns: dict[str, dict[str, str]] = {}
    try:
        user, empty = server.new_user(), server.new_user()
        print(f"writing {count:,} messages into Dovecot's Maildir …", file=sys.stderr)
        seed_dovecot(server, user, count)
        server.client(empty).logout()
        env = dict(env, MAILMIG_SOURCE_PASSWORD=server.password(user),
                   MAILMIG_TARGET_PASSWORD=server.password(empty))  # fmt: skip
        for rtt in rtts:
            proxy = DelayProxy(rtt, [server], work / "proxy.log") if rtt else None
            port = proxy.port(server) if proxy else server.imap_port
            try:

                def spec(name: str, port: int = port) -> dict[str, object]:
                    return {"kind": "imap", "host": "127.0.0.1", "port": port, "user": name,
                            "security": "plain"}  # fmt: skip

                print(f"measuring IMAP at {rtt:g} ms …", file=sys.stderr)
                columns[f"IMAP, {rtt:g} ms"] = measure(
                    spec(user), spec(empty),
                    f"imap+plain://{user}@127.0.0.1:{port}",
                    f"imap+plain://{empty}@127.0.0.1:{port}", env,
                )  # fmt: skip
            finally:
                if proxy:
                    proxy.stop()
    finally:
        server.cleanup()
    return columns


def demo_seconds(env: dict[str, str]) -> float:
    code = ("import time, tempfile, pathlib;"
            "from mailmig_tui.tui.demo_data import write_demo_maildirs;"
            "t = time.monotonic(); write_demo_maildirs(pathlib.Path(tempfile.mkdtemp()));"
            "print(time.monotonic() - t)")  # fmt: skip
    return child_seconds([sys.executable, "-c", code], env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rtt-ms", type=float, nargs="*", default=[0, 50])
    parser.add_argument("--no-maildir", action="store_true", help="IMAP columns only")
    parser.add_argument("--out", default=str(REPO / "bench/results/big-folder.md"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mailmig-big-"))
    env = dict(os.environ)
    for name in ("state", "config", "log"):
        env[f"MAILMIG_{name.upper()}_DIR"] = str(work / name)
    columns: dict[str, dict[str, str]] = {}
    if not args.no_maildir:
        source, target = work / "source", work / "target"
        print(f"writing {args.messages:,} messages to {source} …", file=sys.stderr)
        write_maildir(source, args.messages)
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True)
        columns["Maildir"] = measure(
            {"kind": "maildir", "path": str(source)}, {"kind": "maildir", "path": str(target)},
            f"maildir://{source}", f"maildir://{target}", env,
        )  # fmt: skip
    if args.rtt_ms:
        columns.update(imap_columns(args.messages, args.rtt_ms, env, work))
    names = list(columns)
    table = [f"| what ({args.messages:,} messages) | " + " | ".join(names) + " | goal |",
             "| --- | " + " | ".join("---" for _ in names) + " | --- |"]  # fmt: skip
    for key, label, goal in ROWS:
        table.append(f"| {label} | " + " | ".join(columns[n][key] for n in names) + f" | {goal} |")
    demo = (
        "`mailmig demo`: writing its mailbox (progress shown in the TUI): "
        f"{demo_seconds(env):.2f} s (goal < 2 s)"
    )
    text = "\n".join(table)
    print(text + "\n\n" + demo)
    rtts = " ".join(f"{r:g}" for r in args.rtt_ms)
    Path(args.out).write_text(
        f"# Big folder: {args.messages:,} messages in one INBOX\n\n"
        f"`python3 bench/big_folder.py --messages {args.messages} --rtt-ms {rtts}` on "
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores shared with other work. "
        "IMAP: Dovecot on loopback, the round trip added by bench/delay_proxy.py.\n\n"
        + text + "\n\n" + demo + "\n"
    )  # fmt: skip
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
