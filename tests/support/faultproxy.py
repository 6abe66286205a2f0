"""A fault-injecting TCP proxy on loopback, between mailmig and a test server's plain IMAP port.

`FaultProxy(upstream_port)` listens on 127.0.0.1 and forwards every accepted connection to
the upstream server, byte for byte, on two threads per connection (client->server "up",
server->client "down"). Rules, added before or during a run, break that on purpose:

- `cut`: close both sides once N bytes passed, or once a pattern was seen (optionally the
  Nth occurrence, then optionally N bytes more), in one direction;
- `stall`: stop forwarding one direction from that point, keeping the connection open;
- `slow`: forward one direction at a fixed rate (bytes per second) from that point;
- `refuse`: close accepted connections at once, before the server greets;
- `answer`: answer a client command itself (e.g. `TAG NO ... throttled`) without forwarding
  it; a LITERAL+ literal of that command is consumed, a synchronising one never requested.

Every rule applies to some connections (1-based in accept order, or all), fires at most
`times` times in all, and signals `rule.fired` (a threading.Event) the first time, so tests
wait on events, not on sleeps. Nothing is random. `close()` ends every thread.
"""

from __future__ import annotations

import contextlib
import enum
import re
import socket
import threading
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Literal

from tests.support.listener import LoopbackListener, PipedConnection

Where = Literal["match-end", "line-start", "line-end"]
"""Where a pattern rule strikes: right after the pattern, before the line holding it (the
peer never sees that line), or after that whole line (the peer sees it complete)."""

_LITERAL = re.compile(rb"\{(\d+)(\+?)\}\r?\n$")
_CHUNK = 64 * 1024
_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)


class Direction(enum.Enum):
    UP = "client->server"
    DOWN = "server->client"


class Kind(enum.Enum):
    CUT = "cut"
    STALL = "stall"
    SLOW = "slow"
    REFUSE = "refuse"
    ANSWER = "answer"


@dataclass(eq=False)
class Rule:
    """One fault; build it with the FaultProxy methods rather than by hand."""

    kind: Kind
    direction: Direction = Direction.DOWN
    after_bytes: int = 0
    """Without a pattern: bytes of the direction's stream before the fault; with a pattern:
    bytes after the pattern's end (a countdown that starts at the match)."""
    pattern: bytes | None = None
    occurrence: int = 1
    """Strike at this occurrence of the pattern within one connection."""
    where: Where = "match-end"
    connections: Container[int] | None = None
    """Connection numbers (1-based, accept order) the rule applies to; None: all."""
    times: int | None = None
    """At most this many firings over all connections; None: no limit."""
    rate: int = 0
    """SLOW: bytes per second."""
    command: re.Pattern[bytes] | None = None
    """ANSWER: matched against the first line of each client command."""
    reply: bytes = b""
    """ANSWER: what follows the command's tag in the injected answer."""
    hang_up: bool = False
    """ANSWER: after the answer, send `* BYE` and close (as Exchange does when throttling)."""
    fired: threading.Event = field(default_factory=threading.Event)
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def applies_to(self, number: int) -> bool:
        return self.connections is None or number in self.connections

    def claim(self) -> bool:
        """Take one firing if any is left (atomic across connection threads)."""
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
        self.fired.set()
        return True

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class _Watch:
    """Where in one connection's stream a byte/pattern rule strikes, chunk by chunk."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.tail = b""
        self.seen = 0
        self.fire_at: int | None = None if rule.pattern else rule.after_bytes
        """Stream position of the fault once known."""
        self.line_end_from: int | None = None
        """Set when the fault waits for the end of the line holding the match."""

    def offset(self, start: int, data: bytes) -> int | None:
        """Offset into `data` (which begins at stream position `start`) to strike at."""
        rule = self.rule
        if self.fire_at is None and self.line_end_from is None and rule.pattern is not None:
            self._search(start, data)
        if self.line_end_from is not None:
            newline = data.find(b"\n", max(0, self.line_end_from - start))
            if newline < 0:
                return None
            self.fire_at, self.line_end_from = start + newline + 1, None
        if self.fire_at is None:
            return None
        if self.fire_at <= start + len(data):
            return max(0, self.fire_at - start)
        return None

    def _search(self, start: int, data: bytes) -> None:
        rule = self.rule
        assert rule.pattern is not None
        pattern = rule.pattern
        buffer = self.tail + data
        base = start - len(self.tail)
        position = buffer.find(pattern)
        while position >= 0:
            if position + len(pattern) > len(self.tail):  # not counted with an earlier chunk
                self.seen += 1
                if self.seen == rule.occurrence:
                    end = base + position + len(pattern)
                    if rule.where == "line-start":
                        self.fire_at = base + buffer.rfind(b"\n", 0, position) + 1
                    elif rule.where == "line-end":
                        self.line_end_from = end
                    else:
                        self.fire_at = end + rule.after_bytes
                    break
            position = buffer.find(pattern, position + 1)
        self.tail = buffer[-(len(pattern) - 1) :] if len(pattern) > 1 else b""


class _Framer:
    """Splits the client's stream into IMAP commands, to answer some of them ourselves.

    A command is a line, plus literals announced at the ends of its lines. Literals of
    forwarded commands stream through unbuffered, so a 60 MB APPEND costs no memory here.
    """

    def __init__(self, connection: _Connection) -> None:
        self.connection = connection
        self.line = bytearray()
        self.line_sent = 0
        """Bytes of the current line already forwarded (eagerly, while no rule answers)."""
        self.literal_left = 0
        self.at_start = True
        self.answering: tuple[Rule, bytes] | None = None
        """Set while a command being answered by a rule is consumed: (rule, tag)."""

    def feed(self, data: bytes) -> bytes:
        """Bytes to forward to the server; answers go to the client as a side effect."""
        out = bytearray()
        while data:
            if self.literal_left:
                piece, data = data[: self.literal_left], data[self.literal_left :]
                self.literal_left -= len(piece)
                if self.answering is None:
                    out += piece
                continue
            newline = data.find(b"\n")
            if newline < 0:
                self.line += data
                if not self.connection.proxy.rules(Kind.ANSWER, self.connection.number):
                    out += data  # nothing to decide about this line: no need to hold it
                    self.line_sent = len(self.line)
                break
            self.line += data[: newline + 1]
            data = data[newline + 1 :]
            line, sent = bytes(self.line), self.line_sent
            self.line, self.line_sent = bytearray(), 0
            if self.at_start and not sent:
                self.answering = self.connection.answer_rule(line)
            if self.answering is None:
                out += line[sent:]
            literal = _LITERAL.search(line)
            if literal is None or (self.answering is not None and not literal.group(2)):
                # The command ends here; or it is one we answer and its literal is a
                # synchronising one, which the client sends only after a "+" it won't get.
                self._end()
                continue
            self.literal_left = int(literal.group(1))
            self.at_start = False
        return bytes(out)

    def _end(self) -> None:
        if self.answering is not None:
            rule, tag = self.answering
            self.connection.inject(tag + b" " + rule.reply + b"\r\n", hang_up=rule.hang_up)
        self.answering = None
        self.at_start = True


class _Connection(PipedConnection):
    """One accepted client and its upstream socket, with a pump thread per direction."""

    def __init__(self, proxy: FaultProxy, number: int, client: socket.socket) -> None:
        super().__init__(client, (proxy.upstream_host, proxy.upstream_port))
        self.proxy = proxy
        self.number = number
        self.client_lock = threading.Lock()
        self.position = {Direction.UP: 0, Direction.DOWN: 0}
        self.rate = {Direction.UP: 0, Direction.DOWN: 0}
        self.stalled = {Direction.UP: False, Direction.DOWN: False}
        self.watches: dict[Rule, _Watch] = {}
        self.done: set[Rule] = set()
        """Rules that already struck here: each strikes a connection at most once."""
        self.framer = _Framer(self)
        self.start(
            *(
                threading.Thread(target=self._pump, args=(d,), name=f"faultproxy-{number}-{d.name}")
                for d in Direction
            )
        )

    # -- what the rules do ------------------------------------------------------------------

    def answer_rule(self, line: bytes) -> tuple[Rule, bytes] | None:
        for rule in self.proxy.rules(Kind.ANSWER, self.number):
            assert rule.command is not None
            if rule.command.search(line) and rule.claim():
                return rule, line.split(b" ", 1)[0]
        return None

    def inject(self, data: bytes, *, hang_up: bool) -> None:
        self._send(Direction.DOWN, data + (b"* BYE Connection closed.\r\n" if hang_up else b""))
        if hang_up:
            self.close()

    def _watch(self, rule: Rule) -> _Watch:
        if rule not in self.watches:
            self.watches[rule] = _Watch(rule)
        return self.watches[rule]

    def _strike(self, direction: Direction, data: bytes) -> tuple[int, Rule] | None:
        """The earliest rule of this direction that strikes within `data`, and where."""
        start = self.position[direction]
        best: tuple[int, Rule] | None = None
        for rule in self.proxy.rules(None, self.number):
            if rule.kind not in (Kind.CUT, Kind.STALL, Kind.SLOW) or rule.direction != direction:
                continue
            if rule.exhausted or rule in self.done:
                continue
            offset = self._watch(rule).offset(start, data)
            if offset is not None and (best is None or offset < best[0]):
                best = (offset, rule)
        return best

    def _forward(self, direction: Direction, data: bytes) -> None:
        while data and not self.closed.is_set():
            if self.stalled[direction]:
                return  # read and dropped: the sender never blocks, the peer never hears
            strike = self._strike(direction, data)
            if strike is None:
                self._send(direction, data)
                self.position[direction] += len(data)
                return
            offset, rule = strike
            self._send(direction, data[:offset])
            self.position[direction] += offset
            data = data[offset:]
            self.done.add(rule)
            if not rule.claim():  # used up meanwhile by another connection
                continue
            if rule.kind is Kind.CUT:
                self.close()
            elif rule.kind is Kind.STALL:
                self.stalled[direction] = True
            else:
                self.rate[direction] = rule.rate

    def _send(self, direction: Direction, data: bytes) -> None:
        target = self.client if direction is Direction.DOWN else self.server
        rate = self.rate[direction]
        step = max(1, rate // 20) if rate else len(data)
        for begin in range(0, len(data), step or 1):
            if self.closed.is_set():
                return
            piece = data[begin : begin + step]
            try:
                if direction is Direction.DOWN:
                    with self.client_lock:
                        target.sendall(piece)
                else:
                    target.sendall(piece)
            except OSError:
                self.close()
                return
            if rate and self.proxy.stopping.wait(len(piece) / rate):
                return

    # -- life cycle -------------------------------------------------------------------------

    def _pump(self, direction: Direction) -> None:
        source = self.client if direction is Direction.UP else self.server
        try:
            while not self.closed.is_set():
                try:
                    data = source.recv(_CHUNK)
                    # Acknowledge at once (Linux forgets this after each read): a client that
                    # writes a literal and its CRLF separately would wait out a delayed ACK.
                    source.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                except OSError:
                    break
                if not data:
                    break
                if direction is Direction.UP:
                    data = self.framer.feed(data)
                self._forward(direction, data)
        finally:
            self.close()


class FaultProxy(LoopbackListener):
    """Listens on 127.0.0.1:`port`, forwards to `upstream_host`:`upstream_port`."""

    thread_name = "faultproxy-accept"

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self._rules: list[Rule] = []
        super().__init__()

    # -- rules ------------------------------------------------------------------------------

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every rule: from now on the proxy forwards faithfully."""
        with self._lock:
            self._rules.clear()

    def rules(self, kind: Kind | None, number: int) -> list[Rule]:
        with self._lock:
            return [
                r for r in self._rules if (kind is None or r.kind is kind) and r.applies_to(number)
            ]

    def cut(
        self,
        direction: Direction,
        *,
        after_bytes: int = 0,
        pattern: bytes | None = None,
        occurrence: int = 1,
        where: Where = "match-end",
        connections: Container[int] | None = None,
        times: int | None = None,
    ) -> Rule:
        """Close the connection (both sides) at that point of `direction`'s stream."""
        return self.add(
            Rule(Kind.CUT, direction, after_bytes, pattern, occurrence, where, connections, times)
        )

    def stall(
        self,
        direction: Direction,
        *,
        after_bytes: int = 0,
        pattern: bytes | None = None,
        occurrence: int = 1,
        where: Where = "match-end",
        connections: Container[int] | None = None,
        times: int | None = None,
    ) -> Rule:
        """Stop forwarding `direction` from that point; the connection stays open."""
        return self.add(
            Rule(Kind.STALL, direction, after_bytes, pattern, occurrence, where, connections, times)
        )

    def slow(
        self,
        direction: Direction,
        rate: int,
        *,
        after_bytes: int = 0,
        connections: Container[int] | None = None,
    ) -> Rule:
        """Forward `direction` at `rate` bytes per second once `after_bytes` passed."""
        return self.add(Rule(Kind.SLOW, direction, after_bytes, connections=connections, rate=rate))

    def refuse(
        self, *, connections: Container[int] | None = None, times: int | None = None
    ) -> Rule:
        """Close these connections as soon as they are accepted (the next `times` ones)."""
        return self.add(Rule(Kind.REFUSE, connections=connections, times=times))

    def answer(
        self,
        command: bytes,
        reply: bytes,
        *,
        times: int | None = None,
        hang_up: bool = False,
        connections: Container[int] | None = None,
    ) -> Rule:
        """Answer client commands whose first line matches the regex `command` with
        `TAG reply` ourselves; the server never sees them."""
        return self.add(
            Rule(
                Kind.ANSWER,
                Direction.UP,
                connections=connections,
                times=times,
                command=re.compile(command, re.IGNORECASE),
                reply=reply,
                hang_up=hang_up,
            )
        )

    # -- connections ------------------------------------------------------------------------

    def admit(self, client: socket.socket, number: int) -> _Connection | None:
        if any(r.claim() for r in self.rules(Kind.REFUSE, number) if not r.exhausted):
            with contextlib.suppress(OSError):
                client.close()
            return None
        return _Connection(self, number, client)
