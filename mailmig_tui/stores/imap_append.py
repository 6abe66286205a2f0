"""Appending without a round trip per message.

imapclient's `append()` waits for the server's "+" before every message body, so each
message costs a full round trip. With LITERAL+ (RFC 7888) the body can follow the command
at once: we write many APPENDs back to back and then read their answers in order. With
MULTIAPPEND (RFC 3502) as well, one command carries many messages, added batch by batch
while it is open, and the server stores them in one transaction, which is what makes
Dovecot fast. That command is all-or-nothing: when it is refused its messages are resent
as single pipelined APPENDs to learn which one the server objects to. So that the resent
messages still land in source order, no other command is sent before a MULTIAPPEND's
answer is read (`ImapStore.append_send`); on Dovecot the next one may stream meanwhile,
and is withdrawn (`withdraw`) and sent again after the resend if the earlier is refused.

Without LITERAL+ each message waits for the server's "+" only, never for its answer.

This talks to imaplib's command/response machinery directly (new tags, tagged-response
reader) because neither imaplib nor imapclient can pipeline.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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


# -- pipelined appends: send now, read the answers later ---------------------------------------


@dataclass(frozen=True)
class SentAppend:
    """One APPEND command on the wire whose answer is not read yet."""

    tag: bytes
    messages: tuple[Message, ...]
    multi: bool
    refused_early: tuple[str, bytes] | None = None
    """The server's NO/BAD before the literal was sent (synchronising literals only)."""


def send_single(imap: imaplib.IMAP4, wire_folder: bytes, message: Message) -> SentAppend:
    """One APPEND with a non-synchronising literal (LITERAL+), not waited for."""
    tag: bytes = imap._new_tag()
    imap.send(tag + b" APPEND " + wire_folder)
    for chunk in _message_args(message):
        imap.send(chunk)
    imap.send(b"\r\n")
    return SentAppend(tag, (message,), False)


def open_multi(imap: imaplib.IMAP4, wire_folder: bytes) -> bytes:
    """Start a MULTIAPPEND whose messages follow (`send_literals`); the CRLF that ends it
    is sent by `close_command`. Its tag."""
    tag: bytes = imap._new_tag()
    imap.send(tag + b" APPEND " + wire_folder)
    return tag


def send_literals(imap: imaplib.IMAP4, messages: Sequence[Message]) -> None:
    """More messages for the open MULTIAPPEND (non-synchronising literals)."""
    for message in messages:
        for chunk in _message_args(message):
            imap.send(chunk)


def close_command(imap: imaplib.IMAP4) -> None:
    imap.send(b"\r\n")


def withdraw(imap: imaplib.IMAP4) -> None:
    """End the open MULTIAPPEND with an empty message, which the server refuses, and with
    it the whole command: nothing of it is stored (RFC 3502: all or nothing). Only used
    where that refusal is known (Dovecot: "Can't save a zero byte message")."""
    imap.send(b" {0+}\r\n\r\n")


def send_synchronising(imap: imaplib.IMAP4, wire_folder: bytes, message: Message) -> SentAppend:
    """One APPEND with a synchronising literal: wait for the server's "+" only, not for its
    answer, so a message costs one round trip instead of two. Answers to earlier APPENDs
    that arrive meanwhile are kept by imaplib under their tags, in order."""
    args = [wire_folder, _flag_list(message.flags)]
    if message.internaldate is not None:
        args.append(b'"' + datetime_to_INTERNALDATE(message.internaldate).encode("ascii") + b'"')
    tag: bytes = imap._new_tag()
    imap.send(tag + b" APPEND " + b" ".join(args) + b" {%d}\r\n" % len(message.data))
    while imap._get_response():  # None: the continuation came
        answer = imap.tagged_commands[tag]
        if answer is not None:  # refused before the literal (e.g. too large)
            del imap.tagged_commands[tag]
            typ, data = answer
            text = data[0] if data and isinstance(data[0], bytes) else b""
            return SentAppend(tag, (message,), False, (str(typ), text))
    imap.send(message.data)
    imap.send(b"\r\n")
    return SentAppend(tag, (message,), False)


def earlier_refusal(imap: imaplib.IMAP4, sent: Sequence[SentAppend]) -> str | None:
    """The text of a "slow down" answer already read but not yet taken, for one of `sent`
    or any earlier command on this connection (answers still kept under their tags)."""
    kept: Any = imap.tagged_commands.values()  # typeshed says list[bytes]: it is (typ, data)
    answers = [command.refused_early for command in sent] + list(kept)
    for answer in answers:
        if answer is not None and answer[0] != "OK":
            text = as_text(answer[1][0] if isinstance(answer[1], list) else answer[1]).strip()
            if throttle_delay(text) is not None:
                return text
    return None


def receive(imap: imaplib.IMAP4, command: SentAppend) -> tuple[str, bytes]:
    """The answer to one sent APPEND (reading on as far as it takes)."""
    if command.refused_early is not None:
        return command.refused_early
    answer = _answer(imap, command.tag)
    # imaplib keeps every response code it saw (APPENDUID, EXISTS ...) until the next
    # command of its own: thousands of pipelined APPENDs must not pile them up.
    for kind in ("APPENDUID", "EXISTS", "RECENT"):
        imap.untagged_responses.pop(kind, None)
    return answer


def receive_all(imap: imaplib.IMAP4, commands: Sequence[SentAppend]) -> list[tuple[str, bytes]]:
    """The answers to `commands`, in order; a server that hangs up right after a "slow down"
    answer (Exchange) raises ServerThrottled with its suggested wait."""
    answers: list[tuple[str, bytes]] = []
    for command in commands:
        try:
            answers.append(receive(imap, command))
        except imaplib.IMAP4.abort:
            delays = [throttle_delay(as_text(text).strip()) for typ, text in answers if typ != "OK"]
            delay = max((d for d in delays if d is not None), default=None)
            if delay is not None:
                raise ServerThrottled(
                    "the server asked to slow down, then hung up", delay
                ) from None
            raise
    return answers
