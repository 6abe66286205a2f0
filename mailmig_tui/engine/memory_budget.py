"""How many message bytes a copy keeps in flight to the target: a round trip's worth.

The append window (`append_window.InFlightBudget`) holds every message sent but not yet
answered, because a refused or throttled batch is sent again. It only has to cover the
line: a round trip is paid per half window, so a window of 2 x rate x round trip keeps
`WINDOW_RATE / 2` bytes a second flowing. Sized for the largest round trip, it kept 32 MB
of bodies alive on loopback too, where a few MB do, and that pushed a 50,000-message copy
past 150 MB of peak RSS (issue 12). The round trip is the one planning measured on the
target connection (`MailStore.round_trip`, no extra command).
"""

from __future__ import annotations

from mailmig_tui.stores.base import MailStore

WINDOW_RATE = 400 * 1024 * 1024
"""Bytes per second of round trip the window gets: 200 MB/s sustained. The window is one
budget for every folder being copied, each of which waits for answers in order: at half
this rate a default-shape copy at 100 ms spent 13 s where this takes 12 (bench/run.py,
alternating runs), for about 11 MB more peak RSS at 10,000 messages."""
MIN_WINDOW = 8 * 1024 * 1024
"""Even at no round trip: the server stores one half while the other half streams."""


def append_window_bytes(ceiling: int, round_trip: float | None) -> int:
    """The in-flight byte budget for a target `round_trip` seconds away, never above
    `ceiling` (the setting); the ceiling when the round trip is unknown."""
    if round_trip is None:
        return ceiling
    wanted = max(MIN_WINDOW, int(round_trip * WINDOW_RATE))
    return min(ceiling, wanted)


def append_window_for(target: MailStore, ceiling: int) -> int:
    """`append_window_bytes` for the round trip planning saw on `target`."""
    return append_window_bytes(ceiling, target.round_trip())
