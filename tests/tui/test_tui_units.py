"""The TUI's non-UI helpers: search syntax, marks, row formats, MIME preview, paging, demo data."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.color import Color, ColorSystem
from textual.theme import Theme

from mailmig_tui.errors import AuthError, ConnectError, FolderMissing, UsageError
from mailmig_tui.model import FolderInfo, MessageSummary, SpecialUse
from mailmig_tui.stores.base import SearchQuery
from mailmig_tui.tui.browse.html_text import html_to_text
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.browse.mime_text import MAX_BODY_CHARS, render_message
from mailmig_tui.tui.browse.paging import PageQueue
from mailmig_tui.tui.browse.query import parse_query
from mailmig_tui.tui.browse.rows import folder_columns, folder_row, message_columns, message_row
from mailmig_tui.tui.browse.sorting import sort_uids
from mailmig_tui.tui.common.failures import describe_failure
from mailmig_tui.tui.common.format import fit, short_size
from mailmig_tui.tui.common.themes import THEMES
from mailmig_tui.tui.demo_data import FOLDERS, demo_messages

HEADLESS = [
    "mailmig_tui.tui.accounts.session",
    "mailmig_tui.tui.browse.query",
    "mailmig_tui.tui.browse.marks",
    "mailmig_tui.tui.browse.rows",
    "mailmig_tui.tui.browse.paging",
    "mailmig_tui.tui.browse.sorting",
    "mailmig_tui.tui.browse.mime_text",
    "mailmig_tui.tui.common.format",
    "mailmig_tui.tui.common.failures",
    "mailmig_tui.tui.demo_data",
    "mailmig_tui.tui.copy.selection",
    "mailmig_tui.tui.copy.job",
    "mailmig_tui.tui.copy.text",
    "mailmig_tui.engine.copy_service",
    "mailmig_tui.engine.folder_map",
    "mailmig_tui.engine.saved_maps",
    "mailmig_tui.engine.progress",
    "mailmig_tui.engine.folder_copier",
    "mailmig_tui.engine.plan",
]


def test_headless_modules_never_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- search syntax ------------------------------------------------------------------------------


def test_search_syntax() -> None:
    query = parse_query('from:alice subject:"Grüße aus Köln" since:2023-01-01 larger:100k offer x')
    assert query == SearchQuery(
        sender="alice",
        subject="Grüße aus Köln",
        text="offer x",
        since=datetime(2023, 1, 1, tzinfo=UTC),
        larger=100 * 1024,
    )
    assert parse_query("before:31.12.2023").before == datetime(2023, 12, 31, tzinfo=UTC)
    assert parse_query("larger:2M").larger == 2 * 1024 * 1024
    assert parse_query("re: http://x").text == "re: http://x"  # unknown keys are words


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('subject:"open', "unbalanced quotes"),
        ("since:yesterday", "wants a date"),
        ("larger:big", "wants a size"),
        ("from:", "needs a value"),
        ("   ", "empty"),
    ],
)
def test_search_syntax_errors_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_query(text)


# -- marks ----------------------------------------------------------------------------------------


def test_marks_count_folders_once_and_learn_sizes() -> None:
    marks = MarkSet()
    inbox = FolderInfo("INBOX", "/", messages=10, size=1000)
    assert marks.toggle_folder(inbox)
    marks.toggle_message("INBOX", 1, 50)  # inside a marked folder: not counted twice
    marks.toggle_message("Sent", 7, 300)
    marks.invert_messages("Sent", [7, 8, 9], {8: 20})
    totals = marks.totals()
    assert (totals.folders, totals.messages, totals.bytes, totals.unknown_sizes) == (1, 12, 1020, 1)
    marks.learn_sizes("Sent", {9: 5, 8: 999})
    assert marks.totals().bytes == 1025 and marks.totals().unknown_sizes == 0
    assert not marks.toggle_folder(inbox)
    marks.invert_folders([inbox, FolderInfo("Parent", "/", selectable=False)])
    assert list(marks.folders) == ["INBOX"]


# -- row formats ----------------------------------------------------------------------------------


def test_rows_fit_their_width_with_wide_characters() -> None:
    assert fit("Grüße aus Köln", 8) == "Grüße a…"
    assert fit("日本語のメール", 7) == "日本語…"
    assert fit("a\x1b[2Jb", 6) == "a [2Jb"  # no escape sequences reach the terminal
    assert [short_size(n) for n in (0, 999, 1000, 4300, 18_000, 1_300_000, 5 * 2**30)] == [
        "0B", "999B", "1.0K", "4.2K", "18K", "1.2M", "5.0G",
    ]  # fmt: skip
    columns = message_columns(79)
    assert (columns.date, columns.sender, columns.size, columns.flags) == (10, 19, 4, 3)
    summary = MessageSummary(
        uid=1, internaldate=None, flags=("\\Flagged",), size=2048,
        date=datetime(2024, 3, 1, 9, tzinfo=UTC), sender='"Müller, Jürgen" <j@example.de>',
        subject="Angebot",
    )  # fmt: skip
    for width in (30, 40, 52, 79, 120):
        row = message_row(message_columns(width), summary, "*")
        assert len(row) == width, (width, row)
        assert row.startswith("* ")
    assert "Müller, Jürgen" in message_row(message_columns(79), summary, "")
    assert "N!" in message_row(message_columns(79), summary, "")


def test_folder_rows_indent_and_tag() -> None:
    folder = FolderInfo("INBOX.Archive.2023", ".", messages=1234, unseen=5, size=10**6)
    row = folder_row(folder_columns(40), folder, "INBOX.", marked=False)
    assert row.startswith("    2023") and "1,234" in row and len(row) == 40
    sent = FolderInfo("Gesendete Elemente", "/", special_use=SpecialUse.SENT)
    assert "[Sent]" in folder_row(folder_columns(60), sent, "", marked=True)
    # One form of the role everywhere: the whole word, or no tag where it does not fit.
    assert "Gesendete Elemente [Sent]" in folder_row(folder_columns(50), sent, "", marked=True)
    assert "[" not in folder_row(folder_columns(46), sent, "", marked=True)


def test_sort_orders_keep_arrival_for_ties_and_unknowns_last() -> None:
    def summary(uid: int, size: int, sender: str, subject: str) -> MessageSummary:
        return MessageSummary(uid, None, (), size, sender=sender, subject=subject)

    cache = {
        4: summary(4, 10, "zoe <z@x>", "Re: AW: beta"),
        3: summary(3, 30, '"Anna" <a@x>', "alpha"),
        2: summary(2, 10, "b@x", "Gamma"),
    }
    arrival = [4, 3, 2, 1]  # 1 has no summary yet
    assert sort_uids(arrival, cache, "date") == arrival
    assert sort_uids(arrival, cache, "size") == [3, 4, 2, 1]
    assert sort_uids(arrival, cache, "from") == [3, 2, 4, 1]
    assert sort_uids(arrival, cache, "subject") == [3, 4, 2, 1]


# -- MIME preview ---------------------------------------------------------------------------------


def test_preview_of_a_normal_multipart_message() -> None:
    data = (
        b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\r\nTo: a@example.com\r\n"
        b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\nDate: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Hallo \xc3\xa4\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''%C3%9Cbersicht.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
    )
    content = render_message(data)
    assert dict(content.headers)["From"] == "Jürgen <j@example.de>"
    assert dict(content.headers)["Subject"] == "Grüße"
    assert content.body.strip() == "Hallo ä"
    assert [(a.name, a.content_type, a.size) for a in content.attachments] == [
        ("Übersicht.pdf", "application/pdf", 9)
    ]
    assert not content.notes


def test_preview_prefers_plain_and_converts_html_only_mail() -> None:
    html = (
        b"Subject: x\r\nContent-Type: text/html; charset=x-unknown-charset\r\n\r\n"
        b"<p>Hallo <b>Welt</b></p><script>fetch('http://evil')</script>"
        b'<img src="http://tracker/x.png" alt="Logo"><ul><li>eins</li></ul>'
    )
    content = render_message(html)
    assert content.body_type == "text/html"
    assert "Hallo Welt" in content.body and "[image: Logo]" in content.body
    assert "• eins" in content.body and "evil" not in content.body


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\njust a body without headers\r\n",
        b"Subject: \xe4\xf6\xfc raw latin-1\r\nFrom: \xc3\xa9mile <e@x>\r\n\r\nbody\r\n",
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\nno parts at all\r\n',
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
        b"quoted-printable\r\n\r\n=XX=C3=\r\n",
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n",
    ],
    ids=["empty", "no-headers", "8bit", "no-boundary", "bad-base64", "bad-qp", "rfc822"],
)
def test_broken_mail_never_fails_the_preview(data: bytes) -> None:
    content = render_message(data)
    assert isinstance(content.body, str)


def test_deep_nesting_and_huge_messages_are_cut_not_fatal() -> None:
    deep = b""
    for level in range(3000):
        deep += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    deep += b"Content-Type: text/plain\r\n\r\ndeep inside\r\n"
    started = time.monotonic()
    content = render_message(b"Subject: deep\r\n" + deep)
    assert content.notes  # what was not shown is said
    huge_text = b"Subject: big\r\n\r\n" + b"x" * 79 + b"\r\n" + b"line of text\r\n" * 100_000
    content = render_message(huge_text)
    assert len(content.body) == MAX_BODY_CHARS and "cut" in content.notes[-1]
    attachment = (
        (
            b'Subject: att\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
            b"Content-Type: application/zip; name=big.zip\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUFB" * 19 + b"\r\n"
        )
        * 1
        + (b"QUFBQUFB" * 9 + b"\r\n") * 150_000
        + b"--b--\r\n"
    )
    content = render_message(attachment)
    assert content.body.strip() == "see attached"
    assert content.attachments[0].name == "big.zip"
    assert content.attachments[0].size > 7_000_000
    assert time.monotonic() - started < 20


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_preview(data: bytes) -> None:
    render_message(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" + data)
    render_message(data)


def test_html_to_text_keeps_link_targets_and_drops_scripts() -> None:
    text = html_to_text('<a href="https://example.com/a">Link</a><style>p{}</style><br>x')
    assert text == "Link <https://example.com/a>\nx\n"


# -- paging ---------------------------------------------------------------------------------------


def test_page_queue_serves_the_newest_request_and_drops_pages_scrolled_away() -> None:
    queue = PageQueue(page_size=10)
    rows = list(range(1000, 0, -1))
    everything = lambda uid: True  # noqa: E731
    epoch = queue.want(0, 5, rows, everything, ahead=0)
    assert epoch is not None
    assert queue.want(0, 5, rows, everything, ahead=0) is None  # queued, loader running
    assert queue.want(500, 505, rows, everything, ahead=0) is None  # queued behind
    assert queue.take(epoch) == rows[500:510]  # the newest request first
    assert queue.take(epoch) is None  # page 0 is out of sight now: dropped
    assert queue.want(0, 5, rows, everything, ahead=0) == epoch  # seen again: asked again
    new = queue.reset()
    assert queue.take(epoch) is None and new != epoch  # an old loader stops
    assert queue.want(0, 5, rows, lambda uid: uid % 2 == 0, ahead=0) == new
    assert queue.take(new) == [1000, 998, 996, 994, 992]
    queue.failed(new)
    assert queue.paused and queue.want(0, 5, rows, everything, ahead=0) is None


def test_page_queue_fetches_the_page_ahead_after_the_pages_on_screen() -> None:
    queue = PageQueue(page_size=10)
    rows = list(range(25, 0, -1))
    epoch = queue.want(0, 5, rows, lambda uid: True)  # one page ahead by default
    assert epoch is not None
    assert queue.take(epoch) == rows[0:10]  # what is on screen first
    assert queue.take(epoch) == rows[10:20]  # then the page PgDn shows next
    assert queue.take(epoch) is None
    assert queue.want(15, 24, rows, lambda uid: True) == epoch
    assert queue.take(epoch) == rows[20:25]  # the last page: nothing lies beyond it
    assert queue.take(epoch) is None


# -- colours -------------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_themes_keep_rows_apart_in_16_and_256_colours(theme: Theme) -> None:
    """Cursor, marked rows, panel bars and the list stay distinct after Rich maps colours
    down to what the terminal has (an SSH session often reports 16 or 256)."""
    colours = theme.to_color_system().generate()
    for system in (ColorSystem.STANDARD, ColorSystem.EIGHT_BIT):

        def number(name: str, system: ColorSystem = system) -> int | None:
            return Color.parse(colours[name]).downgrade(system).number

        assert number("primary") != number("surface"), "cursor row"
        assert number("panel") != number("surface"), "title and info bars, blurred cursor"
        assert number("warning") not in (number("surface"), number("panel")), "marked rows"


# -- errors and demo data -------------------------------------------------------------------------


def test_failures_say_what_to_do_in_tui_words() -> None:
    lost = describe_failure(ConnectError("lost the connection to h", "run the command again"))
    assert not lost.dialog and "press r to reconnect" in lost.text
    gone = describe_failure(FolderMissing("no folder 'X' on a@h"), "source")
    assert gone.text.startswith("source: no folder 'X'") and "press r" in gone.text
    login = describe_failure(AuthError("h refused the login for a"))
    assert login.dialog and "check the user name and password" in login.text
    bug = describe_failure(KeyError("x"))
    assert bug.dialog and "internal error: KeyError" in bug.text


def test_demo_data_is_deterministic_and_realistic() -> None:
    first = list(demo_messages(seed=7, scale=0.05))
    again = list(demo_messages(seed=7, scale=0.05))
    assert [m.data for m in first] == [m.data for m in again]
    assert {m.folder for m in first} == {name for name, count in FOLDERS.items() if count}
    assert any(b"=?utf-8?" in m.data for m in first)
    assert any(b"multipart/mixed" in m.data for m in first)
    assert any("\\Flagged" in m.flags for m in first)


def test_every_binding_has_an_id_a_description_and_a_letter_besides_f_keys() -> None:
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import mailmig_tui.tui as tui

    classes: set[type[DOMNode]] = set()
    for info in pkgutil.walk_packages(tui.__path__, "mailmig_tui.tui."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DOMNode)
                and value.__module__ == module.__name__
            ):
                classes.add(value)
    assert len(classes) > 10
    ids: dict[str, str] = {}
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), cls
            assert binding.id and binding.description, (cls, binding)
            # One id means one meaning wherever it is bound, so a remap moves all of them.
            assert ids.setdefault(binding.id, binding.action) == binding.action, binding.id
            keys = [k.strip() for k in binding.key.split(",")]
            if any(k.startswith("f") and k[1:].isdigit() for k in keys):
                assert any(len(k) == 1 or "_" in k for k in keys), (cls, binding.key)
