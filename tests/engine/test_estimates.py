"""The plan's time estimate: measured while planning (round trips and a sample fetch) when no
earlier copy of the pair was measured, modelled the same way every time, never a guess of
20 messages a second. Times themselves are never asserted: only what was measured and how
the model combines it."""

from __future__ import annotations

from datetime import UTC, datetime

from mailmig_tui.engine.copy_service import CopyRequest, CopyService
from mailmig_tui.engine.events import CopyReport, FolderReport
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import FolderKey
from mailmig_tui.engine.mapping import FolderMapping
from mailmig_tui.engine.plan import FolderWork, Plan
from mailmig_tui.engine.rates import LinkSample, modelled_estimate, save_rate
from mailmig_tui.engine.session import Accounts
from mailmig_tui.model import AccountSpec, FolderInfo
from mailmig_tui.stores.base import HeaderProbe
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec, seed_many


def folder(name: str, messages: int, size: int) -> FolderWork:
    work = FolderWork(
        FolderMapping(name, name, "path"),
        FolderInfo(name, "/"),
        True,
        FolderKey("a", name, 1, "b", name),
    )
    when = datetime(2024, 1, 1, tzinfo=UTC)
    work.to_copy = [HeaderProbe(uid, size, when, b"") for uid in range(1, messages + 1)]
    return work


def plan_of(*works: FolderWork) -> Plan:
    one = AccountSpec(kind="imap", user="u", host="one.example", port=993)
    two = AccountSpec(kind="imap", user="u", host="two.example", port=993)
    return Plan(one, two, list(works), None, None)


def test_the_model_combines_round_trips_per_message_time_and_bytes() -> None:
    # 10 messages of 10,000 bytes fetched in 0.11 s with a 10 ms round trip: 10 ms a
    # message, 1 MB/s. A folder of 1,000 such: 10 batches of 100.
    link = LinkSample(0.01, 0.02, 10, 100_000, 0.11, target_pipelines=True)
    settings = CopySettings(batch_messages=100, connections=4)
    guess = modelled_estimate(plan_of(folder("INBOX", 1000, 1000)), link, settings)
    # Appending sets the pace: 10 round trips of 20 ms + 1,000 x 10 ms x 8 (WRITE_COST).
    assert round(guess.seconds, 6) == 80.2
    assert guess.rate.sampled and not guess.rate.measured and guess.rate.link == link
    assert round(guess.rate.messages_per_second, 3) == round(1000 / 80.2, 3)

    no_literal_plus = LinkSample(0.01, 0.02, 10, 100_000, 0.11, target_pipelines=False)
    slow = modelled_estimate(plan_of(folder("INBOX", 1000, 1000)), no_literal_plus, settings)
    assert round(slow.seconds, 6) == 100.0  # a round trip per message: 20 s more

    # Big messages: bytes set the pace (100 MB at 1 MB/s), on both sides.
    big = modelled_estimate(plan_of(folder("INBOX", 100, 1_000_000)), link, settings)
    assert round(big.seconds, 6) == 100.0 + 0.02

    # Two equal folders on two workers take as long as one; the largest sets the floor.
    two = modelled_estimate(
        plan_of(folder("INBOX", 1000, 1000), folder("Sent", 1000, 1000)), link, settings
    )
    assert round(two.seconds, 6) == 80.2


def test_planning_measures_the_link_and_reads_only(slash_server: DovecotServer) -> None:
    source, target = slash_server.new_user(), slash_server.new_user()
    seed_many(slash_server, source, "INBOX", 60)
    client = slash_server.client(source)
    client.select_folder("INBOX")
    client.remove_flags(client.search("ALL"), ["\\Seen"])  # unread: a fetch must not read
    accounts = Accounts(
        imap_spec(slash_server, source),
        imap_spec(slash_server, target),
        slash_server.password(source),
        slash_server.password(target),
    )
    prepared = CopyService(accounts).prepare(CopyRequest())
    try:
        guess = prepared.estimate
        link = guess.rate.link
        assert guess.rate.sampled and link is not None
        assert link.messages == 20  # the first 20 to copy, well under the byte bound
        sampled = prepared.plan.folders[0].to_copy[:20]
        assert link.bytes == sum(p.size for p in sampled)
        assert link.source_rtt > 0 and link.target_rtt > 0 and link.seconds > 0
        assert link.target_pipelines  # Dovecot has LITERAL+
        assert guess.rate.messages_per_second > 0 and guess.seconds > 0
    finally:
        prepared.close()
    client.select_folder("INBOX", readonly=True)
    assert client.search("SEEN") == []  # the sample was fetched with BODY.PEEK
    client.logout()


def test_an_earlier_copy_of_the_pair_is_used_without_measuring(
    slash_server: DovecotServer,
) -> None:
    source, target = slash_server.new_user(), slash_server.new_user()
    seed_many(slash_server, source, "INBOX", 5)
    accounts = Accounts(
        imap_spec(slash_server, source),
        imap_spec(slash_server, target),
        slash_server.password(source),
        slash_server.password(target),
    )
    report = CopyReport([FolderReport("INBOX", "INBOX", copied=600, bytes=6_000_000)], 2)
    save_rate(accounts.source, accounts.target, report)
    prepared = CopyService(accounts).prepare(CopyRequest())
    try:
        rate = prepared.estimate.rate
        assert rate.measured and not rate.sampled and rate.messages_per_second == 300
    finally:
        prepared.close()
