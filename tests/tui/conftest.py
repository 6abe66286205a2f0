"""TUI test set-up: async tests without a plugin, no animations, one demo mailbox per session.

`async def` tests run under `asyncio.run` through the `pytest_pyfunc_call` hook below: no
pytest-asyncio (not installed, and Textual only needs a running loop for `App.run_test`).
Snapshot tests (`snap_compare`) are plain `def`, as pytest-textual-snapshot wants.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Read by Textual when it is first imported: set before any test module imports it.
os.environ["TEXTUAL_ANIMATIONS"] = "none"

from mailmig_tui.tui.demo_data import write_demo_maildirs
from tests.support.dovecot import DovecotServer


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


@pytest.fixture(scope="session")
def demo_root() -> Iterator[Path]:
    """The demo mailbox (source) and an empty target, written once, only read by tests.

    On tmpfs when there is one: MaildirStore fsyncs every message, which is what a real
    migration needs and test data does not (3 s on disk, 0.6 s in memory).
    """
    shm = Path("/dev/shm")
    root = Path(tempfile.mkdtemp(prefix="mailmig-demo-", dir=shm if shm.is_dir() else None))
    try:
        write_demo_maildirs(root)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_server() -> Iterator[DovecotServer]:
    """A server of its own, for a test that stops it."""
    server = DovecotServer(shape="slash").start()
    try:
        yield server
    finally:
        server.cleanup()
