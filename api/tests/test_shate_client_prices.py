"""ShateClient: price offers, the price budget (checked before anything is sent, charged as each
request leaves), 429s on prices."""

import json
from datetime import datetime, timedelta

import pytest
import responses
from http_helpers import NOW, json_body
from shate_client_helpers import (
    API,
    ARTICLE,
    KEY_LOGIN_URL,
    OFFER,
    PRICE_ID,
    PRICES_URL,
    calls_to,
    login_calls,
    make_client,
    offer,
    saved_session,
    token_answer,
)

from api.base import SessionState
from api.errors import AuthError, LoginBlocked, RateLimited, ServiceUnavailable
from api.rate_budget import RateBudget


@pytest.fixture
def client(fake):
    return make_client(fake, session_state=saved_session(fake), max_retries=1)


# -- prices ------------------------------------------------------------------------------------
def test_search_prices_single_article_parses_every_field(client, mocked):
    mocked.add(responses.POST, PRICES_URL, json=[OFFER])
    client.location_names = {"SHATE-01": "Центральный склад"}

    result = client.search_prices([1248288], agreement_code="SAGR1", delivery_address_code="Д1")

    assert json_body(mocked.calls[0]) == [{"articleId": 1248288, "agreementCode": "SAGR1",
                                           "deliveryAddressCode": "Д1", "includeAnalogs": False}]  # fmt: skip
    (found,) = result[1248288]
    assert found.price_id == PRICE_ID
    assert (found.article_id, found.requested_article_id, found.is_analog) == (
        1248288, 1248288, False)  # fmt: skip
    assert (found.location_code, found.location_code_real, found.location_name) == (
        "SHATE-01", "SHATE-01", "Центральный склад")  # fmt: skip
    assert (found.agreement_code, found.offer_type) == ("SAGR1", "Internal")
    assert (found.price, found.price_with_margin, found.price_recommended) == (8.5, 8.5, None)
    assert (found.currency_code, found.price_max, found.import_allowance) == ("USD", 12.32, 15.0)
    assert (found.quantity, found.quantity_type, found.multiplicity) == (5.0, "Equal", 1.0)
    assert (found.min_quantity, found.max_quantity) == (1.0, None)
    assert found.supply_probability == 99.0
    assert found.supply_probability_updated_at == datetime(2022, 12, 19, 9, 22, 8, 260000)
    assert (found.city, found.is_sale, found.comment) == ("Минск", True, "Царапины справа")
    assert found.return_allowed is True
    assert found.warning_text.startswith("Возврат запрещен")
    assert (found.priority, found.hash) == (1, "123456789")
    assert found.delivery_dates == {"Д1": datetime(2025, 3, 3, 9, 22, 8, 260000)}
    assert found.delivery_date == datetime(2025, 3, 3, 9, 22, 8, 260000)
    assert found.shipping_date == datetime(2025, 3, 2, 9, 22, 8, 260000)
    assert found.delivery_days == 2  # 1 day 21 h from NOW, rounded up
    assert (found.is_import, found.is_free) == (True, True)


def test_search_prices_several_articles_per_request(fake, mocked):
    client = make_client(fake, session_state=saved_session(fake), price_batch_size=2,
                         agreement_code="SAGR1", delivery_address_code="Д1")  # fmt: skip

    def answer(request):
        asked = [key["articleId"] for key in json.loads(request.body)]
        rows = [offer(a, price_id=f"P{a}-{n}") for a in asked if a != 3 for n in range(2)]
        return 200, {}, json.dumps(rows)

    mocked.add_callback(responses.POST, PRICES_URL, callback=answer)

    result = client.search_prices([1, "2", 3])

    assert [[key["articleId"] for key in json_body(call)] for call in mocked.calls] == [[1, 2], [3]]
    assert json_body(mocked.calls[0])[0]["agreementCode"] == "SAGR1"  # the client's defaults
    assert json_body(mocked.calls[0])[0]["deliveryAddressCode"] == "Д1"
    assert [o.price_id for o in result[1]] == ["P1-0", "P1-1"]
    assert [o.price_id for o in result["2"]] == ["P2-0", "P2-1"]  # keyed as the caller gave it
    assert result[3] == []
    assert not any(o.is_analog for offers in result.values() for o in offers)


def test_search_prices_accepts_grouped_answers(client, mocked):
    mocked.add(responses.POST, PRICES_URL, json=[{"article": ARTICLE, "prices": [OFFER, OFFER]}])
    assert len(client.search_prices([1248288])[1248288]) == 2


def test_search_prices_with_analogs_one_article_per_request(client, mocked):
    mocked.add(responses.POST, PRICES_URL, json=[offer(), offer(article_id=77, price_id="A")])

    result = client.search_prices([1248288, 1248289], include_analogs=True)

    assert [len(json_body(call)) for call in mocked.calls] == [1, 1]
    assert json_body(mocked.calls[0])[0]["includeAnalogs"] is True
    offers = result[1248288]
    assert [(o.price_id, o.is_analog, o.requested_article_id) for o in offers] == [
        (PRICE_ID, False, 1248288), ("A", True, 1248288)]  # fmt: skip


def test_search_prices_object_shape(fake, mocked):
    client = make_client(fake, session_state=saved_session(fake), price_request_shape="object")
    mocked.add(responses.POST, PRICES_URL, json=[OFFER])
    client.search_prices([1248288, 5])
    assert [json_body(call) for call in mocked.calls] == [
        {"articleId": 1248288, "includeAnalogs": False}, {"articleId": 5, "includeAnalogs": False}]  # fmt: skip


def test_price_budget_exhausted_raises_without_a_request(fake, mocked):
    budget = RateBudget([(3, 900), (100, 86400)], clock=fake.epoch)
    client = make_client(fake, session_state=saved_session(fake), price_budget=budget,
                         price_batch_size=2)  # fmt: skip
    mocked.add(responses.POST, PRICES_URL, json=[])

    client.search_prices([1, 2])  # one request, two articles: two units
    assert budget.used(900) == 2
    with pytest.raises(RateLimited) as refused:
        client.search_prices([3, 4])
    assert len(mocked.calls) == 1
    assert 0 < refused.value.retry_after <= 900 + 60

    # The state survives the run (Odoo stores it) and still refuses in the next one.
    saved = json.loads(json.dumps(budget.to_dict()))
    restored = RateBudget([(3, 900), (100, 86400)], clock=fake.epoch, state=saved)
    next_run = make_client(fake, session_state=saved_session(fake), price_budget=restored,
                           price_batch_size=2)  # fmt: skip
    with pytest.raises(RateLimited):
        next_run.search_prices([3, 4])
    assert len(mocked.calls) == 1
    next_run.search_prices([3])
    assert len(mocked.calls) == 2
    assert restored.remaining(900) == 0


def test_price_budget_per_request_unit(fake, mocked):
    budget = RateBudget([(10, 900)], clock=fake.epoch)
    client = make_client(fake, session_state=saved_session(fake), price_budget=budget,
                         price_budget_unit="request")  # fmt: skip
    mocked.add(responses.POST, PRICES_URL, json=[])
    client.search_prices([1, 2, 3])
    assert budget.used(900) == 1


def price_budget_client(fake, **options):
    budget = RateBudget([(10, 900), (100, 86400)], clock=fake.epoch)
    return budget, make_client(fake, price_budget=budget, max_retries=1, **options)


def test_blocked_login_spends_no_price_units(fake, mocked):
    blocked = SessionState(login_blocked_until=NOW + timedelta(minutes=10))
    budget, client = price_budget_client(fake, session_state=blocked)
    with pytest.raises(LoginBlocked):
        client.search_prices([1, 2])
    assert len(mocked.calls) == 0
    assert [u["used"] for u in budget.usage()] == [0, 0]


@pytest.mark.parametrize(("status", "error"), [(401, AuthError), (400, AuthError),
                                               (503, ServiceUnavailable)])  # fmt: skip
def test_failed_login_spends_no_price_units(fake, mocked, status, error):
    mocked.add(responses.POST, KEY_LOGIN_URL, status=status)
    mocked.add(responses.POST, PRICES_URL, json=[])
    budget, client = price_budget_client(fake)
    with pytest.raises(error):
        client.search_prices([1, 2])
    assert calls_to(mocked, PRICES_URL) == [] and len(login_calls(mocked)) >= 1
    assert [u["used"] for u in budget.usage()] == [0, 0]


def test_price_units_are_taken_when_the_request_leaves(fake, mocked):
    mocked.add(responses.POST, KEY_LOGIN_URL, json=token_answer())
    mocked.add(responses.POST, PRICES_URL, json=[])
    budget, client = price_budget_client(fake)
    client.search_prices([1, 2, 3])
    assert [call.request.url for call in mocked.calls] == [KEY_LOGIN_URL, PRICES_URL]
    assert [u["used"] for u in budget.usage()] == [3, 3]


def test_used_up_budget_sends_not_even_a_login(fake, mocked):
    budget, client = price_budget_client(fake)
    budget.acquire(9)
    with pytest.raises(RateLimited):
        client.search_prices([1, 2])
    assert len(mocked.calls) == 0
    assert budget.used(900) == 9 and budget.blocked_until is None


def test_each_price_request_sent_is_charged_and_a_refused_retry_is_not(fake, mocked):
    """A retry leaves again and is charged again; one the budget refuses never leaves (and does
    not block the budget as a 429 of the service would)."""
    budget, client = price_budget_client(fake, session_state=saved_session(fake))
    mocked.add(responses.POST, PRICES_URL, status=503)
    mocked.add(responses.POST, PRICES_URL, json=[])
    client.search_prices([1, 2, 3])
    assert len(mocked.calls) == 2 and budget.used(900) == 6
    mocked.replace(responses.POST, PRICES_URL, status=503)
    with pytest.raises(RateLimited):
        client.search_prices([4, 5, 6])  # sent once (3 units: 9), the retry would need 12
    assert len(mocked.calls) == 3 and budget.used(900) == 9
    assert budget.blocked_until is None


def test_price_429_lasts_until_the_services_midnight(fake, mocked):
    budget = RateBudget(clock=fake.epoch)
    client = make_client(fake, session_state=saved_session(fake), price_budget=budget)
    mocked.add(responses.POST, PRICES_URL, status=429)

    with pytest.raises(RateLimited) as limited:
        client.search_prices([1])

    assert limited.value.retry_after == 9 * 3600  # 15:00 in Moscow → midnight
    assert fake.sleeps == []
    assert len(mocked.calls) == 1
    with pytest.raises(RateLimited):  # the next run does not even try
        client.search_prices([1])
    assert len(mocked.calls) == 1


def test_429_with_long_retry_after_raises_at_once(client, fake, mocked):
    mocked.add(responses.GET, f"{API}/locations", status=429, headers={"Retry-After": "900"})
    with pytest.raises(RateLimited) as limited:
        client.get_locations()
    assert limited.value.retry_after == 900
    assert fake.sleeps == []
    assert len(mocked.calls) == 1


def test_429_with_short_retry_after_is_waited_for(client, fake, mocked):
    mocked.add(responses.POST, PRICES_URL, status=429, headers={"Retry-After": "7"})
    mocked.add(responses.POST, PRICES_URL, json=[OFFER])
    assert len(client.search_prices([1248288])[1248288]) == 1
    assert fake.sleeps == [7.0]
