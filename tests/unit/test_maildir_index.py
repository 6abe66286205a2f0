"""The state dir's index of a big read-only Maildir folder gives a later process the same
UIDs, order and files as numbering afresh: for files in new/ as in cur/, and for names that
are not UTF-8 or hold a tab (both possible on disk), with no message file stat'ed."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from mailmig_tui.stores import maildir_index
from mailmig_tui.stores.maildir import MaildirStore

T0 = 1_600_000_000


def _maildir(root: Path, count: int) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for n in range(count):
        if n % 5 == 0:
            path = os.path.join(root, "new", f"{T0 + n}.M{n}P1.host")
        elif n % 7 == 0:  # a byte that is not UTF-8, and a tab
            path = os.fsdecode(
                os.path.join(os.fsencode(root), b"cur", b"%d.\xff\tM%d:2,S" % (T0, n))
            )
        else:
            path = os.path.join(root, "cur", f"{T0 + n}.M{n}P1.host,S=40:2,S")
        with open(path, "wb") as f:
            f.write(f"Subject: message {n}\n\nbody {n}\n".encode())
        stamp = T0 + (n * 7919) % 1000  # arrival in another order than the names, with ties
        os.utime(path, (stamp, stamp))
    return root


def test_the_index_gives_a_later_process_the_same_numbering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_mailmig: Path
) -> None:
    monkeypatch.setattr(maildir_index, "MIN_MESSAGES", 10)
    root = _maildir(tmp_path / "Maildir", 200)
    with MaildirStore(str(root), readonly=True) as store:
        order = store.newest_first("INBOX")
        status = store.folder_status("INBOX")
        subjects = [s.subject for s in store.summaries("INBOX", order)]
    assert len(order) == 200 and sorted(order) == list(range(1, 201))
    assert "message 7" in subjects and "message 5" in subjects  # odd names and new/ read
    monkeypatch.setattr("mailmig_tui.stores.maildir._FRESH", OrderedDict())
    stats: list[Any] = []
    real = os.stat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if kwargs.get("dir_fd") is not None or ":2," in str(path):
            stats.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    with MaildirStore(str(root), readonly=True) as store:
        assert store.newest_first("INBOX") == order
        assert stats == []  # the index answered
        assert store.folder_status("INBOX") == status
        assert [s.subject for s in store.summaries("INBOX", order)] == subjects


def test_an_index_of_another_shape_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_mailmig: Path
) -> None:
    monkeypatch.setattr(maildir_index, "MIN_MESSAGES", 10)
    root = _maildir(tmp_path / "Maildir", 30)
    with MaildirStore(str(root), readonly=True) as store:
        order = store.newest_first("INBOX")
    (index_file,) = (isolated_mailmig / "state" / "maildir-index").iterdir()
    lines = index_file.read_bytes().split(b"\n")
    lines[4] = lines[4][:-1]  # one sub dir letter short: the columns disagree
    index_file.write_bytes(b"\n".join(lines))
    monkeypatch.setattr("mailmig_tui.stores.maildir._FRESH", OrderedDict())
    with MaildirStore(str(root), readonly=True) as store:
        assert store.newest_first("INBOX") == order
