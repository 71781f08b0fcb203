"""Client-side request budgets over sliding windows, persisted between runs.

Shate-M counts price requests ("проценка") per account: 2,000 per 15 minutes and 120,000 per day
for API accounts (the Belarusian edition of the document: 1,200 and 40,000), and answers 429 for
the rest of the day once a limit is hit. A cron that only learns about the limit from a 429 has
already lost the day, so the client counts its own requests first and refuses locally.

Design:
- Any number of (count, seconds) windows; a request must fit in every one of them.
- Counts are kept in buckets of ``bucket_seconds`` (one minute), so a whole day is at most 1,440
  small pairs, not 120,000 timestamps: cheap to store as JSON on the connection record.
- A bucket counts for a window as long as any part of it lies inside the window: the budget may
  refuse up to one bucket early, never let one request too many through. A sliding window is also
  stricter than the fixed (calendar) windows a service may use, so it is safe either way.
- ``acquire`` never sleeps: it raises ``RateLimited(retry_after=seconds until a slot frees)`` and
  the caller (a cron) decides to stop and come back later.
- ``block`` records a wait the service itself imposed (a 429), so the next run does not even try.
- The clock is wall-clock epoch seconds (``time.time``): the state outlives the process.
- ``shared(key, factory)``: one object per key in this process (a budget a service counts per
  account must be one budget for every client of that account: runs that follow each other and
  the threads of a worker). Entries whose ``idle()`` is true hold nothing worth keeping and are
  dropped when the registry is used, so it does not grow with keys seen once.
"""

import math
import threading
import time

from .errors import RateLimited

__all__ = ["BELARUS_PRICE_WINDOWS", "SHATE_PRICE_WINDOWS", "RateBudget", "shared", "window_key"]

SHATE_PRICE_WINDOWS = ((2000, 15 * 60), (120_000, 24 * 3600))
BELARUS_PRICE_WINDOWS = ((1200, 15 * 60), (40_000, 24 * 3600))
STATE_VERSION = 1


# Stable keys of the usual windows in ``usage()``: the caller words (and translates) them.
WINDOW_KEYS = {900: "15min", 86400: "day"}


def window_key(seconds):
    """The ``label`` of a window in ``usage()``: "15min", "day", else its length as "<seconds>s"."""
    seconds = float(seconds)
    return WINDOW_KEYS.get(seconds) or f"{seconds:g}s"


def _window_label(seconds):
    if seconds % 86400 == 0:
        days = int(seconds // 86400)
        return "day" if days == 1 else f"{days} days"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


class RateBudget:
    """Sliding-window request budget. See the module docstring."""

    def __init__(
        self,
        windows=SHATE_PRICE_WINDOWS,
        *,
        clock=time.time,
        bucket_seconds=60,
        state=None,
        name="price requests",
    ):
        parsed = []
        for count, seconds in windows or ():
            count, seconds = int(count), float(seconds)
            if count < 1 or seconds <= 0:
                raise ValueError("Each window needs a count >= 1 and a length > 0 s")
            parsed.append((count, seconds))
        if not parsed:
            raise ValueError("A rate budget needs at least one (count, seconds) window")
        if bucket_seconds <= 0:
            raise ValueError("bucket_seconds must be > 0")
        self.windows = tuple(sorted(parsed, key=lambda window: window[1]))
        self.clock = clock
        self.bucket_seconds = float(bucket_seconds)
        self.name = name
        self.blocked_until = None  # epoch seconds: the service said to wait (429) until then
        self._buckets = {}  # bucket index (start // bucket_seconds) -> requests counted
        self._lock = threading.Lock()
        if state:
            self.restore(state)

    # -- spending ----------------------------------------------------------------------------
    def acquire(self, cost=1):
        """Count ``cost`` requests now, or raise RateLimited without counting anything."""
        cost = self._check_cost(cost)
        with self._lock:
            now = self._admit(cost)
            index = self._index(now)
            self._buckets[index] = self._buckets.get(index, 0) + cost

    def check(self, cost=1):
        """Raise RateLimited as ``acquire`` would, but count nothing: for a caller that has more
        to do (a login) before the request leaves, and calls ``acquire`` then."""
        cost = self._check_cost(cost)
        with self._lock:
            self._admit(cost)

    def wait_time(self, cost=1):
        """Seconds until ``cost`` requests would be accepted (0 when they would be now)."""
        cost = self._check_cost(cost)
        with self._lock:
            now = self.clock()
            self._prune(now)
            return self._wait(now, cost)[0]

    def block(self, seconds):
        """The service refused us for ``seconds``: refuse locally until then."""
        if seconds is None or seconds <= 0:
            return
        with self._lock:
            until = self.clock() + float(seconds)
            self.blocked_until = max(self.blocked_until or 0.0, until)

    def idle(self):
        """True when nothing is counted in any window and no wait is imposed: forgetting this
        budget loses nothing."""
        with self._lock:
            self._prune(self.clock())
            return not self._buckets and self.blocked_until is None

    # -- reporting ---------------------------------------------------------------------------
    def used(self, window_seconds):
        """Requests counted in the last ``window_seconds`` (bucket-rounded, as enforced)."""
        with self._lock:
            return self._used(self.clock(), float(window_seconds))

    def remaining(self, window_seconds=None):
        """Requests still allowed in one configured window, or the tightest of them (None)."""
        with self._lock:
            now = self.clock()
            spare = [
                max(0, count - self._used(now, seconds))
                for count, seconds in self.windows
                if window_seconds is None or seconds == float(window_seconds)
            ]
        if not spare:
            raise ValueError(f"No {window_seconds} s window is configured")
        return min(spare)

    def usage(self):
        """One dict per window: limit, seconds, label, used, remaining (for sync logs / UI).

        ``label`` is a stable key, not words: "15min", "day", else "<seconds>s" (``window_key``).
        """
        with self._lock:
            now = self.clock()
            report = []
            for count, seconds in self.windows:
                used = self._used(now, seconds)
                report.append(
                    {
                        "limit": count,
                        "seconds": seconds,
                        "label": window_key(seconds),
                        "used": used,
                        "remaining": max(0, count - used),
                    }
                )
            return report

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self):
        """Compact JSON-friendly state: [bucket index, count] pairs of the longest window."""
        with self._lock:
            self._prune(self.clock())
            return {
                "version": STATE_VERSION,
                "bucket_seconds": self.bucket_seconds,
                "buckets": [[index, count] for index, count in sorted(self._buckets.items())],
                "blocked_until": self.blocked_until,
            }

    def restore(self, state):
        """Load a ``to_dict`` state. Anything unreadable is dropped, never raised: a corrupt
        saved state must not stop a run (the service's 429 remains the last safeguard)."""
        buckets, blocked_until = {}, None
        if isinstance(state, dict):
            try:
                saved_size = float(state.get("bucket_seconds") or self.bucket_seconds)
            except (TypeError, ValueError):
                saved_size = self.bucket_seconds
            for pair in state.get("buckets") or ():
                try:
                    index, count = int(pair[0]), int(pair[1])
                except (TypeError, ValueError, IndexError, KeyError):
                    continue
                if count > 0 and saved_size > 0:
                    # Re-bucketed when the bucket size changed: the start time is kept.
                    new_index = self._index(index * saved_size)
                    buckets[new_index] = buckets.get(new_index, 0) + count
            try:
                blocked_until = float(state["blocked_until"])
            except (TypeError, ValueError, KeyError):
                blocked_until = None
        with self._lock:
            self._buckets = buckets
            self.blocked_until = blocked_until
            self._prune(self.clock())

    @classmethod
    def from_dict(cls, state, windows=SHATE_PRICE_WINDOWS, **options):
        return cls(windows, state=state, **options)

    # -- internals ---------------------------------------------------------------------------
    def _admit(self, cost):
        """Now, when ``cost`` requests fit; else RateLimited (under the lock)."""
        now = self.clock()
        self._prune(now)
        wait, window = self._wait(now, cost)
        if wait > 0:
            raise RateLimited(self._refusal(window, wait), retry_after=math.ceil(wait))
        return now

    def _check_cost(self, cost):
        cost = int(cost)
        if cost < 0:
            raise ValueError("cost must be >= 0")
        smallest = min(count for count, _seconds in self.windows)
        if cost > smallest:
            raise ValueError(f"A cost of {cost} can never fit a window of {smallest} requests")
        return cost

    def _index(self, moment):
        return int(moment // self.bucket_seconds)

    def _in_window(self, index, now, seconds):
        # The bucket ends after the window start: part of it is inside the window.
        return (index + 1) * self.bucket_seconds > now - seconds

    def _used(self, now, seconds):
        return sum(
            count for index, count in self._buckets.items() if self._in_window(index, now, seconds)
        )

    def _wait(self, now, cost):
        """(seconds to wait, the window that is full) for ``cost`` more requests now."""
        wait, full = 0.0, None
        if self.blocked_until is not None and self.blocked_until > now:
            wait, full = self.blocked_until - now, "blocked"
        if cost == 0:
            return wait, full
        for count, seconds in self.windows:
            excess = self._used(now, seconds) + cost - count
            if excess <= 0:
                continue
            freed = 0
            for index in sorted(self._buckets):
                if not self._in_window(index, now, seconds):
                    continue
                freed += self._buckets[index]
                if freed >= excess:
                    # This bucket leaves the window when the window start passes its end.
                    leaves = (index + 1) * self.bucket_seconds + seconds - now
                    if leaves > wait:
                        wait, full = leaves, (count, seconds)
                    break
        return wait, full

    def _prune(self, now):
        longest = self.windows[-1][1]
        if self.blocked_until is not None and self.blocked_until <= now:
            self.blocked_until = None
        for index in [i for i in self._buckets if not self._in_window(i, now, longest)]:
            del self._buckets[index]

    def _refusal(self, window, wait):
        if window == "blocked":
            return f"The service refused {self.name} until later; next try in {math.ceil(wait)} s"
        count, seconds = window
        return (
            f"Budget of {count} {self.name} per {_window_label(seconds)} is used up; "
            f"next slot in {math.ceil(wait)} s"
        )


_SHARED = {}
_SHARED_LOCK = threading.Lock()


def shared(key, factory):
    """The process-wide object for ``key`` (hashable), made by ``factory()`` the first time.

    Idle entries (``idle()`` true) of other keys are dropped on the way: they hold no count."""
    with _SHARED_LOCK:
        for other in [k for k, value in _SHARED.items() if k != key and value.idle()]:
            del _SHARED[other]
        value = _SHARED.get(key)
        if value is None:
            value = _SHARED[key] = factory()
        return value
