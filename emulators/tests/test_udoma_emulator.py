"""UDOMA emulator over plain HTTP: the document's examples as printed, the key (missing, wrong,
regenerated), body checks and every error code of the document, groups rule, turn-off switches,
orders by window (from exclusive, to inclusive), control routes, faults and the CLI."""

import json
import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from emulators.udoma import UdomaEmulator
from emulators.udoma_demo import DEMO_KEY, DEMO_UNKNOWN_PRODUCT
from emulators.udoma_store import format_time, parse_time

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 5
NOW = datetime(2026, 11, 28, 18, 0, 0)

# The document's request examples, as printed (descriptions shortened).
DOC_NOMENCLATURE_V1 = {
    "turnOffMissingNomenclature": False, "moveNomenclatureInGroups": True,
    "nomenclatures": [
        {"sourceSystemId": "n0001", "groupSourceSystemId": "ng00101",
         "name": "Молоко Раменское ультрапастеризованное 3,2%, 950г",
         "shortDescription": "Ультрапастеризованное молоко", "description": "Состав",
         "vendorCode": "2342-v3", "barCode": "123456789", "alcohol": False, "tobacco": False},
        {"sourceSystemId": "n0002", "groupSourceSystemId": "ng00102",
         "name": "Кефир Раменский жирность 3.2%, тетрапак, объем 1л", "vendorCode": "2342-v4",
         "alcohol": False, "tobacco": False},
        {"sourceSystemId": "n0003", "groupSourceSystemId": "ng00103",
         "name": "Творог Раменский Обезжиренный 0,2% 170г", "vendorCode": "2342-v5",
         "barCode": "333456789123777"}]}  # fmt: skip
DOC_ASSORTMENT_V1 = {"turnOffMissingAssortment": False, "shopAssortment": [
    {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "n0001", "remains": 2,
     "price": 123.32},
    {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "n0001", "remains": 12,
     "price": 100, "salePrice": 90, "salePercent": 10},
    {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "n0002", "remains": 80,
     "price": 58.3}]}  # fmt: skip
DOC_ASSORTMENT_V2 = {"turnOffMissingAssortment": False, "shopSourceSystemId": "s001",
                     "shopAssortment": [
                         {"nomenclatureSourceSystemId": "n0001", "remains": 2, "price": 123.32},
                         {"nomenclatureSourceSystemId": "n0003", "remains": 80, "price": 58.3}]}


@pytest.fixture
def emu():
    with UdomaEmulator(now=lambda: NOW) as emulator:
        yield emulator


def post(emu, path, body, key=DEMO_KEY, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["X-API-KEY"] = key
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = requests.post(f"{emu.api_url}/{path}", data=data, headers=headers,
                             timeout=TIMEOUT)  # fmt: skip
    return response.status_code, response.json()


def control(emu, method, path, payload=None):
    response = requests.request(method, f"{emu.base_url}/_emulator/{path}", json=payload,
                                timeout=TIMEOUT)  # fmt: skip
    return response.status_code, response.json()


def item(source_id, group="g-home", **fields):
    return {"sourceSystemId": source_id, "groupSourceSystemId": group, "name": source_id,
            **fields}


# -- the document's examples -----------------------------------------------------------------
def test_the_documents_examples_work_as_printed(emu):
    status, answer = post(emu, "v1/import-nomenclature", DOC_NOMENCLATURE_V1)
    assert (status, answer) == (200, {"code": "import.successful",
                                      "detail": {"imported": 3, "turnedOff": 0}})
    milk = emu.nomenclature["n0001"]
    assert milk.group_id == "ng00101" and milk.fields["okeiCode"] == 796
    assert milk.fields["barCode"] == "123456789"
    v2 = {"shopSourceSystemId": "s001",
          "nomenclatures": [{k: v for k, v in row.items() if k != "groupSourceSystemId"}
                            for row in DOC_NOMENCLATURE_V1["nomenclatures"]]}  # fmt: skip
    assert post(emu, "v2/import-nomenclature", v2)[0] == 200
    assert emu.nomenclature["n0001"].shops == {"s001"}
    assert post(emu, "v1/import-assortment", DOC_ASSORTMENT_V1)[0] == 200
    # the example repeats n0001: the last row wins; the missing sale value is computed
    assert emu.assortment[("s001", "n0001")] == {"remains": 12, "price": 100, "salePrice": 90,
                                                 "salePercent": 10}  # fmt: skip
    status, answer = post(emu, "v2/import-assortment", DOC_ASSORTMENT_V2)
    assert status == 200 and answer["detail"]["imported"] == 2
    status, answer = post(emu, "v1/export-orders", {
        "shopSourceSystemId": "s001", "dateFromUtc": "2010-09-10T15:38:51+05:00",
        "dateToUtc": "2030-09-10T17:38:51+05:00"})  # fmt: skip
    assert status == 200 and answer["code"] == "search.successful"
    assert [o["ticketNumber"] for o in answer["detail"]["orders"]] == ["00037", "00038"]
    assert emu.counts() == {"v1/import-nomenclature": 1, "v2/import-nomenclature": 1,
                            "v1/import-assortment": 1, "v2/import-assortment": 1,
                            "v1/export-orders": 1}  # fmt: skip


# -- the key ---------------------------------------------------------------------------------
def test_key_missing_wrong_and_regenerated(emu):
    body = {"shopSourceSystemId": "s001"}
    assert post(emu, "v1/export-orders", body, key=None) == (403, {
        "code": "empty.api.key.not.allowed", "message": "Отсутствует API-ключ в заголовке запроса"})
    assert post(emu, "v1/export-orders", body, key="other")[1]["code"] == "api.key.not.found"
    assert post(emu, "v1/export-orders", body)[0] == 200
    status, answer = control(emu, "POST", "regenerate_key", {})
    assert status == 200 and answer["key"] != DEMO_KEY
    assert post(emu, "v1/export-orders", body)[1]["code"] == "api.key.not.found"
    assert post(emu, "v1/export-orders", body, key=answer["key"])[0] == 200
    assert control(emu, "GET", "key")[1] == {"key": answer["key"]}
    assert emu.regenerate_key("fixed") == "fixed" and emu.retired_keys == [DEMO_KEY, answer["key"]]


def test_key_is_checked_before_the_body(emu):
    assert post(emu, "v1/import-nomenclature", b"{not json", key="bad")[0] == 403


# -- body checks -----------------------------------------------------------------------------
def test_malformed_body_and_content_type(emu):
    assert post(emu, "v1/import-nomenclature", b"{not json") == (
        400, {"message": "Возможно невалидный json-объект запроса"})
    assert post(emu, "v1/import-nomenclature", b"[1, 2]")[0] == 400
    status, answer = post(emu, "v1/import-nomenclature", DOC_NOMENCLATURE_V1,
                          content_type="text/plain")
    assert status == 415 and "code" not in answer
    assert emu.nomenclature == {}


def test_required_fields_are_invalid_json(emu):
    status, answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [
        {"sourceSystemId": "a", "name": "A"}, {"groupSourceSystemId": "g-home", "name": ""}, 5]})
    assert (status, answer["code"]) == (400, "invalid.json")
    assert answer["detail"]["fields"] == [
        "nomenclatures[0].groupSourceSystemId", "nomenclatures[1].name",
        "nomenclatures[1].sourceSystemId", "nomenclatures[2]"]  # fmt: skip
    assert post(emu, "v1/import-nomenclature", {})[1]["detail"]["fields"] == ["nomenclatures"]
    assert post(emu, "v2/import-nomenclature", {"nomenclatures": []})[1]["detail"] == {
        "fields": ["shopSourceSystemId"]}
    answer = post(emu, "v1/import-assortment", {"shopAssortment": [
        {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "a", "remains": "2",
         "price": 1, "salePrice": "x"}]})[1]  # fmt: skip
    assert answer["detail"]["fields"] == ["shopAssortment[0].remains",
                                          "shopAssortment[0].salePrice"]
    assert post(emu, "v2/import-assortment", {"shopAssortment": []})[1]["detail"] == {
        "fields": ["shopSourceSystemId"]}
    assert post(emu, "v1/export-orders", {"dateFromUtc": "yesterday"})[1]["detail"] == {
        "fields": ["dateFromUtc", "shopSourceSystemId"]}
    assert emu.nomenclature == {} and emu.assortment == {}


# -- nomenclature rules ------------------------------------------------------------------------
def test_doubles_and_barcode_doubles(emu):
    status, answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [
        item("a"), item("b"), item("a")]})
    assert (status, answer["code"]) == (400, "nomenclature.doubles")
    assert answer["detail"] == {"sourceSystemIds": ["a"]}
    answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [
        item("a", barCode="111"), item("b", barCode="111")]})[1]
    assert answer == {"code": "nomenclature.barcode.doubles",
                      "message": "Есть дубликаты в штрих-кодах позиций номенклатуры",
                      "detail": {"barCodes": ["111"]}}  # fmt: skip
    assert post(emu, "v1/import-nomenclature", {"nomenclatures": [item("a", barCode="111")]})[0] \
        == 200  # fmt: skip
    # another item of the organisation has it: refused; the item itself may keep it
    answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [item("b", barCode="111")]})[1]
    assert answer["code"] == "nomenclature.barcode.doubles"
    assert post(emu, "v1/import-nomenclature", {"nomenclatures": [item("a", barCode="111")]})[0] \
        == 200  # fmt: skip
    # once "a" is deleted (or takes another barcode), "b" may have it
    post(emu, "v1/import-nomenclature", {"nomenclatures": [item("a", barCode="111", deleted=True)]})
    assert post(emu, "v1/import-nomenclature", {"nomenclatures": [item("b", barCode="111")]})[0] \
        == 200  # fmt: skip
    assert emu.nomenclature["a"].deleted is True and "b" in emu.nomenclature


def test_groups_unknown_and_with_subgroups(emu):
    answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [
        item("a", "nope"), item("b", "g-goods")]})[1]
    assert answer["code"] == "nomenclature.group.source.system.id.not.found"
    assert answer["detail"] == {"groupSourceSystemIds": ["nope"]}
    answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [item("b", "g-goods")]})[1]
    assert answer["code"] == "nomenclature.group.parent.source.system.id"
    assert answer["detail"] == {"groupSourceSystemIds": ["g-goods"]}
    assert emu.nomenclature == {}
    # v2 has no groups: the same item goes
    assert post(emu, "v2/import-nomenclature", {"shopSourceSystemId": "s002",
                                                "nomenclatures": [item("b", "g-goods")]})[0] == 200


def test_a_group_holding_items_gets_no_subgroups(emu):
    assert post(emu, "v1/import-nomenclature", {"nomenclatures": [item("a", "g-home")]})[0] == 200
    status, answer = control(emu, "POST", "groups", {"source_id": "g-kitchen",
                                                     "parent_id": "g-home"})
    assert status == 400 and "either items or sub-groups" in answer["error"]
    assert control(emu, "POST", "groups", {"source_id": "g-garden", "name": "Сад",
                                           "parent_id": "g-goods"})[0] == 200
    assert post(emu, "v1/import-nomenclature", {"nomenclatures": [item("c", "g-garden")]})[0] \
        == 200  # fmt: skip
    assert control(emu, "POST", "groups", {"source_id": "x", "parent_id": "nope"})[0] == 400
    groups = {g["source_id"]: g["parent_id"] for g in control(emu, "GET", "groups")[1]}
    assert groups["g-garden"] == "g-goods" and "g-kitchen" not in groups


def test_move_in_groups_units_and_turn_off(emu):
    post(emu, "v1/import-nomenclature", {"nomenclatures": [
        item("a", "g-home", okeiCode=166), item("b", "g-home", okeiCode=5), item("c")]})
    assert emu.nomenclature["a"].fields["okeiCode"] == 166
    assert emu.nomenclature["b"].fields["okeiCode"] == 796
    post(emu, "v1/import-assortment", {"shopAssortment": [
        {"shopSourceSystemId": shop, "nomenclatureSourceSystemId": source_id, "remains": 5,
         "price": 10} for shop in ("s001", "s002") for source_id in "abc"]})  # fmt: skip
    post(emu, "v1/import-nomenclature", {"moveNomenclatureInGroups": False,
                                         "nomenclatures": [item("a", "g-clothes")]})
    assert emu.nomenclature["a"].group_id == "g-home"
    answer = post(emu, "v1/import-nomenclature", {"turnOffMissingNomenclature": True,
                                                  "nomenclatures": [item("a", "g-clothes")]})[1]
    assert answer["detail"] == {"imported": 1, "turnedOff": 2}
    assert emu.nomenclature["a"].group_id == "g-clothes" and not emu.nomenclature["a"].turned_off
    assert emu.nomenclature["b"].turned_off and emu.nomenclature["c"].turned_off
    assert emu.assortment[("s002", "b")]["price"] == 0 and emu.assortment[("s001", "a")]["price"] \
        == 10  # fmt: skip
    # v2 ignores turnOffMissingNomenclature (not in its table)
    post(emu, "v2/import-nomenclature", {"shopSourceSystemId": "s001",
                                         "turnOffMissingNomenclature": True,
                                         "nomenclatures": [item("b")]})
    assert not emu.nomenclature["b"].turned_off and not emu.nomenclature["a"].turned_off


def test_v2_nomenclature_shop_must_be_bound(emu):
    answer = post(emu, "v2/import-nomenclature", {"shopSourceSystemId": "s404",
                                                  "nomenclatures": [item("a")]})[1]
    assert answer["code"] == "shop.not.found.by.source.system.id"
    assert answer["detail"] == {"shopSourceSystemIds": ["s404"]}


# -- assortment rules ------------------------------------------------------------------------
def test_assortment_unknown_shop_sale_values_and_turn_off(emu):
    rows = {"shopAssortment": [
        {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "a", "remains": 1,
         "price": 200, "salePrice": 150},
        {"shopSourceSystemId": "s009", "nomenclatureSourceSystemId": "a", "remains": 1,
         "price": 200}]}  # fmt: skip
    status, answer = post(emu, "v1/import-assortment", rows)
    assert (status, answer["code"]) == (400, "shop.not.found.by.source.system.id")
    assert answer["detail"] == {"shopSourceSystemIds": ["s009"]} and emu.assortment == {}
    rows["shopAssortment"].pop()
    answer = post(emu, "v1/import-assortment", rows)[1]
    assert answer["detail"]["unknownNomenclature"] == ["a"]
    assert emu.assortment[("s001", "a")]["salePercent"] == 25.0
    post(emu, "v2/import-assortment", {"shopSourceSystemId": "s002", "shopAssortment": [
        {"nomenclatureSourceSystemId": "a", "remains": 3, "price": 100, "salePercent": 15},
        {"nomenclatureSourceSystemId": "b", "remains": 3, "price": 100}]})
    assert emu.assortment[("s002", "a")]["salePrice"] == 85.0
    answer = post(emu, "v2/import-assortment", {
        "shopSourceSystemId": "s002", "turnOffMissingAssortment": True,
        "shopAssortment": [{"nomenclatureSourceSystemId": "b", "remains": 4, "price": 90}]})[1]
    assert answer["detail"]["turnedOff"] == 1
    assert emu.assortment[("s002", "a")] == {"remains": 0, "price": 0, "salePrice": None,
                                             "salePercent": None}  # fmt: skip
    assert emu.assortment[("s001", "a")]["price"] == 200  # the other shop is untouched
    assert post(emu, "v2/import-assortment", {"shopSourceSystemId": "s404",
                                              "shopAssortment": []})[1]["code"] \
        == "shop.not.found.by.source.system.id"  # fmt: skip


# -- orders ----------------------------------------------------------------------------------
def test_orders_by_window_from_exclusive_to_inclusive(emu):
    orders = control(emu, "GET", "orders")[1]
    assert len(orders) == 4 and all(o["dateUtc"].endswith("+05:00") for o in orders)
    first = parse_time(orders[0]["dateUtc"])
    assert first == NOW - timedelta(hours=5)
    third = NOW - timedelta(hours=2)  # the s001 order with the unknown product

    def tickets(start, end, shop="s001"):
        body = {"shopSourceSystemId": shop}
        if start is not None:
            body["dateFromUtc"] = start
        if end is not None:
            body["dateToUtc"] = end
        return [o["ticketNumber"] for o in post(emu, "v1/export-orders", body)[1]["detail"]
                ["orders"]]  # fmt: skip

    iso = lambda moment: moment.isoformat() + "+00:00"  # noqa: E731
    assert tickets(None, None) == ["00037", "00038"]
    assert tickets(iso(first), iso(third)) == ["00038"]  # from is exclusive, to inclusive
    assert tickets(iso(first - timedelta(microseconds=1)), iso(third - timedelta(seconds=1))) \
        == ["00037"]  # fmt: skip
    assert tickets(format_time(first, 3), None) == ["00038"]  # any offset
    assert tickets(None, None, "s002") == ["00021", "00022"]
    assert tickets(None, None, "s404") == []
    emu.export_all_shops = True
    assert tickets(iso(third), None) == ["00022"]
    order = next(o for o in orders if o["ticketNumber"] == "00038")
    assert order["deliveryCost"] == 150
    assert order["positions"][1]["nomenclatureSourceSystemId"] == DEMO_UNKNOWN_PRODUCT


def test_orders_v2_path_does_not_exist(emu):
    status, answer = post(emu, "v2/export-orders", {"shopSourceSystemId": "s001"})
    assert (status, answer["code"]) == (404, "not.found")


def test_control_orders_shops_and_config(emu):
    status, added = control(emu, "POST", "orders", {
        "shopSourceSystemId": "s001", "orderId": "o-new", "ticketNumber": "00099",
        "dateUtc": "2026-11-28T17:59:00Z", "paymentMethod": "cash",
        "positions": [{"nomenclatureSourceSystemId": "x", "itemsCount": 1, "purchasePrice": 1}]})
    assert status == 200 and added["dateUtc"] == "2026-11-28T22:59:00.000000+05:00"
    assert control(emu, "POST", "orders", {"generate": 10, "start": "2026-11-01T00:00:00Z"})[1] \
        == {"added": 10}  # fmt: skip
    assert len(emu.orders) == 15
    assert control(emu, "POST", "orders", {"orderId": "x"})[0] == 400
    assert control(emu, "POST", "shops", {"source_id": "s003", "name": "Третий"})[1]["s003"] \
        == "Третий"  # fmt: skip
    assert "s001" not in control(emu, "POST", "shops", {"source_id": "s001", "bound": False})[1]
    assert post(emu, "v2/import-assortment", {"shopSourceSystemId": "s001",
                                              "shopAssortment": []})[0] == 400
    status, config = control(emu, "POST", "config", {"name_items_in_errors": False})
    assert status == 200 and config["name_items_in_errors"] is False
    answer = post(emu, "v1/import-nomenclature", {"nomenclatures": [item("a"), item("a")]})[1]
    assert answer["code"] == "nomenclature.doubles" and "detail" not in answer
    assert control(emu, "POST", "config", {"colour": 1})[0] == 400
    post(emu, "v1/import-nomenclature", {"nomenclatures": [item("z")]})
    assert [row["sourceSystemId"] for row in control(emu, "GET", "nomenclature")[1]] == ["z"]


# -- faults and limits -------------------------------------------------------------------------
def test_faults_apply_to_the_methods(emu):
    emu.set_fault("http_5xx", count=1, match="export-orders")
    assert post_raw(emu, "v1/export-orders").status_code == 500
    assert post_raw(emu, "v1/export-orders").status_code == 200
    emu.set_fault("malformed_json", count=1)
    response = post_raw(emu, "v1/export-orders")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    emu.set_fault("rate_limit", count=1, retry_after=2)
    response = post_raw(emu, "v1/export-orders")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")
    assert response.json()["code"] == "too.many.requests"
    assert emu.counts() == {"v1/export-orders": 4}


def post_raw(emu, path):
    return requests.post(f"{emu.api_url}/{path}", json={"shopSourceSystemId": "s001"},
                         headers={"X-API-KEY": DEMO_KEY}, timeout=TIMEOUT)


def test_time_helpers():
    assert parse_time("2019-09-19T13:41:47.061163+05:00") == datetime(2019, 9, 19, 8, 41, 47,
                                                                      61163)
    assert parse_time("2019-09-19T13:41:47Z") == datetime(2019, 9, 19, 13, 41, 47)
    assert parse_time("2019-09-19 13:41") == datetime(2019, 9, 19, 13, 41)
    assert parse_time("2019-09-19") is None and parse_time(None) is None
    assert format_time(datetime(2019, 9, 19, 8, 41, 47), -3.5) == \
        "2019-09-19T05:11:47.000000-03:30"  # fmt: skip


def test_generated_orders_for_benchmarks():
    orders = UdomaEmulator.generate_orders(1000, NOW)
    assert len({o["orderId"] for o in orders}) == 1000
    assert {o["shopSourceSystemId"] for o in orders} == {"s001", "s002"}
    assert all(1 <= len(o["positions"]) <= 3 for o in orders)


def test_cli_runs_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", "udoma", "--port", "0", "--catalogue", "demo",
         "--orders", "50"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"UDOMA emulator on (http://127\.0\.0\.1:\d+/api/online/integration) "
                             r"\(api key (\S+); shops s001, s002\)", line)  # fmt: skip
        assert match, line
        assert match.group(2) == DEMO_KEY
        response = requests.post(f"{match.group(1)}/v1/export-orders",
                                 json={"shopSourceSystemId": "s001"},
                                 headers={"X-API-KEY": DEMO_KEY}, timeout=TIMEOUT)
        assert len(response.json()["detail"]["orders"]) == 2 + 25  # demo + half the synthetic
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
