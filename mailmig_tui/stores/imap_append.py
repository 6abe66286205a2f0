"""Appending without a round trip per message.

imapclient's `append()` waits for the server's "+" before every message body, so each
message costs a full round trip. With LITERAL+ (RFC 7888) the body can follow the command
at once: we write many APPENDs back to back and then read their answers in order. With
MULTIAPPEND (RFC 3502) as well, a batch goes in one command and one server transaction,
which is what makes Dovecot fast; that command is all-or-nothing, so when it is refused the
batch is resent as single pipelined APPENDs to learn which message the server objects to.

This talks to imaplib's command/response machinery directly (new tags, tagged-response
reader) because neither imaplib nor imapclient can pipeline.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterator, Sequence

from imapclient.datetime_util import datetime_to_INTERNALDATE

from mailmig_tui.errors import (
    MessageRejected,
    MessageTooLarge,
    QuotaExceeded,
    ServerThrottled,
    Throttled,
)
from mailmig_tui.model import AppendResult, Message
from mailmig_tui.stores.base import as_text

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) ([\d:,]+)\]", re.IGNORECASE)
# Exchange Online / Microsoft 365 answer a client that works too fast with a tagged NO or BAD
# "Request is throttled. Suggested Backoff Time: 299961 milliseconds" (the BAD is followed by
# "* BYE Connection closed."). RFC 5530's [UNAVAILABLE] and the [THROTTLED] code some servers
# use mean "try again later" too, without saying when.
_BACKOFF = re.compile(r"Suggested\s+Backoff\s+Time:\s*(\d+)\s*(milli|ms\b)?", re.IGNORECASE)
_RETRY_LATER = ("[UNAVAILABLE]", "[THROTTLED]", "REQUEST IS THROTTLED")
_ATOM_SPECIALS = re.compile(r'[(){ %*"\\\]\x00-\x1f\x7f]')


def _flag_list(flags: Sequence[str]) -> bytes:
    # Flags are atoms; anything else (a keyword with specials from a broken source) is
    # dropped rather than sent as a syntax error that would sink the whole batch.
    good = [f for f in flags if f and not _ATOM_SPECIALS.search(f.lstrip("\\"))]
    return ("(" + " ".join(good) + ")").encode("ascii", "ignore")


def _message_args(message: Message) -> Iterator[bytes]:
    yield b" " + _flag_list(message.flags)
    if message.internaldate is not None:
        yield b' "' + datetime_to_INTERNALDATE(message.internaldate).encode("ascii") + b'"'
    yield b" {%d+}\r\n" % len(message.data)
    yield message.data


def uid_set(text: bytes) -> list[int]:
    uids: list[int] = []
    for part in text.split(b","):
        low, _sep, high = part.partition(b":")
        start, end = int(low), int(high or low)
        step = 1 if end >= start else -1
        uids.extend(range(start, end + step, step))
    return uids


def throttle_delay(text: str) -> float | None:
    """Seconds to wait when `text` (a server's NO/BAD) means "slow down", else None."""
    match = _BACKOFF.search(text)
    if match:
        return int(match.group(1)) / (1000.0 if match.group(2) else 1.0)
    upper = text.upper()
    return 0.0 if any(code in upper for code in _RETRY_LATER) else None


def refusal(host: str, folder: str, text: str) -> MessageRejected:
    """Our error for a target's NO to one message, by its response code."""
    delay = throttle_delay(text)
    if delay is not None:  # checked first: a throttling text may mention anything else
        return Throttled(f"{host} asked to slow down: {text}", delay)
    upper = text.upper()
    if any(code in upper for code in ("[LIMIT]", "[TOOBIG]", "TOO LARGE", "TOO BIG")):
        return MessageTooLarge(f"{host} refused a message as too large: {text}")
    if "[OVERQUOTA]" in upper or "QUOTA" in upper:
        return QuotaExceeded(
            f"{host}: folder {folder!r} is over quota: {text}",
            "raise the target's quota, then run again",
        )
    return MessageRejected(f"{host} refused a message in {folder!r}: {text}")


def _answer(imap: imaplib.IMAP4, tag: bytes) -> tuple[str, bytes]:
    typ, data = imap._get_tagged_response(tag)
    text = data[0] if data and isinstance(data[0], bytes) else b""
    return str(typ), text


def append_one(imap: imaplib.IMAP4, wire_folder: bytes, message: Message) -> tuple[str, bytes]:
    """One synchronising APPEND, the message bytes sent as they are; the server's answer.

    A NO comes back as ("NO", text) for `results` to classify; a BAD raises imaplib's error.
    """
    args = [wire_folder, _flag_list(message.flags)]
    if message.internaldate is not None:
        args.append(b'"' + datetime_to_INTERNALDATE(message.internaldate).encode("ascii") + b'"')
    # imaplib sends it after the server's "+"; bytes, as its own append() sets (typeshed
    # says str).
    imap.literal = message.data  # type: ignore[assignment]
    typ, data = imap._simple_command("APPEND", *args)
    return str(typ), data[-1] if data and isinstance(data[-1], bytes) else b""


def append_multi(
    imap: imaplib.IMAP4, wire_folder: bytes, messages: Sequence[Message]
) -> tuple[str, bytes]:
    """One MULTIAPPEND command with non-synchronising literals; the server's answer."""
    tag: bytes = imap._new_tag()
    imap.send(tag + b" APPEND " + wire_folder)
    for message in messages:
        for chunk in _message_args(message):
            imap.send(chunk)
    imap.send(b"\r\n")
    return _answer(imap, tag)


def append_pipelined(
    imap: imaplib.IMAP4, wire_folder: bytes, messages: Sequence[Message]
) -> list[tuple[str, bytes]]:
    """One APPEND per message, all sent before the first answer is read."""
    tags: list[bytes] = []
    for message in messages:
        tag: bytes = imap._new_tag()
        imap.send(tag + b" APPEND " + wire_folder)
        for chunk in _message_args(message):
            imap.send(chunk)
        imap.send(b"\r\n")
        tags.append(tag)
    answers: list[tuple[str, bytes]] = []
    for tag in tags:
        try:
            answers.append(_answer(imap, tag))
        except imaplib.IMAP4.abort:
            # Exchange hangs up right after a throttled answer: keep its suggested wait.
            delays = [throttle_delay(as_text(text).strip()) for typ, text in answers if typ != "OK"]
            delay = max((d for d in delays if d is not None), default=None)
            if delay is not None:
                said = "the server asked to slow down, then hung up"
                raise ServerThrottled(said, delay) from None
            raise
    return answers


def results(host: str, folder: str, answers: Sequence[tuple[str, bytes]]) -> list[AppendResult]:
    """Per-message results from single-APPEND answers."""
    out = []
    for typ, text in answers:
        if typ != "OK":
            out.append(AppendResult(None, error=refusal(host, folder, as_text(text).strip())))
            continue
        match = _APPENDUID.search(text)
        uids = uid_set(match.group(2)) if match else []
        validity = int(match.group(1)) if match else None
        out.append(AppendResult(uids[0] if len(uids) == 1 else None, validity))
    return out


def multi_results(count: int, text: bytes) -> list[AppendResult]:
    """Per-message results from an accepted MULTIAPPEND (UIDs in the order sent)."""
    match = _APPENDUID.search(text)
    if match:
        uids = uid_set(match.group(2))
        if len(uids) == count:
            return [AppendResult(uid, int(match.group(1))) for uid in uids]
    return [AppendResult(None) for _ in range(count)]
