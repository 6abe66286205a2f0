"""Fixtures of the fault tests: one seeded source account, an Exchange-like target, proxies."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.faults.harness import Source, source_state
from tests.support.corpus import bench_corpus, standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.faultproxy import FaultProxy
from tests.support.seeding import seed_bulk, seed_mailbox

EXCHANGE_CAPS = "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT UNSELECT CHILDREN NAMESPACE UIDPLUS"
"""Like Exchange Online and Gmail: no LITERAL+, no MULTIAPPEND, so one APPEND per message,
each waiting for the server's "+" before its literal."""


@pytest.fixture(scope="session")
def fault_source(slash_server: DovecotServer) -> Source:
    """~120 messages in 12 folders (the standard corpus plus bench mail), shared read-only."""
    user = slash_server.new_user()
    seed_mailbox(slash_server, user, standard_folders(), standard_corpus())
    seed_bulk(slash_server, user, (m for m in bench_corpus(60, seed=21) if len(m.data) < 300_000))
    state = source_state(slash_server, user)
    return Source(slash_server, user, state, sum(state.values()))


@pytest.fixture(scope="session")
def exchange_like() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="courier", ssl=False, capabilities=EXCHANGE_CAPS).start()
    yield server
    server.cleanup()


@pytest.fixture
def proxy_to() -> Iterator[Callable[[DovecotServer], FaultProxy]]:
    """Opens fault proxies in front of servers; all are closed (threads joined) afterwards."""
    opened: list[FaultProxy] = []

    def open_proxy(server: DovecotServer) -> FaultProxy:
        opened.append(FaultProxy(server.imap_port))
        return opened[-1]

    yield open_proxy
    for proxy in opened:
        proxy.close()
