"""The line above the footer: what is marked in each account, in messages and bytes.

It fits its width by leaving out whole parts, least important first (the target's empty
marks, then the target's marks, then `K of N on the target`), so a count is never cut.
The source's marks come first: they are what `c` copies. Marks in the target pane are
never copied: `u` removes those of them mailmig copied, and the line says so.
"""

from __future__ import annotations

from textual.widgets import Static

from mailmig_tui.engine.wording import human_size
from mailmig_tui.tui.browse.marks import MarkTotals
from mailmig_tui.tui.common.format import count, join_fitting


def describe_totals(totals: MarkTotals) -> str:
    if totals.empty:
        return "nothing"
    parts = []
    if totals.folders:
        parts.append(f"{totals.folders} folder{'s' if totals.folders != 1 else ''}")
    text = f"{count(totals.messages)} msg{'s' if totals.messages != 1 else ''}"
    text += f" {human_size(totals.bytes)}"
    if totals.unknown_sizes:
        text += f" (+{count(totals.unknown_sizes)} sizing)"
    parts.append(text)
    return ", ".join(parts)


def marks_parts(totals: dict[str, MarkTotals], active_role: str) -> list[tuple[int, str]]:
    """(priority, text) of the marks; lower priority numbers are kept longer. The target's
    marks outrank `K of N on the target` only while the target pane is the active one."""
    source, target = totals.get("source", MarkTotals()), totals.get("target", MarkTotals())
    parts = [(0, f"Marked  Source: {describe_totals(source)}")]
    if target.empty:
        parts.append((4, "Target: nothing"))
    else:
        priority = 1 if active_role == "target" else 3
        # Short (no bytes), so that at 80 columns it fits beside the source's marks.
        if target.folders:
            marked = f"{target.folders} folder{'s' if target.folders != 1 else ''}"
        else:
            marked = f"{count(target.messages)} msg{'s' if target.messages != 1 else ''}"
        # Target marks are never copied; `u` (target pane) removes those mailmig copied.
        parts.append((priority, f"Target: {marked} (u undoes copies)"))
    return parts


class StatusLine(Static):
    on_target = ""
    """`K of N on the target` for the open source folder, set by the main screen."""

    _totals: dict[str, MarkTotals] | None = None
    _active_role = "source"

    def show_marks(self, active_role: str, totals: dict[str, MarkTotals]) -> None:
        """`Marked  Source: 3 msgs 12.4 KB  ·  Target: nothing`, fitted to the width.

        The source always comes first, as `c` copies its marks from whichever pane;
        `active_role` decides what is left out first where the line is too narrow.
        """
        self._totals, self._active_role = dict(totals), active_role
        self._show()

    def _show(self) -> None:
        if self._totals is None:
            return
        parts = marks_parts(self._totals, self._active_role)
        if self.on_target:
            parts.insert(0, (2, self.on_target))
        width = self.content_region.width or self.app.size.width
        self.update(join_fitting(parts, width, separator="  ·  "))

    def on_resize(self) -> None:
        self._show()
