"""The two shipped themes (dark and light) and the order `T` cycles through.

Both stay readable when the terminal has only 16 or 256 colours: Textual maps the colours
down, and nothing is told by colour alone (the active pane has a ▶, marked rows a `*`).
"ansi-dark" uses the terminal's own palette and is the best choice for 16 colours.
"""

from __future__ import annotations

from textual.theme import Theme

DARK = Theme(
    name="mailmig-dark",
    primary="#3b82c4",
    secondary="#2b5f8f",
    accent="#d7b02a",
    warning="#d7b02a",
    error="#e05260",
    success="#5bb36e",
    foreground="#e2e4e8",
    background="#15181c",
    surface="#1b1f24",
    panel="#2a3038",
    dark=True,
)
LIGHT = Theme(
    name="mailmig-light",
    primary="#1d5fa6",
    secondary="#3d7cc0",
    accent="#a85400",
    warning="#9a5200",
    error="#b3261e",
    success="#2e7d32",
    foreground="#1c1d1f",
    background="#f6f6f3",
    surface="#ffffff",
    panel="#d0d4da",
    dark=False,
)
THEMES = (DARK, LIGHT)
CYCLE = ("mailmig-dark", "mailmig-light", "ansi-dark")
