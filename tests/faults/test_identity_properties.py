"""Properties of content identity (mailmig_tui/engine/identity.py), which decides after any
interruption what is already on the target: a wrong "equal" loses a message, a wrong
"different" duplicates one.

- equal identities iff equal (Message-ID, size, INTERNALDATE), or, without a Message-ID,
  equal (Date, From, To, Subject, size, INTERNALDATE), whitespace and folding aside;
- no two distinct messages of the test corpora share an identity;
- `probe_of(message)` gives the identity of the probe a real server answers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailmig_tui.engine.identity import identity_of, probe_of
from mailmig_tui.model import Message
from mailmig_tui.stores.base import HeaderProbe
from mailmig_tui.stores.imap import connect_imap
from tests.faults.harness import spec
from tests.support.corpus import bench_corpus, standard_corpus
from tests.support.dovecot import DovecotServer
from tests.support.hostile import hostile_messages
from tests.support.seeding import seed_bulk

FIELDS = ("date", "from", "to", "subject")
_DATES = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=s) for s in (0, 1, 3600)]

# Few distinct values, so that equal keys (and so equal identities) come up often.
words = st.lists(st.sampled_from(["a", "b", "Grüße", "x@y"]), min_size=1, max_size=3)


@st.composite
def messages(draw: st.DrawFn) -> tuple[Message, tuple[object, ...]]:
    """A message and the key the identity should depend on, and on nothing else."""
    values = {name: " ".join(draw(words)) for name in FIELDS if draw(st.booleans())}
    mid = draw(st.sampled_from(["", "<1@h>", "<2@h>", "<1@h> "]))
    lines: list[tuple[str, str]] = [(n, v) for n, v in values.items()]
    if mid:
        lines.append(("message-id", mid))
    if draw(st.booleans()):  # a second Message-ID: the first one counts
        lines.append(("message-id", "<second@h>"))
    lines.append(("x-other", draw(st.sampled_from(["1", "22"]))))  # not part of any key
    order = draw(st.permutations(range(len(lines))))
    head = b""
    for index in order:
        name, value = lines[index]
        name = draw(st.sampled_from([name, name.upper(), name.title()]))
        # Folding and extra blanks are whitespace: they must not change the identity.
        fold = draw(st.sampled_from(["", "  ", "\r\n "]))
        head += (
            f"{name}:{fold} {value.replace(' ', draw(st.sampled_from([' ', '  '])))}\r\n".encode()
        )
    data = head + b"\r\n" + b"." * draw(st.integers(0, 3))
    when = draw(st.sampled_from(_DATES))
    first_mid = next((v for n, v in (lines[i] for i in order) if n == "message-id"), "")
    size = len(data)
    second = int(when.timestamp())
    mid_key = "".join(first_mid.split())
    if mid_key:
        key: tuple[object, ...] = ("mid", mid_key, size, second)
    else:
        key = ("fields", *(" ".join(values.get(n, "").split()) for n in FIELDS), size, second)
    return Message(1, data, (), when), key


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), messages())
def test_identity_is_equal_exactly_when_the_key_is(
    a: tuple[Message, tuple[object, ...]], b: tuple[Message, tuple[object, ...]]
) -> None:
    (first, first_key), (second, second_key) = a, b
    same = identity_of(probe_of(first)) == identity_of(probe_of(second))
    assert same == (first_key == second_key)


@settings(max_examples=200, deadline=None)
@given(
    value=st.lists(st.sampled_from(["Re:", "über", "a", "(x)"]), min_size=1, max_size=5),
    seps=st.lists(st.sampled_from([" ", "  ", "\t", "\r\n ", "\r\n\t", " \r\n  "]), min_size=5),
    mid=st.sampled_from(["", "<id@host>"]),
)
def test_folding_and_whitespace_variants_have_one_identity(
    value: list[str], seps: list[str], mid: str
) -> None:
    """The same header as another server (or the message itself) may fold it."""
    when = datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)

    def probe(separators: list[str]) -> HeaderProbe:
        text = value[0] + "".join(s + w for s, w in zip(separators, value[1:], strict=False))
        head = f"Subject: {text}\r\nFrom:{separators[0]}a@b\r\n"
        if mid:
            head += f"Message-ID:{separators[-1]}{mid}\r\n"
        return HeaderProbe(1, 5000, when, head.encode() + b"\r\n")

    assert identity_of(probe(seps)) == identity_of(probe([" "] * len(seps)))


def test_distinct_corpus_messages_never_collide() -> None:
    """Within each corpus, one identity is one message (its bytes and its date)."""
    for corpus in (standard_corpus(), list(bench_corpus(500, seed=4))):
        seen: dict[str, set[tuple[bytes, datetime]]] = defaultdict(set)
        for m in corpus:
            message = Message(1, m.data, m.flags, m.internaldate)
            seen[identity_of(probe_of(message))].add((m.data, m.internaldate))
        collisions = {k: len(v) for k, v in seen.items() if len(v) > 1}
        assert not collisions


def test_the_hostile_twins_do_collide_and_are_counted_not_collapsed() -> None:
    """Same Message-ID, size and date, different bytes: identity cannot tell them apart.

    That is why identities are counted (a bag), so both twins are still copied."""
    twins = [m for m in hostile_messages(big=0) if m.message_id == "<same-id@hostile.test>"]
    ids = {identity_of(probe_of(Message(1, m.data, (), m.internaldate))) for m in twins}
    assert len(twins) == 2 and len(ids) == 1


@pytest.fixture(scope="module")
def probed_user(slash_server: DovecotServer) -> str:
    user = slash_server.new_user()
    seed_bulk(slash_server, user, [*standard_corpus(), *hostile_messages(big=0)])
    return user


def test_probe_of_a_fetched_message_matches_the_servers_probe(
    slash_server: DovecotServer, probed_user: str
) -> None:
    store = connect_imap(
        spec(slash_server, probed_user), slash_server.password(probed_user), readonly=True
    )
    checked = 0
    try:
        for folder in store.list_folders():
            if not folder.selectable:
                continue
            uids = store.uids(folder.name)
            served = {p.uid: identity_of(p) for p in store.probes(folder.name, uids)}
            for message in store.fetch(folder.name, uids):
                assert identity_of(probe_of(message)) == served[message.uid], message.data[:200]
                checked += 1
    finally:
        store.close()
    assert checked == len(standard_corpus()) + len(hostile_messages(big=0))
