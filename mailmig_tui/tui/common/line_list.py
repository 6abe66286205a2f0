"""A keyboard-driven list drawn with the Line API: only the visible rows are ever rendered.

The base of the folder list and the message list. Subclasses say how many rows there are
and what one row says; this class owns the cursor, scrolling, the j/k/g/G/page keys and the
row styles (cursor, marked, placeholder) as component classes the theme can colour.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineList(ScrollView, can_focus=True):
    """A cursor over `row_count()` rows, each drawn from `row_text()`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-list--cursor",
        "line-list--cursor-blurred",
        "line-list--marked",
        "line-list--dim",
        "line-list--unread",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, id="cursor-down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="cursor-up"),
        Binding("g,home", "cursor_first", "First", show=False, id="cursor-first"),
        Binding("G,end", "cursor_last", "Last", show=False, id="cursor-last"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page-up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page-down"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted row."""

    def row_count(self) -> int:
        raise NotImplementedError  # abstract: the folder and message lists each say

    def row_text(self, row: int, width: int) -> tuple[str, str]:
        """The row as exactly `width` cells of text, and its kind: "", marked, dim, unread."""
        raise NotImplementedError

    @property
    def list_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    @property
    def list_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def rows_changed(self) -> None:
        """Call after the rows changed: resizes the virtual area and repaints."""
        self.virtual_size = Size(0, self.row_count())
        self.cursor = min(self.cursor, max(0, self.row_count() - 1))
        self.refresh()

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.row_count() - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_cursor()

    def scroll_to_cursor(self) -> None:
        top, height = round(self.scroll_y), self.list_height
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.scroll_to_cursor()

    def render_line(self, y: int) -> Strip:
        width = self.list_width
        row = round(self.scroll_y) + y
        base = self.rich_style
        if row >= self.row_count():
            return Strip.blank(width, base)
        text, kind = self.row_text(row, width)
        style = base
        if kind:
            style += self.get_component_rich_style(f"line-list--{kind}")
        if row == self.cursor:
            name = "line-list--cursor" if self.has_focus else "line-list--cursor-blurred"
            style += self.get_component_rich_style(name)
        return Strip([Segment(text, style)], width).crop_extend(0, width, base)

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y
        if 0 <= row < self.row_count():
            self.cursor = row

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_cursor_first(self) -> None:
        self.cursor = 0

    def action_cursor_last(self) -> None:
        self.cursor = self.row_count() - 1

    def action_page_down(self) -> None:
        self.cursor += self.list_height

    def action_page_up(self) -> None:
        self.cursor -= self.list_height
