"""Hostile mail and folder names (tests/support/hostile.py): copied byte for byte or reported,
never a crash; a re-run copies nothing; verify is clean; the preview path never raises.

Dovecot 2.3 stores lines with LF and serves every LF as CRLF, a NUL as 0x80 (see
`hostile.as_fetched`): the source already serves those bytes, and the target must hold
exactly what the source serves, whichever APPEND path the target takes.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from pathlib import Path

import imapclient
import pytest

from mailmig_tui.engine.events import CopyEvent, FolderStarted, MessageCopied
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.stores.imap import connect_imap
from tests.faults.harness import Migration, spec
from tests.support.dovecot import DovecotServer
from tests.support.hostile import EMPTY, as_fetched, hostile_folders, hostile_messages
from tests.support.seeding import folder_contents, seed_bulk, seed_mailbox

SETTINGS = CopySettings(backoff=0.05, connections=2)


@functools.cache
def corpus() -> tuple[bytes, ...]:
    return tuple(m.data for m in hostile_messages())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bodies(server: DovecotServer, user: str, folder: str) -> list[str]:
    return [sha(e[b"BODY[]"]) for e in folder_contents(server, user, folder)]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hostile_source(slash_server: DovecotServer) -> str:
    user = slash_server.new_user()
    seed_mailbox(slash_server, user, hostile_folders(), [])  # creates the folders only
    seed_bulk(slash_server, user, hostile_messages())
    return user


@pytest.fixture(scope="module")
def served(slash_server: DovecotServer, hostile_source: str) -> dict[str, list[str]]:
    """Digests of what the source serves, per folder in UID order (read once: 60 MB)."""
    client = slash_server.client(hostile_source)
    names = [str(n) for flags, _d, n in client.list_folders() if b"\\Noselect" not in flags]
    client.logout()
    return {name: bodies(slash_server, hostile_source, name) for name in names}


@pytest.mark.parametrize("kind", ["multiappend", "one-by-one"])
def test_hostile_mail_arrives_byte_for_byte_and_a_rerun_copies_nothing(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    exchange_like: DovecotServer,
    hostile_source: str,
    served: dict[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    from mailmig_tui.cli import main

    target = courier_server if kind == "multiappend" else exchange_like
    m = Migration(slash_server, hostile_source, target, target.new_user(), tmp_path / "j")
    report = m.run(SETTINGS)
    assert report.error == "" and report.failed == 0 and report.too_large == 0
    assert not [f.error for f in report.folders if f.error]
    assert report.copied == len(corpus())
    assert m.plan is not None
    client = target.client(m.target_user)
    names = {str(n) for _f, _d, n in client.list_folders()}
    client.logout()
    everything: Counter[str] = Counter()
    for work in m.plan.folders:
        assert work.mapping.target in names
        copied = bodies(target, m.target_user, work.mapping.target)
        # Byte for byte, in the source's order: exactly what the source serves.
        assert copied == served[work.mapping.source], work.mapping.source
        everything.update(copied)
    assert EMPTY in {w.mapping.source for w in m.plan.folders}
    assert "Parent" not in {w.mapping.source for w in m.plan.folders}  # \Noselect: no mail
    assert everything == Counter(sha(as_fetched(data)) for data in corpus())

    again = m.run(SETTINGS)
    assert again.copied == 0 and again.complete
    assert again.already_present == len(corpus())
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(hostile_source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", target.password(m.target_user))
    source_url = f"imap+plain://{hostile_source}@127.0.0.1:{slash_server.imap_port}"
    target_url = f"imap+plain://{m.target_user}@127.0.0.1:{target.imap_port}"
    assert main(["verify", source_url, target_url]) == 0


def test_preview_path_reads_every_hostile_message(
    slash_server: DovecotServer, hostile_source: str
) -> None:
    """What the message list and the preview call: summaries, fetch, render_message."""
    try:
        from mailmig_tui.tui.browse.mime_text import render_message
    except ImportError:  # the TUI's renderer is optional here
        render_message = None  # type: ignore[assignment]
    store = connect_imap(
        spec(slash_server, hostile_source), slash_server.password(hostile_source), readonly=True
    )
    seen = 0
    subjects: set[str] = set()
    try:
        for folder in store.list_folders():
            if not folder.selectable:
                continue
            uids = store.uids(folder.name)
            summaries = store.summaries(folder.name, uids)
            assert [s.uid for s in summaries] == uids
            subjects |= {s.subject for s in summaries}
            for message in store.fetch(folder.name, uids):
                seen += 1
                if render_message is not None:
                    content = render_message(message.data)
                    assert isinstance(content.body, str) and content.size == len(message.data)
    finally:
        store.close()
    assert seen == len(corpus())
    assert {"Grüße aus Köln, 日本語", "bare LF only", "50 levels of MIME"} <= subjects


def test_folders_deleted_on_the_source_during_the_run(
    slash_server: DovecotServer, courier_server: DovecotServer, tmp_path: Path
) -> None:
    """One folder is deleted before its turn, another while it is being copied."""
    user = slash_server.new_user()
    plain = [m for m in hostile_messages(big=0) if m.folder == ("INBOX",)][:12]

    def into(folder: str, count: int) -> list[object]:
        return [type(m)((folder,), m.data, m.flags, m.internaldate, "") for m in plain[:count]]

    seed_bulk(slash_server, user, [*into("Keep", 12), *into("Vanishing", 8), *into("Doomed", 2)])
    admin = slash_server.client(user)

    def delete_folders(event: CopyEvent) -> None:
        # Runs on the engine's thread, between two steps of the copy.
        if isinstance(event, FolderStarted) and event.source == "Keep":
            admin.delete_folder("Doomed")
        if (
            isinstance(event, MessageCopied)
            and event.message.folder == "Vanishing"
            and "Vanishing" in {str(n) for _f, _d, n in admin.list_folders()}
        ):
            admin.delete_folder("Vanishing")

    m = Migration(slash_server, user, courier_server, courier_server.new_user(), tmp_path / "j")
    report = m.run(
        CopySettings(backoff=0.05, connections=1, batch_messages=2), on_event=delete_folders
    )
    admin.logout()
    by_name = {f.source: f for f in report.folders}
    assert report.error == ""  # the run went on
    assert by_name["Keep"].copied == 12 and not by_name["Keep"].error
    for name in ("Doomed", "Vanishing"):
        error = by_name[name].error
        assert error and "\n" not in error and name in error, error
    vanishing = by_name["Vanishing"]
    assert 0 < vanishing.copied < 8
    on_target = bodies(courier_server, m.target_user, "INBOX.Vanishing")
    assert len(on_target) == len(set(on_target)) == vanishing.copied
    with pytest.raises(imapclient.exceptions.IMAPClientError):
        slash_server.client(user).select_folder("Vanishing")
