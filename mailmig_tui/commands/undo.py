"""`mailmig history` and `mailmig undo RUN-ID`: past runs, and taking one back out.

`history [SOURCE TARGET]` lists the runs (all, or those of one pair) with their ids, so a
script can find the RUN-ID; `undo RUN-ID [TARGET]` removes from the target exactly what
that run appended (engine/undo.py). The target is the one the run recorded (its saved
name or URL) unless TARGET or --target-command says otherwise; the source is never opened.

Exit status of undo: 0 when every copy is gone from the target, 1 when nothing or not
everything was removed (refused: no UIDPLUS, not confirmed, a folder failed), 2 when it
could not run (no such run, cannot connect).
"""

from __future__ import annotations

import argparse
import sys

from mailmig_tui import secrets
from mailmig_tui.account_args import resolve_account, resolve_role
from mailmig_tui.accounts import needs_password
from mailmig_tui.commands.common import print_json, table
from mailmig_tui.config import load_config
from mailmig_tui.engine import history
from mailmig_tui.engine.journal import Journal, default_path
from mailmig_tui.engine.undo import UndoRefused, plan_undo, undo_run
from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountSpec
from mailmig_tui.stores.open import open_store


def add_undo_parsers(sub: argparse._SubParsersAction) -> tuple[argparse.ArgumentParser, ...]:  # type: ignore[type-arg]
    runs = sub.add_parser(
        "history",
        aliases=["runs"],
        help="list past copy runs (of one SOURCE and TARGET) with their run ids",
    )
    runs.add_argument("source", metavar="SOURCE", nargs="?")
    runs.add_argument("target", metavar="TARGET", nargs="?")
    undo = sub.add_parser(
        "undo", help="remove from the target exactly the messages one run appended"
    )
    undo.add_argument("run_id", metavar="RUN-ID", help="from `mailmig history`")
    undo.add_argument(
        "target", metavar="TARGET", nargs="?", help="the run's target (default: as recorded)"
    )
    undo.add_argument("--yes", action="store_true", help="do not ask before removing")
    return runs, undo


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def run_history(args: argparse.Namespace) -> int:
    if (args.source is None) != (args.target is None):
        raise UsageError("history takes both SOURCE and TARGET, or neither (every run)")
    if args.source is None:
        records = history.all_runs()
    else:
        config = load_config()
        source = resolve_account(args.source, args, config, "source")
        target = resolve_account(args.target, args, config, "target")
        records = history.runs_between(source.identity, target.identity)
    if args.json:
        print_json(
            [
                {k: v for k, v in record.as_json().items() if k != "report"}
                | {
                    name: record.count(name)
                    for name in ("copied", "already_present", "failed", "not_copied")
                }
                for record in records
            ]
        )
        return 0
    if not records:
        print("no runs recorded" + ("" if args.source is None else " between these accounts"))
        return 0
    rows = [["RUN ID", "STARTED", "SOURCE -> TARGET", "COPIED", "THERE", "FAILED", "NOT", "RESULT"]]
    for r in records:
        rows.append(
            [
                r.run_id,
                r.started,
                f"{r.source} -> {r.target}",
                _count(r.count("copied")),
                _count(r.count("already_present")),
                _count(r.count("failed")),
                _count(r.not_copied),
                r.result,
            ]
        )
    print(table(rows, right=(3, 4, 5, 6)))
    return 0


def _target(args: argparse.Namespace, record: history.RunRecord) -> AccountSpec:
    config = load_config()
    if args.target_command is not None:
        spec = resolve_role(args, "target", config)
    else:
        text = args.target or record.target_account
        if not text:
            raise UsageError(
                f"run {record.run_id}'s target was reached by a command",
                "give TARGET (a saved account) or --target-command COMMAND",
            )
        spec = resolve_account(text, args, config, "target")
    if spec.identity != record.target_identity:
        raise UsageError(
            f"{spec.display} is not the target of run {record.run_id} ({record.target})",
            "leave TARGET out to use the recorded one",
        )
    return spec


def run_undo(args: argparse.Namespace) -> int:
    record = history.load(args.run_id)
    if not default_path().exists():
        raise UsageError(f"no journal in {default_path().parent}: nothing to undo")
    journal = Journal()
    try:
        plan = plan_undo(journal, record)
        what = f"run {record.run_id} ({record.started}, {record.source} -> {record.target})"
        if not plan.copies:
            print(f"{what}: no copies of it are left to remove; nothing to undo")
            return 0 if not plan.unplaced else 1
        print(f"{what}: removes {plan.summary} from {record.target}")
        if not args.yes and not _confirmed():
            return 1
        spec = _target(args, record)
        password = secrets.get_password(spec, "target") if needs_password(spec) else ""
        if spec.oauth2 is not None:
            from mailmig_tui import oauth2

            oauth2.token_provider(spec)()  # sign in now, before the connection waits on us
        with open_store(
            spec, role="target", readonly=False, password=lambda _s, _r: password
        ) as store:
            try:
                result = undo_run(plan, store, journal)
            except UndoRefused as exc:
                print(f"mailmig: {exc.one_line()}", file=sys.stderr)
                return 1
    finally:
        journal.close()
    if args.json:
        print_json(
            {
                "run_id": record.run_id,
                "removed": result.removed,
                "gone": result.gone,
                "unplaced": result.unplaced,
                "problems": result.problems,
                "ok": result.ok,
            }
        )
    else:
        print(
            f"removed {result.removed:,} messages from {record.target}; "
            f"{result.gone:,} were gone already"
        )
    for problem in result.problems:
        print(f"mailmig: not undone: {secrets.scrub(problem)}", file=sys.stderr)
    if plan.unplaced:
        print(
            f"mailmig: {plan.unplaced} copies stay: the target named no UID for them",
            file=sys.stderr,
        )
    return 0 if result.ok and not plan.unplaced else 1


def _confirmed() -> bool:
    """Ask on the terminal; without one, refuse in one line (a script says --yes)."""
    if sys.stdin is None or not sys.stdin.isatty():
        print(
            "mailmig: undo asks before removing anything; give --yes to run it without a terminal",
            file=sys.stderr,
        )
        return False
    answer = input("Remove them from the target? [y/N] ")
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("nothing removed")
    return False
