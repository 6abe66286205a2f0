"""The source's folder list while it is compared with the target (issue 13, item 5 and the
target comparison): the count columns are as wide as their widest number, the name keeps
8 readable cells, whole columns go when room is short (the difference first, then the
target's count) and no number is ever cut; role tags stay where they fit."""

from __future__ import annotations

import re
from pathlib import Path

from mailmig_tui.engine.compare import TargetCount
from mailmig_tui.model import FolderInfo, SpecialUse
from mailmig_tui.tui.app import MailmigApp
from mailmig_tui.tui.browse.folder_tree import (
    NAME_MIN,
    CountWidths,
    FolderTree,
    compare_layout,
    tree_header,
    tree_row,
)
from tests.tui.tuikit import demo_sessions, pane, screen_text, wait_compared, wait_for

CUT_NUMBER = re.compile(r"[\d,−+]…")


def big_tree() -> tuple[FolderTree, dict[str, TargetCount]]:
    folders = [
        FolderInfo("INBOX", "/", messages=100_000),
        FolderInfo("Archive", "/", messages=0, selectable=False),
        FolderInfo("Archive/2023", "/", messages=1_500),
        FolderInfo("Sent", "/", messages=600, special_use=SpecialUse.SENT),
    ]
    counts = {
        "INBOX": TargetCount("INBOX", 3),
        "Archive/2023": TargetCount("Archive/2023", 1_500),
        "Sent": TargetCount("Sent", 0),
    }
    return FolderTree(folders, ""), counts


def test_counts_are_whole_at_every_width_and_columns_go_diff_first() -> None:
    tree, counts = big_tree()
    rows = tree.rows(set(), "", counts)
    widths = CountWidths.of(rows)
    # 100,000 / 1,500 / −99,997
    assert (widths.messages, widths.target, widths.diff) == (7, 5, 7)
    shown: list[tuple[bool, bool]] = []
    for width in range(20, 100):
        layout = compare_layout(width, widths)
        texts = [tree_row(row, width, False, layout) for row in rows]
        assert all(len(text) == width for text in texts), (width, texts)
        inbox = texts[0]
        assert "100,000" in inbox and not CUT_NUMBER.search(" ".join(texts)), (width, texts)
        assert ("−99,997" in inbox) == bool(layout.diff), (width, inbox)
        assert bool(re.search(r"→ +3\b", inbox)) == bool(layout.target), (width, inbox)
        if layout.diff:
            assert layout.target, "the difference never stays without the target's count"
        if width - (2 + 1 + 7) >= widths.indent + NAME_MIN:
            assert "2023" in texts[2] and "Sent" in texts[3]
        shown.append((bool(layout.target), bool(layout.diff)))
    # From narrow to wide: nothing, then the target's count, then the difference too.
    assert shown == sorted(shown) and shown[0] == (False, False) and shown[-1] == (True, True)
    assert (True, False) in shown
    full = compare_layout(60, widths)
    assert full.diff and full.target and "Target" in tree_header(60, full)
    assert "Sent [Sent]" in tree_row(rows[3], 60, False, full)


def test_a_narrow_list_drops_the_difference_before_the_target() -> None:
    tree, counts = big_tree()
    rows = tree.rows(set(), "", counts)
    widths = CountWidths.of(rows)
    # 30 cells: the name needs indent 4 + 8 cells; 100,000 and 1,500 take the rest.
    layout = compare_layout(30, widths)
    assert layout.target and not layout.diff and layout.name >= widths.indent + NAME_MIN
    assert layout.name + 2 + 1 + 7 + 3 + 5 == 30
    assert not compare_layout(29, widths).target


async def test_60x20_shows_whole_names_and_counts_while_comparing(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_compared(pilot, app)
        await pilot.pause()
        listing = pane(app, "source").folder_list
        width = listing.size.width
        lines = [listing.row_text(i, width)[0] for i in range(listing.row_count())]
        text = "\n".join(lines)
        for name in ("INBOX", "Archive", "Drafts", "Entwürfe", "Projekte", "Kunden", "Sent"):
            assert re.search(rf"\b{name}\b", text), (name, text)
        assert "1,500 →" in text and not CUT_NUMBER.search(text), text
        assert "−1," not in text.replace("−1,500", "")
        assert "Msgs" in listing.header(width)


async def test_80x24_keeps_role_tags_while_comparing(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_compared(pilot, app)
        await pilot.pause()
        listing = pane(app, "source").folder_list
        width = listing.size.width
        text = "\n".join(listing.row_text(i, width)[0] for i in range(listing.row_count()))
        assert "Sent [Sent]" in text and "Drafts [Drafts]" in text, text
        assert "−1,500" in text and "Diff" in listing.header(width), text


async def test_the_header_follows_the_columns_when_a_collapse_widens_them(demo_root: Path) -> None:
    app = MailmigApp(*demo_sessions(demo_root))
    # 87 columns: a pane where the deeper indent leaves the target's column only `Tgt`.
    async with app.run_test(size=(87, 24)) as pilot:
        await wait_compared(pilot, app)
        listing = pane(app, "source").folder_list
        listing.focus()
        assert "Tgt" in listing.header(listing.list_width)
        for name in ("Archive", "Projekte"):  # no subfolder shown: names need less indent
            listing.select_name(name)
            await pilot.press("minus")
        await wait_for(pilot, lambda: listing.count_widths.indent == 2, "the subtrees collapsed")
        await pilot.pause()
        assert "Target" in listing.header(listing.list_width)
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if "Folder" in line and "Diff" in line)
        inbox = next(line for line in lines if "1,500" in line)
        pane_end = header.index("▕")
        assert header.index("Diff") + len("Diff") == pane_end, header
        assert header.index("Msgs") + len("Msgs") == inbox.index("1,500") + len("1,500"), (
            header,
            inbox,
        )
