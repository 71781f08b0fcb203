"""ShateClient against the Shate-M Plus emulator: what the client sends is what the emulator
takes (brand-less codes, fio/phone on cash agreements, price units counted alike)."""

import pytest

from api.errors import AuthError, RateLimited
from api.rate_budget import RateBudget
from api.shate import ShateClient
from emulators.shate import ShateEmulator
from emulators.shate_demo import DEMO_AMBIGUOUS_CODE, DEMO_API_KEY, DEMO_UNKNOWN_KEY

W712 = 1248201  # MANN-FILTER W 712/75, in stock at SHATE-01
CONTACT = {"fio": "Иванов Иван Иванович", "phone": "+375 29 123 45 67"}


@pytest.fixture
def emu():
    with ShateEmulator() as emulator:
        yield emulator


def make_client(emu, **options):
    values = {"api_key": DEMO_API_KEY, "base_url": emu.base_url, "timeout": 5, "max_retries": 0}
    return ShateClient(**{**values, **options})


def test_brandless_codes_go_to_the_get_search_never_to_the_post(emu):
    client = make_client(emu)
    keys = [("W 712/75", "MANN-FILTER"), (DEMO_AMBIGUOUS_CODE, ""), DEMO_UNKNOWN_KEY,
            ("oc-105", None), ("0986452041", "")]  # fmt: skip

    found = client.search_articles(keys)

    posts = emu.requests_for("articles_search_keys")
    assert [request.json()["keys"] for request in posts] == [[
        {"articleCode": "W 712/75", "tradeMarkName": "MANN-FILTER"},
        {"articleCode": DEMO_UNKNOWN_KEY[0], "tradeMarkName": DEMO_UNKNOWN_KEY[1]}]]  # fmt: skip
    gets = emu.requests_for("articles_search")
    assert [request.query_items() for request in gets] == [
        [("searchString", DEMO_AMBIGUOUS_CODE)], [("searchString", "0986452041")]]  # fmt: skip
    assert [a.id for a in found[keys[0]]] == [W712]
    # One code, two brands: both come back; the caller reports the ambiguity.
    assert sorted(a.trade_mark_name for a in found[keys[1]]) == ["KNECHT", "MAHLE"]
    assert found[keys[3]] == found[keys[1]]
    assert found[DEMO_UNKNOWN_KEY] == []
    assert [(a.code, a.trade_mark_name) for a in found[keys[4]]] == [("0 986 452 041", "BOSCH")]


def test_cash_agreement_orders_need_the_contact(emu):
    client = make_client(emu)
    (agreement,) = [a for a in client.get_agreements() if a.code == "SAGR2"]
    assert (agreement.group, agreement.needs_contact) == ("НАЛ", True)
    offer = next(o for o in client.search_prices([W712], agreement_code="SAGR2")[W712]
                 if o.location_code == "SHATE-01")  # fmt: skip
    order = {"agreement_code": "SAGR2", "lines": [(offer.price_id, 1)],
             "agree_with_terms_of_delivery": True, "agree_with_personal_data_policy": True}  # fmt: skip

    refused = client.order_by_price_items(**order)
    placed = client.order_by_price_items(**order, **CONTACT)

    assert refused.created is False and refused.status == 400
    assert any("fio и phone" in error for error in refused.errors)
    assert placed.created is True
    first, second = (r.json() for r in emu.requests_for("order_by_price_items"))
    assert "fio" not in first and "deliveryInfo" not in first  # SAGR2 is pickup only
    assert (second["fio"], second["phone"]) == (CONTACT["fio"], CONTACT["phone"])
    assert len(emu.placed_orders()) == 1


def test_price_units_counted_by_the_client_as_by_the_service(emu):
    budget = RateBudget([(5, 900), (100, 86400)])
    wrong = make_client(emu, api_key="{00000000-0000-0000-0000-000000000000}",
                        price_budget=budget)  # fmt: skip
    with pytest.raises(AuthError):
        wrong.search_prices([W712, 1248202])
    assert budget.used(900) == 0 and emu.price_requests_used() == {"15min": 0, "day": 0}

    client = make_client(emu, price_budget=budget)
    client.search_prices([W712, 1248202, 1248203])
    assert budget.used(900) == emu.price_requests_used()["15min"] == 3
    with pytest.raises(RateLimited):
        client.search_prices([W712, 1248202, 1248203])
    assert budget.used(900) == emu.price_requests_used()["15min"] == 3
    assert len(emu.requests_for("prices")) == 1
