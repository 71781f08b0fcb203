"""ShateClient: orders never re-sent, refusals kept, fio/phone for cash agreements; the cart."""

import copy
import json
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from http_helpers import json_body
from shate_client_helpers import (
    API,
    CART_ERROR,
    CART_ITEM,
    NEW_TOKEN,
    ORDER,
    ORDER_REFUSAL,
    ORDER_URL,
    PRICE_ID,
    PRICE_WARNING,
    add_login,
    calls_to,
    make_client,
    place,
    query,
    saved_session,
)

from api.errors import OutcomeUnknown, RequestRejected
from api.shate_data import price_change


@pytest.fixture
def client(fake):
    return make_client(fake, session_state=saved_session(fake), max_retries=1)


# -- orders ------------------------------------------------------------------------------------
def test_order_by_price_items_body_and_answer(client, mocked):
    created = copy.deepcopy(ORDER)
    created["orderItems"][0]["warnings"] = [PRICE_WARNING]
    mocked.add(responses.POST, ORDER_URL, json=created)

    result = place(client, delivery_date=datetime(2020, 12, 2, 22), fio="Иванов Иван Иванович",
                   phone="+375 29 123 45 67", comment="Позвонить", note="Для Васи",
                   expected_arrival=date(2020, 12, 3))  # fmt: skip

    assert json_body(mocked.calls[0]) == {
        "agreementCode": "SAGR1",
        "agreeWithTermsOfDelivery": True,
        "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
        "comment": "Позвонить",
        "note": "Для Васи",
        "fio": "Иванов Иван Иванович",
        "phone": "+375 29 123 45 67",
        "deliveryInfo": {"deliveryType": "ManyDelivery", "deliveryAddressCode": "Д1",
                         "deliveryDateTime": "2020-12-02T22:00:00"},
        "expectedDateTimeOfArrivalAllItems": "2020-12-03",
        "priceItems": [{"priceId": PRICE_ID, "quantity": 2, "comment": "Skoda Octavia"},
                       {"priceId": "P2", "quantity": 1}],
    }  # fmt: skip
    assert result.created is True and result.status == 200
    (order,) = result.orders
    assert (order.id, order.agreement_code, order.currency_code, order.total_sum) == (
        1, "SAGR1", "USD", 8.5)  # fmt: skip
    assert (order.delivery_address_code, order.comment, order.note) == ("Д1", "Comment", "Note")
    assert order.created_at == datetime(2022, 12, 19, 9, 5, 2, 945000)
    (item,) = result.items
    assert (item.id, item.order_id, item.article.code, item.article.trade_mark_name) == (
        1, 1, "OC100", "KNECHT")  # fmt: skip
    assert (item.quantity, item.quantity_to_ship, item.quantity_shipped) == (1.0, 0.0, 0.0)
    assert (item.price, item.total_sum, item.status_code, item.can_return) == (8.5, 8.5, 0, True)
    assert result.warnings == [PRICE_WARNING.strip()] == item.warnings
    assert price_change(result.warnings[0]) == (3.72, 3.44)
    assert result.errors == [] and result.price_item_errors == []


def test_order_refusal_keeps_every_error(client, mocked):
    mocked.add(responses.POST, ORDER_URL, status=400, json=ORDER_REFUSAL)

    result = place(client)

    assert result.created is False and result.status == 400
    assert result.errors == ["Товар не оформлен в заказ. По договору 100% предоплата."]
    assert result.error_descriptions == {"additionalProp1": "Ошибка валидации строк заказа"}
    (line,) = result.price_item_errors
    assert (line.price_id, line.hash, line.errors) == (PRICE_ID, "0", ["Unknown"])
    current = line.current
    assert (current.price, current.price_with_margin, current.available) == (8.5, 8.5, 5.0)
    assert (current.available_type, current.multiplicity, current.min_quantity) == (
        "Equal", 1.0, 1.0)  # fmt: skip
    assert current.max_quantity is None
    assert current.delivery_date == current.shipping_date == datetime(2022, 12, 19, 9, 13, 32, 262000)
    assert len(mocked.calls) == 1


def test_order_refusal_in_the_generic_error_shape(client, mocked):
    mocked.add(responses.POST, ORDER_URL, status=400, json=CART_ERROR)
    result = place(client)
    assert result.created is False
    assert result.error_code == "DefaultAgreementNotFound"
    assert result.errors == CART_ERROR["messages"]


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectionError("connection reset")},
        {"status": 502},
        {"status": 200, "body": "{not json"},
        {"status": 200, "body": ""},
    ],
)
def test_order_is_never_resent_when_the_answer_is_lost(client, fake, mocked, answer):
    mocked.add(responses.POST, ORDER_URL, **answer)

    with pytest.raises(OutcomeUnknown) as unknown:
        place(client)

    assert len(calls_to(mocked, ORDER_URL)) == 1
    assert fake.sleeps == []
    assert unknown.value.code == "outcome_unknown" and unknown.value.retryable is False
    assert "look it up" in str(unknown.value)


def test_order_after_401_is_sent_again_once(client, mocked):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.POST, ORDER_URL, status=401)
    mocked.add(responses.POST, ORDER_URL, json=ORDER)
    assert place(client).created is True
    assert len(calls_to(mocked, ORDER_URL)) == 2


def test_order_without_consents_sends_nothing(client, mocked):
    with pytest.raises(RequestRejected):
        place(client, agree_with_personal_data_policy=False)
    with pytest.raises(ValueError):
        place(client, lines=[("P1", 0)])
    assert len(mocked.calls) == 0


def test_pickup_order_has_no_delivery_info(client, mocked):
    mocked.add(responses.POST, ORDER_URL, json=ORDER)
    place(client, delivery_address_code=None)
    assert "deliveryInfo" not in json_body(mocked.calls[0])


def test_order_by_cart_items(client, mocked):
    mocked.add(responses.POST, f"{API}/orders/byCartItems", json=[ORDER])
    result = client.order_by_cart_items(
        agreement_code="SAGR1", cart_item_ids=[87865469, "2"], delivery_type="OneDelivery",
        delivery_address_code="Д1", agree_with_terms_of_delivery=True,
        agree_with_personal_data_policy=True,
    )  # fmt: skip
    sent = json_body(mocked.calls[0])
    assert sent["cartItems"] == [{"id": 87865469}, {"id": 2}]
    assert sent["deliveryInfo"]["deliveryType"] == "OneDelivery"
    assert [order.id for order in result.orders] == [1]


def test_fio_and_phone_go_at_the_top_level_of_both_orders(client, mocked):
    """10.2/10.3: agreements of groups НАЛ, ЭКВАИР, МАГ need the buyer's fio and phone, at the top
    level of the body (beside agreementCode), not in deliveryInfo."""
    mocked.add(responses.POST, ORDER_URL, json=ORDER)
    mocked.add(responses.POST, f"{API}/orders/byCartItems", json=ORDER)
    contact = {"fio": "Иванов Иван Иванович", "phone": "+375 29 123 45 67"}
    consents = {"agree_with_terms_of_delivery": True, "agree_with_personal_data_policy": True}

    place(client, agreement_code="SAGR2", delivery_address_code=None, **contact)
    client.order_by_cart_items(agreement_code="SAGR2", cart_item_ids=[7], **contact, **consents)
    client.order_by_cart_items(agreement_code="SAGR1", cart_item_ids=[8], fio="", **consents)

    by_price, by_cart, plain = (json_body(call) for call in mocked.calls)
    for sent in (by_price, by_cart):
        assert (sent["agreementCode"], sent["fio"], sent["phone"]) == (
            "SAGR2", contact["fio"], contact["phone"])  # fmt: skip
        assert "deliveryInfo" not in sent
    assert by_cart["cartItems"] == [{"id": 7}]
    assert "fio" not in plain and "phone" not in plain  # nothing empty is sent


def test_get_orders_filters_and_parsing(client, mocked):
    mocked.add(responses.GET, f"{API}/orders", json=[ORDER])

    (order,) = client.get_orders(page=2, page_size=10, start=date(2020, 12, 1),
                                 end=datetime(2020, 12, 3, 10, 30), order_ids=[20826500, 2],
                                 trade_mark_name="KNECHT", article_code="OC105",
                                 status_codes=140)  # fmt: skip

    assert query(mocked.calls[0]) == {
        "page": ["2"], "pageSize": ["10"], "startDateTime": ["2020-12-01"],
        "endDateTime": ["2020-12-03T10:30:00"], "ids": ["20826500", "2"],
        "tradeMarkName": ["KNECHT"], "articleCode": ["OC105"], "statusCode": ["140"],
    }  # fmt: skip
    (item,) = order.items
    assert (order.id, item.id, item.status_code, item.can_return) == (1, 1, 0, True)
    assert item.delivery_date == datetime(2022, 12, 19, 9, 5, 2, 945000)


def test_iter_orders_pages_until_a_short_page(client, mocked):
    pages = {1: [dict(ORDER, id=n) for n in (1, 2)], 2: [dict(ORDER, id=n) for n in (3, 4)],
             3: [dict(ORDER, id=5)]}  # fmt: skip

    def answer(request):
        page = int(parse_qs(urlsplit(request.url).query)["page"][0])
        return 200, {}, json.dumps(pages.get(page, []))

    mocked.add_callback(responses.GET, f"{API}/orders", callback=answer)
    assert [o.id for o in client.iter_orders(page_size=2, status_codes=[30])] == [1, 2, 3, 4, 5]
    assert len(mocked.calls) == 3


# -- cart --------------------------------------------------------------------------------------
def test_cart_endpoints(client, mocked):
    mocked.add(responses.GET, f"{API}/cartitems", json=[CART_ITEM])
    mocked.add(responses.GET, f"{API}/cartitems/1", json=CART_ITEM)
    mocked.add(responses.POST, f"{API}/cartitems", json=CART_ITEM)
    mocked.add(responses.PATCH, f"{API}/cartitems/1", json=dict(CART_ITEM, quantity=3))
    mocked.add(responses.DELETE, f"{API}/cartitems/1", status=200)
    mocked.add(responses.DELETE, f"{API}/cartitems", status=204)

    (line,) = client.get_cart_items(agreement_code="SAGR1", delivery_address_code="Д1")
    single = client.get_cart_item(1)
    added = client.add_cart_item(PRICE_ID, 1, comment="Для Пети")
    patched = client.patch_cart_item(1, quantity=3)
    client.delete_cart_item(1)
    client.delete_all_cart_items()

    assert line == single == added
    assert query(mocked.calls[0]) == {"agreementCode": ["SAGR1"], "deliveryAddressCode": ["Д1"]}
    assert json_body(calls_to(mocked, f"{API}/cartitems", "POST")[0]) == {
        "quantity": 1, "priceId": PRICE_ID, "comment": "Для Пети"}  # fmt: skip
    assert json_body(calls_to(mocked, f"{API}/cartitems/1", "PATCH")[0]) == {"quantity": 3}
    assert patched.quantity == 3.0
    assert len(calls_to(mocked, f"{API}/cartitems", "DELETE")) == 1
    assert len(calls_to(mocked, f"{API}/cartitems/1", "DELETE")) == 1
    assert (line.id, line.location_code, line.location_code_real, line.agreement_code) == (
        1, "SHATE-01", "SHATE-01", "SAGR1")  # fmt: skip
    assert (line.article.id, line.price, line.price_with_margin, line.price_type) == (
        1248288, 8.5, 8.5, "Internal")  # fmt: skip
    assert (line.price_max, line.import_allowance, line.currency_code) == (12.32, 15.0, "USD")
    assert (line.quantity, line.available, line.available_type, line.multiplicity) == (
        1.0, 5.0, "Equal", 1.0)  # fmt: skip
    assert (line.min_quantity, line.max_quantity) == (1.0, 100.0)
    assert (line.city, line.is_sale, line.info_comment, line.return_allowed) == (
        "Минск", True, "Царапины справа", True)  # fmt: skip
    assert (line.warning_text, line.comment, line.hash) == ("Возврат запрещен.", "Comment",
                                                             "123456789")  # fmt: skip
    assert line.created_at == datetime(2022, 12, 19, 8, 39, 15, 525000)
    assert line.delivery_date == line.shipping_date == line.created_at
    assert (line.is_import, line.is_free) == (True, True)


def test_add_to_cart_is_not_retried(client, mocked):
    mocked.add(responses.POST, f"{API}/cartitems", body=requests.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknown):
        client.add_cart_item(PRICE_ID, 1)
    assert len(mocked.calls) == 1


def test_patch_cart_item_needs_a_change(client):
    with pytest.raises(ValueError):
        client.patch_cart_item(1)
