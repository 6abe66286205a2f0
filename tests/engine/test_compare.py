"""`engine.compare` over two real Dovecots: counts per folder, and presence by content identity.

Identical copies are counted, not collapsed: two equal source messages and one copy of them
on the target make one of the two present, never both.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mailmig_tui.engine.compare import on_target, target_counts, target_folder_of
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.open import open_store
from tests.support.dovecot import DovecotServer

WHEN = datetime(2025, 5, 1, 12, tzinfo=UTC)


def mail(number: int, extra: str = "") -> bytes:
    return (
        f"Message-ID: <cmp-{number}@example.test>\r\n"
        "Date: Thu, 01 May 2025 12:00:00 +0000\r\n"
        "From: Bob <bob@example.test>\r\n"
        f"Subject: compare {number}\r\n\r\nbody {number}{extra}\r\n"
    ).encode()


def store(server: DovecotServer, user: str, role: str) -> MailStore:
    spec = AccountSpec(
        kind="imap", user=user, host="127.0.0.1", port=server.imap_port, security=Security.PLAIN
    )
    return open_store(
        spec,
        role=role,
        readonly=role == "source",
        password=lambda *_: server.password(user),
    )


def test_duplicates_count_once_each_and_counts_follow_the_map(
    slash_server: DovecotServer, courier_server: DovecotServer
) -> None:
    source_user, target_user = slash_server.new_user(), courier_server.new_user()
    client = slash_server.client(source_user)
    client.create_folder("Lists/Dev")
    for data in (mail(1), mail(1), mail(2), mail(3, " changed")):
        client.append("Lists/Dev", data, ["\\Seen"], WHEN)
    client.logout()
    client = courier_server.client(target_user)
    client.create_folder("INBOX.Lists.Dev")
    for data in (mail(1), mail(3)):  # one copy of 1; 3 differs in its body's size
        client.append("INBOX.Lists.Dev", data, ["\\Seen"], WHEN)
    client.logout()

    with (
        store(slash_server, source_user, "source") as source,
        store(courier_server, target_user, "target") as target,
    ):
        counts = target_counts(source, target, {})
        assert counts["Lists/Dev"].target == "INBOX.Lists.Dev"
        assert counts["Lists/Dev"].messages == 2
        assert counts["Lists/Dev"].difference(4) == -2
        assert counts["INBOX"].messages == 0
        folder = target_folder_of(source, target, "Lists/Dev", {})
        assert folder == "INBOX.Lists.Dev"
        presence = on_target(source, target, "Lists/Dev", folder)
    # UIDs 1 and 2 hold the same message: exactly one of them is on the target. Message 3's
    # body differs by 8 bytes on the source: a near copy, taken in the second pass.
    assert presence.total == 4
    assert len(presence.uids & {1, 2}) == 1
    assert 3 not in presence.uids
    assert 4 in presence.uids
    assert len(presence.missing) == 2 and set(presence.sizes) == {1, 2, 3, 4}
