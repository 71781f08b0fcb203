"""RateBudget: sliding windows in minute buckets, local refusals with retry_after, persistence."""

import json

import pytest

from api.errors import RateLimited
from api.rate_budget import BELARUS_PRICE_WINDOWS, SHATE_PRICE_WINDOWS, RateBudget

START = 1_740_830_400.0  # 2025-03-01 12:00:00 UTC, on a minute boundary


class Clock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def test_defaults_are_the_documented_limits(clock):
    budget = RateBudget(clock=clock)
    assert budget.windows == ((2000, 900.0), (120_000, 86400.0))
    assert SHATE_PRICE_WINDOWS == ((2000, 900), (120_000, 86400))
    assert BELARUS_PRICE_WINDOWS == ((1200, 900), (40_000, 86400))
    assert budget.remaining() == 2000
    assert [(u["label"], u["limit"], u["used"]) for u in budget.usage()] == [
        ("15min", 2000, 0),
        ("day", 120_000, 0),
    ]


def test_usage_labels_are_stable_keys(clock):
    """The labels are keys the caller words and translates, whatever the language."""
    budget = RateBudget([(5, 900), (10, 3600), (50, 86400), (3, 90)], clock=clock)
    budget.acquire(2)
    assert [(u["label"], u["seconds"], u["used"], u["remaining"]) for u in budget.usage()] == [
        ("90s", 90.0, 2, 1),
        ("15min", 900.0, 2, 3),
        ("3600s", 3600.0, 2, 8),
        ("day", 86400.0, 2, 48),
    ]


def test_check_refuses_like_acquire_but_counts_nothing(clock):
    budget = RateBudget([(3, 900)], clock=clock)
    budget.check(3)
    assert budget.used(900) == 0
    budget.acquire(2)
    budget.check(1)
    with pytest.raises(RateLimited) as refused:
        budget.check(2)
    assert refused.value.retry_after == 960
    assert budget.used(900) == 2
    budget.block(30)
    with pytest.raises(RateLimited):
        budget.check(0)
    assert budget.used(900) == 2


def test_acquire_until_the_window_is_full(clock):
    budget = RateBudget([(5, 900)], clock=clock)
    for _ in range(5):
        budget.acquire()
        clock.advance(10)
    assert budget.used(900) == 5
    assert budget.remaining() == 0

    with pytest.raises(RateLimited) as refused:
        budget.acquire()
    # The first request's bucket [START, START+60) leaves the 15-minute window at START+960.
    assert refused.value.retry_after == 960 - 50
    assert refused.value.code == "rate_limited"
    assert "5 price requests per 15 min" in str(refused.value)
    assert budget.used(900) == 5  # a refusal counts nothing


def test_window_slides_bucket_by_bucket(clock):
    budget = RateBudget([(4, 900)], clock=clock)
    budget.acquire(2)
    clock.advance(120)
    budget.acquire(2)
    assert budget.wait_time() == pytest.approx(960 - 120)
    clock.advance(840)  # the first bucket is out, the second one still in
    assert budget.wait_time() == 0
    assert budget.used(900) == 2
    budget.acquire(2)
    with pytest.raises(RateLimited) as refused:
        budget.acquire()
    assert refused.value.retry_after == 120  # the second bucket leaves at START+1080


def test_every_window_must_have_room(clock):
    budget = RateBudget([(10, 60), (15, 3600)], clock=clock)
    budget.acquire(10)
    with pytest.raises(RateLimited):
        budget.acquire()
    clock.advance(120)
    budget.acquire(5)
    with pytest.raises(RateLimited) as refused:
        budget.acquire()
    # The hour window is full: the retry waits for the first bucket to leave it.
    assert refused.value.retry_after == 3600 + 60 - 120
    assert budget.remaining(60) == 5
    assert budget.remaining(3600) == 0
    assert budget.remaining() == 0


def test_a_cost_bigger_than_a_window_is_a_programming_error(clock):
    budget = RateBudget([(3, 900)], clock=clock)
    with pytest.raises(ValueError):
        budget.acquire(4)
    with pytest.raises(ValueError):
        RateBudget([(0, 900)])
    with pytest.raises(ValueError):
        RateBudget([])


def test_block_refuses_until_the_service_allows_again(clock):
    budget = RateBudget(clock=clock)
    budget.block(3600)
    with pytest.raises(RateLimited) as refused:
        budget.acquire()
    assert refused.value.retry_after == 3600
    clock.advance(3600)
    budget.acquire()
    assert budget.blocked_until is None


def test_state_round_trip_through_json(clock):
    budget = RateBudget(clock=clock)
    for _ in range(30):
        budget.acquire(10)
        clock.advance(45)
    budget.block(100)

    saved = json.loads(json.dumps(budget.to_dict()))
    restored = RateBudget(clock=clock, state=saved)

    assert restored.usage() == budget.usage()
    assert restored.blocked_until == budget.blocked_until
    assert restored.wait_time() == budget.wait_time()
    assert RateBudget.from_dict(saved, clock=clock).usage() == budget.usage()


def test_a_full_day_stays_small_and_counts(clock):
    budget = RateBudget(clock=clock)
    for _ in range(24 * 60):  # 83 requests every minute: 119,520 a day, 1,245 per 15 min
        budget.acquire(83)
        clock.advance(60)
    state = budget.to_dict()
    assert len(state["buckets"]) == 24 * 60
    assert len(json.dumps(state)) < 30_000
    assert budget.used(86400) == 119_520
    assert budget.remaining(900) == 2000 - 15 * 83
    assert budget.remaining(86400) == 480
    with pytest.raises(RateLimited) as refused:
        budget.acquire(600)  # fits the 15 minutes, not the day
    # 120 over the day: the first two minute buckets (83 + 83) must leave the day window.
    assert refused.value.retry_after == 120
    budget.acquire(480)


def test_old_buckets_are_dropped(clock):
    budget = RateBudget([(10, 900)], clock=clock)
    budget.acquire(10)
    clock.advance(86400)
    assert budget.to_dict()["buckets"] == []
    budget.acquire(10)


@pytest.mark.parametrize(
    "state",
    [None, {}, "garbage", {"buckets": "x"}, {"buckets": [["a", 1], [1], None, [5, "x"]]},
     {"bucket_seconds": "x", "blocked_until": "soon"}],
)  # fmt: skip
def test_corrupt_state_is_ignored(clock, state):
    budget = RateBudget([(10, 900)], clock=clock, state=state)
    assert budget.used(900) == 0
    budget.acquire()


def test_state_with_another_bucket_size_is_rebucketed(clock):
    minute = RateBudget([(100, 900)], clock=clock)
    minute.acquire(7)
    clock.advance(60)
    minute.acquire(3)
    per_5_min = RateBudget([(100, 900)], clock=clock, bucket_seconds=300, state=minute.to_dict())
    assert per_5_min.used(900) == 10
    assert len(per_5_min.to_dict()["buckets"]) == 1
