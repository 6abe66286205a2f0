"""Starting the TUI from the command line: `mailmig`, `mailmig tui SOURCE TARGET`, `mailmig demo`.

Accounts are resolved exactly as the headless commands do (URLs, saved names, connection
options, the same errors before anything is drawn). While the TUI runs, log records go to a
file in the log directory instead of stderr, which would scribble over the screen.
Connections are closed after the app has left the terminal, off the event loop. Quitting
while a copy runs exits 1 with one line on stderr: the work is not finished.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.config import load_config
from mailmig_tui.model import AccountSpec
from mailmig_tui.secrets import RedactingFilter
from mailmig_tui.tui.accounts.session import AccountSession

QUIT_DURING_COPY = (
    "mailmig: quit during a copy; finished work is kept, run the copy again to resume"
)
"""The stderr line after quitting while a copy ran (the exit status is then 1)."""

_OPTION_DEFAULTS = {"ca_file": None, "insecure": False, "allow_plaintext": False, "timeout": None}


def _with_defaults(args: argparse.Namespace | None) -> argparse.Namespace:
    """`mailmig` with no subcommand has no connection options: fill in their defaults."""
    values = dict(_OPTION_DEFAULTS)
    values.update({k: v for k, v in vars(args or argparse.Namespace()).items() if v is not None})
    return argparse.Namespace(**values)


@contextlib.contextmanager
def _log_to_file() -> Iterator[None]:
    root = logging.getLogger()
    on_terminal = [
        h
        for h in root.handlers
        if isinstance(h, logging.StreamHandler)
        and getattr(h, "stream", None) in (sys.stderr, sys.stdout)
    ]
    for handler in on_terminal:
        root.removeHandler(handler)
    file_handler: logging.Handler | None = None
    try:
        directory = paths.ensure_private_dir(paths.log_dir())
        log_file = directory / "tui.log"
        # Owner-only from the first byte (FileHandler would follow the umask): it names
        # users, hosts and folders.
        os.close(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        log_file.chmod(0o600)
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.addFilter(RedactingFilter())
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
        )
        root.addHandler(file_handler)
    except Exception:  # no writable log dir: the TUI still runs, without a log
        file_handler = None
    try:
        yield
    finally:
        if file_handler is not None:
            root.removeHandler(file_handler)
            file_handler.close()
        for handler in on_terminal:
            root.addHandler(handler)


def _run(
    source: AccountSession | None,
    target: AccountSession | None,
    accounts: dict[str, AccountSpec],
    keymap: dict[str, str],
    timeout: float,
) -> int:
    from mailmig_tui.secrets import keyring_unusable
    from mailmig_tui.tui.app import MailmigApp

    # keyring picks its backend on first use, which may ask D-Bus: do it here, before the
    # event loop, not in the compose of the first password dialog (keyring keeps the choice).
    keyring_unusable()
    app = MailmigApp(source, target, keymap=keymap, accounts=accounts, timeout=timeout)
    try:
        with _log_to_file():
            result = app.run()
    finally:
        # LOGOUT now that the terminal is back; the screens started some in the background:
        # let those finish too, but never wait long for a server that went quiet.
        for session in app.sessions:
            session.close()
        deadline = time.monotonic() + 3
        for thread in threading.enumerate():
            if thread.name == "logout":
                thread.join(max(0.0, deadline - time.monotonic()))
    if app.quit_during_copy:  # the terminal is back: one line, as the headless commands say
        print(QUIT_DURING_COPY, file=sys.stderr)
    return app.return_code or int(result or 0)


def run_tui(source: str | None, target: str | None, args: argparse.Namespace | None) -> int:
    """`mailmig tui [SOURCE [TARGET]]` and `mailmig` alone (the account chooser)."""
    from mailmig_tui.account_args import resolve_account

    options = _with_defaults(args)
    config = load_config()
    sessions: dict[str, AccountSession] = {}
    for role, text in (("source", source), ("target", target)):
        if text:
            sessions[role] = AccountSession(resolve_account(text, options, config, role), role)
    return _run(
        sessions.get("source"),
        sessions.get("target"),
        config.accounts,
        config.keymap,
        config.timeout,
    )


def main_tui(args: argparse.Namespace) -> int:
    """The CLI's runner for `mailmig` and `mailmig tui [SOURCE [TARGET]]`."""
    return run_tui(getattr(args, "source", None), getattr(args, "target", None), args)


def run_demo(args: argparse.Namespace | None) -> int:
    """`mailmig demo`: a generated source Maildir and an empty target, nothing to configure.

    The TUI comes up at once; the panes' connect workers write the mailbox first, showing
    how far they are in the pane (`DemoMailbox`), so the screen is never blank.
    """
    from mailmig_tui.tui.demo_data import DemoMailbox

    keep = bool(getattr(args, "keep", False))
    root = Path(tempfile.mkdtemp(prefix="mailmig-demo-"))
    demo = DemoMailbox(root)
    try:
        config = load_config()
        source = AccountSession(
            AccountSpec(kind="maildir", path=str(demo.source)),
            "source",
            label="Demo mailbox (Maildir)",
            prepare=demo.prepare,
        )
        target = AccountSession(
            AccountSpec(kind="maildir", path=str(demo.target)),
            "target",
            label="Empty target (Maildir)",
            prepare=demo.prepare,
        )
        return _run(source, target, {}, config.keymap, config.timeout)
    finally:
        if keep:
            print(f"mailmig demo: the demo Maildirs stay in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def run_batch(args: argparse.Namespace) -> int:
    """`mailmig batch USERS.csv --tui`: the batch on a full screen, same job as headless."""
    from mailmig_tui.account_args import batch_job
    from mailmig_tui.engine.batch import batch_summary
    from mailmig_tui.engine.report_file import write_report
    from mailmig_tui.tui.copy.batch_app import BatchApp

    job = batch_job(args)
    app = BatchApp(job)
    code = app.run()
    if job.report:
        write_report(job.report, batch_summary(app.results))
    return 1 if code is None else int(code)
