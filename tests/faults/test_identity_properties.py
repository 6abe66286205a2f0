"""Properties of content identity (mailmig_tui/engine/identity.py), which decides after any
interruption what is already on the target: a wrong "equal" loses a message, a wrong
"different" duplicates one.

- two messages match exactly iff their keys are equal: (Message-ID, Date, From, Subject,
  size, INTERNALDATE), or, without a Message-ID, (Date, From, To, Subject, size,
  INTERNALDATE), whitespace, folding and case aside;
- what servers do to stored mail (a final CRLF added, 8-bit header bytes munged into `X`
  or `?`, NUL served as 0x80, mbox status headers added or rewritten) still matches;
- distinct messages sharing a Message-ID do not, and identical copies are counted;
- no two distinct messages of the test corpora share an identity;
- `probe_of(message)` gives the identity of the probe a real server answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailmig_tui.engine.identity import Identity, TargetPool, identity_of, probe_of
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

    def squeezed(name: str) -> str:
        return "".join(values.get(name, "").split()).lower()

    if mid_key:
        key: tuple[object, ...] = ("mid", mid_key, *map(squeezed, KEYED_WITH_ID), size, second)
    else:
        key = ("fields", *map(squeezed, FIELDS), size, second)
    return Message(1, data, (), when), key


KEYED_WITH_ID = ("date", "from", "subject")


def matches(source: Message, target: Message, *, exact: bool = True) -> bool:
    """Whether the target message stands for the source message, as plan and verify see it."""
    pool = TargetPool()
    pool.add(identity_of(probe_of(target)), target.uid)
    return pool.take(identity_of(probe_of(source)), exact=exact) is not None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), messages())
def test_identity_is_equal_exactly_when_the_key_is(
    a: tuple[Message, tuple[object, ...]], b: tuple[Message, tuple[object, ...]]
) -> None:
    (first, first_key), (second, second_key) = a, b
    assert matches(first, second) == (first_key == second_key)


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
        seen: dict[Identity, set[tuple[bytes, datetime]]] = defaultdict(set)
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


# -- what servers do to stored mail ------------------------------------------------------------

_HEADS = [
    "From: J\u00fcrgen M\u00fcller <j@example.test>\r\nSubject: Gr\u00fc\u00dfe aus K\u00f6ln\r\n",
    "From: Ann <a@example.test>\r\nSubject: plain ASCII, no trouble\r\n",
    "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\nSubject: Re: Stra\u00dfe\r\n",
]
_MBOX_FIELDS = [
    b"Status: RO\r\n",
    b"Status: O\r\nX-Status: AF\r\n",
    b"X-UID: 12\r\nX-Keywords: $Forwarded Junk\r\n",
    b"Content-Length: 1234\r\nStatus: R\r\n",
    b"X-IMAPbase: 1700000000 0000000042 $Forwarded Junk NonJunk\r\nX-UID: 1\r\n",
]


@st.composite
def stored_messages(draw: st.DrawFn) -> Message:
    head = draw(st.sampled_from(_HEADS)).encode()
    mid = draw(st.sampled_from(["", "Message-ID: <same@example.test>\r\n"])).encode()
    date = b"Date: Mon, 6 May 2024 07:08:09 +0000\r\n"
    body = draw(st.sampled_from([b"Hello\r\n", b"no final line end", b"a\0NUL\r\n" * 3]))
    status = draw(st.sampled_from([b"", *_MBOX_FIELDS]))
    return Message(1, head + mid + date + status + b"\r\n" + body, (), _DATES[0])


def _munged(data: bytes, replacement: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    return bytes(replacement[0] if b >= 0x80 else b for b in head) + sep + body


def _restatused(data: bytes, fields: bytes) -> bytes:
    """The mbox server's rewrite: its own status fields replace whatever was there."""
    head, sep, body = data.partition(b"\r\n\r\n")
    kept = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith((b"status:", b"x-status:", b"x-uid:", b"x-keywords:",
                                        b"content-length:", b"x-imapbase:"))
    ]  # fmt: skip
    return b"\r\n".join(kept) + b"\r\n" + fields.rstrip(b"\r\n") + sep + body


SERVER_CHANGES: dict[str, Callable[[bytes], bytes]] = {
    "Courier adds a final CRLF": lambda d: d if d.endswith(b"\r\n") else d + b"\r\n",
    "Cyrus munge8bit": lambda d: _munged(d, b"X"),
    "8-bit replaced by ?": lambda d: _munged(d, b"?"),
    "Dovecot serves NUL as 0x80": lambda d: d.replace(b"\0", b"\x80"),
}


@settings(max_examples=150, deadline=None)
@given(
    message=stored_messages(),
    changes=st.lists(st.sampled_from(sorted(SERVER_CHANGES)), unique=True),
    status=st.sampled_from([None, *_MBOX_FIELDS]),
)
def test_what_servers_do_to_stored_mail_keeps_it_the_same_message(
    message: Message, changes: list[str], status: bytes | None
) -> None:
    data = message.data
    for change in changes:
        data = SERVER_CHANGES[change](data)
    if status is not None:
        data = _restatused(data, status)
    stored = Message(7, data, (), message.internaldate)
    assert matches(message, stored, exact=False)
    assert matches(stored, message, exact=False)  # the other way round: an mbox source


def test_distinct_messages_sharing_a_message_id_stay_distinct() -> None:
    base = (
        b"Message-ID: <same@example.test>\r\nDate: Mon, 6 May 2024 07:08:09 +0000\r\n"
        b"From: Ann <a@example.test>\r\nSubject: Minutes\r\n\r\n"
    )
    original = Message(1, base + b"The minutes.\r\n", (), _DATES[0])
    others = [
        base.replace(b"Minutes", b"Agenda") + b"The minutes.\r\n",  # another Subject
        base.replace(b"Ann", b"Bob") + b"The minutes.\r\n",  # another sender
        base.replace(b"6 May", b"7 May") + b"The minutes.\r\n",  # resent another day
        base + b"The minutes.\r\n" + b"And much more text in a second version. " * 5,
    ]
    for data in others:
        other = Message(2, data, (), _DATES[0])
        assert not matches(original, other, exact=False), data
        assert not matches(other, original, exact=False), data
    later = Message(3, original.data, (), _DATES[2])  # same bytes, another arrival
    assert not matches(original, later, exact=False)


@settings(max_examples=60, deadline=None)
@given(sources=st.integers(1, 4), targets=st.integers(0, 4), crlf=st.booleans())
def test_identical_copies_are_counted_not_collapsed(sources: int, targets: int, crlf: bool) -> None:
    """n identical source messages need n target copies, altered or not (multiset rule)."""
    data = b"Message-ID: <dup@x>\r\nSubject: dup\r\n\r\nbody"
    stored = data + (b"\r\n" if crlf else b"")
    pool = TargetPool()
    for uid in range(targets):
        pool.add(identity_of(probe_of(Message(uid + 1, stored, (), _DATES[0]))), uid + 1)
    source = identity_of(probe_of(Message(1, data, (), _DATES[0])))
    taken = [pool.take(source, exact=False) for _ in range(sources)]
    assert sum(t is not None for t in taken) == min(sources, targets)
    if crlf:
        assert all(t.change == "2 bytes added" for t in taken if t is not None)


def test_a_munged_header_is_named_as_the_change() -> None:
    source = Message(1, "From: J\u00fcrgen <j@x>\r\nSubject: s\r\n\r\nb".encode(), (), _DATES[0])
    stored = Message(2, _munged(source.data, b"X"), (), _DATES[0])
    pool = TargetPool()
    pool.add(identity_of(probe_of(stored)), 2)
    match = pool.take(identity_of(probe_of(source)))
    assert match is not None and match.change == "From header changed"
