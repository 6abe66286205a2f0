"""`maildir://` over Courier-IMAP's own Maildir: keywords from `courierimapkeywords/`
(the `:list` file and the per-message change files), as well as Dovecot's letters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.stores.maildir import MaildirStore

MESSAGE = b"Message-ID: <%d@courier.test>\nSubject: kw %d\n\nbody\n"


def courier_maildir(root: Path) -> Path:
    """Four messages as Courier leaves them: keywords in :list, one changed since, one
    changed twice (the higher counter wins), one with Dovecot-style letters too."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    names = ["1700000001.M1P1.courier", "1700000002.M2P1.courier", "1700000003.M3P1.courier",
             "1700000004.M4P1.courier"]  # fmt: skip
    for number, base in enumerate(names, 1):
        flags = "S" if number != 4 else "Sa"
        (root / "cur" / f"{base}:2,{flags}").write_bytes(MESSAGE % (number, number))
        os.utime(root / "cur" / f"{base}:2,{flags}", (1700000000 + number,) * 2)
    (root / "dovecot-keywords").write_text("0 $Dovecot\n")
    kw = root / "courierimapkeywords"
    kw.mkdir()
    (kw / ":list").write_text(
        f"$Work\nJunk\n$Label1\n\n{names[0]}:0 2\n{names[1]}:1\n{names[2]}:0\n"
    )
    (kw / f".5.{names[1]}").write_text("")  # Junk taken off since
    (kw / f".7.{names[2]}").write_text("$Label1\n$Private\n")
    (kw / f".6.{names[2]}").write_text("$Old\n")  # older than .7.
    (kw / ".tmp.1700000000.x").write_text("$Scratch\n")  # Courier's scratch file
    return root


def test_courier_keywords_are_read(tmp_path: Path) -> None:
    store = MaildirStore(str(courier_maildir(tmp_path / "Maildir")), readonly=True)
    flags = {p.uid: sorted(p.flags) for p in store.probes("INBOX", store.uids("INBOX"))}
    store.close()
    assert flags == {
        1: ["$Label1", "$Work", "\\Seen"],
        2: ["\\Seen"],
        3: ["$Label1", "$Private", "\\Seen"],
        4: ["$Dovecot", "\\Seen"],
    }


def test_courier_keywords_arrive_on_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = courier_maildir(tmp_path / "courier")
    target = tmp_path / "new"
    assert main(["copy", f"maildir://{source}", f"maildir://{target}"]) == 0, capsys.readouterr()
    store = MaildirStore(str(target), readonly=True)
    copied = sorted(sorted(p.flags) for p in store.probes("INBOX", store.uids("INBOX")))
    store.close()
    assert ["$Label1", "$Work", "\\Seen"] in copied and ["$Label1", "$Private", "\\Seen"] in copied
