"""Probes with the next request in flight (issue 12), on Dovecot, for verify's big folders.

- Over a folder of three FETCH chunks, each chunk's UID FETCH is sent before the one before
  it is answered (at most `PROBES_AHEAD` + 1 outstanding: 2 and 3 are tried), and the
  probes are those of `probes`.
- A caller that stops after the first chunk leaves the connection in step: closing reads
  the answer still on its way, and the next commands get their own answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from mailmig_tui.stores import imap
from mailmig_tui.stores.imap import FETCH_CHUNK, ImapStore, connect_imap
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec, seed_many

MESSAGES = FETCH_CHUNK * 4 + 7
"""Three UID FETCH chunks of probes (FETCH_CHUNK * 2 each), the last a short one."""


@pytest.fixture(scope="module")
def big_folder(slash_server: DovecotServer) -> tuple[DovecotServer, str]:
    user = slash_server.new_user()
    seed_many(slash_server, user, "Big", MESSAGES)
    return slash_server, user


@pytest.fixture
def store(big_folder: tuple[DovecotServer, str]) -> Iterator[ImapStore]:
    server, user = big_folder
    opened = connect_imap(imap_spec(server, user), server.password(user), readonly=True)
    yield opened
    opened.close()


def record(store: ImapStore) -> list[str]:
    """ "send" for each UID FETCH written, "answered" when one's completion is read."""
    events: list[str] = []
    imap = store.client._imap
    send, complete = imap.send, imap._command_complete

    def recording_send(data: bytes) -> None:
        if b" UID FETCH " in bytes(data):
            events.append("send")
        send(data)

    def recording_complete(name: str, tag: Any) -> Any:
        answer = complete(name, tag)
        if name == "FETCH":
            events.append("answered")
        return answer

    imap.send, imap._command_complete = recording_send, recording_complete
    return events


SENT_AND_ANSWERED = {
    1: ["send", "send", "answered", "send", "answered", "answered"],
    2: ["send", "send", "send", "answered", "answered", "answered"],
}
"""The order of events over three chunks, by the number of requests kept ahead."""


@pytest.mark.parametrize("ahead", sorted(SENT_AND_ANSWERED))
def test_each_fetch_is_sent_before_the_last_is_answered(
    store: ImapStore, ahead: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap, "PROBES_AHEAD", ahead)
    uids = store.uids("Big")
    assert len(uids) == MESSAGES
    expected = store.probes("Big", uids)
    events = record(store)
    chunks = list(store.probes_ahead("Big", uids))
    assert [asked for _probes, asked in chunks] == [FETCH_CHUNK * 2, FETCH_CHUNK * 2, 7]
    assert [p for probes, _asked in chunks for p in probes] == expected
    assert events == SENT_AND_ANSWERED[ahead]


def test_stopping_early_leaves_the_connection_in_step(
    store: ImapStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap, "PROBES_AHEAD", 1)
    uids = store.uids("Big")
    events = record(store)
    with closing(store.probes_ahead("Big", uids)) as chunks:
        first, asked = next(chunks)
        assert events == ["send", "send", "answered"]
    assert asked == len(first) == FETCH_CHUNK * 2
    # Closing read the second chunk's answer; no third was asked for.
    assert events == ["send", "send", "answered", "answered"]
    assert "FETCH" not in store.client._imap.untagged_responses
    assert store.uids("Big") == uids
    assert store.probes("Big", uids[-3:]) == store.probes("Big", uids)[-3:]
