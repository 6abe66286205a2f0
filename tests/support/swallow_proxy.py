"""A loopback IMAP proxy that plays a target which answers OK to an APPEND and keeps nothing.

`SwallowProxy(upstream_port, marker)` forwards every accepted connection to a test server's
plain IMAP port, byte for byte, except each APPEND command whose bytes hold `marker` (a
Subject line, say): that command never reaches the server. In its place the server gets
`TAG NOOP`, and the server's tagged answer to that NOOP reaches the client as
`TAG OK APPEND completed` (without APPENDUID). Going through the server keeps the answers
in the order the client pipelined its commands, as a real server's would be.

Limits, on purpose: only a non-synchronising literal (`{N+}`, LITERAL+) can be read before
the server sees its command, so a command with a synchronising literal (`{N}`) passes
through untouched; and one MULTIAPPEND command carries several messages, so a test that
wants exactly one message lost starts its server with `LITERAL_PLUS_ONLY` capabilities
(each message then goes in an APPEND of its own, pipelined).

`swallowed` lists the swallowed commands, `fired` is set at the first one, so tests wait
on an event. `close()` ends every thread.
"""

from __future__ import annotations

import re
import socket
import threading
from typing import BinaryIO

from tests.support.listener import LoopbackListener, PipedConnection

LITERAL_PLUS_ONLY = (
    "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT UNSELECT CHILDREN NAMESPACE UIDPLUS LITERAL+"
)
"""A Dovecot `capabilities` list without MULTIAPPEND: one pipelined APPEND per message."""

_LITERAL = re.compile(rb"\{(\d+)(\+?)\}\r\n$")


def _readline(stream: BinaryIO) -> bytes:
    """One CRLF-terminated line, or b"" once the peer is gone (a partial line counts as gone)."""
    try:
        line = stream.readline()
    except (OSError, ValueError):
        return b""
    return line if line.endswith(b"\n") else b""


def _read(stream: BinaryIO, size: int) -> bytes:
    try:
        data = stream.read(size)
    except (OSError, ValueError):
        return b""
    return data if data is not None and len(data) == size else b""


class _Connection(PipedConnection):
    """One client and its upstream socket; a thread per direction."""

    def __init__(self, proxy: SwallowProxy, client: socket.socket) -> None:
        super().__init__(client, ("127.0.0.1", proxy.upstream_port))
        self.proxy = proxy
        self.pending: set[bytes] = set()
        """Tags whose NOOP answer goes to the client as an APPEND's OK."""
        self.lock = threading.Lock()
        self.start(
            threading.Thread(target=self._up, name="swallow-up"),
            threading.Thread(target=self._down, name="swallow-down"),
        )

    def _up(self) -> None:
        """Client to server, one whole command at a time (lines plus their literals)."""
        stream = self.client.makefile("rb")
        try:
            while self._command(stream):
                pass
        except OSError:  # the server side is gone
            return
        finally:
            stream.close()
            self.close()

    def _command(self, stream: BinaryIO) -> bool:
        held = bytearray()
        streaming = False  # a synchronising literal sent the command on before its end
        while True:
            line = _readline(stream)
            if not line:
                return False
            if streaming:
                self.server.sendall(line)
            else:
                held += line
            literal = _LITERAL.search(line)
            if literal is None:
                break
            size = int(literal.group(1))
            if not literal.group(2) and not streaming:  # the client waits for the "+"
                self.server.sendall(bytes(held))
                streaming = True
            data = _read(stream, size)
            if len(data) != size:
                return False
            if streaming:
                self.server.sendall(data)
            else:
                held += data
        if not streaming:
            self._forward(bytes(held))
        return True

    def _forward(self, command: bytes) -> None:
        tag, _space, rest = command.partition(b" ")
        verb = rest.split(b" ", 1)[0].upper()
        if verb == b"APPEND" and self.proxy.marker in command:
            with self.lock:
                self.pending.add(tag)
            self.proxy.record(command)
            self.server.sendall(tag + b" NOOP\r\n")
        else:
            self.server.sendall(command)

    def _down(self) -> None:
        """Server to client, line by line (a literal at a line's end passes whole)."""
        stream = self.server.makefile("rb")
        try:
            while True:
                line = _readline(stream)
                if not line:
                    return
                tag = line.split(b" ", 1)[0]
                with self.lock:
                    ours = tag in self.pending
                    self.pending.discard(tag)
                if ours and line.startswith(tag + b" OK"):
                    line = tag + b" OK APPEND completed\r\n"
                literal = _LITERAL.search(line)
                if literal is not None:
                    line += _read(stream, int(literal.group(1)))
                self.client.sendall(line)
        except OSError:
            return
        finally:
            stream.close()
            self.close()


class SwallowProxy(LoopbackListener):
    """Listens on 127.0.0.1:`port`; forwards to 127.0.0.1:`upstream_port` (see the module)."""

    thread_name = "swallow-accept"

    def __init__(self, upstream_port: int, marker: bytes) -> None:
        self.upstream_port = upstream_port
        self.marker = marker
        self.swallowed: list[bytes] = []
        """Every APPEND command the server never saw, whole (literal included)."""
        self.fired = threading.Event()
        super().__init__()

    def record(self, command: bytes) -> None:
        with self._lock:
            self.swallowed.append(command)
        self.fired.set()

    def admit(self, client: socket.socket, number: int) -> _Connection:
        return _Connection(self, client)
