"""`mailmig copy` and `mailmig verify`: the engine driven from the command line."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from dataclasses import replace

from mailmig_tui import paths, presets, secrets
from mailmig_tui.account_args import resolve_role
from mailmig_tui.accounts import needs_password
from mailmig_tui.commands.common import print_json, table
from mailmig_tui.commands.progress import ProgressDisplay
from mailmig_tui.config import load_config
from mailmig_tui.engine.copy_service import CopyRequest, CopyService
from mailmig_tui.engine.events import CopyReport
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.mapping import parse_map_option
from mailmig_tui.engine.plan import CopyOptions, Plan, filter_options
from mailmig_tui.engine.report_file import check_report_path, write_report
from mailmig_tui.engine.session import Accounts
from mailmig_tui.engine.verify import VerifyReport
from mailmig_tui.engine.wording import (
    altered_line,
    flags_line,
    human_size,
    missing_line,
    quota_text,
    size_limit_text,
)
from mailmig_tui.errors import UsageError
from mailmig_tui.kinds import kind_of, require_target
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


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """--since, --before, --skip-larger-than: `mailmig copy` and `mailmig batch`."""
    group = parser.add_argument_group("copy filter (what is left out counts as filtered out)")
    group.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="only messages received on this day or later (INTERNALDATE, as IMAP SINCE)",
    )
    group.add_argument(
        "--before",
        metavar="YYYY-MM-DD",
        help="only messages received before this day (INTERNALDATE, as IMAP BEFORE)",
    )
    group.add_argument(
        "--skip-larger-than",
        metavar="SIZE",
        help="only messages of at most SIZE (bytes, or 500K, 25M, 1G); not the target's "
        "size limit (--max-size): what this leaves out is not a failure",
    )


def add_copy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument(
        "--max-size",
        type=int,
        metavar="BYTES",
        help="count larger messages as too large instead of sending them (the target's size "
        "limit: the smaller of this and APPENDLIMIT applies; replaces the preset's)",
    )
    add_filter_options(parser)
    parser.add_argument("--report", metavar="FILE.json", help="write the report as JSON")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not check the copied folders on the target afterwards",
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="send a message the target refuses once more in a repaired form (bare LF to "
        "CRLF, 8-bit headers RFC 2047 encoded, NUL removed); reported as altered",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=None,
        metavar="N",
        help="the most connections to each server: a pair per folder copied at once, the "
        "rest fetch big folders in parallel (default: `connections` of the saved account or "
        "[settings], else from the server: 8, Exchange 16, Gmail 12)",
    )


def _options(args: argparse.Namespace) -> CopyOptions:
    connections = getattr(args, "connections", None)
    if connections is not None and connections < 1:
        raise UsageError("--connections must be 1 or more", "8 suits most servers")
    report = getattr(args, "report", None)
    if report:
        check_report_path(report)
    max_size = getattr(args, "max_size", None)
    if max_size is not None and max_size < 1:
        raise UsageError("--max-size must be a positive number of bytes")
    copy_filter = filter_options(args)
    return CopyOptions(
        include=args.folder,
        exclude=args.exclude,
        overrides=parse_map_option(args.map),
        max_size=max_size,
        since=copy_filter.since,
        before=copy_filter.before,
        skip_larger_than=copy_filter.skip_larger_than,
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
    if copying:
        require_target(target)
    stand_in = None
    writes_files = kind_of(target).local and kind_of(target).can_be_target  # a Maildir
    if target_readonly and writes_files and not os.path.exists(target.path):
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


def _connections(args: argparse.Namespace, accounts: Accounts) -> int | None:
    """--connections, else the saved accounts' or [settings] `connections`, else None: the
    server presets decide (`presets.default_connections`)."""
    if getattr(args, "connections", None) is not None:  # verify has no --connections
        return int(args.connections)
    return load_config().connection_limit(accounts.source, accounts.target)


def _description(options: CopyOptions) -> str:
    text = "folders " + ", ".join(options.include) if options.include else "all folders"
    if options.exclude:
        text += " except " + ", ".join(options.exclude)
    if options.filter.active:
        text += f" ({options.filter.describe()})"
    return text


def run_copy(args: argparse.Namespace) -> int:
    options = _options(args)
    accounts = _accounts(args, target_readonly=options.dry_run, copying=True)
    request = CopyRequest(
        options=options,
        settings=CopySettings(connections=_connections(args, accounts), repair=args.repair),
        verify=not args.no_verify,
        description=_description(options),
    )
    service = CopyService(accounts)
    prepared = service.prepare(request)
    try:
        plan = prepared.plan
        if args.json and options.dry_run:
            print_json(plan_json(plan))
        elif not args.json:
            print_plan(plan)
        for warning in plan.warnings:
            print(f"mailmig: warning: {warning}", file=sys.stderr)
    except BaseException:
        prepared.close()
        raise
    if options.dry_run:
        prepared.close()
        return 0
    with ProgressDisplay(plan.messages_to_copy, plan.bytes_to_copy) as display:
        report = service.run(prepared, on_event=display)
    if args.report:
        write_report(args.report, report.as_json())
    if args.json:
        print_json(report.as_json())
    else:
        print(
            f"copied {report.copied} messages ({human_size(report.bytes)}) in "
            f"{report.elapsed:.1f} s; already there {report.already_present}, "
            f"too large {report.too_large}, failed {report.failed}, "
            f"not copied {report.not_copied}"
            + (f", filtered out {report.filtered_out}" if options.filter.active else "")
            + (f", repaired {report.repaired}" if report.repaired else "")
        )
    return _copy_status(report)


def _copy_status(report: CopyReport) -> int:
    """The lines for stderr after a copy, the log path last; returns the exit status."""
    for folder in report.folders:
        if folder.error and folder.error != report.error:  # the give-up line says it once
            print(f"mailmig: {folder.source}: {scrub(folder.error)}", file=sys.stderr)
    for folder in report.folders:
        for altered in folder.repaired:
            print(f"mailmig: {scrub(altered_line(altered, 'repaired'))}", file=sys.stderr)
    if report.verify is not None:
        _print_missing(report.verify)
        _print_warnings(report.verify)
        if report.verify.missing == 0:
            print(f"mailmig: verified: {report.verify.checked} messages", file=sys.stderr)
    elif report.verify_problem:
        print(f"mailmig: verify: {scrub(report.verify_problem)}", file=sys.stderr)
    if report.error:
        print(f"mailmig: gave up: {scrub(report.error)}", file=sys.stderr)
    _print_log(report.log_path)
    if report.error:
        return 2
    return 0 if report.complete else 1


def _print_missing(result: VerifyReport) -> None:
    for folder in result.folders:
        for ref in folder.missing:
            line = missing_line(folder.source, ref.uid, ref.subject, ref.message_id)
            print(f"mailmig: {scrub(line)}", file=sys.stderr)
    if result.missing:
        print(
            f"mailmig: verify: {result.missing} messages are not on the target; "
            "copy again to send them",
            file=sys.stderr,
        )


def _print_warnings(result: VerifyReport) -> None:
    """Altered copies and flag differences: warnings, named one by one, then counted."""
    for folder in result.folders:
        for altered in folder.altered:
            print(f"mailmig: warning: {scrub(altered_line(altered))}", file=sys.stderr)
        for diff in folder.flag_differences:
            ref = diff.message
            line = flags_line(
                ref.folder, ref.uid, ref.subject, diff.source_flags, diff.target_flags
            )
            print(f"mailmig: warning: {scrub(line)}", file=sys.stderr)
        if folder.error:
            print(f"mailmig: {folder.source}: not checked: {scrub(folder.error)}", file=sys.stderr)
    if result.altered:
        print(
            f"mailmig: verify: {result.altered} messages are on the target but altered by it",
            file=sys.stderr,
        )
    if result.flag_differences:
        print(
            f"mailmig: verify: {result.flag_differences} messages have other flags on the "
            "target; copy again to update them",
            file=sys.stderr,
        )


def _print_log(path: object) -> None:
    if path is None:
        print(
            f"mailmig: log: none (cannot write to {paths.log_dir()}; set MAILMIG_LOG_DIR)",
            file=sys.stderr,
        )
    else:
        print(f"mailmig: log: {path}", file=sys.stderr)


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
                "filtered_out": len(w.filtered_out),
            }
            for w in plan.folders
        ],
        "to_copy": plan.messages_to_copy,
        "filtered_out": plan.filtered_out,
        "bytes": plan.bytes_to_copy,
        "size_limit": plan.size_limit,
        "quota": list(plan.quota) if plan.quota else None,
        "warnings": plan.warnings,
        "source_preset": plan.source_preset.name if plan.source_preset else None,
        "target_preset": plan.target_preset.name if plan.target_preset else None,
    }


def print_plan(plan: Plan) -> None:
    filtered = plan.filter.active
    rows = [["SOURCE", "TARGET", "HOW", "MESSAGES", "ON TARGET", "TO COPY", "SIZE", "TOO BIG"]]
    if filtered:
        rows[0].append("FILTERED")
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
                *([str(len(w.filtered_out))] if filtered else []),
            ]
        )
    print(f"Plan: {plan.source.display} -> {plan.target.display}")
    for side, preset in (("source", plan.source_preset), ("target", plan.target_preset)):
        if preset is not None:
            print(f"{side} is {preset.title}: " + "; ".join(preset.notes))
    print(table(rows, right=(3, 4, 5, 6, 7, 8) if filtered else (3, 4, 5, 6, 7)))
    if filtered:
        print(f"Filter: {plan.filter.describe()}; filtered out: {plan.filtered_out} messages")
    print(
        f"To copy: {plan.messages_to_copy} messages, {human_size(plan.bytes_to_copy)}; "
        f"size limit {size_limit_text(plan.size_limit)}; target quota {quota_text(plan.quota)}"
    )


def run_verify(args: argparse.Namespace) -> int:
    options = _options(args)
    accounts = _accounts(args, target_readonly=True, copying=False)
    report, log = CopyService(accounts).verify(options, connections=_connections(args, accounts))
    if args.json:
        print_json({**report.as_json(), "log": str(log) if log is not None else None})
    else:
        rows = [["SOURCE", "TARGET", "SOURCE MSGS", "TARGET MSGS", "MISSING", "ALTERED"]]
        for f in report.folders:
            rows.append(
                [
                    f.source + (" (unreadable)" if f.error else ""),
                    f.target + ("" if f.target_exists else " (missing)"),
                    str(f.source_messages),
                    str(f.target_messages),
                    str(len(f.missing)),
                    str(len(f.altered)),
                ]
            )
        print(table(rows, right=(2, 3, 4, 5)))
        for f in report.folders:
            for m in f.missing:
                print(missing_line(f.source, m.uid, m.subject, m.message_id))
        print(
            "verified: nothing missing"
            if report.missing == 0
            else f"verify: {report.missing} messages missing on the target"
        )
    _print_warnings(report)
    _print_log(log)
    return 0 if report.ok else 1
