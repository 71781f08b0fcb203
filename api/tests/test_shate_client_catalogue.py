"""ShateClient: reference lists, articles (by key, brand-less by string, by id), pictures."""

import base64
import json
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from http_helpers import json_body
from shate_client_helpers import (
    API,
    ARTICLE,
    ARTICLE_CARD,
    TRADEMARK,
    calls_to,
    make_client,
    query,
    saved_session,
)

from api.errors import UnsafeUrl
from api.shate_data import ShateContent, normalize_key


@pytest.fixture
def client(fake):
    return make_client(fake, session_state=saved_session(fake), max_retries=1)


# -- reference data ----------------------------------------------------------------------------


def test_customer_info(client, mocked):
    mocked.add(responses.GET, f"{API}/customer/info", json=[
        {"login": "Test123", "code": "S0001", "name": "Тест", "phone": "+123456789",
         "email": "test@gmail.com", "defaultDeliveryAddressCode": "Д1"}])  # fmt: skip
    info = client.get_customer_info()
    assert (info.login, info.code, info.name, info.phone, info.email) == (
        "Test123", "S0001", "Тест", "+123456789", "test@gmail.com")  # fmt: skip
    assert info.default_delivery_address_code == "Д1"


def test_agreements(client, mocked):
    mocked.add(responses.GET, f"{API}/customer/agreements", json=[
        {"code": "SAGR1", "agreementGroup": "НАЛ", "description": "Физ. лицо",
         "locationCode": "SHATE-01", "currencyCode": "USD", "isActive": True,
         "isEnabledPickup": True, "isEnabledDelivery": False}])  # fmt: skip
    (agreement,) = client.get_agreements()
    assert agreement.code == "SAGR1"
    assert agreement.group == "НАЛ"
    assert agreement.description == "Физ. лицо"
    assert (agreement.location_code, agreement.currency_code) == ("SHATE-01", "USD")
    assert (agreement.is_active, agreement.pickup_enabled, agreement.delivery_enabled) == (
        True, True, False)  # fmt: skip


def test_agreement_group_tells_when_orders_need_fio_and_phone(client, mocked):
    groups = ["НАЛ", "ЭКВАИР", " маг ", "БЕЗНАЛ", "", None]
    mocked.add(responses.GET, f"{API}/customer/agreements", json=[
        {"code": f"SAGR{n}", "agreementGroup": group} for n, group in enumerate(groups)])  # fmt: skip
    agreements = client.get_agreements()
    assert [(a.group, a.needs_contact) for a in agreements] == [
        ("НАЛ", True), ("ЭКВАИР", True), ("маг", True), ("БЕЗНАЛ", False), ("", False),
        ("", False)]  # fmt: skip


def test_delivery_addresses_and_dates(client, mocked):
    mocked.add(responses.GET, f"{API}/delivery/addresses", json=[
        {"code": "Д1", "city": "Минск", "address": "ул. Мира, д. 2А",
         "deliveryZoneCode": "MINSK01"}])  # fmt: skip
    mocked.add(responses.GET, f"{API}/delivery/availableDateTimes",
               json=["2020-12-02T22:00:00", "2020-12-03T22:00:00"])  # fmt: skip

    (address,) = client.get_delivery_addresses()
    dates = client.get_delivery_dates("SHATE-S01", "Д1", days_count=3)

    assert (address.code, address.city, address.address, address.delivery_zone_code) == (
        "Д1", "Минск", "ул. Мира, д. 2А", "MINSK01")  # fmt: skip
    assert dates == [datetime(2020, 12, 2, 22), datetime(2020, 12, 3, 22)]
    assert query(calls_to(mocked, f"{API}/delivery/availableDateTimes")[0]) == {
        "locationCode": ["SHATE-S01"], "deliveryAddressCode": ["Д1"], "daysCount": ["3"]}  # fmt: skip


def test_locations_and_status_codes(client, mocked):
    mocked.add(responses.GET, f"{API}/locations", json=[
        {"code": "SHATE-S01", "name": "Центральный склад Привольный", "city": "Привольный"}])  # fmt: skip
    mocked.add(responses.GET, f"{API}/orderItemStatusCodes", json=[
        {"code": 30, "name": "В работе", "description": "Заказ успешно обработан",
         "isFinal": False},
        {"code": 140, "name": "Доставлен", "description": "", "isFinal": True}])  # fmt: skip

    (location,) = client.get_locations()
    codes = client.get_order_item_status_codes()

    assert (location.code, location.name, location.city) == (
        "SHATE-S01", "Центральный склад Привольный", "Привольный")  # fmt: skip
    assert client.location_names == {"SHATE-S01": "Центральный склад Привольный"}
    assert [(c.code, c.name, c.description, c.is_final) for c in codes] == [
        (30, "В работе", "Заказ успешно обработан", False), (140, "Доставлен", "", True)]  # fmt: skip


@pytest.mark.parametrize("answer", [TRADEMARK, [TRADEMARK]])  # the document shows one object
def test_trademarks(client, mocked, answer):
    mocked.add(responses.GET, f"{API}/trademarks", json=answer)
    mocked.add(responses.GET, f"{API}/trademarks/KNECHT%2FMAHLE", json=TRADEMARK)

    (trademark,) = client.get_trademarks()
    single = client.get_trademark("KNECHT/MAHLE")

    assert trademark == single
    assert (trademark.name, trademark.country, trademark.url, trademark.catalog_url) == (
        "KNECHT", "Германия", "http://www.mahle.com", "http://www.mahle.com")  # fmt: skip
    assert trademark.description.startswith("Торговая марка KNECHT")
    assert trademark.extended_warranty is False


def test_order_item_history(client, mocked):
    mocked.add(responses.GET, f"{API}/orderitems/87865469/statuseshistory", json=[
        {"statusCode": 140, "dateTime": "2022-12-21T10:00:00Z"},
        {"statusCode": 30, "dateTime": "2022-12-19T09:03:51.240Z"}])  # fmt: skip
    history = client.get_order_item_history(87865469)
    assert [(h.status_code, h.changed_at) for h in history] == [
        (30, datetime(2022, 12, 19, 9, 3, 51, 240000)), (140, datetime(2022, 12, 21, 10))]  # fmt: skip


# -- articles ----------------------------------------------------------------------------------
def test_get_article_with_every_include(client, mocked):
    mocked.add(responses.GET, f"{API}/articles/1248288", json=ARTICLE_CARD)

    article = client.get_article(1248288, include=("contents", "extended_info", "trademark"))

    assert query(mocked.calls[0]) == {"include": ["contents,extended_info,trademark"]}
    assert (article.id, article.code, article.trade_mark_name, article.name) == (
        1248288, "OC100", "KNECHT", "Фильтр масляный")  # fmt: skip
    assert (article.description, article.unit_of_measure) == ("Замена - OC976. BX 82-93", "ШТ")
    assert article.trademark.country == "Германия"
    (content,) = article.contents
    assert content.content_id.startswith("17BD2871") and content.sort_order == 0
    assert content.content_type == "ImageTwoDimensional"
    info = article.extended_info
    assert info.description == "Описание"
    assert info.characteristics == [("Внутренний диаметр 2 (мм)", "62,0")]
    assert [(o.article_codes, o.trade_mark_name) for o in info.originals] == [
        (["string"], "KNECHT")]  # fmt: skip
    (vehicle,) = info.applicability
    assert (vehicle.make, vehicle.model, vehicle.modification) == (
        "CITROEN", "JUMPER фургон (230L)", "CITROEN JUMPER Фургон (230L) 2.0")  # fmt: skip
    assert (vehicle.engine_code, vehicle.begin, vehicle.end, vehicle.kw, vehicle.hp) == (
        "RFW (XU10J2U)", "199403", "200204", "80", "109")  # fmt: skip
    assert (vehicle.cylinders, vehicle.volume) == ("4", "1998")


def test_get_article_without_include_sends_no_include(client, mocked):
    mocked.add(responses.GET, f"{API}/articles/1248288", json={"article": ARTICLE})
    article = client.get_article("1248288")
    assert query(mocked.calls[0]) == {}
    assert article.trademark is None and article.contents == [] and article.extended_info is None


def test_analogs_and_search_by_string(client, mocked):
    analog = dict(ARTICLE, id=77, code="W 712/75", tradeMarkName="MANN-FILTER")
    mocked.add(responses.GET, f"{API}/articles/1248288/analogs", json=[{"article": analog}])
    mocked.add(responses.GET, f"{API}/articles/search", json=[{"article": ARTICLE}])

    (found_analog,) = client.get_analogs(1248288)
    (found,) = client.search_articles_by_string("OC-100", trade_mark_names=["KNECHT"])

    assert (found_analog.id, found_analog.code) == (77, "W 712/75")
    assert found.id == 1248288
    assert query(calls_to(mocked, f"{API}/articles/search")[0]) == {
        "searchString": ["OC-100"], "tradeMarkNames": ["KNECHT"]}  # fmt: skip


def article_answer(request):
    """articles/search emulation: one card per asked key, id derived from the code."""
    asked = json.loads(request.body)["keys"]
    cards = [
        {"article": dict(ARTICLE, id=1000 + int(key["articleCode"][2:]), code=key["articleCode"],
                         tradeMarkName=key["tradeMarkName"])}
        for key in asked
        if key["articleCode"] != "OC999"  # unknown to the service
    ]  # fmt: skip
    return 200, {}, json.dumps(cards)


def test_search_articles_in_batches_of_50(client, mocked):
    mocked.add_callback(responses.POST, f"{API}/articles/search", callback=article_answer)
    keys = [(f"OC{n}", "KNECHT") for n in range(120)] + [("OC999", "KNECHT")]

    found = client.search_articles(keys)

    sizes = [len(json_body(call)["keys"]) for call in mocked.calls]
    assert sizes == [50, 50, 21]
    assert json_body(mocked.calls[0])["keys"][0] == {"articleCode": "OC0", "tradeMarkName": "KNECHT"}
    assert set(found) == set(keys)
    assert [a.id for a in found[("OC7", "KNECHT")]] == [1007]
    assert found[("OC999", "KNECHT")] == []


def test_search_articles_matches_code_and_brand_loosely(client, mocked):
    mocked.add(responses.POST, f"{API}/articles/search", json=[
        {"article": dict(ARTICLE, id=1, code="OC 100", tradeMarkName="Knecht")},
        {"article": dict(ARTICLE, id=2, code="W712/75", tradeMarkName="MANN-FILTER")},
        {"article": dict(ARTICLE, id=3, code="W712/75", tradeMarkName="OTHER")}])  # fmt: skip
    keys = [("oc-100", "KNECHT"), ("W 712/75", "mann filter")]

    found = client.search_articles(keys, include="trademark")

    assert json_body(mocked.calls[0]) == {"include": "trademark", "keys": [
        {"articleCode": "oc-100", "tradeMarkName": "KNECHT"},
        {"articleCode": "W 712/75", "tradeMarkName": "mann filter"}]}  # fmt: skip
    assert [a.id for a in found[keys[0]]] == [1]
    assert [a.id for a in found[keys[1]]] == [2]  # not OTHER's W712/75


def search_by_string_answer(request):
    """GET articles/search emulation: OC105 is sold by KNECHT and MAHLE; the string search also
    answers a longer code; anything else is unknown (404, as for an unknown article)."""
    asked = parse_qs(urlsplit(request.url).query)["searchString"][0]
    if normalize_key(asked) != "oc105":
        return 404, {}, json.dumps({"code": "ArticleNotFound", "description": "Не найден"})
    cards = [{"article": dict(ARTICLE, id=105, code="OC 105", tradeMarkName="KNECHT")},
             {"article": dict(ARTICLE, id=205, code="OC105", tradeMarkName="MAHLE")},
             {"article": dict(ARTICLE, id=305, code="OC 1050", tradeMarkName="KNECHT")}]  # fmt: skip
    return 200, {}, json.dumps(cards)


def test_search_articles_sends_brandless_codes_by_string(client, mocked):
    """The POST requires tradeMarkName: codes without a brand go one by one to the GET search."""
    mocked.add_callback(responses.POST, f"{API}/articles/search", callback=article_answer)
    mocked.add_callback(responses.GET, f"{API}/articles/search", callback=search_by_string_answer)
    keys = [("OC100", "KNECHT"), ("OC 105", ""), ("OC200", "KNECHT"), "oc-105",
            ("NOPE-1", None), ("W 712/75", " - ")]  # fmt: skip

    found = client.search_articles(keys, include=["trademark"])

    posts = calls_to(mocked, f"{API}/articles/search", "POST")
    gets = calls_to(mocked, f"{API}/articles/search", "GET")
    assert [json_body(call) for call in posts] == [{"include": "trademark", "keys": [
        {"articleCode": "OC100", "tradeMarkName": "KNECHT"},
        {"articleCode": "OC200", "tradeMarkName": "KNECHT"}]}]  # fmt: skip
    # One GET per code ("OC 105" and "oc-105" are one code), never a POST key without a brand.
    assert [query(call) for call in gets] == [
        {"searchString": [code], "include": ["trademark"]}
        for code in ("OC 105", "NOPE-1", "W 712/75")
    ]
    assert len(mocked.calls) == 4
    assert [a.id for a in found[("OC100", "KNECHT")]] == [1100]
    assert [a.id for a in found[("OC200", "KNECHT")]] == [1200]
    # A code sold under two brands comes back under both (the caller reports the ambiguity);
    # the longer code the string search also found is not this code.
    assert [(a.id, a.trade_mark_name) for a in found[("OC 105", "")]] == [
        (105, "KNECHT"), (205, "MAHLE")]  # fmt: skip
    assert found["oc-105"] == found[("OC 105", "")]
    assert found[("NOPE-1", None)] == [] and found[("W 712/75", " - ")] == []
    assert set(found) == set(keys)


def test_search_articles_without_any_brand_sends_no_post(client, mocked):
    mocked.add_callback(responses.GET, f"{API}/articles/search", callback=search_by_string_answer)
    found = client.search_articles([("OC-105", "")])
    assert [call.request.method for call in mocked.calls] == ["GET"]
    assert query(mocked.calls[0]) == {"searchString": ["OC-105"]}
    assert [a.id for a in found[("OC-105", "")]] == [105, 205]


def test_search_articles_one_key_takes_all_answers(client, mocked):
    mocked.add(responses.POST, f"{API}/articles/search",
               json=[{"article": dict(ARTICLE, code="OC100-X")}])  # fmt: skip
    found = client.search_articles([("OC100", "KNECHT")])
    assert [a.code for a in found[("OC100", "KNECHT")]] == ["OC100-X"]


def test_get_articles_by_ids(client, mocked):
    mocked.add(responses.POST, f"{API}/articles/search", json=[
        {"article": dict(ARTICLE, id=5)}, {"article": dict(ARTICLE, id=6)}])  # fmt: skip
    found = client.get_articles([5, "6", 7])
    assert json_body(mocked.calls[0]) == {"ids": [5, 6, 7]}
    assert sorted(found) == [5, 6]


# -- contents ----------------------------------------------------------------------------------
def test_search_content_and_bytes(client, mocked):
    picture = b"RIFF....WEBPVP8 "
    uri = "data:image/webp;base64," + base64.b64encode(picture).decode()
    mocked.add(responses.POST, f"{API}/contents/search", json=[{"id": "C1", "value": uri}])

    found = client.search_content(["C1"], height=1000, width=100)

    assert json_body(mocked.calls[0]) == {"contentId": "C1", "heightSize": 1000, "widthSize": 100}
    assert found["C1"].mime_type == "image/webp"
    assert client.content_bytes(found["C1"]) == picture


def test_content_links_only_from_shate_hosts(client, mocked):

    mocked.add(responses.GET, "https://img.shate-m.ru/c1.webp", body=b"img")
    assert client.content_bytes(ShateContent("C1", "https://img.shate-m.ru/c1.webp")) == b"img"
    with pytest.raises(UnsafeUrl):
        client.content_bytes(ShateContent("C2", "https://evil.example/c2.webp"))
