"""What the operator marked in one account: whole folders and single messages.

A marked folder counts with all its messages and bytes (from its STATUS figures); single
messages marked inside a marked folder are not counted twice. A message's size may not be
known yet (marked by `*` before its summary page was loaded): it is counted and reported as
unknown until `learn_sizes` fills it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mailmig_tui.model import FolderInfo


@dataclass(frozen=True)
class MarkTotals:
    folders: int = 0
    messages: int = 0
    bytes: int = 0
    unknown_sizes: int = 0
    """Marked messages whose size is not loaded yet (not in `bytes`)."""

    @property
    def empty(self) -> bool:
        return self.folders == 0 and self.messages == 0


@dataclass
class MarkSet:
    folders: dict[str, FolderInfo] = field(default_factory=dict)
    messages: dict[str, dict[int, int | None]] = field(default_factory=dict)
    """folder -> uid -> size (None while unknown)."""

    def toggle_folder(self, folder: FolderInfo) -> bool:
        """Mark or unmark a folder; returns whether it is marked now."""
        if folder.name in self.folders:
            del self.folders[folder.name]
            return False
        self.folders[folder.name] = folder
        return True

    def folder_marked(self, name: str) -> bool:
        return name in self.folders

    def toggle_message(self, folder: str, uid: int, size: int | None) -> bool:
        marked = self.messages.setdefault(folder, {})
        if uid in marked:
            del marked[uid]
            return False
        marked[uid] = size
        return True

    def message_marked(self, folder: str, uid: int) -> bool:
        return uid in self.messages.get(folder, {})

    def invert_messages(
        self, folder: str, uids: Iterable[int], sizes: Mapping[int, int | None]
    ) -> None:
        """Invert the marks of `uids` (the list shown), leaving other marks alone."""
        marked = self.messages.setdefault(folder, {})
        for uid in uids:
            if uid in marked:
                del marked[uid]
            else:
                marked[uid] = sizes.get(uid)

    def invert_folders(self, folders: Iterable[FolderInfo]) -> None:
        for folder in folders:
            if folder.selectable:
                self.toggle_folder(folder)

    def learn_sizes(self, folder: str, sizes: Mapping[int, int]) -> None:
        marked = self.messages.get(folder)
        if not marked:
            return
        for uid, size in sizes.items():
            if uid in marked and marked[uid] is None:
                marked[uid] = size

    def unknown_in(self, folder: str) -> list[int]:
        return [uid for uid, size in self.messages.get(folder, {}).items() if size is None]

    def forget_messages(self, folder: str, uids: Iterable[int]) -> None:
        """Drop marks of messages that are gone from the server."""
        marked = self.messages.get(folder, {})
        for uid in uids:
            marked.pop(uid, None)

    def clear(self) -> None:
        self.folders.clear()
        self.messages.clear()

    def totals(self) -> MarkTotals:
        messages = sum(f.messages for f in self.folders.values())
        size = sum(f.size for f in self.folders.values())
        unknown = 0
        for folder, marked in self.messages.items():
            if folder in self.folders:
                continue
            messages += len(marked)
            for value in marked.values():
                if value is None:
                    unknown += 1
                else:
                    size += value
        return MarkTotals(len(self.folders), messages, size, unknown)
