"""Text that fits the terminal: cell-exact widths, short sizes, counts and plurals.

Shared by every feature; sizes in words ("12.4 MB") come from `engine.wording.human_size`,
so the screen and the log say the same. Measured in terminal cells, so wide characters and
umlauts line up.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

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
    """At most 5 characters, for narrow columns: 812B, 4.2K, 18K, 1.2M, 3.4G."""
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


def count(number: int) -> str:
    """1,234,567."""
    return f"{number:,}"


def plural(number: int, word: str) -> str:
    """1 folder, 2 folders, 1,200 messages."""
    return f"{number:,} {word}{'' if number == 1 else 's'}"
