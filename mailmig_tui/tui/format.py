"""Plain-text formatting of list rows: sizes, dates, flags and column widths that fit.

Rows are computed as strings (measured in terminal cells, so wide characters and umlauts
line up) and styled by the widgets. Dates are shown as the message's own Date header says
(its own offset, not converted to local time), so the same mailbox renders the same anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, set_cell_size

from mailmig_tui.model import FolderInfo, MessageSummary, SpecialUse

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
_CONTROL = {i: " " for i in (*range(32), 127)}


def clean(text: str) -> str:
    """Control characters (an escape sequence in a subject) become spaces."""
    return text.translate(_CONTROL)


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` in exactly `width` cells: cut with an ellipsis, padded on the right or left."""
    if width <= 0:
        return ""
    text = clean(text)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def short_size(size: int) -> str:
    """At most 5 characters: 812B, 4.2K, 18K, 1.2M, 3.4G."""
    value = float(size)
    for unit in ("B", "K", "M", "G"):
        if unit == "B" and value < 1000:
            return f"{int(value)}B"
        if unit != "B":
            if value < 9.95:
                return f"{value:.1f}{unit}"
            if value < 999.5:
                return f"{value:.0f}{unit}"
        value /= 1024
    return f"{value:.0f}T"


def human_size(size: int) -> str:
    """For the status line: 812 B, 4.2 KB, 12.4 MB."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def count(number: int) -> str:
    return f"{number:,}"


def plural(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


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
