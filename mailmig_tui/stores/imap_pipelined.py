"""Planning commands for many folders in one round trip (pipelined, RFC 3501 5.5).

Planning asks every folder the same questions (STATUS; the UIDs and sizes of its messages).
One command at a time costs a round trip each, which at 100 ms is seconds before copying
starts. These functions write all the commands first and then read the answers in order;
the server answers them in the order sent, so the untagged responses read before a
command's tagged answer are that command's.

Like `imap_append`, this drives imaplib's tag and response machinery directly, since
neither imaplib nor imapclient can pipeline.
"""

from __future__ import annotations

import imaplib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imapclient.response_parser import parse_response

from mailmig_tui.stores.imap_esearch import fetch_sizes

STATUS_ITEMS = (b"MESSAGES", b"UNSEEN", b"UIDNEXT", b"UIDVALIDITY")


@dataclass(frozen=True)
class Answer:
    """One folder's result: the parsed data when the server said OK, else its text."""

    ok: bool
    text: str
    data: dict[bytes, int]


def _tagged(imap: imaplib.IMAP4, tag: bytes) -> tuple[bool, str]:
    typ, data = imap._get_tagged_response(tag)
    text = data[0] if data and isinstance(data[0], bytes) else b""
    return typ == "OK", text.decode("utf-8", "replace").strip()


def _untagged(imap: imaplib.IMAP4, kind: str) -> list[Any]:
    """Take the untagged `kind` responses read so far, as imaplib keeps them (a literal as
    a (line, literal) pair followed by the rest of its line): the form imapclient parses."""
    raw: list[Any] = imap.untagged_responses.pop(kind, [])
    return raw


def statuses(imap: imaplib.IMAP4, wires: Sequence[bytes], size: bool) -> list[Answer]:
    """STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY [SIZE]) of every folder, in order."""
    items = b"(" + b" ".join(STATUS_ITEMS + ((b"SIZE",) if size else ())) + b")"
    tags = []
    for wire in wires:
        tag: bytes = imap._new_tag()
        imap.send(tag + b" STATUS " + wire + b" " + items + b"\r\n")
        tags.append(tag)
    answers = []
    for tag in tags:
        ok, text = _tagged(imap, tag)
        lines = _untagged(imap, "STATUS")
        data: dict[bytes, int] = {}
        if ok and lines:
            pairs = parse_response(lines)[-1]
            if isinstance(pairs, tuple):
                data = {
                    bytes(pairs[i]).upper(): int(pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)
                }
        answers.append(Answer(ok and bool(data), text, data))
    return answers


def uid_sizes(imap: imaplib.IMAP4, wires: Sequence[bytes]) -> list[tuple[Answer, dict[int, int]]]:
    """EXAMINE each folder and UID FETCH 1:* (RFC822.SIZE): uid -> size, in order.

    A failed EXAMINE leaves no folder selected (RFC 3501 6.3.2), so the FETCH after it
    fails too and can never answer for another folder. The last folder stays selected.
    """
    tags = []
    for wire in wires:
        examine: bytes = imap._new_tag()
        imap.send(examine + b" EXAMINE " + wire + b"\r\n")
        fetch: bytes = imap._new_tag()
        imap.send(fetch + b" UID FETCH 1:* (UID RFC822.SIZE)\r\n")
        tags.append((examine, fetch))
    results = []
    for examine, fetch in tags:
        opened, said = _tagged(imap, examine)
        imap.untagged_responses.pop("FETCH", None)
        ok, text = _tagged(imap, fetch)
        lines = _untagged(imap, "FETCH")
        # What EXAMINE said (EXISTS, [READ-ONLY] ...) is dropped, as imaplib's own select
        # does: a [READ-ONLY] left behind would fail the next command.
        imap.untagged_responses.clear()
        sizes: dict[int, int] = {}
        if opened and ok and lines:
            # A regex per line: imapclient's general parser took seconds on 100,000 lines.
            sizes = fetch_sizes(lines)
        results.append((Answer(opened and ok, said if not opened else text, {}), sizes))
    return results
