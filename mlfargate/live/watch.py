"""Refreshing a snapshot every N seconds (``mlfargate status --watch``; the TUI calls
:meth:`~mlfargate.live.collect.Watcher.refresh` from its own timer instead).

The cadence is kept from the start of each refresh: a refresh that takes longer than the interval is
followed at once by the next. The sleep and the monotonic clock are injected (tests run without
waiting). ``KeyboardInterrupt`` and errors from ``emit`` (a closed pipe) propagate to the caller, which
decides how to stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mlfargate.live.collect import Watcher
from mlfargate.live.model import Snapshot

DEFAULT_EVERY_S = 15
MIN_EVERY_S = 1
MAX_EVERY_S = 3600


def watch(
    watcher: Watcher,
    every_s: float,
    emit: Callable[[Snapshot], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    refreshes: int | None = None,
) -> int:
    """Refresh, emit, wait; forever, or ``refreshes`` times. Returns the number of refreshes made."""
    done = 0
    while refreshes is None or done < refreshes:
        started = monotonic()
        emit(watcher.refresh())
        done += 1
        if refreshes is not None and done >= refreshes:
            break
        sleep(max(0.0, every_s - (monotonic() - started)))
    return done
