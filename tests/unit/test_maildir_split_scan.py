"""A big Maildir folder's text search on two processes finds exactly what one process finds,
in the same order, files gone since the listing included; a worker that dies at once costs
only speed. The threshold and chunk size are lowered so that a small folder takes the path."""

from __future__ import annotations

import contextlib
import os
import select
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from mailmig_tui.stores import maildir_scan, maildir_split_scan
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.maildir import MaildirStore
from mailmig_tui.stores.maildir_scan import MailFile
from tests.unit.test_big_maildir import QUERIES, make_big_maildir

TEXT_QUERIES = [query for query in QUERIES if query.text]


@pytest.fixture()
def split(monkeypatch: pytest.MonkeyPatch) -> list[maildir_split_scan._Worker]:
    """Every search of 100 files or more is split, in chunks of 40 files; the first chunk
    this process searches waits until the worker has taken one (an event: its first
    message), so both sides do part of the work however fast this process is."""
    monkeypatch.setattr(maildir_split_scan, "PARALLEL_FROM", 100)
    monkeypatch.setattr(maildir_split_scan, "CHUNK", 40)
    monkeypatch.setattr(maildir_split_scan, "_cores", lambda: 2)  # a 1-CPU runner too
    workers: list[maildir_split_scan._Worker] = []
    real_start = maildir_split_scan._Worker.start

    def start(
        folder_dir: str, query: SearchQuery, mails: Sequence[MailFile], size: int
    ) -> maildir_split_scan._Worker | None:
        worker = real_start(folder_dir, query, mails, size)
        if worker is not None:
            workers.append(worker)
        return worker

    real_scan = maildir_scan.scan

    def scan_once_the_worker_took_one(
        folder_dir: str, mails: Sequence[MailFile], query: SearchQuery, size: None = None
    ) -> list[int]:
        if workers and not workers[-1].taken:
            select.select([workers[-1].news], [], [], 60)
        return real_scan(folder_dir, mails, query)

    monkeypatch.setattr(maildir_split_scan._Worker, "start", start)
    monkeypatch.setattr(maildir_split_scan, "scan", scan_once_the_worker_took_one)
    return workers


def _serial(store: MaildirStore, query: SearchQuery, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    with monkeypatch.context() as patch:
        patch.setattr(maildir_split_scan, "PARALLEL_FROM", 10**9)
        return store.search("INBOX", query)


@pytest.mark.parametrize("query", TEXT_QUERIES, ids=str)
def test_two_processes_find_what_one_finds(
    tmp_path: Path,
    query: SearchQuery,
    split: list[maildir_split_scan._Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = make_big_maildir(tmp_path / "Maildir", count=400)
    store = MaildirStore(str(root), readonly=True)
    with store:
        found = store.search("INBOX", query)
        (worker,) = split
        assert worker.taken  # the worker searched part of the folder
        assert found == _serial(store, query, monkeypatch)


def test_a_file_gone_since_the_listing_is_skipped_on_both_sides(
    tmp_path: Path, split: list[maildir_split_scan._Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_big_maildir(tmp_path / "Maildir", count=400)
    query = SearchQuery(text="message")  # every file holds it (its Message-ID field)
    store = MaildirStore(str(root), readonly=True)
    with store:
        everything = store.search("INBOX", query)
        assert len(everything) == 400
        files = store._snapshot(str(root)).mails
        gone = [everything[3], everything[-3]]  # one from each end: each side has one
        for uid in gone:
            (root / files[uid].sub / files[uid].name).unlink()
        found = store.search("INBOX", query)
        assert split[-1].taken
        assert found == [uid for uid in everything if uid not in gone]
        assert found == _serial(store, query, monkeypatch)


def test_a_worker_that_dies_at_once_costs_only_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maildir_split_scan, "PARALLEL_FROM", 100)
    monkeypatch.setattr(maildir_split_scan, "CHUNK", 40)
    monkeypatch.setattr(maildir_split_scan, "_cores", lambda: 2)  # a worker is tried
    root = make_big_maildir(tmp_path / "Maildir", count=400)
    query = SearchQuery(text="quarterly")
    store = MaildirStore(str(root), readonly=True)
    with store:
        expected = _serial(store, query, monkeypatch)
        assert expected
        for interpreter in ("/bin/false", str(tmp_path / "no-such-python")):
            with monkeypatch.context() as patch:
                patch.setattr(sys, "executable", interpreter)
                assert store.search("INBOX", query) == expected


def test_a_worker_left_alone_searches_every_chunk_from_the_back(tmp_path: Path) -> None:
    """The worker's side on its own pipes, in this process: with no claim from the caller
    it takes every chunk, last first, and reports each chunk's hits."""
    root = make_big_maildir(tmp_path / "Maildir", count=130)
    query = SearchQuery(text="quarterly")
    store = MaildirStore(str(root), readonly=True)
    with store:
        mails = list(store._snapshot(str(root)).mails.values())
        expected = maildir_scan.scan(str(root), mails, query)
    job_out, job_in = os.pipe()
    claims_out, claims_in = os.pipe()
    news_out, news_in = os.pipe()
    maildir_split_scan._put(job_in, (str(root), query, 50, *maildir_split_scan._encode(mails)))
    os.close(job_in)
    maildir_split_scan.work(job_out, claims_out, news_in)
    os.close(news_in)
    messages = []
    with contextlib.suppress(EOFError):
        while True:
            messages.append(maildir_split_scan._take(news_out))
    assert [m for m in messages if len(m) == 1] == [(2,), (1,), (0,)]
    hits = {m[0]: m[1] for m in messages if len(m) == 2}
    assert [uid for chunk in range(3) for uid in hits[chunk]] == expected
    assert expected
    for fd in (claims_out, claims_in, news_out):
        os.close(fd)
