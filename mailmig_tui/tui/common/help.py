"""`?` / F1: every key of every screen, as bound now (the [keymap] config included)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

from mailmig_tui.tui.browse.rows import FLAG_LEGEND, RECEIVED_MEANING

KeyRow = tuple[str, str, str]
"""(keys as the footer shows them, what they do, the binding id to remap them with)."""


def key_rows(
    bindings: Iterable[BindingType],
    keymap: Mapping[str, str],
    display: Callable[[Binding], str],
) -> list[KeyRow]:
    """One row per binding, with the remaps of the [keymap] config applied."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        if binding.system:
            continue
        keys = keymap.get(binding.id or "", binding.key)
        what = binding.tooltip or binding.description or binding.action
        names = rows.setdefault((binding.action, what, binding.id or ""), [])
        for key in keys.split(","):
            shown = display(binding.with_key(key.strip()))
            if shown not in names:
                names.append(shown)
    return [(", ".join(names), what, ident) for (_a, what, ident), names in rows.items()]


def sections() -> list[tuple[str, list[type[DOMNode]]]]:
    """Where each group of keys applies, in the order the operator meets them."""
    from mailmig_tui.tui.accounts.chooser import AccountsScreen
    from mailmig_tui.tui.app import MailmigApp
    from mailmig_tui.tui.browse.account_pane import AccountPane
    from mailmig_tui.tui.browse.folder_list import FolderList
    from mailmig_tui.tui.browse.message_list import MessageList
    from mailmig_tui.tui.browse.preview import BodyScroll, PreviewScreen
    from mailmig_tui.tui.common.line_list import LineList
    from mailmig_tui.tui.copy.folder_map_screen import FolderMapScreen
    from mailmig_tui.tui.copy.plan_screen import PlanScreen
    from mailmig_tui.tui.copy.progress_screen import CopyProgressScreen
    from mailmig_tui.tui.copy.report_screen import ReportScreen
    from mailmig_tui.tui.main_screen import MainScreen

    return [
        ("Everywhere", [MailmigApp]),
        ("Main screen", [MainScreen, AccountPane]),
        ("In every list", [LineList]),
        ("Folder list", [FolderList]),
        ("Message list", [MessageList]),
        ("Reading a message", [PreviewScreen, BodyScroll]),
        ("Folder map", [FolderMapScreen]),
        ("Copying", [PlanScreen, CopyProgressScreen, ReportScreen]),
        ("Choosing accounts", [AccountsScreen]),
    ]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="close-help"),
    ]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__(classes="dialog-screen")
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        groups = [
            (title, [row for cls in classes for row in self._rows(cls)])
            for title, classes in sections()
        ]
        # The ids are what the [keymap] section needs, so they are never cut: their column
        # is as wide as the longest, and the descriptions wrap in what is left (80x24 too).
        widest = max((len(row[2]) for _title, rows in groups for row in rows), default=2)
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column("keys", style="bold", no_wrap=True, min_width=15, max_width=17)
        table.add_column("does", ratio=1)
        table.add_column("id", style="dim", no_wrap=True, min_width=widest)
        for title, rows in groups:
            table.add_row(Text(title, style="underline"), "", "")
            for row in rows:
                table.add_row(*row)
            if title == "Message list":  # what its columns mean, beside its keys
                table.add_row("Fl column", FLAG_LEGEND, "")
                table.add_row("Received", RECEIVED_MEANING, "")
            table.add_row("", "", "")
        table.add_row("ctrl+p", "Command palette: every action by name", "")
        title = 'Keys (remap in config.toml, [keymap] section: id = "keys")'
        with Vertical(classes="dialog help-dialog"):
            yield Static(Text(title), classes="dialog-title")
            with VerticalScroll():
                yield Static(table)

    def _rows(self, cls: type[DOMNode]) -> list[KeyRow]:
        bindings = cls.__dict__.get("BINDINGS", [])
        return key_rows(bindings, self.keymap, self.app.get_key_display)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss()
