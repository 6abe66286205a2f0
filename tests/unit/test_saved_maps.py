"""The saved folder maps and the owner-only atomic writer under them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mailmig_tui import paths
from mailmig_tui.engine.saved_maps import load_overrides, map_path, pair_key, save_overrides
from mailmig_tui.errors import ConfigError
from mailmig_tui.model import AccountSpec

ONE = AccountSpec(kind="maildir", path="/srv/one")
TWO = AccountSpec(kind="imap", user="anna", host="mail.example.com", port=993)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_private_is_owner_only_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    paths.write_private(target, "first\n")
    assert target.read_text(encoding="utf-8") == "first\n"
    assert mode(target) == 0o600
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    target.chmod(0o644)
    paths.write_private(target, "zweite Fassung\n")
    assert target.read_text(encoding="utf-8") == "zweite Fassung\n"
    assert mode(target) == 0o600
    assert os.listdir(target.parent) == ["file.json"]


def test_write_private_raises_oserror_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "file.json"
    paths.write_private(target, "old\n")
    with pytest.raises(OSError):
        paths.write_private(target / "below-a-file", "x")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(OSError):
        paths.write_private(tmp_path / "dir.json", "x")  # cannot replace a directory
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["dir.json", "file.json"]


def test_saved_maps_are_per_pair_and_owner_only(isolated_mailmig: Path) -> None:
    assert pair_key(ONE, TWO) != pair_key(TWO, ONE)
    assert load_overrides(ONE, TWO) == {}
    path = save_overrides(ONE, TWO, {"Sent": "Gesendete Elemente"})
    assert path == map_path(ONE, TWO) and path.parent == isolated_mailmig / "state" / "maps"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert load_overrides(ONE, TWO) == {"Sent": "Gesendete Elemente"}
    assert load_overrides(TWO, ONE) == {}
    save_overrides(ONE, TWO, {})
    assert load_overrides(ONE, TWO) == {}


def test_a_broken_saved_map_says_which_file(isolated_mailmig: Path) -> None:
    path = map_path(ONE, TWO)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_overrides(ONE, TWO)
    assert str(path) in caught.value.message and "delete" in caught.value.hint
    path.write_text('{"overrides": {"A": "B", "C": "", "D": 3}}', encoding="utf-8")
    assert load_overrides(ONE, TWO) == {"A": "B"}
