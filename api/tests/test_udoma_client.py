"""UdomaClient against ``responses``: every method in v1 and v2, the document's examples as bodies,
checks before sending, chunks, item-level refusals mapped to items (named or found by halving),
the turn-off rule, every error path (key refused or regenerated, shop not found, validation,
429, 5xx, timeouts, malformed answers, wrong URL) and the key kept secret."""

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
import requests
from http_helpers import FakeTime, json_body

from api.errors import ApiError, AuthError, RateLimited, RequestRejected, ServiceUnavailable
from api.udoma import (
    UDOMA_DEFAULT_URL,
    UdomaAssortmentRow,
    UdomaClient,
    UdomaGroup,
    UdomaNomenclature,
    group_conflicts,
)
from api.udoma_errors import (
    ApiKeyRefused,
    DuplicateBarcodes,
    GroupHasSubgroups,
    InvalidJson,
    ShopNotFound,
    UdomaAuthError,
    UdomaBadResponse,
    UdomaRateLimited,
    UdomaRejected,
    UdomaUnavailable,
    build_error,
    error_parts,
)

BASE = UDOMA_DEFAULT_URL
KEY = "9af80846-7b7f-496d-a249-91c6fc724dc1"
NOW = datetime(2026, 11, 28, 18, 30, 15)
NOMENCLATURE_V1 = f"{BASE}/v1/import-nomenclature"
NOMENCLATURE_V2 = f"{BASE}/v2/import-nomenclature"
ASSORTMENT_V1 = f"{BASE}/v1/import-assortment"
ASSORTMENT_V2 = f"{BASE}/v2/import-assortment"
ORDERS = f"{BASE}/v1/export-orders"
OK = {"code": "import.successful"}

# The document's v1 nomenclature example (descriptions shortened), as our items.
DOC_ITEMS = [
    UdomaNomenclature("n0001", "Молоко Раменское ультрапастеризованное 3,2%, 950г", "ng00101",
                      short_description="Ультрапастеризованное молоко", description="Состав",
                      vendor_code="2342-v3", barcode="123456789"),
    UdomaNomenclature("n0002", "Кефир Раменский жирность 3.2%, тетрапак, объем 1л", "ng00102",
                      short_description="Это 100% натуральный кисломолочный продукт",
                      description="Состав", vendor_code="2342-v4"),
    UdomaNomenclature("n0003", "Творог Раменский Обезжиренный 0,2% 170г", "ng00103",
                      short_description="Обезжиренный творог", description="100% натуральный.",
                      vendor_code="2342-v5", barcode="333456789123777"),
]  # fmt: skip
# The document's export-orders answer.
DOC_ORDERS = {"code": "search.successful", "detail": {"orders": [
    {"shopSourceSystemId": "s001", "orderId": "a4b74a75-3092-4672-a3cf-beeba96e4be8",
     "ticketNumber": "00037", "dateUtc": "2019-09-19T13:41:47.061163+05:00",
     "paymentMethod": "terminal",
     "positions": [{"nomenclatureSourceSystemId": "n001", "itemsCount": 2, "purchasePrice": 123.32},
                   {"nomenclatureSourceSystemId": "n002", "itemsCount": 3, "purchasePrice": 70}]},
    {"shopSourceSystemId": "s002", "orderId": "10b3543b-7872-4ec3-a4d8-ef6daca1c2f6",
     "ticketNumber": "00021", "dateUtc": "2019-09-19T17:41:47.061163+05:00",
     "paymentMethod": "cash",
     "positions": [{"nomenclatureSourceSystemId": "n002", "itemsCount": 1, "purchasePrice": 70}]},
]}}  # fmt: skip


def make_client(fake, version="v1", **options):
    values = {"sleep": fake.sleep, "clock": fake.clock, "now": lambda: NOW, "backoff": 0.5,
              "max_retries": 2}  # fmt: skip
    key = options.pop("api_key", KEY)
    return UdomaClient(BASE, key, version, **{**values, **options})


@pytest.fixture
def v1(fake):
    return make_client(fake, "v1")


@pytest.fixture
def v2(fake):
    return make_client(fake, "v2")


def items(count, prefix="p", group="g1"):
    return [UdomaNomenclature(f"{prefix}{n}", f"Item {n}", group,
                              barcode=f"4{ord(prefix[0]):03d}{n:09d}")
            for n in range(count)]  # fmt: skip


def refusing(ids, code="nomenclature.doubles", name_items=False):
    """A responses callback: 400 ``code`` for any request that holds one of ``ids``."""

    def callback(request):
        body = json.loads(request.body)
        rows = body.get("nomenclatures") or body.get("shopAssortment") or []
        bad = [row.get("sourceSystemId") or row.get("nomenclatureSourceSystemId")
               for row in rows if (row.get("sourceSystemId")
                                   or row.get("nomenclatureSourceSystemId")) in ids]  # fmt: skip
        if bad:
            detail = {"sourceSystemIds": bad} if name_items else {}
            return 400, {}, json.dumps({"code": code, "detail": detail})
        return 200, {}, json.dumps(OK)

    return callback


# -- construction and headers --------------------------------------------------------------
def test_version_must_be_v1_or_v2():
    with pytest.raises(ValueError, match="v1, v2"):
        UdomaClient(BASE, KEY, "v3")
    assert UdomaClient(BASE, KEY, "V1").version == "v1"
    assert UdomaClient(None, KEY).base_url == BASE
    assert UdomaClient(None, KEY).version == "v2"


def test_key_header_json_body_and_regenerated_key(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    v1.import_nomenclature(DOC_ITEMS[:1])
    request = mocked.calls[0].request
    assert request.headers["X-API-KEY"] == KEY
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Молоко".encode() in request.body  # UTF-8, not \\u escapes
    v1.api_key = "new-key-after-regeneration"
    v1.import_nomenclature(DOC_ITEMS[:1])
    assert mocked.calls[1].request.headers["X-API-KEY"] == "new-key-after-regeneration"
    v1.api_key = ""
    v1.import_nomenclature(DOC_ITEMS[:1])
    assert "X-API-KEY" not in mocked.calls[2].request.headers


# -- check_key -----------------------------------------------------------------------------
def test_check_key_is_an_empty_orders_window(v2, mocked):
    mocked.add("POST", ORDERS, json={"code": "search.successful", "detail": {"orders": []}})
    assert v2.check_key() is True
    body = json_body(mocked.calls[0])
    assert mocked.calls[0].request.url == ORDERS  # v1 even for a v2 connection
    assert body == {"shopSourceSystemId": "supplier-connector-key-check",
                    "dateFromUtc": "2026-11-28T18:30:15+00:00",
                    "dateToUtc": "2026-11-28T18:30:15+00:00"}  # fmt: skip


def test_check_key_refused_key_says_it_was_regenerated(v1, mocked):
    mocked.add("POST", ORDERS, status=403,
               json={"code": "api.key.not.found", "message": f"bad key {KEY}"})  # fmt: skip
    with pytest.raises(ApiKeyRefused) as caught:
        v1.check_key()
    error = caught.value
    assert isinstance(error, AuthError)
    assert error.run_level is True
    assert error.code == "api_key_refused"
    assert error.service_code == "api.key.not.found"
    assert "regenerated" in error.message and "Integration settings" in error.message
    assert KEY not in str(error) and "***" in error.detail


def test_check_key_without_key(fake, mocked):
    mocked.add("POST", ORDERS, status=403, json={"code": "empty.api.key.not.allowed"})
    client = make_client(fake, api_key="")
    with pytest.raises(UdomaAuthError) as caught:
        client.check_key()
    assert caught.value.run_level is True and caught.value.code == "auth"
    assert "No API key" in caught.value.message


def test_check_key_400_proves_the_key_unless_the_named_shop_is_unknown(v1, mocked):
    mocked.add("POST", ORDERS, status=400, json={"code": "shop.not.found.by.source.system.id"})
    assert v1.check_key() is True
    with pytest.raises(ShopNotFound) as caught:
        v1.check_key("s404")
    assert caught.value.shop_source_id == "s404"
    assert json_body(mocked.calls[1])["shopSourceSystemId"] == "s404"


def test_check_key_wrong_url_or_web_page_fails(v1, mocked):
    mocked.add("POST", ORDERS, status=404, body="<html>Not Found</html>")
    with pytest.raises(UdomaRejected, match="check the API URL") as caught:
        v1.check_key()
    assert caught.value.run_level is True
    mocked.replace("POST", ORDERS, status=200, body="<html>Welcome</html>")
    with pytest.raises(UdomaBadResponse):
        v1.check_key()
    mocked.replace("POST", ORDERS, status=200, json={"hello": "world"})
    with pytest.raises(UdomaBadResponse, match="orders list"):
        v1.check_key()
    mocked.replace("POST", ORDERS, status=400, body="Bad Request")  # not UDOMA's answer
    with pytest.raises(InvalidJson):
        v1.check_key()


def test_check_shop_is_an_empty_v2_assortment(v1, mocked):
    mocked.add("POST", ASSORTMENT_V2, json=OK)
    assert v1.check_shop("s001") is True
    assert json_body(mocked.calls[0]) == {"turnOffMissingAssortment": False,
                                          "shopSourceSystemId": "s001", "shopAssortment": []}
    mocked.replace("POST", ASSORTMENT_V2, status=400,
                   json={"code": "shop.not.found.by.source.system.id"})
    with pytest.raises(ShopNotFound, match="'s404'"):
        v1.check_shop("s404")
    mocked.replace("POST", ASSORTMENT_V2, status=400, json={"code": "invalid.json"})
    assert v1.check_shop("s001") is None
    mocked.replace("POST", ASSORTMENT_V2, status=403, json={"code": "api.key.not.found"})
    with pytest.raises(ApiKeyRefused):
        v1.check_shop("s001")
    with pytest.raises(ValueError):
        v1.check_shop("")


# -- import-nomenclature v1 ------------------------------------------------------------------
def test_v1_nomenclature_body_is_the_documents(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature(DOC_ITEMS, move_in_groups=True)
    body = json_body(mocked.calls[0])
    assert body["turnOffMissingNomenclature"] is False
    assert body["moveNomenclatureInGroups"] is True
    assert body["nomenclatures"][0] == {
        "sourceSystemId": "n0001", "groupSourceSystemId": "ng00101",
        "name": "Молоко Раменское ультрапастеризованное 3,2%, 950г",
        "shortDescription": "Ультрапастеризованное молоко", "description": "Состав",
        "vendorCode": "2342-v3", "barCode": "123456789", "alcohol": False, "tobacco": False,
        "deleted": False}  # fmt: skip
    assert "barCode" not in body["nomenclatures"][1]  # the document's second item has none
    assert result.accepted == ["n0001", "n0002", "n0003"]
    assert result.ok and result.requests == 1 and not result.turned_off


def test_v1_nomenclature_mappings_units_flags_and_deleted(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature([
        {"source_id": "w1", "name": "Вино", "group_source_id": "g", "okei_code": 112,
         "alcohol": True},
        {"source_id": "c1", "name": "Сигареты", "group_source_id": "g", "okei_code": "778",
         "tobacco": True, "deleted": True},
        {"source_id": "m1", "name": "Метр кабеля", "group_source_id": "g", "okei_code": 6},
    ])  # fmt: skip
    rows = json_body(mocked.calls[0])["nomenclatures"]
    assert (rows[0]["okeiCode"], rows[0]["alcohol"], rows[0]["tobacco"]) == (112, True, False)
    assert (rows[1]["okeiCode"], rows[1]["tobacco"], rows[1]["deleted"]) == (778, True, True)
    assert rows[2]["okeiCode"] == 796
    assert result.warnings == [(2, "m1", "Unit code 6 is not one UDOMA knows: sent as 796 "
                                         "(pieces)")]  # fmt: skip
    assert result.accepted == ["w1", "c1", "m1"]


def test_v1_refuses_bad_items_before_sending_and_sends_the_rest(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature([
        UdomaNomenclature("a", "A", "g", barcode="111"),
        UdomaNomenclature("", "No id", "g"),
        UdomaNomenclature("b", "", "g"),
        UdomaNomenclature("c", "No group"),
        UdomaNomenclature("d", "D1", "g"), UdomaNomenclature("d", "D2", "g"),
        UdomaNomenclature("e", "E", "g", barcode="222"),
        UdomaNomenclature("f", "F", "g", barcode="222"),
        {"source_id": "x", "name": "X", "colour": "red"},
        UdomaNomenclature("ok", "OK", "g", barcode="333"),
    ])  # fmt: skip
    assert [row["sourceSystemId"] for row in json_body(mocked.calls[0])["nomenclatures"]] == \
        ["a", "ok"]  # fmt: skip
    codes = {(error.index, error.source_id, error.code) for error in result.errors}
    assert codes == {(1, "", "invalid"), (2, "b", "invalid"), (3, "c", "invalid"),
                     (4, "d", "duplicate_id"), (5, "d", "duplicate_id"),
                     (6, "e", "duplicate_barcode"), (7, "f", "duplicate_barcode"),
                     (8, "", "invalid")}  # fmt: skip
    assert "groupSourceSystemId" in next(e.message for e in result.errors if e.index == 3)
    assert "colour" in next(e.message for e in result.errors if e.index == 8)
    assert [e.index for e in result.errors_by_id["d"]] == [4, 5]
    assert result.accepted == ["a", "ok"]


def test_v1_groups_with_subgroups_refused_before_sending(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    groups = [UdomaGroup("root"), UdomaGroup("milk", "root"), UdomaGroup("kefir", "root")]
    result = v1.import_nomenclature([UdomaNomenclature("a", "A", "root"),
                                     UdomaNomenclature("b", "B", "milk")], groups=groups)
    assert [row["sourceSystemId"] for row in json_body(mocked.calls[0])["nomenclatures"]] == ["b"]
    (error,) = result.errors
    assert (error.source_id, error.code) == ("a", "group_has_subgroups")
    assert "'root' has sub-groups (kefir, milk)" in error.message


def test_group_conflicts_accepts_every_shape():
    tree = {"root": None, "milk": "root", "cheese": "milk"}
    assert set(group_conflicts(tree, ["root", "cheese", "milk", ""])) == {"root", "milk"}
    assert group_conflicts([{"source_id": "a", "parent_source_id": None},
                            {"source_id": "b", "parent_source_id": "a"}], ["b"]) == {}
    assert group_conflicts([UdomaGroup("a"), UdomaGroup("b", "a")], ["a"])["a"].startswith(
        "Group 'a' has sub-groups (b)")


def test_chunks_send_every_item_once(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature(items(5), chunk_size=2)
    sizes = [len(json_body(call)["nomenclatures"]) for call in mocked.calls]
    assert sizes == [2, 2, 1]
    assert result.accepted == [f"p{n}" for n in range(5)] and result.requests == 3
    client = make_client(FakeTime(), "v1", chunk_size=3)
    client.import_nomenclature(items(7))
    assert [len(json_body(call)["nomenclatures"]) for call in mocked.calls[3:]] == [3, 3, 1]


def test_item_refusal_naming_items_refuses_them_and_resends_the_rest(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, status=400,
               json={"code": "nomenclature.barcode.doubles", "message": "Есть дубликаты",
                     "detail": {"barCodes": ["4112000000002"]}})  # fmt: skip
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature(items(4), chunk_size=10)
    assert len(mocked.calls) == 2
    assert [row["sourceSystemId"] for row in json_body(mocked.calls[1])["nomenclatures"]] == \
        ["p0", "p1", "p3"]  # fmt: skip
    (error,) = result.errors
    assert (error.index, error.source_id, error.code) == (2, "p2", "duplicate_barcode")
    assert error.service_code == "nomenclature.barcode.doubles"
    assert result.accepted == ["p0", "p1", "p3"]


def test_item_refusal_naming_nothing_is_found_by_halving(v1, mocked):
    mocked.add_callback("POST", NOMENCLATURE_V1, callback=refusing({"p5", "p6"}))
    result = v1.import_nomenclature(items(8), chunk_size=8)
    assert sorted(result.accepted) == ["p0", "p1", "p2", "p3", "p4", "p7"]
    assert [(e.source_id, e.code) for e in result.errors] == [("p5", "duplicate_id"),
                                                              ("p6", "duplicate_id")]
    # p0-7 refused; p0-3 ok, p4-7 refused; p4-5 and p6-7 refused; p4 ok, p5 no, p6 no, p7 ok
    assert result.requests == len(mocked.calls) == 1 + 2 + 2 + 4


def test_group_refusal_naming_the_group_refuses_its_items(v1, mocked):
    def callback(request):
        rows = json.loads(request.body)["nomenclatures"]
        if any(row["groupSourceSystemId"] == "gone" for row in rows):
            return 400, {}, json.dumps({
                "code": "nomenclature.group.source.system.id.not.found",
                "detail": {"groupSourceSystemIds": ["gone"]}})  # fmt: skip
        return 200, {}, ""

    mocked.add_callback("POST", NOMENCLATURE_V1, callback=callback)
    result = v1.import_nomenclature(items(3) + items(2, "q", "gone"))
    assert result.accepted == ["p0", "p1", "p2"] and result.requests == 2
    assert [(e.source_id, e.code) for e in result.errors] == [("q0", "group_not_found"),
                                                              ("q1", "group_not_found")]


def test_invalid_json_refuses_its_chunk_and_the_next_chunks_go(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, status=400,
               json={"code": "invalid.json", "message": "В json-объекте отсутствуют поля"})
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature(items(4), chunk_size=2)
    assert result.accepted == ["p2", "p3"]
    assert [(e.source_id, e.code, e.service_code) for e in result.errors] == [
        ("p0", "rejected", "invalid.json"), ("p1", "rejected", "invalid.json")]
    assert "required fields are missing" in result.errors[0].message


def test_turn_off_missing_goes_in_one_request(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature(items(5), turn_off_missing=True, chunk_size=2)
    assert len(mocked.calls) == 1
    body = json_body(mocked.calls[0])
    assert body["turnOffMissingNomenclature"] is True and len(body["nomenclatures"]) == 5
    assert result.turned_off is True and len(result.accepted) == 5


def test_turn_off_missing_is_not_sent_when_an_item_was_refused(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    result = v1.import_nomenclature(items(4) + [UdomaNomenclature("x", "")],
                                    turn_off_missing=True, chunk_size=2)  # fmt: skip
    assert [json_body(c)["turnOffMissingNomenclature"] for c in mocked.calls] == [False, False]
    assert result.turned_off is False and "not asked to switch off" in result.notes[0]


def test_turn_off_missing_refused_by_udoma_falls_back_to_chunks(v1, mocked):
    mocked.add_callback("POST", NOMENCLATURE_V1, callback=refusing({"p1"}, name_items=True))
    result = v1.import_nomenclature(items(4), turn_off_missing=True, chunk_size=2)
    flags = [json_body(c)["turnOffMissingNomenclature"] for c in mocked.calls]
    assert flags == [True, False, False, False]  # full upload, chunk p0-p1, p0 again, p2-p3
    assert result.accepted == ["p0", "p2", "p3"] and result.turned_off is False
    assert [e.source_id for e in result.errors] == ["p1"]
    assert "without switching off" in result.notes[0]


def test_turn_off_with_nothing_to_send_sends_nothing(v1, mocked):
    result = v1.import_nomenclature([], turn_off_missing=True)
    assert len(mocked.calls) == 0 and result.turned_off is False
    assert "switch off everything" in result.notes[0]


def test_key_refused_half_way_carries_the_chunks_accepted(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    mocked.add("POST", NOMENCLATURE_V1, status=403, json={"code": "api.key.not.found"})
    with pytest.raises(ApiKeyRefused) as caught:
        v1.import_nomenclature(items(6), chunk_size=2)
    assert caught.value.partial_result.accepted == ["p0", "p1"]
    assert len(mocked.calls) == 2


def test_rate_limit_retried_then_run_level(v1, mocked, fake):
    mocked.add("POST", NOMENCLATURE_V1, status=429, headers={"Retry-After": "3"}, json={})
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    assert v1.import_nomenclature(items(1)).accepted == ["p0"]
    assert fake.sleeps == [3.0]
    mocked.replace("POST", NOMENCLATURE_V1, status=429, json={"code": "too.many.requests"})
    with pytest.raises(UdomaRateLimited) as caught:
        v1.import_nomenclature(items(1))
    assert isinstance(caught.value, RateLimited) and caught.value.run_level is True
    assert caught.value.partial_result.accepted == []


def test_server_errors_and_timeouts_retried_then_unavailable(v1, mocked, fake):
    mocked.add("POST", NOMENCLATURE_V1, status=502, body="<html>Bad Gateway</html>")
    mocked.add("POST", NOMENCLATURE_V1, json=OK)
    assert v1.import_nomenclature(items(2)).accepted == ["p0", "p1"]
    mocked.replace("POST", NOMENCLATURE_V1, status=503, body="")
    with pytest.raises(UdomaUnavailable) as caught:
        v1.import_nomenclature(items(2))
    assert isinstance(caught.value, ServiceUnavailable) and caught.value.run_level is False
    assert caught.value.status == 503
    mocked.replace("POST", NOMENCLATURE_V1, body=requests.Timeout("read timed out"))
    with pytest.raises(UdomaUnavailable, match="did not answer within"):
        v1.import_nomenclature(items(2))
    mocked.replace("POST", NOMENCLATURE_V1, body=requests.ConnectionError("refused"))
    with pytest.raises(UdomaUnavailable, match="Could not connect"):
        v1.import_nomenclature(items(2))


def test_empty_answer_is_accepted_garbled_answer_is_not(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, body="")
    assert v1.import_nomenclature(items(2)).accepted == ["p0", "p1"]
    mocked.replace("POST", NOMENCLATURE_V1, body='{"code": "import.succ')
    with pytest.raises(UdomaBadResponse, match="malformed body") as caught:
        v1.import_nomenclature(items(2))
    assert caught.value.partial_result.accepted == []


def test_error_code_in_a_200_answer_is_an_error(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, json={"code": "api.key.not.found"})
    with pytest.raises(ApiKeyRefused):
        v1.import_nomenclature(items(1))


def test_wrong_address_stops_the_import(v1, mocked):
    mocked.add("POST", NOMENCLATURE_V1, status=404, json={"code": "not.found"})
    with pytest.raises(UdomaRejected, match="no such address") as caught:
        v1.import_nomenclature(items(4), chunk_size=2)
    assert caught.value.run_level is True and len(mocked.calls) == 1


# -- import-nomenclature v2 ------------------------------------------------------------------
def test_v2_nomenclature_is_per_shop_without_groups(fake, mocked):
    client = make_client(fake, "v2", source_system_info="Odoo supplier_connector",
                         source_system_version="18.0")  # fmt: skip
    mocked.add("POST", NOMENCLATURE_V2, json=OK)
    result = client.import_nomenclature(DOC_ITEMS + [UdomaNomenclature("n4", "No group")],
                                        shop_source_id="s001", turn_off_missing=True)
    body = json_body(mocked.calls[0])
    assert body["shopSourceSystemId"] == "s001"
    assert body["shopSourceSystemVersion"] == "18.0"
    assert body["shopSourceSystemInfo"] == "Odoo supplier_connector"
    assert "turnOffMissingNomenclature" not in body and "moveNomenclatureInGroups" not in body
    assert all("groupSourceSystemId" not in row for row in body["nomenclatures"])
    assert result.accepted == ["n0001", "n0002", "n0003", "n4"]
    assert result.turned_off is False and "v2" in result.notes[0]


def test_v2_nomenclature_needs_a_shop(v2, mocked):
    with pytest.raises(ValueError, match="shopSourceSystemId"):
        v2.import_nomenclature(DOC_ITEMS)
    assert len(mocked.calls) == 0


def test_v2_nomenclature_unknown_shop(v2, mocked):
    mocked.add("POST", NOMENCLATURE_V2, status=400,
               json={"code": "shop.not.found.by.source.system.id"})
    with pytest.raises(ShopNotFound, match="'s404'") as caught:
        v2.import_nomenclature(DOC_ITEMS, shop_source_id="s404", chunk_size=1)
    assert caught.value.run_level is False and caught.value.code == "shop_not_found"
    assert len(mocked.calls) == 1


# -- import-assortment -----------------------------------------------------------------------
ROWS = [UdomaAssortmentRow("n0001", 2, 123.32),
        UdomaAssortmentRow("n0002", 12, 100, sale_price=90, sale_percent=10),
        {"source_id": "n0003", "remains": 80, "price": 58.3}]  # fmt: skip


def test_v1_assortment_rows_carry_the_shop(v1, mocked):
    mocked.add("POST", ASSORTMENT_V1, json=OK)
    result = v1.import_assortment("s001", ROWS)
    assert json_body(mocked.calls[0]) == {"turnOffMissingAssortment": False, "shopAssortment": [
        {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "n0001", "remains": 2,
         "price": 123.32},
        {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "n0002", "remains": 12,
         "price": 100.0, "salePrice": 90.0, "salePercent": 10.0},
        {"shopSourceSystemId": "s001", "nomenclatureSourceSystemId": "n0003", "remains": 80,
         "price": 58.3}]}  # fmt: skip
    assert result.accepted == ["n0001", "n0002", "n0003"]


def test_v2_assortment_has_the_shop_in_the_body(v2, mocked):
    mocked.add("POST", ASSORTMENT_V2, json=OK)
    v2.import_assortment("s001", ROWS, turn_off_missing=True, chunk_size=1)
    assert len(mocked.calls) == 1
    body = json_body(mocked.calls[0])
    assert body["shopSourceSystemId"] == "s001" and body["turnOffMissingAssortment"] is True
    assert body["shopAssortment"][0] == {"nomenclatureSourceSystemId": "n0001", "remains": 2,
                                         "price": 123.32}  # fmt: skip


def test_assortment_bad_rows_refused_before_sending(v2, mocked):
    mocked.add("POST", ASSORTMENT_V2, json=OK)
    result = v2.import_assortment("s001", [
        UdomaAssortmentRow("a", -1, 10), UdomaAssortmentRow("b", 1, None),
        UdomaAssortmentRow("c", 1, 10, sale_percent=120), UdomaAssortmentRow("", 1, 10),
        UdomaAssortmentRow("d", 1.5, "12,50"), UdomaAssortmentRow("e", 1, 10),
        UdomaAssortmentRow("e", 2, 10)])  # fmt: skip
    assert json_body(mocked.calls[0])["shopAssortment"] == [
        {"nomenclatureSourceSystemId": "d", "remains": 1.5, "price": 12.5}]
    assert [(e.index, e.code) for e in result.errors] == [
        (0, "invalid"), (1, "invalid"), (2, "invalid"), (3, "invalid"), (5, "duplicate_id"),
        (6, "duplicate_id")]  # fmt: skip
    assert "remains -1 is not a number of 0 or more" in result.errors[0].message
    assert "Shop 's001'" in result.errors[0].message


def test_assortment_unknown_shop_names_it(v1, mocked):
    mocked.add("POST", ASSORTMENT_V1, status=400,
               json={"code": "shop.not.found.by.source.system.id", "message": "Нет привязки"})
    with pytest.raises(ShopNotFound) as caught:
        v1.import_assortment("s009", ROWS)
    error = caught.value
    assert error.shop_source_id == "s009" and "'s009'" in error.message
    assert "integration settings" in error.message and error.detail == "Нет привязки"
    assert error.partial_result.accepted == [] and error.run_level is False


def test_assortment_needs_a_shop(v1):
    with pytest.raises(ValueError):
        v1.import_assortment("", ROWS)


# -- export-orders ---------------------------------------------------------------------------
def test_export_orders_reads_the_documents_answer(v2, mocked):
    mocked.add("POST", ORDERS, json=DOC_ORDERS)
    export = v2.export_orders("s001", datetime(2019, 9, 19), datetime(2019, 9, 20, 0, 0, 0, 5))
    assert json_body(mocked.calls[0]) == {"shopSourceSystemId": "s001",
                                          "dateFromUtc": "2019-09-19T00:00:00+00:00",
                                          "dateToUtc": "2019-09-20T00:00:00.000005+00:00"}
    assert len(export) == 2 and export.requests == 1
    first, second = list(export)
    assert first.order_id == "a4b74a75-3092-4672-a3cf-beeba96e4be8"
    assert first.ticket_number == "00037" and first.payment_method == "terminal"
    assert first.date == datetime(2019, 9, 19, 8, 41, 47, 61163)  # +05:00 → UTC
    assert [(p.source_id, p.quantity, p.price) for p in first.positions] == [
        ("n001", 2, 123.32), ("n002", 3, 70.0)]
    assert first.total == 456.64 and first.delivery_cost is None and first.problems == []
    assert second.shop_source_id == "s002"  # kept as UDOMA says, though s001 was asked


def test_export_orders_window_defaults_and_aware_datetimes(v1, mocked):
    mocked.add("POST", ORDERS, json={"code": "search.successful", "detail": {"orders": []}})
    export = v1.export_orders("s002")
    assert json_body(mocked.calls[0]) == {"shopSourceSystemId": "s002",
                                          "dateToUtc": "2026-11-28T18:30:15+00:00"}
    assert list(export) == [] and export.date_to == NOW and export.date_from is None
    moscow = timezone(timedelta(hours=3))
    v1.export_orders("s002", datetime(2026, 11, 28, 12, 0, tzinfo=moscow),
                     datetime(2026, 11, 28, 13, 0, tzinfo=moscow))
    body = json_body(mocked.calls[1])
    assert (body["dateFromUtc"], body["dateToUtc"]) == ("2026-11-28T09:00:00+00:00",
                                                        "2026-11-28T10:00:00+00:00")
    with pytest.raises(ValueError, match="starts after it ends"):
        v1.export_orders("s002", NOW, NOW - timedelta(seconds=1))
    with pytest.raises(ValueError):
        v1.export_orders("", NOW)


def test_export_orders_odd_orders_are_reported_not_dropped(v1, mocked):
    mocked.add("POST", ORDERS, json={"code": "search.successful", "detail": {"orders": [
        {"ticketNumber": "00040", "dateUtc": "2026-11-28T10:00:00Z", "positions": []},
        "not an order",
        {"orderId": "o-1", "ticketNumber": "00041", "dateUtc": "yesterday",
         "paymentMethod": "cash", "deliveryCost": 250,
         "positions": [{"nomenclatureSourceSystemId": "n1", "itemsCount": "x",
                        "purchasePrice": 10},
                       {"itemsCount": 1, "purchasePrice": 5}]},
    ]}})  # fmt: skip
    export = v1.export_orders("s001", NOW - timedelta(hours=1), NOW)
    assert len(export.skipped) == 2 and "'00040' has no orderId" in export.skipped[0]
    (order,) = export.orders
    assert order.shop_source_id == "s001" and order.delivery_cost == 250 and order.date is None
    assert [(p.source_id, p.quantity) for p in order.positions] == [("", 1)]
    assert len(order.problems) == 2
    assert "dateUtc 'yesterday'" in order.problems[0] and "position 1 ('n1')" in order.problems[1]
    assert order.total == 255.0


@pytest.mark.parametrize("answer", ['{"code": "search.successful", "detail": {"ord',
                                    "<html>gateway</html>", ""])
def test_export_orders_unreadable_answers(v1, mocked, answer):
    mocked.add("POST", ORDERS, body=answer)
    with pytest.raises(UdomaBadResponse):
        v1.export_orders("s001", NOW - timedelta(hours=1), NOW)


def test_export_orders_errors(v1, mocked):
    mocked.add("POST", ORDERS, status=400, json={"code": "invalid.json"})
    with pytest.raises(InvalidJson) as caught:
        v1.export_orders("s001")
    assert caught.value.code == "invalid_json" and isinstance(caught.value, RequestRejected)
    mocked.replace("POST", ORDERS, status=400, body="not json")
    with pytest.raises(InvalidJson):
        v1.export_orders("s001")
    mocked.replace("POST", ORDERS, status=403, json={"code": "api.key.not.found"})
    with pytest.raises(ApiKeyRefused):
        v1.export_orders("s001")
    mocked.replace("POST", ORDERS, status=500, body="oops")
    with pytest.raises(UdomaUnavailable):
        v1.export_orders("s001")
    assert len(mocked.calls) == 6  # the 500 was tried three times


# -- errors and secrets ----------------------------------------------------------------------
def test_error_parts_read_every_shape():
    assert error_parts("api.key.not.found") == ("api.key.not.found", "", [])
    assert error_parts({"error": "nomenclature.doubles", "description": "Есть дубликаты",
                        "detail": ["n1", {"sourceSystemId": "n2"}]}) == \
        ("nomenclature.doubles", "Есть дубликаты", ["n1", "n2"])  # fmt: skip
    assert error_parts({"code": "x.y", "detail": "Текст"}) == ("x.y", "Текст", [])
    assert error_parts(None) == ("", "", [])


def test_build_error_classes():
    assert isinstance(build_error(400, {"code": "nomenclature.group.parent.source.system.id"}),
                      GroupHasSubgroups)
    assert isinstance(build_error(400, {"code": "nomenclature.barcode.doubles"}),
                      DuplicateBarcodes)
    assert build_error(401, None).code == "auth"
    unknown = build_error(409, {"code": "something.else"})
    assert isinstance(unknown, UdomaRejected) and unknown.run_level is True
    assert "(something.else)" in unknown.message
    assert build_error(400, {"code": "something.else"}).run_level is False
    assert all(isinstance(build_error(s, None), ApiError) for s in (400, 403, 429, 500, 418))


def test_key_never_in_logs(v1, mocked, caplog):
    mocked.add("POST", ORDERS, status=500, body=f"key {KEY} failed")
    with caplog.at_level(logging.DEBUG, logger="api"), pytest.raises(UdomaUnavailable) as caught:
        v1.export_orders("s001")
    assert KEY not in caplog.text and KEY not in str(caught.value)
    assert "export-orders" in caplog.text
