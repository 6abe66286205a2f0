"""The progress bars of the copy panel and the progress screen, coloured by the theme.

Colours come from component classes (`copy--back`, ... in app.tcss), so both themes and a
16-colour terminal get bars they can tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.progress_bar import ProgressBar
from rich.style import Style
from textual.widget import Widget

STYLE_CLASSES = {"copy--back", "copy--complete", "copy--finished", "copy--error", "copy--dim"}
"""Component classes of every widget that draws bars (colours in app.tcss)."""


@dataclass(frozen=True)
class BarStyles:
    back: Style
    complete: Style
    finished: Style
    error: Style
    dim: Style

    @classmethod
    def of(cls, widget: Widget) -> BarStyles:
        """The styles of `widget`'s component classes (it lists STYLE_CLASSES)."""

        def get(name: str) -> Style:
            return widget.get_component_rich_style(f"copy--{name}", partial=True)

        return cls(get("back"), get("complete"), get("finished"), get("error"), get("dim"))


def bar(done: int, total: int, styles: BarStyles) -> ProgressBar:
    """A bar of `done` out of `total`; full when there is nothing to do."""
    return ProgressBar(
        total=max(total, 1),
        completed=done if total else 1,
        style=styles.back,
        complete_style=styles.complete,
        finished_style=styles.finished,
    )
