"""MoySklad's limits, kept on our side: request weights, the 45-units-per-3-s budget, at most 5
parallel requests, the rate headers, and a circuit breaker.

- Budget: 45 units per 3 s (``_restrictions.md``: since 16.02.2026 per user or per solution).
  A request's weight is 5 for the stock reports ``report/stock/all`` and ``report/stock/bystore``
  whatever the authentication; otherwise 1 with an application (solution) token, and for a
  user's login/password or user token 2 from 12.05.2026, 3 from 01.09.2026, 4 from 01.12.2026
  (``user_request_weight``). The weight is a setting (``request_weight``); this schedule is only
  its default, so a later change of the schedule is one setting, not a code change.
- Decision: the schedule's dates are Moscow dates (MoySklad's own time; the change happens at
  midnight in Moscow, 21:00 UTC the day before), and the default weight is looked up for every
  request, from the client's ``now``: a client (a long run, a worker's thread) made before a
  change pays the new weight from the change on, not from its next start.
- Decision (the document lists ``report/stock/all`` and ``report/stock/bystore`` without
  ``/current``): every path under those two, the ``/current`` short reports included, weighs 5.
  Counting too much only slows us a little; counting too little earns 429s.
- The budget is spent before a request leaves (``RateBudget``, 0.05 s buckets). MoySklad counts
  a request from when it arrives, we from when it leaves: our window is 3 s + ``margin`` (0.2 s)
  so that a unit we see freed is freed at MoySklad too (without it, a burst against the emulator
  got one 429 in 26 requests at the window's edge; the margin costs about 6 % of throughput).
  When it is used up the sender sleeps until a slot frees (the client's ``sleep``), never more
  than ``max_wait`` seconds at once: a longer wait raises RateLimited for the caller to come back.
- ``X-RateLimit-Remaining`` at or under ``low_remaining`` (5) units while our own count leaves
  more (another process of the same user spends the budget too, or our count drifted): the
  next request waits until the missing units drained back at MoySklad's steady rate
  (``X-Lognex-Retry-TimeInterval`` ms / ``X-RateLimit-Limit`` per unit, else 3 s / 45), at
  most ``X-Lognex-Reset`` ms. Decision: when our own count explains the low figure (it leaves
  no more than MoySklad says), there is no pause: our budget already holds the next request
  back until units free, and pausing a second time for our own spending slowed a pull that
  spends the whole budget by a fifth. A 429 blocks
  every sender of this client for ``X-Lognex-Retry-After`` ms (the base class's retry sleeps it
  too).
- At most ``max_parallel`` (5) requests in flight: a semaphore.
- Decision: MoySklad counts the budget and the parallel requests per account (a user, or a
  solution's token), so within one process the budget and the semaphore are those of the
  account (``AccountLimits``, keyed by the API URL, the account: the login, else a digest of
  the token, and the clock), shared by every client of it: a run right after another starts
  with what the first left of the window, not a fresh one, and two threads of a worker share
  45 units, not 45 each. Separate processes (Odoo workers) cannot see each other's budget:
  ``X-RateLimit-Remaining`` (below) slows us down when another one spends it. Counters of the
  sync log (units, requests, waits) stay per client, i.e. per run.
- Circuit breaker: MoySklad switches the user's API off for an hour after more than 200
  identical failing requests, or 200 requests answered 429, in a minute. The breaker opens at
  ``max_failures`` (50) failing requests, ``max_identical_failures`` (10) failures of the very
  same request, or ``max_rate_limited`` (20) 429s within ``window`` (60) seconds, and refuses
  every request for ``cooldown`` (60) seconds: CircuitOpen (``code`` "circuit_open", a
  RateLimited, run level). A failing request is an HTTP status >= 400 other than 429 (404s
  included: 50 misses a minute mean something is wrong), or a transport error (time-out,
  refused connection). The thresholds are settings of the client.
"""

import hashlib
import math
import threading
import time
from collections import deque
from datetime import date, datetime, timezone

from .errors import RateLimited
from .moysklad_errors import CircuitOpen, MoySkladRateLimited
from .moysklad_query import MOSCOW
from .rate_budget import RateBudget, shared

__all__ = [
    "BUDGET_SECONDS",
    "AccountLimits",
    "BUDGET_UNITS",
    "HEAVY_REPORT_WEIGHT",
    "CircuitBreaker",
    "MoySkladLimiter",
    "account_key",
    "is_heavy_report",
    "moscow_date",
    "user_request_weight",
]

BUDGET_UNITS = 45
BUDGET_SECONDS = 3
HEAVY_REPORT_WEIGHT = 5
HEAVY_REPORT_PREFIXES = ("report/stock/all", "report/stock/bystore")
MAX_PARALLEL = 5
# MoySklad stamps a request when it arrives, a little after we stamp it: our window is longer.
WINDOW_MARGIN = 0.2
# The documented schedule for login/password and user-token requests (date from -> weight).
USER_WEIGHT_SCHEDULE = (
    (date(2026, 12, 1), 4),
    (date(2026, 9, 1), 3),
    (date(2026, 5, 12), 2),
)
TOKEN_KINDS = ("user", "application")


def moscow_date(moment=None):
    """The date in Moscow at ``moment`` (naive UTC, as Odoo's, or aware; None: now)."""
    if moment is None:
        moment = datetime.now(MOSCOW)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # noqa: UP017 (Python 3.10)
    return moment.astimezone(MOSCOW).date()


def user_request_weight(today=None):
    """Weight of one request made with a user's login/password or user token on ``today`` (a
    Moscow date; None: today in Moscow)."""
    today = today or moscow_date()
    for since, weight in USER_WEIGHT_SCHEDULE:
        if today >= since:
            return weight
    return 1


def default_weight(token_kind, today=None):
    if token_kind not in TOKEN_KINDS:
        raise ValueError(f"token_kind must be one of {TOKEN_KINDS}")
    return 1 if token_kind == "application" else user_request_weight(today)


def is_heavy_report(path):
    """True for the stock report paths that weigh 5 units (path relative to the API root)."""
    path = path.strip("/")
    return any(path == prefix or path.startswith(prefix + "/") for prefix in HEAVY_REPORT_PREFIXES)


class CircuitBreaker:
    """Counts failing and rate-limited requests per sliding minute; see the module docstring."""

    def __init__(
        self,
        *,
        max_failures=50,
        max_identical_failures=10,
        max_rate_limited=20,
        window=60.0,
        cooldown=60.0,
        clock=time.monotonic,
    ):
        self.max_failures = int(max_failures)
        self.max_identical_failures = int(max_identical_failures)
        self.max_rate_limited = int(max_rate_limited)
        self.window = float(window)
        self.cooldown = float(cooldown)
        self.clock = clock
        self.open_until = None
        self.reason = ""
        self.trips = 0
        self._failures = deque()  # (moment, request key)
        self._limited = deque()
        self._lock = threading.Lock()

    def check(self):
        """Raise CircuitOpen while the breaker is open."""
        with self._lock:
            now = self.clock()
            if self.open_until is not None and now < self.open_until:
                wait = self.open_until - now
                raise CircuitOpen(
                    f"Stopped sending requests to MoySklad: {self.reason}. MoySklad switches the "
                    "API off for an hour when this goes on; next try in "
                    f"{math.ceil(wait)} s",
                    retry_after=math.ceil(wait),
                )

    def record_failure(self, key):
        with self._lock:
            now = self.clock()
            self._failures.append((now, key))
            self._prune(now)
            if len(self._failures) >= self.max_failures:
                self._open(now, f"{len(self._failures)} failing requests within a minute")
                return
            same = sum(1 for _moment, other in self._failures if other == key)
            if same >= self.max_identical_failures:
                self._open(now, f"the same request failed {same} times within a minute")

    def record_rate_limited(self):
        with self._lock:
            now = self.clock()
            self._limited.append(now)
            self._prune(now)
            if len(self._limited) >= self.max_rate_limited:
                self._open(now, f"{len(self._limited)} requests refused for the rate limit "
                                "within a minute")  # fmt: skip

    def counts(self):
        with self._lock:
            self._prune(self.clock())
            return {"failures": len(self._failures), "rate_limited": len(self._limited)}

    def _open(self, now, reason):
        self.open_until = now + self.cooldown
        self.reason = reason
        self.trips += 1
        self._failures.clear()
        self._limited.clear()

    def _prune(self, now):
        start = now - self.window
        while self._failures and self._failures[0][0] <= start:
            self._failures.popleft()
        while self._limited and self._limited[0] <= start:
            self._limited.popleft()


def account_key(base_url, login="", token=""):
    """Who MoySklad counts a request against: the login, else the token (a digest: the key is
    no secret), on this API. None when neither is known (nothing to share)."""
    if login:
        who = "login:" + login.strip().lower()
    elif token:
        who = "token:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    else:
        return None
    return (base_url.rstrip("/"), who)


class AccountLimits:
    """The unit budget and the parallel slots of one account, shared in this process."""

    def __init__(self, *, units, window, clock, max_parallel):
        self.budget = RateBudget(((int(units), float(window)),), clock=clock, bucket_seconds=0.05,
                                 name="MoySklad request units")  # fmt: skip
        self.slots = threading.BoundedSemaphore(max_parallel)
        self.in_flight = 0
        self.lock = threading.Lock()

    def idle(self):
        with self.lock:
            busy = self.in_flight
        return not busy and self.budget.idle()

    @classmethod
    def for_account(cls, account, *, units, window, clock, max_parallel):
        """The shared limits of ``account`` (``account_key``), a private set when it is None."""
        options = {"units": units, "window": window, "clock": clock, "max_parallel": max_parallel}
        if account is None:
            return cls(**options)
        key = ("moysklad", account, clock, int(units), float(window), int(max_parallel))
        return shared(key, lambda: cls(**options))


class MoySkladLimiter:
    """The budget, the parallel semaphore and the breaker of one client; thread-safe."""

    def __init__(
        self,
        *,
        request_weight,
        clock=time.monotonic,
        sleep=time.sleep,
        units=BUDGET_UNITS,
        seconds=BUDGET_SECONDS,
        margin=WINDOW_MARGIN,
        max_parallel=MAX_PARALLEL,
        low_remaining=None,
        max_wait=60.0,
        breaker=None,
        account=None,
    ):
        """``request_weight``: units of a request (stock reports aside), or a callable giving
        them when a request leaves (the documented schedule). ``account``: ``account_key``,
        whose budget and slots every limiter of that account in this process shares."""
        self._units = int(units)
        if callable(request_weight):
            self._weight = request_weight
        else:
            fixed = int(request_weight)
            self._check_weight(fixed)
            self._weight = lambda: fixed
        self.clock = clock
        self.sleep = sleep
        self.max_wait = float(max_wait)
        self.max_parallel = max(1, int(max_parallel))
        self.account = AccountLimits.for_account(
            account, units=units, window=float(seconds) + float(margin), clock=clock,
            max_parallel=self.max_parallel,
        )  # fmt: skip
        self.budget = self.account.budget
        self._slots = self.account.slots
        # Default: slow down when fewer units remain than one heavy report needs.
        self.low_remaining = HEAVY_REPORT_WEIGHT if low_remaining is None else low_remaining
        self.breaker = breaker or CircuitBreaker(clock=clock)
        self._lock = threading.Lock()
        self.units_used = 0
        self.requests = 0
        self.waited = 0.0
        self.rate_limited = 0
        self.failures = 0
        self.last_remaining = None
        self.in_flight = 0
        self.max_in_flight = 0

    def _check_weight(self, weight):
        if not 1 <= weight <= self._units:
            raise ValueError(f"request_weight must be between 1 and {self._units}")
        return weight

    @property
    def request_weight(self):
        """Units of an ordinary request now (the schedule is read at every call)."""
        return self._check_weight(int(self._weight()))

    def weight(self, path):
        return HEAVY_REPORT_WEIGHT if is_heavy_report(path) else self.request_weight

    # -- around one request ---------------------------------------------------------------------
    def before(self, path):
        """Wait for budget and a parallel slot; CircuitOpen/RateLimited instead of waiting long.
        Returns the units spent (pass them to ``after``)."""
        self.breaker.check()
        cost = self.weight(path)
        self._spend(cost)
        self._slots.acquire()
        with self.account.lock:
            self.account.in_flight += 1
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return cost

    def after(self, key, *, status=None, headers=None):
        """Release the slot and learn from the answer (``status`` None: transport failure)."""
        with self._lock:
            self.in_flight -= 1
        with self.account.lock:
            self.account.in_flight -= 1
        self._slots.release()
        headers = headers or {}
        if status == 429:
            with self._lock:
                self.rate_limited += 1
            wait = retry_after_ms(headers)
            if wait:
                self.budget.block(wait)
            self.breaker.record_rate_limited()
        elif status is None or status >= 400:
            with self._lock:
                self.failures += 1
            self.breaker.record_failure(key)
        self._read_remaining(headers)

    def _spend(self, cost):
        while True:
            wait = self.budget.wait_time(cost)
            if wait <= 0:
                try:
                    self.budget.acquire(cost)
                except RateLimited:  # another thread took the slot between the two calls
                    continue
                with self._lock:
                    self.units_used += cost
                    self.requests += 1
                return
            if wait > self.max_wait:
                raise MoySkladRateLimited(
                    f"MoySklad asked us to wait {math.ceil(wait)} s before the next request",
                    retry_after=math.ceil(wait),
                )
            with self._lock:
                self.waited += wait
            self.sleep(wait)

    def _read_remaining(self, headers):
        remaining = _header_number(headers, "X-RateLimit-Remaining")
        if remaining is None:
            return
        self.last_remaining = remaining
        if remaining > self.low_remaining:
            return
        # What our own count leaves: it counts every unit of this account in this process, over
        # a longer window than MoySklad's, so MoySklad can only show less when someone else
        # (another process, a worker) spends the budget too.
        others = self.budget.remaining() - remaining
        if others <= 0:
            return  # our own spending explains it: our budget already holds us back
        # Wait until the units we lack have drained back at MoySklad's steady rate (interval /
        # limit per unit), never longer than MoySklad's own reset time.
        interval = _header_number(headers, "X-Lognex-Retry-TimeInterval")
        limit = _header_number(headers, "X-RateLimit-Limit")
        per_unit = (interval / 1000.0 / limit) if interval and limit else (
            BUDGET_SECONDS / BUDGET_UNITS)  # fmt: skip
        pause = per_unit * min(self.low_remaining - remaining + 1, others)
        reset = _header_number(headers, "X-Lognex-Reset")
        if reset is not None and reset > 0:
            pause = min(pause, reset / 1000.0)
        self.budget.block(min(pause, BUDGET_SECONDS))

    def usage(self):
        """What the sync log shows: requests, units, seconds waited, 429s, failures, breaker."""
        with self._lock:
            report = {
                "requests": self.requests,
                "units": self.units_used,
                "request_weight": self.request_weight,
                "waited_seconds": round(self.waited, 3),
                "rate_limited": self.rate_limited,
                "failures": self.failures,
                "last_remaining": self.last_remaining,
                "max_in_flight": self.max_in_flight,
            }
        report["budget"] = self.budget.usage()
        report["breaker_trips"] = self.breaker.trips
        return report


def _header_number(headers, name):
    value = headers.get(name) if headers is not None else None
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def retry_after_ms(headers):
    """Seconds from ``X-Lognex-Retry-After`` (milliseconds), None when absent or garbled."""
    value = _header_number(headers, "X-Lognex-Retry-After")
    if value is None or value < 0:
        return None
    return value / 1000.0
