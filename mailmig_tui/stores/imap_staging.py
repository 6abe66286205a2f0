"""Hidden staging folders on a target that makes every APPEND wait a round trip (no LITERAL+).

Such a server takes one message per round trip per connection, so one big folder on one
connection is the whole copy's wait. The engine (`engine/staging.py`) appends later parts
of the folder over more connections into staging folders of their own, then moves each
staging folder's messages, in order, into the real folder: UID MOVE (or UID COPY) of a
whole folder assigns the new UIDs in the order of the old ones (RFC 4315's COPYUID says
which), so the real folder's UIDs still ascend in source order. Each group of commands is
pipelined, one round trip.

Like `imap_prepare`, this drives imaplib's tag and response machinery directly.
"""

from __future__ import annotations

import imaplib
from collections.abc import Sequence
from dataclasses import dataclass

from mailmig_tui.stores.imap_append import uid_set
from mailmig_tui.stores.imap_pipelined import send, tagged

STAGING_MARK = "mailmig-staging-"
"""Every staging folder's name starts with this (after the personal namespace prefix)."""


def recreate(imap: imaplib.IMAP4, wire: bytes) -> tuple[bool, str]:
    """DELETE what a crashed run may have left under this name (a NO when there is none),
    then CREATE it empty; never subscribed. (created, the server's words)."""
    gone = send(imap, b"DELETE " + wire)
    made = send(imap, b"CREATE " + wire)
    tagged(imap, gone)
    answer = tagged(imap, made)
    imap.untagged_responses.clear()
    return answer


def drop(imap: imaplib.IMAP4, wires: Sequence[bytes]) -> None:
    """DELETE each (its answer ignored: a folder already gone is what we want)."""
    tags = [send(imap, b"DELETE " + wire) for wire in wires]
    for tag in tags:
        tagged(imap, tag)
    imap.untagged_responses.clear()


@dataclass(frozen=True)
class Moved:
    """What moving a staging folder's messages did."""

    done: bool
    said: str
    """The server's words when it refused."""
    uidvalidity: int | None
    uids: dict[int, int]
    """Staging UID -> UID in the real folder (COPYUID)."""


def move_all(imap: imaplib.IMAP4, staging: bytes, folder: bytes, *, move: bool) -> Moved:
    """Every message of `staging` into `folder` (SELECT, UID MOVE or UID COPY 1:*,
    UNSELECT, pipelined), then DELETE `staging`. A failed SELECT fails the MOVE after it:
    nothing moves."""
    verb = b"UID MOVE 1:* " if move else b"UID COPY 1:* "
    selected = send(imap, b"SELECT " + staging)
    moved = send(imap, verb + folder)
    closed = send(imap, b"UNSELECT")
    deleted = send(imap, b"DELETE " + staging)
    imap.untagged_responses.pop("COPYUID", None)
    opened, said = tagged(imap, selected)
    imap.untagged_responses.clear()
    done, text = tagged(imap, moved)
    # MOVE says COPYUID in an untagged OK, COPY in its tagged OK: imaplib keeps both here.
    codes = imap.untagged_responses.pop("COPYUID", [])
    imap.untagged_responses.clear()
    tagged(imap, closed)
    tagged(imap, deleted)
    imap.untagged_responses.clear()
    mapping: dict[int, int] = {}
    validity: int | None = None
    for code in codes:
        if not isinstance(code, bytes):
            continue
        parts = code.split()
        if len(parts) >= 3 and parts[0].isdigit():
            # COPYUID <UIDVALIDITY of `folder`> <staging UIDs> <their new UIDs>, in order.
            validity = int(parts[0])
            mapping.update(zip(uid_set(parts[1]), uid_set(parts[2]), strict=False))
    return Moved(opened and done, text if opened else said, validity, mapping)
