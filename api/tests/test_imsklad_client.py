"""ImskladClient: the envelope, payloads as the tables say, error codes, creates sent once,
"already exists", the in-assembly warning, stock in chunks, billing, and the key kept secret."""

import json
import logging
from datetime import date, datetime, timezone

import pytest
import requests
import responses
from http_helpers import json_body

from api.errors import (
    AlreadyExists,
    AuthError,
    BadResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
)
from api.imsklad import IMSKLAD_DEFAULT_URL, ImskladClient
from api.imsklad_data import ORDER_STATUSES, colour_id, status_name
from api.imsklad_payloads import ImskladDoc, ImskladGood, ImskladLine, ImskladOrder, ImskladPreorder

URL = "http://clients.imsklad.ru:7000/"
KEY = "Sekret-Imsklad-Key-0042"

# The document's add_good example (its request and answer).
DOC_GOOD = {"id": 13, "name": "Тестовый товар", "description": "", "price": 100, "cost": 100,
            "image": "http://api.imsklad.ru/img/1.png", "weight": 100, "width": 0, "height": 0,
            "length": 0, "color": 13, "size": ""}  # fmt: skip
OK = {"result": "ok", "id": 124323}
WARNING = {"result": "warning", "warning": "The order in the assembly process(goods not saved)",
           "id": 124323}  # fmt: skip
# The document's get_billing example (with "type" added to the first row, as its table lists).
BILLING = {"current_balance": 11067, "change_of_balance": -150, "billing": [
    {"id": 32953, "order_id": 153383, "foreign_order_id": "359407", "doc_request_id": None,
     "date": 1590775160, "amount": -50, "comment": "", "type": 0},
    {"id": 32954, "order_id": None, "foreign_order_id": None, "doc_request_id": 1120,
     "date": 1590775195, "amount": -100, "comment": "Забор товара"}]}  # fmt: skip


def make_client(fake, **options):
    values = {"api_key": KEY, "sleep": fake.sleep, "clock": fake.clock, "backoff": 0.5,
              "max_retries": 2}  # fmt: skip
    return ImskladClient(**{**values, **options})


@pytest.fixture
def client(fake):
    return make_client(fake)


def data_sent(mocked, index=-1):
    return json_body(mocked.calls[index])["data"]


def order(**changes):
    values = {"id": "AZ-1234", "name": "Иванов Иван Иванович",
              "goods": [ImskladLine("123123", 4, 1000), ImskladLine("SKU-7", 1.0, 5000)]}  # fmt: skip
    return ImskladOrder(**{**values, **changes})


# -- the envelope ------------------------------------------------------------------------------
def test_envelope_url_and_headers(client, mocked):
    mocked.add(responses.POST, URL, json=OK)

    result = client.add_good(ImskladGood(**{**DOC_GOOD, "id": "13"}))

    (call,) = mocked.calls
    assert IMSKLAD_DEFAULT_URL == "http://clients.imsklad.ru:7000"
    assert (call.request.method, call.request.url) == ("POST", URL)
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["Accept"] == "application/json"
    assert json_body(call) == {"key": KEY, "type": "goods", "action": "add_good", "data": DOC_GOOD}
    assert (result.system_id, result.partner_id, result.result) == (124323, "13", "ok")
    assert not result.has_warning


def test_url_is_configurable(fake, mocked):
    mocked.add(responses.POST, "http://client.imsklad.ru:7000/", json=[])
    client = make_client(fake, base_url="http://client.imsklad.ru:7000/")
    client.get_stock([1])
    assert mocked.calls[0].request.url == "http://client.imsklad.ru:7000/"
    assert client.stats == {"get_stock": 1}


def test_good_ids_and_values_as_the_tables_say(client, mocked):
    mocked.add(responses.POST, URL, json=OK)
    client.update_good({"id": "007", "name": " Кружка ", "price": 450.005, "cost": 170,
                        "weight": 320.6, "width": 80.4, "color": 9, "size": "350 мл"})  # fmt: skip
    client.update_good({"id": "42", "name": "x", "price": 1, "cost": 1})
    first, second = (json_body(call) for call in mocked.calls)
    assert (first["type"], first["action"]) == ("goods", "update_good")
    assert first["data"] == {"id": "007", "name": "Кружка", "price": 450.0, "cost": 170.0,
                             "weight": 321, "width": 80, "color": 9, "size": "350 мл"}  # fmt: skip
    assert second["data"]["id"] == 42  # a plain integer id goes as a number, as in the examples


def test_add_order_and_update_order_send_their_tables(client, mocked):
    mocked.add(responses.POST, URL, json=OK)
    moment = datetime(2025, 3, 1, 9, 0, 0)  # naive: UTC
    full = order(guid="67060465-4b5e-11eb-80c6-00155dd99f08", tags=["call", "nosms"],
                 phone="79990000000", delivery=500, total_paid=1000, delivery_type=4, courier=42,
                 delivery_date_from=moment, delivery_date_to=date(2025, 3, 2),
                 shipment_date=1565177798, is_canceled=False, address_lat=55.741688,
                 address_obj={"city": "Москва", "street": "ул. Минская", "house": "д.18 к.2"})  # fmt: skip

    client.add_order(full)
    client.update_order(full)

    added, updated = (json_body(call) for call in mocked.calls)
    assert (added["type"], added["action"], updated["action"]) == (
        "order", "add_order", "update_order")  # fmt: skip
    expected = {
        "id": "AZ-1234", "storage_id": 1, "name": "Иванов Иван Иванович", "discount": 0.0,
        "delivery": 500.0, "total_paid": 1000.0, "guid": "67060465-4b5e-11eb-80c6-00155dd99f08",
        "tags": "call,nosms", "phone": "79990000000", "address_lat": 55.741688,
        "delivery_type": 4, "delivery_date_from": int(moment.replace(tzinfo=timezone.utc).timestamp()),
        "delivery_date_to": 1740862800,  # 2025-03-02 00:00 in Moscow
        "shipment_date": 1565177798, "courier": 42, "is_canceled": 0,
        "address_obj": {"city": "Москва", "street": "ул. Минская", "house": "д.18 к.2"},
        "goods": [{"id": 123123, "quantity": 4, "price": 1000.0},
                  {"id": "SKU-7", "quantity": 1, "price": 5000.0}],
    }  # fmt: skip
    assert added["data"] == expected
    del expected["storage_id"], expected["guid"]  # not in update_order's table
    assert updated["data"] == expected


def test_preorders_and_documents(client, mocked):
    mocked.add(responses.POST, URL, json=OK)
    preorder = ImskladPreorder("4423", 0, [("123123", 4, 1000)], code="TT-23432",
                               date=1565397798, need_pickup=True,
                               pickup_address="Москва, ул Минская, дом 18 корп 2",
                               supplier_name="SomeGoodCompany", storage_id=2)  # fmt: skip
    client.add_preorder(preorder)
    client.update_preorder(preorder)
    doc = ImskladDoc("4424", 1, [{"id": "342343", "quantity": 1, "price": 5000}], code="W-1",
                     date=1565397798)  # fmt: skip
    client.add_doc(doc)
    client.update_doc(doc)

    bodies = [json_body(call) for call in mocked.calls]
    assert [(b["type"], b["action"]) for b in bodies] == [
        ("preorder", "add_preorder"), ("preorder", "update_preorder"),
        ("doc", "add_doc"), ("doc", "update_doc")]  # fmt: skip
    line = {"id": 123123, "quantity": 4, "price": 1000.0}
    assert bodies[0]["data"] == {
        "id": "4423", "storage_id": 2, "type": 0, "owner_date": 1565397798, "code": "TT-23432",
        "need_pickup": 1, "pickup_address": "Москва, ул Минская, дом 18 корп 2",
        "supplier_name": "SomeGoodCompany", "goods": [line]}  # fmt: skip
    # update_preorder's table: "date", no storage_id
    assert "owner_date" not in bodies[1]["data"] and bodies[1]["data"]["date"] == 1565397798
    assert "storage_id" not in bodies[1]["data"]
    assert bodies[2]["data"] == {"id": "4424", "storage_id": 1, "code": "W-1", "type": 1,
                                 "date": 1565397798,
                                 "goods": [{"id": 342343, "quantity": 1, "price": 5000.0}]}  # fmt: skip
    assert "storage_id" not in bodies[3]["data"]


@pytest.mark.parametrize(
    ("call", "value", "words"),
    [
        ("add_good", {"id": "G-1", "name": " ", "price": 1, "cost": 1}, "good 'G-1' not sent: name"),
        ("add_good", {"id": "G-1", "name": "x", "price": "abc", "cost": 1}, "price is not valid"),
        ("add_order", order(goods=[]), "order 'AZ-1234' not sent: goods must hold"),
        ("add_order", order(goods=[("G-1", 1.5, 10)]), "goods[0].quantity is not valid"),
        ("update_order", order(goods=[("", 1, 10)]), "goods[0].id is required"),
        ("add_doc", ImskladDoc("D-1", 2, [("G-1", 1, 1)]), "document 'D-1' not sent: type"),
        ("add_preorder", ImskladPreorder("P-1", 0, [("G-1", 1, 1)], date="soon"), "owner_date"),
    ],
)  # fmt: skip
def test_what_cannot_be_valid_is_not_sent(client, mocked, call, value, words):
    with pytest.raises(RequestRejected) as refused:
        getattr(client, call)(value)
    assert words in str(refused.value)
    assert not mocked.calls


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "error_class", "error_code", "words"),
    [
        (2, NotFound, "not_found", "IMSKLAD found no object for order 'AZ-1234' (update_order)"),
        (3, RequestRejected, "rejected", "IMSKLAD rejected the data of order 'AZ-1234'"),
        (4, RequestRejected, "rejected", "IMSKLAD did not perform order 'AZ-1234'"),
        (7, RequestRejected, "rejected", "(error code 7)"),
    ],
)  # fmt: skip
def test_error_codes(client, mocked, code, error_class, error_code, words):
    mocked.add(responses.POST, URL, json={"error": "Incorrect data: field 'name'", "code": code})
    with pytest.raises(error_class) as caught:
        client.update_order(order())
    error = caught.value
    assert type(error) is error_class and error.code == error_code
    assert words in error.message
    assert error.detail == "Incorrect data: field 'name'"  # the service's own words
    assert (error.service_code, error.item) == (code, "order 'AZ-1234'")
    assert len(mocked.calls) == 1  # an answer is an answer: not retried


def test_fatal_error_is_retried_on_idempotent_calls(client, fake, mocked):
    mocked.add(responses.POST, URL, json={"error": "Fatal", "code": 1})
    mocked.add(responses.POST, URL, json=WARNING)
    result = client.update_order(order())
    assert result.warning and len(mocked.calls) == 2 and fake.sleeps == [0.5]

    mocked.replace(responses.POST, URL, json={"error": "Fatal", "code": 1})
    with pytest.raises(ServiceUnavailable) as caught:
        client.get_stock([1])
    assert caught.value.retryable and caught.value.service_code == 1
    assert len(mocked.calls) == 2 + 3 and fake.sleeps == [0.5, 0.5, 1.0]


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"error": "Access denied: invalid API key", "code": 4}},
        {"json": {"error": "Неверный ключ", "code": 1}},
        {"json": {"error": "Key not found", "code": 2}},
        {"status": 401, "body": ""},
        {"status": 403, "body": "<html>Forbidden</html>"},
    ],
)
def test_a_refused_key_is_an_auth_error(client, mocked, answer):
    mocked.add(responses.POST, URL, **answer)
    with pytest.raises(AuthError) as caught:
        client.check_key()
    assert caught.value.code == "auth"
    assert len(mocked.calls) == 1


def test_error_answers_are_read_whatever_the_http_status(client, mocked):
    mocked.add(responses.POST, URL, status=400, json={"error": "Incorrect data", "code": 3})
    mocked.add(responses.POST, URL, status=404, body="<html>Not Found</html>")
    with pytest.raises(RequestRejected) as first:
        client.update_good({"id": "1", "name": "x", "price": 1, "cost": 1})
    with pytest.raises(RequestRejected) as second:
        client.update_good({"id": "1", "name": "x", "price": 1, "cost": 1})
    assert (first.value.service_code, first.value.status) == (3, 400)
    assert "HTTP 404; check the API URL" in second.value.message


@pytest.mark.parametrize("answer", [{"body": ""}, {"body": "{\"result\": \"ok\", \"id"},
                                    {"json": ["ok"]}])  # fmt: skip
def test_garbled_answers_to_updates_are_bad_responses(client, mocked, answer):
    mocked.add(responses.POST, URL, **answer)
    with pytest.raises(BadResponse):
        client.update_doc(ImskladDoc("D-1", 0, [("G-1", 1, 1)]))
    assert len(mocked.calls) == 1


# -- creates: sent once --------------------------------------------------------------------------
CREATES = [
    ("add_good", {"id": "G-1", "name": "x", "price": 1, "cost": 1}),
    ("add_order", order()),
    ("add_preorder", ImskladPreorder("P-1", 0, [("G-1", 1, 1)])),
    ("add_doc", ImskladDoc("D-1", 0, [("G-1", 1, 1)])),
]
LOST_ANSWERS = {
    "timeout": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "connection": {"body": requests.exceptions.ConnectionError("connection reset")},
    "http_502": {"status": 502, "body": "<html>Bad Gateway</html>"},
    "http_500_with_error_body": {"status": 500, "json": {"error": "Incorrect data", "code": 3}},
    "malformed": {"body": "{\"result\": \"ok\", \"id\": 12"},
    "empty": {"body": ""},
    "ok_without_id": {"json": {"result": "ok"}},
    "fatal_error": {"json": {"error": "Fatal server error", "code": 1}},
}


@pytest.mark.parametrize(("call", "value"), CREATES)
@pytest.mark.parametrize("lost", sorted(LOST_ANSWERS))
def test_creates_are_sent_once_and_a_lost_answer_is_outcome_unknown(
    client, fake, mocked, call, value, lost
):
    mocked.add(responses.POST, URL, **LOST_ANSWERS[lost])
    mocked.add(responses.POST, URL, json=OK)  # a retry would get this

    with pytest.raises(OutcomeUnknown) as caught:
        getattr(client, call)(value)

    assert caught.value.code == "outcome_unknown"
    assert "look it up (update) before sending it again" in caught.value.message
    assert len(mocked.calls) == 1 and fake.sleeps == []


def test_a_rate_limited_create_was_not_processed(client, mocked):
    mocked.add(responses.POST, URL, status=429, headers={"Retry-After": "3"})
    with pytest.raises(RateLimited):
        client.add_order(order())
    assert len(mocked.calls) == 1


def test_updates_keep_their_retries(client, fake, mocked):
    mocked.add(responses.POST, URL, body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.add(responses.POST, URL, status=503)
    mocked.add(responses.POST, URL, json=OK)
    assert client.update_order(order()).system_id == 124323
    assert len(mocked.calls) == 3 and fake.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("answer", "existing_id"),
    [
        ({"error": "Order AZ-1234 already exists", "code": 4, "id": 5}, 5),
        ({"error": "Заказ уже существует", "code": 3}, None),
        ({"error": "Duplicate entry 'AZ-1234' for key 'foreign_id'"}, None),
    ],
)  # fmt: skip
def test_already_exists_is_told_apart(client, mocked, answer, existing_id):
    mocked.add(responses.POST, URL, json=answer)
    with pytest.raises(AlreadyExists) as caught:
        client.add_order(order())
    error = caught.value
    assert isinstance(error, RequestRejected) and error.code == "already_exists"
    assert error.existing_id == existing_id and error.item == "order 'AZ-1234'"
    assert len(mocked.calls) == 1


def test_already_exists_on_an_update_is_a_plain_refusal(client, mocked):
    mocked.add(responses.POST, URL, json={"error": "Order already exists", "code": 4})
    with pytest.raises(RequestRejected) as caught:
        client.update_order(order())
    assert type(caught.value) is RequestRejected


def test_an_add_answered_ok_is_adopted_as_it_is(client, mocked):
    mocked.add(responses.POST, URL, json={"result": "ok", "id": "124323"})
    assert client.add_good(ImskladGood("13", "x", 1, 1)).system_id == 124323


def test_update_order_warning_is_returned(client, mocked, caplog):
    caplog.set_level(logging.INFO, logger="api.imsklad")
    mocked.add(responses.POST, URL, json=WARNING)
    mocked.add(responses.POST, URL, json={"result": "ok", "id": 124323})

    warned = client.update_order(order())
    clean = client.update_order(order())

    assert (warned.result, warned.system_id, warned.partner_id) == ("warning", 124323, "AZ-1234")
    assert warned.warning == "The order in the assembly process(goods not saved)"
    assert warned.has_warning and warned.goods_not_saved
    assert not clean.has_warning and clean.warning == ""
    assert "saved with a warning: The order in the assembly process" in caplog.text


# -- stock ---------------------------------------------------------------------------------------
def stock_answer(request):
    ids = json.loads(request.body)["data"]["ids"]
    rows = [{"id": good_id, "stock": good_id % 7, "reserved": good_id % 2} for good_id in ids]
    return 200, {}, json.dumps(rows + [{"id": 999_999, "stock": 1, "reserved": 0}])


def test_get_stock_in_chunks(fake, mocked):
    client = make_client(fake, stock_chunk_size=100)
    mocked.add_callback(responses.POST, URL, callback=stock_answer)
    ids = [*range(1, 251), "12", "abc", "-3", "007", None]

    report = client.get_stock(ids)

    bodies = [json_body(call) for call in mocked.calls]
    assert [b["data"]["ids"] for b in bodies] == [
        list(range(1, 101)), list(range(101, 201)), list(range(201, 251))]  # fmt: skip
    assert {(b["type"], b["action"], b["data"]["storage_id"]) for b in bodies} == {
        ("goods", "get_stock", 1)}  # fmt: skip
    assert report.requests == 3 and len(report.stocks) == 250 and report.missing == []
    assert 999_999 not in report.stocks  # not asked: ignored
    assert report.invalid == ["abc", "-3", "007", ""]
    row = report.stocks[13]
    assert (row.id, row.stock, row.reserved, row.free) == (13, 6, 1, 5)

    client.get_stock(range(1, 11), chunk_size=4, storage_id=2)
    assert [len(json_body(call)["data"]["ids"]) for call in mocked.calls[3:]] == [4, 4, 2]
    assert json_body(mocked.calls[-1])["data"]["storage_id"] == 2


def test_get_stock_finds_the_unknown_ids_of_a_refused_chunk(client, mocked):
    def answer(request):
        ids = json.loads(request.body)["data"]["ids"]
        if {5, 11} & set(ids):
            return 200, {}, json.dumps({"error": "Good not found", "code": 2})
        return 200, {}, json.dumps([{"id": i, "stock": 1, "reserved": 0} for i in ids])

    mocked.add_callback(responses.POST, URL, callback=answer)
    report = client.get_stock(range(1, 13), chunk_size=12)

    assert sorted(report.missing) == [5, 11]
    assert sorted(report.stocks) == [1, 2, 3, 4, 6, 7, 8, 9, 10, 12]
    # halves until each unknown id is alone: 12 → 6+6 → 3+3 → 1+2 → 1+1, twice
    assert report.requests == len(mocked.calls) == 15

    one_unknown = client.get_stock(range(11, 111), chunk_size=100)
    assert one_unknown.missing == [11] and len(one_unknown.stocks) == 99
    assert one_unknown.requests <= 15  # not 101, one request per id


def test_get_stock_tolerates_other_shapes(client, mocked):
    mocked.add(responses.POST, URL, json={"id": 7, "stock": "3", "reserved": None})
    mocked.add(responses.POST, URL, json={"stock": [{"id": 8, "stock": 2, "reserved": 1}, "x"]})
    assert client.get_stock([7]).stocks[7].stock == 3
    assert client.get_stock([8]).stocks[8].reserved == 1


def test_check_key_probes_stock(client, mocked):
    mocked.add(responses.POST, URL, json=[])
    mocked.add(responses.POST, URL, json={"error": "Good 0 not found", "code": 2})
    assert client.check_key() is True
    assert client.check_key() is True  # NotFound: the key was accepted
    assert [json_body(call)["data"] for call in mocked.calls] == [{"storage_id": 1, "ids": [0]}] * 2


# -- billing -------------------------------------------------------------------------------------
def test_get_billing(client, mocked):
    mocked.add(responses.POST, URL, json={**BILLING, "from": 1590710400, "to": 1590796799})

    billing = client.get_billing(datetime(2020, 5, 29), datetime(2020, 5, 29, 23, 59, 59))

    body = json_body(mocked.calls[0])
    assert (body["type"], body["action"]) == ("billing", "get_billing")
    assert body["data"] == {"storage_id": 1, "from": 1590710400, "to": 1590796799}
    assert (billing.current_balance, billing.change_of_balance) == (11067.0, -150.0)
    assert billing.date_from == datetime(2020, 5, 29)
    first, second = billing.operations
    assert (first.id, first.order_id, first.foreign_order_id, first.type, first.type_name) == (
        32953, 153383, "359407", 0, "Сборка заказа")  # fmt: skip
    assert (first.date, first.amount, first.comment) == (datetime(2020, 5, 29, 17, 59, 20), -50.0, "")
    assert (second.order_id, second.foreign_order_id, second.doc_request_id) == (None, "", 1120)
    assert (second.type, second.type_name, second.comment) == (None, "", "Забор товара")


def test_get_billing_reads_the_tables_odd_types(client, mocked):
    row = {"id": 1, "amount": [10], "comment": 5, "date": "1590775160"}
    mocked.add(responses.POST, URL, json={"current_balance": "100.5", "billing": [row, "junk"]})
    billing = client.get_billing(date(2020, 5, 1), 1590775160)
    (operation,) = billing.operations
    assert (operation.amount, operation.comment) == (None, "5")
    assert operation.date == datetime(2020, 5, 29, 17, 59, 20)
    assert billing.current_balance == 100.5
    assert json_body(mocked.calls[0])["data"]["from"] == 1588280400  # 1 May 00:00 Moscow
    with pytest.raises(ValueError):
        client.get_billing(2, 1)


# -- reference tables ----------------------------------------------------------------------------
def test_reference_tables():
    assert sorted(ORDER_STATUSES) == list(range(12))
    assert status_name(9) == "Отгружен в курьерскую службу, покинул склад"
    assert status_name("11") == "Вручен клиенту" and status_name(12) == ""
    assert colour_id("серый") == 13 and colour_id("Черный") == 4 and colour_id("черный") == 4
    assert colour_id("чёрный") == 4 and colour_id("мокко") is None


# -- secrets -------------------------------------------------------------------------------------
def test_the_key_is_never_in_logs_or_errors(fake, mocked, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(fake, max_retries=0)
    mocked.add(responses.POST, URL, json={"error": f"Invalid key {KEY}", "code": 4})
    mocked.add(responses.POST, URL, json={"error": f"Incorrect data {{\"key\": \"{KEY}\"}}",
                                          "code": 3})  # fmt: skip
    mocked.add(responses.POST, URL, body=requests.exceptions.ConnectionError(f"key={KEY}"))
    mocked.add(responses.POST, URL, json={"result": "warning", "warning": f"note {KEY}", "id": 1})
    errors = []
    for call, value in (("check_key", None), ("update_good", ImskladGood("1", "x", 1, 1)),
                        ("add_order", order())):  # fmt: skip
        with pytest.raises(Exception) as caught:
            getattr(client, call)(*([] if value is None else [value]))
        errors.append(caught.value)
    result = client.update_order(order())

    assert [type(e) for e in errors] == [AuthError, AuthError, OutcomeUnknown]
    assert errors[0].detail == "Invalid key ***"
    assert '"key": "***"' in errors[1].detail
    assert "-> 200" in caplog.text  # the request log is there
    texts = [caplog.text] + [f"{e} {e!r} {e.message} {e.detail}" for e in errors]
    for text in texts:
        assert KEY not in text
    assert result.warning == "note ***"  # shown to users on the order: masked too
    assert "saved with a warning: note ***" in caplog.text
    for error in errors:
        assert error.__context__ is None
    assert client.redact(json.dumps({"key": KEY, "type": "goods"})) == (
        '{"key": "***", "type": "goods"}')  # fmt: skip
