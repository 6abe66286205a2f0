"""The fault proxy itself, against a loopback echo server: each rule does what it says."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.faultproxy import Direction, FaultProxy

received: queue.Queue[bytes] = queue.Queue()
"""What the echo server got, per finished connection: what the proxy let through upstream."""


@pytest.fixture
def echo_port() -> Iterator[int]:
    """An upstream that sends back whatever it receives."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    threads: list[threading.Thread] = []
    while not received.empty():
        received.get()

    def serve(conn: socket.socket) -> None:
        got = bytearray()
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                got += data
                conn.sendall(data)
        received.put(bytes(got))

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    yield listener.getsockname()[1]
    stop.set()
    acceptor.join()
    listener.close()
    for thread in threads:
        thread.join(timeout=5)


def _client(proxy: FaultProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=5)


def _read_until_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_cut_after_n_bytes_server_to_client(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        rule = proxy.cut(Direction.DOWN, after_bytes=10)
        with _client(proxy) as sock:
            sock.sendall(b"0123456789abcdefghij")
            assert _read_until_eof(sock) == b"0123456789"
        assert rule.fired.is_set() and rule.hits == 1


def test_cut_before_or_after_the_line_holding_a_pattern(echo_port: int) -> None:
    stream = b"* 1 EXISTS\r\nA1 OK [APPENDUID 7 3] done\r\nA2 OK more\r\n"
    with FaultProxy(echo_port) as proxy:
        proxy.cut(Direction.DOWN, pattern=b"[APPENDUID", where="line-start", connections={1})
        proxy.cut(Direction.DOWN, pattern=b"[APPENDUID", where="line-end", connections={2})
        with _client(proxy) as sock:
            sock.sendall(stream)
            assert _read_until_eof(sock) == b"* 1 EXISTS\r\n"
        with _client(proxy) as sock:
            sock.sendall(stream[:20])  # the pattern and its line end arrive in pieces
            sock.sendall(stream[20:30])
            sock.sendall(stream[30:])
            assert _read_until_eof(sock) == b"* 1 EXISTS\r\nA1 OK [APPENDUID 7 3] done\r\n"


def test_cut_client_to_server_after_pattern_plus_bytes(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        rule = proxy.cut(Direction.UP, pattern=b" APPEND ", after_bytes=5, times=1)
        with _client(proxy) as sock:
            sock.sendall(b"A1 APPEND INBOX {20+}\r\n" + b"x" * 20 + b"\r\n")
            assert _read_until_eof(sock) in (b"", b"A1 APPEND INBOX")  # echo may not make it
        assert rule.fired.wait(5)
        assert received.get(timeout=5) == b"A1 APPEND INBOX"  # " APPEND " and 5 bytes more
        with _client(proxy) as sock:  # times=1: the second connection is left alone
            sock.sendall(b"A1 APPEND again\r\n")
            assert _read(sock, 17) == b"A1 APPEND again\r\n"


def test_stall_keeps_the_connection_open_and_silent(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        rule = proxy.stall(Direction.DOWN, pattern=b"STOP")
        with _client(proxy) as sock:
            sock.sendall(b"hello STOP world")
            assert _read(sock, 10) == b"hello STOP"
            assert rule.fired.wait(5)
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(10)  # no EOF: open, but nothing comes


def test_slow_forwards_at_the_given_rate(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        proxy.slow(Direction.DOWN, 20_000)
        with _client(proxy) as sock:
            started = time.monotonic()
            sock.sendall(b"z" * 6000)
            assert _read(sock, 6000) == b"z" * 6000
            assert time.monotonic() - started >= 0.2  # 6 kB at 20 kB/s: 0.3 s


def test_refuse_closes_the_chosen_connections(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        rule = proxy.refuse(times=2)
        for _ in range(2):
            with _client(proxy) as sock:
                assert _read_until_eof(sock) == b""
        with _client(proxy) as sock:
            sock.sendall(b"ping")
            assert _read(sock, 4) == b"ping"
        assert rule.hits == 2 and proxy.accepted == 3


@pytest.mark.parametrize("literal", [b"{5+}\r\nhello", b"{5}"], ids=["literal+", "sync"])
def test_answer_replaces_a_command_and_consumes_its_literal(echo_port: int, literal: bytes) -> None:
    with FaultProxy(echo_port) as proxy:
        rule = proxy.answer(rb"^\S+ APPEND ", b"NO [UNAVAILABLE] throttled", times=1)
        with _client(proxy) as sock:
            sock.sendall(b"A1 APPEND INBOX (\\Seen) " + literal + b"\r\n")
            assert _read(sock, 31) == b"A1 NO [UNAVAILABLE] throttled\r\n"
            sock.sendall(b"A2 APPEND INBOX {3+}\r\nabc\r\n")  # times=1: forwarded
            assert _read(sock, 27) == b"A2 APPEND INBOX {3+}\r\nabc\r\n"
        assert rule.hits == 1


def test_close_ends_every_thread(echo_port: int) -> None:
    proxy = FaultProxy(echo_port)
    proxy.stall(Direction.DOWN)
    socks = [_client(proxy) for _ in range(3)]
    for sock in socks:
        sock.sendall(b"x")
    proxy.close()
    for sock in socks:
        sock.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("faultproxy")]
