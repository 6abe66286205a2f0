"""`mailmig copy` and `mailmig verify`: the engine driven from the command line."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import replace

from mailmig_tui import presets, secrets
from mailmig_tui.accounts import needs_password
from mailmig_tui.commands.common import human_size, print_json, resolve_role, table
from mailmig_tui.commands.progress import ProgressDisplay
from mailmig_tui.config import load_config
from mailmig_tui.engine.journal import Journal, default_path
from mailmig_tui.engine.mapping import parse_map_option
from mailmig_tui.engine.plan import CopyOptions, Plan, map_accounts
from mailmig_tui.engine.session import Accounts, CopySession
from mailmig_tui.engine.transfer import TransferSettings
from mailmig_tui.engine.verify import verify
from mailmig_tui.errors import UsageError
from mailmig_tui.secrets import scrub


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("folders")
    group.add_argument(
        "--folder",
        action="append",
        default=[],
        metavar="NAME_OR_GLOB",
        help="copy only these source folders (repeatable; default: all)",
    )
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out these source folders (repeatable)",
    )
    group.add_argument(
        "--source-preset",
        choices=presets.CHOICES,
        default="auto",
        help="server quirks of the source: auto-detected, none, exchange or gmail",
    )
    group.add_argument(
        "--target-preset",
        choices=presets.CHOICES,
        default="auto",
        help="server quirks of the target: auto-detected, none, exchange or gmail",
    )
    group.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SRC=DST",
        help="put source folder SRC into target folder DST (repeatable)",
    )


def add_copy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--max-size", type=int, metavar="BYTES", help="skip larger messages")
    parser.add_argument("--report", metavar="FILE.json", help="write the report as JSON")
    parser.add_argument(
        "--connections",
        type=int,
        default=4,
        metavar="N",
        help="folders copied at once, each over its own pair of connections (4)",
    )


def _options(args: argparse.Namespace) -> CopyOptions:
    if getattr(args, "connections", 1) < 1:
        raise UsageError("--connections must be 1 or more", "4 suits most servers")
    report = getattr(args, "report", None)
    if report and not os.access(os.path.dirname(os.path.abspath(report)), os.W_OK):
        # Checked before connecting: a copy must not run only to fail at its last step.
        raise UsageError(
            f"cannot write the report {report}: its directory is missing or not writable",
            "give --report a path in a writable directory",
        )
    max_size = getattr(args, "max_size", None)
    if max_size is not None and max_size < 1:
        raise UsageError("--max-size must be a positive number of bytes")
    return CopyOptions(
        include=args.folder,
        exclude=args.exclude,
        overrides=parse_map_option(args.map),
        max_size=max_size,
        dry_run=bool(getattr(args, "dry_run", False)),
        source_preset=args.source_preset,
        target_preset=args.target_preset,
    )


def _accounts(args: argparse.Namespace, *, target_readonly: bool, copying: bool) -> Accounts:
    """Resolve both accounts, get both passwords and do the OAuth2 sign-ins up front
    (prompts and device codes before any work)."""
    config = load_config()
    source = resolve_role(args, "source", config)
    target = resolve_role(args, "target", config)
    if copying and target.kind in ("mbox", "pop3"):
        raise UsageError(
            f"{'an mbox' if target.kind == 'mbox' else 'a POP3'} account can only be a source",
            "copy into maildir:// or IMAP",
        )
    stand_in = None
    if target_readonly and target.kind == "maildir" and not os.path.exists(target.path):
        # A dry run into a Maildir the copy would create: plan against an empty stand-in,
        # since opening the real path read-only refuses it and writable would create it.
        path = tempfile.mkdtemp(prefix="mailmig-dry-run-")
        atexit.register(shutil.rmtree, path, True)
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(path, sub))
        stand_in = replace(target, path=path)
    from mailmig_tui import oauth2

    shared = [getattr(args, name, None) for name in ("oauth2_client_id", "oauth2_tenant")]
    shared.append(getattr(args, "oauth2_token_command", None))
    if any(shared) and source.oauth2 is None and target.oauth2 is None:
        raise UsageError(
            "the --oauth2-… options need an account signing in with OAuth2",
            "add --source-oauth2 or --target-oauth2 PROVIDER",
        )
    source_password = secrets.get_password(source, "source") if needs_password(source) else ""
    target_password = secrets.get_password(target, "target") if needs_password(target) else ""
    for spec in (source, target):
        if spec.oauth2 is not None:  # sign in now, before any connection waits on us
            oauth2.token_provider(spec)()
    return Accounts(
        source,
        target,
        source_password,
        target_password,
        target_readonly=target_readonly,
        target_stand_in=stand_in,
    )


def run_copy(args: argparse.Namespace) -> int:
    options = _options(args)
    accounts = _accounts(args, target_readonly=options.dry_run, copying=True)
    with ExitStack() as stack:
        journal: Journal | None = None
        if not options.dry_run or default_path().exists():
            journal = Journal()
            stack.callback(journal.close)
        session = stack.enter_context(CopySession(accounts, journal))
        plan = session.plan(options)
        if args.json and options.dry_run:
            print_json(plan_json(plan))
        elif not args.json:
            print_plan(plan)
        for warning in plan.warnings:
            print(f"mailmig: warning: {warning}", file=sys.stderr)
        if options.dry_run:
            return 0
        with ProgressDisplay(plan.messages_to_copy, plan.bytes_to_copy) as display:
            report = session.run(
                plan, on_event=display, settings=TransferSettings(connections=args.connections)
            )
    if args.report:
        write_report(args.report, report.as_json())
    if args.json:
        print_json(report.as_json())
    else:
        print(
            f"copied {report.copied} messages ({human_size(report.bytes)}) in "
            f"{report.elapsed:.1f} s; already there {report.already_present}, "
            f"too large {report.too_large}, failed {report.failed}"
        )
    for folder in report.folders:
        if folder.error and folder.error != report.error:  # the give-up line says it once
            print(f"mailmig: {folder.source}: {scrub(folder.error)}", file=sys.stderr)
    if report.error:
        print(f"mailmig: gave up: {scrub(report.error)}", file=sys.stderr)
        return 2
    return 0 if report.complete else 1


def write_report(path: str, data: dict[str, object]) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
    except OSError as exc:
        raise UsageError(f"cannot write the report {path}: {exc.strerror}") from None


def plan_json(plan: Plan) -> dict[str, object]:
    return {
        "folders": [
            {
                "source": w.mapping.source,
                "target": w.mapping.target,
                "reason": w.mapping.reason,
                "target_exists": w.target_exists,
                "source_messages": w.source.messages,
                "already_present": w.present,
                "to_copy": len(w.to_copy),
                "bytes": w.bytes_to_copy,
                "too_large": len(w.too_large),
            }
            for w in plan.folders
        ],
        "to_copy": plan.messages_to_copy,
        "bytes": plan.bytes_to_copy,
        "size_limit": plan.size_limit,
        "quota": list(plan.quota) if plan.quota else None,
        "warnings": plan.warnings,
        "source_preset": plan.source_preset.name if plan.source_preset else None,
        "target_preset": plan.target_preset.name if plan.target_preset else None,
    }


def print_plan(plan: Plan) -> None:
    rows = [["SOURCE", "TARGET", "HOW", "MESSAGES", "ON TARGET", "TO COPY", "SIZE", "TOO BIG"]]
    for w in plan.folders:
        rows.append(
            [
                w.mapping.source,
                w.mapping.target + ("" if w.target_exists else " (new)"),
                w.mapping.reason,
                str(w.source.messages),
                str(w.present),
                str(len(w.to_copy)),
                human_size(w.bytes_to_copy),
                str(len(w.too_large)),
            ]
        )
    print(f"Plan: {plan.source.display} -> {plan.target.display}")
    for side, preset in (("source", plan.source_preset), ("target", plan.target_preset)):
        if preset is not None:
            print(f"{side} is {preset.title}: " + "; ".join(preset.notes))
    print(table(rows, right=(3, 4, 5, 6, 7)))
    limit = human_size(plan.size_limit) if plan.size_limit else "none known"
    quota = (
        f"{human_size(plan.quota[0])} of {human_size(plan.quota[1])} used"
        if plan.quota
        else "none reported"
    )
    print(
        f"To copy: {plan.messages_to_copy} messages, {human_size(plan.bytes_to_copy)}; "
        f"size limit {limit}; target quota {quota}"
    )


def run_verify(args: argparse.Namespace) -> int:
    options = _options(args)
    accounts = _accounts(args, target_readonly=True, copying=False)
    with accounts.open_source() as source, accounts.open_target() as target:
        mapped = map_accounts(source, target, options)
        report = verify(source, target, [mapping for mapping, _info in mapped.pairs])
    if args.json:
        print_json(report.as_json())
    else:
        rows = [["SOURCE", "TARGET", "SOURCE MSGS", "TARGET MSGS", "MISSING"]]
        for f in report.folders:
            rows.append(
                [
                    f.source,
                    f.target + ("" if f.target_exists else " (missing)"),
                    str(f.source_messages),
                    str(f.target_messages),
                    str(len(f.missing)),
                ]
            )
        print(table(rows, right=(2, 3, 4)))
        for f in report.folders:
            for m in f.missing:
                print(f"missing: {f.source} UID {m.uid} {m.subject[:60]!r} {m.message_id}")
        print(
            "verified: nothing missing"
            if report.missing == 0
            else f"verify: {report.missing} messages missing on the target"
        )
    return 0 if report.missing == 0 else 1
