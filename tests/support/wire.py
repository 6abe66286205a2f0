"""What one IMAP connection wrote and read, counted on the client by wrapping its imaplib
object (observes the real connection, changes nothing it sends or reads).

A "round trip" is a turn of the connection from writing to reading: the client waits for
the server there; pipelined commands share one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from mailmig_tui.stores.imap import ImapStore


@dataclass
class Wire:
    """What one connection wrote and read, recorded by `watch`."""

    turns: int = 0
    """Round trips: reads that follow a write."""
    commands: list[str] = field(default_factory=list)
    """The verbs sent, in order ("EXAMINE", "UID FETCH", ...)."""
    readers: set[str] = field(default_factory=set)
    """Names of the threads that read from it."""
    _wrote: bool = False


def watch(store: ImapStore) -> Wire:
    """Start recording `store`'s connection from now on."""
    wire = Wire()
    imap = store.client._imap
    send, readline, read = imap.send, imap.readline, imap.read

    def counting_send(data: bytes) -> None:
        words = bytes(data).split(b"\r\n", 1)[0].split(b" ", 2)
        if len(words) > 1 and words[1].isalpha():
            verb = words[1].decode()
            if verb == "UID":
                verb += " " + words[2].split(b" ", 1)[0].decode()
            wire.commands.append(verb.strip())
        wire._wrote = True
        send(data)

    def note_read() -> None:
        wire.readers.add(threading.current_thread().name)
        if wire._wrote:
            wire.turns += 1
            wire._wrote = False

    def counting_readline() -> bytes:
        note_read()
        line: bytes = readline()
        return line

    def counting_read(size: int) -> bytes:
        note_read()
        data: bytes = read(size)
        return data

    imap.send, imap.readline, imap.read = counting_send, counting_readline, counting_read
    return wire
