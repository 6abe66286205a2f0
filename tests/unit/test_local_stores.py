"""MaildirStore and MboxStore against small hand-built trees (LF files, like real servers)."""

from __future__ import annotations

import os
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailmig_tui.errors import ConfigError, FolderMissing, ProtocolError
from mailmig_tui.model import Message
from mailmig_tui.stores.base import MailStore, SearchQuery
from mailmig_tui.stores.local_common import to_crlf
from mailmig_tui.stores.maildir import MaildirStore
from mailmig_tui.stores.mbox import MboxStore, from_line_date

T0 = 1_700_000_000

GREETING = (
    b"Return-Path: <joerg@example.org>\n"
    b"From: =?iso-8859-1?q?J=F6rg?= <joerg@example.org>\n"
    b"To: anna@example.org\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
    b"Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    b"Message-ID: <a@example.org>\n"
    b"\n"
    b"Hallo Anna,\nbis bald.\n"
)
REPLY = (
    b"From: anna@example.org\nSubject: Re: plans\n"
    b"Message-ID:\n <c@example.org>\n\nthe needle is here\n"
)
TRASHED = b"From: spam@example.net\nSubject: Buy\nMessage-ID: <b@example.org>\n\nbuy now\n"
FRESH = b"From: news@example.com\nSubject: News\nMessage-ID: <d@example.org>\n\nfresh\n"
# Raw Latin-1 bytes in a header and no Message-ID, as old clients wrote drafts.
DRAFT = b"From: me@example.org\nSubject: Entwurf f\xfcr Anna\n\nnoch nicht fertig\n"
ARCHIVED = b"From: old@example.org\nSubject: Old\nMessage-ID: <e@example.org>\n\nold\n"


def put(path: Path, data: bytes, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    put(root / "cur" / f"{T0}.M1P1.host:2,S", GREETING, T0)
    put(root / "cur" / f"{T0 + 100}.M2P1.host:2,FRa", REPLY, T0 + 100)
    put(root / "cur" / f"{T0 + 50}.M3P1.host:2,STb", TRASHED, T0 + 50)
    put(root / "new" / f"{T0 + 200}.M4P1.host", FRESH, T0 + 200)
    (root / "dovecot-keywords").write_text("0 $label1\n1 Work\n")
    drafts = root / ".Entw&APw-rfe"
    for sub in ("cur", "new", "tmp"):
        (drafts / sub).mkdir(parents=True)
    put(drafts / "cur" / f"{T0}.M5P1.host:2,D", DRAFT, T0)
    archive = root / ".Archive.2023"  # nested, and its parent `.Archive` does not exist
    for sub in ("cur", "new", "tmp"):
        (archive / sub).mkdir(parents=True)
    put(archive / "cur" / "1600000000.M9P1.host:2,S", ARCHIVED, 1_600_000_000)
    (archive / "dovecot-uidlist").write_text("3 V1234567 N10 Gabc\n7 :1600000000.M9P1.host\n")
    put(archive / "new" / "1500000000.M8P1.host", FRESH, 1_500_000_000)  # not in the list yet
    (root / ".not-a-maildir").mkdir()
    return root


def tree(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every path under root with its bytes (None for directories) and mtime."""
    found: dict[str, tuple[bytes | None, int]] = {}
    for path in [root, *root.rglob("*")]:
        data = None if path.is_dir() else path.read_bytes()
        found[str(path.relative_to(root))] = (data, path.stat().st_mtime_ns)
    return found


def exercise(store: MailStore) -> None:
    """Every read operation on every folder."""
    for info in store.list_folders():
        if not info.selectable:
            continue
        uids = store.uids(info.name)
        store.summaries(info.name, uids)
        store.probes(info.name, uids)
        list(store.fetch(info.name, uids))
        store.search(info.name, SearchQuery(text="zzz-not-there", sender="x"))
        store.search(info.name, SearchQuery(text="zzz-not-there"))
        store.newest_first(info.name)


# Maildir


def test_maildir_folders_and_status(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    with MaildirStore(str(root), readonly=True) as store:
        assert store.info().delimiter == "." and store.info().prefix == ""
        folders = {f.name: f for f in store.list_folders()}
        assert list(folders) == ["Archive", "Archive.2023", "Entwürfe", "INBOX"]
        assert not folders["Archive"].selectable
        inbox = folders["INBOX"]
        assert (inbox.messages, inbox.unseen, inbox.uidnext) == (4, 2, 5)
        assert inbox.size == sum(len(to_crlf(m)) for m in (GREETING, REPLY, TRASHED, FRESH))
        # No list at all: every UID is a guess, which UIDVALIDITY names (path, then files).
        names = [str(zlib.crc32(str(root).encode())), f"{T0}.M1P1.host", f"{T0 + 50}.M3P1.host"]
        names += [f"{T0 + 100}.M2P1.host", f"{T0 + 200}.M4P1.host"]
        assert inbox.uidvalidity == zlib.crc32("\0".join(names).encode())
        archive = folders["Archive.2023"]
        assert (archive.uidnext, archive.messages) == (11, 2)
        guess = zlib.crc32(b"1234567\0" + b"1500000000.M8P1.host")  # one file not listed
        assert archive.uidvalidity == guess
        assert store.uids("Archive.2023") == [7, 10]
        with pytest.raises(FolderMissing, match="Nope"):
            store.folder_status("Nope")
        with pytest.raises(FolderMissing):
            store.folder_status("Archive")


def test_maildir_messages(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    with MaildirStore(str(root), readonly=True) as store:
        # UIDs follow (mtime, name): GREETING, TRASHED, REPLY, FRESH.
        assert store.uids("INBOX") == [1, 2, 3, 4]
        rows = store.summaries("INBOX", [3, 1, 99, 2, 4])
        assert [r.uid for r in rows] == [3, 1, 2, 4]
        by_uid = {r.uid: r for r in rows}
        greeting = by_uid[1]
        assert greeting.subject == "Grüße" and greeting.sender == "Jörg <joerg@example.org>"
        assert greeting.message_id == "<a@example.org>"
        assert greeting.date == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
        assert greeting.internaldate == datetime.fromtimestamp(T0, UTC)
        assert set(by_uid[3].flags) == {"\\Flagged", "\\Answered", "$label1"}
        assert set(by_uid[2].flags) == {"\\Seen", "\\Deleted", "Work"}
        assert by_uid[4].flags == ()
        assert by_uid[3].message_id == "<c@example.org>"

        messages = list(store.fetch("INBOX", [4, 1]))
        assert [m.uid for m in messages] == [1, 4]
        assert messages[0].data == GREETING.replace(b"\n", b"\r\n")
        assert messages[0].flags == ("\\Seen",)
        assert messages[1].internaldate == datetime.fromtimestamp(T0 + 200, UTC)

        probes = store.probes("INBOX", [3, 1])
        assert [p.uid for p in probes] == [1, 3]
        assert probes[0].size == len(messages[0].data)
        assert b"Message-ID: <a@example.org>\r\n" in probes[0].headers
        assert b"Return-Path" not in probes[0].headers
        assert probes[1].headers.startswith(b"From: anna@example.org\r\n")
        assert b"Message-ID:\r\n <c@example.org>\r\n" in probes[1].headers

        draft = store.summaries("Entwürfe", store.uids("Entwürfe"))[0]
        assert draft.subject == "Entwurf für Anna" and draft.message_id == ""
        assert draft.flags == ("\\Draft",)


def test_maildir_search(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    with MaildirStore(str(root), readonly=True) as store:
        assert store.search("INBOX", SearchQuery(subject="GRÜSSE")) == [1]  # casefold: ß = ss
        assert store.search("INBOX", SearchQuery(subject="grüße")) == [1]
        assert store.search("INBOX", SearchQuery(sender="jörg")) == [1]
        assert store.search("INBOX", SearchQuery(text="NEEDLE")) == [3]
        assert store.search("INBOX", SearchQuery(text="bis bald")) == [1]
        since = datetime.fromtimestamp(T0 + 100, UTC)
        assert store.search("INBOX", SearchQuery(since=since)) == [1, 2, 3, 4]
        assert store.search("INBOX", SearchQuery(before=since)) == []
        assert store.search("INBOX", SearchQuery(larger=len(to_crlf(GREETING)) - 1)) == [1]
        assert store.search("Entwürfe", SearchQuery(subject="für")) == [1]


def test_maildir_readonly_changes_nothing(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    before = tree(root)
    with MaildirStore(str(root), readonly=True) as store:
        exercise(store)
        msg = Message(0, b"Subject: x\n\nx\n", (), None)
        with pytest.raises(ProtocolError, match="read-only"):
            store.append("INBOX", [msg])
        with pytest.raises(ProtocolError, match="read-only"):
            store.create_folder("New")
        with pytest.raises(ProtocolError, match="read-only"):
            store.set_flags("INBOX", 1, ["\\Seen"])
    assert tree(root) == before


def test_maildir_uids_survive_a_deletion_within_a_session(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    with MaildirStore(str(root), readonly=True) as store:
        assert store.uids("INBOX") == [1, 2, 3, 4]
        (root / "cur" / f"{T0 + 50}.M3P1.host:2,STb").unlink()  # TRASHED, UID 2
        put(root / "cur" / f"{T0 - 999}.M7P1.host:2,", ARCHIVED, T0 - 999)
        assert store.uids("INBOX") == [1, 3, 4, 5]
        assert [m.data for m in store.fetch("INBOX", [5])] == [to_crlf(ARCHIVED)]


def test_maildir_guessed_uids_change_uidvalidity(tmp_path: Path) -> None:
    """A read-only store numbers unlisted files itself; when a later session may number them
    differently, UIDVALIDITY differs, so no journal takes one message for another."""
    root = make_maildir(tmp_path / "Maildir")
    archive = root / ".Archive.2023"

    def status() -> dict[str, tuple[int, list[int]]]:
        with MaildirStore(str(root), readonly=True) as store:
            return {n: (store.folder_status(n).uidvalidity, store.uids(n)) for n in folders}

    folders = ["INBOX", "Archive.2023", "Entwürfe"]
    first = status()
    assert status() == first  # nothing changed: the same guess
    (archive / "dovecot-uidlist").write_text(
        "3 V1234567 N10 Gabc\n7 :1600000000.M9P1.host\n8 :1500000000.M8P1.host\n"
    )
    assert status()["Archive.2023"] == (1234567, [7, 8])  # Dovecot's word: no guess left
    # A client moved an old message in: it sorts first and renumbers the others.
    put(root / "cur" / f"{T0 - 5}.M6P1.host:2,S", ARCHIVED, T0 - 5)
    (root / "new" / f"{T0 + 200}.M4P1.host").unlink()
    second = status()
    assert second["INBOX"][0] != first["INBOX"][0] and second["INBOX"][1] == [1, 2, 3, 4]
    assert second["Entwürfe"] == first["Entwürfe"]
    with MaildirStore(str(root), readonly=True) as store:
        validity = store.folder_status("INBOX").uidvalidity
        put(root / "new" / f"{T0 - 9}.M5P1.host", FRESH, T0 - 9)
        # Within a session UIDs handed out stay put, and so does UIDVALIDITY.
        assert store.uids("INBOX") == [1, 2, 3, 4, 5]
        assert store.folder_status("INBOX").uidvalidity == validity


def test_maildir_not_a_maildir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a Maildir"):
        MaildirStore(str(tmp_path / "missing"), readonly=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not a Maildir"):
        MaildirStore(str(tmp_path / "empty"), readonly=True)
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "full" / "Mail").mkdir(parents=True)
    for readonly in (True, False):
        for name in ("file", "full"):
            with pytest.raises(ConfigError, match="not a Maildir"):
                MaildirStore(str(tmp_path / name), readonly=readonly)
    assert not (tmp_path / "missing").exists() and not list((tmp_path / "empty").iterdir())
    assert (tmp_path / "file").read_bytes() == b"x"
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["Mail"]
    with pytest.raises(ConfigError, match="parent directory"):
        MaildirStore(str(tmp_path / "no" / "such" / "Maildir"), readonly=False)
    assert not (tmp_path / "no").exists()


def test_maildir_writable_store_makes_a_new_maildir(tmp_path: Path) -> None:
    root = tmp_path / "new-maildir"
    msg = Message(0, b"Subject: x\r\n\r\nx\r\n", ("\\Seen",), datetime.fromtimestamp(T0, UTC))
    with MaildirStore(str(root), readonly=False) as store:
        assert [(f.name, f.messages) for f in store.list_folders()] == [("INBOX", 0)]
        assert store.append("INBOX", [msg])[0].uid == 1
    for path in (root, root / "cur", root / "new", root / "tmp"):
        assert path.is_dir() and path.stat().st_mode & 0o777 == 0o700, path
    with MaildirStore(str(root), readonly=True) as store:
        assert [m.data for m in store.fetch("INBOX", [1])] == [msg.data]
    # An empty directory the admin prepared, and one a crash left half made, are completed.
    (tmp_path / "prepared").mkdir(mode=0o750)
    (tmp_path / "half" / "tmp").mkdir(parents=True)
    for name in ("prepared", "half"):
        MaildirStore(str(tmp_path / name), readonly=False).close()
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["cur", "new", "tmp"]
    assert (tmp_path / "prepared").stat().st_mode & 0o777 == 0o750  # not ours to change


def test_maildir_append_without_tmp(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    (root / "tmp").rmdir()  # as after a copy by a tool that drops empty directories
    with MaildirStore(str(root), readonly=False) as store:
        assert store.append("INBOX", [Message(0, b"Subject: x\n\nx\n", (), None)])[0].uid == 5


def test_maildir_write_round_trip(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    when = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    sent = Message(0, b"Subject: sent\r\n\r\nCRLF kept\r\n", ("\\Seen", "\\Recent"), when)
    tagged = Message(
        0, b"Subject: tagged\n\nLF kept\n", ("$label1", "Project X", "\\Flagged"), when
    )
    with MaildirStore(str(root), readonly=False) as store:
        store.create_folder("Gesendete Objekte")
        store.create_folder("Entwürfe.Alt")
        store.create_folder("Entwürfe.Alt")  # already there: still fine
        store.create_folder("INBOX")
        assert (root / ".Entw&APw-rfe.Alt" / "tmp").is_dir()
        subscriptions = (root / "subscriptions").read_text().splitlines()
        assert subscriptions == ["Gesendete Objekte", "Entw&APw-rfe.Alt"]
        with pytest.raises(ProtocolError):
            store.create_folder("a..b")

        first = store.append("Gesendete Objekte", [sent])
        status = store.folder_status("Gesendete Objekte")
        assert [(r.uid, r.uidvalidity) for r in first] == [(1, status.uidvalidity)]
        results = store.append("INBOX", [tagged, sent])
        assert [r.uid for r in results] == [5, 6]
        store.set_flags("INBOX", 4, ["\\Seen", "Work"])  # leaves new/ for cur/
        store.set_flags("INBOX", 1, [])
        inbox = store.folder_status("INBOX")
        assert (inbox.messages, inbox.unseen, inbox.uidnext) == (6, 3, 7)

    files = sorted((root / "cur").iterdir())
    stored = [p for p in files if p.read_bytes() == tagged.data]
    assert len(stored) == 1 and stored[0].name.endswith(":2,Fac")
    assert stored[0].stat().st_mtime == when.timestamp()
    assert "2 Project X" in (root / "dovecot-keywords").read_text()
    assert not list((root / "new").iterdir()) and not list((root / "tmp").iterdir())
    assert (root / "mailmig-uidlist").read_text().startswith("mailmig-uidlist 1 V")

    for readonly in (True, False):
        with MaildirStore(str(root), readonly=readonly) as store:
            assert store.uids("INBOX") == [1, 2, 3, 4, 5, 6]
            got = {m.uid: m for m in store.fetch("INBOX", [1, 4, 5, 6])}
            assert got[1].flags == ()
            assert set(got[4].flags) == {"\\Seen", "Work"}
            assert set(got[5].flags) == {"\\Flagged", "$label1", "Project X"}
            assert got[5].data == b"Subject: tagged\r\n\r\nLF kept\r\n"
            assert got[6].data == sent.data and got[6].flags == ("\\Seen",)
            assert got[6].internaldate == when
            assert [m.uid for m in store.fetch("Gesendete Objekte", [1])] == [1]
    with MaildirStore(str(root), readonly=False) as store:
        assert store.append("INBOX", [sent])[0].uid == 7


def test_maildir_two_writers_never_share_a_uid(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Maildir")
    msg = Message(0, b"Subject: x\n\nx\n", (), None)
    with MaildirStore(str(root), readonly=False) as a, MaildirStore(str(root), False) as b:
        uids = [a.append("INBOX", [msg])[0].uid, b.append("INBOX", [msg])[0].uid]
        uids += [a.append("INBOX", [msg])[0].uid]
    assert uids == [5, 6, 7]


# mbox

LONG = b"X-Long: " + b"x" * 3000 + b"\n"
MBOX = (
    b"From alice@example.org Tue Mar  5 10:11:12 2024\n"
    b"From: =?utf-8?q?Alice_M=C3=BCller?= <alice@example.org>\n"
    b"To: bob@example.org\n"
    b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n"
    b"Date: Tue, 5 Mar 2024 11:11:12 +0100\n"
    b"Message-ID: <m1@example.org>\n"
    b"Status: RO\n"
    b"X-Status: AF\n"
    b"\n"
    b"Hello\n>From the start\n>>From quoted\nFrom here on, no date: not a separator\nbye\n"
    b"\n"
    b"From bob@example.org Wed Mar  6 08:00:00 2024\n"
    b"From: bob@example.org\n"
    b"Subject: caf\xe9 cr\xe8me\n" + LONG + b"Status: O\n"
    b"\n"
    b"body two\n"
    b"\n"
    b"From MAILER-DAEMON Thu Mar  7 09:00:00 2024\n"
    b"Subject: last\n"
    b"X-Status: T\n"
    b"\n"
    b"no newline at the end"
)
FIRST = (
    b"From: =?utf-8?q?Alice_M=C3=BCller?= <alice@example.org>\r\n"
    b"To: bob@example.org\r\n"
    b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n"
    b"Date: Tue, 5 Mar 2024 11:11:12 +0100\r\n"
    b"Message-ID: <m1@example.org>\r\n"
    b"Status: RO\r\n"
    b"X-Status: AF\r\n"
    b"\r\n"
    b"Hello\r\nFrom the start\r\n>From quoted\r\nFrom here on, no date: not a separator\r\n"
    b"bye\r\n"
)


@pytest.mark.parametrize("crlf", [False, True])
def test_mbox_file(tmp_path: Path, crlf: bool) -> None:
    path = tmp_path / "mbox"
    path.write_bytes(MBOX.replace(b"\n", b"\r\n") if crlf else MBOX)
    with MboxStore(str(path)) as store:
        assert store.info().delimiter == "/"
        [inbox] = store.list_folders()
        assert (inbox.name, inbox.messages, inbox.unseen, inbox.uidnext) == ("INBOX", 3, 2, 4)
        assert store.uids("INBOX") == [1, 2, 3]
        messages = list(store.fetch("INBOX", [3, 2, 1, 9]))
        assert messages[0].data == FIRST
        assert set(messages[0].flags) == {"\\Seen", "\\Answered", "\\Flagged"}
        assert messages[0].internaldate == datetime(2024, 3, 5, 10, 11, 12, tzinfo=UTC)
        assert messages[1].data.endswith(b"Status: O\r\n\r\nbody two\r\n")
        assert messages[1].flags == ()
        assert messages[2].data == b"Subject: last\r\nX-Status: T\r\n\r\nno newline at the end"
        assert messages[2].flags == ("\\Draft",)
        assert inbox.size == sum(len(m.data) for m in messages)

        rows = store.summaries("INBOX", [2, 1])
        assert rows[1].subject == "Grüße" and rows[1].sender == "Alice Müller <alice@example.org>"
        assert rows[1].message_id == "<m1@example.org>"
        assert rows[0].subject == "café crème" and rows[0].message_id == ""
        probes = store.probes("INBOX", [1, 2])
        assert probes[0].size == len(FIRST)
        # The mbox status fields ride along: identity leaves them out of the size.
        assert probes[1].headers == (
            b"From: bob@example.org\r\nSubject: caf\xe9 cr\xe8me\r\nStatus: O\r\n\r\n"
        )

        assert store.search("INBOX", SearchQuery(sender="MÜLLER")) == [1]
        assert store.search("INBOX", SearchQuery(text=">from quoted")) == [1]
        assert store.search("INBOX", SearchQuery(subject="crème")) == [2]
        assert store.search("INBOX", SearchQuery(larger=3000)) == [2]
        day = datetime(2024, 3, 6, tzinfo=UTC)
        assert store.search("INBOX", SearchQuery(since=day)) == [2, 3]
        assert store.search("INBOX", SearchQuery(before=day)) == [1]
        validity = inbox.uidvalidity
    with MboxStore(str(path), readonly=True) as store:
        assert store.folder_status("INBOX").uidvalidity == validity != 0


def test_mbox_skips_uw_imap_pseudo_message(tmp_path: Path) -> None:
    pseudo = (
        b"From MAILER-DAEMON Mon Mar  4 10:00:00 2024\n"
        b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
        b"X-IMAP: 1709546400 0000000002\n\nThis text is part of the internal format.\n\n"
    )
    (tmp_path / "INBOX").write_bytes(pseudo + MBOX)
    with MboxStore(str(tmp_path / "INBOX")) as store:
        assert store.uids("INBOX") == [1, 2, 3]
        assert [m.data for m in store.fetch("INBOX", [1])] == [FIRST]


def make_mbox_dir(root: Path) -> Path:
    put(root / "inbox", MBOX, T0)
    put(root / "Sent", MBOX.split(b"\n\nFrom bob")[0] + b"\n", T0)
    put(root / "Archive" / "2023", MBOX, T0)
    put(root / "Entw&APw-rfe", b"", T0)
    put(root / "notes.txt", b"just some notes\n", T0)
    put(root / "Sent.msf", b"// index\n", T0)
    put(root / "inbox.lock", b"", T0)
    put(root / ".imap" / "INBOX" / "dovecot.index", b"\0\0", T0)
    put(root / "Local.sbd" / "Sub", MBOX, T0)
    return root


def test_mbox_directory(tmp_path: Path) -> None:
    root = make_mbox_dir(tmp_path / "mail")
    before = tree(root)
    with MboxStore(str(root), readonly=True) as store:
        folders = {f.name: f for f in store.list_folders()}
        names = ["Archive", "Archive/2023", "Entwürfe", "INBOX", "Local", "Local/Sub", "Sent"]
        assert list(folders) == names
        assert not folders["Archive"].selectable and folders["Archive/2023"].messages == 3
        assert folders["Entwürfe"].messages == 0 and folders["Sent"].messages == 1
        assert [m.data for m in store.fetch("Sent", [1])] == [FIRST]
        with pytest.raises(FolderMissing, match=r"notes\.txt"):
            store.uids("notes.txt")
        exercise(store)
        for call in (
            lambda: store.create_folder("X"),
            lambda: store.append("INBOX", []),
            lambda: store.set_flags("INBOX", 1, []),
        ):
            with pytest.raises(ProtocolError, match="only be a source"):
                call()
    assert tree(root) == before


def test_mbox_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        MboxStore(str(tmp_path / "missing"))
    (tmp_path / "letter.txt").write_bytes(b"Dear Bob,\n")
    with pytest.raises(ConfigError, match="not an mbox"):
        MboxStore(str(tmp_path / "letter.txt"))


def test_from_line_dates() -> None:
    assert from_line_date(b"From a@b Tue Mar  5 10:11:12 2024") == datetime(
        2024, 3, 5, 10, 11, 12, tzinfo=UTC
    )
    assert from_line_date(b"From a@b Tue Mar  5 10:11:12 2024 +0100") == datetime(
        2024, 3, 5, 9, 11, 12, tzinfo=UTC
    )
    assert from_line_date(b"From here on") is None
    assert from_line_date(b"From a@b Tue Feb 31 10:11:12 2024") is None
