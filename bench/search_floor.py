#!/usr/bin/env python3
"""The floor under a whole-text IMAP search of a big Dovecot folder: what any client can get.

    python3 bench/search_floor.py serve --dir /tmp/floor [--messages 100000]
    python3 bench/search_floor.py measure --dir /tmp/floor [--rounds 5]

`serve` starts a Dovecot as bench/big_folder.py does (shape "courier", no FTS), seeds one
user's INBOX with the same generated folder, warms it up (login, SELECT, the bench's
fetches) and keeps running until killed; it writes `state.json` into --dir. `measure` then
times, alternating the variants each round, medians over the rounds:

- raw: a logged-in, SELECTed connection of plain bytes (no imapclient) sending
  `UID SEARCH TEXT "zzqx nowhere"` (the bench's text query), send to tagged OK;
- raw split into 2, 3, 4 UID ranges sent at once on as many pre-logged-in connections;
- the same with BODY instead of TEXT (one connection);
- the same on "warm" connections (see WARM);
- the login + SELECT of one raw connection (what a helper costs before its search);
- `doveadm search` with the server's config (no IMAP, no network);
- split_search as bench/big_folder.py runs it (helpers' logins timed) with 2, 1, 0 helpers,
  and with 2, 1 helpers logged in and warm beforehand (the store's own connection warm too).

For the raw rows also the CPU seconds the server's processes spent (utime+stime of every
process in the Dovecot's session, /proc) against wall seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
TERM = b'"zzqx nowhere"'
TICKS = os.sysconf("SC_CLK_TCK")
WARM = b"UID SEARCH UID 1:10 TEXT zzqx"
"""After each SELECT, Dovecot's first read of a message file of a 100k Maildir costs it
0.15-0.2 s of CPU (the maildir's uidlist and file names); a "warm" connection has paid it."""


def serve(directory: Path, count: int) -> None:
    from bench.big_folder import seed_dovecot
    from tests.support.dovecot import DovecotServer

    # SIGTERM ends the server and removes its files (the finally below), as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    root = directory / "dovecot"
    root.mkdir(parents=True)
    server = DovecotServer(shape="courier", root=root).start()
    try:
        user = server.new_user()
        t = time.monotonic()
        seed_dovecot(server, user, count)
        print(f"seeded {count:,} in {time.monotonic() - t:.1f} s", file=sys.stderr)
        assert server.process is not None
        state = {"port": server.imap_port, "user": user, "password": server.password(user),
                 "config": str(root / "dovecot.conf"), "sid": server.process.pid,
                 "count": count}  # fmt: skip
        (directory / "state.json").write_text(json.dumps(state))
        print("ready", file=sys.stderr, flush=True)
        server.process.wait()
    finally:
        server.cleanup()


class Raw:
    """One IMAP connection of plain bytes: LOGIN, EXAMINE, then tagged commands."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.tag = 0
        self.line()  # greeting
        self.command(f'LOGIN {user} "{password}"'.encode())
        self.command(b"EXAMINE INBOX")

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, command: bytes) -> bytes:
        self.tag += 1
        tag = b"t%d" % self.tag
        self.sock.sendall(tag + b" " + command + b"\r\n")
        return tag

    def wait(self, tag: bytes) -> list[bytes]:
        lines: list[bytes] = []
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(line.decode())
                return lines
            lines.append(line)

    def command(self, command: bytes) -> list[bytes]:
        return self.wait(self.send(command))

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self.command(b"LOGOUT")
        self.sock.close()


def server_cpu(sid: int) -> float:
    """CPU seconds of every live process in the Dovecot's session (its imap processes)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != sid:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ProcessLookupError, ValueError):
            continue
    return total / TICKS


def uid_ranges(count: int, parts: int) -> list[bytes]:
    """The seeded folder's UIDs are 1..count: `parts` ranges, the last open-ended."""
    size = -(-count // parts)
    starts = list(range(1, count + 1, size))
    ranges = [b"%d:%d" % (a, b - 1) for a, b in itertools.pairwise(starts)]
    return [*ranges, b"%d:*" % starts[-1]]


def raw_search(
    conns: list[Raw], sid: int, count: int, key: bytes, term: bytes = TERM
) -> tuple[float, float]:
    """Wall and server CPU seconds of one search cut over `conns` (all sent, then read)."""
    ranges = uid_ranges(count, len(conns)) if len(conns) > 1 else [b""]
    cpu0 = server_cpu(sid)
    t = time.monotonic()
    tags = []
    for conn, uid_set in zip(conns, ranges, strict=True):
        criteria = (b"UID " + uid_set + b" " if uid_set else b"") + key + b" " + term
        tags.append(conn.send(b"UID SEARCH " + criteria))
    answers: list[list[bytes]] = [[] for _ in conns]

    def read(i: int) -> None:
        answers[i] = conns[i].wait(tags[i])

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(conns))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t
    cpu = server_cpu(sid) - cpu0  # the processes are alive still: their CPU is all counted
    for lines in answers:
        assert any(line.startswith(b"* SEARCH") for line in lines), lines
    return wall, cpu


QUERY = "SearchQuery(text='zzqx nowhere')"
"""The bench's text query, as bench/big_folder.py's STORE script spells it."""
LENT = """
import contextlib, json, sys, time
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.open import open_store
from mailmig_tui.engine.split_search import split_search
d = json.loads(sys.argv[1]); d["security"] = Security(d.get("security", "tls"))
spec = AccountSpec(**d)
with contextlib.ExitStack() as stack:
    s = stack.enter_context(open_store(spec, role="source", readonly=True))
    uids = s.uids("INBOX")
    t = time.monotonic()
    others = [stack.enter_context(open_store(spec, role="source", readonly=True))
              for _ in range(HELPERS)]
    for o in [s, *others]:  # SELECTed, and a first message file read (see WARM)
        o.search_within("INBOX", SearchQuery(text="zzqx"), "1:10")
    opened = time.monotonic() - t
    t = time.monotonic()
    split_search(s, "INBOX", SearchQuery(text='zzqx nowhere'),
                 helpers=[lambda o=o: contextlib.nullcontext(o) for o in others], uids=uids)
    print(opened, time.monotonic() - t)
"""


def measure(directory: Path, rounds: int, parts_list: list[int], short: bool) -> None:
    from bench.big_folder import STORE  # the script the big-folder bench times, as is

    st = json.loads((directory / "state.json").read_text())
    port, user, pw, sid, count = st["port"], st["user"], st["password"], st["sid"], st["count"]
    results: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    env = dict(os.environ, MAILMIG_SOURCE_PASSWORD=pw)
    spec = json.dumps({"kind": "imap", "host": "127.0.0.1", "port": port, "user": user,
                       "security": "plain"})  # fmt: skip
    for r in range(rounds):
        load = os.getloadavg()[0]
        note("load (1 min)", load)
        for parts in parts_list:
            conns = [Raw(port, user, pw) for _ in range(parts)]
            wall, cpu = raw_search(conns, sid, count, b"TEXT")
            note(f"raw TEXT, {parts} conn wall", wall)
            note(f"raw TEXT, {parts} conn server CPU", cpu)
            for c in conns:
                c.close()
            conns = [Raw(port, user, pw) for _ in range(parts)]
            for c in conns:
                c.command(WARM)
            wall, cpu = raw_search(conns, sid, count, b"TEXT")
            note(f"raw TEXT, {parts} conn warm wall", wall)
            note(f"raw TEXT, {parts} conn warm server CPU", cpu)
            for c in conns:
                c.close()
        for key, term in () if short else ((b"BODY", TERM), (b"TEXT", b"zzqx")):
            conn = Raw(port, user, pw)
            wall, cpu = raw_search([conn], sid, count, key, term)
            note(f"raw {key.decode()} {term.decode()}, 1 conn wall", wall)
            note(f"raw {key.decode()} {term.decode()}, 1 conn server CPU", cpu)
            conn.close()
        t = time.monotonic()
        conn = Raw(port, user, pw)
        note("raw connect+LOGIN+EXAMINE", time.monotonic() - t)
        conn.close()
        if not short:
            t = time.monotonic()
            doveadm = ["doveadm", "-c", st["config"], "search", "-u", user]
            doveadm += ["mailbox", "INBOX", "text", "zzqx nowhere"]
            out = subprocess.run(doveadm, capture_output=True, text=True, check=False)
            note("doveadm search text (process)", time.monotonic() - t)
            if out.returncode != 0:
                print("doveadm:", out.stderr.strip(), file=sys.stderr)
        for helpers in (2, 1) if short else (2, 1, 0):
            code = STORE.replace("QUERY", QUERY).replace("HELPERS", str(helpers))
            out = subprocess.run([sys.executable, "-c", code, spec], env=env, cwd=REPO,
                                 capture_output=True, text=True, check=True)  # fmt: skip
            note(f"split_search, {helpers} helpers (bench row)", float(out.stdout.split()[-1]))
        for helpers in (2, 1):
            code = LENT.replace("HELPERS", str(helpers))
            out = subprocess.run([sys.executable, "-c", code, spec], env=env, cwd=REPO,
                                 capture_output=True, text=True, check=True)  # fmt: skip
            opened, searched = map(float, out.stdout.split()[-2:])
            note(f"split_search, {helpers} helpers already open and warm: search", searched)
            note(f"  (opening + warming those {helpers} helpers and the own store)", opened)
        print(f"round {r + 1}: load {load:.2f}", file=sys.stderr, flush=True)
    print(f"| what ({count:,} messages, {rounds} rounds) | median | min | max |")
    print("| --- | --- | --- | --- |")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | "
              f"{max(values):.3f} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["serve", "measure"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parts", type=int, nargs="*", default=[1, 2, 3, 4])
    parser.add_argument("--short", action="store_true", help="the split rows only")
    args = parser.parse_args()
    if args.what == "serve":
        serve(args.dir, args.messages)
    else:
        measure(args.dir, args.rounds, args.parts, args.short)
    return 0


if __name__ == "__main__":
    sys.exit(main())
