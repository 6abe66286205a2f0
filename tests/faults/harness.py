"""Driving one migration between two test Dovecots, optionally through fault proxies, and
the checks every fault scenario ends with.

The journal and the plan always name the real servers (`identity` specs), while connections
may go through a `FaultProxy` port: a re-run without the proxy then finds the same journal.
`snapshot` and `source_state` read the servers outside the code under test; the `assert_*`
helpers check exactly-once delivery, an unchanged source, a clean verify and no leaked
password.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.engine.events import CopyEvent, CopyReport
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions, Plan, build_plan
from mailmig_tui.engine.runner import copy_folders
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.stores.base import MailStore
from mailmig_tui.stores.imap import connect_imap
from tests.support.dovecot import DovecotServer, _mail_owner
from tests.support.seeding import folder_contents


def spec(server: DovecotServer, user: str, *, timeout: float = 30.0) -> AccountSpec:
    return AccountSpec(
        kind="imap",
        user=user,
        host="127.0.0.1",
        port=server.imap_port,
        security=Security.PLAIN,
        timeout=timeout,
    )


def url(server: DovecotServer, user: str, port: int | None = None) -> str:
    return f"imap+plain://{user}@127.0.0.1:{port or server.imap_port}"


def folder_path(server: DovecotServer, name: str) -> str:
    """A server's folder name as a "/" path without namespace prefix (INBOX stays INBOX)."""
    return name.removeprefix(server.prefix).replace(server.delimiter, "/")


def snapshot(server: DovecotServer, user: str) -> Counter[tuple[str, str]]:
    """(folder path, sha256 of the message) for every message of the account."""
    return Counter((path, digest) for path, digest, _flags in _messages(server, user))


def source_state(server: DovecotServer, user: str) -> Counter[tuple[str, str, str]]:
    """Like `snapshot` with the flags too: a copy must leave the source exactly as it was."""
    return Counter((p, d, " ".join(sorted(f))) for p, d, f in _messages(server, user))


def _messages(server: DovecotServer, user: str) -> Iterable[tuple[str, str, list[str]]]:
    client = server.client(user)
    try:
        names = [str(n) for flags, _d, n in client.list_folders() if b"\\Noselect" not in flags]
    finally:
        client.logout()
    for name in names:
        for entry in folder_contents(server, user, name):
            body, flags = entry[b"BODY[]"], entry[b"FLAGS"]
            assert isinstance(body, bytes) and isinstance(flags, tuple)
            names_ = [f.decode() if isinstance(f, bytes) else str(f) for f in flags]
            yield folder_path(server, name), hashlib.sha256(body).hexdigest(), names_


@dataclass(frozen=True)
class Source:
    server: DovecotServer
    user: str
    state: Counter[tuple[str, str, str]]
    """(folder, sha256, flags) of every message before any test ran."""
    messages: int

    def unchanged(self) -> bool:
        return source_state(self.server, self.user) == self.state


def expected(source: Source, folders: str = "") -> Counter[tuple[str, str]]:
    result: Counter[tuple[str, str]] = Counter()
    for (path, digest, _flags), count in source.state.items():
        if path.startswith(folders):
            result[(path, digest)] += count
    return result


def assert_exactly_once(
    source: Source, target: DovecotServer, user: str, folders: str = ""
) -> None:
    want, got = expected(source, folders), snapshot(target, user)
    lost, duplicated = want - got, got - want
    assert not lost and not duplicated, f"lost {sum(lost.values())}, duplicated {duplicated}"
    assert source.unchanged(), "the source changed"


def assert_verify_clean(
    monkeypatch: pytest.MonkeyPatch,
    source: Source,
    target: DovecotServer,
    user: str,
    folders: str = "",
) -> None:
    """`mailmig verify` exits 0 (over the folders whose path starts with `folders`)."""
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", source.server.password(source.user))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", target.password(user))
    selection = ["--folder", folders + "*"] if folders else []
    assert main(["verify", url(source.server, source.user), url(target, user), *selection]) == 0


def assert_complete(report: CopyReport) -> None:
    assert report.error == "" and report.complete, [f.error for f in report.folders]


def assert_no_secret(texts: list[str], *passwords: str) -> None:
    for text in texts:
        for password in passwords:
            assert password not in text, "a password leaked"


@dataclass
class Migration:
    """One source account to one target account; `run` copies, collecting the events."""

    source: DovecotServer
    source_user: str
    target: DovecotServer
    target_user: str
    journal_path: Path
    source_port: int | None = None
    """Connect to the source here (a FaultProxy) instead of its real port."""
    target_port: int | None = None
    timeout: float = 30.0
    options: CopyOptions = field(default_factory=CopyOptions)
    events: list[CopyEvent] = field(default_factory=list)
    plan: Plan | None = None

    @property
    def source_spec(self) -> AccountSpec:
        return spec(self.source, self.source_user, timeout=self.timeout)

    @property
    def target_spec(self) -> AccountSpec:
        return spec(self.target, self.target_user, timeout=self.timeout)

    def open_source(self) -> MailStore:
        connect = replace(self.source_spec, port=self.source_port or self.source.imap_port)
        return connect_imap(connect, self.source.password(self.source_user), readonly=True)

    def open_target(self) -> MailStore:
        connect = replace(self.target_spec, port=self.target_port or self.target.imap_port)
        return connect_imap(connect, self.target.password(self.target_user), readonly=False)

    def run(
        self,
        settings: CopySettings,
        on_event: Callable[[CopyEvent], None] | None = None,
    ) -> CopyReport:
        journal = Journal(self.journal_path)
        source, target = self.open_source(), self.open_target()
        try:
            self.plan = build_plan(
                self.source_spec, self.target_spec, source, target, journal, self.options
            )

            def collect(event: CopyEvent) -> None:
                self.events.append(event)
                if on_event is not None:
                    on_event(event)

            return copy_folders(
                self.plan,
                source=source,
                target=target,
                open_source=self.open_source,
                open_target=self.open_target,
                journal=journal,
                on_event=collect,
                settings=settings,
            )
        finally:
            source.close()
            target.close()
            journal.close()

    def of_type(self, kind: type) -> list[CopyEvent]:
        return [e for e in self.events if isinstance(e, kind)]


class ReconfigurableDovecot(DovecotServer):
    """A test Dovecot whose config can change between runs, mail and ports kept."""

    def reconfigure(self, **changes: object) -> None:
        """Stop, rewrite dovecot.conf with `changes` (e.g. quota_bytes=...), start again."""
        self.stop()
        for name, value in changes.items():
            if not hasattr(self, name):
                raise AttributeError(name)
            setattr(self, name, value)
        uid, gid = _mail_owner()
        (self.root / "dovecot.conf").write_text(self._config(uid, gid))
        self._spawn()
