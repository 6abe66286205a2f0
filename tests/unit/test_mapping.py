"""Folder mapping between a "/"-without-prefix server and a "."-under-"INBOX." server."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mailmig_tui.engine.mapping import (
    FolderMapping,
    Namespace,
    escape_component,
    join_name,
    map_folders,
    parse_map_option,
    select_folders,
    split_name,
    unescape_component,
)
from mailmig_tui.errors import FolderMissing, UsageError
from mailmig_tui.model import FolderInfo, SpecialUse
from mailmig_tui.special import is_inbox, role_from_attributes, role_from_name

SLASH = Namespace("/", "")
COURIER = Namespace(".", "INBOX.")
SHAPES = [SLASH, COURIER]


def slash(name: str, use: SpecialUse | None = None, selectable: bool = True) -> FolderInfo:
    return FolderInfo(name, "/", special_use=use, selectable=selectable)


def courier(name: str, use: SpecialUse | None = None) -> FolderInfo:
    return FolderInfo(name, ".", special_use=use)


def targets(mappings: list[FolderMapping]) -> dict[str, str]:
    return {m.source: m.target for m in mappings}


# --- names and escaping -------------------------------------------------------------------


def test_split_and_join_follow_the_namespace() -> None:
    assert split_name("INBOX.Sent", COURIER) == ("Sent",)
    assert split_name("INBOX", COURIER) == ("INBOX",)
    assert split_name("inbox", SLASH) == ("INBOX",)
    assert split_name("Archive/2023", SLASH) == ("Archive", "2023")
    assert split_name("a.b", Namespace(None, "")) == ("a.b",)
    assert join_name(("INBOX",), COURIER) == "INBOX"
    assert join_name(("Archive", "2023"), COURIER) == "INBOX.Archive.2023"
    assert join_name(("Archive", "2023"), SLASH) == "Archive/2023"
    with pytest.raises(ValueError):
        join_name(("a", "b"), Namespace(None, ""))


def test_escaping_only_touches_what_needs_it() -> None:
    assert escape_component("a.b", ".") == "a%2Eb"
    assert escape_component("a/b", "/") == "a%2Fb"
    assert escape_component("50% off.", ".") == "50%25 off%2E"
    assert escape_component("100%", ".") == "100%"
    assert escape_component("a.b", "/") == "a.b"
    # Looks escaped already, so it is escaped again: decoding must give it back unchanged.
    assert escape_component("a%2Eb", ".") == "a%252Eb"
    assert escape_component("a%2eb", "/") == "a%252eb"
    assert escape_component("x·y", "·") == "x%C2%B7y"
    assert unescape_component("a%252Eb", ".") == "a%2Eb"
    assert unescape_component("x%C2%B7y", "·") == "x·y"
    assert escape_component("a.b", None) == "a.b"
    for bad in ("2", "%", "::"):
        with pytest.raises(ValueError):
            escape_component("a", bad)


# --- special-use roles --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Sent", SpecialUse.SENT),
        ("sent items", SpecialUse.SENT),
        ("Gesendete Elemente", SpecialUse.SENT),
        ("Éléments envoyés", SpecialUse.SENT),
        ("Entwürfe", SpecialUse.DRAFTS),
        ("Entwu\u0308rfe", SpecialUse.DRAFTS),  # decomposed ü, as some clients create it
        ("Gelöschte Elemente", SpecialUse.TRASH),
        ("GELÖSCHTE OBJEKTE", SpecialUse.TRASH),
        ("Papierkorb", SpecialUse.TRASH),
        ("Junk-E-Mail", SpecialUse.JUNK),
        ("Spam-Verdacht", SpecialUse.JUNK),
        ("Archiv", SpecialUse.ARCHIVE),
        ("inbox", SpecialUse.INBOX),
        ("Projects", None),
        ("ınbox", None),  # dotless i: upper() would say INBOX
    ],
)
def test_role_from_name(name: str, role: SpecialUse | None) -> None:
    assert role_from_name([name]) == role


def test_role_from_name_only_at_top_or_below_inbox() -> None:
    assert role_from_name(["INBOX", "Sent"]) == SpecialUse.SENT
    assert role_from_name(["Inbox", "Papierkorb"]) == SpecialUse.TRASH
    assert role_from_name(["Projects", "Sent"]) is None
    assert role_from_name(["INBOX", "INBOX"]) is None
    assert role_from_name(["INBOX", "Sent", "2023"]) is None


def test_role_from_attributes() -> None:
    assert role_from_attributes(["\\HasNoChildren", "\\sent"]) == SpecialUse.SENT
    assert role_from_attributes(["\\Junk"]) == SpecialUse.JUNK
    assert role_from_attributes(["\\HasChildren", "\\Noselect"]) is None
    assert role_from_attributes([]) is None


# --- map_folders --------------------------------------------------------------------------


def test_slash_with_special_use_to_courier_by_name() -> None:
    source = [
        slash("INBOX"),
        slash("Archive", SpecialUse.ARCHIVE),
        slash("Archive/2023"),
        slash("Drafts", SpecialUse.DRAFTS),
        slash("Projects/a.b"),
        slash("Projects/Sent"),
        slash("Sent", SpecialUse.SENT),
        slash("Sent/2023"),
        slash("Sent/2023/Q1"),
        slash("Trash", SpecialUse.TRASH),
    ]
    target = [
        courier("INBOX"),
        courier("INBOX.Deleted Items"),
        courier("INBOX.Drafts"),
        courier("INBOX.Sent Items"),
    ]
    result = map_folders(source, SLASH, target, COURIER)
    assert [m.source for m in result] == [f.name for f in source]
    assert targets(result) == {
        "INBOX": "INBOX",
        "Archive": "INBOX.Archive",  # the target has no archive folder: path kept
        "Archive/2023": "INBOX.Archive.2023",
        "Drafts": "INBOX.Drafts",
        "Projects/a.b": "INBOX.Projects.a%2Eb",
        "Projects/Sent": "INBOX.Projects.Sent",  # not top level, so not special
        "Sent": "INBOX.Sent Items",
        "Sent/2023": "INBOX.Sent Items.2023",
        "Sent/2023/Q1": "INBOX.Sent Items.2023.Q1",
        "Trash": "INBOX.Deleted Items",
    }
    reasons = {m.source: (m.reason, m.renamed) for m in result}
    assert reasons["INBOX"] == ("inbox", False)
    assert reasons["Archive"] == ("path", False)
    assert reasons["Projects/a.b"] == ("path", True)
    assert reasons["Sent/2023/Q1"] == ("special", False)


def test_courier_by_name_to_slash_with_german_special_use() -> None:
    source = [
        courier("INBOX"),
        courier("INBOX.Archive"),
        courier("INBOX.Archive.2023"),
        courier("INBOX.Entwürfe"),
        courier("INBOX.Gelöschte Elemente"),
        courier("INBOX.Sent"),
        courier("INBOX.Sent.2023"),
        courier("INBOX.a/b"),
    ]
    target = [
        slash("INBOX"),
        slash("Entwürfe", SpecialUse.DRAFTS),
        slash("Gesendete Elemente", SpecialUse.SENT),
        slash("Papierkorb", SpecialUse.TRASH),
        slash("Trash"),  # a guess loses to the declared \Trash folder
    ]
    assert targets(map_folders(source, COURIER, target, SLASH)) == {
        "INBOX": "INBOX",
        "INBOX.Archive": "Archive",
        "INBOX.Archive.2023": "Archive/2023",
        "INBOX.Entwürfe": "Entwürfe",
        "INBOX.Gelöschte Elemente": "Papierkorb",
        "INBOX.Sent": "Gesendete Elemente",
        "INBOX.Sent.2023": "Gesendete Elemente/2023",
        "INBOX.a/b": "a%2Fb",
    }


def test_special_by_name_on_both_sides() -> None:
    source = [slash("Gesendet"), slash("Gesendet/Alt"), slash("Bin")]
    target = [courier("INBOX.Sent Messages"), courier("INBOX.Trash")]
    assert targets(map_folders(source, SLASH, target, COURIER)) == {
        "Gesendet": "INBOX.Sent Messages",
        "Gesendet/Alt": "INBOX.Sent Messages.Alt",
        "Bin": "INBOX.Trash",
    }


def test_courier_shape_without_prefix_still_finds_special_folders() -> None:
    source = [courier("INBOX"), courier("INBOX.Drafts"), courier("INBOX.Drafts.old")]
    target = [slash("Entwürfe", SpecialUse.DRAFTS)]
    assert targets(map_folders(source, Namespace(".", ""), target, SLASH)) == {
        "INBOX": "INBOX",
        "INBOX.Drafts": "Entwürfe",
        "INBOX.Drafts.old": "Entwürfe/old",
    }


def test_unselectable_folders_are_skipped() -> None:
    source = [slash("Archive", selectable=False), slash("Archive/2023")]
    assert targets(map_folders(source, SLASH, [], COURIER)) == {
        "Archive/2023": "INBOX.Archive.2023"
    }


def test_two_sources_for_one_target_are_refused() -> None:
    source = [slash("Sent", SpecialUse.SENT), slash("Sent Items")]
    target = [slash("Sent Items", SpecialUse.SENT)]
    with pytest.raises(UsageError) as caught:
        map_folders(source, SLASH, target, SLASH)
    text = str(caught.value)
    assert "'Sent'" in text and "'Sent Items'" in text and "--map" in text


def test_of_two_name_guesses_for_one_role_only_the_first_in_the_table_wins() -> None:
    # A mailbox used by Thunderbird ("Sent") and Outlook ("Gesendet"): never merged silently.
    result = map_folders(
        [slash("Gesendet"), slash("Sent")], SLASH, [slash("Gesendete Elemente")], SLASH
    )
    assert {(m.source, m.target, m.reason) for m in result} == {
        ("Sent", "Gesendete Elemente", "special"),
        ("Gesendet", "Gesendet", "path"),
    }


def test_inbox_collides_case_insensitively() -> None:
    source = [courier("INBOX"), courier("INBOX.inbox")]
    with pytest.raises(UsageError, match=r"INBOX\.inbox"):
        map_folders(source, COURIER, [], SLASH)


def test_overrides_win_and_may_merge() -> None:
    source = [slash("INBOX"), slash("Sent", SpecialUse.SENT), slash("Sent Items")]
    target = [slash("Sent Items", SpecialUse.SENT)]
    result = map_folders(source, SLASH, target, SLASH, {"Sent Items": "Sent Items"})
    assert targets(result) == {
        "INBOX": "INBOX",
        "Sent": "Sent Items",
        "Sent Items": "Sent Items",
    }
    assert [m.reason for m in result] == ["inbox", "special", "manual"]


def test_folders_below_an_override_follow_it() -> None:
    source = [slash("Archive"), slash("Archive/2023"), slash("Archive/2024")]
    overrides = {"Archive": "INBOX.Old", "Archive/2024": "INBOX.Current"}
    result = map_folders(source, SLASH, [], COURIER, overrides)
    assert targets(result) == {
        "Archive": "INBOX.Old",
        "Archive/2023": "INBOX.Old.2023",
        "Archive/2024": "INBOX.Current",
    }
    assert {m.reason for m in result} == {"manual"}


def test_override_of_inbox_in_any_case() -> None:
    result = map_folders([slash("INBOX")], SLASH, [], SLASH, {"inbox": "Old Inbox"})
    assert targets(result) == {"INBOX": "Old Inbox"}


def test_override_of_missing_folder() -> None:
    with pytest.raises(UsageError) as caught:
        map_folders([slash("INBOX")], SLASH, [], SLASH, {"Sent": "Gesendet"})
    assert caught.value.message == "--map names a source folder that does not exist: Sent"
    assert "mailmig folders" in caught.value.hint


def test_target_without_hierarchy() -> None:
    flat = Namespace(None, "")
    assert targets(map_folders([slash("a.b")], SLASH, [], flat)) == {"a.b": "a.b"}
    with pytest.raises(UsageError, match="no folder hierarchy"):
        map_folders([slash("a/b")], SLASH, [], flat)


# --- parse_map_option and select_folders ---------------------------------------------------


def test_parse_map_option() -> None:
    assert parse_map_option(["Sent=Gesendet", "a=b=c", "Sent=Gesendet"]) == {
        "Sent": "Gesendet",
        "a": "b=c",
    }
    for bad in ("Sent", "=Gesendet", "Sent="):
        with pytest.raises(UsageError, match="SOURCE=TARGET"):
            parse_map_option([bad])
    with pytest.raises(UsageError, match="two --map options give different targets for Sent"):
        parse_map_option(["Sent=A", "Sent=B"])


FOLDERS = [
    slash("INBOX"),
    slash("Archive", selectable=False),
    slash("Archive/2023"),
    slash("Archive/2023/Q1"),
    slash("[Gmail]/Sent Mail"),
    slash("Trash"),
]


def names(folders: list[FolderInfo]) -> list[str]:
    return [f.name for f in folders]


def test_select_folders() -> None:
    assert names(select_folders(FOLDERS, [], [])) == [
        "INBOX",
        "Archive/2023",
        "Archive/2023/Q1",
        "[Gmail]/Sent Mail",
        "Trash",
    ]
    assert names(select_folders(FOLDERS, ["Arch*"], [])) == ["Archive/2023", "Archive/2023/Q1"]
    assert names(select_folders(FOLDERS, ["[Gmail]/Sent Mail", "inbox"], [])) == [
        "INBOX",
        "[Gmail]/Sent Mail",
    ]
    assert names(select_folders(FOLDERS, [], ["*/Q1", "Trash"])) == [
        "INBOX",
        "Archive/2023",
        "[Gmail]/Sent Mail",
    ]


def test_select_folders_errors() -> None:
    with pytest.raises(FolderMissing) as caught:
        select_folders(FOLDERS, ["archive*"], [])
    assert caught.value.message == "no folder matches 'archive*'"
    with pytest.raises(FolderMissing, match="Archive/"):
        select_folders(FOLDERS, ["Archive"], [])


# --- properties ---------------------------------------------------------------------------

DELIMITERS = st.sampled_from([".", "/", "\\", "·", "\u2044", "\U0001f4c1"])
TRICKY = st.sampled_from([".", "/", "%", "2", "5", "E", "F", "e", "f", "C", "B", "·", " ", "ü"])
COMPONENTS = st.text(alphabet=st.one_of(TRICKY, st.characters(codec="utf-8")), max_size=10)
PERCENT_HEX = re.compile("%[0-9A-Fa-f]{2}")


@given(COMPONENTS, DELIMITERS)
def test_escape_round_trip(text: str, delimiter: str) -> None:
    escaped = escape_component(text, delimiter)
    assert delimiter not in escaped
    assert unescape_component(escaped, delimiter) == text
    untouched = delimiter not in text and not PERCENT_HEX.search(text)
    assert (escaped == text) == untouched


@given(st.lists(COMPONENTS, min_size=1, max_size=4), st.sampled_from(SHAPES))
def test_split_join_round_trip(raw: list[str], ns: Namespace) -> None:
    parts = tuple(escape_component(part, ns.delimiter) for part in raw)
    assume(not (len(parts) == 1 and is_inbox(parts[0])))
    assert split_name(join_name(parts, ns), ns) == parts


# Letters that can spell no special folder name and no INBOX, so every folder maps by path.
PLAIN = st.text(alphabet=st.sampled_from(["a", "b", ".", "/", "%", "2", "E", "ü", " "]))


@given(
    st.lists(st.lists(PLAIN, min_size=1, max_size=3), min_size=1, max_size=8),
    st.sampled_from([(SLASH, COURIER), (COURIER, SLASH), (SLASH, SLASH), (COURIER, COURIER)]),
)
def test_path_mapping_is_injective_and_reversible(
    paths: list[list[str]], shapes: tuple[Namespace, Namespace]
) -> None:
    source_ns, target_ns = shapes
    source_parts = {tuple(escape_component(p, source_ns.delimiter) for p in path) for path in paths}
    source = [
        FolderInfo(join_name(parts, source_ns), source_ns.delimiter) for parts in source_parts
    ]
    result = map_folders(source, source_ns, [], target_ns)
    assert len({m.target for m in result}) == len(result) == len(source)
    for mapping in result:
        back = tuple(
            unescape_component(part, target_ns.delimiter)
            for part in split_name(mapping.target, target_ns)
        )
        assert back == split_name(mapping.source, source_ns)


NAMES = st.sampled_from(
    ["INBOX", "inbox", "Sent", "Sent Items", "Gesendet", "Trash", "Papierkorb", "Archive", "a"]
)
ROLES = st.sampled_from([None, SpecialUse.SENT, SpecialUse.TRASH, SpecialUse.ARCHIVE])


@st.composite
def folder_lists(draw: st.DrawFn, delimiter: str) -> list[FolderInfo]:
    paths = draw(st.lists(st.lists(NAMES, min_size=1, max_size=3), max_size=8))
    seen = dict.fromkeys(delimiter.join(path) for path in paths)
    return [FolderInfo(name, delimiter, special_use=draw(ROLES)) for name in seen]


@given(folder_lists("/"), folder_lists("/"), st.data())
def test_no_silent_merges(
    source: list[FolderInfo], target: list[FolderInfo], data: st.DataObject
) -> None:
    overridden = data.draw(st.sets(st.sampled_from([f.name for f in source]))) if source else set()
    overrides = {name: "Merged" for name in overridden}
    try:
        result = map_folders(source, SLASH, target, COURIER, overrides)
    except UsageError as error:
        assert "--map" in error.hint
        return
    automatic = [m.target.upper() if is_inbox(m.target) else m.target for m in result]
    automatic = [t for m, t in zip(result, automatic, strict=True) if m.source not in overrides]
    assert len(set(automatic)) == len(automatic)
