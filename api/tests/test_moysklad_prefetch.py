"""MoySklad pages prefetched in a thread: one page ahead (never more), the same errors in the
caller's thread, and a stop that ends the thread and sends nothing more."""

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from moysklad_client_helpers import (
    BASE,
    PASTED,
    FakeTime,
    api_calls,
    error_body,
    list_answer,
    make_client,
    product_row,
    query_of,
)

from api.moysklad_errors import MoySkladAuthError, MoySkladUnavailable

ASSORTMENT_URL = f"{BASE}/entity/assortment"
IDS = [f"35427052-36e7-11e7-8a7f-40d0000001{i:02d}" for i in range(6)]


@pytest.fixture
def fake():
    return FakeTime()


def pages_of(mocked, pages=3, failing=None, status=500, body=None):
    """Pages of 2 products by offset; page ``failing`` (0-based) answers ``status``."""

    def answer(request):
        offset = int(parse_qs(urlsplit(request.url).query).get("offset", ["0"])[0])
        if offset // 2 == failing:
            return status, {}, json.dumps(body or error_body(1000))
        rows = [product_row(IDS[offset + i], name=f"p{offset + i}") for i in range(2)]
        return 200, {}, json.dumps(
            list_answer(rows, href="entity/assortment", size=2 * pages, limit=2, offset=offset))

    mocked.add_callback(responses.GET, ASSORTMENT_URL, callback=answer)


def wait_for(condition, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_next_page_fetched_while_the_caller_works_one_ahead_only(fake, mocked):
    pages_of(mocked)
    client = make_client(fake)
    with client.prefetch(client.iter_assortment(limit=2)) as pages:
        first = next(pages)
        assert [item.name for item in first.items] == ["p0", "p1"]
        # The caller still holds page 1: page 2 is fetched meanwhile, page 3 is not.
        assert wait_for(lambda: len(api_calls(mocked)) == 2)
        time.sleep(0.2)
        assert len(api_calls(mocked)) == 2
        assert [query_of(call).get("offset") for call in api_calls(mocked)] == [None, "2"]
        rest = list(pages)
    assert [item.name for page in rest for item in page.items] == ["p2", "p3", "p4", "p5"]
    assert len(api_calls(mocked)) == 3  # as many requests as pages: nothing asked past the end
    assert not pages.alive


def test_error_in_the_thread_is_raised_in_the_caller_as_without_prefetch(fake, mocked):
    pages_of(mocked, failing=1)
    plain = make_client(fake, max_retries=0)
    with pytest.raises(MoySkladUnavailable) as without:
        list(plain.iter_assortment(limit=2))

    client = make_client(FakeTime(), max_retries=0)
    seen = []
    with pytest.raises(MoySkladUnavailable) as caught:
        with client.prefetch(client.iter_assortment(limit=2)) as pages:
            for page in pages:
                seen.append(page.offset)
    assert seen == [0]  # the page before the error was handed over first
    assert type(caught.value) is type(without.value)
    assert caught.value.message == without.value.message
    assert caught.value.status == 500
    assert not pages.alive


def test_run_level_error_keeps_its_class_and_words(fake, mocked):
    pages_of(mocked, failing=0, status=401, body=error_body(1056, "Ошибка аутентификации"))
    client = make_client(fake, login="", password="", token=PASTED)
    with pytest.raises(MoySkladAuthError) as caught:
        with client.prefetch(client.iter_assortment(limit=2)) as pages:
            list(pages)
    assert caught.value.run_level is True
    assert "paste a new token" in caught.value.message


def test_stop_ends_the_thread_and_sends_nothing_more(fake, mocked):
    pages_of(mocked, pages=3)
    client = make_client(fake)
    with pytest.raises(RuntimeError):
        with client.prefetch(client.iter_assortment(limit=2)) as pages:
            next(pages)
            assert wait_for(lambda: len(api_calls(mocked)) == 2)
            raise RuntimeError("the caller failed (a lock lost, an ORM error)")
    assert not pages.alive
    time.sleep(0.2)
    assert len(api_calls(mocked)) == 2  # page 3 was never asked
    assert list(pages) == []


def test_stop_during_a_wait_for_the_budget_ends_it_at_once(fake, mocked):
    pages_of(mocked, pages=3)
    client = make_client(fake)
    client._plain_sleep = time.sleep  # a real wait (the fake clock stands still meanwhile)
    threads_before = threading.active_count()
    pages = client.prefetch(client.iter_assortment(limit=2))
    assert wait_for(lambda: len(api_calls(mocked)) == 1)
    client.limiter.budget.block(30)  # MoySklad said: wait 30 s
    next(pages)  # page 1 taken: the thread now waits 30 s for the budget before page 2
    time.sleep(0.2)
    started = time.monotonic()
    pages.close()

    assert time.monotonic() - started < 2
    assert not pages.alive
    assert threading.active_count() <= threads_before
    time.sleep(0.2)
    assert len(api_calls(mocked)) == 1  # page 2 never left
    # The client itself still works in the caller's thread.
    client.limiter.budget.blocked_until = None
    assert client.get_json("entity/assortment", {"limit": 2})["rows"]
