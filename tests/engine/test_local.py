"""Maildir and mbox accounts through the real CLI, against real Dovecot servers.

The local trees are written here by hand the way servers leave them (LF line endings, flags in
file names or Status headers, dates in mtimes or From_ lines), independently of the stores.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import imap_utf7

from mailmig_tui import secrets
from mailmig_tui.cli import main
from tests.support.corpus import SeedMessage, standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents

Parts = tuple[str, ...]
Print = tuple[str, tuple[str, ...], int]
"""What must survive a copy: digest of the CRLF content, sorted flags, arrival in seconds."""

LETTERS = {"\\Draft": "D", "\\Flagged": "F", "$Forwarded": "P", "\\Answered": "R",
           "\\Seen": "S", "\\Deleted": "T"}  # fmt: skip


def plain_url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def digest(data: bytes) -> str:
    """sha256 of the content with every line ending made CRLF."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")).hexdigest()


def seed_print(message: SeedMessage) -> Print:
    return digest(message.data), tuple(sorted(message.flags)), seconds(message.internaldate)


def seconds(when: datetime) -> int:
    return int(when.timestamp())


def imap_prints(server: DovecotServer, user: str, folder: str) -> Counter[Print]:
    prints: Counter[Print] = Counter()
    for entry in folder_contents(server, user, folder):
        body, flags, when = entry[b"BODY[]"], entry[b"FLAGS"], entry[b"INTERNALDATE"]
        assert isinstance(body, bytes) and isinstance(flags, tuple)
        assert isinstance(when, datetime)
        names = tuple(sorted(f.decode() for f in flags if f != b"\\Recent"))
        prints[(digest(body), names, seconds(when))] += 1
    return prints


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every path under (and including) root: its bytes (None for directories) and mtime."""
    found: dict[str, tuple[bytes | None, int]] = {}
    for path in [root, *root.rglob("*")]:
        data = None if path.is_dir() else path.read_bytes()
        found[str(path.relative_to(root))] = (data, path.stat().st_mtime_ns)
    return found


def copy(source: str, target: str, report: Path) -> tuple[int, dict[str, object]]:
    report.unlink(missing_ok=True)
    code = main(["copy", source, target, "--report", str(report)])
    return code, json.loads(report.read_text()) if report.exists() else {}


def by_folder(messages: list[SeedMessage]) -> dict[Parts, list[SeedMessage]]:
    grouped: dict[Parts, list[SeedMessage]] = {f.parts: [] for f in standard_folders()}
    for message in messages:
        grouped[message.folder].append(message)
    return grouped


@pytest.fixture
def no_password_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local accounts must never ask for a password, not even the keyring."""

    def refuse(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("a password was asked for")

    monkeypatch.setattr(secrets, "get_password", refuse)


# Maildir++ written as Dovecot and Courier leave it


def maildir_folder(root: Path, parts: Parts) -> Path:
    if parts == ("INBOX",):
        return root
    return root / ("." + imap_utf7.encode(".".join(parts)).decode("ascii"))


def build_maildir(root: Path, messages: list[SeedMessage]) -> SeedMessage:
    """Every standard folder with its messages; returns the message left in new/."""
    in_new = next(m for m in messages if m.folder == ("INBOX",) and not m.flags)
    for number, (parts, folder_messages) in enumerate(by_folder(messages).items()):
        folder = maildir_folder(root, parts)
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
        if folder != root:
            (folder / "maildirfolder").write_bytes(b"")
        keywords: list[str] = []
        listed: list[str] = []
        for index, message in enumerate(folder_messages):
            stamp = seconds(message.internaldate)
            data = message.data.replace(b"\r\n", b"\n")
            base = f"{stamp}.M{index}P{number}.oldhost,S={len(data)},W={len(message.data)}"
            if message is in_new:
                path = folder / "new" / base  # delivered, never seen by a client
            else:
                letters = [LETTERS[f] for f in message.flags if f in LETTERS]
                for flag in (f for f in message.flags if f not in LETTERS):
                    if flag not in keywords:
                        keywords.append(flag)
                    letters.append(chr(97 + keywords.index(flag)))
                path = folder / "cur" / f"{base}:2,{''.join(sorted(letters))}"
                listed.append(base)
            path.write_bytes(data)
            os.utime(path, (stamp, stamp))
        if keywords:
            text = "".join(f"{i} {name}\n" for i, name in enumerate(keywords))
            (folder / "dovecot-keywords").write_text(text)
        if parts == ("INBOX",):  # Dovecot's list, which has not seen the new/ file yet
            lines = [f"3 V1600000000 N{len(listed) + 1} G0123456789abcdef\n"]
            lines += [f"{uid} :{base}\n" for uid, base in enumerate(listed, 1)]
            (folder / "dovecot-uidlist").write_text("".join(lines))
    names = [maildir_folder(root, f.parts).name[1:] for f in standard_folders()[1:]]
    (root / "subscriptions").write_text("".join(f"{name}\n" for name in names))
    return in_new


def read_maildir(folder: Path) -> Counter[Print]:
    """The messages of one Maildir folder, read without mailmig."""
    keywords: dict[str, str] = {}
    if (folder / "dovecot-keywords").exists():
        for line in (folder / "dovecot-keywords").read_text().splitlines():
            index, name = line.split(" ", 1)
            keywords[chr(97 + int(index))] = name
    system = {letter: flag for flag, letter in LETTERS.items()}
    prints: Counter[Print] = Counter()
    for path in [*(folder / "cur").iterdir(), *(folder / "new").iterdir()]:
        info = path.name.partition(":2,")[2]
        flags = tuple(sorted(system.get(c) or keywords[c] for c in info))
        prints[(digest(path.read_bytes()), flags, int(path.stat().st_mtime))] += 1
    return prints


def test_maildir_source_to_dovecot(
    server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    messages = standard_corpus()
    root = tmp_path / "Maildir"
    in_new = build_maildir(root, messages)
    assert (root / ".Archive.2023" / "cur").is_dir() and (root / ".Entw&APw-rfe").is_dir()
    before = snapshot(root)
    user = server.new_user()
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(user))
    urls = f"maildir://{root}", plain_url(server, user)

    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == len(messages) and report["failed"] == 0
    assert report["bytes"] == sum(len(m.data) for m in messages)
    client = server.client(user)
    names = {str(name) for _flags, _delimiter, name in client.list_folders()}
    client.logout()
    # Every folder, empty ones too, by its path: ".Archive.2023" is "Archive/2023" on a "/"
    # server and "INBOX.Archive.2023" on a Courier-style one.
    assert names == {server.folder_name(f.parts) for f in standard_folders()}
    for parts, folder_messages in by_folder(messages).items():
        want = Counter(seed_print(m) for m in folder_messages)
        got = imap_prints(server, user, server.folder_name(parts))
        assert got == want, parts
    # The new/ message arrived unseen and unflagged, as its file name says.
    assert seed_print(in_new) in imap_prints(server, user, "INBOX")

    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0
    assert (report["copied"], report["already_present"]) == (0, len(messages))
    assert main(["verify", *urls]) == 0
    assert snapshot(root) == before


# mbox written as mail spools, Thunderbird and UW-IMAP leave it


def mbox_message(message: SeedMessage) -> tuple[bytes, bytes]:
    """(the message with Status/X-Status/X-Keywords as an mbox holds it, its From_ entry)."""
    head, _, body = message.data.replace(b"\r\n", b"\n").partition(b"\n\n")
    flags = set(message.flags)
    status = b"Status: RO\n" if "\\Seen" in flags else b"Status: O\n"
    xstatus = "".join(
        letter
        for flag, letter in (
            ("\\Answered", "A"),
            ("\\Flagged", "F"),
            ("\\Draft", "T"),
            ("\\Deleted", "D"),
        )
        if flag in flags
    )
    if xstatus:
        status += f"X-Status: {xstatus}\n".encode()
    keywords = [f for f in message.flags if not f.startswith("\\")]
    if keywords:
        status += f"X-Keywords: {' '.join(keywords)}\n".encode()
    stored = head + b"\n" + status + b"\n" + body
    escaped = re.sub(rb"(?m)^(>*From )", rb">\1", body)
    when = message.internaldate.astimezone(UTC)
    from_line = f"From sender@example.org {when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}\n"
    entry = from_line.encode() + head + b"\n" + status + b"\n" + escaped
    return stored, entry + (b"" if entry.endswith(b"\n") else b"\n") + b"\n"


def quoting_message() -> SeedMessage:
    body = b"Hello\r\nFrom the start of a line\r\n>From quoted once\r\nbye\r\n"
    data = b"From: a@example.org\r\nSubject: quoting\r\nMessage-ID: <q@example.org>\r\n\r\n"
    return SeedMessage(
        ("INBOX",),
        data + body,
        ("\\Seen", "\\Answered"),
        datetime(2024, 3, 5, 10, 11, 12, 0, UTC),
        "",
    )


def write_mbox(path: Path, messages: list[SeedMessage]) -> Counter[Print]:
    """Write the mbox; returns what the target must hold (headers added, quoting undone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    want: Counter[Print] = Counter()
    with path.open("wb") as f:
        for message in messages:
            stored, entry = mbox_message(message)
            f.write(entry)
            want[(digest(stored), tuple(sorted(message.flags)), seconds(message.internaldate))] += 1
    return want


# Where each folder's mbox file goes: plain directories, Thunderbird's ".sbd", mUTF-7 and
# UTF-8 names. ("Projects",) has its own messages and children, which one file cannot hold.
MBOX_FILES: dict[Parts, str] = {
    ("INBOX",): "INBOX",
    ("Sent",): "Sent",
    ("Drafts",): "Drafts",
    ("Trash",): "Trash",
    ("Junk",): "Junk",
    ("Archive",): "Archive",
    ("Archive", "2023"): "Archive.sbd/2023",
    ("Archive", "2024"): "Archive.sbd/2024",
    ("Entwürfe",): "Entw&APw-rfe",
    ("Gelöschte Elemente",): "Gelöschte Elemente",
    ("Projects", "Kunden", "Müller GmbH"): "Projects/Kunden/Müller GmbH",
    ("Leer",): "Leer",
}


@pytest.mark.parametrize("layout", ["file", "directory"])
def test_mbox_source_to_dovecot(
    server: DovecotServer,
    layout: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grouped = by_folder(standard_corpus())
    grouped[("INBOX",)].append(quoting_message())
    if layout == "file":
        root = tmp_path / "spool" / "anna"
        wants = {("INBOX",): write_mbox(root, grouped[("INBOX",)])}
    else:
        root = tmp_path / "mail"
        wants = {p: write_mbox(root / name, grouped[p]) for p, name in MBOX_FILES.items()}
    assert b"\n>From the start" in (root if root.is_file() else root / "INBOX").read_bytes()
    before = snapshot(root)
    user = server.new_user()
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(user))
    urls = f"mbox://{root}", plain_url(server, user)

    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0, capsys.readouterr().err
    total = sum(want.total() for want in wants.values())
    assert report["copied"] == total and report["failed"] == 0
    for parts, want in wants.items():
        assert imap_prints(server, user, server.folder_name(parts)) == want, parts

    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0
    assert (report["copied"], report["already_present"]) == (0, total)
    assert main(["verify", *urls]) == 0
    assert snapshot(root) == before


# Dovecot into a Maildir that does not exist yet


def test_dovecot_to_new_maildir(
    server: DovecotServer,
    seeded_user: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(seeded_user))
    root = tmp_path / "new-maildir"
    urls = plain_url(server, seeded_user), f"maildir://{root}"
    messages = standard_corpus()

    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == len(messages) and report["failed"] == 0
    assert root.stat().st_mode & 0o777 == 0o700
    for folder in standard_folders():
        path = maildir_folder(root, folder.parts)
        assert all((path / sub).is_dir() for sub in ("cur", "new", "tmp")), path
        want = imap_prints(server, seeded_user, server.folder_name(folder.parts))
        assert read_maildir(path) == want, folder.parts
    assert {seed_print(m) for m in messages} <= {
        p for f in standard_folders() for p in read_maildir(maildir_folder(root, f.parts))
    }

    assert main(["verify", *urls]) == 0
    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0
    assert (report["copied"], report["already_present"]) == (0, len(messages))


# Browsing local accounts, and what they cannot be


def test_folders_and_ls_of_local_accounts_need_no_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_password_prompts: None
) -> None:
    messages = standard_corpus()
    root = tmp_path / "Maildir"
    build_maildir(root, messages)
    mbox = tmp_path / "mbox"
    inbox = [m for m in messages if m.folder == ("INBOX",)]
    write_mbox(mbox, inbox)
    before = snapshot(tmp_path)
    capsys.readouterr()

    assert main(["folders", f"maildir://{root}", "--json"]) == 0
    folders = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    grouped = by_folder(messages)
    assert set(folders) == {".".join(p) for p in grouped}
    for parts, folder_messages in grouped.items():
        row = folders[".".join(parts)]
        assert row["messages"] == len(folder_messages) and row["delimiter"] == "."
        assert row["size"] == sum(len(m.data) for m in folder_messages)
        assert row["unseen"] == sum("\\Seen" not in m.flags for m in folder_messages)

    assert main(["ls", f"mbox://{mbox}", "INBOX", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(inbox)
    # The sizes of the messages as stored: Status headers added, CRLF line endings.
    sizes = [len(mbox_message(m)[0].replace(b"\n", b"\r\n")) for m in inbox]
    assert sorted(r["size"] for r in rows) == sorted(sizes)
    assert sorted(tuple(sorted(r["flags"])) for r in rows) == sorted(
        tuple(sorted(m.flags)) for m in inbox
    )
    assert main(["ls", f"mbox://{mbox}", "INBOX", "--limit", "1", "--json"]) == 0
    [newest] = json.loads(capsys.readouterr().out)
    latest = max(range(len(inbox)), key=lambda i: inbox[i].internaldate)
    assert newest["size"] == sizes[latest]
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("extra", [[], ["--dry-run"]], ids=["copy", "dry-run"])
def test_mbox_cannot_be_a_copy_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_password_prompts: None, extra: list[str]
) -> None:
    """The same one-line refusal with --dry-run; the mbox file is left as it was either way."""
    root = tmp_path / "Maildir"
    build_maildir(root, standard_corpus()[:3])
    target = tmp_path / "out.mbox"
    target.write_bytes(b"")
    capsys.readouterr()
    assert main(["copy", f"maildir://{root}", f"mbox://{target}", *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("mailmig: ") and "mbox" in err, err
    assert target.read_bytes() == b""


@pytest.mark.parametrize("uidlist", [False, True], ids=["no-uidlist", "dovecot-uidlist"])
def test_maildir_source_changed_between_runs(
    slash_server: DovecotServer,
    uidlist: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A mail client moved an old message into INBOX between two runs: a file with an old
    mtime, which a read-only store numbers before files it numbered earlier."""
    messages = standard_corpus()
    root = tmp_path / "Maildir"
    build_maildir(root, messages)
    if not uidlist:
        (root / "dovecot-uidlist").unlink()  # Courier, or a tree copied without it
    user = slash_server.new_user()
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", slash_server.password(user))
    urls = f"maildir://{root}", plain_url(slash_server, user)
    assert copy(*urls, tmp_path / "report.json")[0] == 0, capsys.readouterr().err

    moved = next(m for m in messages if m.folder == ("Archive",))
    stamp = seconds(moved.internaldate) - 10**8  # older than anything in INBOX
    path = root / "new" / f"{stamp}.M99P99.oldhost"
    path.write_bytes(moved.data.replace(b"\r\n", b"\n"))
    os.utime(path, (stamp, stamp))
    code, report = copy(*urls, tmp_path / "report.json")
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == 1, report
    folders = report["folders"]
    assert isinstance(folders, list)
    assert [f["flags_updated"] for f in folders] == [0] * len(folders)  # no flags mixed up
    want = Counter(seed_print(m) for m in messages if m.folder == ("INBOX",))
    want[(digest(moved.data), (), stamp)] += 1
    assert imap_prints(slash_server, user, "INBOX") == want
    assert main(["verify", *urls]) == 0


def test_dry_run_into_a_new_maildir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_password_prompts: None
) -> None:
    messages = standard_corpus()
    root = tmp_path / "Maildir"
    build_maildir(root, messages)
    target = tmp_path / "new-maildir"
    capsys.readouterr()
    code = main(["copy", f"maildir://{root}", f"maildir://{target}", "--dry-run", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["to_copy"] == len(messages)
    assert not target.exists()
