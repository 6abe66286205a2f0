"""The secret sweep: run every command with a recognisable password, then look for it everywhere.

Every user of the canary Dovecot has a password starting with a random canary. One
module-scoped run drives, as real subprocesses (`python -m mailmig_tui … --debug`):
folders and ls over imaps, STARTTLS, loopback plaintext, a saved account, pop3s and POP3
with STLS (SASL PLAIN); copy with --dry-run, with --report, from POP3; verify; batch with
a CSV naming environment variables, one with password command columns and a
Microsoft-style batch with --passwords-file; passwords from a command (and a command that
prints the password, then fails) and from a netrc file (owner-only, and one others may read);
coexistence to stdout and to files; refused TLS (untrusted, wrong host name) and refused
logins (IMAP, POP3, a copy's target) with and without --debug. Then a TUI session with
Pilot: the passwords entered in the password dialogs (one typed key by key), both trees
browsed, a message previewed, screenshots saved, protocol debug logging on into tui.log.

The tests then search stdout, stderr, the report files, the journal and pop3-uids SQLite
files (raw bytes), the config file, the log directory, the state directory, the
screenshots, and the argv of every process seen while the copies ran, for the canary as
text, percent-encoded and base64 (at every alignment, as inside SASL PLAIN).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, quote_plus

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mailmig_tui.config import save_account
from mailmig_tui.model import AccountSpec, Security, TlsOptions
from mailmig_tui.tui.accounts.password import PasswordDialog
from mailmig_tui.tui.accounts.session import AccountSession
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.preview import PreviewScreen
from mailmig_tui.tui.launch import _log_to_file
from tests.security.conftest import leaks, secret_forms, seed_small
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec, open_folder, pane, wait_connected, wait_for

REPO = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = {"INBOX": 90, "Work": 50, "Work/Projects": 20}
TOTAL = sum(SOURCE_FOLDERS.values())


@dataclass
class Run:
    """One finished `mailmig` subprocess."""

    name: str
    argv: list[str]
    code: int
    stdout: bytes
    stderr: bytes


@dataclass
class Started:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    out: IO[bytes]
    err: IO[bytes]
    out_path: Path
    err_path: Path


@dataclass
class Sweep:
    """Everything the sweep produced, for the tests below to search."""

    home: Path
    """MAILMIG_CONFIG_DIR, MAILMIG_STATE_DIR and MAILMIG_LOG_DIR are below it."""
    elsewhere: list[Path]
    """Reports, relay maps and SVGs (written where the operator asked), and $HOME."""
    forms: dict[str, bytes]
    runs: dict[str, Run] = field(default_factory=dict)
    expected_codes: dict[str, int] = field(default_factory=dict)
    argv_samples: int = 0
    """Reads of the monitored copy's /proc/PID/cmdline while it ran."""
    processes_seen: int = 0
    argv_leaks: list[str] = field(default_factory=list)
    password_length: int = 0
    """Of the passwords typed into the TUI (all canary passwords here are equally long)."""
    screenshots: list[Path] = field(default_factory=list)


class Runner:
    """Starts `python -m mailmig_tui` subprocesses with output in files (no pipe can fill)."""

    def __init__(self, sweep: Sweep, outputs: Path, env: dict[str, str]) -> None:
        self.sweep = sweep
        self.outputs = outputs
        self.env = env

    def start(self, name: str, argv: Sequence[str], code: int, **env: str) -> Started:
        assert name not in self.sweep.expected_codes, name
        self.sweep.expected_codes[name] = code
        out_path, err_path = self.outputs / f"{name}.out", self.outputs / f"{name}.err"
        out, err = out_path.open("wb"), err_path.open("wb")
        command = [sys.executable, "-m", "mailmig_tui", *argv]
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.env | env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        return Started(name, list(argv), process, out, err, out_path, err_path)

    def finish(self, started: Started) -> Run:
        try:
            code = started.process.wait(timeout=120)
        finally:
            started.out.close()
            started.err.close()
        run = Run(
            started.name,
            started.argv,
            code,
            started.out_path.read_bytes(),
            started.err_path.read_bytes(),
        )
        self.sweep.runs[run.name] = run
        return run

    def finish_all(self, started: Sequence[Started]) -> None:
        for one in started:
            self.finish(one)


def watch_argv(sweep: Sweep, monitored: Started, others: Sequence[Started]) -> None:
    """Until every copy ends: read the monitored copy's argv, and every process's argv."""
    every = [monitored, *others]
    pid = monitored.process.pid
    while any(s.process.poll() is None for s in every):
        try:
            own = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            own = b""
        if monitored.process.poll() is None and b"mailmig_tui\0copy\0" in own:
            sweep.argv_samples += 1
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            sweep.processes_seen += 1
            found = leaks(cmdline, sweep.forms)
            if found:
                sweep.argv_leaks.append(f"pid {entry.name} {found}: {cmdline[:300]!r}")
        time.sleep(0.01)


async def drive_tui(app: MailmigApp, passwords: dict[str, str], shots: Path, sweep: Sweep) -> None:
    """Type both passwords into their dialogs, browse both trees, preview, screenshot."""
    async with app.run_test(size=(100, 30)) as pilot:
        answered: list[PasswordDialog] = []
        for _ in passwords:
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, PasswordDialog) and app.screen not in answered,
                "a password dialog",
            )
            dialog = app.screen
            assert isinstance(dialog, PasswordDialog)
            password = passwords[dialog.session.role]
            if not answered:  # typed key by key, and the screen shows it masked
                await pilot.press(*password)
                await settle(pilot)
                shot(app, shots, "password-typed", sweep)
            else:  # pasted: typing takes 60 ms a key on a busy machine
                dialog.query_one("#password", Input).value = password
            answered.append(dialog)
            await pilot.press("enter")
        await wait_connected(pilot, app, timeout=20)
        await open_folder(pilot, app, "target", "INBOX")
        await open_folder(pilot, app, "source", "Work")
        await open_folder(pilot, app, "source", "INBOX")
        await settle(pilot)
        shot(app, shots, "browsing", sweep)
        pane(app, "source").message_list.focus()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, PreviewScreen) and app.screen.content is not None,
            "the preview",
            timeout=20,
        )
        await settle(pilot)
        shot(app, shots, "preview", sweep)
        await pilot.press("escape")
        await settle(pilot)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def shot(app: MailmigApp, shots: Path, name: str, sweep: Sweep) -> None:
    app.save_screenshot(filename=f"{name}.svg", path=str(shots))
    sweep.screenshots.append(shots / f"{name}.svg")


def run_tui(
    server: DovecotServer, source: str, target: str, home: Path, shots: Path, sweep: Sweep
) -> None:
    """The TUI in this process, logging at DEBUG into tui.log exactly as `mailmig tui` does."""
    source_spec = AccountSpec(
        kind="imap",
        user=source,
        host="localhost",
        port=server.imaps_port,
        security=Security.TLS,
        tls=TlsOptions(ca_file=str(server.ca_file)),
        timeout=10.0,
    )
    app = MailmigApp(
        AccountSession(source_spec, "source"),
        AccountSession(imap_spec(server, target), "target"),
    )
    passwords = {"source": server.password(source), "target": server.password(target)}
    sweep.password_length = len(passwords["source"])
    root = logging.getLogger()
    level = root.level
    # An in-process `main()` of an earlier test leaves its stderr handler on the root logger,
    # bound to that test's closed capture stream; at DEBUG it would fail on every record.
    leftovers = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    leftovers = [h for h in leftovers if type(h).__module__.startswith("mailmig_tui")]
    for handler in leftovers:
        root.removeHandler(handler)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CONFIG", "STATE", "LOG"):
            patch.setenv(f"MAILMIG_{name}_DIR", str(home / name.lower()))
        patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        patch.delenv("MAILMIG_SOURCE_PASSWORD", raising=False)
        patch.delenv("MAILMIG_TARGET_PASSWORD", raising=False)
        root.setLevel(logging.DEBUG)
        try:
            with _log_to_file():
                asyncio.run(drive_tui(app, passwords, shots, sweep))
        finally:
            root.setLevel(level)
            for handler in leftovers:
                root.addHandler(handler)
            for session in app.sessions:
                session.close()


@pytest.fixture(scope="module")
def sweep(
    canary_server: DovecotServer,
    canary: str,
    start_canary_server: Callable[[], DovecotServer],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Sweep:
    server = canary_server
    refuser: list[DovecotServer] = []
    starting = threading.Thread(target=lambda: refuser.append(start_canary_server()))
    starting.start()

    def stop_refuser() -> None:
        starting.join()
        for started in refuser:
            started.cleanup()

    request.addfinalizer(stop_refuser)
    work = tmp_path_factory.mktemp("sweep")
    home, outputs, reports, relay, shots, inputs = (
        work / name for name in ("home", "outputs", "reports", "relay", "shots", "inputs")
    )
    for directory in (outputs, reports, shots, inputs):
        directory.mkdir()
    # Searched besides `home`: where the operator sent files, and the HOME of the commands.
    result = Sweep(home, [reports, relay, shots, work / "user-home"], secret_forms(canary))
    users = {role: server.new_user() for role in ("src", "dst", "pop", "batch", "batchcmd", "ms")}
    src, dst = users["src"], users["dst"]
    seed_small(server, src, SOURCE_FOLDERS)
    pw = {role: server.password(user) for role, user in users.items()}
    wrong = f"{canary}-wrong"

    ca = ["--ca-file", str(server.ca_file)]
    src_tls = f"imaps://{src}@localhost:{server.imaps_port}"
    dst_tls = f"imaps://{dst}@localhost:{server.imaps_port}"
    src_plain = f"imap+plain://{src}@127.0.0.1:{server.imap_port}"
    save_account(
        "canary-saved",
        AccountSpec(
            kind="imap",
            user=src,
            host="localhost",
            port=server.imaps_port,
            security=Security.TLS,
            tls=TlsOptions(ca_file=str(server.ca_file)),
        ),
        home / "config" / "config.toml",
    )
    (inputs / "users.csv").write_text(
        "source,target,source_password_env,target_password_env\n"
        f"{src_tls},imaps://{users['batch']}@localhost:{server.imaps_port},"
        "SWEEP_OLD_PW,SWEEP_NEW_PW\n"
    )
    (inputs / "microsoft.csv").write_text(
        f"EmailAddress,UserName,Password\n{users['ms']},{src},{pw['src']}\n"
    )
    # Where a password command and netrc find the passwords: files of the operator's,
    # outside what the sweep searches (as are the passwords file and the CSVs).
    pw_files = {}
    for role in ("src", "batchcmd"):
        pw_files[role] = inputs / f"{role}.pw"
        pw_files[role].write_text(pw[role] + "\n")
        pw_files[role].chmod(0o600)
    (inputs / "commands.csv").write_text(
        "source,target,source_password_command,target_password_command\n"
        f"{src_tls},imaps://{users['batchcmd']}@localhost:{server.imaps_port},"
        f"cat {pw_files['src']},cat {pw_files['batchcmd']}\n"
    )
    netrc_text = f'machine localhost login {src} password "{pw["src"]}"\n'
    for name, mode in (("netrc", 0o600), ("netrc-open", 0o644)):
        (inputs / name).write_text(netrc_text)
        (inputs / name).chmod(mode)
    passwords_file = inputs / "passwords.tsv"
    passwords_file.write_text(f"imaps://{users['ms']}@localhost:{server.imaps_port}\t{pw['ms']}\n")
    passwords_file.chmod(0o600)

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work / "user-home"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "MAILMIG_SOURCE_PASSWORD": pw["src"],
        "MAILMIG_TARGET_PASSWORD": pw["dst"],
    } | {f"MAILMIG_{name}_DIR": str(home / name.lower()) for name in ("CONFIG", "STATE", "LOG")}
    run = Runner(result, outputs, env)
    pop3s = f"pop3s://{src}@localhost:{server.pop3s_port}"
    pop3_stls = f"pop3://{src}@localhost:{server.pop3_port}"

    # Reading commands and refused TLS, all at once.
    run.finish_all(
        [
            run.start("folders-imaps", ["folders", src_tls, *ca, "--debug"], 0),
            run.start(
                "folders-starttls-json",
                ["folders", f"imap://{src}@localhost:{server.imap_port}", *ca, "--json", "--debug"],
                0,
            ),
            run.start("ls-plain", ["ls", src_plain, "INBOX", "--limit", "5", "--debug"], 0),
            run.start("folders-saved-account", ["folders", "canary-saved", "--debug"], 0),
            run.start("folders-pop3s", ["folders", pop3s, *ca, "--debug"], 0),
            run.start("ls-pop3-stls-json", ["ls", pop3_stls, "INBOX", *ca, "--json", "--debug"], 0),
            run.start(
                "copy-dry-run", ["copy", src_tls, dst_tls, *ca, "--dry-run", "--json", "--debug"], 0
            ),
            run.start(
                "folders-password-command",
                [
                    "folders",
                    src_tls,
                    *ca,
                    "--source-password-command",
                    f"cat {pw_files['src']}",
                    "--debug",
                ],
                0,
                MAILMIG_SOURCE_PASSWORD=wrong,  # the command wins, or the login is refused
            ),
            run.start(
                "password-command-fails-debug",
                [
                    "folders",
                    src_tls,
                    *ca,
                    "--source-password-command",
                    f"sh -c 'cat {pw_files['src']}; cat {pw_files['src']} >&2; exit 3'",
                    "--debug",
                ],
                2,
            ),
            run.start(
                "folders-netrc",
                ["ls", src_tls, "INBOX", *ca, "--limit", "3", "--debug"],
                0,
                MAILMIG_SOURCE_PASSWORD="",
                NETRC=str(inputs / "netrc"),
            ),
            run.start(
                "netrc-readable-by-others",
                ["folders", src_tls, *ca, "--debug"],
                2,
                MAILMIG_SOURCE_PASSWORD="",
                NETRC=str(inputs / "netrc-open"),
            ),
            run.start("tls-untrusted-debug", ["folders", src_tls, "--debug"], 2),
            run.start("tls-untrusted", ["folders", src_tls], 2),
            run.start(
                "tls-wrong-host-debug",
                ["folders", f"imaps://{src}@127.0.0.1:{server.imaps_port}", *ca, "--debug"],
                2,
            ),
        ]
    )
    # The copies, while every process's argv is read.
    copy = run.start(
        "copy-report",
        [
            "copy",
            src_tls,
            dst_tls,
            *ca,
            "--report",
            str(reports / "copy.json"),
            "--connections",
            "2",
            "--debug",
        ],
        0,
    )
    others = [
        run.start(
            "copy-pop3-report",
            [
                "copy",
                pop3_stls,
                f"imap+plain://{users['pop']}@127.0.0.1:{server.imap_port}",
                *ca,
                "--report",
                str(reports / "pop3.json"),
                "--debug",
            ],
            0,
            MAILMIG_TARGET_PASSWORD=pw["pop"],
        ),
        run.start(
            "batch-env-names",
            [
                "batch",
                str(inputs / "users.csv"),
                *ca,
                "--report",
                str(reports / "batch.json"),
                "--connections",  # four runs share the source user: Dovecot allows 10
                "2",
                "--debug",
            ],
            0,
            SWEEP_OLD_PW=pw["src"],
            SWEEP_NEW_PW=pw["batch"],
        ),
        run.start(
            "batch-password-commands",
            [
                "batch",
                str(inputs / "commands.csv"),
                *ca,
                "--report",
                str(reports / "batch-commands.json"),
                "--connections",  # four runs share the source user: Dovecot allows 10
                "2",
                "--debug",
            ],
            0,
            MAILMIG_SOURCE_PASSWORD=wrong,
            MAILMIG_TARGET_PASSWORD=wrong,
        ),
        run.start(
            "batch-microsoft-passwords-file",
            [
                "batch",
                str(inputs / "microsoft.csv"),
                "--passwords-in-csv",
                "--source-host",
                f"localhost:{server.imaps_port}",
                "--target-host",
                f"localhost:{server.imaps_port}",
                "--passwords-file",
                str(passwords_file),
                *ca,
                "--report",
                str(reports / "microsoft.json"),
                "--connections",  # four runs share the source user: Dovecot allows 10
                "2",
                "--debug",
            ],
            0,
        ),
    ]
    watch_argv(result, copy, others)
    run.finish_all([copy, *others])
    # What reads the journal and the copied mailbox.
    run.finish_all(
        [
            run.start("verify-json", ["verify", src_tls, dst_tls, *ca, "--json", "--debug"], 0),
            run.start(
                "coexistence-files",
                ["coexistence", "--domain", "example.test", "--out", str(relay), "--debug"],
                0,
            ),
            run.start(
                "coexistence-stdout", ["coexistence", "--domain", "example.test", "--debug"], 0
            ),
        ]
    )
    run_tui(server, src, dst, home, shots, result)
    # Refused logins, on a server of their own: Dovecot slows down every later login from
    # an address that failed, which would slow the tests after this one.
    starting.join()
    refusing = refuser[0]
    bad = refusing.new_user()
    bad_tls = f"imaps://{bad}@localhost:{refusing.imaps_port}"
    bad_ca = ["--ca-file", str(refusing.ca_file)]
    run.finish_all(
        [
            run.start(
                "login-refused-debug",
                ["folders", bad_tls, *bad_ca, "--debug"],
                2,
                MAILMIG_SOURCE_PASSWORD=wrong,
            ),
            run.start(
                "login-refused",
                ["ls", f"imap+plain://{bad}@127.0.0.1:{refusing.imap_port}", "INBOX"],
                2,
                MAILMIG_SOURCE_PASSWORD=wrong,
            ),
            run.start(
                "pop3-login-refused-debug",
                ["folders", f"pop3s://{bad}@localhost:{refusing.pop3s_port}", *bad_ca, "--debug"],
                2,
                MAILMIG_SOURCE_PASSWORD=wrong,
            ),
            run.start(
                "copy-target-login-refused-debug",
                [
                    "copy",
                    src_plain,
                    f"imap+plain://{bad}@127.0.0.1:{refusing.imap_port}",
                    "--report",
                    str(reports / "refused.json"),
                    "--debug",
                ],
                2,
                MAILMIG_TARGET_PASSWORD=wrong,
            ),
        ]
    )
    return result


def files_below(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (path for path in sorted(root.rglob("*")) if path.is_file())


def test_every_command_ran_and_really_logged_at_debug(sweep: Sweep) -> None:
    """The sweep proves something only if each command did its work with debug logging on."""
    codes = {name: run.code for name, run in sweep.runs.items()}
    assert codes == sweep.expected_codes, {
        name: sweep.runs[name].stderr.decode(errors="replace")[-600:]
        for name in codes
        if codes[name] != sweep.expected_codes[name]
    }
    runs = sweep.runs
    assert b"LOGIN" in runs["folders-imaps"].stderr, "no protocol debug log"
    assert b"APPEND" in runs["copy-report"].stderr
    reports = sweep.elsewhere[0]
    copied = json.loads((reports / "copy.json").read_text())
    assert copied["copied"] == TOTAL and copied["failed"] == 0
    assert json.loads((reports / "pop3.json").read_text())["copied"] == SOURCE_FOLDERS["INBOX"]
    for name in ("batch.json", "microsoft.json", "batch-commands.json"):
        batch = json.loads((reports / name).read_text())
        assert batch["done"] == 1, batch
    assert b"LOGIN" in runs["folders-password-command"].stderr
    assert b"SELECT" in runs["folders-netrc"].stderr or b"EXAMINE" in runs["folders-netrc"].stderr
    failed = runs["password-command-fails-debug"].stderr
    assert b"the password command (sh) for" in failed and b"failed (exit status 3)" in failed
    ignored = runs["netrc-readable-by-others"].stderr
    assert b"mailmig: note: ignoring " in ignored and b"(mode 644); chmod 600" in ignored
    assert b"no password for the source account" in ignored
    assert json.loads(runs["verify-json"].stdout)["missing"] == 0
    assert b"@example.test" in runs["coexistence-stdout"].stdout
    for line in (runs["login-refused"].stderr + runs["tls-untrusted"].stderr).splitlines():
        assert line.startswith(b"mailmig: "), line
    assert b"refused the login" in runs["login-refused"].stderr
    assert b"is not trusted" in runs["tls-untrusted"].stderr


def test_no_output_of_any_command_holds_the_password(sweep: Sweep) -> None:
    found = {
        f"{name} {stream}": leaks(data, sweep.forms)
        for name, run in sweep.runs.items()
        for stream, data in (("stdout", run.stdout), ("stderr", run.stderr))
        if leaks(data, sweep.forms)
    }
    assert len(sweep.runs) >= 20
    assert not found, found


def test_no_file_mailmig_wrote_holds_the_password(sweep: Sweep) -> None:
    """Config, state (journal, pop3-uids), logs (tui.log), reports, relay maps, screenshots."""
    files = list(files_below(sweep.home, *sweep.elsewhere))
    names = {path.relative_to(path.parents[1]).as_posix() for path in files}
    for wanted in (
        "config/config.toml",
        "state/journal.sqlite3",
        "state/pop3-uids.sqlite3",
        "log/tui.log",
        "reports/copy.json",
        "reports/pop3.json",
        "reports/batch.json",
        "reports/microsoft.json",
        "relay/transport",
        "relay/relay_recipients",
        "shots/password-typed.svg",
        "shots/browsing.svg",
        "shots/preview.svg",
    ):
        assert wanted in names, f"{wanted} was not written: {sorted(names)}"
    found = {str(path): leaks(path.read_bytes(), sweep.forms) for path in files}
    assert not {path: forms for path, forms in found.items() if forms}


def test_the_tui_session_logged_its_protocol_and_showed_what_it_was_asked(sweep: Sweep) -> None:
    tui_log = (sweep.home / "log" / "tui.log").read_text("utf-8", "replace")
    assert "DEBUG" in tui_log and "LOGIN" in tui_log, tui_log[-2000:]
    typed, browsing, preview = (
        path.read_text("utf-8").replace("&#160;", " ") for path in sweep.screenshots
    )
    assert "Password for the" in typed
    assert "•" * sweep.password_length in typed, "the typed password is not shown masked"
    assert "INBOX message 0089" in browsing
    assert "From:" in preview


def test_no_process_argv_holds_the_password_while_copies_run(sweep: Sweep) -> None:
    assert sweep.argv_samples >= 3, "the copy ended before its argv could be read"
    assert sweep.processes_seen > sweep.argv_samples
    assert not sweep.argv_leaks, sweep.argv_leaks


def test_the_search_recognises_every_form_a_password_takes(canary: str) -> None:
    """The searches above can fail: the password as text, in a URL, and inside SASL PLAIN."""
    forms = secret_forms(canary)
    password = f"{canary}-user042"
    samples = {
        "LOGIN line": f'A001 LOGIN user042 "{password}"'.encode(),
        "URL": f"imaps://user042:{quote(password, safe='')}@host".encode(),
        "form data": f"user=user042&password={quote_plus(password)}".encode(),
        "AUTH PLAIN": b"AUTH PLAIN " + base64.b64encode(f"\0user042\0{password}".encode()),
        "with authzid": base64.b64encode(f"user042\0user042\0{password}".encode()),
    }
    for shift in ("", "a", "ab"):
        samples[f"base64 after {shift!r}"] = base64.b64encode(f"{shift}{password}".encode())
    for name, data in samples.items():
        assert leaks(data, forms), f"the {name} form was not recognised"
    assert not leaks(f"{canary[:12]} user042 {canary[-5:]}".encode(), forms)
