"""Getting every target folder of a copy ready in one round trip (pipelined, RFC 3501 5.5).

Before its first APPEND a folder needs CREATE and SUBSCRIBE (when new) and a SELECT, the
only command that says which flags it keeps (PERMANENTFLAGS), then UNSELECT (never append
into a folder held read-write, see `ImapStore._leave_writable`). One folder after the other
that is four round trips each; here all of them are written first and the answers read in
order. A folder whose commands were not all accepted is left to the usual, one command at
a time path, which reports its error as before.

Like `imap_pipelined`, this drives imaplib's tag and response machinery directly.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailmig_tui.stores.imap_pipelined import send, tagged

_PERMANENT = re.compile(rb"\[PERMANENTFLAGS \(([^)]*)\)\]", re.IGNORECASE)
_EXISTS = ("ALREADYEXISTS", "ALREADY EXISTS")


@dataclass(frozen=True)
class Prepared:
    """One folder made ready: created now or before, and the flags it keeps."""

    created: bool
    """CREATE made it now (it did not exist when planning)."""
    permanent: frozenset[str] | None
    """PERMANENTFLAGS, None when the folder keeps any flag (\\*) or did not say."""


def permanent_flags(lines: Sequence[object]) -> frozenset[str] | None:
    """PERMANENTFLAGS from a SELECT's untagged OK lines; None for "any flag" or none said."""
    for line in lines:
        if not isinstance(line, bytes):
            continue
        match = _PERMANENT.search(line)
        if match:
            names = frozenset(match.group(1).decode("utf-8", "replace").split())
            return None if "\\*" in names else names
    return None


def prepare(imap: imaplib.IMAP4, folders: Sequence[tuple[bytes, bool]]) -> list[Prepared | None]:
    """For each (wire name, create) in order: CREATE + SUBSCRIBE when `create`, SELECT,
    UNSELECT; all sent before the first answer is read. None for a folder that failed (the
    caller does it the usual way). Ends with no folder selected."""
    sent = []
    for wire, create in folders:
        tags: list[bytes] = []
        verbs = (b"CREATE", b"SUBSCRIBE") if create else ()
        for verb in (*verbs, b"SELECT", b"UNSELECT"):
            argument = b"" if verb == b"UNSELECT" else b" " + wire
            tags.append(send(imap, verb + argument))
        sent.append((create, tags))
    results: list[Prepared | None] = []
    for create, tags in sent:
        good = True
        if create:
            made, text = tagged(imap, tags[0])
            good = made or any(code in text.upper() for code in _EXISTS)
            tagged(imap, tags[1])  # a refused SUBSCRIBE is no reason to stop (as before)
        imap.untagged_responses.pop("OK", None)
        selected, _text = tagged(imap, tags[-2])
        lines = imap.untagged_responses.pop("OK", [])
        # What SELECT said (EXISTS, FLAGS, [READ-WRITE] ...) is dropped, as imaplib's own
        # select does; nothing of it is needed after UNSELECT.
        imap.untagged_responses.clear()
        tagged(imap, tags[-1])
        imap.untagged_responses.clear()
        results.append(Prepared(create, permanent_flags(lines)) if good and selected else None)
    return results
