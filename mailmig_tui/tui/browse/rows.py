"""The rows of the folder list and the message list: dates, flags and columns that fit.

Rows are computed as strings (measured in terminal cells, so wide characters and umlauts
line up) and styled by the widgets. The date shown is the one the list is ordered by: when
the message was received (its INTERNALDATE, or the Date header when a store has none), in
ISO form (2024-06-28) and in its own offset, so the same mailbox renders the same anywhere.
A count (`100,000`) always has the room it needs; the subject gets at least
`SUBJECT_MIN` cells where the list is wide enough, and the sender gives way first.
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
"""A folder's role, always as the whole word: where it does not fit, no tag at all (a
one-letter `[A]` beside `[Archive]` elsewhere read as two different things)."""
SHORT_TAGS = TAGS
"""Kept for callers that try a short tag after the full one: the same single form."""

FLAG_LEGEND = "N unread  ! flagged  r replied  f forwarded  D draft  + keywords"
"""What the letters of the message list's flags column mean (help, README, info line)."""
DATE_HEADER = "Received"
"""The date column: when the server received the message, which is also the list's order."""
RECEIVED_MEANING = (
    "The date column: when the server received the message (its INTERNALDATE), which is "
    "also the order of the list; the Date header the sender wrote is in the message itself"
)
SUBJECT_MIN = 30


def role_tag(folder: FolderInfo) -> str:
    """`[Sent]`, `[Archive]`, ...; "" for a folder without a known role."""
    return TAGS.get(folder.special_use, "") if folder.special_use else ""


def with_role_tag(name: str, tag: str, width: int) -> str:
    """`name` with its role tag when both fit in `width` cells; the name alone otherwise."""
    if tag and cell_len(name) + 1 + cell_len(tag) <= width:
        return f"{name} {tag}"
    return name


def flag_letters(flags: tuple[str, ...]) -> str:
    """mutt-like (see `FLAG_LEGEND`): N unread, ! flagged, r replied, D draft, f forwarded,
    + any other keyword."""
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
    if any(not f.startswith("\\") and f != "$forwarded" for f in lowered):
        letters += "+"
    return letters


def date_text(when: datetime | None, width: int = 10) -> str:
    """ISO `2024-06-28`; a column narrower than that gets the year and month (`2024-06`,
    still ISO and never ambiguous, as `24-06-28` was)."""
    if when is None:
        return ""
    return when.strftime("%Y-%m-%d" if width >= 10 else "%Y-%m")


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
        date = DATE_HEADER if self.date >= len(DATE_HEADER) else "Recvd"
        return self.row("", date, "From", "Subject", "Size", "Fl")

    def row(self, mark: str, date: str, sender: str, subject: str, size: str, flags: str) -> str:
        cells = [fit(mark, self.mark), fit(date, self.date), fit(sender, self.sender)]
        cells += [fit(subject, self.subject), fit(size, self.size, right=True)]
        cells.append(fit(flags, self.flags))
        return cells[0] + " ".join(cells[1:])


def message_columns(width: int) -> MessageColumns:
    """Column widths for a list `width` cells wide. Every column is always there (zooming
    only adds room): date 10 (7 below 44 cells) and size 4; the subject gets `SUBJECT_MIN`
    before the sender gets more than its minimum, and past that the sender grows to a
    quarter of the row."""
    mark, size = 2, 4
    date = 10 if width >= 44 else 7
    flags = 3 if width >= 70 else 2
    fixed = mark + date + size + flags + 4  # 4 single-space gaps between the five columns
    room = max(2, width - fixed)
    widest, narrowest = max(12, width // 4), min(8, room // 3)
    sender = max(narrowest, min(widest, room - SUBJECT_MIN))
    return MessageColumns(mark, date, sender, max(1, room - sender), size, flags)


def message_row(columns: MessageColumns, summary: MessageSummary, mark: str) -> str:
    """One row; `mark` is "*" (marked), "+" (its whole folder is marked) or ""."""
    sender = summary.sender
    # "Name <addr>" shows the name only: the column is too narrow for both.
    if "<" in sender and not sender.startswith("<"):
        sender = sender.split("<", 1)[0].strip().strip('"') or sender
    return columns.row(
        mark,
        date_text(summary.internaldate or summary.date, columns.date),
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
        return self.row("", "Folder", "Msgs", "Unseen", "Size")

    def row(self, mark: str, name: str, messages: str, unseen: str, size: str) -> str:
        text = fit(mark, 2) + fit(name, self.name) + " " + fit(messages, self.messages, True)
        if self.unseen:
            text += " " + fit(unseen, self.unseen, True)
        if self.size:
            text += " " + fit(size, self.size, True)
        return text


def folder_columns(width: int) -> FolderColumns:
    """Counts are 7 wide whatever the width (`100,000` is never cut); the unseen and size
    columns go when the list is too narrow for them and a readable name."""
    messages = 7
    unseen = 7 if width >= 38 else 0
    size = 4 if width >= 24 else 0
    gaps = 1 + (1 if unseen else 0) + (1 if size else 0)
    return FolderColumns(
        max(4, width - 2 - messages - unseen - size - gaps), messages, unseen, size
    )


def folder_depth_and_label(folder: FolderInfo, prefix: str) -> tuple[int, str]:
    parts = folder.parts(prefix)
    return len(parts) - 1, parts[-1]


def folder_row(columns: FolderColumns, folder: FolderInfo, prefix: str, marked: bool) -> str:
    depth, label = folder_depth_and_label(folder, prefix)
    name = "  " * depth + label
    name = with_role_tag(name, role_tag(folder), columns.name)
    if not folder.selectable:
        return columns.row("", name, "", "", "")
    if folder.error:  # STATUS failed: no figures to show, only that it cannot be read
        return columns.row("*" if marked else "", name + " (unreadable)", "", "", "")
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
