"""Mapping conflicts are values: every collision found in one pass, never read from a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailmig_tui.cli import main
from mailmig_tui.engine.folder_map import CONFLICT_HINT, compute_map
from mailmig_tui.engine.mapping import Namespace, find_conflicts, map_folders
from mailmig_tui.engine.plan import CopyOptions, map_accounts
from mailmig_tui.errors import FolderMapConflict, MappingConflict, UsageError
from mailmig_tui.model import FolderInfo, SpecialUse
from mailmig_tui.stores.maildir import MaildirStore

SLASH = Namespace("/", "")
COURIER = Namespace(".", "INBOX.")
MAP_HINT = "use --map SOURCE=TARGET to choose the target folder yourself"


def courier(name: str, use: SpecialUse | None = None) -> FolderInfo:
    return FolderInfo(name, ".", special_use=use)


# A Courier-style source whose Sent folder goes by role to the target's "Sent Items", where
# two more source folders go by path; and whose "INBOX.inbox" lands in INBOX.
SOURCE = [
    courier("INBOX"),
    courier("INBOX.inbox"),
    courier("INBOX.Sent", SpecialUse.SENT),
    courier("INBOX.Sent Items"),
    courier("Sent Items"),
    courier("INBOX.Other"),
]
TARGET = [FolderInfo("Sent Items", "/", special_use=SpecialUse.SENT)]
EXPECTED = [
    MappingConflict("INBOX", "INBOX.inbox", "INBOX"),
    MappingConflict("INBOX.Sent", "INBOX.Sent Items", "Sent Items"),
    MappingConflict("INBOX.Sent", "Sent Items", "Sent Items"),
]


def test_every_collision_is_reported_at_once_as_values() -> None:
    with pytest.raises(FolderMapConflict) as caught:
        map_folders(SOURCE, COURIER, TARGET, SLASH)
    error = caught.value
    assert isinstance(error, UsageError)
    # Three source folders into "Sent Items": the first paired with each later one.
    assert list(error.conflicts) == EXPECTED
    assert error.message == (
        "source folders 'INBOX' and 'INBOX.inbox' would both go to target folder 'INBOX' "
        "(and 2 more)"
    )
    assert error.hint == MAP_HINT


def test_allow_conflicts_returns_the_mappings() -> None:
    result = map_folders(SOURCE, COURIER, TARGET, SLASH, allow_conflicts=True)
    assert [(m.source, m.target) for m in result] == [
        ("INBOX", "INBOX"),
        ("INBOX.inbox", "INBOX"),
        ("INBOX.Sent", "Sent Items"),
        ("INBOX.Sent Items", "Sent Items"),
        ("Sent Items", "Sent Items"),
        ("INBOX.Other", "Other"),
    ]
    assert find_conflicts(result) == EXPECTED


def test_merges_chosen_with_map_are_not_conflicts() -> None:
    overrides = {"INBOX.Sent Items": "Sent Items", "Sent Items": "Sent Items", "inbox": "INBOX"}
    result = map_folders(SOURCE, COURIER, TARGET, SLASH, overrides)
    assert {m.target for m in result if "Sent" in m.source} == {"Sent Items"}
    assert find_conflicts(result, overrides) == []
    # One manual entry is enough to exempt a folder; the rest still collide.
    partial = map_folders(
        SOURCE, COURIER, TARGET, SLASH, {"Sent Items": "Sent Items"}, allow_conflicts=True
    )
    assert find_conflicts(partial, {"Sent Items"}) == EXPECTED[:2]


def test_one_conflict_names_no_more() -> None:
    error = FolderMapConflict([EXPECTED[1]], CONFLICT_HINT)
    assert error.message == (
        "source folders 'INBOX.Sent' and 'INBOX.Sent Items' would both go to target folder "
        "'Sent Items'"
    )
    assert error.hint == CONFLICT_HINT and error.conflicts == (EXPECTED[1],)
    with pytest.raises(ValueError):
        FolderMapConflict([])


def maildir(root: Path, *folders: str) -> MaildirStore:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    store = MaildirStore(str(root), readonly=False)
    for name in folders:
        store.create_folder(name)
    return store


def test_map_accounts_lists_conflicts_on_request(tmp_path: Path) -> None:
    # The target's drafts folder is "Entwürfe": Drafts goes there by role, "Entwürfe" by path.
    source = maildir(tmp_path / "s", "Drafts", "Entwürfe", "Archive")
    target = maildir(tmp_path / "t", "Entwürfe")
    with pytest.raises(FolderMapConflict) as caught:
        map_accounts(source, target, CopyOptions())
    conflict = MappingConflict("Drafts", "Entwürfe", "Entwürfe")
    assert caught.value.conflicts == (conflict,)
    mapped = map_accounts(source, target, CopyOptions(), allow_conflicts=True)
    assert mapped.conflicts == [conflict]
    assert {m.source: m.target for m, _info in mapped.pairs}["Entwürfe"] == "Entwürfe"
    chosen = CopyOptions(overrides={"Entwürfe": "Entwürfe"})
    assert map_accounts(source, target, chosen).conflicts == []


def test_a_target_without_case_has_case_conflicts(tmp_path: Path) -> None:
    source = maildir(tmp_path / "s", "Archiv", "archiv")
    target = maildir(tmp_path / "t")
    options = CopyOptions(target_preset="exchange")
    with pytest.raises(FolderMapConflict) as caught:
        map_accounts(source, target, options)
    assert caught.value.conflicts == (MappingConflict("Archiv", "archiv", "archiv"),)
    assert map_accounts(source, target, CopyOptions()).conflicts == []


def test_compute_map_flags_every_folder_of_every_conflict(tmp_path: Path) -> None:
    source = maildir(tmp_path / "s", "Drafts", "Entwürfe", "Archiv", "archiv")
    target = maildir(tmp_path / "t", "Entwürfe")
    plain = compute_map(source, target, {})
    assert plain.conflicts == [MappingConflict("Drafts", "Entwürfe", "Entwürfe")]
    assert [row.source for row in plain.rows if row.conflict] == ["Drafts", "Entwürfe"]
    assert plain.conflict_text == "'Drafts' and 'Entwürfe' would both go to 'Entwürfe'"


def test_the_cli_error_is_one_line_with_the_hint(
    tmp_path: Path, isolated_mailmig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maildir(tmp_path / "s", "Drafts", "Entwürfe", "Archiv", "archiv").close()
    maildir(tmp_path / "t", "Entwürfe").close()
    urls = [f"maildir://{tmp_path / 's'}", f"maildir://{tmp_path / 't'}"]
    code = main(["copy", *urls, "--dry-run", "--target-preset", "exchange"])
    assert code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "would both go" in line]
    assert lines == [
        "mailmig: source folders 'Drafts' and 'Entwürfe' would both go to target folder "
        f"'Entwürfe' (and 1 more) ({MAP_HINT})"
    ]
