"""The part every test proxy shares: a loopback listener, an accept thread, and closing every
connection it made when the test is done.

A proxy subclasses `LoopbackListener` and says in `admit()` what an accepted client becomes
(a connection object with `close()` and `join()`), or None to drop it.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import threading
from typing import Protocol, Self


class ProxiedConnection(Protocol):
    def close(self) -> None: ...

    def join(self) -> None: ...


class PipedConnection:
    """An accepted client and its own connection upstream, each direction pumped by a thread
    of the subclass's; `close()` cuts both sockets, once."""

    def __init__(self, client: socket.socket, upstream: tuple[str, int]) -> None:
        self.client = client
        self.server = socket.create_connection(upstream, timeout=10)
        self.server.settimeout(None)
        for sock in (client, self.server):  # no Nagle: small IMAP lines must not wait 40 ms
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closed = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, *threads: threading.Thread) -> None:
        self.threads = list(threads)
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def join(self) -> None:
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout=10)


class LoopbackListener(abc.ABC):
    """Listens on 127.0.0.1 at a free `port` from construction until `close()`."""

    thread_name = "proxy-accept"

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[ProxiedConnection] = []
        self.accepted = 0
        """Connections accepted so far, dropped ones included."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # lets the accept loop notice close()
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name=self.thread_name)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abc.abstractmethod
    def admit(self, client: socket.socket, number: int) -> ProxiedConnection | None:
        """What the `number`th accepted client becomes; None: it was dropped."""

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                self.accepted += 1
                number = self.accepted
            try:
                connection = self.admit(client, number)
            except OSError:  # the upstream server is down: the client sees a closed socket
                client.close()
                continue
            if connection is not None:
                with self._lock:
                    self._connections.append(connection)

    def close(self) -> None:
        """Stop accepting, close every connection and join every thread."""
        self.stopping.set()
        self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()
        for connection in connections:
            connection.join()
