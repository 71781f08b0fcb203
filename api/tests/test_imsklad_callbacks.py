"""IMSKLAD callbacks: the endpoint key checked first and in constant time, every method of the
document parsed into typed objects, bad calls refused with the document's error answer."""

import copy
import json
from datetime import datetime

import pytest

from api import imsklad_callbacks
from api.imsklad_callback_data import (
    DocumentEvent,
    ObjectRequest,
    OrderExport,
    OrderPayment,
    OrderStatusChange,
    OrderUpdate,
    TrackUpdate,
)
from api.imsklad_callbacks import (
    CALLBACK_METHODS,
    ORDER_STATUSES,
    REQUIRED_METHODS,
    CallbackAuthError,
    CallbackError,
    ImskladSupplier,
    check_key,
    encode_answer,
    error_answer,
    good_answer,
    ok_answer,
    parse_callback,
    supplier_answer,
    suppliers_answer,
)
from api.imsklad_payloads import ImskladAddress, ImskladGood, ImskladLine

KEY = "endpoint-key-9f8e7d6c"

# The document's callback examples (trailing commas removed).
SET_STATUS = {"id": "AZ-1234", "old_status": 0, "new_status": 1, "system_id": 11232,
              "guid": "67060465-4b5e-11eb-80c6-00155dd99f08"}  # fmt: skip
UPDATE_ORDER = {
    "id": "AZ-1234", "guid": None, "tags": "to-assemble", "name": "Иванов Иван Иванович",
    "email": "test@test.ru", "phone": "79990000000", "phone2": None, "post_code": "123321",
    "address": "Москва, ул. Минская д.18 к.2", "address_lat": 55.741688, "address_lng": 37.483840,
    "comment": "Домофон 1232", "owner_comment": "Доставить к 15:00", "discount": 0,
    "delivery": 500, "total_paid": 1000, "delivery_type_id": 4, "delivery_date_from": 1565377798,
    "delivery_date_to": 1565397798, "shipment_date": 1565177798, "delivery_courier_id": 42,
    "is_canceled": 0, "tracked": 0, "track": None, "track_status": None, "track_update": 0,
    "city_id": 8192, "pickup_point": "", "courier_city_code": "",
    "address_obj": {"city": "Москва", "street": "ул. Минская", "house": "д.18 к.2", "room": ""},
    "goods": [{"id": 123123, "quantity": 4, "price": 1000},
              {"id": 342343, "quantity": 1, "price": 5000}],
}  # fmt: skip
UPDATE_TRACKS = [
    {"id": "AZ-1234", "guid": "67060465-4b5e-11eb-80c6-00155dd99f08", "track": "345345345234"},
    {"id": "AZ-2322", "guid": None, "track": "45345344544"},
    {"id": "AZ-2324", "guid": "9ec81f66-4ba7-11eb-80c6-00155dd99f08", "err": "Incorrect pvz"},
]
GOOD_ANSWER = {"id": 124323, "name": "Тестовый товар", "description": "Очень тестовый товар",
               "price": 100, "cost": 100, "weight": 100, "width": 10, "height": 20, "length": 30,
               "color": 13, "size": "Большой"}  # fmt: skip


def body(type_, action, data, key=KEY):
    return json.dumps({"key": key, "type": type_, "action": action, "data": data}).encode()


def parse(type_, action, data):
    return parse_callback(body(type_, action, data), KEY)


def refused(raw, key=KEY):
    with pytest.raises(CallbackError) as caught:
        parse_callback(raw, key)
    return caught.value


# -- the key -----------------------------------------------------------------------------------
def test_the_key_is_compared_in_constant_time(monkeypatch):
    compared = []

    def spy(left, right):
        compared.append((left, right))
        return left == right

    monkeypatch.setattr(imsklad_callbacks.hmac, "compare_digest", spy)
    parse("order", "set_status", SET_STATUS)
    assert compared == [(KEY.encode(), KEY.encode())]


@pytest.mark.parametrize("sent", ["wrong", "", None, 12345, ["endpoint-key-9f8e7d6c"], KEY + " "])
def test_a_wrong_key_is_refused_before_anything_else(sent):
    # the method is unknown and the data is junk: the key is still what is reported
    error = refused(body("nope", "nothing", "junk", key=sent))
    assert isinstance(error, CallbackAuthError)
    assert (error.code, error.http_status) == (4, 403)
    assert error.answer() == {"error": "Invalid key", "code": 4}


def test_an_empty_configured_key_refuses_everything():
    assert check_key("", "") is False and check_key(None, None) is False
    assert check_key("ключ-ё", "ключ-ё") is True  # non-ASCII keys compare as UTF-8 bytes
    assert isinstance(refused(body("order", "set_status", SET_STATUS, key=""), key=""),
                      CallbackAuthError)  # fmt: skip


# -- malformed calls -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", "\"text\"", b"\xff\xfe", 42])
def test_a_malformed_body_is_incorrect_data(raw):
    error = refused(raw)
    assert (error.code, error.http_status) == (3, 200)
    assert error.answer()["error"].startswith("Incorrect data")


def test_an_unknown_method_is_incorrect_data():
    error = refused(body("order", "explode", {}))
    assert error.answer() == {"error": "Incorrect data: unknown method order.explode", "code": 3}


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("set_status", {**SET_STATUS, "new_status": None}, "field 'new_status' is required"),
        ("set_status", {**SET_STATUS, "new_status": 12}, "field 'new_status' has an unknown"),
        ("set_status", {**SET_STATUS, "old_status": "abc"}, "field 'old_status' must be Int"),
        ("set_status", {k: v for k, v in SET_STATUS.items() if k != "id"}, "field 'id'"),
        ("set_status", {**SET_STATUS, "system_id": None}, "field 'system_id' is required"),
        ("set_status", "AZ-1234", "data must be an object"),
        ("update_order", {**UPDATE_ORDER, "name": None}, "field 'name' is required"),
        ("update_order", {**UPDATE_ORDER, "goods": [{"id": 1, "quantity": 1, "price": 1},
                                                    {"id": 2, "price": 1}]},
         "field 'goods[1].quantity' is required"),
        ("update_order", {**UPDATE_ORDER, "goods": "all"}, "field 'goods' must be Array"),
        ("update_order", {**UPDATE_ORDER, "address_obj": {"city": ["M"]}},
         "field 'address_obj.city' must be String"),
        ("update_tracks", [], "data must be a non-empty Array"),
        ("update_tracks", [{"guid": "x", "track": "1"}], "field 'data[0].id' is required"),
        ("send_to_cdek", [None], "data[0] must be an order id"),
    ],
)  # fmt: skip
def test_fields_are_checked_and_named(action, data, field):
    error = refused(body("order", action, data))
    assert error.code == 3 and error.http_status == 200
    assert field in error.message


# -- every method ----------------------------------------------------------------------------
def test_the_table_is_covered():
    table = {("order", "update_order"), ("order", "set_status"), ("order", "set_pay"),
             ("order", "send_to_cdek"), ("order", "send_to_boxberry"),
             ("order", "send_act_to_boxberry"), ("doc", "add_doc"), ("doc", "update_doc"),
             ("doc", "set_status"), ("good", "get_good"), ("good", "get_good_suppliers"),
             ("supplier", "get_supplier"), ("supplier", "get_suppliers")}  # fmt: skip
    assert set(CALLBACK_METHODS) == table | {("order", "update_tracks")}
    assert REQUIRED_METHODS == {("order", "update_order"), ("order", "set_status"),
                                ("good", "get_good")}  # fmt: skip


def test_set_status():
    call = parse("order", "set_status", SET_STATUS)
    assert (call.type, call.action, call.kind, call.reference) == (
        "order", "set_status", "order.set_status", "AZ-1234")  # fmt: skip
    assert call.data == OrderStatusChange("AZ-1234", "67060465-4b5e-11eb-80c6-00155dd99f08",
                                          11232, old_status=0, new_status=1)  # fmt: skip
    assert call.data.new_status_name == "Передан на комплектацию"
    assert call.data.old_status_name == "Новый заказ, собрать"
    assert call.raw == SET_STATUS and "key" not in json.dumps(call.raw)
    # numbers sent as text are read; a null guid is allowed (the document's examples send it)
    lenient = parse("order", "set_status", {**SET_STATUS, "new_status": "9", "guid": None})
    assert (lenient.data.new_status, lenient.data.guid) == (9, "")


def test_update_order_reads_the_callback_names():
    call = parse("order", "update_order", UPDATE_ORDER)
    update = call.data
    assert isinstance(update, OrderUpdate) and (update.id, update.guid) == ("AZ-1234", "")
    order = update.order
    assert (order.id, order.name, order.guid, order.tags) == (
        "AZ-1234", "Иванов Иван Иванович", None, "to-assemble")  # fmt: skip
    assert (order.delivery_type, order.courier, order.city_id) == (4, 42, 8192)
    assert (order.discount, order.delivery, order.total_paid) == (0.0, 500.0, 1000.0)
    assert order.delivery_date_from == datetime(2019, 8, 9, 19, 9, 58)
    assert order.track_update is None  # 0: not set
    assert (order.is_canceled, order.tracked, order.phone2, order.track) == (False, False, None,
                                                                              None)  # fmt: skip
    assert (order.pickup_point, order.address_lat) == ("", 55.741688)
    assert order.address_obj == ImskladAddress("Москва", "ул. Минская", "д.18 к.2", None)
    assert order.goods == [ImskladLine("123123", 4, 1000.0), ImskladLine("342343", 1, 5000.0)]
    # the spelling of our own add_order is read too
    ours = copy.deepcopy(UPDATE_ORDER)
    ours["delivery_type"] = ours.pop("delivery_type_id")
    ours["courier"] = ours.pop("delivery_courier_id")
    assert parse("order", "update_order", ours).data.order.courier == 42


def test_update_tracks():
    call = parse("order", "update_tracks", UPDATE_TRACKS)
    assert call.data == [
        TrackUpdate("AZ-1234", "67060465-4b5e-11eb-80c6-00155dd99f08", None, "345345345234", ""),
        TrackUpdate("AZ-2322", "", None, "45345344544", ""),
        TrackUpdate("AZ-2324", "9ec81f66-4ba7-11eb-80c6-00155dd99f08", None, "", "Incorrect pvz"),
    ]  # fmt: skip
    assert call.reference == "AZ-1234,AZ-2322,AZ-2324"


def test_set_pay_and_the_exports():
    pay = parse("order", "set_pay", {"id": "AZ-1", "system_id": 5, "sum": "1 500,50",
                                     "date": 1565377798}).data  # fmt: skip
    assert pay == OrderPayment("AZ-1", "", 5, amount=1500.5, paid_at=datetime(2019, 8, 9, 19, 9, 58))
    assert parse("order", "set_pay", {"id": "AZ-1"}).data.amount is None
    for action in ("send_to_cdek", "send_to_boxberry", "send_act_to_boxberry"):
        export = parse("order", action, ["AZ-1", 17, {"id": "AZ-3", "guid": "g"}]).data
        assert isinstance(export, OrderExport)
        assert [(o.id, o.guid) for o in export.orders] == [("AZ-1", ""), ("17", ""), ("AZ-3", "g")]
    wrapped = parse("order", "send_to_cdek", {"orders": ["AZ-9"]})
    assert wrapped.data.orders[0].id == "AZ-9" and wrapped.reference == "AZ-9"


def test_documents():
    data = {"id": "4423", "system_id": 1120, "code": "TT-23432", "type": 0, "date": 1565397798,
            "goods": [{"id": "SKU-1", "quantity": 4, "price": 1000}], "old_status": 0,
            "new_status": 1}  # fmt: skip
    for action in ("add_doc", "update_doc"):
        event = parse("doc", action, data).data
        assert event == DocumentEvent("4423", 1120, "TT-23432", 0,
                                      datetime(2019, 8, 10, 0, 43, 18),
                                      [ImskladLine("SKU-1", 4, 1000.0)], 0, 1)  # fmt: skip
        assert event.new_status_name == "Проведен"
    theirs = parse("doc", "add_doc", {"system_id": 77, "type": 1, "goods": []})
    assert (theirs.data.id, theirs.data.system_id, theirs.reference) == ("", 77, "77")
    assert "field 'id' is required" in refused(body("doc", "add_doc", {"type": 0})).message
    assert "field 'type'" in refused(body("doc", "add_doc", {"id": "1", "type": 5})).message
    status = parse("doc", "set_status", {"id": "4423", "system_id": 1120, "old_status": 0,
                                         "new_status": 2}).data  # fmt: skip
    assert (status.new_status, status.new_status_name) == (2, "Отменен")
    assert "new_status" in refused(body("doc", "set_status", {"id": "4423"})).message


def test_queries():
    good = parse("good", "get_good", {"id": 124323})
    assert good.data == ObjectRequest("124323") and good.reference == "124323"
    assert parse("goods", "get_good", {"id": "SKU-1"}).kind == "good.get_good"  # alias
    assert parse("good", "get_good_suppliers", {"id": "SKU-1"}).data == ObjectRequest("SKU-1")
    assert parse("supplier", "get_supplier", {"id": 3}).data == ObjectRequest("3")
    assert parse("supplier", "get_suppliers", None).data == ObjectRequest("")
    assert "field 'id' is required" in refused(body("good", "get_good", {})).message


def test_dedupe_key_follows_the_data():
    first = parse("order", "set_status", SET_STATUS)
    again = parse_callback(json.dumps({"data": SET_STATUS, "action": "set_status",
                                       "type": "order", "key": KEY}), KEY)  # fmt: skip
    next_status = parse("order", "set_status", {**SET_STATUS, "old_status": 1, "new_status": 2})
    assert first.dedupe_key == again.dedupe_key
    assert first.dedupe_key != next_status.dedupe_key
    assert first.dedupe_key.startswith("order.set_status:") and len(first.dedupe_key) < 64
    assert KEY not in first.dedupe_key


# -- answers -------------------------------------------------------------------------------------
def test_answers_in_the_documents_format():
    assert ok_answer() == {"result": "ok"}
    assert ok_answer("AZ-1234") == {"result": "ok", "id": "AZ-1234"}  # update_order's answer
    assert error_answer(2, "Order not found") == {"error": "Order not found", "code": 2}
    good = ImskladGood("SKU-1", "Тестовый товар", 100, 100, "Очень тестовый товар", None,
                       100.2, 10, 20, 30, 13, "Большой")  # fmt: skip
    assert good_answer(good, 124323) == GOOD_ANSWER
    assert good_answer({"id": "SKU-1", "name": "x", "price": 1, "cost": 0.5})["id"] == "SKU-1"
    supplier = ImskladSupplier("7", "ООО «Поставщик»", inn="7701234567", phone="", email=None)
    assert supplier_answer(supplier) == {"id": "7", "name": "ООО «Поставщик»", "inn": "7701234567"}
    assert suppliers_answer([supplier, {"id": 8, "name": "ИП Петров"}]) == [
        {"id": "7", "name": "ООО «Поставщик»", "inn": "7701234567"}, {"id": "8", "name": "ИП Петров"}]  # fmt: skip
    assert encode_answer({"error": "Не найден", "code": 2}) == (
        '{"error":"Не найден","code":2}'.encode())  # fmt: skip


def test_order_statuses_constant():
    assert ORDER_STATUSES[0] == "Новый заказ, собрать"
    assert ORDER_STATUSES[9] == "Отгружен в курьерскую службу, покинул склад"
    assert ORDER_STATUSES[10] == "Отменен" and ORDER_STATUSES[11] == "Вручен клиенту"
    assert len(ORDER_STATUSES) == 12
