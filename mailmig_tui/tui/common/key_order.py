"""Keys handled one after the other, each by whatever is focused once the one before is done.

Textual hands a key to the widget focused when the app reads it, by posting it to that
widget's queue, and runs an ordinary binding (Tab's focus move, an Input's Backspace or End)
only once the key has bubbled back up to the app. A burst of keys in one read (a paste, a
laggy SSH link: `abc<Tab>def<Tab>`) was therefore all handed out before the Tab had moved
the focus: every key went to the first field, and a Backspace ran after the letters typed
behind it. A password typed that way is wrong, and lockouts count failed logins.

`OrderedKeysApp` holds each key (and paste) until the one before it has been handled all
the way: it follows the key from the widget it went to up through each parent to the app
with a callback queued behind it at every hop (each queue is first in, first out), and only
then hands out the next, to whatever is focused by then. A key that never comes back (its
widget went away) is given up after `HOLD_LIMIT` seconds, and the keys behind it go on.
"""

from __future__ import annotations

import logging
from collections import deque
from functools import partial

from textual import events
from textual.app import App, ReturnType
from textual.dom import DOMNode
from textual.timer import Timer

log = logging.getLogger(__name__)

HOLD_LIMIT = 1.0
"""Seconds a key may take before the keys behind it are handed out anyway."""

Typed = events.Key | events.Paste


class OrderedKeysApp(App[ReturnType]):
    """An App whose keys and pastes are handled strictly one after the other."""

    def __init__(self) -> None:
        super().__init__()
        self._held_keys: deque[Typed] = deque()
        self._key_in_flight: Typed | None = None
        self._key_timer: Timer | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, Typed) and not event.is_forwarded:  # straight from the terminal
            if self._key_in_flight is not None or self._held_keys:
                self._held_keys.append(event)
                return
            await self._hand_out(event)
            return
        await super().on_event(event)

    async def _hand_out(self, event: Typed) -> None:
        target: DOMNode = self.focused or self.screen  # where Textual forwards it
        await super().on_event(event)
        if not event.is_forwarded:  # a priority binding took it at once: already handled
            return
        self._key_in_flight = event
        self._key_timer = self.set_timer(HOLD_LIMIT, partial(self._landed, event, late=True))
        self._follow(event, target)

    def _follow(self, event: Typed, node: DOMNode | None) -> None:
        """Queue the next hop behind `event` in `node`'s queue: `node` has then handled it
        and, if it bubbles, posted it to its parent first."""
        while node is not None and node is not self:
            if node.call_later(self._follow, event, node.parent):
                return
            node = node.parent  # closed: it will handle nothing more, skip it
        if not self.call_later(self._landed, event):
            self._key_in_flight = None

    async def _landed(self, event: Typed, late: bool = False) -> None:
        if self._key_in_flight is not event:
            return
        if late:
            log.debug("key %r not handled after %.1f s; going on", event, HOLD_LIMIT)
        if self._key_timer is not None:
            self._key_timer.stop()
            self._key_timer = None
        self._key_in_flight = None
        while self._held_keys and self._key_in_flight is None:
            await self._hand_out(self._held_keys.popleft())
