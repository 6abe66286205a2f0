"""The line above the footer: what is marked in each account, in messages and bytes."""

from __future__ import annotations

from textual.widgets import Static

from mailmig_tui.engine.wording import human_size
from mailmig_tui.tui.browse.marks import MarkTotals
from mailmig_tui.tui.common.format import count


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


class StatusLine(Static):
    def show_marks(self, active_role: str, totals: dict[str, MarkTotals]) -> None:
        """`Marked  Source: 3 msgs 12.4 KB  ·  Target: nothing`, the active account first."""
        roles = sorted(totals, key=lambda role: role != active_role)
        text = "  ·  ".join(
            f"{role.capitalize()}: {describe_totals(totals[role])}" for role in roles
        )
        self.update(f"Marked  {text}")
