"""Session-wide Cyrus, Courier and Mailutils servers, started only when a test asks.

A server that cannot be set up fails its tests on CI (CI=true) and is skipped with the
reason elsewhere (a laptop without the unpacked packages, or not root for Courier).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from tests.support.needs import unavailable
from tests.support.servers.base import LoopbackServer, ServerUnavailable, package_versions
from tests.support.servers.courier import CourierServer
from tests.support.servers.cyrus import CyrusServer
from tests.support.servers.mailutils import MailutilsServer

Server = TypeVar("Server", bound=LoopbackServer)


def _serve(start: Callable[[], Server]) -> Iterator[Server]:
    try:
        server = start()
    except ServerUnavailable as problem:
        unavailable(f"cannot set up the test server: {problem}", "./run-tests installs it")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def cyrus_imap() -> Iterator[CyrusServer]:
    yield from _serve(lambda: CyrusServer().start())


@pytest.fixture(scope="session")
def cyrus_reject8bit() -> Iterator[CyrusServer]:
    yield from _serve(lambda: CyrusServer(reject8bit=True).start())


@pytest.fixture(scope="session")
def courier_imap() -> Iterator[CourierServer]:
    yield from _serve(lambda: CourierServer().start())


@pytest.fixture(scope="session")
def mailutils_imap() -> Iterator[MailutilsServer]:
    yield from _serve(lambda: MailutilsServer().start())


def pytest_report_header() -> str:
    versions = package_versions().strip().replace("\n", ", ")
    return f"field servers: {versions or 'not unpacked'}"
