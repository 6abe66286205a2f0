"""The fast paths of a big Maildir folder: order without opening files, `ls --limit` reading
only what it prints, sizes without headers, a screened search that finds exactly what the
full scan finds. Behaviour only: file opens are counted through a hook, never timed."""

from __future__ import annotations

import builtins
import json
import os
import random
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from mailmig_tui.cli import main
from mailmig_tui.stores import maildir_index
from mailmig_tui.stores.base import MailStore, SearchQuery
from mailmig_tui.stores.local_common import crlf_size, matches, read_header
from mailmig_tui.stores.maildir import MaildirStore

T0 = 1_600_000_000
COUNT = 600
_SENDERS = [
    b"Grace Hopper <grace@example.org>",
    b"=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@example.de>",
    "Björn Weiß <b@example.de>".encode(),  # raw 8-bit, as old clients sent it
    b"IT <it@example.com>",
]
_BODIES = [
    b"Content-Type: text/plain\n\nThe quarterly report is attached.\n",
    b"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
    b"Die Lieferung f=C3=BCr den Kunden ist unter=\nwegs.\n",
    b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
    b"UXVhcnRlcmx5IG51bWJlcnMgZm9yIGdyYWNl\n",
    b"Content-Type: text/plain\n\nline one\nline two of the text\n",
]


_TRICKY_SENDERS = [
    # A word split over two encoded words (joined when decoded), and a Kelvin sign whose
    # case folding is the ASCII "k": a text search must still find both.
    b"=?utf-8?q?Mr_Zeb?=\n =?utf-8?b?cmFubw==?= <z@example.org>",
    b"=?utf-8?q?=E2=84=AAelvin_Lord?= <k@example.org>",
    b"=?x-unknown?q?Odd=E9_Charset?= <o@example.org>",
]


def message(rng: random.Random, n: int) -> bytes:
    subject = rng.choice([b"Quarterly report", b"Meeting notes", b"=?utf-8?q?Gr=C3=BC=C3=9Fe?="])
    folded = b"Subject: " + subject + (b"\n\tabout line two" if n % 7 == 0 else b"") + b"\n"
    sender = rng.choice(_SENDERS)
    if n % 11 == 0:
        sender = _TRICKY_SENDERS[n // 11 % len(_TRICKY_SENDERS)]
    return (
        f"Message-ID: <big-{n}@example.com>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n".encode()
        + b"From: "
        + sender
        + b"\nTo: anna@example.com\n"
        + folded
        + rng.choice(_BODIES)
    )


def make_big_maildir(root: Path, count: int = COUNT, vsize: bool = False) -> Path:
    """Courier-style names (no size unless `vsize`); mtimes out of the names' order."""
    rng = random.Random(5)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for n in range(count):
        data = message(rng, n)
        base = f"{T0 + n}.M{n}P1.host"
        if vsize:
            base += f",S={len(data)},W={crlf_size(data)}"
        path = root / "cur" / f"{base}:2,{'S' if n % 3 else ''}"
        path.write_bytes(data)
        stamp = T0 + rng.randrange(0, 10 * count)  # arrival differs from the name's time
        os.utime(path, (stamp, stamp))
    return root


@pytest.fixture()
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Message files the Maildir store opens (its module's `open`, hooked)."""
    paths: list[str] = []

    def counting(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str) and os.sep + "cur" + os.sep in file:
            paths.append(file)
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr("mailmig_tui.stores.maildir.open", counting, raising=False)
    return paths


def test_newest_first_orders_by_arrival_without_opening_a_file(
    tmp_path: Path, opened: list[str]
) -> None:
    root = make_big_maildir(tmp_path / "Maildir")
    with MaildirStore(str(root), readonly=True) as store:
        order = store.newest_first("INBOX")
        assert opened == []
        # The generic way (every probe read) gives the same order.
        assert order == MailStore.newest_first(store, "INBOX")
        assert sorted(order) == store.uids("INBOX")


def test_ls_limit_reads_only_the_messages_it_prints(
    tmp_path: Path, opened: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_big_maildir(tmp_path / "Maildir")
    assert main(["ls", f"maildir://{root}", "INBOX", "--limit", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(opened) == 5
    by_mtime = sorted(
        (p for p in (root / "cur").iterdir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    newest = [crlf_size(p.read_bytes()) for p in by_mtime[:5]]
    assert [r["size"] for r in rows] == newest


def test_ls_of_a_missing_local_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_big_maildir(tmp_path / "Maildir", count=3)
    assert main(["ls", f"maildir://{root}", "Nope"]) == 2
    assert "no folder 'Nope'" in capsys.readouterr().err


def test_sizes_for_a_plan_read_no_header(tmp_path: Path, opened: list[str]) -> None:
    root = make_big_maildir(tmp_path / "Maildir", vsize=True)
    with MaildirStore(str(root), readonly=True) as store:
        uids = store.uids("INBOX")
        probes = store.sizes("INBOX", uids)
        status = store.folder_status("INBOX")
    assert opened == []  # Dovecot's ",W=" names carry the sizes
    assert [p.uid for p in probes] == uids and all(p.headers == b"" for p in probes)
    assert sum(p.size for p in probes) == status.size
    expected = sum(crlf_size(p.read_bytes()) for p in (root / "cur").iterdir())
    assert status.size == expected


def test_sizes_without_vsize_read_each_file_once(tmp_path: Path, opened: list[str]) -> None:
    root = make_big_maildir(tmp_path / "Maildir")
    with MaildirStore(str(root), readonly=True) as store:
        status = store.folder_status("INBOX")
        probes = store.sizes("INBOX", store.uids("INBOX"))
    assert len(opened) == COUNT  # counted once, for the status; the plan's sizes reuse it
    assert sum(p.size for p in probes) == status.size


def _full_scan(root: Path, store: MaildirStore, query: SearchQuery) -> list[int]:
    """The search as it was: every file's header through the exact match."""
    hits = []
    for uid, mail in store._snapshot(str(root)).mails.items():
        path = root / mail.sub / mail.name
        with open(path, "rb") as f:
            block = read_header(f)
        when = store.summaries("INBOX", [uid])[0].internaldate
        if matches(query, block, when, crlf_size(path.read_bytes()), path.read_bytes):
            hits.append(uid)
    return hits


QUERIES = [
    SearchQuery(sender="grace"),
    SearchQuery(sender="müller"),
    SearchQuery(sender="WEISS"),
    SearchQuery(sender="weiß"),
    SearchQuery(subject="grüße"),
    SearchQuery(subject="report about"),
    SearchQuery(subject="about line two"),
    SearchQuery(text="quarterly"),
    SearchQuery(text="unterwegs"),
    SearchQuery(text="numbers for grace"),
    SearchQuery(text="line two"),
    SearchQuery(text="nowhere-at-all"),
    SearchQuery(text="Lieferung für"),
    SearchQuery(sender="grace", text="report"),
    SearchQuery(subject="meeting", larger=10),
    SearchQuery(text="zebrano"),
    SearchQuery(text="kelvin lord"),
    SearchQuery(text="odd"),
    SearchQuery(text="utf-8"),
]


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_screened_search_finds_exactly_what_a_full_scan_finds(
    tmp_path: Path, query: SearchQuery
) -> None:
    root = make_big_maildir(tmp_path / "Maildir", count=200)
    with MaildirStore(str(root), readonly=True) as store:
        assert store.search("INBOX", query) == _full_scan(root, store, query)


def test_two_read_only_stores_share_one_numbering(tmp_path: Path) -> None:
    """The TUI's browsing and paging stores: the second takes the first one's snapshot,
    and both hand out the same UIDs for the same files."""
    root = make_big_maildir(tmp_path / "Maildir", count=50)
    with MaildirStore(str(root), readonly=True) as first:
        order = first.newest_first("INBOX")
        with MaildirStore(str(root), readonly=True) as second:
            assert second.newest_first("INBOX") == order
            assert second.folder_status("INBOX") == first.folder_status("INBOX")
            uid = order[0]
            assert [s.message_id for s in second.summaries("INBOX", [uid])] == [
                s.message_id for s in first.summaries("INBOX", [uid])
            ]


def _forget_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new process starts with: no snapshot shared by an earlier store."""
    monkeypatch.setattr("mailmig_tui.stores.maildir._FRESH", OrderedDict())


@pytest.fixture()
def stats(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Message files stat'ed one by one (numbering and arrival order need their mtimes)."""
    names: list[str] = []
    real = os.stat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if kwargs.get("dir_fd") is not None or ":2," in str(path):
            names.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    monkeypatch.setattr(maildir_index, "MIN_MESSAGES", 10)
    return names


def test_a_later_process_takes_order_and_uids_from_the_state_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stats: list[str], isolated_mailmig: Path
) -> None:
    root = make_big_maildir(tmp_path / "Maildir", count=300)
    with MaildirStore(str(root), readonly=True) as store:
        order = store.newest_first("INBOX")
        status = store.folder_status("INBOX")
        first = store.summaries("INBOX", order[:3])
    assert len(stats) >= 300
    index_dir = isolated_mailmig / "state" / "maildir-index"
    (index_file,) = index_dir.iterdir()
    assert index_file.stat().st_mode & 0o777 == 0o600
    assert index_dir.stat().st_mode & 0o777 == 0o700
    _forget_in_memory(monkeypatch)
    stats.clear()
    with MaildirStore(str(root), readonly=True) as store:
        assert store.newest_first("INBOX") == order
        assert store.folder_status("INBOX").uidvalidity == status.uidvalidity
        assert store.summaries("INBOX", order[:3]) == first
    assert stats == []  # no message file stat'ed: the index answered


def test_a_changed_or_damaged_index_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stats: list[str], isolated_mailmig: Path
) -> None:
    root = make_big_maildir(tmp_path / "Maildir", count=300)
    with MaildirStore(str(root), readonly=True) as store:
        store.newest_first("INBOX")
    # A new message arrives, newest of all: the directories changed, the index is stale.
    newest = root / "new" / "1700000000.Mnew.host"
    newest.write_bytes(b"Subject: late\n\nbody\n")
    os.utime(newest, (T0 + 10**7, T0 + 10**7))
    _forget_in_memory(monkeypatch)
    with MaildirStore(str(root), readonly=True) as store:
        order = store.newest_first("INBOX")
        assert order == MailStore.newest_first(store, "INBOX")
        assert store.summaries("INBOX", order[:1])[0].subject == "late"
    (index_file,) = (isolated_mailmig / "state" / "maildir-index").iterdir()
    index_file.write_text(index_file.read_text()[:200])  # cut short
    _forget_in_memory(monkeypatch)
    with MaildirStore(str(root), readonly=True) as store:
        assert store.newest_first("INBOX") == order
