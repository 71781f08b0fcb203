"""MoySklad limits: request weights by token kind and date, heavy stock reports, the 45-units
budget and its waits, X-RateLimit-Remaining slow-down, X-Lognex-Retry-After, 5 parallel
requests, and the circuit breaker."""

import json
import threading
import time
from datetime import date, datetime

import pytest
import responses
from moysklad_client_helpers import (
    BASE,
    PRODUCT_ID,
    FakeTime,
    api_calls,
    error_body,
    make_client,
    product_row,
)

from api.errors import RateLimited
from api.moysklad_errors import CircuitOpen, MoySkladNotFound, MoySkladUnavailable
from api.moysklad_limits import (
    CircuitBreaker,
    MoySkladLimiter,
    account_key,
    default_weight,
    is_heavy_report,
    moscow_date,
    user_request_weight,
)

PRODUCT_URL = f"{BASE}/entity/product/{PRODUCT_ID}"
STOCK_URL = f"{BASE}/report/stock/bystore/current"


@pytest.fixture
def fake():
    return FakeTime()


def test_user_weight_follows_the_documented_schedule():
    assert user_request_weight(date(2026, 5, 11)) == 1
    assert user_request_weight(date(2026, 5, 12)) == 2
    assert user_request_weight(date(2026, 8, 31)) == 2
    assert user_request_weight(date(2026, 9, 1)) == 3
    assert user_request_weight(date(2026, 12, 1)) == 4
    assert default_weight("application", date(2026, 12, 1)) == 1
    with pytest.raises(ValueError):
        default_weight("robot")


def test_heavy_report_paths():
    assert is_heavy_report("report/stock/bystore/current")
    assert is_heavy_report("report/stock/all")
    assert is_heavy_report("/report/stock/all/current/")
    assert not is_heavy_report("report/stock/byslot/current")
    assert not is_heavy_report("report/stock/allx")
    assert not is_heavy_report("entity/product")


def test_units_counted_per_request_with_weights(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    mocked.add(responses.GET, STOCK_URL, json=[])
    client = make_client(fake)  # a user's token on 2026-11-28: weight 3
    assert client.limiter.request_weight == 3

    client.get_product(PRODUCT_ID)
    client.stock(by_store=True)

    usage = client.usage()
    assert usage["requests"] == 2
    assert usage["units"] == 3 + 5
    assert usage["budget"][0]["used"] == 8
    assert usage["per_endpoint"] == {"entity/product": 1, "report/stock/bystore/current": 1}


def test_application_token_and_configured_weight(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    app = make_client(fake, login="", password="", token="app-token-123", token_kind="application")
    app.get_product(PRODUCT_ID)
    assert app.usage()["units"] == 1
    custom = make_client(fake, request_weight=4)
    custom.get_product(PRODUCT_ID)
    assert custom.usage()["units"] == 4


def test_budget_waits_when_45_units_are_spent(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    client = make_client(fake, request_weight=3)

    for _ in range(15):  # 45 units: no wait
        client.get_product(PRODUCT_ID)
    assert fake.sleeps == []
    client.get_product(PRODUCT_ID)  # the 16th waits until the first units leave the window

    assert len(fake.sleeps) == 1
    # 3 s, + 0.2 s for MoySklad stamping requests on arrival, + at most one 0.05 s bucket
    assert 3.2 <= fake.sleeps[0] <= 3.25
    usage = client.usage()
    assert usage["units"] == 48
    assert usage["waited_seconds"] == pytest.approx(fake.sleeps[0])


def test_heavy_reports_fit_nine_per_window(fake, mocked):
    mocked.add(responses.GET, STOCK_URL, json=[])
    client = make_client(fake)
    for _ in range(9):
        client.stock()
    assert fake.sleeps == []
    client.stock()
    assert len(fake.sleeps) == 1


def test_too_long_wait_raises_instead_of_sleeping(fake):
    limiter = MoySkladLimiter(request_weight=1, clock=fake.clock, sleep=fake.sleep, max_wait=5)
    limiter.budget.block(120)
    with pytest.raises(RateLimited) as caught:
        limiter.before("entity/product")
    assert caught.value.retry_after == 120
    assert fake.sleeps == []


def test_low_remaining_header_slows_down(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row(),
               headers={"X-RateLimit-Remaining": "2", "X-Lognex-Reset": "1200",
                        "X-RateLimit-Limit": "45", "X-Lognex-Retry-TimeInterval": "3000"})  # fmt: skip
    client = make_client(fake)

    client.get_product(PRODUCT_ID)
    assert fake.sleeps == []
    client.get_product(PRODUCT_ID)

    # 4 units short of the 5 kept in reserve: 4 x (3000 ms / 45) = 0.267 s (< the 1.2 s reset)
    assert fake.sleeps == [pytest.approx(4 * 3 / 45)]
    assert client.usage()["last_remaining"] == 2


def test_low_remaining_pause_capped_by_reset(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row(),
               headers={"X-RateLimit-Remaining": "0", "X-Lognex-Reset": "100"})  # fmt: skip
    client = make_client(fake)
    client.get_product(PRODUCT_ID)
    client.get_product(PRODUCT_ID)
    assert fake.sleeps == [pytest.approx(0.1)]


def test_plenty_remaining_does_not_slow_down(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row(),
               headers={"X-RateLimit-Remaining": "40", "X-Lognex-Reset": "1200"})  # fmt: skip
    client = make_client(fake)
    client.get_product(PRODUCT_ID)
    client.get_product(PRODUCT_ID)
    assert fake.sleeps == []


def test_429_retry_after_in_ms_is_obeyed_by_every_sender(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=429, json=error_body(1049),
               headers={"X-Lognex-Retry-After": "2500"})  # fmt: skip
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    client = make_client(fake)

    client.get_product(PRODUCT_ID)

    assert fake.sleeps[0] == pytest.approx(2.5)
    assert len(api_calls(mocked, PRODUCT_ID)) == 2
    # The budget was blocked for 2.5 s: the retry found it free again after the sleep.
    assert client.limiter.budget.wait_time(1) == 0


def test_at_most_five_requests_in_flight(mocked):
    gate = threading.Event()
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow(request):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        gate.wait(2)
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return 200, {}, json.dumps(product_row())

    mocked.add_callback(responses.GET, PRODUCT_URL, callback=slow)
    client = make_client(FakeTime(), request_weight=1)
    client.limiter.sleep = time.sleep  # real threads: real waits (none expected at 1 unit)
    threads = [threading.Thread(target=client.get_product, args=(PRODUCT_ID,)) for _ in range(12)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    gate.set()
    for thread in threads:
        thread.join(10)

    assert len(mocked.calls) == 12
    assert peak[0] == 5
    assert client.usage()["max_in_flight"] == 5


# -- circuit breaker -----------------------------------------------------------------------------
def test_breaker_trips_on_failing_requests_and_refuses_locally(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=500, json=error_body(1083))
    client = make_client(fake, max_retries=0, max_failures=5, max_identical_failures=100)

    for _ in range(5):
        with pytest.raises(MoySkladUnavailable):
            client.get_product(PRODUCT_ID)
    with pytest.raises(CircuitOpen) as caught:
        client.get_product(PRODUCT_ID)

    assert len(mocked.calls) == 5  # the 6th never left
    assert caught.value.code == "circuit_open"
    assert caught.value.run_level is True
    assert isinstance(caught.value, RateLimited)
    assert 0 < caught.value.retry_after <= 60
    assert "5 failing requests within a minute" in caught.value.message
    assert client.usage()["breaker_trips"] == 1


def test_breaker_trips_on_identical_failures(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=404, json=error_body(1021))
    client = make_client(fake, max_identical_failures=3)
    for _ in range(3):
        with pytest.raises(MoySkladNotFound):
            client.get_product(PRODUCT_ID)
    with pytest.raises(CircuitOpen) as caught:
        client.get_product(PRODUCT_ID)
    assert "the same request failed 3 times" in caught.value.message
    assert len(mocked.calls) == 3


def test_breaker_trips_on_429s(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=429, json=error_body(1049),
               headers={"X-Lognex-Retry-After": "100"})  # fmt: skip
    client = make_client(fake, max_retries=10, max_rate_limited=4)
    with pytest.raises(CircuitOpen):
        client.get_product(PRODUCT_ID)
    assert len(mocked.calls) == 4  # the 4th 429 opened it: the 5th attempt was not sent


def test_breaker_closes_after_cooldown_and_window_slides(fake):
    breaker = CircuitBreaker(max_failures=3, max_identical_failures=10, window=60, cooldown=30,
                             clock=fake.clock)  # fmt: skip
    breaker.record_failure("a")
    breaker.record_failure("b")
    fake.advance(61)  # the two failures left the window
    breaker.record_failure("c")
    breaker.check()
    assert breaker.counts()["failures"] == 1
    breaker.record_failure("d")
    breaker.record_failure("e")
    with pytest.raises(CircuitOpen):
        breaker.check()
    fake.advance(30)
    breaker.check()  # closed again


def test_long_retry_after_is_not_slept_through(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=429, json=error_body(1049),
               headers={"X-Lognex-Retry-After": "600000"})  # fmt: skip
    client = make_client(fake)
    with pytest.raises(RateLimited) as caught:
        client.get_product(PRODUCT_ID)
    assert caught.value.retry_after == 600
    assert caught.value.service_code == 1049
    assert "wait 600 s" in caught.value.message
    assert fake.sleeps == []
    assert len(mocked.calls) == 1


# -- the weight's schedule in Moscow time, when requests leave -----------------------------------
def test_schedule_dates_are_moscow_dates():
    # 21:00 UTC on 30 November is midnight of 1 December in Moscow: weight 4 from then on.
    assert moscow_date(datetime(2026, 11, 30, 20, 59, 59)) == date(2026, 11, 30)
    assert moscow_date(datetime(2026, 11, 30, 21, 0, 0)) == date(2026, 12, 1)
    assert user_request_weight(moscow_date(datetime(2026, 11, 30, 21, 0))) == 4
    assert user_request_weight(moscow_date(datetime(2026, 5, 11, 21, 0))) == 2


def test_weight_follows_the_schedule_when_requests_leave(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    fake.current = datetime(2026, 11, 30, 20, 30)  # 23:30 in Moscow: weight 3
    client = make_client(fake)
    client.get_product(PRODUCT_ID)
    assert client.usage()["units"] == 3

    fake.current = datetime(2026, 11, 30, 21, 5)  # 00:05 on 1 December in Moscow
    client.get_product(PRODUCT_ID)

    assert client.limiter.request_weight == 4
    assert client.usage()["units"] == 3 + 4
    assert client.usage()["request_weight"] == 4
    # A configured weight stays what it is.
    fixed = make_client(fake, request_weight=2)
    fixed.get_product(PRODUCT_ID)
    assert fixed.usage()["units"] == 2


# -- one budget per account in the process --------------------------------------------------------
def test_budget_is_shared_by_the_clients_of_one_account(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    first_run = make_client(fake, request_weight=3)
    for _ in range(15):  # 45 units: the window is full
        first_run.get_product(PRODUCT_ID)
    assert fake.sleeps == []

    other_user = make_client(fake, login="other@shop", request_weight=3)
    other_user.get_product(PRODUCT_ID)
    assert fake.sleeps == [], "another account has a budget of its own"

    next_run = make_client(fake, request_weight=3)  # the same login, right after
    next_run.get_product(PRODUCT_ID)

    assert len(fake.sleeps) == 1 and 3.2 <= fake.sleeps[0] <= 3.25
    assert next_run.usage()["units"] == 3, "the log's counters stay per client (per run)"
    assert next_run.usage()["waited_seconds"] == pytest.approx(fake.sleeps[0])


def test_budget_shared_by_pasted_token_not_across_tokens(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    one = make_client(fake, login="", password="", token="token-one", request_weight=9)
    for _ in range(5):
        one.get_product(PRODUCT_ID)
    make_client(fake, login="", password="", token="token-two",
                request_weight=9).get_product(PRODUCT_ID)  # fmt: skip
    assert fake.sleeps == []
    make_client(fake, login="", password="", token="token-one",
                request_weight=9).get_product(PRODUCT_ID)  # fmt: skip
    assert len(fake.sleeps) == 1
    assert "token-one" not in repr(account_key(BASE, "", "token-one"))


def test_five_requests_in_flight_for_the_account_not_per_client(mocked):
    gate = threading.Event()
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow(request):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        gate.wait(2)
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return 200, {}, json.dumps(product_row())

    mocked.add_callback(responses.GET, PRODUCT_URL, callback=slow)
    fake = FakeTime()
    clients = [make_client(fake, request_weight=1) for _ in range(2)]
    threads = [threading.Thread(target=clients[i % 2].get_product, args=(PRODUCT_ID,))
               for i in range(10)]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    gate.set()
    for thread in threads:
        thread.join(10)

    assert len(mocked.calls) == 10
    assert peak[0] == 5
