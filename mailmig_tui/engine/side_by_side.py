"""The source and the target at the same time: each side's commands on its own thread.

At a 100 ms round trip every command planning waits for costs a tenth of a second; the two
servers answer independently, so while one side connects, logs in or lists its folders the
other side can do the same. A store serves one thread: each side's work stays on one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, cast

S = TypeVar("S")
T = TypeVar("T")


def both(
    source_work: Callable[[], S],
    target_work: Callable[[], T],
    *,
    at_once: bool = True,
    unused: Callable[[S | T], None] | None = None,
) -> tuple[S, T]:
    """(source_work(), target_work()), the target's on a thread of its own (`at_once`).

    A failure of the source is raised first, as it would be one after the other (a wrong
    source password is the source's error, whatever the target did). With `unused`
    (for results that must be released, such as an open connection) a failed source does
    not wait for the target: its result, when it comes, is handed to `unused`; so is the
    source's result when the target fails.
    """
    if not at_once:
        source_value = source_work()
        try:
            return source_value, target_work()
        except BaseException:
            if unused is not None:
                unused(source_value)
            raise
    lock = threading.Lock()
    outcome: dict[str, object] = {}
    abandoned = threading.Event()

    def run_target() -> None:
        try:
            value = target_work()
        except BaseException as exc:  # handed to the caller's thread
            with lock:
                outcome["error"] = exc
            return
        with lock:
            outcome["value"] = value
            drop = abandoned.is_set()
        if drop and unused is not None:
            unused(value)

    thread = threading.Thread(target=run_target, name="mailmig-target", daemon=True)
    thread.start()
    try:
        source_value = source_work()
    except BaseException:
        if unused is None:
            thread.join()
        else:
            with lock:
                abandoned.set()
                finished = "value" in outcome
            if finished:
                unused(cast(T, outcome["value"]))
        raise
    thread.join()
    if "error" in outcome:
        if unused is not None:
            unused(source_value)
        raise cast(BaseException, outcome["error"])
    return source_value, cast(T, outcome["value"])
