"""`mailmig batch USERS.csv` and `mailmig coexistence`: many users, and routing meanwhile."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mailmig_tui.account_args import batch_job
from mailmig_tui.commands.common import (
    add_oauth2_options,
    add_password_command_options,
    print_json,
    table,
)
from mailmig_tui.commands.copy import add_filter_options
from mailmig_tui.engine.batch import UserResult, batch_summary
from mailmig_tui.engine.coexistence import (
    migrated_users,
    postfix_relay_recipients,
    postfix_transport,
)
from mailmig_tui.engine.events import CopyEvent, FolderDone
from mailmig_tui.engine.journal import Journal, default_path
from mailmig_tui.engine.report_file import write_report
from mailmig_tui.engine.wording import human_size
from mailmig_tui.errors import UsageError


def add_batch_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    batch: argparse.ArgumentParser = sub.add_parser(
        "batch", help="copy many users' mailboxes from a CSV, N at a time"
    )
    batch.add_argument("csv", metavar="USERS.csv")
    batch.add_argument(
        "--parallel", type=int, default=2, metavar="N", help="users copied at once (2)"
    )
    batch.add_argument(
        "--connections",
        type=int,
        default=None,
        metavar="N",
        help="the most connections each user's copy opens to each server (default: "
        "`connections` of the saved account or [settings], else from the server: 8, "
        "Exchange 16, Gmail 12)",
    )
    batch.add_argument(
        "--passwords-file",
        metavar="FILE",
        help="ACCOUNT<TAB>PASSWORD lines; the file must be mode 600",
    )
    batch.add_argument(
        "--passwords-in-csv",
        action="store_true",
        help="allow password columns in the CSV (you know the risk)",
    )
    batch.add_argument(
        "--source-host", default="", help="for Microsoft-style CSVs: the source IMAP host (imaps)"
    )
    batch.add_argument(
        "--target-host", default="", help="for Microsoft-style CSVs: the target IMAP host (imaps)"
    )
    batch.add_argument("--report", metavar="FILE.json", help="write the batch report as JSON")
    batch.add_argument(
        "--tui",
        action="store_true",
        help="show every user's state, rate and errors in a full screen",
    )
    # For rows without a source_password_command / target_password_command column.
    add_password_command_options(batch, {"source", "target"})
    add_oauth2_options(batch, {"source", "target"})  # e.g. --target-oauth2 microsoft-app
    add_filter_options(batch)
    return batch


def run_batch_command(args: argparse.Namespace) -> int:
    """The headless batch; `--tui` is dispatched to the TUI by cli.py before this."""
    job = batch_job(args)

    def show(result: UserResult, event: CopyEvent | None) -> None:
        if event is None and result.state != "copying":
            report = result.report
            if report is not None and report.verify is not None and report.verify.missing:
                state = f"{result.state} ({report.verify.missing} missing on the target)"
            else:
                state = result.state
            print(
                f"{state}: {result.user.label}" + (f": {result.error}" if result.error else ""),
                file=sys.stderr,
                flush=True,
            )
            if report is not None and report.log_path is not None:
                print(f"mailmig: log: {report.log_path}", file=sys.stderr, flush=True)
        elif event is None:
            print(f"copying: {result.user.label}", file=sys.stderr, flush=True)
        elif isinstance(event, FolderDone) and event.report.failed + event.report.too_large:
            r = event.report
            print(
                f"  {result.user.source} {r.source}: failed {r.failed}, too large {r.too_large}",
                file=sys.stderr,
                flush=True,
            )

    results = job.run(on_event=show)
    summary = batch_summary(results)
    if args.report:
        write_report(args.report, summary)
    if args.json:
        print_json(summary)
    else:
        rows = [["ROW", "SOURCE", "TARGET", "STATE", "COPIED", "SIZE", "FAILED"]]
        for r in results:
            rep = r.report
            rows.append(
                [
                    str(r.user.row),
                    r.user.source,
                    r.user.target,
                    r.state,
                    str(rep.copied if rep else 0),
                    human_size(rep.bytes if rep else 0),
                    str(rep.failed + rep.too_large if rep else 0),
                ]
            )
        print(table(rows, right=(0, 4, 5, 6)))
    return 0 if all(r.state == "done" for r in results) else 1


def run_coexistence(args: argparse.Namespace) -> int:
    if not default_path().exists():
        raise UsageError(
            "the journal is empty: nobody was migrated yet",
            "run `mailmig copy` or `mailmig batch` first",
        )
    journal = Journal()
    try:
        users = migrated_users(journal.migrated_sources(), args.domain)
    finally:
        journal.close()
    files = {
        "transport": postfix_transport(users, args.smtp_port),
        "relay_recipients": postfix_relay_recipients(users),
    }
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, "utf-8")
        print(
            f"wrote {out / 'transport'} and {out / 'relay_recipients'} for {len(users)} "
            "users; run postmap on both, then point transport_maps and "
            "relay_recipient_maps at them",
            file=sys.stderr,
        )
    else:
        print("# /etc/postfix/transport\n" + files["transport"])
        print("# /etc/postfix/relay_recipients\n" + files["relay_recipients"], end="")
    return 0
