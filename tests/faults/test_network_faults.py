"""Network faults injected for real between mailmig and Dovecot, and what must survive them.

Every scenario ends the same way: every source message is on the target exactly once (a
Counter of (folder, sha256) on both sides), the source is unchanged (flags included),
`mailmig verify` exits 0, and no password appears in anything mailmig printed or wrote.
Servers restarted mid-run are in tests/engine/test_resume.py and not repeated here.

Engine-level runs use `CopySettings(sleep=...)`, a fake clock: backoffs are recorded,
not waited, so the tests are fast and can assert the exact waits.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import mailmig_tui.commands.copy as copy_command
from mailmig_tui.cli import main
from mailmig_tui.engine.events import (
    CopyReport,
    MessageFailed,
    Reconnecting,
    ServerBusy,
)
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal, default_path
from mailmig_tui.engine.plan import CopyOptions
from tests.faults.harness import (
    Migration,
    Source,
    assert_complete,
    assert_exactly_once,
    assert_no_secret,
    assert_verify_clean,
    expected,
    url,
)
from tests.support.dovecot import DovecotServer
from tests.support.faultproxy import Direction, FaultProxy

ProxyTo = Callable[[DovecotServer], FaultProxy]
THROTTLED = b"NO [UNAVAILABLE] Request is throttled. Suggested Backoff Time: 200 milliseconds"
"""Exchange Online's words (it answers NO, or BAD and hangs up); the code is RFC 5530's."""


class FakeClock:
    """CopySettings.sleep: records every wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def settings(clock: FakeClock | None = None, **changes: object) -> CopySettings:
    base: dict[str, object] = {"backoff": 0.05, "batch_messages": 10, "connections": 1}
    base.update(changes)
    return CopySettings(sleep=clock, **base)  # type: ignore[arg-type]


class Rig:
    """What every scenario here shares: the seeded source, the proxy, a temp dir, the env."""

    def __init__(
        self, source: Source, proxy_to: ProxyTo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.source, self.proxy_to = source, proxy_to
        self.tmp_path, self.monkeypatch = tmp_path, monkeypatch

    def migration(self, target: DovecotServer, **kwargs: object) -> Migration:
        return Migration(
            self.source.server,
            self.source.user,
            target,
            target.new_user(),
            self.tmp_path / "journal.sqlite3",
            **kwargs,  # type: ignore[arg-type]
        )

    def cli_passwords(self, target: DovecotServer, user: str) -> tuple[str, str]:
        """Both passwords where the CLI reads them; returned for the secret sweep."""
        passwords = (self.source.server.password(self.source.user), target.password(user))
        self.monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", passwords[0])
        self.monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", passwords[1])
        return passwords

    def assert_all_copied(self, report: CopyReport, target: DovecotServer, user: str) -> None:
        """The run ended cleanly having copied every source message itself, and they landed."""
        assert_complete(report)
        assert report.copied == self.source.messages
        self.assert_landed(target, user)

    def assert_landed(self, target: DovecotServer, user: str, folders: str = "") -> None:
        """Every source message (under `folders`) is on the target exactly once, the source is
        unchanged, and `mailmig verify` agrees."""
        assert_exactly_once(self.source, target, user, folders=folders)
        assert_verify_clean(self.monkeypatch, self.source, target, user, folders)


@pytest.fixture
def rig(
    fault_source: Source, proxy_to: ProxyTo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Rig:
    return Rig(fault_source, proxy_to, tmp_path, monkeypatch)


@pytest.fixture(params=["multiappend", "one-by-one"])
def append_target(
    request: pytest.FixtureRequest, courier_server: DovecotServer, exchange_like: DovecotServer
) -> DovecotServer:
    """Both ways of sending: MULTIAPPEND (courier-shaped Dovecot) and one APPEND at a time."""
    return courier_server if request.param == "multiappend" else exchange_like


# -- cuts -------------------------------------------------------------------------------------


def test_cut_in_the_middle_of_a_fetch(
    rig: Rig,
    courier_server: DovecotServer,
) -> None:
    proxy = rig.proxy_to(rig.source.server)
    # 30 kB into the first full-body FETCH answer: inside a message literal.
    cut = proxy.cut(Direction.DOWN, pattern=b"BODY[] {", after_bytes=30_000, connections={1})
    m = rig.migration(courier_server, source_port=proxy.port)
    report = m.run(settings(FakeClock()))
    assert cut.fired.is_set()
    assert len(m.of_type(Reconnecting)) == 1
    rig.assert_all_copied(report, courier_server, m.target_user)


def test_cut_in_the_middle_of_an_append_literal(
    rig: Rig,
    append_target: DovecotServer,
) -> None:
    proxy = rig.proxy_to(append_target)
    cut = proxy.cut(Direction.UP, pattern=b" APPEND ", after_bytes=20_000, connections={1})
    m = rig.migration(append_target, target_port=proxy.port)
    report = m.run(settings(FakeClock()))
    assert cut.fired.is_set() and m.of_type(Reconnecting)
    rig.assert_all_copied(report, append_target, m.target_user)


def test_answer_lost_after_the_server_stored_the_append(
    rig: Rig,
    append_target: DovecotServer,
) -> None:
    """The server stored the message(s) and said so; the answer never reaches mailmig.

    The copy must be recognised on the target after reconnecting, not sent again."""
    proxy = rig.proxy_to(append_target)
    # Dovecot answers an APPEND only once the mail is saved: cutting before the line holding
    # the second "[APPENDUID" means that APPEND's messages are stored, but mailmig never knew.
    cut = proxy.cut(
        Direction.DOWN, pattern=b"[APPENDUID", occurrence=2, where="line-start", connections={1}
    )
    m = rig.migration(append_target, target_port=proxy.port)
    report = m.run(settings(FakeClock()))
    assert cut.fired.is_set() and len(m.of_type(Reconnecting)) == 1
    # Counted copied: the copies whose answer was lost are ours.
    rig.assert_all_copied(report, append_target, m.target_user)


# -- stalls, slowness, refusals ---------------------------------------------------------------


def test_stall_longer_than_the_read_timeout(
    rig: Rig,
    courier_server: DovecotServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`mailmig copy --timeout 1`: the source stops sending mid-FETCH, the socket stays open."""
    proxy = rig.proxy_to(rig.source.server)
    stall = proxy.stall(Direction.DOWN, pattern=b"BODY[] {", after_bytes=10_000, connections={1})
    user = courier_server.new_user()
    passwords = rig.cli_passwords(courier_server, user)
    report_file = rig.tmp_path / "report.json"
    source_url = url(rig.source.server, rig.source.user, proxy.port)
    args = ["copy", source_url, url(courier_server, user), "--timeout", "1", "--connections", "1"]
    assert main([*args, "--report", str(report_file)]) == 0
    assert stall.fired.is_set()
    out, err = capsys.readouterr()
    assert "did not answer FETCH within 1 s" in err and "reconnecting" in err
    assert "Traceback" not in err
    report = json.loads(report_file.read_text())
    assert report["copied"] == rig.source.messages and report["error"] is None
    assert report["verify"]["ok"] and report["verify"]["checked"] == rig.source.messages
    # The reconnect reaches the run's log as it happens, not only the terminal.
    log_text = Path(report["log"]).read_text()
    assert "notice: connection lost" in log_text and "did not answer FETCH" in log_text
    assert err.rstrip().splitlines()[-1] == f"mailmig: log: {report['log']}"
    assert_no_secret([out, err, report_file.read_text(), log_text], *passwords)
    rig.assert_landed(courier_server, user)


def test_slow_link_within_the_timeout_needs_no_reconnect(
    rig: Rig,
    courier_server: DovecotServer,
) -> None:
    proxy = rig.proxy_to(rig.source.server)
    proxy.slow(Direction.DOWN, 400_000)
    m = rig.migration(
        courier_server,
        source_port=proxy.port,
        timeout=1.0,
        options=CopyOptions(include=["Archive*"]),
    )
    report = m.run(settings(FakeClock()))
    assert_complete(report)
    assert not m.of_type(Reconnecting)
    assert report.copied == sum(expected(rig.source, "Archive").values()) > 10
    rig.assert_landed(courier_server, m.target_user, "Archive")


def test_connections_refused_for_a_while_then_reconnected_with_backoff(
    rig: Rig,
    courier_server: DovecotServer,
) -> None:
    proxy = rig.proxy_to(courier_server)
    cut = proxy.cut(
        Direction.DOWN, pattern=b"[APPENDUID", occurrence=3, where="line-end", connections={1}
    )
    refused = proxy.refuse(connections=range(2, 5))  # the next three connections
    clock = FakeClock()
    m = rig.migration(courier_server, target_port=proxy.port)
    report = m.run(settings(clock))
    assert cut.fired.is_set() and refused.hits == 3
    # Exponential backoff, one attempt per refused connection, then success.
    assert clock.waits == [0.05, 0.1, 0.2, 0.4]
    assert [e.attempt for e in m.of_type(Reconnecting)] == [1, 2, 3, 4]  # type: ignore[attr-defined]
    assert_complete(report)
    rig.assert_landed(courier_server, m.target_user)


def test_too_many_faults_give_up_with_one_line_then_a_rerun_completes(
    rig: Rig,
    courier_server: DovecotServer,
    capsys: pytest.CaptureFixture[str],
    isolated_mailmig: Path,
) -> None:
    """Every reconnect is cut again: the CLI gives up (exit 2) keeping what it copied."""
    # The CLI's backoff (1 s, doubling) would make this test wait half a minute.
    rig.monkeypatch.setattr(
        copy_command,
        "CopySettings",
        functools.partial(CopySettings, backoff=0.01, max_backoff=0.02),
    )
    proxy = rig.proxy_to(courier_server)
    proxy.cut(
        Direction.DOWN, pattern=b"[APPENDUID", occurrence=2, where="line-end", connections={1}
    )
    # Every later connection logs in, then is cut at its first LIST (re-planning the folder).
    always = proxy.cut(
        Direction.UP, pattern=b" LIST ", where="line-start", connections=range(2, 10_000)
    )
    user = courier_server.new_user()
    passwords = rig.cli_passwords(courier_server, user)
    urls = [url(rig.source.server, rig.source.user), url(courier_server, user, proxy.port)]
    first, second = rig.tmp_path / "first.json", rig.tmp_path / "second.json"

    # --debug: the imapclient protocol log too must not show a password.
    assert main(["copy", *urls, "--connections", "1", "--report", str(first), "--debug"]) == 2
    out, err = capsys.readouterr()
    gave_up = [line for line in err.splitlines() if line.startswith("mailmig: gave up: ")]
    assert len(gave_up) == 1 and "lost the connection" in gave_up[0], err
    assert "Traceback" not in err
    assert "LOGIN **REDACTED**" in err  # the debug log covered the logins
    assert always.hits == CopySettings().max_reconnects
    copied = json.loads(first.read_text())["copied"]
    assert 0 < copied < rig.source.messages
    journal = Journal(default_path())
    rows = journal._db.execute("SELECT COUNT(*) FROM copied").fetchone()[0]
    journal.close()
    assert rows == copied  # everything copied before giving up is journaled

    proxy.clear()  # the same account (the proxy's port), now without faults
    assert main(["copy", *urls, "--connections", "1", "--report", str(second)]) == 0
    again = json.loads(second.read_text())
    # Found from the journal, plus any APPEND the target stored whose answer the cut lost
    # (found by identity): nothing is sent twice, nothing is left out.
    assert again["already_present"] >= copied
    assert again["copied"] == rig.source.messages - again["already_present"]
    more_out, more_err = capsys.readouterr()
    written = [f.read_bytes().decode("latin-1") for f in isolated_mailmig.rglob("*") if f.is_file()]
    assert_no_secret([out, err, more_out, more_err, first.read_text(), *written], *passwords)
    rig.assert_landed(courier_server, user)


# -- throttling -------------------------------------------------------------------------------


def test_throttled_appends_wait_the_suggested_time_and_are_retried(
    rig: Rig,
    append_target: DovecotServer,
) -> None:
    proxy = rig.proxy_to(append_target)
    throttle = proxy.answer(rb"^\S+ APPEND ", THROTTLED, times=2)
    clock = FakeClock()
    m = rig.migration(append_target, target_port=proxy.port)
    report = m.run(settings(clock))
    assert throttle.hits == 2
    assert clock.waits == [0.2, 0.2]  # the server's 200 ms, twice; not our 0.05 s backoff
    assert [e.delay for e in m.of_type(ServerBusy)] == [0.2, 0.2]  # type: ignore[attr-defined]
    assert not m.of_type(Reconnecting)
    rig.assert_all_copied(report, append_target, m.target_user)


def test_exchange_throttling_with_bad_and_hang_up(
    rig: Rig,
    exchange_like: DovecotServer,
) -> None:
    """What Exchange Online really does: `BAD Request is throttled. ...`, `* BYE`, close."""
    proxy = rig.proxy_to(exchange_like)
    reply = b"BAD Request is throttled. Suggested Backoff Time: 300 milliseconds"
    throttle = proxy.answer(rb"^\S+ APPEND ", reply, times=1, hang_up=True)
    clock = FakeClock()
    m = rig.migration(exchange_like, target_port=proxy.port)
    report = m.run(settings(clock))
    assert throttle.hits == 1
    assert clock.waits[0] == 0.3 and len(m.of_type(Reconnecting)) == 1
    assert_complete(report)
    rig.assert_landed(exchange_like, m.target_user)


def test_endless_throttling_fails_messages_with_a_reason_and_a_rerun_copies_them(
    rig: Rig,
    courier_server: DovecotServer,
) -> None:
    proxy = rig.proxy_to(courier_server)
    proxy.answer(rb"^\S+ APPEND ", THROTTLED, connections={1})
    m = rig.migration(
        courier_server,
        target_port=proxy.port,
        options=CopyOptions(include=["Archive*"]),
    )
    report = m.run(settings(FakeClock(), throttle_retries=2, batch_messages=100))
    wanted = sum(expected(rig.source, "Archive").values())
    assert report.error == "" and report.copied == 0 and report.failed == wanted
    reasons = {e.failure.reason for e in m.of_type(MessageFailed)}  # type: ignore[attr-defined]
    assert reasons == {f"127.0.0.1 asked to slow down: {THROTTLED.decode()[3:]}"}
    # A later run (connection 2: no throttling) copies exactly those.
    again = m.run(settings(FakeClock()))
    assert_complete(again)
    assert again.copied == wanted
    rig.assert_landed(courier_server, m.target_user, "Archive")


def test_throttled_fetch_on_the_source_reconnects_after_the_suggested_wait(
    rig: Rig,
    courier_server: DovecotServer,
) -> None:
    """Migrating off Exchange: the source throttles a FETCH."""
    proxy = rig.proxy_to(rig.source.server)
    reply = b"NO Request is throttled. Suggested Backoff Time: 250 milliseconds"
    throttle = proxy.answer(rb"^\S+ UID FETCH .*BODY\.PEEK\[\]", reply, times=1)
    clock = FakeClock()
    m = rig.migration(courier_server, source_port=proxy.port)
    report = m.run(settings(clock))
    assert throttle.hits == 1
    assert clock.waits == [0.25]  # the server's wait, longer than our first backoff
    assert_complete(report)
    rig.assert_landed(courier_server, m.target_user)


def test_an_unexpected_no_to_fetch_stops_that_folder_with_one_line(
    rig: Rig,
    courier_server: DovecotServer,
) -> None:
    proxy = rig.proxy_to(rig.source.server)
    proxy.answer(rb"^\S+ UID FETCH .*BODY\.PEEK\[\]", b"NO [SERVERBUG] Internal error", times=1)
    m = rig.migration(courier_server, source_port=proxy.port)
    report = m.run(settings(FakeClock()))
    stopped = [f for f in report.folders if f.error]
    assert len(stopped) == 1 and report.error == ""  # the other folders went on
    assert stopped[0].error == "127.0.0.1 refused FETCH: [SERVERBUG] Internal error"
    again = m.run(settings(FakeClock()))
    assert_complete(again)
    assert again.copied == rig.source.messages - report.copied
    rig.assert_landed(courier_server, m.target_user)
