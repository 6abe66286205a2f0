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


def shorten_middle(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut in the middle: `alice@exa…ple.com`.

    For names whose both ends matter (an account's user and its domain, a path's root and
    leaf); never padded.
    """
    text = clean(text)
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail_cells = (width - 1) // 2
    head = set_cell_size(text, width - 1 - tail_cells)
    tail = text[len(text) - tail_cells :] if tail_cells else ""
    while cell_len(tail) > tail_cells:  # wide characters: drop from the left of the tail
        tail = tail[1:]
    return head + "…" + tail


def join_fitting(parts: list[tuple[int, str]], width: int, separator: str = " · ") -> str:
    """The parts that fit in `width` cells, joined in their order; when they do not all fit,
    the least important go first (highest number = least important; ties: the last first).

    A part is never cut, so a count or an ETA is shown whole or not at all; only the most
    important part is cut (with "…") when even it alone does not fit.
    """
    kept = list(parts)
    while len(kept) > 1 and cell_len(separator.join(t for _p, t in kept)) > width:
        drop = max(range(len(kept)), key=lambda i: (kept[i][0], i))
        del kept[drop]
    text = separator.join(t for _p, t in kept)
    return fit(text, width).rstrip() if cell_len(text) > width else text
