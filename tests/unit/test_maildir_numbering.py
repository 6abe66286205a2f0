"""How a read-only store numbers a Maildir without UID list, and what a first `mailmig ls`
loads: UIDs by (mtime, base name), the same from the state dir's index; the copy engine
left unimported by `ls` while every subcommand stays in the help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailmig_tui.stores import maildir_index
from mailmig_tui.stores.maildir import MaildirStore

T0 = 1_700_000_000
MAIL = b"From: a@example.org\nSubject: s\n\nbody\n"


def put(path: Path, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(MAIL)
    os.utime(path, (mtime, mtime))


def tied_maildir(root: Path) -> list[str]:
    """Files whose mtimes tie, in new/ and cur/; returns the bases in (mtime, base) order."""
    (root / "tmp").mkdir(parents=True)
    put(root / "cur" / "b.M2:2,S", T0)
    put(root / "new" / "a.M9", T0)  # same second as b.M2, in new/, sorts first by name
    put(root / "cur" / "c.M1:2,", T0)
    put(root / "cur" / "z.M0:2,S", T0 - 60)  # oldest, although its name sorts last
    put(root / "new" / "dup.M5", T0 + 9)  # the same base in cur/ wins
    put(root / "cur" / "dup.M5:2,F", T0 + 5)
    put(root / "cur" / ".hidden:2,S", T0 + 99)  # not a message
    (root / "cur" / "a-directory").mkdir()  # neither
    return ["z.M0", "a.M9", "b.M2", "c.M1", "dup.M5"]


def test_unlisted_files_are_numbered_by_mtime_then_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILMIG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(maildir_index, "MIN_MESSAGES", 1)
    root = tmp_path / "Maildir"
    order = tied_maildir(root)
    expected = {base: uid for uid, base in enumerate(order, start=1)}
    with MaildirStore(str(root), readonly=True) as store:
        snap = store._snapshot(str(root))
        assert {mail.base: mail.uid for mail in snap.mails.values()} == expected
        assert snap.mails[expected["dup.M5"]].sub == "cur"
        # Newest first; the three of one second by UID, highest first.
        assert store.newest_first("INBOX") == [5, 4, 3, 2, 1]
        validity = store.folder_status("INBOX").uidvalidity
    # A later store on the unchanged folder reads the state dir's index: the same answer.
    assert list((tmp_path / "state" / "maildir-index").iterdir())
    with MaildirStore(str(root), readonly=True) as store:
        assert store.newest_first("INBOX") == [5, 4, 3, 2, 1]
        assert store.folder_status("INBOX").uidvalidity == validity
        snap = store._snapshot(str(root))
        assert {mail.base: mail.uid for mail in snap.mails.values()} == expected


def _python(code: str, tmp_path: Path) -> str:
    env = dict(os.environ, MAILMIG_STATE_DIR=str(tmp_path / "state"))
    env["MAILMIG_CONFIG_DIR"] = str(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_ls_leaves_the_copy_engine_unimported(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    tied_maildir(root)
    code = (
        "import sys\nfrom mailmig_tui.cli import main\n"
        f"assert main(['ls', 'maildir://{root}', 'INBOX', '--limit', '2']) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('mailmig_tui.engine.')))\n"
    )
    printed = _python(code, tmp_path).splitlines()
    assert printed[0].split()[0] == "UID" and len(printed) == 4  # heading, 2 rows, modules
    engine = printed[-1]
    assert "engine.copy_service" not in engine and "engine.batch" not in engine, engine


def test_help_still_lists_every_subcommand_and_their_options(tmp_path: Path) -> None:
    code = (
        "from mailmig_tui.cli import build_parser\n"
        "parser = build_parser()\n"
        "print(parser.format_help())\n"
        "sub = parser._subparsers._group_actions[0].choices\n"
        "print(sorted(sub))\n"
        "print(sub['copy'].format_help())\n"
    )
    printed = _python(code, tmp_path)
    for name in ("folders", "ls", "copy", "verify", "batch", "coexistence", "history", "undo"):
        assert f"    {name} " in printed
    assert "'runs'" in printed and "--dry-run" in printed and "--connections N" in printed
