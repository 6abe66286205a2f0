"""A text search reads every file whole whatever size its name claims: the `,S=` a name
carries only sizes the first read, so a name that lies (too small, too big, absurd) or has
none still gives the exact match all the bytes."""

from __future__ import annotations

from pathlib import Path

from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.stores.maildir import MaildirStore


def test_a_text_search_reads_the_whole_file_whatever_its_name_says(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    tail = b"x" * 200_000 + b" needle at the very end\n"  # past any first read
    bodies = {
        "1600000001.M1P1.host,S=10:2,S": tail,  # claims far less than it holds
        "1600000002.M2P1.host,S=99999999999999:2,S": tail,  # absurd
        "1600000003.M3P1.host:2,S": tail,  # no size at all
        "1600000004.M4P1.host,S=300000:2,": b"short, no match here\n",  # claims more
    }
    for name, body in bodies.items():
        (root / "cur" / name).write_bytes(b"Subject: s\n\n" + body)
    with MaildirStore(str(root), readonly=True) as store:
        assert store.search("INBOX", SearchQuery(text="needle at the very end")) == [1, 2, 3]
        assert store.search("INBOX", SearchQuery(text="short, no match")) == [4]
