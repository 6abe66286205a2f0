"""`mailmig folders` and `mailmig ls`: look inside an account without changing it."""

from __future__ import annotations

import argparse
import sys

from mailmig_tui.commands.common import open_account, print_json, table
from mailmig_tui.engine.wording import human_size
from mailmig_tui.errors import FolderMissing, UsageError
from mailmig_tui.model import FolderInfo, MessageSummary
from mailmig_tui.special import is_inbox


def run_folders(args: argparse.Namespace) -> int:
    spec, store = open_account(args.account, args, role="source", readonly=True)
    with store:
        folders = store.list_folders(with_status=True)
    # A folder that cannot be opened is listed with its error; the others still are.
    unreadable = [f for f in folders if f.error]
    if args.json:
        print_json([folder_json(f) for f in folders])
    else:
        rows = [["FOLDER", "SPECIAL", "MESSAGES", "UNSEEN", "SIZE"]]
        for folder in folders:
            counted = folder.selectable and not folder.error
            suffix = " (unreadable)" if folder.error else ""
            rows.append(
                [
                    folder.name + (suffix if folder.selectable else " (no messages)"),
                    folder.special_use.value if folder.special_use else "",
                    str(folder.messages) if counted else "",
                    str(folder.unseen) if counted else "",
                    human_size(folder.size) if counted else "",
                ]
            )
        # INBOX may have none (NIL on mbox servers): the first folder that has one.
        delimiter = next((f.delimiter for f in folders if f.delimiter), None)
        print(f"{spec.display}  (hierarchy delimiter {delimiter!r})")
        print(table(rows, right=(2, 3, 4)))
    for folder in unreadable:
        print(f"mailmig: {folder.name}: cannot be opened: {folder.error}", file=sys.stderr)
    return 1 if unreadable else 0


def folder_json(folder: FolderInfo) -> dict[str, object]:
    return {
        "name": folder.name,
        "delimiter": folder.delimiter,
        "special_use": folder.special_use.value if folder.special_use else None,
        "messages": folder.messages,
        "unseen": folder.unseen,
        "size": folder.size,
        "error": folder.error or None,
    }


def run_ls(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    spec, store = open_account(args.account, args, role="source", readonly=True)
    with store:
        try:
            uids = store.newest_first(args.folder)
        except FolderMissing as missing:
            if missing.hint != FolderMissing.default_hint:
                raise  # the store knows better (a POP3 account has only INBOX)
            # Only now the folder list (not its STATUS, which would add up the sizes of a
            # whole folder): a round trip less at a far server when the folder is there.
            names = {f.name for f in store.list_folders(with_status=False) if f.selectable}
            if args.folder not in names and not is_inbox(args.folder):
                raise FolderMissing(f"no folder {args.folder!r} on {spec.display}") from None
            raise
        if args.limit is not None:
            uids = uids[: args.limit]
        summaries = store.summaries(args.folder, uids)  # only what is printed is read
    if args.json:
        print_json([summary_json(s) for s in summaries])
        return 0
    rows = [["UID", "DATE", "FROM", "SUBJECT", "SIZE", "FLAGS"]]
    for s in summaries:
        when = s.date or s.internaldate
        rows.append(
            [
                str(s.uid),
                when.strftime("%Y-%m-%d %H:%M") if when else "",
                s.sender[:30],
                s.subject[:50],
                human_size(s.size),
                " ".join(s.flags),
            ]
        )
    print(table(rows, right=(0, 4)))
    return 0


def summary_json(summary: MessageSummary) -> dict[str, object]:
    when = summary.date or summary.internaldate
    return {
        "uid": summary.uid,
        "date": when.isoformat() if when else None,
        "from": summary.sender,
        "subject": summary.subject,
        "size": summary.size,
        "flags": list(summary.flags),
    }
