"""`mailmig copy` / `mailmig verify` between any two test servers, through the CLI in-process."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest

from mailmig_tui.cli import main
from tests.support.corpus import SeedFolder, SeedMessage, standard_corpus, standard_folders
from tests.support.servers.base import ImapServer, fetch_folder, seed_messages

Fingerprint = tuple[str, tuple[str, ...], float]
MBOX_FOLDERS = {
    ("INBOX",),
    ("Sent",),
    ("Archive", "2023"),
    ("Entwürfe",),
    ("Projects", "Kunden", "Müller GmbH"),
    ("Leer",),
}


def plain_url(server: ImapServer, user: str) -> str:
    return f"imap+plain://{quote(user, safe='')}@127.0.0.1:{server.imap_port}"


def has_8bit_header(message: SeedMessage) -> bool:
    head = message.data.split(b"\r\n\r\n", 1)[0]
    return any(byte > 0x7F for byte in head)


def clean_corpus(*, mbox: bool = False) -> tuple[list[SeedFolder], list[SeedMessage]]:
    """The standard corpus without what some server changes on APPEND (8-bit header bytes:
    Cyrus's munge8bit). With mbox=True only folders without subfolders (an mbox file
    cannot also be a directory)."""
    folders = standard_folders()
    messages = [m for m in standard_corpus() if not has_8bit_header(m)]
    if mbox:
        # mbox servers answer slowly (Nagle on their side: ~40 ms a command): fewer folders.
        folders = [f for f in folders if f.parts in MBOX_FOLDERS]
        messages = [m for m in messages if m.folder in MBOX_FOLDERS]
    return folders, messages


def fingerprint(entry: dict[bytes, object]) -> Fingerprint:
    body = entry[b"BODY[]"]
    assert isinstance(body, bytes)
    flags = tuple(sorted(f.decode() for f in entry[b"FLAGS"] if f != b"\\Recent"))  # type: ignore[attr-defined]
    when = entry[b"INTERNALDATE"].timestamp()  # type: ignore[attr-defined]
    return hashlib.sha256(body).hexdigest(), flags, when


def folder_prints(server: ImapServer, user: str, parts: tuple[str, ...]) -> Counter[Fingerprint]:
    return Counter(fingerprint(e) for e in fetch_folder(server, user, server.folder_name(parts)))


class Migration:
    """A seeded source user and an empty target user, with the CLI pointed at both."""

    def __init__(
        self,
        source: ImapServer,
        target: ImapServer,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        messages: list[SeedMessage],
        folders: list[SeedFolder] | None = None,
        *,
        source_user: str | None = None,
    ) -> None:
        self.source, self.target = source, target
        self.monkeypatch, self.tmp_path = monkeypatch, tmp_path
        self.source_user = source_user or source.new_user()
        self.target_user = target.new_user()
        self.messages = messages
        self.folders = folders if folders is not None else standard_folders()
        keywords = getattr(source, "keywords", True)
        seed_messages(source, self.source_user, messages, self.folders, keywords=keywords)
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", source.password(self.source_user))
        monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", target.password(self.target_user))
        self.report_path = tmp_path / "report.json"
        self._machines = 0

    @property
    def urls(self) -> list[str]:
        return [plain_url(self.source, self.source_user), plain_url(self.target, self.target_user)]

    def copy(self, *extra: str) -> tuple[int, dict[str, object]]:
        self.report_path.unlink(missing_ok=True)
        code = main(["copy", *self.urls, "--report", str(self.report_path), *extra])
        report = json.loads(self.report_path.read_text()) if self.report_path.exists() else {}
        return code, report

    def verify(self, *extra: str) -> int:
        return main(["verify", *self.urls, *extra])

    def forget_journal(self) -> None:
        """Go on as from another machine: a state directory (journal) of its own."""
        self._machines += 1
        state = self.tmp_path / f"machine-{self._machines}" / "state"
        self.monkeypatch.setenv("MAILMIG_STATE_DIR", str(state))

    def assert_target_matches_source(self) -> None:
        """Every folder's messages arrived byte for byte with flags and INTERNALDATE."""
        for folder in self.folders:
            want = folder_prints(self.source, self.source_user, folder.parts)
            got = folder_prints(self.target, self.target_user, folder.parts)
            assert got == want, f"{folder.parts}: target differs from source"
