#!/usr/bin/env python3
"""A TCP proxy that adds a fixed delay in each direction: a far-away server on loopback.

    python3 bench/delay_proxy.py --rtt-ms 100 LISTEN_PORT:HOST:PORT [...]

Every chunk read from one side is written to the other side `rtt/2` later, in the order it
was read, so a round trip through the proxy costs `rtt` more than without it. Bandwidth is
not limited: reading never waits for earlier chunks to be delivered, only a per-direction
backlog larger than `MAX_BACKLOG` (far more than any bandwidth-delay product this bench
needs) stops reading until it drains. netem would do this in the kernel; it needs root and
a kernel module that is not available everywhere, so the bench brings its own.

Prints "ready" on stdout once every listener is bound, then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import sys

CHUNK = 256 * 1024
MAX_BACKLOG = 64 * 1024 * 1024
"""Bytes read but not yet delivered, per direction, before reading pauses."""


class DelayedPipe:
    """One direction of one connection: read, hold for `delay` seconds, write in order."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        self.reader, self.writer, self.delay = reader, writer, delay
        self.held: collections.deque[tuple[float, bytes]] = collections.deque()
        self.backlog = 0
        self.arrived = asyncio.Event()
        self.drained = asyncio.Event()
        self.eof = False

    async def read_side(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await self.reader.read(CHUNK):
                self.held.append((loop.time() + self.delay, data))
                self.backlog += len(data)
                self.arrived.set()
                while self.backlog > MAX_BACKLOG:
                    self.drained.clear()
                    await self.drained.wait()
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof = True
            self.arrived.set()

    async def write_side(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self.held:
                    if self.eof:
                        break
                    self.arrived.clear()
                    await self.arrived.wait()
                    continue
                due, data = self.held[0]
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.held.popleft()
                self.backlog -= len(data)
                self.drained.set()
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                if self.writer.can_write_eof():
                    self.writer.write_eof()


async def serve_one(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    host: str,
    port: int,
    delay: float,
) -> None:
    try:
        server_reader, server_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    pipes = (
        DelayedPipe(client_reader, server_writer, delay),
        DelayedPipe(server_reader, client_writer, delay),
    )
    await asyncio.gather(*(step() for pipe in pipes for step in (pipe.read_side, pipe.write_side)))
    for writer in (client_writer, server_writer):
        writer.close()


async def main_async(routes: list[tuple[int, str, int]], delay: float) -> None:
    servers = []
    for listen, host, port in routes:

        async def handle(
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            host: str = host,
            port: int = port,
        ) -> None:
            await serve_one(reader, writer, host, port, delay)

        servers.append(await asyncio.start_server(handle, "127.0.0.1", listen))
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def parse_route(text: str) -> tuple[int, str, int]:
    listen, host, port = text.split(":")
    return int(listen), host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rtt-ms", type=float, required=True, help="round trip added, in ms")
    parser.add_argument("routes", nargs="+", type=parse_route, help="LISTEN_PORT:HOST:PORT")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args.routes, args.rtt_ms / 2000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
