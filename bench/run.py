#!/usr/bin/env python3
"""Throughput and memory benchmark: `mailmig copy` against mbsync and `doveadm backup` (imapc).

One command: starts two throw-away Dovecot servers on loopback (source and target), seeds the
source once with a deterministic corpus, then for every round runs each contender in a rotated
order against a fresh, empty target user, checks the result (messages and bytes per folder
equal the source's) and prints medians. See bench/README.md.

    python3 bench/run.py [--messages N] [--rounds R] [--only mailmig,mbsync,doveadm]
                         [--rtt-ms 0,50,100] [--shape inbox] [--target-caps CAPS]
                         [--out bench/results/NAME.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.corpus import SeedMessage, bench_corpus  # noqa: E402
from tests.support.dovecot import DovecotServer  # noqa: E402
from tests.support.seeding import seed_bulk  # noqa: E402

CONTENDERS = ("mailmig", "mailmig-no-verify", "mbsync", "doveadm")
REFERENCES = ("mbsync", "doveadm")
SEED = 1
SOURCE_USER = "user001"
BATCH_BYTES = 10_000_000
RUN_TIMEOUT = 4 * 3600
"""Seconds before a contender is killed; generous, it only guards against a hang."""
IMAPC_FEATURES = "rfc822.size fetch-headers"
"""What Dovecot's migration guide enables for imapc, with mail_prefetch_count = 20."""
IMAPC_PREFETCH = 20
APT_HINT = "apt-get install -y isync dovecot-core dovecot-imapd"
TOOL_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin"
IMAP_BINARY = "/usr/lib/dovecot/imap"
MBSYNC_TUID = len("X-TUID: ") + 12 + len("\r\n")
"""mbsync inserts an X-TUID header (12 characters) into every message it appends."""
SHAPES = ("default", "inbox")
INBOX_SHARE = 20
"""In the inbox shape, one message in INBOX_SHARE lives outside INBOX (95% in INBOX)."""
PROXY = Path(__file__).resolve().parent / "delay_proxy.py"

Counts = dict[str, tuple[int, int]]
"""Folder name -> (messages, bytes)."""


@dataclass
class Run:
    contender: str
    round: int
    wall: float
    """Seconds, process start to exit."""
    rss_kb: int
    """Peak resident set size of the process (and any children it reaped), in KiB."""


@dataclass
class Failure:
    contender: str
    round: int
    reason: str


# -- seeding and checking ------------------------------------------------------------------


def shaped(messages: Iterable[SeedMessage], shape: str) -> Iterator[SeedMessage]:
    """The corpus as it is ("default", about half in INBOX) or with 95% in INBOX ("inbox").

    In the inbox shape every 20th message keeps a folder of its own (Archive where the
    corpus put it in INBOX), so the other folders still exist and are copied too.
    """
    for index, message in enumerate(messages):
        if shape == "default":
            yield message
        elif index % INBOX_SHARE == INBOX_SHARE - 1:
            folder = ("Archive",) if message.folder == ("INBOX",) else message.folder
            yield replace(message, folder=folder)
        else:
            yield replace(message, folder=("INBOX",))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DelayProxy:
    """bench/delay_proxy.py in front of both servers, adding `rtt_ms` to every round trip."""

    def __init__(self, rtt_ms: float, servers: list[DovecotServer], log: Path) -> None:
        self.ports = {id(server): free_port() for server in servers}
        routes = [f"{self.ports[id(s)]}:127.0.0.1:{s.imap_port}" for s in servers]
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(PROXY), "--rtt-ms", str(rtt_ms), *routes],
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != b"ready":
            self.stop()
            raise RuntimeError(f"the delay proxy did not start; see {log}")

    def port(self, server: DovecotServer) -> int:
        return self.ports[id(server)]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def seed_source(server: DovecotServer, user: str, messages: Iterable[SeedMessage]) -> None:
    """MULTIAPPEND in batches per folder: far faster than one APPEND per message."""
    seed_bulk(server, user, messages, batch_bytes=BATCH_BYTES)


def mailbox_counts(server: DovecotServer, user: str) -> Counts:
    """Messages and bytes of every selectable folder, from STATUS (MESSAGES SIZE)."""
    client = server.client(user)
    try:
        result: Counts = {}
        for flags, _delim, name in client.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            status = client.folder_status(name, [b"MESSAGES", b"SIZE"])
            result[str(name)] = (int(status[b"MESSAGES"]), int(status[b"SIZE"]))
        return result
    finally:
        client.logout()


def size_sequences(server: DovecotServer, user: str) -> dict[str, list[int]]:
    """Every folder's message sizes in UID order: equal lists on source and target mean
    the copy kept each folder's order (target UIDs ascend in source order)."""
    client = server.client(user)
    try:
        result: dict[str, list[int]] = {}
        for flags, _delim, name in client.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            client.select_folder(name, readonly=True)
            uids = sorted(client.search(["ALL"]))
            sizes: dict[int, int] = {}
            for start in range(0, len(uids), 1000):
                answer = client.fetch(uids[start : start + 1000], ["RFC822.SIZE"])
                sizes.update((uid, int(data[b"RFC822.SIZE"])) for uid, data in answer.items())
            result[str(name)] = [sizes[uid] for uid in uids]
        return result
    finally:
        client.logout()


def order_problem(source: dict[str, list[int]], target: dict[str, list[int]]) -> str | None:
    """None when every source folder's messages are on the target in the same order."""
    for folder, sizes in sorted(source.items()):
        if target.get(folder) != sizes:
            return f"{folder}: order not kept (sizes in UID order differ)"
    return None


def compare(source: Counts, target: Counts, extra: int = 0) -> str | None:
    """None when every source folder is on the target with equal counts; else why not.

    `extra` is the number of bytes a contender adds to each message on purpose.
    """
    problems = []
    for folder, (messages, source_size) in sorted(source.items()):
        got = target.get(folder)
        size = source_size + extra * messages
        if got is None:
            problems.append(f"{folder}: missing")
        elif got != (messages, size):
            problems.append(f"{folder}: {got[0]} msgs/{got[1]} B, want {messages}/{size}")
    for folder, (messages, _size) in sorted(target.items()):
        if folder not in source and messages:
            problems.append(f"{folder}: {messages} unexpected messages")
    return "; ".join(problems) or None


# -- running one process -------------------------------------------------------------------


LAUNCHER = """\
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""
"""Runs argv as its own child and writes "wall maxrss_kib exit_code" to the file argv[1].

Why not wait4 the contender from this process: on Linux a child's ru_maxrss starts at the
high-water RSS of the memory image it was forked from (execve keeps that figure), so every
child of a big Python process would report at least the benchmark's own RSS. Forked from this
small launcher instead, the floor is the launcher's few MB (measured and reported as the
floor). wait4 covers the contender and every descendant it reaped.
"""


def measure(argv: list[str], env: dict[str, str], log: Path) -> tuple[float, int, int]:
    """Run argv (no shell) and return (wall seconds, peak RSS KiB, exit code)."""
    result = log.with_suffix(".measure")
    result.unlink(missing_ok=True)
    with log.open("ab") as out:
        out.write(("$ " + " ".join(argv) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-I", "-c", LAUNCHER, str(result), *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    try:
        wall, rss, code = result.read_text().split()
    except (OSError, ValueError):
        return 0.0, 0, proc.returncode or -1
    return float(wall), int(rss), int(code)


def tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join("    " + line for line in text[-lines:])


# -- contenders ----------------------------------------------------------------------------


@dataclass
class Bench:
    source: DovecotServer
    target: DovecotServer
    work: Path
    messages: int
    source_counts: Counts
    keep: bool = False
    rss_floor_kb: int = 0
    """What the launcher reports for /bin/true: no contender can report less."""
    runs: list[Run] = field(default_factory=list)
    reruns: list[Run] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)
    """One command line per contender, for the report."""
    configs: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[int, str, str, str]] = field(default_factory=list)
    """Every run in the order it ran: round, contender, wall, peak RSS (as text)."""
    proxy: DelayProxy | None = None
    """With --rtt-ms: every contender reaches the servers through it."""
    rtt_ms: float | None = None
    mailmig_args: list[str] = field(default_factory=list)
    source_order: dict[str, list[int]] | None = None
    """The source folders' message sizes in UID order (read once, for the order check)."""

    def port(self, server: DovecotServer) -> int:
        return server.imap_port if self.proxy is None else self.proxy.port(server)

    def url(self, server: DovecotServer, user: str) -> str:
        return f"imap+plain://{user}@127.0.0.1:{self.port(server)}"

    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in ("MAILMIG_SOURCE_PASSWORD", "MAILMIG_TARGET_PASSWORD"):
            env.pop(key, None)
        return env

    def record(
        self, name: str, argv: list[str], env: dict[str, str], run_dir: Path, user: str
    ) -> None:
        """Keep the first command line (with its own environment variables) and generated
        config file of each contender for the report, passwords masked."""
        if name in self.commands:
            return
        secrets = [self.source.password(SOURCE_USER), self.target.password(user)]

        def clean(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return text.replace(str(self.work), "$WORK")

        own = [f"{key}={value}" for key, value in env.items() if key.startswith("MAILMIG_")]
        self.commands[name] = clean(" ".join(own + argv))
        for config in sorted(run_dir.glob("*rc")) + sorted(run_dir.glob("*.conf")):
            self.configs[f"{name}: {config.name}"] = clean(config.read_text())

    # Each returns argv and env for copying SOURCE_USER into a fresh target `user`.

    def mailmig(self, run_dir: Path, user: str) -> tuple[list[str], dict[str, str]]:
        env = self.base_env()
        env["MAILMIG_SOURCE_PASSWORD"] = self.source.password(SOURCE_USER)
        env["MAILMIG_TARGET_PASSWORD"] = self.target.password(user)
        # A fresh state directory per round: the journal lives there.
        for kind in ("STATE", "CONFIG", "LOG"):
            path = run_dir / f"mailmig-{kind.lower()}"
            path.mkdir(exist_ok=True)
            env[f"MAILMIG_{kind}_DIR"] = str(path)
        argv = [
            sys.executable,
            "-m",
            "mailmig_tui",
            "copy",
            self.url(self.source, SOURCE_USER),
            self.url(self.target, user),
            "--report",
            str(run_dir / "report.json"),
            *self.mailmig_args,
        ]
        return argv, env

    def mailmig_no_verify(self, run_dir: Path, user: str) -> tuple[list[str], dict[str, str]]:
        """The copy alone, without the check that follows it by default: what the reference
        tools do, which check nothing."""
        argv, env = self.mailmig(run_dir, user)
        return [*argv, "--no-verify"], env

    def mbsync(self, run_dir: Path, user: str) -> tuple[list[str], dict[str, str]]:
        state = run_dir / "mbsync-state"
        state.mkdir()
        # Far = source, Near = target: "Sync Pull" propagates far -> near only.
        lines = []
        for label, server, login in (
            ("source", self.source, SOURCE_USER),
            ("target", self.target, user),
        ):
            lines += [
                f"IMAPAccount {label}",
                "Host 127.0.0.1",
                f"Port {self.port(server)}",
                f"User {login}",
                f'Pass "{server.password(login)}"',
                "SSLType None",
                # LOGIN must be named explicitly to be used without TLS.
                "AuthMechs LOGIN",
                "",
                f"IMAPStore {label}-store",
                f"Account {label}",
                "",
            ]
        lines += [
            "Channel copy",
            "Far :source-store:",
            "Near :target-store:",
            "Patterns *",
            "Create Near",
            "Sync Pull",
            "Expunge None",
            "Remove None",
            # Keep INTERNALDATE, as mailmig and dsync do.
            "CopyArrivalDate yes",
            f"SyncState {state}/",
            "",
        ]
        rc = run_dir / "mbsyncrc"
        rc.touch(mode=0o600)
        rc.write_text("\n".join(lines))
        return ["mbsync", "-c", str(rc), "copy"], self.base_env()

    def doveadm(self, run_dir: Path, user: str) -> tuple[list[str], dict[str, str]]:
        # The target server's own config plus the imapc settings of Dovecot's migration
        # guide; the password stays in a 0600 file, off the command line.
        conf = run_dir / "doveadm-imapc.conf"
        conf.touch(mode=0o600)
        conf.write_text(
            f"!include {self.target.root / 'dovecot.conf'}\n"
            "imapc_host = 127.0.0.1\n"
            f"imapc_port = {self.port(self.source)}\n"
            f"imapc_user = {SOURCE_USER}\n"
            f"imapc_password = {self.source.password(SOURCE_USER)}\n"
            f"imapc_features = {IMAPC_FEATURES}\n"
            "imapc_ssl = no\n"
            f"mail_prefetch_count = {IMAPC_PREFETCH}\n"
        )
        argv = ["doveadm", "-c", str(conf), "backup", "-R", "-u", user, "imapc:"]
        return argv, self.base_env()

    def builders(
        self,
    ) -> dict[str, Callable[[Path, str], tuple[list[str], dict[str, str]]]]:
        return {
            "mailmig": self.mailmig,
            "mailmig-no-verify": self.mailmig_no_verify,
            "mbsync": self.mbsync,
            "doveadm": self.doveadm,
        }

    def run_one(self, name: str, round_no: int) -> None:
        user = self.target.new_user()
        rtt = "" if self.rtt_ms is None else f"rtt{self.rtt_ms:g}-"
        run_dir = self.work / f"{rtt}round{round_no}-{name}"
        run_dir.mkdir()
        argv, env = self.builders()[name](run_dir, user)
        self.record(name, argv, env, run_dir, user)
        extra = MBSYNC_TUID if name == "mbsync" else 0
        copied = self.timed(name, round_no, argv, env, run_dir, user, self.messages, extra)
        if copied is not None and name == "mailmig":
            # The same copy again, same journal and target: nothing is left to copy.
            rerun = self.timed("mailmig re-run", round_no, argv, env, run_dir, user, 0, 0)
            if rerun is not None:
                self.reruns.append(rerun)
        if copied is not None:
            self.runs.append(copied)
        if not self.keep:
            # The user is never used again: free its disk space for the next runs.
            shutil.rmtree(self.target.root / "mail" / user, ignore_errors=True)

    def timed(
        self,
        name: str,
        round_no: int,
        argv: list[str],
        env: dict[str, str],
        run_dir: Path,
        user: str,
        expect_copied: int,
        extra: int,
    ) -> Run | None:
        """One measured run and its checks; a Run, or None after recording the failure."""
        log = run_dir / "output.log"
        report = run_dir / "report.json"
        report.unlink(missing_ok=True)
        wall, rss, code = measure(argv, env, log)
        problem = None if code == 0 else f"exit status {code}"
        if problem is None and name.startswith("mailmig"):
            problem = check_report(report, expect_copied)
        if problem is None:
            problem = compare(self.source_counts, mailbox_counts(self.target, user), extra)
        if problem is None and name.startswith("mailmig"):
            if self.source_order is None:
                self.source_order = size_sequences(self.source, SOURCE_USER)
            problem = order_problem(self.source_order, size_sequences(self.target, user))
        label = f"round {round_no} {name:15s}"
        if problem is not None:
            self.failures.append(Failure(name, round_no, problem))
            self.rows.append((round_no, name, f"FAILED: {problem}", ""))
            print(f"{label} FAILED: {problem}\n{tail(log)}", flush=True)
            return None
        self.rows.append((round_no, name, f"{wall:.2f}", f"{rss / 1024:.0f}"))
        print(f"{label} {wall:8.2f} s  {rss / 1024:7.1f} MB", flush=True)
        return Run(name, round_no, wall, rss)


def check_report(path: Path, expected: int) -> str | None:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return f"no readable report: {exc}"
    if report.get("failed"):
        return f"report: {report['failed']} failed"
    if report.get("copied") != expected:
        return f"report: copied {report.get('copied')}, want {expected}"
    verified = report.get("verify")
    if verified is not None and not verified.get("ok"):
        return f"report: verify found {len(verified.get('missing', []))} missing"
    return None


# -- machine and summary -------------------------------------------------------------------


def command_output(argv: list[str]) -> str:
    """The first line a command prints, "" when it prints nothing, "n/a" when it fails."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    try:
        mailmig = importlib.metadata.version("mailmig-tui")
    except importlib.metadata.PackageNotFoundError:
        mailmig = "not installed"
    if (REPO / ".git").exists():
        commit = command_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
        # Read-only: no index refresh, no lock.
        git_status = ["git", "--no-optional-locks", "-C", str(REPO), "status", "--porcelain"]
        dirty = command_output(git_status)
    else:  # a `git archive` export, as bench/README.md suggests for measuring a version
        commit, dirty = "(not a git checkout: see the command's directory)", ""
    return [
        ("date", dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("cpu", f"{cpu} ({len(os.sched_getaffinity(0))} usable of {os.cpu_count()})"),
        ("ram", ram),
        ("kernel", platform.release()),
        ("python", platform.python_version()),
        ("mailmig", f"{mailmig} at {commit}{' (uncommitted changes)' if dirty else ''}"),
        ("dovecot", command_output(["dovecot", "--version"])),
        ("isync", command_output(["mbsync", "--version"])),
    ]


def summary(bench: Bench, names: list[str], source_bytes: int) -> list[str]:
    """Markdown table of medians per contender plus the mailmig re-run."""
    median_wall = {
        name: statistics.median(r.wall for r in bench.runs if r.contender == name)
        for name in names
        if any(r.contender == name for r in bench.runs)
    }
    header = "| contender | runs | wall s (median) | msgs/s | MB/s | peak RSS MB (max) |"
    refs = [ref for ref in REFERENCES if ref in median_wall and "mailmig" in median_wall]
    header += "".join(f" mailmig/{ref} |" for ref in refs)
    rows = [header, "|" + " --- |" * (header.count("|") - 1)]
    for name, wall in median_wall.items():
        runs = [r for r in bench.runs if r.contender == name]
        rss = max(r.rss_kb for r in runs) / 1024
        row = (
            f"| {name} | {len(runs)} | {wall:.2f} | {bench.messages / wall:.0f} |"
            f" {source_bytes / 1e6 / wall:.1f} | {rss:.0f} |"
        )
        for ref in refs:
            row += (
                f" {median_wall[ref] / median_wall['mailmig']:.2f}x |"
                if name == "mailmig"
                else " |"
            )
        rows.append(row)
    lines = rows
    if bench.reruns:
        rerun = statistics.median(r.wall for r in bench.reruns)
        rss = max(r.rss_kb for r in bench.reruns) / 1024
        lines += [
            "",
            f"mailmig re-run over the copied mailbox (nothing to copy): {rerun:.2f} s median"
            f" of {len(bench.reruns)}, peak RSS {rss:.0f} MB.",
        ]
    if bench.failures:
        lines += ["", f"{len(bench.failures)} run(s) FAILED and are left out: see below."]
    lines += [
        "",
        "Ratios: mailmig's messages/s over the reference's (above 1 = mailmig faster)."
        f" Peak RSS is the largest of the rounds; the launcher's floor is"
        f" {bench.rss_floor_kb / 1024:.1f} MB.",
    ]
    return lines


def medians(bench: Bench) -> dict[str, float]:
    """Median messages/s per contender of one bench."""
    walls: dict[str, list[float]] = {}
    for run in bench.runs:
        walls.setdefault(run.contender, []).append(run.wall)
    return {name: bench.messages / statistics.median(w) for name, w in walls.items()}


def rtt_table(benches: list[Bench]) -> list[str]:
    """One row per round trip: msgs/s of each contender, mailmig's share of its own 0 ms rate,
    its ratio to each reference and its peak RSS."""
    rates = {bench.rtt_ms: medians(bench) for bench in benches}
    base = rates.get(0.0, {})
    names = [name for name in CONTENDERS if any(name in r for r in rates.values())]
    mine = [name for name in names if name.startswith("mailmig")]
    refs = [name for name in REFERENCES if name in names]
    header = "| round trip |" + "".join(f" {name} msgs/s |" for name in names)
    header += "".join(f" {name} / 0 ms |" for name in mine if base.get(name))
    header += "".join(f" {m} / {r} |" for m in mine for r in refs)
    header += " mailmig peak RSS MB |"
    rows = [header, "|" + " --- |" * (header.count("|") - 1)]
    for bench in benches:
        rate = rates[bench.rtt_ms]
        row = f"| {bench.rtt_ms:g} ms |"
        row += "".join(f" {rate[n]:.0f} |" if n in rate else " failed |" for n in names)
        for name in mine:
            if base.get(name):
                row += f" {rate[name] / base[name]:.0%} |" if name in rate else " |"
        for m in mine:
            for r in refs:
                row += f" {rate[m] / rate[r]:.2f}x |" if m in rate and r in rate else " |"
        rss = [run.rss_kb for run in bench.runs if run.contender.startswith("mailmig")]
        row += f" {max(rss) / 1024:.0f} |" if rss else " |"
        rows.append(row)
    return rows


def write_markdown(
    path: Path,
    benches: list[Bench],
    tables: list[list[str]],
    args: argparse.Namespace,
    seed_seconds: float,
    source_bytes: int,
) -> None:
    first = benches[0]
    out = [
        f"# mailmig benchmark: {first.messages} messages, {args.rounds} rounds",
        "",
        "Command: `python3 bench/run.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "## Machine",
        "",
    ]
    out += [f"- {key}: {value}" for key, value in machine()]
    folders = ", ".join(f"{f} {m}" for f, (m, _b) in sorted(first.source_counts.items()))
    out += [
        "",
        "## Corpus",
        "",
        f"bench_corpus({first.messages}, seed={SEED}), shape {args.shape}:"
        f" {source_bytes / 1e6:.1f} MB in {len(first.source_counts)} folders ({folders});"
        f" seeded in {seed_seconds:.0f} s (not timed).",
    ]
    if args.target_caps:
        out += ["", f"Target capabilities cut to: `{args.target_caps}`."]
    if args.rtt_ms:
        out += [
            "",
            "## By round trip (medians)",
            "",
            "Every contender reaches both servers through bench/delay_proxy.py, which delays"
            " each direction by half the round trip (0 ms: the proxy without delay). doveadm"
            " writes the target's store directly, so only its source link is delayed.",
            "",
            *rtt_table(benches),
        ]
    for bench, table in zip(benches, tables, strict=True):
        title = "## Results (medians)"
        if bench.rtt_ms is not None:
            title += f", round trip {bench.rtt_ms:g} ms"
        out += ["", title, "", *table]
    out += [
        "",
        "## Every run",
        "",
        "| round trip | round | contender | wall s | peak RSS MB |",
        "| --- | --- | --- | --- | --- |",
    ]
    for bench in benches:
        rtt = "-" if bench.rtt_ms is None else f"{bench.rtt_ms:g} ms"
        out += [f"| {rtt} | {r} | {name} | {wall} | {rss} |" for r, name, wall, rss in bench.rows]
    out += ["", "## Commands (first round; passwords masked)", ""]
    out += [f"- {name}: `{command}`" for name, command in first.commands.items()]
    for title, text in first.configs.items():
        out += ["", f"{title}:", "", "```", text.rstrip("\n"), "```"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=10_000, help="corpus size (10000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per contender (3)")
    parser.add_argument(
        "--only",
        default=",".join(CONTENDERS),
        help="comma-separated subset of " + "/".join(CONTENDERS),
    )
    parser.add_argument(
        "--rtt-ms",
        default="",
        help="round trips to add with our delay proxy, comma-separated (e.g. 0,50,100);"
        " each gets its own rounds; default: no proxy",
    )
    parser.add_argument("--shape", choices=SHAPES, default="default", help="inbox: 95%% in INBOX")
    parser.add_argument(
        "--target-caps",
        default="",
        help="replace the target's capability list (e.g. without LITERAL+ and MULTIAPPEND)",
    )
    parser.add_argument(
        "--mailmig-arg",
        action="append",
        default=[],
        help="an extra argument for mailmig copy (repeatable), e.g. --mailmig-arg=--connections=4",
    )
    parser.add_argument("--out", type=Path, help="Markdown result file (default: bench/results/)")
    parser.add_argument("--keep", action="store_true", help="keep servers' and runs' files")
    args = parser.parse_args(argv)
    args.names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.names) - set(CONTENDERS)
    if unknown or not args.names:
        parser.error(f"--only takes some of {', '.join(CONTENDERS)}")
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")
    try:
        args.rtts = [float(part) for part in args.rtt_ms.split(",") if part.strip()]
    except ValueError:
        parser.error("--rtt-ms takes milliseconds separated by commas, e.g. 0,50,100")
    if any(rtt < 0 for rtt in args.rtts):
        parser.error("--rtt-ms must not be negative")
    if args.out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        args.out = REPO / "bench" / "results" / f"{stamp}-{args.messages}msgs.md"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The servers need dovecot and its imap binary; the references need their tools.
    needed = ["dovecot", *(name for name in REFERENCES if name in args.names)]
    missing = [tool for tool in needed if not shutil.which(tool, path=TOOL_PATH)]
    if not Path(IMAP_BINARY).exists():
        missing.append(IMAP_BINARY)
    if missing:
        print(f"missing {', '.join(missing)}; install with: {APT_HINT}", file=sys.stderr)
        return 2
    if args.rounds * len(args.names) * max(1, len(args.rtts)) > 290:
        print("too many runs for the test server's users", file=sys.stderr)
        return 2

    # Everything lives under one directory; the mail processes (nobody) must traverse it.
    work = Path(tempfile.mkdtemp(prefix="mailmig-bench-"))
    work.chmod(0o755)
    roots = [work / f"{work.name}-{side}" for side in ("source", "target")]
    for root in roots:
        root.mkdir()
    source = DovecotServer(ssl=False, root=roots[0])
    target = DovecotServer(ssl=False, root=roots[1], capabilities=args.target_caps or None)
    try:
        source.start()
        target.start()
        print(f"seeding {args.messages} messages ({args.shape} shape) ...", flush=True)
        started = time.perf_counter()
        seed_source(source, SOURCE_USER, shaped(bench_corpus(args.messages, SEED), args.shape))
        seed_seconds = time.perf_counter() - started
        counts = mailbox_counts(source, SOURCE_USER)
        seeded = sum(m for m, _b in counts.values())
        source_bytes = sum(b for _m, b in counts.values())
        if seeded != args.messages:
            print(f"seeding gave {seeded} messages, want {args.messages}", file=sys.stderr)
            return 2
        print(f"seeded {source_bytes / 1e6:.1f} MB in {seed_seconds:.0f} s", flush=True)
        _wall, floor, _code = measure(["true"], dict(os.environ), work / "floor.log")
        benches: list[Bench] = []
        tables: list[list[str]] = []
        for rtt in args.rtts or [None]:
            bench = Bench(source, target, work, args.messages, counts, keep=args.keep)
            bench.rss_floor_kb, bench.rtt_ms, bench.mailmig_args = floor, rtt, args.mailmig_arg
            if rtt is not None:
                print(f"-- round trip {rtt:g} ms", flush=True)
                bench.proxy = DelayProxy(rtt, [source, target], work / "proxy.log")
            try:
                for round_no in range(1, args.rounds + 1):
                    # Rotate the order so no contender always runs first (cold caches) or last.
                    shift = (round_no - 1) % len(args.names)
                    for name in args.names[shift:] + args.names[:shift]:
                        bench.run_one(name, round_no)
            finally:
                if bench.proxy is not None:
                    bench.proxy.stop()
            benches.append(bench)
            tables.append(summary(bench, args.names, source_bytes))
            print("\n" + "\n".join(tables[-1]) + "\n", flush=True)
        if args.rtts:
            print("\n".join(rtt_table(benches)))
        write_markdown(args.out, benches, tables, args, seed_seconds, source_bytes)
        print(f"\nwritten to {args.out}")
        if args.keep:
            print(f"kept: {work}")
        return 1 if any(bench.failures for bench in benches) else 0
    finally:
        source.stop()
        target.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
