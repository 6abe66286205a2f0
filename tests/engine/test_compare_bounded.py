"""`engine.compare.on_target` stays cheap on big folders, over two real Dovecots.

The target is asked first: a missing or empty target folder answers without reading one
source message. Otherwise the source is probed in chunks (`CHUNK`, made small here), with
progress after each and a cancel check between them. A counting wrapper around the real
source store's `probes` records what was asked; the server is real.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mailmig_tui.engine import compare
from mailmig_tui.engine.compare import on_target
from mailmig_tui.engine.identity import Identity, TargetPool
from mailmig_tui.stores.base import HeaderProbe, MailStore
from tests.engine.test_compare import WHEN, mail, store
from tests.support.dovecot import DovecotServer


def count_probes(source: MailStore) -> list[int]:
    """Record the size of every `probes` request on `source` (the real call still runs)."""
    asked: list[int] = []
    real = source.probes

    def probes(folder: str, uids: Sequence[int]) -> list[HeaderProbe]:
        asked.append(len(uids))
        return list(real(folder, uids))

    source.probes = probes  # type: ignore[method-assign]
    return asked


def fill(server: DovecotServer, user: str, folder: str, numbers: list[int]) -> None:
    client = server.client(user)
    if folder != "INBOX" and not client.folder_exists(folder):
        client.create_folder(folder)
    for number in numbers:
        client.append(folder, mail(number), ["\\Seen"], WHEN)
    client.logout()


@pytest.mark.parametrize("target_folder", ["Missing", "Empty"])
def test_missing_or_empty_target_answers_without_reading_the_source(
    slash_server: DovecotServer, target_folder: str
) -> None:
    source_user, target_user = slash_server.new_user(), slash_server.new_user()
    fill(slash_server, source_user, "INBOX", [1, 2, 3])
    fill(slash_server, target_user, "Empty", [])
    with (
        store(slash_server, source_user, "source") as source,
        store(slash_server, target_user, "target") as target,
    ):
        uids = source.uids("INBOX")
        asked = count_probes(source)
        steps: list[tuple[int, int]] = []
        presence = on_target(
            source, target, "INBOX", target_folder, uids, progress=lambda *s: steps.append(s)
        )
    assert asked == [] and steps == []
    assert presence.complete and presence.total == 3 and not presence.uids
    assert presence.missing == sorted(uids)


def test_source_is_probed_in_chunks_with_progress_and_stops_when_cancelled(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compare, "CHUNK", 2)
    source_user, target_user = slash_server.new_user(), slash_server.new_user()
    fill(slash_server, source_user, "INBOX", [1, 2, 3, 4, 5])
    fill(slash_server, target_user, "Copy", [2, 4, 5])
    with (
        store(slash_server, source_user, "source") as source,
        store(slash_server, target_user, "target") as target,
    ):
        uids = source.uids("INBOX")
        asked = count_probes(source)
        steps: list[tuple[int, int]] = []
        presence = on_target(
            source, target, "INBOX", "Copy", uids, progress=lambda *s: steps.append(s)
        )
        assert asked == [2, 2, 1]
        assert steps == [(2, 5), (4, 5), (5, 5)]
        assert presence.complete and presence.uids == {uids[1], uids[3], uids[4]}
        assert presence.missing == [uids[0], uids[2]]
        assert set(presence.sizes) == set(uids)

        # Cancelled after the first chunk: no further request, and the answer says so.
        asked.clear()
        partial = on_target(source, target, "INBOX", "Copy", uids, cancelled=lambda: bool(asked))
    assert asked == [2]
    assert not partial.complete


def test_key_pool_matches_as_the_target_pool_does() -> None:
    """The compact pool takes what `TargetPool` takes: copies counted, near sizes only in
    the tolerant pass, arrival compared unless the source has none."""
    key, other = "ab" * 16, "cd" * 16
    compact, full = compare.KeyPool(), TargetPool()
    for uid, (size, when) in enumerate([(100, 5), (100, 5), (130, 5), (100, 9)], start=1):
        compact.add(Identity(key, "", size, when))
        full.add(Identity(key, "", size, when), uid)
    asked = [
        (key, 100, 5, True, True),
        (key, 100, 5, True, True),
        (key, 100, 5, True, False),  # both copies of that arrival used up
        (key, 120, 5, True, False),
        (key, 120, 5, False, True),  # 10 bytes off: the tolerant pass takes it
        (key, 100, 0, True, True),  # no arrival on the source: any arrival will do
        (key, 100, 0, True, False),
        (other, 100, 9, True, False),
    ]
    for digest, size, when, exact, expected in asked:
        identity = Identity(digest, "", size, when)
        assert compact.take(identity, exact=exact) is expected, identity
        assert (full.take(identity, exact=exact) is not None) is expected, identity
