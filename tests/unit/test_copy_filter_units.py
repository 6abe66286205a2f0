"""The copy filter's pure parts: sizes as typed, the plan screen's fields, the accounting."""

from __future__ import annotations

from datetime import date

import pytest

from mailmig_tui.engine.events import FolderReport
from mailmig_tui.engine.plan import CopyFilter, parse_size
from mailmig_tui.tui.copy.plan_screen import read_filter


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("500", 500),
        ("500K", 500 * 1024),
        ("25M", 25 * 1024**2),
        ("25mb", 25 * 1024**2),
        ("1.5G", 3 * 1024**3 // 2),
        (" 2k ", 2048),
    ],
)
def test_sizes_as_typed(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "0", "-1", "abc", "25X", "nan", "inf", "1e999"])
def test_sizes_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_fields_make_a_filter_or_say_what_is_wrong() -> None:
    assert read_filter("", "", "") == CopyFilter()
    assert not CopyFilter().active
    made = read_filter("2024-01-01", " 2024-07-01", "25M")
    assert made == CopyFilter(date(2024, 1, 1), date(2024, 7, 1), 25 * 1024**2)
    assert isinstance(made, CopyFilter) and made.active
    assert made.describe() == "received since 2024-01-01, before 2024-07-01, at most 25.0 MB"
    assert str(read_filter("2024-02-30", "", "")).startswith("Since: a day as YYYY-MM-DD")
    assert str(read_filter("", "soon", "")).startswith("Before: a day as YYYY-MM-DD")
    assert str(read_filter("", "", "big")).startswith("Skip over:")
    assert "Since must be before Before" in str(read_filter("2024-05-01", "2024-05-01", ""))


def test_filtered_out_is_part_of_the_accounting() -> None:
    folder = FolderReport("INBOX", "INBOX", source_messages=10, copied=3, filtered_out=5)
    folder.settle()
    assert folder.not_copied == 2
    data = folder.as_json()
    keys = ("copied", "already_present", "too_large", "failed", "not_copied", "filtered_out")
    assert data["source_messages"] == sum(data[k] for k in keys)  # type: ignore[misc]
