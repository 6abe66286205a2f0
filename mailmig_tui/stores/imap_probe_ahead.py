"""UID FETCH of many chunks over one connection with the next one always in flight: while
the server answers one chunk, the request for the next is already on its way, so a folder
of N chunks costs about N answers' transfer instead of N round trips plus transfer.

At most `ahead` + 1 commands are outstanding; their answers wait in the socket, not in
memory, until read. Every reply of a
command comes before its tagged completion (RFC 3501 §7.1); one the server sent early for
the next command is kept for it. Leaving early (an error, or a caller that stops reading)
reads what is still outstanding, so the connection stays in step.
"""

from __future__ import annotations

import contextlib
import imaplib
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any

import imapclient.exceptions
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

Answer = dict[int, dict[bytes, Any]]
"""UID -> the FETCH items the server gave for it."""


def fetch_ahead(
    imap: imaplib.IMAP4,
    chunks: Sequence[Sequence[int]],
    items: Sequence[str],
    *,
    normalise_times: bool = True,
    ahead: int = 1,
) -> Generator[Answer, None, None]:
    """The answer of each chunk in turn (only its own UIDs), with `ahead` more chunks'
    requests on their way; a tagged NO or BAD raises imapclient's IMAPClientError, as
    `IMAPClient.fetch` does."""
    wanted = seq_to_parenstr_upper(list(items))
    outstanding: deque[tuple[str, Sequence[int]]] = deque()
    pending = iter(chunks)

    def send_next() -> None:
        for chunk in pending:
            if not chunk:
                continue
            tag = imap._command("UID", "FETCH", join_message_ids(list(chunk)), wanted)
            outstanding.append((tag, chunk))
            return

    early: Answer = {}
    try:
        for _ in range(ahead):
            send_next()
        while outstanding:
            send_next()
            tag, chunk = outstanding.popleft()
            typ, data = imap._command_complete("FETCH", tag)
            if typ != "OK":
                raise imapclient.exceptions.IMAPClientError(
                    f"fetch failed: {data[0]!r}" if data else "fetch failed"
                )
            typ, data = imap._untagged_response(typ, data, "FETCH")
            answer: Answer = {**early, **parse_fetch_response(data, normalise_times, True)}
            yield {uid: answer[uid] for uid in chunk if uid in answer}
            coming = {uid for _tag, later in outstanding for uid in later}
            early = {uid: items for uid, items in answer.items() if uid in coming}
    finally:
        for tag, _chunk in outstanding:
            with contextlib.suppress(Exception):
                imap._command_complete("FETCH", tag)
        with contextlib.suppress(Exception):
            imap._untagged_response("OK", [None], "FETCH")
