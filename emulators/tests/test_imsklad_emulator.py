"""IMSKLAD emulator with the real ImskladClient: the document's examples as printed, goods, stock,
orders, pre-orders, documents and billing end to end, lost answers adopted, validation per the
field tables, and the warehouse calling back a small HTTP server that parses every call with
``api.imsklad_callbacks``."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from api.errors import AlreadyExists, AuthError, NotFound, OutcomeUnknown, RequestRejected
from api.imsklad import ImskladClient
from api.imsklad_callbacks import (
    CallbackError,
    encode_answer,
    error_answer,
    ok_answer,
    parse_callback,
)
from api.imsklad_payloads import ImskladDoc, ImskladGood, ImskladLine, ImskladOrder, ImskladPreorder
from emulators.imsklad import ASSEMBLY_WARNING, ImskladEmulator
from emulators.imsklad_demo import DEMO_CALLBACK_KEY, DEMO_KEY

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 5
MUG = "DEMO-MUG"  # IMSKLAD id 400103, stock 64, reserved 5

# The document's request examples, as printed (its trailing commas removed).
DOC_ORDER = {
    "id": "AZ-1234", "guid": "67060465-4b5e-11eb-80c6-00155dd99f08", "storage_id": 1,
    "tags": "to-assemble", "name": "Иванов Иван Иванович", "email": "test@test.ru",
    "phone": "79990000000", "phone2": None, "post_code": "123321",
    "address": "Москва, ул. Минская д.18 к.2", "address_lat": 55.741688, "address_lng": 37.483840,
    "comment": "Домофон 1232", "owner_comment": "Доставить к 15:00", "discount": 0,
    "delivery": 500, "total_paid": 1000, "delivery_type": 4, "delivery_date_from": 1565377798,
    "delivery_date_to": 1565397798, "shipment_date": 1565177798, "courier": 42,
    "is_canceled": 0, "tracked": 0, "track": None, "track_status": None, "track_update": 0,
    "city_id": 8192, "pickup_point": "", "courier_city_code": "",
    "address_obj": {"city": "Москва", "street": "ул. Минская", "house": "д.18 к.2", "room": ""},
    "goods": [{"id": 123123, "quantity": 4, "price": 1000},
              {"id": 342343, "quantity": 1, "price": 5000}],
}  # fmt: skip
DOC_PREORDER = {
    "id": "4423", "storage_id": 1, "code": "TT-23432", "type": 0, "owner_date": 1565397798,
    "need_pickup": 1, "pickup_address": "Москва, ул Минская, дом 18 корп 2",
    "pickup_contacts": "+7(925) 111111 Глушко Нина, ООО Инфомобиль, с 9 до 18",
    "supplier_name": "SomeGoodCompany",
    "goods": [{"id": 123123, "quantity": 4, "price": 1000},
              {"id": 342343, "quantity": 1, "price": 5000}],
}  # fmt: skip


@pytest.fixture
def emu():
    with ImskladEmulator() as emulator:
        yield emulator


def make_client(emu, **options):
    values = {"api_key": DEMO_KEY, "base_url": emu.base_url, "timeout": TIMEOUT,
              "max_retries": 0, "backoff": 0}  # fmt: skip
    return ImskladClient(**{**values, **options})


@pytest.fixture
def client(emu):
    return make_client(emu)


def post(emu, type_, action, data, key=DEMO_KEY, **envelope):
    body = {"key": key, "type": type_, "action": action, "data": data, **envelope}
    response = requests.post(emu.base_url + "/", json=body, timeout=TIMEOUT)
    return response.status_code, response.json()


def control(emu, method, path, payload=None):
    response = requests.request(method, f"{emu.base_url}/_emulator/{path}", json=payload,
                                timeout=TIMEOUT)  # fmt: skip
    return response.status_code, response.json()


def mug_order(order_id="SO001", **changes):
    values = {"id": order_id, "name": "Петров Пётр", "guid": f"guid-{order_id}",
              "goods": [ImskladLine(MUG, 2, 450)], "delivery": 300, "total_paid": 1200,
              "delivery_type": 16, "courier": 7, "address": "Москва, ул. Тверская, 1"}  # fmt: skip
    return ImskladOrder(**{**values, **changes})


def wait_for(predicate, seconds=3.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- the document's examples -------------------------------------------------------------------
def test_the_documents_examples_work_as_printed(emu):
    status, stock = post(emu, "goods", "get_stock", {"storage_id": 1, "ids": [124323, 342343]})
    assert (status, stock) == (200, [{"id": 124323, "stock": 10, "reserved": 2},
                                     {"id": 342343, "stock": 25, "reserved": 4}])  # fmt: skip
    good = {"id": 13, "name": "Тестовый товар", "description": "", "price": 100, "cost": 100,
            "image": "http://api.imsklad.ru/img/1.png", "weight": 100, "width": 0, "height": 0,
            "length": 0, "color": 13, "size": ""}  # fmt: skip
    assert post(emu, "goods", "add_good", good)[1] == {"result": "ok", "id": 500001}
    assert post(emu, "goods", "update_good", good)[1] == {"result": "ok", "id": 500001}
    added = post(emu, "order", "add_order", DOC_ORDER)[1]
    assert added["result"] == "ok" and isinstance(added["id"], int)
    update = {k: v for k, v in DOC_ORDER.items() if k not in ("guid", "storage_id")}
    assert post(emu, "order", "update_order", update)[1] == added
    assert post(emu, "preorder", "add_preorder", DOC_PREORDER)[1]["result"] == "ok"
    preorder_update = {k: v for k, v in DOC_PREORDER.items() if k not in ("storage_id",
                                                                          "owner_date")}  # fmt: skip
    assert post(emu, "preorder", "update_preorder",
                {**preorder_update, "date": 1565397798})[1]["result"] == "ok"  # fmt: skip
    doc = {"id": "4423", "storage_id": 1, "code": "TT-23432", "type": 0, "date": 1565397798,
           "goods": DOC_ORDER["goods"]}  # fmt: skip
    assert post(emu, "doc", "add_doc", doc)[1]["result"] == "ok"
    doc_update = {k: v for k, v in doc.items() if k != "storage_id"}
    assert post(emu, "doc", "update_doc", doc_update)[1]["result"] == "ok"
    billing = post(emu, "billing", "get_billing",
                   {"storage_id": 1, "from": 1565397798, "to": 1565397798})[1]  # fmt: skip
    assert billing == {"current_balance": 11067 - 100, "change_of_balance": 0,
                       "from": 1565397798, "to": 1565397798, "billing": []}  # fmt: skip
    assert emu.counts() == {"get_stock": 1, "add_good": 1, "update_good": 1, "add_order": 1,
                            "update_order": 1, "add_preorder": 1, "update_preorder": 1,
                            "add_doc": 1, "update_doc": 1, "get_billing": 1}  # fmt: skip


# -- goods and stock ---------------------------------------------------------------------------
def test_goods_and_stock(emu, client):
    good = ImskladGood("SHOP-1", "Термос 1 л", 1990, 900, weight=640.4, color=15, size="1 л")
    added = client.add_good(good)
    assert client.get_stock([added.system_id]).stocks[added.system_id].stock == 0
    assert control(emu, "POST", "stock", {"id": "SHOP-1", "stock": 12, "reserved": 3})[0] == 200
    stock = client.get_stock([added.system_id, 400103, 77]).stocks
    assert [(s.id, s.stock, s.reserved) for s in stock.values()] == [
        (added.system_id, 12, 3), (400103, 64, 5)]  # fmt: skip

    good.name = "Термос стальной 1 л"
    assert client.update_good(good).system_id == added.system_id
    assert emu.goods["SHOP-1"].fields == {"id": "SHOP-1", "name": "Термос стальной 1 л",
                                          "price": 1990.0, "cost": 900.0, "weight": 640,
                                          "color": 15, "size": "1 л"}  # fmt: skip
    with pytest.raises(AlreadyExists) as again:
        client.add_good(good)
    assert again.value.existing_id == added.system_id
    with pytest.raises(NotFound):
        client.update_good(ImskladGood("SHOP-404", "x", 1, 1))


def test_stock_in_chunks_against_the_emulators_limit():
    with ImskladEmulator(ImskladEmulator.generate_goods(120), max_stock_ids=50,
                         unknown_stock_ids="error") as emu:  # fmt: skip
        client = make_client(emu, stock_chunk_size=50)
        ids = [1_000_000 + n for n in range(1, 121)]
        report = client.get_stock(ids)
        assert len(report.stocks) == 120 and report.requests == 3
        assert [len(r.json()["data"]["ids"]) for r in emu.requests_for("get_stock")] == [50, 50, 20]
        assert report.stocks[1_000_007].stock == 49 and report.stocks[1_000_007].reserved == 1
        with pytest.raises(RequestRejected) as too_many:
            client.get_stock(ids, chunk_size=60)
        assert "at most 50 ids" in too_many.value.detail
        emu.reset()
        found = client.get_stock([1_000_001, 1_000_002, 5, 1_000_003], chunk_size=4)
        assert found.missing == [5] and sorted(found.stocks) == [1_000_001, 1_000_002, 1_000_003]


# -- orders ------------------------------------------------------------------------------------
def test_order_reserve_assembly_warning_and_shipping(emu, client):
    added = client.add_order(mug_order())
    assert emu.goods[MUG].reserved == 5 + 2
    assert client.update_order(mug_order(goods=[(MUG, 3, 450)])).result == "ok"
    assert emu.goods[MUG].reserved == 5 + 3

    emu.set_order_status("SO001", 2)
    warned = client.update_order(mug_order(goods=[(MUG, 9, 450)], address="Москва, Арбат, 5"))
    assert (warned.result, warned.warning, warned.system_id) == (
        "warning", ASSEMBLY_WARNING, added.system_id)  # fmt: skip
    order = emu.orders["SO001"]
    assert order.goods == [{"id": MUG, "quantity": 3, "price": 450.0}]  # goods not saved
    assert order.fields["address"] == "Москва, Арбат, 5"  # the rest is
    assert emu.goods[MUG].reserved == 5 + 3

    emu.set_order_status("SO001", 9)
    assert (emu.goods[MUG].stock, emu.goods[MUG].reserved) == (64 - 3, 5)
    with pytest.raises(RequestRejected) as shipped:
        client.update_order(mug_order())
    assert shipped.value.service_code == 4 and "left the warehouse" in shipped.value.detail
    billing = client.get_billing(0, int(time.time()) + 60)
    fees = [(op.type, op.amount, op.order_id, op.foreign_order_id) for op in billing.operations
            if op.foreign_order_id == "SO001"]  # fmt: skip
    assert fees == [(0, -50.0, added.system_id, "SO001"), (2, -150.0, added.system_id, "SO001")]
    assert billing.current_balance == 11067 - 200


def test_cancelling_releases_the_reserve(emu, client):
    client.add_order(mug_order())
    client.update_order(mug_order(is_canceled=True))
    assert emu.orders["SO001"].status == 10 and emu.goods[MUG].reserved == 5
    with pytest.raises(RequestRejected):
        client.update_order(mug_order())


def test_a_lost_answer_is_adopted_never_duplicated(emu):
    client = make_client(emu, timeout=0.5)
    emu.set_fault("timeout", seconds=1.0)  # the order is created after the client gave up
    with pytest.raises(OutcomeUnknown):
        client.add_order(mug_order("SO-LOST"))
    wait_for(lambda: "SO-LOST" in emu.orders)
    adopted = client.update_order(mug_order("SO-LOST"))
    assert adopted.system_id == emu.orders["SO-LOST"].system_id
    with pytest.raises(AlreadyExists) as again:
        client.add_order(mug_order("SO-LOST"))
    assert again.value.existing_id == adopted.system_id

    emu.set_fault("http_5xx")  # refused before it was processed
    with pytest.raises(OutcomeUnknown):
        client.add_order(mug_order("SO-5XX"))
    with pytest.raises(NotFound):
        client.update_order(mug_order("SO-5XX"))  # the lookup: not created
    assert client.add_order(mug_order("SO-5XX")).system_id == emu.orders["SO-5XX"].system_id
    assert len(emu.requests_for("add_order")) == 4 and len(emu.orders) == 2
    assert emu.goods[MUG].reserved == 5 + 2 + 2


def test_fatal_and_malformed_answers(emu):
    client = make_client(emu, max_retries=1)
    emu.set_fault("fatal_error", processed=True)
    with pytest.raises(OutcomeUnknown) as fatal:
        client.add_good(ImskladGood("SHOP-9", "Плед", 2500, 1200))
    assert fatal.value.service_code == 1 and "SHOP-9" in emu.goods
    emu.set_fault("fatal_error")  # an idempotent call is tried again
    assert client.update_good(ImskladGood("SHOP-9", "Плед", 2600, 1200)).result == "ok"
    assert len(emu.requests_for("update_good")) == 2
    emu.set_fault("malformed_json")
    with pytest.raises(OutcomeUnknown):
        client.add_doc(ImskladDoc("W-1", 1, [(MUG, 1, 450)]))
    assert ("doc", "W-1") in emu.documents


# -- validation ----------------------------------------------------------------------------------
GOOD = {"id": "G-1", "name": "Товар", "price": 10, "cost": 5}
ORDER = {"id": "O-1", "storage_id": 1, "name": "Иван", "discount": 0, "delivery": 0,
         "total_paid": 0, "goods": [{"id": MUG, "quantity": 1, "price": 450}]}  # fmt: skip


@pytest.mark.parametrize(
    ("type_", "action", "data", "code", "message"),
    [
        ("goods", "add_good", {**GOOD, "name": None}, 3, "Incorrect data: field 'name' is required"),
        ("goods", "add_good", {**GOOD, "price": "10"}, 3, "field 'price' must be Float"),
        ("goods", "add_good", {**GOOD, "weight": 1.5}, 3, "field 'weight' must be Int"),
        ("goods", "add_good", {**GOOD, "color": 2}, 3, "field 'color' has an unknown value 2"),
        ("goods", "add_good", {**GOOD, "name": ["x"]}, 3, "field 'name' must be String"),
        ("goods", "get_stock", {"storage_id": 1, "ids": ["a"]}, 3, "field 'ids[0]' must be Int"),
        ("goods", "get_stock", {"storage_id": 2, "ids": [1]}, 2, "Storage 2 not found"),
        ("goods", "get_stock", {"ids": [1]}, 3, "field 'storage_id' is required"),
        ("order", "add_order", {**ORDER, "goods": []}, 3, "field 'goods' must not be empty"),
        ("order", "add_order", {**ORDER, "goods": [{"id": MUG, "quantity": "1", "price": 1}]}, 3,
         "field 'goods[0].quantity' must be Int"),
        ("order", "add_order", {**ORDER, "goods": [{"id": MUG, "quantity": 0, "price": 1}]}, 3,
         "field 'goods[0].quantity' must be above 0"),
        ("order", "add_order", {**ORDER, "goods": [{"id": "NOPE", "quantity": 1, "price": 1}]}, 3,
         "goods[0].id: good NOPE not found"),
        ("order", "add_order", {**ORDER, "is_canceled": 3}, 3, "field 'is_canceled'"),
        ("order", "add_order", {**ORDER, "delivery_type": 5}, 3, "field 'delivery_type'"),
        ("order", "add_order", {**ORDER, "address_obj": {"city": {}}}, 3,
         "field 'address_obj.city' must be String"),
        ("order", "add_order", {**ORDER, "storage_id": None}, 3, "field 'storage_id'"),
        ("order", "update_order", {**ORDER, "id": "O-404"}, 2, "Order O-404 not found"),
        ("preorder", "add_preorder", {"id": "P", "storage_id": 1, "type": 2, "goods": []}, 3,
         "field 'type' has an unknown value 2"),
        ("doc", "update_doc", {"id": "D-404", "type": 0, "goods": ORDER["goods"]}, 2,
         "Document D-404 not found"),
        ("billing", "get_billing", {"storage_id": 1, "from": 10, "to": 5}, 3, "'from' is after"),
        ("billing", "get_billing", {"storage_id": 1, "from": 10}, 3, "field 'to' is required"),
    ],
)  # fmt: skip
def test_validation_per_the_field_tables(emu, type_, action, data, code, message):
    status, answer = post(emu, type_, action, data)
    assert status == 200 and answer["code"] == code
    assert message in answer["error"]
    assert set(answer) == {"error", "code"}


def test_the_envelope(emu):
    assert post(emu, "goods", "get_stock", {"ids": [1]}, key="wrong") == (
        200, {"error": "Access denied: invalid API key", "code": 4})  # fmt: skip
    assert post(emu, "goods", "get_stock", {"ids": [1]}, key=None)[1]["code"] == 4
    assert post(emu, "stock", "get_stock", {})[1] == {
        "error": "Incorrect data: unknown type 'stock'", "code": 3}  # fmt: skip
    assert post(emu, "goods", "get_goods", {})[1] == {
        "error": "Incorrect data: unknown action 'get_goods' for goods", "code": 3}  # fmt: skip
    assert post(emu, "goods", "get_stock", None)[1]["error"] == (
        "Incorrect data: field 'data' is required")  # fmt: skip
    raw = requests.post(emu.base_url + "/", data=b"{oops", timeout=TIMEOUT)
    assert (raw.status_code, raw.json()) == (200, {"error": "Incorrect data", "code": 3})
    elsewhere = requests.post(emu.base_url + "/api", json={}, timeout=TIMEOUT)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, 2)
    assert control(emu, "POST", "config", {"error_http_status": 400})[0] == 200
    assert post(emu, "goods", "get_stock", {"ids": [1]}, key="wrong")[0] == 400
    assert emu.counts() == {"get_stock": 5, "get_goods": 1, "invalid": 1, "unknown": 1}


def test_the_client_reports_the_emulators_refusals(emu, client):
    with pytest.raises(RequestRejected) as colour:
        client.add_good(ImskladGood("G-2", "Шарф", 900, 300, color=99))
    assert colour.value.detail == "Incorrect data: field 'color' has an unknown value 99"
    assert colour.value.item == "good 'G-2'" and "G-2" not in emu.goods
    with pytest.raises(AuthError):
        make_client(emu, api_key="not-the-key").check_key()
    assert client.check_key() is True
    assert [r.json()["data"] for r in emu.requests_for("get_stock")][-1] == {
        "storage_id": 1, "ids": [0]}  # fmt: skip


# -- pre-orders, documents, billing ----------------------------------------------------------------
def test_preorders_documents_and_billing(emu, client):
    preorder = ImskladPreorder("PO-7", 0, [(MUG, 20, 170), ("DEMO-NOTEBOOK", 50, 95)],
                               code="PO00007", date=1740000000, need_pickup=True,
                               pickup_address="Москва, Складская 3",
                               supplier_name="ООО Посуда")  # fmt: skip
    added = client.add_preorder(preorder)
    preorder.goods = [(MUG, 24, 170), ("DEMO-NOTEBOOK", 50, 95)]
    assert client.update_preorder(preorder).system_id == added.system_id
    stored = emu.document("PO-7")
    assert stored.fields["date"] == 1740000000 and stored.goods[0]["quantity"] == 24
    assert control(emu, "POST", "receive", {"id": "PO-7"})[1]["status"] == 1
    assert (emu.goods[MUG].stock, emu.goods["DEMO-NOTEBOOK"].stock) == (64 + 24, 50)
    with pytest.raises(RequestRejected) as posted:
        client.update_preorder(preorder)
    assert posted.value.service_code == 4

    client.add_doc(ImskladDoc("WO-1", 1, [(MUG, 4, 170)], code="Списание"))
    emu.receive_document("WO-1", "doc")
    assert emu.goods[MUG].stock == 64 + 24 - 4

    assert control(emu, "POST", "billing", {"amount": 5000, "comment": "Пополнение"})[0] == 200
    billing = client.get_billing(int(time.time()) - 60, int(time.time()) + 60)
    pickup, top_up = billing.operations
    assert (pickup.type, pickup.amount, pickup.doc_request_id, pickup.comment) == (
        9, -100.0, added.system_id, "Забор товара")  # fmt: skip
    assert (top_up.type, top_up.type_name, top_up.amount) == (1, "Пополнение баланса", 5000.0)
    assert billing.change_of_balance == 4900 and billing.current_balance == 11067 + 4900


# -- callbacks ---------------------------------------------------------------------------------
class Receiver:
    """A tiny shop endpoint: parses every call with api.imsklad_callbacks, answers like the
    document says, records what it received."""

    def __init__(self, key=DEMO_CALLBACK_KEY, known_orders=()):
        self.key = key
        self.known_orders = set(known_orders)
        self.received = []  # (body, parsed call or CallbackError)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = receiver.answer(raw, self.headers)
                body = encode_answer(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/supplier_connector/imsklad/t"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, raw, headers):
        assert headers["Content-Type"] == "application/json"
        try:
            call = parse_callback(raw, self.key)
        except CallbackError as error:
            self.received.append((json.loads(raw), error))
            return error.http_status, error.answer()
        self.received.append((json.loads(raw), call))
        reference = getattr(call.data, "id", None)
        if call.type == "order" and not isinstance(call.data, list) and \
                reference not in self.known_orders:  # fmt: skip
            return 200, error_answer(2, f"Order {reference} not found")
        return 200, ok_answer(reference if call.kind == "order.update_order" else None)

    def kinds(self):
        return [getattr(parsed, "kind", "refused") for _body, parsed in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    shop = Receiver(known_orders={"SO001"})
    yield shop
    shop.close()


def test_callback_walk_shipped_delivered_tracked_and_a_receipt(emu, client, receiver):
    added = client.add_order(mug_order())
    client.add_preorder(ImskladPreorder("PO-8", 0, [(MUG, 10, 170)], code="PO00008"))

    calls = emu.callback_walk("SO001", receiver.url, DEMO_CALLBACK_KEY, statuses=(9, 11),
                              receipt_id="PO-8")  # fmt: skip

    assert receiver.kinds() == ["order.set_status", "order.update_tracks", "order.set_status",
                                "doc.add_doc"]  # fmt: skip
    bodies = [body for body, _parsed in receiver.received]
    assert {body["key"] for body in bodies} == {DEMO_CALLBACK_KEY}
    assert bodies[0]["data"] == {"id": "SO001", "old_status": 0, "new_status": 9,
                                 "system_id": added.system_id, "guid": "guid-SO001"}  # fmt: skip
    assert bodies[1]["data"] == [{"id": "SO001", "guid": "guid-SO001",
                                  "track": f"80{added.system_id:012d}"}]  # fmt: skip
    assert bodies[2]["data"]["old_status"] == 9 and bodies[2]["data"]["new_status"] == 11
    receipt = receiver.received[3][1].data
    assert (receipt.id, receipt.type, receipt.code, receipt.new_status) == ("PO-8", 0, "PO00008", 1)
    assert [(line.id, line.quantity) for line in receipt.goods] == [(MUG, 10)]
    parsed_status = receiver.received[2][1].data
    assert parsed_status.new_status_name == "Вручен клиенту"

    assert [(c.type, c.action, c.status, c.answer) for c in calls] == [
        ("order", "set_status", 200, {"result": "ok"}),
        ("order", "update_tracks", 200, {"result": "ok"}),
        ("order", "set_status", 200, {"result": "ok"}),
        ("doc", "add_doc", 200, {"result": "ok"})]  # fmt: skip
    assert {c.body["key"] for c in emu.callbacks} == {"***"}  # the key is not recorded
    assert emu.orders["SO001"].status == 11 and emu.orders["SO001"].history == [(0, 9), (9, 11)]
    assert (emu.goods[MUG].stock, emu.goods[MUG].reserved) == (64 - 2 + 10, 5)


def test_document_callbacks_partial_receipt_and_status(emu, client, receiver):
    client.add_preorder(ImskladPreorder("PO-9", 0, [(MUG, 10, 170), ("DEMO-NOTEBOOK", 5, 95)]))
    client.add_doc(ImskladDoc("WO-2", 1, [(MUG, 3, 170)]))
    client.add_doc(ImskladDoc("WO-3", 1, [(MUG, 1, 170)]))

    call = emu.callback_document("PO-9", receiver.url, DEMO_CALLBACK_KEY,
                                 quantities={MUG: 8, "DEMO-NOTEBOOK": 0}, action="update_doc")
    assert (call.action, call.status, call.answer) == ("update_doc", 200, {"result": "ok"})
    parsed = receiver.received[-1][1]
    assert parsed.kind == "doc.update_doc"
    assert [(line.id, line.quantity) for line in parsed.data.goods] == [(MUG, 8)]
    assert (parsed.data.old_status, parsed.data.new_status) == (0, 1)
    assert emu.goods[MUG].stock == 64 + 8 and emu.goods["DEMO-NOTEBOOK"].stock == 0

    call = emu.callback_doc_status("WO-2", 2, receiver.url, DEMO_CALLBACK_KEY)
    body = receiver.received[-1][0]
    assert (body["type"], body["action"], call.answer) == ("doc", "set_status", {"result": "ok"})
    assert body["data"] == {"id": "WO-2", "system_id": emu.document("WO-2").system_id,
                            "old_status": 0, "new_status": 2}  # fmt: skip
    assert receiver.received[-1][1].data.new_status_name == "Отменен"
    assert emu.goods[MUG].stock == 64 + 8, "a cancelled write-off moves nothing"
    with pytest.raises(ValueError):
        emu.set_document_status("WO-2", 1)  # a cancelled one is not posted later
    emu.callback_doc_status("WO-3", 1, receiver.url, DEMO_CALLBACK_KEY)
    assert receiver.received[-1][0]["data"]["new_status"] == 1
    assert emu.goods[MUG].stock == 64 + 8 - 1
    with pytest.raises(ValueError):
        emu.set_document_status("WO-3", 2)


def test_callback_walk_over_http_with_refusals(emu, client, receiver):
    client.add_order(mug_order("SO-UNKNOWN"))
    emu.callback_url = receiver.url  # configured once, as an Odoo demo would
    status, calls = control(emu, "POST", "callback_walk", {
        "order_id": "SO-UNKNOWN", "statuses": [1, 2, 3, 4, 5, 6, 7, 8, 9, 11], "track": False})  # fmt: skip
    assert status == 200 and len(calls) == 10
    assert {(c["status"], json.dumps(c["answer"])) for c in calls} == {
        (200, json.dumps({"error": "Order SO-UNKNOWN not found", "code": 2}))}  # fmt: skip
    steps = [(p.data.old_status, p.data.new_status) for _b, p in receiver.received]
    assert steps == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9),
                     (9, 11)]  # fmt: skip

    wrong = emu.callback_walk("SO-UNKNOWN", key="not-the-endpoint-key", statuses=(10,),
                              track=False)  # fmt: skip
    assert (wrong[0].status, wrong[0].answer) == (403, {"error": "Invalid key", "code": 4})
    assert receiver.kinds()[-1] == "refused"
    assert control(emu, "POST", "callback_walk", {"order_id": "NOPE"})[0] == 400
    assert control(emu, "POST", "callback_walk", {"order_id": "SO-UNKNOWN", "receipt_id": "X",
                                                  "background": True})[0] == 400  # fmt: skip
    assert emu.callback_walk("SO-UNKNOWN", statuses=(10,), track=False) == []  # already 10
    assert control(emu, "POST", "callback_walk", {"order_id": "SO-UNKNOWN", "receipt_id": "X"})[0] == 400
    assert len(control(emu, "GET", "callbacks")[1]) == 11


def test_other_callbacks(emu, client, receiver):
    client.add_order(mug_order())
    update = emu.callback_update_order("SO001", receiver.url, address="Москва, Арбат, 7")
    assert (update.status, update.answer) == (200, {"result": "ok", "id": "SO001"})
    body, parsed = receiver.received[-1]
    assert "delivery_type" not in body["data"] and body["data"]["delivery_type_id"] == 16
    assert body["data"]["delivery_courier_id"] == 7 and "storage_id" not in body["data"]
    order = parsed.data.order
    assert (order.address, order.delivery_type, order.courier) == ("Москва, Арбат, 7", 16, 7)
    assert order.goods == [ImskladLine(MUG, 2, 450.0)]

    tracks = emu.callback_update_tracks(["SO001"], receiver.url, errors={"SO001": "Incorrect pvz"})
    assert receiver.received[-1][0]["data"] == [{"id": "SO001", "guid": "guid-SO001",
                                                 "err": "Incorrect pvz"}]  # fmt: skip
    assert tracks.answer == {"result": "ok"}
    status, call = control(emu, "POST", "callback", {
        "type": "good", "action": "get_good", "data": {"id": 400103}, "url": receiver.url})  # fmt: skip
    assert status == 200 and call["answer"] == {"result": "ok"} and call["body"]["key"] == "***"
    assert receiver.kinds()[-1] == "good.get_good"

    dead = emu.send_callback("order", "set_status", {}, url="http://127.0.0.1:9/nowhere")
    assert dead.status is None and dead.error
    with pytest.raises(ValueError):
        ImskladEmulator().send_callback("order", "set_status", {})


def test_background_walk_and_control_routes(emu, client, receiver):
    client.add_order(mug_order())
    status, started = control(emu, "POST", "callback_walk", {
        "order_id": "SO001", "url": receiver.url, "statuses": [9], "background": True})  # fmt: skip
    assert (status, started) == (200, {"started": True})
    wait_for(lambda: len(receiver.received) == 2)
    assert receiver.kinds() == ["order.set_status", "order.update_tracks"]

    orders = control(emu, "GET", "orders")[1]
    assert [(o["id"], o["status"]) for o in orders] == [("SO001", 9)]
    assert control(emu, "POST", "order_status", {"order_id": "SO001", "status": 11})[1] == {
        "id": "SO001", "old_status": 9, "status": 11}  # fmt: skip
    goods = {g["id"]: g for g in control(emu, "GET", "goods")[1]}
    assert goods[MUG]["stock"] == 62 and goods[MUG]["system_id"] == 400103
    assert control(emu, "GET", "billing")[1]["balance"] == 11067 - 200
    assert control(emu, "GET", "documents")[1] == []
    assert control(emu, "POST", "config", {"nonsense": 1})[0] == 400
    assert control(emu, "POST", "config", {"callback_url": receiver.url})[1]["callback_url"] == (
        receiver.url)  # fmt: skip
    assert control(emu, "DELETE", "callbacks")[1] == {"status": "ok"} and emu.callbacks == []


def test_cli_runs_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", "imsklad", "--port", "0", "--catalogue", "30"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"IMSKLAD emulator on (http://127\.0\.0\.1:\d+) \(api key (\S+); "
                             r"callbacks to nowhere yet\)", line)  # fmt: skip
        assert match, line
        assert match.group(2) == DEMO_KEY
        client = ImskladClient(api_key=DEMO_KEY, base_url=match.group(1), timeout=TIMEOUT)
        assert client.get_stock([1_000_030]).stocks[1_000_030].stock == 30 * 7 % 50
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
