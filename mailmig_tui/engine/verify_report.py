"""What a verify found: per folder, the missing, altered and flag-different messages.

Plain data, shared by the checker (`verify.py`), the copy report, the log and the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailmig_tui.engine.events import Altered, MessageRef


@dataclass(frozen=True)
class FlagDifference:
    """A message on the target whose flags or keywords are not the source's."""

    message: MessageRef
    source_flags: tuple[str, ...]
    target_flags: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            **self.message.as_json(),
            "source_flags": sorted(self.source_flags),
            "target_flags": sorted(self.target_flags),
        }


@dataclass
class FolderCheck:
    source: str
    target: str
    source_messages: int = 0
    target_messages: int = 0
    target_exists: bool = True
    missing: list[MessageRef] = field(default_factory=list)
    altered: list[Altered] = field(default_factory=list)
    """On the target, but changed by it (a header, or some bytes): a warning."""
    flag_differences: list[FlagDifference] = field(default_factory=list)
    error: str = ""
    """The folder could not be checked (it cannot be opened on one side)."""

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "target": self.target,
            "source_messages": self.source_messages,
            "target_messages": self.target_messages,
            "target_exists": self.target_exists,
            "error": self.error or None,
            "missing": [m.in_folder_json() for m in self.missing],
            "altered": [a.as_json() for a in self.altered],
            "flag_differences": [d.as_json() for d in self.flag_differences],
        }


@dataclass
class VerifyReport:
    folders: list[FolderCheck] = field(default_factory=list)
    interrupted: bool = False
    """Cancelled before every folder was checked: the counts are partial."""

    @property
    def missing(self) -> int:
        return sum(len(f.missing) for f in self.folders)

    @property
    def altered(self) -> int:
        return sum(len(f.altered) for f in self.folders)

    @property
    def flag_differences(self) -> int:
        return sum(len(f.flag_differences) for f in self.folders)

    @property
    def unchecked(self) -> list[FolderCheck]:
        """Folders that could not be opened, so nothing in them was checked."""
        return [f for f in self.folders if f.error]

    @property
    def ok(self) -> bool:
        """Nothing missing and every folder checked; altered messages and flag
        differences are warnings."""
        return self.missing == 0 and not self.unchecked

    @property
    def checked(self) -> int:
        return sum(f.source_messages for f in self.folders)

    @property
    def missing_messages(self) -> list[MessageRef]:
        return [ref for folder in self.folders for ref in folder.missing]

    def as_json(self) -> dict[str, object]:
        return {
            "folders": [f.as_json() for f in self.folders],
            "checked": self.checked,
            "missing": self.missing,
            "altered": self.altered,
            "flag_differences": self.flag_differences,
            "ok": self.ok,
        }

    def summary_json(self) -> dict[str, object]:
        """The `verify` object of a copy report."""
        return {
            "checked": self.checked,
            "ok": self.ok,
            "missing": [ref.as_json() for ref in self.missing_messages],
            "altered": [a.as_json() for f in self.folders for a in f.altered],
            "flag_differences": [d.as_json() for f in self.folders for d in f.flag_differences],
        }
