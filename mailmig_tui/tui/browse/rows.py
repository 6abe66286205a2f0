"""The rows of the folder list and the message list: dates, flags and columns that fit.

Rows are computed as strings (measured in terminal cells, so wide characters and umlauts
line up) and styled by the widgets. Dates are shown as the message's own Date header says
(its own offset, not converted to local time), so the same mailbox renders the same anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len

from mailmig_tui.model import FolderInfo, MessageSummary, SpecialUse
from mailmig_tui.tui.common.format import count, fit, short_size

TAGS = {
    SpecialUse.SENT: "[Sent]",
    SpecialUse.DRAFTS: "[Drafts]",
    SpecialUse.TRASH: "[Trash]",
    SpecialUse.JUNK: "[Junk]",
    SpecialUse.ARCHIVE: "[Archive]",
    SpecialUse.ALL: "[All]",
    SpecialUse.FLAGGED: "[Flagged]",
    SpecialUse.IMPORTANT: "[Important]",
}
SHORT_TAGS = {use: f"[{tag[1]}]" for use, tag in TAGS.items()}
"""[S], [D], [A], ...: when the full tag does not fit beside the name."""


def flag_letters(flags: tuple[str, ...]) -> str:
    """mutt-like: N unread, ! flagged, r answered, D draft, f forwarded."""
    lowered = {f.lower() for f in flags}
    letters = ""
    if "\\seen" not in lowered:
        letters += "N"
    if "\\flagged" in lowered:
        letters += "!"
    if "\\answered" in lowered:
        letters += "r"
    if "\\draft" in lowered:
        letters += "D"
    if "$forwarded" in lowered:
        letters += "f"
    return letters


def date_text(when: datetime | None, width: int) -> str:
    if when is None:
        return ""
    return when.strftime("%Y-%m-%d" if width >= 10 else "%y-%m-%d")


@dataclass(frozen=True)
class MessageColumns:
    """Cell widths of one message row: mark, date, from, subject, size, flags."""

    mark: int
    date: int
    sender: int
    subject: int
    size: int
    flags: int

    def header(self) -> str:
        return self.row("", "Date", "From", "Subject", "Size", "Fl")

    def row(self, mark: str, date: str, sender: str, subject: str, size: str, flags: str) -> str:
        cells = [fit(mark, self.mark), fit(date, self.date), fit(sender, self.sender)]
        cells += [fit(subject, self.subject), fit(size, self.size, right=True)]
        if self.flags:
            cells.append(fit(flags, self.flags))
        return cells[0] + " ".join(cells[1:])


def message_columns(width: int) -> MessageColumns:
    """Column widths for a list `width` cells wide (80: date 10, from 18, size 7)."""
    if width >= 70:
        date, sender, size, flags = 10, 18, 7, 3
    elif width >= 50:
        date, sender, size, flags = 8, 12, 5, 2
    else:
        date, sender, size, flags = 8, max(6, width // 4), 5, 1
    gaps = 3 + (1 if flags else 0)
    subject = max(1, width - 2 - date - sender - size - flags - gaps)
    return MessageColumns(2, date, sender, subject, size, flags)


def message_row(columns: MessageColumns, summary: MessageSummary, mark: str) -> str:
    """One row; `mark` is "*" (marked), "+" (its whole folder is marked) or ""."""
    sender = summary.sender
    # "Name <addr>" shows the name only: the column is too narrow for both.
    if "<" in sender and not sender.startswith("<"):
        sender = sender.split("<", 1)[0].strip().strip('"') or sender
    return columns.row(
        mark,
        date_text(summary.date or summary.internaldate, columns.date),
        sender,
        summary.subject or "(no subject)",
        short_size(summary.size),
        flag_letters(summary.flags),
    )


def placeholder_row(columns: MessageColumns, mark: str, text: str = "…") -> str:
    return columns.row(mark, text, "", "", "", "")


@dataclass(frozen=True)
class FolderColumns:
    name: int
    messages: int
    unseen: int
    size: int

    def header(self) -> str:
        return self.row("", "Folder", "Msgs", "New", "Size")

    def row(self, mark: str, name: str, messages: str, unseen: str, size: str) -> str:
        text = fit(mark, 2) + fit(name, self.name) + " " + fit(messages, self.messages, True)
        if self.unseen:
            text += " " + fit(unseen, self.unseen, True)
        return text + " " + fit(size, self.size, True)


def folder_columns(width: int) -> FolderColumns:
    if width >= 36:
        messages, unseen, size = 7, 5, 6
    else:
        messages, unseen, size = 6, 0, 5
    gaps = 2 + (1 if unseen else 0)
    return FolderColumns(
        max(4, width - 2 - messages - unseen - size - gaps), messages, unseen, size
    )


def folder_depth_and_label(folder: FolderInfo, prefix: str) -> tuple[int, str]:
    parts = folder.parts(prefix)
    return len(parts) - 1, parts[-1]


def folder_row(columns: FolderColumns, folder: FolderInfo, prefix: str, marked: bool) -> str:
    depth, label = folder_depth_and_label(folder, prefix)
    name = "  " * depth + label
    if folder.special_use in TAGS:
        # The name matters more than the tag: a short tag when the full one does not fit.
        for tag in (TAGS[folder.special_use], SHORT_TAGS[folder.special_use]):
            if cell_len(name) + 1 + len(tag) <= columns.name:
                name += f" {tag}"
                break
    if not folder.selectable:
        return columns.row("", name, "", "", "")
    return columns.row(
        "*" if marked else "",
        name,
        count(folder.messages),
        count(folder.unseen) if folder.unseen else "",
        short_size(folder.size),
    )


def folder_sort_key(folder: FolderInfo, prefix: str) -> tuple[bool, tuple[str, ...]]:
    """INBOX first, then the tree in path order (so children follow their parent)."""
    parts = folder.parts(prefix)
    return (parts != ["INBOX"], tuple(p.casefold() for p in parts))
