"""Probes and in-flight bytes kept small (issue 12: peak RSS below 150 MB at 50,000 messages).

- Probes read from Dovecot share one time zone object per offset (Dovecot answers in its
  own zone) and one flag tuple per flag set, with the same instants and flags as before.
- `probe_of` takes the header block alone from a message, as before (CRLF, bare LF, no
  body, an empty header block).
- On glibc, tuning malloc starts one thread giving freed heap pages back, however often
  it is called.
- The append window covers the measured round trip: 2 x 200 MB/s x round trip, at least
  8 MB, never more than the setting, the setting itself when no round trip was measured.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailmig_tui.engine.identity import probe_of
from mailmig_tui.engine.malloc_tuning import tune_malloc
from mailmig_tui.engine.memory_budget import MIN_WINDOW, append_window_bytes, append_window_for
from mailmig_tui.model import Message
from mailmig_tui.stores.imap import ImapStore, connect_imap
from mailmig_tui.stores.imap_compact import shared_flags, shared_zone
from tests.support.dovecot import DovecotServer
from tests.tui.tuikit import imap_spec, tiny_message

MB = 1024 * 1024


@pytest.fixture(scope="module")
def seeded(slash_server: DovecotServer) -> tuple[DovecotServer, str, list[datetime]]:
    """Six messages: alternately \\Seen and \\Seen \\Flagged, dated in two time zones."""
    user = slash_server.new_user()
    client = slash_server.client(user)
    plus_two = timezone(timedelta(hours=2))
    dates = [datetime(2024, 3, 1, 9 + n, tzinfo=UTC if n % 2 else plus_two) for n in range(6)]
    try:
        client.create_folder("Probed")
        for n, when in enumerate(dates):
            flags = ["\\Seen"] if n % 2 else ["\\Seen", "\\Flagged"]
            client.append("Probed", tiny_message(n, when), flags=flags, msg_time=when)
    finally:
        client.logout()
    return slash_server, user, dates


@pytest.fixture
def store(seeded: tuple[DovecotServer, str, list[datetime]]) -> Iterator[ImapStore]:
    server, user, _dates = seeded
    opened = connect_imap(imap_spec(server, user), server.password(user), readonly=True)
    yield opened
    opened.close()


def test_probes_share_zones_and_flag_sets(
    store: ImapStore, seeded: tuple[DovecotServer, str, list[datetime]]
) -> None:
    dates = seeded[2]
    probes = store.probes("Probed", store.uids("Probed"))
    assert [p.internaldate for p in probes] == dates  # the same instants
    zones = [p.internaldate.tzinfo for p in probes if p.internaldate is not None]
    offsets = {p.internaldate.utcoffset() for p in probes if p.internaldate is not None}
    assert len(zones) == 6 and len({id(zone) for zone in zones}) == len(offsets)
    assert [set(p.flags) for p in probes] == [
        {"\\Seen", "\\Flagged"} if n % 2 == 0 else {"\\Seen"} for n in range(6)
    ]
    assert len({id(p.flags) for p in probes}) == 2


def test_shared_flags_drops_recent_and_keeps_order() -> None:
    assert shared_flags([b"\\Seen", b"\\Recent", b"$Work"]) == ("\\Seen", "$Work")
    assert shared_flags((b"\\Seen", b"\\Recent", b"$Work")) is shared_flags(
        [b"\\Seen", b"\\Recent", b"$Work"]
    )
    assert shared_flags([]) == ()
    assert shared_flags(["\\RECENT", "x"]) == ("x",)


def test_shared_zone_keeps_the_instant() -> None:
    naive = datetime(2024, 1, 1, 12)
    assert shared_zone(naive) is naive
    assert shared_zone(None) is None
    when = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5)))
    again = shared_zone(when)
    assert again == when and again is not None and again.utcoffset() == when.utcoffset()


@pytest.mark.parametrize(
    ("data", "head"),
    [
        (b"Subject: a\r\nFrom: b\r\n\r\nbody\r\n\r\nmore", b"Subject: a\r\nFrom: b"),
        (b"Subject: a\nFrom: b\n\nbody", b"Subject: a\nFrom: b"),
        (b"Subject: only headers\r\n", b"Subject: only headers\r\n"),
        (b"\r\nSubject: looks like a header", b""),
        (b"\nSubject: looks like a header", b""),
        (b"", b""),
    ],
)
def test_probe_of_takes_the_header_block(data: bytes, head: bytes) -> None:
    probe = probe_of(Message(uid=7, data=data, flags=("\\Seen",), internaldate=None))
    assert (probe.uid, probe.size, probe.headers, probe.flags) == (7, len(data), head, ("\\Seen",))


def test_window_follows_the_round_trip() -> None:
    ceiling = 32 * MB
    assert append_window_bytes(ceiling, None) == ceiling
    assert append_window_bytes(ceiling, 0.0) == MIN_WINDOW
    assert append_window_bytes(ceiling, 0.01) == MIN_WINDOW
    assert append_window_bytes(ceiling, 0.05) == 20 * MB
    assert append_window_bytes(ceiling, 0.1) == ceiling
    assert append_window_bytes(MB, 0.1) == MB  # a smaller setting is kept


def test_window_for_a_real_target_uses_its_round_trip(store: ImapStore) -> None:
    store.list_folders()  # a timed command, as planning sends
    measured = store.round_trip()
    assert measured is not None
    assert append_window_for(store, 32 * MB) == append_window_bytes(32 * MB, measured)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_one_trimming_thread() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim  # noqa: B018 - glibc has it, musl not
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    tune_malloc()
    tune_malloc()
    names = [thread.name for thread in threading.enumerate()]
    assert names.count("mailmig-trim") == 1
