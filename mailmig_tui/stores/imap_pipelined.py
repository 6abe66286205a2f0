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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imapclient.imap_utf7 import decode as decode_utf7
from imapclient.response_parser import parse_response

from mailmig_tui.stores.imap_esearch import esearch_all, fetch_sizes

STATUS_ITEMS = (b"MESSAGES", b"UNSEEN", b"UIDNEXT", b"UIDVALIDITY")


@dataclass(frozen=True)
class Answer:
    """One folder's result: the parsed data when the server said OK, else its text."""

    ok: bool
    text: str
    data: dict[bytes, int]


def send(imap: imaplib.IMAP4, command: bytes) -> bytes:
    """Write one command (without its tag and CRLF) under a new tag, not waiting for it."""
    tag: bytes = imap._new_tag()
    imap.send(tag + b" " + command + b"\r\n")
    return tag


def tagged(imap: imaplib.IMAP4, tag: bytes) -> tuple[bool, str]:
    """Read up to `tag`'s completion: (OK?, the server's text)."""
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
        ok, text = tagged(imap, tag)
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


def status_lines(lines: Sequence[Any], *, decode: bool) -> dict[str, dict[bytes, int]]:
    """Folder name -> STATUS items, from untagged STATUS responses naming their folders
    (LIST-STATUS answers one per folder); names decoded from modified UTF-7 with `decode`."""
    parsed = parse_response([line for line in lines if line not in (b"", None)])
    figures: dict[str, dict[bytes, int]] = {}
    for name, pairs in zip(parsed[::2], parsed[1::2], strict=False):
        if not isinstance(pairs, tuple):
            continue
        if isinstance(name, int):  # a folder named "2023", sent unquoted
            folder = str(name)
        elif decode:
            folder = decode_utf7(name)
        else:
            folder = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        figures[folder] = {
            bytes(pairs[i]).upper(): int(pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)
        }
    return figures


Flags = tuple[str, ...]


def uid_sizes_flags(
    imap: imaplib.IMAP4, wires: Sequence[bytes], with_flags: Sequence[bool]
) -> list[tuple[Answer, dict[int, int], dict[int, Flags] | None]]:
    """EXAMINE each folder and UID FETCH 1:* (RFC822.SIZE): uid -> size, in order, and the
    FLAGS of the folders `with_flags` marks (uid -> flags, without \\Recent; None for the
    others): a re-run compares them with the journal's.

    A failed EXAMINE leaves no folder selected (RFC 3501 6.3.2), so the FETCH after it
    fails too and can never answer for another folder. The last folder stays selected.
    """
    tags = []
    for wire, flagged in zip(wires, with_flags, strict=True):
        examine: bytes = imap._new_tag()
        imap.send(examine + b" EXAMINE " + wire + b"\r\n")
        fetch: bytes = imap._new_tag()
        items = b"(UID RFC822.SIZE FLAGS)" if flagged else b"(UID RFC822.SIZE)"
        imap.send(fetch + b" UID FETCH 1:* " + items + b"\r\n")
        tags.append((examine, fetch, flagged))
    results = []
    for examine, fetch, flagged in tags:
        opened, said = tagged(imap, examine)
        imap.untagged_responses.pop("FETCH", None)
        ok, text = tagged(imap, fetch)
        lines = _untagged(imap, "FETCH")
        # What EXAMINE said (EXISTS, [READ-ONLY] ...) is dropped, as imaplib's own select
        # does: a [READ-ONLY] left behind would fail the next command.
        imap.untagged_responses.clear()
        sizes: dict[int, int] = {}
        flags: dict[int, Flags] | None = {} if flagged else None
        if opened and ok and lines:
            # A regex per line: imapclient's general parser took seconds on 100,000 lines.
            sizes = fetch_sizes(lines)
            if flagged:
                flags = fetch_flags(lines)
        results.append((Answer(opened and ok, said if not opened else text, {}), sizes, flags))
        del lines
    return results


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")


def fetch_flags(lines: Sequence[Any]) -> dict[int, Flags]:
    """uid -> flags from FETCH data lines; equal flag sets share one tuple, so a
    100,000-message folder holds a handful of tuples, not 100,000."""
    shared: dict[bytes, Flags] = {}
    flags: dict[int, Flags] = {}
    for line in lines:
        if not isinstance(line, bytes):
            continue
        uid, found = _FETCH_UID.search(line), _FETCH_FLAGS.search(line)
        if uid is None or found is None:
            continue
        raw = found.group(1)
        value = shared.get(raw)
        if value is None:
            words = raw.decode("utf-8", "replace").split()
            value = shared[raw] = tuple(w for w in words if w.lower() != "\\recent")
        flags[int(uid.group(1))] = value
    return flags


@dataclass(frozen=True)
class FolderUids:
    """One folder's UIDVALIDITY and UIDs (ascending), or why it could not be read."""

    ok: bool
    text: str
    uidvalidity: int
    uids: list[int]


def uid_lists(imap: imaplib.IMAP4, wires: Sequence[bytes], esearch: bool) -> list[FolderUids]:
    """EXAMINE each folder and UID SEARCH ALL (with ESEARCH: RETURN (ALL), a compact
    answer), pipelined: the UIDVALIDITY and UIDs of every folder in one round trip. As in
    `uid_sizes_flags`, a failed EXAMINE fails the SEARCH after it; the last folder stays
    selected."""
    search = b" UID SEARCH RETURN (ALL) ALL\r\n" if esearch else b" UID SEARCH ALL\r\n"
    tags = []
    for wire in wires:
        examine: bytes = imap._new_tag()
        imap.send(examine + b" EXAMINE " + wire + b"\r\n")
        found: bytes = imap._new_tag()
        imap.send(found + search)
        tags.append((examine, found))
    results = []
    for examine, found in tags:
        opened, said = tagged(imap, examine)
        validity = _first_int(imap.untagged_responses.get("UIDVALIDITY", []))
        imap.untagged_responses.clear()
        ok, text = tagged(imap, found)
        uids: list[int] = []
        if esearch:
            for line in _untagged(imap, "ESEARCH"):
                uids += esearch_all(line)
        else:
            for line in _untagged(imap, "SEARCH"):
                if isinstance(line, bytes):
                    uids += (int(word) for word in line.split())
        imap.untagged_responses.clear()
        good = opened and ok and validity is not None
        results.append(FolderUids(good, said if not opened else text, validity or 0, sorted(uids)))
    return results


def _first_int(values: Sequence[Any]) -> int | None:
    for value in values:
        if isinstance(value, bytes) and value.strip().isdigit():
            return int(value.strip())
    return None
