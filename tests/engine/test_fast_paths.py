"""The fast append paths and the connection pool are correct, with and without the
extensions they rely on (speed itself is measured by bench/, never asserted here)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailmig_tui.engine.events import CopyEvent, MessageCopied
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import connect_imap
from tests.support.corpus import bench_corpus
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_bulk

BASE_CAPS = "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT UNSELECT CHILDREN NAMESPACE UIDPLUS"
SERVERS = {
    "multiappend+literal+": None,  # Dovecot's own list
    "literal+ only": BASE_CAPS + " LITERAL+",
    "neither (Exchange/Gmail-like)": BASE_CAPS,
}
SIZE_LIMIT = 250_000


@pytest.fixture(scope="module", params=list(SERVERS), ids=list(SERVERS))
def limited_target(request: pytest.FixtureRequest) -> Iterator[DovecotServer]:
    server = DovecotServer(
        shape="courier", capabilities=SERVERS[request.param], max_mail_size=SIZE_LIMIT
    ).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def mixed_source(slash_server: DovecotServer) -> tuple[str, int]:
    """~150 messages in 5 folders, a few over the target's size limit in the middle."""
    user = slash_server.new_user()
    messages = list(bench_corpus(150, seed=11))
    assert any(len(m.data) > SIZE_LIMIT for m in messages)
    seed_bulk(slash_server, user, messages)
    return user, len(messages)


def spec(server: DovecotServer, user: str) -> AccountSpec:
    return AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )


def digests(server: DovecotServer, user: str, folder: str) -> list[str]:
    return [
        hashlib.sha256(e[b"BODY[]"]).hexdigest()  # type: ignore[arg-type]
        for e in folder_contents(server, user, folder)
    ]


@pytest.mark.parametrize("connections", [1, 4])
@pytest.mark.parametrize("batch_messages", [7, 100])
def test_batches_keep_order_bytes_and_isolate_refused_messages(
    slash_server: DovecotServer,
    limited_target: DovecotServer,
    mixed_source: tuple[str, int],
    tmp_path: Path,
    connections: int,
    batch_messages: int,
) -> None:
    source_user, _count = mixed_source
    target_user = limited_target.new_user()
    source_spec, target_spec = spec(slash_server, source_user), spec(limited_target, target_user)

    def open_source() -> MailStore:
        return connect_imap(source_spec, slash_server.password(source_user), readonly=True)

    def open_target() -> MailStore:
        return connect_imap(target_spec, limited_target.password(target_user), readonly=False)

    source, target = open_source(), open_target()
    caps = target.info().capabilities
    if limited_target.capabilities is not None:  # the path under test is really taken
        assert "MULTIAPPEND" not in caps
        assert ("LITERAL+" in caps) == ("LITERAL+" in limited_target.capabilities)
    else:
        assert {"MULTIAPPEND", "LITERAL+"} <= caps
    journal = Journal(tmp_path / "journal.sqlite3")
    plan = build_plan(source_spec, target_spec, source, target, journal, CopyOptions())
    assert plan.size_limit is None  # no APPENDLIMIT advertised: the server's NO [LIMIT] decides
    threads: set[str] = set()

    def on_event(event: CopyEvent) -> None:
        if isinstance(event, MessageCopied):
            threads.add(threading.current_thread().name)

    report = copy_folders(
        plan,
        source=source,
        target=target,
        open_source=open_source,
        open_target=open_target,
        journal=journal,
        on_event=on_event,
        settings=CopySettings(batch_messages=batch_messages, connections=connections),
    )
    assert report.error == ""
    if connections > 1:
        assert len(threads) > 1  # folders really went over several connection pairs
    for folder in report.folders:
        want = [d for d in digests(slash_server, source_user, folder.source)]
        sizes = {
            hashlib.sha256(e[b"BODY[]"]).hexdigest(): len(e[b"BODY[]"])  # type: ignore[arg-type]
            for e in folder_contents(slash_server, source_user, folder.source)
        }
        expected = [d for d in want if sizes[d] <= SIZE_LIMIT]
        # Source UID order kept, refused messages reported and the rest still copied.
        assert digests(limited_target, target_user, folder.target) == expected
        assert folder.too_large == len(want) - len(expected)
        assert folder.failed == 0
        assert all(f.too_large and f.message.subject for f in folder.failures)
    assert report.too_large > 0


def test_only_marked_messages_are_copied(
    slash_server: DovecotServer, courier_server: DovecotServer, tmp_path: Path
) -> None:
    """CopyOptions.only_uids (the TUI's marked messages) limits a folder to those UIDs."""
    from mailmig_tui.engine.plan import CopyOptions as Options
    from mailmig_tui.engine.session import Accounts, CopySession

    source_user, target_user = slash_server.new_user(), courier_server.new_user()
    seed_bulk(slash_server, source_user, bench_corpus(30, seed=5))
    accounts = Accounts(
        spec(slash_server, source_user),
        spec(courier_server, target_user),
        slash_server.password(source_user),
        courier_server.password(target_user),
    )
    with CopySession(accounts, Journal(tmp_path / "journal.sqlite3")) as session:
        uids = session.source.uids("INBOX")
        marked = frozenset(uids[1::3])
        plan = session.plan(Options(include=["INBOX"], only_uids={"INBOX": marked}))
        report = session.run(plan)
        wanted = [
            d
            for u, d in zip(uids, digests(slash_server, source_user, "INBOX"), strict=True)
            if u in marked
        ]
    assert report.copied == len(marked) > 0
    assert digests(courier_server, target_user, "INBOX") == wanted
