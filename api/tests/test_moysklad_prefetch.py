"""MoySklad pages fetched ahead in threads (``prefetch_assortment``): handed in page order, the
same errors in the caller's thread, and a stop that ends the threads and sends nothing more."""

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
    error_body,
    list_answer,
    make_client,
    product_row,
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


def test_error_in_the_thread_is_raised_in_the_caller_as_without_prefetch(fake, mocked):
    pages_of(mocked, failing=1)
    plain = make_client(fake, max_retries=0)
    with pytest.raises(MoySkladUnavailable) as without:
        list(plain.iter_assortment(limit=2))

    client = make_client(FakeTime(), max_retries=0)
    seen = []
    with pytest.raises(MoySkladUnavailable) as caught:
        with client.prefetch_assortment(limit=2) as pages:
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
        with client.prefetch_assortment(limit=2) as pages:
            list(pages)
    assert caught.value.run_level is True
    assert "paste a new token" in caught.value.message


# -- several pages ahead (PagesAhead, ``prefetch_assortment``) -----------------------------------
MANY_IDS = [f"35427052-36e7-11e7-8a7f-40d000{i:06d}" for i in range(40)]


class Gates:
    """Answers of an offset list of 2 rows a page held until the test opens their gate; the
    offsets asked, in order, and how many requests were under way at most."""

    def __init__(self, mocked, pages, *, failing=None, status=500, size=None, with_size=True,
                 held=(), short=None):  # fmt: skip
        self.pages = pages
        self.size = 2 * pages if size is None else size
        self.failing = failing
        self.status = status
        self.with_size = with_size
        self.gates = {page: threading.Event() for page in held}
        self.short = short or {}  # offset -> rows answered there (fewer than the limit)
        self.asked = []
        self.offsets = []
        self.in_flight = 0
        self.most = 0
        self.lock = threading.Lock()
        mocked.add_callback(responses.GET, ASSORTMENT_URL, callback=self.answer)

    def answer(self, request):
        offset = int(parse_qs(urlsplit(request.url).query).get("offset", ["0"])[0])
        page = offset // 2
        with self.lock:
            self.asked.append(page)
            self.offsets.append(offset)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            gate = self.gates.get(page)
            if gate is not None:
                assert gate.wait(5), f"page {page} was never let through"
            if page == self.failing:
                return self.status, {}, json.dumps(error_body(1000))
            rows = [product_row(MANY_IDS[offset + i], name=f"p{offset + i}")
                    for i in range(self.short.get(offset, 2)) if offset + i < self.size]  # fmt: skip
            body = list_answer(rows, href="entity/assortment", size=self.size, limit=2,
                               offset=offset)  # fmt: skip
            if not self.with_size:
                del body["meta"]["size"]
                if offset + 2 < self.size:
                    body["meta"]["nextHref"] = f"{ASSORTMENT_URL}?limit=2&offset={offset + 2}"
            return 200, {}, json.dumps(body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def open(self, page):
        self.gates[page].set()


def names(pages):
    return [item.name for page in pages for item in page.items]


def test_pages_ahead_handed_in_order_whatever_order_they_arrive(fake, mocked):
    # Page 1 is held until pages 2 and 3 have arrived: the caller still gets 0, 1, 2, 3, 4.
    gates = Gates(mocked, pages=5, held=(1,))
    client = make_client(fake)
    with client.prefetch_assortment(limit=2, ahead=3) as pages:
        first = next(pages)
        assert [item.name for item in first.items] == ["p0", "p1"]
        # Pages 2 and 3 answered while page 1 is still under way.
        assert wait_for(lambda: {2, 3} <= set(gates.asked) and gates.in_flight == 1)
        gates.open(1)
        rest = list(pages)
    assert [page.offset for page in rest] == [2, 4, 6, 8]
    assert names([first, *rest]) == [f"p{i}" for i in range(10)]
    assert sorted(gates.asked) == [0, 1, 2, 3, 4]  # one request a page, none past the end
    assert not pages.alive


def test_pages_ahead_at_most_ahead_pages_wait_for_the_caller(fake, mocked):
    gates = Gates(mocked, pages=8)
    client = make_client(fake)
    with client.prefetch_assortment(limit=2, ahead=2) as pages:
        next(pages)
        # The caller holds page 0: pages 1 and 2 are fetched, page 3 is not.
        assert wait_for(lambda: len(gates.asked) == 3)
        time.sleep(0.2)
        assert sorted(gates.asked) == [0, 1, 2]
        next(pages)
        assert wait_for(lambda: len(gates.asked) == 4)
        time.sleep(0.1)
        assert sorted(gates.asked) == [0, 1, 2, 3]
        rest = list(pages)
    assert [page.offset for page in rest] == [4, 6, 8, 10, 12, 14]
    assert len(gates.asked) == 8


def test_pages_ahead_error_of_a_later_page_surfaces_in_its_turn(fake, mocked):
    # Page 2 fails (500, no retry) while page 1 is still under way: the caller gets pages 0
    # and 1, then the very error the sequential list raises; nothing after it is asked once
    # the error is known, and the threads end.
    Gates(mocked, pages=6, failing=2)
    plain = make_client(FakeTime(), max_retries=0)
    with pytest.raises(MoySkladUnavailable) as without:
        list(plain.iter_assortment(limit=2))
    mocked.reset()
    gates = Gates(mocked, pages=6, failing=2, held=(1,))
    client = make_client(fake, max_retries=0)
    seen = []
    with pytest.raises(MoySkladUnavailable) as caught:
        with client.prefetch_assortment(limit=2, ahead=3) as pages:
            seen.append(next(pages).offset)
            # Page 2 failed while page 1 is held: the error waits for its turn.
            assert wait_for(lambda: 2 in gates.asked and gates.in_flight == 1)
            time.sleep(0.1)
            gates.open(1)
            seen.append(next(pages).offset)
            next(pages)
    assert seen == [0, 2]
    assert type(caught.value) is type(without.value)
    assert caught.value.message == without.value.message
    assert caught.value.status == 500
    time.sleep(0.2)
    assert max(gates.asked) <= 3  # page 3 was under way with page 2; page 4 never asked
    assert not pages.alive


def test_pages_ahead_stop_cancels_outstanding_requests_and_waits(fake, mocked):
    gates = Gates(mocked, pages=10)
    client = make_client(fake)
    client._plain_sleep = time.sleep  # real waits (the fake clock stands still meanwhile)
    threads_before = threading.active_count()
    pages = client.prefetch_assortment(limit=2, ahead=3)
    first = next(pages)
    assert first.offset == 0
    assert wait_for(lambda: len(gates.asked) == 4)  # pages 1-3 fetched while the caller works
    client.limiter.budget.block(30)  # MoySklad said: wait 30 s; the next page would wait
    next(pages)  # page 1 taken: a thread now waits 30 s for the budget before page 4
    time.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        with pages:
            raise RuntimeError("the caller failed (a lock lost, an ORM error)")
    assert time.monotonic() - started < 2  # the wait for the budget ended at once
    assert not pages.alive
    assert threading.active_count() <= threads_before
    time.sleep(0.2)
    assert sorted(gates.asked) == [0, 1, 2, 3]  # page 4 never left
    assert list(pages) == []


def test_pages_ahead_without_size_follow_the_chain_one_by_one(fake, mocked):
    # No meta.size: the next page is known only from the one before it (nextHref).
    gates = Gates(mocked, pages=4, with_size=False)
    client = make_client(fake)
    with client.prefetch_assortment(limit=2, ahead=3) as pages:
        collected = list(pages)
    assert [page.offset for page in collected] == [0, 2, 4, 6]
    assert gates.asked == [0, 1, 2, 3]
    assert gates.most == 1


def test_pages_ahead_list_shrinking_mid_pull_ends_on_the_empty_page(fake, mocked):
    # The first page says 8 rows; the list then has 5 (rows deleted meanwhile): the page that
    # reaches the new size ends the list, as in the sequential list; the page asked past it is
    # dropped.
    gates = Gates(mocked, pages=4, held=(1, 2, 3))
    client = make_client(fake)
    pages = client.prefetch_assortment(limit=2, ahead=3)
    with pages:
        collected = [next(pages)]
        gates.size = 5
        for page in (1, 2, 3):
            gates.open(page)
        collected += list(pages)
    assert names(collected) == ["p0", "p1", "p2", "p3", "p4"]
    assert [page.rows_count for page in collected] == [2, 2, 1]
    # Page 3 (empty now) may have left before the end was known: its answer is dropped.
    assert sorted(gates.asked) in ([0, 1, 2], [0, 1, 2, 3])
    assert not pages.alive


def test_pages_ahead_page_cut_short_restarts_the_offsets_after_its_rows(fake, mocked):
    # The page at offset 2 has one row although more follow: the sequential list asks offset 3
    # next, so do the pages ahead (the pages planned after it by the stride are dropped).
    gates = Gates(mocked, pages=4, size=7, short={2: 1})
    plain = make_client(FakeTime())
    sequential = list(plain.iter_assortment(limit=2))
    sequential_offsets = list(gates.offsets)
    gates.offsets.clear()
    client = make_client(fake)
    with client.prefetch_assortment(limit=2, ahead=3) as pages:
        collected = list(pages)
    assert names(collected) == names(sequential) == [f"p{i}" for i in range(7)]
    assert [page.offset for page in collected] == [0, 2, 3, 5] == sequential_offsets
    # Offsets 4 and 6 (by the stride) may have left before page 2 came back: never handed.
    assert set(gates.offsets) <= {0, 2, 3, 4, 5, 6}
    assert not pages.alive
