"""`mailmig folders` and `mailmig ls`: look inside an account without changing it."""

from __future__ import annotations

import argparse

from mailmig_tui.commands.common import open_account, print_json, table
from mailmig_tui.engine.wording import human_size
from mailmig_tui.errors import UsageError
from mailmig_tui.model import FolderInfo, MessageSummary


def run_folders(args: argparse.Namespace) -> int:
    spec, store = open_account(args.account, args, role="source", readonly=True)
    with store:
        folders = store.list_folders(with_status=True)
    if args.json:
        print_json([folder_json(f) for f in folders])
        return 0
    rows = [["FOLDER", "SPECIAL", "MESSAGES", "UNSEEN", "SIZE"]]
    for folder in folders:
        rows.append(
            [
                folder.name + ("" if folder.selectable else " (no messages)"),
                folder.special_use.value if folder.special_use else "",
                str(folder.messages) if folder.selectable else "",
                str(folder.unseen) if folder.selectable else "",
                human_size(folder.size) if folder.selectable else "",
            ]
        )
    delimiter = folders[0].delimiter if folders else None
    print(f"{spec.display}  (hierarchy delimiter {delimiter!r})")
    print(table(rows, right=(2, 3, 4)))
    return 0


def folder_json(folder: FolderInfo) -> dict[str, object]:
    return {
        "name": folder.name,
        "delimiter": folder.delimiter,
        "special_use": folder.special_use.value if folder.special_use else None,
        "messages": folder.messages,
        "unseen": folder.unseen,
        "size": folder.size,
    }


def run_ls(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    _spec, store = open_account(args.account, args, role="source", readonly=True)
    with store:
        store.folder_status(args.folder)  # a missing folder fails here with its own message
        uids = store.newest_first(args.folder)
        if args.limit is not None:
            uids = uids[: args.limit]
        summaries = store.summaries(args.folder, uids)
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
