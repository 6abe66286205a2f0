"""The `mailmig` command: no arguments opens the TUI; subcommands run headless.

Exit status: 0 success, 1 finished with some messages failed or missing, 2 could not run.
Errors print one line on stderr (`mailmig: what happened (what to do)`); a traceback only
with --debug.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from mailmig_tui import __version__
from mailmig_tui.commands.common import add_connection_options
from mailmig_tui.commands.completion import add_completion_parser, offer_completions
from mailmig_tui.errors import MailmigError
from mailmig_tui.secrets import RedactingFilter, scrub

Runner = Callable[[argparse.Namespace], int]


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is our one line with a hint, not a usage block."""

    def error(self, message: str) -> NoReturn:
        print(f"mailmig: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


_LEAN_COMMANDS = frozenset({"folders", "ls", "coexistence", "tui", "demo", "completion"})
"""Subcommands whose parsing needs no other subcommand's parser (see `build_parser`)."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command`, the subcommand about to run, one of
    `_LEAN_COMMANDS`, without copy, verify, batch, history and undo: their options come
    from modules that import the copy engine (about 0.1 s, a tenth of a first `mailmig ls`
    on a 100,000-message Maildir). argparse consults only the chosen subcommand's parser.
    """
    lean = command in _LEAN_COMMANDS
    parser = OneLineParser(
        prog="mailmig",
        description="Move one user's mailbox from one mail server to another.",
        epilog="Accounts: imaps://USER@HOST[:PORT], imap://USER@HOST (STARTTLS), "
        "imap+plain://USER@HOST (loopback), pop3s://, pop3:// (STLS), pop3+plain:// "
        "(sources only), maildir:///PATH, mbox:///PATH, a saved name, or "
        "--source-command/--target-command COMMAND in place of one (IMAP over a command such "
        "as ssh). "
        "Passwords, first found: --source-password-command / --target-password-command (or "
        "a saved account's password_command), MAILMIG_SOURCE_PASSWORD / "
        "MAILMIG_TARGET_PASSWORD, ~/.netrc (mode 600), the keyring, a prompt.",
    )
    parser.add_argument("--version", action="version", version=f"mailmig {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    folders = sub.add_parser("folders", help="list an account's folders with counts and sizes")
    folders.add_argument("account", metavar="ACCOUNT")
    add_connection_options(folders)
    folders.set_defaults(run=_lazy("browse", "run_folders"))

    ls = sub.add_parser("ls", help="list the messages of one folder, newest first")
    ls.add_argument("account", metavar="ACCOUNT")
    ls.add_argument("folder", metavar="FOLDER")
    ls.add_argument("--limit", type=int, metavar="N", help="only the newest N messages")
    add_connection_options(ls)
    ls.set_defaults(run=_lazy("browse", "run_ls"))
    if not lean:
        _add_copy_commands(sub)

    coexist = sub.add_parser(
        "coexistence", help="write relay maps routing migrated users to the new server"
    )
    coexist.add_argument("--format", choices=["postfix"], default="postfix")
    coexist.add_argument("--domain", default="", help="mail domain for logins without @")
    coexist.add_argument("--smtp-port", type=int, default=25, help="new server's SMTP port")
    coexist.add_argument("--out", metavar="DIR", help="write transport and relay_recipients")
    add_connection_options(coexist)
    coexist.set_defaults(run=_lazy("batch", "run_coexistence"))

    if not lean:
        from mailmig_tui.commands.undo import add_undo_parsers

        runs, undo = add_undo_parsers(sub)
        for parser_, runner in ((runs, "run_history"), (undo, "run_undo")):
            add_connection_options(parser_)
            parser_.set_defaults(run=_lazy("undo", runner))

    tui = sub.add_parser("tui", help="browse SOURCE and TARGET side by side (the default)")
    tui.add_argument("source", metavar="SOURCE", nargs="?")
    tui.add_argument("target", metavar="TARGET", nargs="?")
    add_connection_options(tui)
    tui.set_defaults(run=_tui("main_tui"))
    demo = sub.add_parser("demo", help="try the TUI on a generated mailbox, nothing to set up")
    demo.add_argument("--keep", action="store_true", help="keep the demo Maildirs afterwards")
    demo.set_defaults(run=_tui("run_demo"))
    add_completion_parser(sub)
    return parser


def _add_copy_commands(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    """copy, verify and batch, whose options come with the copy engine's modules."""
    from mailmig_tui.commands.batch import add_batch_parser
    from mailmig_tui.commands.copy import add_copy_options, add_selection_options

    copy = sub.add_parser("copy", help="copy folders from SOURCE to TARGET (re-runs copy only new)")
    copy.add_argument("source", metavar="SOURCE")
    copy.add_argument("target", metavar="TARGET")
    add_selection_options(copy)
    add_copy_options(copy)
    add_connection_options(copy)
    copy.set_defaults(run=_lazy("copy", "run_copy"))

    check = sub.add_parser("verify", help="check every source message is on the target")
    check.add_argument("source", metavar="SOURCE")
    check.add_argument("target", metavar="TARGET")
    add_selection_options(check)
    add_connection_options(check)
    check.set_defaults(run=_lazy("copy", "run_verify"))

    batch = add_batch_parser(sub)
    add_connection_options(batch)
    headless, screen = _lazy("batch", "run_batch_command"), _tui("run_batch")
    batch.set_defaults(run=lambda args: screen(args) if args.tui else headless(args))


def _tui(name: str) -> Runner:
    """Textual is imported only when the TUI runs: the headless commands stay light."""
    return lambda args: int(getattr(importlib.import_module("mailmig_tui.tui.launch"), name)(args))


def _lazy(module: str, name: str) -> Runner:
    """Import a command's module only when it runs, so `mailmig --help` stays instant."""

    def run(args: argparse.Namespace) -> int:
        runner: Runner = getattr(importlib.import_module(f"mailmig_tui.commands.{module}"), name)
        return runner(args)

    return run


class _CliHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we install, so a second `main()` in one process replaces it."""


def setup_logging(debug: bool) -> None:
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CliHandler)]:
        root.removeHandler(old)
    handler = _CliHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """The `mailmig` command; `argv` None means the process's own, and that it ends after."""
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    finally:
        if argv is None:
            # The process exits now: spare it the interpreter's final garbage collections
            # over what the command left, e.g. a 100,000-message folder's snapshot (about
            # 0.1 s of a first `mailmig ls`). The objects stay where they are until exit.
            gc.freeze()


def _run(argv: list[str]) -> int:
    # A Tab press in the shell (argcomplete) needs the whole parser, as does anything
    # but a subcommand's name first (the top-level --help, --version, a mistake).
    completing = "_ARGCOMPLETE" in os.environ
    parser = build_parser(argv[0] if argv and not completing else None)
    offer_completions(parser)  # a Tab press in the shell: answer and exit
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return 0 if exc.code == 0 else 2
    if args.command is None:
        args = parser.parse_args(["tui"])  # `mailmig` alone: the account chooser
    debug = bool(getattr(args, "debug", False))
    setup_logging(debug)
    try:
        return int(args.run(args))
    except MailmigError as exc:
        if debug:
            logging.getLogger(__name__).exception("failed")
        print(f"mailmig: {scrub(exc.one_line())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mailmig: interrupted; finished work is kept, run again to resume", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            logging.getLogger(__name__).exception("internal error")
        print(
            f"mailmig: internal error: {type(exc).__name__}: {scrub(str(exc))} "
            "(run again with --debug and report it)",
            file=sys.stderr,
        )
        return 2
