"""Shate-M Plus emulator over real HTTP (requests), with an injected clock."""

import base64
import calendar
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators.faults import BUILTIN_FAULT_KINDS
from emulators.shate import ShateEmulator
from emulators.shate_catalogue import (
    STATUS_CODES,
    ShateAgreement,
    ShateArticle,
    ShateOffer,
    normalize_code,
)
from emulators.shate_demo import (
    DEMO_AMBIGUOUS_CODE,
    DEMO_API_KEY,
    DEMO_UNKNOWN_KEY,
    demo_catalogue,
)

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 5
# Monday 2025-12-15 06:00 UTC = 09:00 in Minsk (UTC+3), before the 10:00 shipping hour.
START = calendar.timegm((2025, 12, 15, 6, 0, 0))
W712 = 1248201  # MANN-FILTER W 712/75: SHATE-01, SHATE-S01 and a supplier's offer
NGK = 1248215  # BKR6E: multiplicity 4
DISC = 1248213  # TRW DF4294: multiplicity 2, minimum 2, 10 in stock
SACHS = 1248219  # 313 469: maximum 2, 3 in stock
CLUTCH = 1248227  # no offers at all


class Clock:
    def __init__(self, now=START):
        self.now = float(now)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def emu(clock):
    with ShateEmulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


class Api:
    """Authenticated calls to one emulator."""

    def __init__(self, emu, http, token=None):
        self.emu, self.http = emu, http
        self.token = token or login_key(emu, http).json()["access_token"]

    def __call__(self, method, path, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.emu.api_url}/{path}", headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self("POST", path, json=json, **kwargs)

    def prices(self, article_id, agreement="SAGR1", address="Д1", **extra):
        body = {"articleId": article_id, "agreementCode": agreement,
                "deliveryAddressCode": address, **extra}
        response = self.post("prices/search", body)
        assert response.status_code == 200, response.text
        return response.json()

    def offer(self, article_id, location_real, **kwargs):
        return next(o for o in self.prices(article_id, **kwargs)
                    if o["locationCodeReal"] == location_real)

    def order(self, lines, agreement="SAGR1", **extra):
        body = {"agreementCode": agreement, "agreeWithTermsOfDelivery": True,
                "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
                "deliveryInfo": {"deliveryType": "ManyDelivery", "deliveryAddressCode": "Д1"},
                "priceItems": [{"priceId": pid, "quantity": qty} for pid, qty in lines]}
        body.update(extra)
        return self.post("orders/byPriceItems", body)


@pytest.fixture
def api(emu, http):
    return Api(emu, http)


def login_key(emu, http, key=DEMO_API_KEY, field="apikey", path="auth/loginByapiKey"):
    return http.post(f"{emu.api_url}/{path}", data={field: key}, timeout=TIMEOUT)


def login_password(emu, http, login="demo", password="demo"):
    return http.post(f"{emu.api_url}/auth/login", data={"Login": login, "Password": password},
                     timeout=TIMEOUT)


def line_errors(response):
    return [e for row in response.json()["priceItemErrors"] for e in row["errors"]]


# -- auth and tokens ------------------------------------------------------------------------------
def test_login_by_password_and_by_key(emu, http):
    response = login_password(emu, http)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert (body["expires_in"], body["token_type"], body["refresh_token"], body["scope"]) == (
        3600, "Bearer", "", "ShateAuth")
    assert body["access_token"].startswith("eyJhbGciOiJQUzI1NiIsInR5cCI6ImF0K2p3dCJ9.")
    recorded = emu.requests_for("auth_login")[0]
    assert recorded.header("Content-Type") == "application/x-www-form-urlencoded"
    for path, field in (("auth/loginByapiKey", "apikey"), ("auth/loginbyapikey", "ApiKey"),
                        ("auth/LoginByApiKey", "apiKey")):
        keyed = login_key(emu, http, field=field, path=path)
        assert keyed.status_code == 200 and keyed.json()["access_token"], (path, field)
    assert len(emu.tokens) == 4 and set(emu.tokens.values()) == {"demo"}


def test_login_errors(emu, http):
    wrong = login_password(emu, http, password="nope")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "InvalidCredentials" and wrong.json()["messages"]
    missing = http.post(f"{emu.api_url}/auth/login", data={"login": "demo"}, timeout=TIMEOUT)
    assert missing.status_code == 400 and missing.json()["code"] == "InvalidRequest"
    as_json = http.post(f"{emu.api_url}/auth/login", json={"login": "demo", "password": "demo"},
                        timeout=TIMEOUT)
    assert as_json.status_code == 415
    assert login_key(emu, http, key="{00000000-0000-0000-0000-000000000000}").status_code == 401
    assert not emu.tokens


def test_token_required(emu, http):
    url = f"{emu.api_url}/customer/info"
    missing = http.get(url, timeout=TIMEOUT)
    assert missing.status_code == 401 and missing.content == b""
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    bad = http.get(url, headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT)
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    basic = http.get(url, headers={"Authorization": "Basic ZGVtbzpkZW1v"}, timeout=TIMEOUT)
    assert basic.status_code == 401


def test_token_expires_by_clock(http, clock):
    with ShateEmulator(clock=clock, token_ttl=1800) as emu:
        body = login_key(emu, http).json()
        assert body["expires_in"] == 1800
        api = Api(emu, http, body["access_token"])
        clock.advance(1799)
        assert api.get("customer/info").status_code == 200
        clock.advance(2)
        expired = api.get("customer/info")
        assert expired.status_code == 401
        assert "expired" in expired.headers["WWW-Authenticate"]
        assert not emu.tokens
        assert Api(emu, http).get("customer/info").status_code == 200  # a new login works


def test_expire_tokens_helper_fault_and_control(emu, http, api):
    assert api.get("locations").status_code == 200
    emu.expire_tokens()
    assert api.get("locations").status_code == 401
    api = Api(emu, http)
    emu.set_fault("expire_token", after=2)
    assert [api.get("locations").status_code for _ in range(4)] == [200, 200, 401, 401]
    api = Api(emu, http)
    assert http.post(emu.base_url + "/_emulator/faults", json={"kind": "expire_token"},
                     timeout=TIMEOUT).ok
    assert api.get("locations").status_code == 401
    api = Api(emu, http)
    assert http.post(emu.base_url + "/_emulator/expire_tokens", timeout=TIMEOUT).ok
    assert api.get("locations").status_code == 401


# -- account reference data ---------------------------------------------------------------------
def test_customer_agreements_addresses_locations(api):
    info = api.get("customer/info").json()
    assert isinstance(info, list) and info[0]["login"] == "demo"
    assert set(info[0]) == {"login", "code", "name", "phone", "email",
                            "defaultDeliveryAddressCode"}
    agreements = api.get("customer/agreements").json()
    assert len(agreements) >= 2
    assert set(agreements[0]) == {"code", "agreementGroup", "description", "locationCode",
                                  "currencyCode", "isActive", "isEnabledPickup",
                                  "isEnabledDelivery"}
    by_code = {a["code"]: a for a in agreements}
    assert by_code["SAGR2"]["agreementGroup"] == "НАЛ" and not by_code["SAGR2"]["isEnabledDelivery"]
    assert not by_code["SAGR3"]["isActive"]
    addresses = api.get("delivery/addresses").json()
    assert [a["code"] for a in addresses] == ["Д1", "Д2"]
    assert set(addresses[0]) == {"code", "city", "address", "deliveryZoneCode"}
    locations = api.get("locations").json()
    assert len(locations) >= 4 and {"SHATE-01", "SHATE-S01", "SUP-EU1"} <= {
        loc["code"] for loc in locations}
    assert all(set(loc) == {"code", "name", "city"} and loc["name"] for loc in locations)


def test_status_codes_and_trademarks(api):
    codes = api.get("orderItemStatusCodes").json()
    by_code = {row["code"]: row for row in codes}
    assert set(codes[0]) == {"code", "name", "description", "isFinal"}
    assert by_code[30]["name"] == "В работе" and not by_code[0]["isFinal"]
    assert all(by_code[c]["isFinal"] for c in (60, 140, 150, 180))
    trademarks = api.get("trademarks").json()
    names = [t["name"] for t in trademarks]
    assert {"MANN-FILTER", "BOSCH", "SACHS", "TRW", "FEBI BILSTEIN", "LEMFORDER", "NGK", "KYB",
            "MAHLE", "GATES", "KNECHT"} <= set(names)
    assert set(trademarks[0]) == {"name", "country", "description", "url", "catalogUrl",
                                  "extendedWarranty"}
    knecht = api.get("trademarks/Knecht").json()
    assert knecht["name"] == "KNECHT" and knecht["country"] == "Германия"
    assert api.get("trademarks/MANN-FILTER").json()["extendedWarranty"] is True
    missing = api.get("trademarks/NOBRAND")
    assert missing.status_code == 404 and missing.json()["code"] == "TradeMarkNotFound"


def test_available_delivery_dates(api):
    dates = api.get("delivery/availableDateTimes",
                    params={"locationCode": "SHATE-01", "deliveryAddressCode": "Д1"}).json()
    assert dates[0] == "2025-12-15T12:00:00"  # today 15:00 in Minsk
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", d) for d in dates)
    assert "2025-12-21T12:00:00" not in dates and len(dates) == 6  # 7 days, no Sunday
    later = api.get("delivery/availableDateTimes",
                    params={"locationCode": "SUP-EU1", "deliveryAddressCode": "Д2",
                            "daysCount": 14}).json()
    assert later[0] == "2025-12-23T12:00:00"  # 7 days' lead + 1 day to Brest
    bad = api.get("delivery/availableDateTimes", params={"locationCode": "SHATE-01"})
    assert bad.status_code == 400
    unknown = api.get("delivery/availableDateTimes",
                      params={"locationCode": "X", "deliveryAddressCode": "Д1"})
    assert unknown.json()["code"] == "LocationNotFound"


# -- articles ----------------------------------------------------------------------------------------
def test_article_details_and_include(api):
    plain = api.get(f"articles/{W712}").json()
    assert plain == {"article": {"id": W712, "code": "W 712/75", "tradeMarkName": "MANN-FILTER",
                                 "name": "Фильтр масляный",
                                 "description": "Замена - W 712/52. VW, AUDI, SKODA",
                                 "unitOfMeasure": "ШТ"}}
    full = api.get(f"articles/{W712}", params={"include": "Contents,extended_info,trademark"})
    body = full.json()
    assert set(body) == {"article", "tradeMark", "contents", "extendedInfo"}
    assert body["tradeMark"]["name"] == "MANN-FILTER"
    assert body["contents"][0]["contentType"] == "ImageTwoDimensional"
    assert re.fullmatch(r"[0-9A-F]{64}", body["contents"][0]["contentId"])
    info = body["extendedInfo"]
    assert {"key": "Резьба", "value": "3/4-16 UNF"} in info["characteristics"]
    assert info["originals"][0]["tradeMarkName"] == "VAG"
    modification = info["applicability"][0]["models"][0]["modifications"][0]
    assert set(modification) == {"name", "mnEngineCode", "beginDate", "endDate", "kWt",
                                 "hPower", "cylinders", "vol"}
    repeated = api.get(f"articles/{W712}?include=trademark&include=characteristics").json()
    assert set(repeated) == {"article", "tradeMark", "extendedInfo"}
    missing = api.get("articles/999")
    assert missing.status_code == 404 and missing.json()["code"] == "ArticleNotFound"
    assert api.get("articles/abc").status_code == 404


def test_analogs(api):
    analogs = api.get(f"articles/{W712}/analogs",
                      params={"include": "contents,extended_info,trademark"}).json()
    assert [a["article"]["id"] for a in analogs] == [1248202, 1248203, 1248204]
    assert all(set(a) == {"article", "tradeMark"} for a in analogs)  # more than one: no content
    single = api.get("articles/1248208/analogs", params={"include": "contents"}).json()
    assert [a["article"]["code"] for a in single] == ["LA 109"] and single[0]["contents"]
    assert api.get(f"articles/{CLUTCH}/analogs").json() == []


def test_search_by_string(api):
    both = api.get("articles/search", params={"searchString": "oc105",
                                              "include": "contents,trademark"}).json()
    assert sorted(a["article"]["tradeMarkName"] for a in both) == ["KNECHT", "MAHLE"]
    assert all(a["article"]["code"] == DEMO_AMBIGUOUS_CODE and "contents" not in a for a in both)
    one = api.get("articles/search", params={"SearchString": "OC-105", "TradeMarkNames": "knecht",
                                             "include": "contents"}).json()
    assert [a["article"]["id"] for a in one] == [1248288] and one[0]["contents"]
    by_path = api.get("articles/search/W%20712%2F75").json()
    assert [a["article"]["id"] for a in by_path] == [W712]
    assert api.get("articles/search/W71275").json() == by_path
    assert api.get("articles/search", params={"searchString": "NOPE-1"}).json() == []
    assert api.get("articles/search").status_code == 400


def test_search_by_keys_and_ids(api):
    body = {"keys": [{"articleCode": "OC105", "tradeMarkName": "KNECHT"},
                     {"articleCode": "OC 105", "tradeMarkName": "mahle"},
                     {"articleCode": DEMO_UNKNOWN_KEY[0], "tradeMarkName": DEMO_UNKNOWN_KEY[1]},
                     {"articleCode": "0986452041", "tradeMarkName": "BOSCH"}],
            "ids": [NGK, 1248288, 42], "include": ["trademark"]}
    found = api.post("articles/search", body).json()
    assert [a["article"]["id"] for a in found] == [1248288, 1248289, 1248205, NGK]
    assert all("tradeMark" in a for a in found)
    assert api.post("articles/search", {"Ids": [W712]}).json()[0]["article"]["id"] == W712
    assert api.post("articles/search", {"keys": []}).status_code == 400


def test_search_by_keys_needs_code_and_trademark(api, emu):
    """tradeMarkName is required in POST articles/search (document 2.4): a brand-less code is
    for the GET search, which finds it under every brand."""
    emu.reset()
    body = {"keys": [{"articleCode": "OC105", "tradeMarkName": "KNECHT"},
                     {"articleCode": "OC 105"}, {"articleCode": "W71275", "tradeMarkName": " "},
                     {"tradeMarkName": "BOSCH"}], "ids": [W712]}
    refused = api.post("articles/search", body)
    assert refused.status_code == 400
    answer = refused.json()
    assert answer["code"] == "InvalidRequest"
    assert answer["messages"] == ["keys[1].tradeMarkName: обязательное поле",
                                  "keys[2].tradeMarkName: обязательное поле",
                                  "keys[3].articleCode: обязательное поле"]
    assert api.post("articles/search", {"keys": ["OC105"]}).status_code == 400
    by_string = api.get("articles/search", params={"searchString": "OC 105"}).json()
    assert [a["article"]["id"] for a in by_string] == [1248288, 1248289]  # ambiguous
    assert [r.label for r in emu.requests] == ["articles_search_keys"] * 2 + ["articles_search"]


def test_search_keys_limit(http, clock):
    with ShateEmulator(clock=clock, max_search_items=2) as emu:
        too_many = Api(emu, http).post("articles/search", {"ids": [1, 2, 3]})
        assert too_many.status_code == 400 and too_many.json()["code"] == "TooManyItems"


def test_contents_search(api):
    content_id = api.get(f"articles/{W712}", params={"include": "contents"}).json()[
        "contents"][0]["contentId"]
    answer = api.post("contents/search", [{"contentId": content_id, "heightSize": 1000,
                                           "widthSize": 100}, {"contentId": "00" * 32}]).json()
    assert [row["id"] for row in answer] == [content_id]
    prefix, data = answer[0]["value"].split(",", 1)
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(data).startswith(b"\x89PNG")
    single = api.post("contents/search", {"ContentId": content_id}).json()
    assert len(single) == 1


# -- prices ------------------------------------------------------------------------------------------
def test_prices_search_shape_and_offers(api):
    offers = api.prices(W712, address=["Д1", "Д2"])
    assert [(o["locationCode"], o["locationCodeReal"], o["type"]) for o in offers] == [
        ("SHATE-01", "SHATE-01", "Internal"), ("SHATE-S01", "SHATE-S01", "Internal"),
        ("SHATE-S01", "SUP-EU1", "External")]
    first = offers[0]
    assert set(first) == {"id", "articleId", "locationCode", "locationCodeReal", "agreementCode",
                          "type", "price", "quantity", "supplyProbability", "addInfo",
                          "priority", "hash", "deliveryDateTimes", "shippingDateTime",
                          "isImport", "isFree"}
    assert re.fullmatch(r"[0-9A-F]{128}", first["id"]) and first["articleId"] == W712
    assert first["price"] == {"value": 21.4, "valueWithMargin": 21.4, "valueRecommended": None,
                              "currencyCode": "BYN", "priceMax": 31.03, "importAllowance": 15}
    assert first["quantity"] == {"available": 14, "availableType": "Equal", "multiplicity": 1,
                                 "minimum": 1, "maximum": None}
    assert first["supplyProbability"] is None and first["priority"] == 1
    assert first["addInfo"]["city"] == "Минск" and first["addInfo"]["isReturnAllowed"] is True
    assert first["shippingDateTime"] == "2025-12-15T07:00:00.000Z"
    assert first["deliveryDateTimes"] == [
        {"deliveryAddressCode": "Д1", "deliveryDateTime": "2025-12-15T12:00:00.000Z"},
        {"deliveryAddressCode": "Д2", "deliveryDateTime": "2025-12-16T12:00:00.000Z"}]
    supplier = offers[2]
    assert supplier["supplyProbability"] == {"lastUpdateDateTime": "2025-12-15T06:00:00.000Z",
                                             "rating": 92}
    assert supplier["quantity"]["availableType"] == "More" and supplier["addInfo"]["city"] == \
        "Варшава"
    assert supplier["shippingDateTime"] == "2025-12-22T07:00:00.000Z"
    assert len({o["id"] for o in offers}) == 3
    assert api.prices(W712)[0]["id"] != first["id"]  # every search issues fresh priceIds
    assert api.prices(CLUTCH) == [] and api.prices(99) == []


def test_prices_agreements_defaults_and_errors(api, emu):
    default = api.post("prices/search", {"ArticleId": W712}).json()
    assert default[0]["agreementCode"] == "SAGR1"
    assert default[0]["deliveryDateTimes"][0]["deliveryAddressCode"] == "Д1"
    cash = api.prices(W712, agreement="SAGR2")
    assert cash[0]["price"]["value"] == round(21.40 * 1.05, 2)
    usd = api.prices(W712, agreement="SAGR3")
    assert usd[0]["price"]["currencyCode"] == "USD"
    unknown = api.post("prices/search", {"articleId": W712, "agreementCode": "NOPE"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "AgreementNotFound"
    address = api.post("prices/search", {"articleId": W712, "deliveryAddressCode": "Д9"})
    assert address.json()["code"] == "DeliveryAddressNotFound"
    assert api.post("prices/search", {"agreementCode": "SAGR1"}).status_code == 400
    emu.default_agreement_code = None
    no_default = api.post("prices/search", {"articleId": W712})
    assert no_default.status_code == 400 and no_default.json()["code"] == \
        "DefaultAgreementNotFound"


def test_prices_analogs_batch_and_grouped(api):
    with_analogs = api.prices(W712, includeAnalogs=True)
    assert {o["articleId"] for o in with_analogs} == {W712, 1248202, 1248203, 1248204}
    batch = api.post("prices/search", [{"articleId": W712, "agreementCode": "SAGR1",
                                        "deliveryAddressCode": "Д1"},
                                       {"articleId": NGK}, {"articleId": 99}]).json()
    assert {o["articleId"] for o in batch} == {W712, NGK}
    ngk = next(o for o in batch if o["articleId"] == NGK)
    assert (ngk["quantity"]["multiplicity"], ngk["quantity"]["minimum"]) == (4, 4)
    grouped = api.post("prices/search/with_article_info",
                       {"articleId": W712, "includeAnalogs": True}).json()
    assert [g["article"]["id"] for g in grouped] == [W712, 1248202, 1248203, 1248204]
    assert set(grouped[0]) == {"article", "prices"} and len(grouped[0]["prices"]) == 3
    assert grouped[0]["article"]["code"] == "W 712/75"
    empty = api.post("prices/search/with_article_info", {"articleId": CLUTCH}).json()
    assert empty == [{"article": empty[0]["article"], "prices": []}]


def test_prices_require_agreement_and_address(http, clock):
    with ShateEmulator(clock=clock, require_agreement_and_address=True) as emu:
        api = Api(emu, http)
        assert api.post("prices/search", {"articleId": W712}).json() == []
        assert api.post("prices/search", {"articleId": W712, "agreementCode": "SAGR1"}).json() \
            == []
        assert len(api.prices(W712)) == 3


# -- orders: byPriceItems -------------------------------------------------------------------------
def test_order_by_price_items(api, emu):
    offer = api.offer(W712, "SHATE-01")
    supplier = api.offer(W712, "SUP-EU1")  # ships from SHATE-S01, as own SHATE-S01 stock does
    own_central = api.offer(1248202, "SHATE-S01")
    response = api.order([(offer["id"], 2)], comment="Позвонить", note="Для Васи")
    assert response.status_code == 200, response.text
    order = response.json()
    assert set(order) == {"id", "createDateTime", "deliveryInfo", "agreementCode", "currencyCode",
                          "totalSum", "comment", "note", "orderItems"}
    assert order["id"] == 20826500 and order["createDateTime"] == "2025-12-15T06:00:00.000Z"
    assert order["deliveryInfo"] == {"deliveryAddressCode": "Д1"}
    assert (order["agreementCode"], order["currencyCode"], order["totalSum"]) == ("SAGR1", "BYN",
                                                                                 42.8)
    assert (order["comment"], order["note"]) == ("Позвонить", "Для Васи")
    item = order["orderItems"][0]
    assert item["id"] == 87865469 and item["article"]["code"] == "W 712/75"
    assert (item["quantity"], item["quantityToShip"], item["quantityShipped"]) == (2, 0, 0)
    assert (item["price"], item["totalSum"], item["statusCode"]) == (21.4, 42.8, 0)
    assert item["deliveryDateTime"] == "2025-12-15T12:00:00.000Z" and item["warnings"] is None
    assert "priceId" not in item
    two = api.order([(supplier["id"], 1), (own_central["id"], 3)],
                    deliveryInfo={"deliveryType": "One Delivery", "deliveryAddressCode": "Д2"})
    assert two.status_code == 200, two.text
    dates = {i["deliveryDateTime"] for i in two.json()["orderItems"]}
    assert dates == {"2025-12-23T12:00:00.000Z"}  # one delivery: the latest date for both
    pickup = api.order([(api.offer(W712, "SHATE-01")["id"], 1)], deliveryInfo=None)
    assert pickup.json()["deliveryInfo"] is None
    assert pickup.json()["orderItems"][0]["deliveryDateTime"] == "2025-12-15T07:00:00.000Z"
    assert [o["id"] for o in emu.placed_orders()] == [20826500, 20826501, 20826502]


def test_order_header_rules(api):
    pid = api.offer(W712, "SHATE-01")["id"]
    body = {"agreementCode": "SAGR1", "priceItems": [{"priceId": pid, "quantity": 1}]}
    no_consent = api.post("orders/byPriceItems", body)
    assert no_consent.status_code == 400
    answer = no_consent.json()
    assert set(answer) == {"errors", "errorDescriptions", "priceItemErrors"}
    assert len(answer["errors"]) == 2 and answer["priceItemErrors"] == []
    assert {"AgreeWithTermsOfDelivery",
            "AgreeWithPersonalDataProcessingPolicyAndUserAgreement"} <= set(
        answer["errorDescriptions"])
    assert "AgreementCode" in api.order([(pid, 1)], agreement="").json()["errorDescriptions"]
    unknown = api.order([(pid, 1)], agreement="SAGR9").json()["errors"]
    assert unknown[0] == "Договор SAGR9 не найден"
    inactive = api.order([(pid, 1)], agreement="SAGR3").json()
    assert "не активен" in inactive["errors"][0]
    assert any(e.startswith("108:") for e in inactive["priceItemErrors"][0]["errors"])
    cash_pid = api.offer(W712, "SHATE-01", agreement="SAGR2")["id"]
    cash = api.order([(cash_pid, 1)], agreement="SAGR2").json()["errors"]
    assert any("fio и phone" in e for e in cash)
    assert any("доставка недоступна" in e for e in cash)
    cash_ok = api.order([(cash_pid, 1)], agreement="SAGR2", deliveryInfo=None,
                        fio="Иванов Иван Иванович", phone="+375 29 123 45 67")
    assert cash_ok.status_code == 200, cash_ok.text
    bad_delivery = api.order([(pid, 1)], deliveryInfo={"deliveryType": "Drone",
                                                       "deliveryAddressCode": "Д7"}).json()
    assert {"DeliveryType", "DeliveryAddressCode"} <= set(bad_delivery["errorDescriptions"])
    assert api.order([]).json()["errors"] == ["Не переданы строки заказа"]
    broken = api.post("orders/byPriceItems", data="{", headers={"Content-Type":
                                                                "application/json"})
    assert broken.status_code == 400 and broken.json()["errors"] == ["Некорректный запрос"]


def test_order_one_location_and_line_rules(api, emu):
    minsk = api.offer(W712, "SHATE-01")["id"]
    central = api.offer(W712, "SHATE-S01")["id"]
    mixed = api.order([(minsk, 1), (central, 1)])
    assert mixed.status_code == 400
    assert any("одного склада" in e and "SHATE-01, SHATE-S01" in e for e in mixed.json()["errors"])
    assert "LocationCode" in mixed.json()["errorDescriptions"]
    cases = [
        (api.offer(NGK, "SHATE-01")["id"], 6, ["104: Количество должно быть кратно 4"]),
        (api.offer(DISC, "SHATE-S01")["id"], 1, ["104: Количество должно быть кратно 2",
                                                  "105: Количество меньше минимального (2)"]),
        (api.offer(SACHS, "SHATE-S01")["id"], 3, ["106: Количество больше максимального (2)"]),
        (api.offer(1248202, "SHATE-S01")["id"], 37,
         ["107: Недостаточно товара на складе (доступно 36)"]),
        (api.offer(1248202, "SHATE-S01")["id"], 0, ["103: Некорректное количество: 0"]),
        (api.offer(1248202, "SHATE-S01")["id"], 1.5, ["103: Некорректное количество: 1.5"]),
        ("ABC" * 10, 1, ["100: Ценовое предложение не найдено"]),
    ]
    for pid, quantity, expected in cases:
        response = api.order([(pid, quantity)])
        assert response.status_code == 400, (pid, quantity)
        body = response.json()
        assert body["errors"] == ["Ошибка валидации строк заказа"]
        row = body["priceItemErrors"][0]
        assert row["errors"] == expected and row["priceId"] == pid
        if not expected[0].startswith("100"):
            assert set(row["current"]) == {"price", "priceWithMargin", "quantityInfo",
                                           "deliveryDateTime", "shippingDateTime"}
            assert row["hash"] == emu.issued_price(pid).hash
    ok = api.order([(api.offer(NGK, "SHATE-01")["id"], 8), (minsk, 1)])
    assert ok.status_code == 200, ok.text
    several = api.order([(api.offer(SACHS, "SHATE-S01")["id"], 3),
                         (api.offer(DISC, "SHATE-S01")["id"], 1)])
    assert len(several.json()["priceItemErrors"]) == 2
    assert len(emu.placed_orders()) == 1  # nothing was created by the failed ones


def test_order_agreement_rules(api, http, clock):
    prepaid = api.offer(W712, "SUP-EU1", agreement="SAGR2")["id"]
    response = api.order([(prepaid, 1)], agreement="SAGR2", deliveryInfo=None, fio="Иванов И.И.",
                         phone="+375291234567")
    body = response.json()
    assert "Товар не оформлен в заказ. По договору 100% предоплата." in body["errors"]
    assert line_errors(response) == ["110: Товар не оформлен в заказ. По договору 100% "
                                     "предоплата."]
    with ShateEmulator(clock=clock, enforce_agreement_location=True) as emu:
        strict = Api(emu, http)
        central = strict.offer(W712, "SHATE-S01")["id"]
        refused = strict.order([(central, 1)]).json()["errors"]
        assert refused == ["Код склада договора (SHATE-01) не соответствует коду склада строк "
                           "заказа (SHATE-S01)"]
        assert strict.order([(strict.offer(W712, "SHATE-01")["id"], 1)]).status_code == 200


def test_orders_on_cash_agreements_need_fio_and_phone(http, clock):
    """10.2/10.3: groups НАЛ, ЭКВАИР, МАГ need fio and phone at the top level of the order, by
    price offer and by cart alike; other groups do not."""
    agreements = [ShateAgreement("SAGR1", "БЕЗНАЛ", "Договор", "SHATE-01", "BYN")] + [
        ShateAgreement(code, group, "Физ. лицо", "SHATE-01", "BYN")
        for code, group in (("CASH", "НАЛ"), ("CARD", "ЭКВАИР"), ("SHOP", "МАГ"))]
    contact = {"fio": "Иванов Иван Иванович", "phone": "+375 29 123 45 67"}
    partial = [{}, {"fio": contact["fio"]}, {"phone": contact["phone"]},
               {"fio": " ", "phone": contact["phone"]}, {"deliveryInfo": dict(
                   contact, deliveryType="ManyDelivery", deliveryAddressCode="Д1")}]
    with ShateEmulator(clock=clock, agreements=agreements) as emu:
        api = Api(emu, http)
        for code in ("CASH", "CARD", "SHOP"):
            pid = api.offer(W712, "SHATE-01", agreement=code)["id"]
            for fields in partial:
                refused = api.order([(pid, 1)], agreement=code, **fields)
                assert refused.status_code == 400, (code, fields)
                answer = refused.json()
                assert answer["errorDescriptions"]["Fio"].endswith("обязательны поля fio и phone")
                assert answer["priceItemErrors"] == []  # the lines themselves were fine
            assert api.order([(pid, 1)], agreement=code, **contact).status_code == 200
        assert api.order([(api.offer(W712, "SHATE-01")["id"], 1)]).status_code == 200
        line = api.post("cartitems", {"priceId": api.offer(W712, "SHATE-01", agreement="CASH")[
            "id"], "quantity": 1}).json()
        body = {"agreementCode": "CASH", "agreeWithTermsOfDelivery": True,
                "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
                "cartItems": [{"id": line["id"]}]}
        refused = api.post("orders/byCartItems", body)
        assert refused.status_code == 400 and "Fio" in refused.json()["errorDescriptions"]
        in_cart = api.get("cartitems", params={"agreementCode": "CASH"}).json()
        assert [i["id"] for i in in_cart] == [line["id"]]  # nothing ordered, nothing removed
        assert api.post("orders/byCartItems", {**body, **contact}).status_code == 200
        assert len(emu.placed_orders()) == 5
        assert emu.requests_for("order_by_cart_items")[-1].json()["fio"] == contact["fio"]


def test_order_expected_arrival(api):
    pid = api.offer(W712, "SUP-EU1")["id"]
    late = api.order([(pid, 1)], expectedDateTimeOfArrivalAllItems="2025-12-20T00:00:00")
    assert late.status_code == 400
    assert line_errors(late)[0].startswith("109: Строка не может прибыть к 2025-12-20T00:00:00")
    fine = api.order([(pid, 1)], expectedDateTimeOfArrivalAllItems="2025-12-31T00:00:00Z")
    assert fine.status_code == 200


# -- stale priceIds -----------------------------------------------------------------------------------
def test_stale_price_id_cheaper_within_tolerance_gets_warning(api, emu):
    pid = api.offer(W712, "SHATE-01")["id"]
    assert emu.reprice(0.95, [W712]) == 3
    response = api.order([(pid, 2)])
    assert response.status_code == 200, response.text
    item = response.json()["orderItems"][0]
    assert item["price"] == 20.33
    assert item["warnings"] == ["Произошло изменение цены в пределах допустимого отклонения. "
                                "oldPrice : 21.4 ; newPrice : 20.33 "]


def test_stale_price_id_errors(api, emu, clock):
    pid = api.offer(W712, "SHATE-01")["id"]
    emu.reprice(1.05)
    dearer = api.order([(pid, 1)])
    assert dearer.status_code == 400
    assert line_errors(dearer) == ["102: Цена изменилась. oldPrice : 21.4 ; newPrice : 22.47"]
    assert dearer.json()["priceItemErrors"][0]["current"]["price"] == 22.47
    pid = api.offer(W712, "SHATE-01")["id"]
    emu.reprice(0.5)
    assert line_errors(api.order([(pid, 1)]))[0].startswith("102: ")  # beyond the tolerance
    pid = api.offer(W712, "SHATE-01")["id"]
    emu.expire_prices()
    assert line_errors(api.order([(pid, 1)])) == [
        "101: Ценовое предложение устарело. Выполните проценку повторно"]
    pid = api.offer(W712, "SHATE-01")["id"]
    clock.advance(emu.price_ttl - 1)
    other = api.offer(W712, "SHATE-01")["id"]
    clock.advance(1)
    assert line_errors(api.order([(pid, 1)]))[0].startswith("101: ")  # too old
    assert api.order([(other, 1)]).status_code == 200  # issued later, still valid


def test_set_offer_and_control_routes(api, emu, http):
    pid = api.offer(W712, "SHATE-01")["id"]
    emu.set_offer(W712, "SHATE-01", available=1)
    assert line_errors(api.order([(pid, 1)])) == [
        "101: Ценовое предложение устарело. Выполните проценку повторно"]
    patched = http.patch(emu.base_url + "/_emulator/offers/1248201/SHATE-01",
                         json={"available": 0}, timeout=TIMEOUT)
    assert patched.ok and patched.json()["available"] == 0
    assert [o["locationCodeReal"] for o in api.prices(W712)] == ["SHATE-S01", "SUP-EU1"]
    assert line_errors(api.order([(pid, 1)])) == ["100: Ценовое предложение больше недоступно"]
    pid = api.offer(W712, "SHATE-S01")["id"]
    assert http.post(emu.base_url + "/_emulator/reprice", json={"factor": 1.2},
                     timeout=TIMEOUT).json()["changed"] > 50
    assert line_errors(api.order([(pid, 1)]))[0].startswith("102: ")
    emu.add_article(ShateArticle(42, "NEW 1", "BOSCH", "Новинка", offers=(
        ShateOffer("SHATE-01", "SHATE-01", 5.0, 3),)))
    assert api.prices(42)[0]["price"]["value"] == 5
    emu.remove_article(42)
    assert api.prices(42) == []
    assert demo_catalogue()[W712].offers[0].price == 21.40  # the demo data is untouched


# -- cart and byCartItems -----------------------------------------------------------------------------
def test_cart_crud(api, emu):
    pid = api.offer(W712, "SHATE-01")["id"]
    added = api.post("cartitems", {"priceId": pid, "quantity": 2, "comment": "Для Пети"})
    assert added.status_code == 200, added.text
    item = added.json()
    assert set(item) == {"id", "locationCode", "locationCodeReal", "agreementCode", "article",
                         "price", "priceWithMargin", "priceType", "priceMax", "importAllowance",
                         "currencyCode", "quantity", "quantityInfo", "addInfo", "createDateTime",
                         "comment", "deliveryDateTime", "shippingDateTime", "hash", "isImport",
                         "isFree"}
    assert (item["id"], item["quantity"], item["price"], item["comment"]) == (26151145, 2, 21.4,
                                                                              "Для Пети")
    assert item["article"]["id"] == W712 and item["priceType"] == "Internal"
    listed = api.post("cartitems", [{"priceId": api.offer(NGK, "SHATE-01")["id"],
                                     "quantity": 4}])
    assert isinstance(listed.json(), list) and listed.json()[0]["quantity"] == 4
    assert [i["id"] for i in api.get("cartitems").json()] == [26151145, 26151146]
    assert api.get("cartitems", params={"agreementCode": "SAGR2"}).json() == []
    brest = api.get(f"cartitems/{item['id']}", params={"deliveryAddressCode": "Д2"}).json()
    assert brest["deliveryDateTime"] == "2025-12-16T12:00:00.000Z"
    patched = api("PATCH", f"cartitems/{item['id']}", json={"quantity": 3, "comment": "ok"})
    assert (patched.json()["quantity"], patched.json()["comment"]) == (3, "ok")
    bad = api("PATCH", "cartitems/26151146", json={"quantity": 5})
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidQuantity"
    assert bad.json()["messages"] == ["104: Количество должно быть кратно 4"]
    assert api("DELETE", "cartitems/26151146").status_code == 204
    assert api.get("cartitems/26151146").status_code == 404
    assert api("DELETE", "cartitems/26151146").json()["code"] == "CartItemNotFound"
    assert api("DELETE", "cartitems").status_code == 204
    assert api.get("cartitems").json() == []


def test_cart_add_errors_and_default_agreement(api, emu):
    unknown = api.post("cartitems", {"priceId": "00", "quantity": 1})
    assert unknown.status_code == 404 and unknown.json()["code"] == "PriceNotFound"
    pid = api.offer(NGK, "SHATE-01")["id"]
    bad = api.post("cartitems", {"priceId": pid, "quantity": 2})
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidQuantity"
    emu.expire_prices()
    stale = api.post("cartitems", {"priceId": pid, "quantity": 4})
    assert stale.status_code == 400 and stale.json()["code"] == "PriceIsOutdated"
    emu.default_agreement_code = None
    missing = api.get("cartitems")
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "DefaultAgreementNotFound", "description": "Договор по умолчанию не найден",
        "messages": ["Внимание! Договор по умолчанию не найден. Пожалуйста, свяжитесь с "
                     "вашим менеджером."]}


def test_order_by_cart_items(api, emu):
    first = api.post("cartitems", {"priceId": api.offer(W712, "SHATE-01")["id"],
                                   "quantity": 2}).json()
    second = api.post("cartitems", {"priceId": api.offer(NGK, "SHATE-01")["id"],
                                    "quantity": 8}).json()
    elsewhere = api.post("cartitems", {"priceId": api.offer(DISC, "SHATE-S01")["id"],
                                       "quantity": 2}).json()
    body = {"agreementCode": "SAGR1", "agreeWithTermsOfDelivery": True,
            "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
            "deliveryInfo": {"deliveryType": "ManyDelivery", "deliveryAddressCode": "Д1"},
            "cartItems": [{"id": first["id"]}, {"id": second["id"]}, {"id": elsewhere["id"]}]}
    mixed = api.post("orders/byCartItems", body)
    assert mixed.status_code == 400 and "LocationCode" in mixed.json()["errorDescriptions"]
    body["cartItems"] = [{"id": first["id"]}, {"id": second["id"]}]
    response = api.post("orders/byCartItems", body)
    assert response.status_code == 200, response.text
    items = response.json()["orderItems"]
    assert [(i["article"]["id"], i["quantity"]) for i in items] == [(W712, 2), (NGK, 8)]
    assert [i["id"] for i in api.get("cartitems").json()] == [elsewhere["id"]]
    again = api.post("orders/byCartItems", body)
    assert again.status_code == 400 and any("не найдены" in e for e in again.json()["errors"])


def test_cart_price_agreed_by_patch(api, emu):
    item = api.post("cartitems", {"priceId": api.offer(W712, "SHATE-01")["id"],
                                  "quantity": 1}).json()
    body = {"agreementCode": "SAGR1", "agreeWithTermsOfDelivery": True,
            "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
            "cartItems": [{"id": item["id"]}]}
    api("PATCH", f"cartitems/{item['id']}", json={"price": 20})
    refused = api.post("orders/byCartItems", body)
    assert line_errors(refused) == ["102: Цена изменилась. oldPrice : 20 ; newPrice : 21.4"]
    assert refused.json()["priceItemErrors"][0]["cartItemId"] == item["id"]
    api("PATCH", f"cartitems/{item['id']}", json={"price": 22})
    accepted = api.post("orders/byCartItems", body)
    assert accepted.status_code == 200
    assert accepted.json()["orderItems"][0]["warnings"][0].startswith(
        "Произошло изменение цены в пределах допустимого отклонения. oldPrice : 22 ;")


# -- order list and statuses ----------------------------------------------------------------------------
def place_three(api, clock):
    ids = []
    for article_id, real, qty in ((W712, "SHATE-01", 1), (NGK, "SHATE-01", 4),
                                  (1248288, "SHATE-01", 1)):
        response = api.order([(api.offer(article_id, real)["id"], qty)])
        assert response.status_code == 200, response.text
        ids.append(response.json())
        clock.advance(86400)
        api.token = login_key(api.emu, api.http).json()["access_token"]  # the old one expired
    return ids


def test_orders_list_filters_and_paging(api, clock):
    orders = place_three(api, clock)
    listed = api.get("orders").json()
    assert [o["id"] for o in listed] == [o["id"] for o in reversed(orders)]
    assert "canReturn" in listed[0]["orderItems"][0]
    page = api.get("orders", params={"page": 2, "pageSize": 2}).json()
    assert [o["id"] for o in page] == [orders[0]["id"]]
    assert api.get("orders", params={"page": 3, "pageSize": 2}).json() == []
    by_ids = api.get("orders", params=[("ids", orders[0]["id"]), ("ids", orders[2]["id"])]).json()
    assert {o["id"] for o in by_ids} == {orders[0]["id"], orders[2]["id"]}
    by_code = api.get("orders", params={"articleCode": "oc105"}).json()
    assert [o["id"] for o in by_code] == [orders[2]["id"]]
    by_brand = api.get("orders", params={"TradeMarkName": "ngk"}).json()
    assert [o["orderItems"][0]["article"]["code"] for o in by_brand] == ["BKR6E"]
    by_date = api.get("orders", params={"startDateTime": "2025-12-16",
                                        "endDateTime": "2025-12-16"}).json()
    assert [o["id"] for o in by_date] == [orders[1]["id"]]
    assert api.get("orders", params={"statusCode": 140}).json() == []
    assert len(api.get("orders", params={"statusCode": "0,140"}).json()) == 3
    too_big = api.get("orders", params={"pageSize": 101})
    assert too_big.status_code == 400 and too_big.json()["code"] == "InvalidRequest"
    assert api.get("orders", params={"startDateTime": "yesterday"}).status_code == 400


def test_status_history_and_advance(api, emu, clock, http):
    order = api.order([(api.offer(W712, "SHATE-01")["id"], 2)]).json()
    item_id = order["orderItems"][0]["id"]
    history = api.get(f"orderitems/{item_id}/statuseshistory").json()
    assert history == [{"statusCode": 0, "dateTime": "2025-12-15T06:00:00.000Z"}]
    clock.advance(60)
    assert emu.advance_status(item_id) == 30
    assert emu.advance_status(item_id) == 80
    listed = api.get("orders").json()[0]["orderItems"][0]
    assert (listed["statusCode"], listed["quantityToShip"], listed["quantityShipped"]) == (80, 2, 0)
    assert emu.advance_status(item_id, 140) == 140
    assert api.get("orders").json()[0]["orderItems"][0]["quantityShipped"] == 2
    history = api.get(f"orderitems/{item_id}/statuseshistory").json()
    assert [h["statusCode"] for h in history] == [0, 30, 80, 140]
    assert history[1]["dateTime"] == "2025-12-15T06:01:00.000Z"
    with pytest.raises(ValueError):
        emu.advance_status(item_id)  # 140 is the end of the path
    with pytest.raises(ValueError):
        emu.advance_status(item_id, 999)
    with pytest.raises(KeyError):
        emu.advance_status(1)
    assert api.get("orderitems/1/statuseshistory").status_code == 404
    other = api.order([(api.offer(NGK, "SHATE-01")["id"], 4)]).json()["orderItems"][0]["id"]
    control = http.post(emu.base_url + "/_emulator/advance_status",
                        json={"order_item_id": other, "status_code": 60}, timeout=TIMEOUT)
    assert control.json() == {"order_item_id": other, "status_code": 60}
    refused = api.get("orders", params={"statusCode": 60}).json()
    assert refused[0]["orderItems"][0]["id"] == other
    assert STATUS_CODES[60][2] is True


def test_automatic_status_progression(http, clock):
    with ShateEmulator(clock=clock, auto_progress_seconds=600, token_ttl=10**6) as emu:
        api = Api(emu, http)
        supplier = api.order([(api.offer(W712, "SUP-EU1")["id"], 1)], deliveryInfo=None).json()
        item_id = supplier["orderItems"][0]["id"]
        clock.advance(1250)
        history = api.get(f"orderitems/{item_id}/statuseshistory").json()
        assert [h["statusCode"] for h in history] == [0, 30, 40]
        assert history[2]["dateTime"] == "2025-12-15T06:20:00.000Z"
        clock.advance(600 * 20)
        assert api.get("orders").json()[0]["orderItems"][0]["statusCode"] == 150
        assert [h["statusCode"] for h in api.get(
            f"orderitems/{item_id}/statuseshistory").json()] == [0, 30, 40, 50, 70, 80, 90, 150]


# -- rate limits ----------------------------------------------------------------------------------------
def test_price_rate_limit_per_15_minutes(http, clock):
    clock.advance(120)  # 06:02: the window ends at 06:15
    with ShateEmulator(clock=clock, price_requests_per_15min=3) as emu:
        api = Api(emu, http)
        assert len(api.prices(W712)) == 3
        batch = api.post("prices/search", [{"articleId": NGK}, {"articleId": DISC}])
        assert batch.status_code == 200
        assert emu.price_requests_used() == {"15min": 3, "day": 3}
        limited = api.post("prices/search", {"articleId": W712})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == str(13 * 60)
        assert limited.json()["code"] == "TooManyRequests"
        assert "2000" not in limited.json()["messages"][0] and "3 за 15 минут" in \
            limited.json()["messages"][0]
        assert api.post("prices/search/with_article_info", {"articleId": W712}).status_code == 429
        assert api.get("locations").status_code == 200  # only price requests are limited
        assert emu.price_requests_used()["15min"] == 3  # refused requests count nothing
        clock.advance(13 * 60)
        assert api.post("prices/search", {"articleId": W712}).status_code == 200
        emu.reset_price_limits()
        assert emu.price_requests_used() == {"15min": 0, "day": 0}


def test_price_rate_limit_per_day(http, clock):
    with ShateEmulator(clock=clock, price_requests_per_15min=100, price_requests_per_day=4,
                       token_ttl=10**6) as emu:
        api = Api(emu, http)
        assert api.post("prices/search", [{"articleId": W712}] * 4).status_code == 200
        limited = api.post("prices/search", {"articleId": W712})
        assert limited.status_code == 429
        # 09:00 in Minsk: 15 hours to local midnight
        assert limited.headers["Retry-After"] == str(15 * 3600)
        assert "за день" in limited.json()["messages"][0]
        clock.advance(15 * 3600)
        assert api.post("prices/search", {"articleId": W712}).status_code == 200


def test_limits_and_switches_over_control_routes(emu, http, api):
    config = http.post(emu.base_url + "/_emulator/config",
                       json={"price_requests_per_15min": 1, "require_agreement_and_address": True,
                             "latency": 0}, timeout=TIMEOUT).json()
    assert config["price_requests_per_15min"] == 1 and config["latency"] == 0
    assert api.post("prices/search", {"articleId": W712}).json() == []
    assert api.post("prices/search", {"articleId": W712}).status_code == 429
    assert http.post(emu.base_url + "/_emulator/reset_price_limits", timeout=TIMEOUT).ok
    assert len(api.prices(W712)) == 3
    http.post(emu.base_url + "/_emulator/config", json={"price_requests_per_15min": None},
              timeout=TIMEOUT)
    assert all(api.post("prices/search", {"articleId": W712}).ok for _ in range(3))
    bad = http.post(emu.base_url + "/_emulator/config", json={"nope": 1}, timeout=TIMEOUT)
    assert bad.status_code == 400
    assert http.get(emu.base_url + "/_emulator/orders", timeout=TIMEOUT).json() == []


def test_price_batch_limit(http, clock):
    with ShateEmulator(clock=clock, max_price_articles=2) as emu:
        too_many = Api(emu, http).post("prices/search", [{"articleId": W712}] * 3)
        assert too_many.status_code == 400 and too_many.json()["code"] == "TooManyItems"


# -- faults, recording, generic behaviour ----------------------------------------------------------------
def test_base_faults(api, emu):
    emu.set_fault("http_5xx", count=3)
    assert [api.get("locations").status_code for _ in range(4)] == [500, 502, 503, 200]
    emu.set_fault("malformed_json")
    broken = api.get("locations")
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    emu.set_fault("rate_limit", retry_after=7)
    limited = api.get("locations")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["code"] == "TooManyRequests"
    emu.set_fault("reset")
    with pytest.raises(requests.ConnectionError):
        api.get("locations")
    emu.set_fault("timeout", seconds=0.5)
    with pytest.raises(requests.Timeout):
        api.get("locations", timeout=0.1)
    emu.set_fault("slow", seconds=0.2)
    started = time.monotonic()
    with requests.Session() as fresh:
        assert Api(emu, fresh, api.token).get("locations").status_code == 200
    assert time.monotonic() - started >= 0.2
    assert set(emu.fault_kinds) == set(BUILTIN_FAULT_KINDS) | {"expire_token"}


def test_recording_labels_and_unknown_path(api, emu):
    emu.reset()
    api.prices(W712)
    api.get("Customer/Info")
    unknown = api.get("nothing/here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NotFound"
    assert [r.label for r in emu.requests] == ["prices", "customer", "unknown"]
    recorded = emu.requests_for("prices")[0]
    assert recorded.json() == {"articleId": W712, "agreementCode": "SAGR1",
                               "deliveryAddressCode": "Д1"}
    assert recorded.bearer_token() == api.token
    assert emu.counts() == {"prices": 1, "customer": 1, "unknown": 1}


def test_request_query_items_and_form_helpers(emu, http):
    login_password(emu, http)
    recorded = emu.requests_for("auth_login")[0]
    assert recorded.form() == {"Login": "demo", "Password": "demo"}
    assert recorded.bearer_token() is None
    Api(emu, http).get("orders?ids=1&ids=2&page=1")
    assert emu.requests_for("orders")[0].query_items() == [("ids", "1"), ("ids", "2"),
                                                           ("page", "1")]


# -- catalogues and CLI ------------------------------------------------------------------------------
def test_demo_catalogue():
    catalogue = demo_catalogue()
    assert 30 <= len(catalogue) <= 40
    brands = {a.trademark for a in catalogue.values()}
    assert {"MANN-FILTER", "BOSCH", "SACHS", "TRW", "FEBI BILSTEIN", "LEMFORDER", "NGK", "KYB",
            "MAHLE", "GATES"} <= brands
    codes = {a.code for a in catalogue.values()}
    assert {"W 712/75", "0 986 452 041", "GDB1330", "BKR6E", "6PK1070"} <= codes
    names = {a.name for a in catalogue.values()}
    assert {"Фильтр масляный", "Колодки тормозные дисковые передние"} <= names
    ambiguous = [a for a in catalogue.values() if a.code == DEMO_AMBIGUOUS_CODE]
    assert sorted(a.trademark for a in ambiguous) == ["KNECHT", "MAHLE"]
    assert not any(a.code == DEMO_UNKNOWN_KEY[0] for a in catalogue.values())
    assert any(not a.offers for a in catalogue.values())
    assert any(len({o.location_code for o in a.offers}) >= 2 for a in catalogue.values())
    for article in catalogue.values():
        assert all(other in catalogue for other in article.analogs)


def test_generate_catalogue_fast_and_deterministic(http):
    started = time.perf_counter()
    catalogue = ShateEmulator.generate_catalogue(10_000)
    assert time.perf_counter() - started < 1.0
    assert len(catalogue) == 10_000 and catalogue == ShateEmulator.generate_catalogue(10_000)
    assert catalogue != ShateEmulator.generate_catalogue(10_000, seed=1)
    assert {len(a.offers) for a in catalogue.values()} == {1, 2, 3, 4}
    assert len({normalize_code(a.code) for a in catalogue.values()}) == 10_000
    assert len({a.trademark for a in catalogue.values()}) >= 10
    with ShateEmulator(catalogue) as emu:
        api = Api(emu, http)
        ids = list(catalogue)[:100]
        offers = api.post("prices/search", [{"articleId": i} for i in ids]).json()
        assert {o["articleId"] for o in offers} == set(ids)
        article = catalogue[ids[7]]
        found = api.post("articles/search", {"keys": [{"articleCode": article.code,
                                                       "tradeMarkName": article.trademark}]})
        assert found.json()[0]["article"]["id"] == article.id


def test_package_is_self_contained():
    for path in (REPO / "emulators").glob("shate*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) (odoo|emulators)\b", source, re.MULTILINE), path


def test_cli_runs_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", "shate", "--port", "0", "--catalogue", "50",
         "--price-limit-15min", "1"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"SHATE emulator on (http://127\.0\.0\.1:\d+)/api/v1 "
                             r"\(api key (\{[0-9A-F-]+\}); login demo/demo\)", line)
        assert match, line
        base, key = match.groups()
        assert key == DEMO_API_KEY
        token = requests.post(base + "/api/v1/auth/loginByapiKey", timeout=TIMEOUT,
                              data={"apikey": key}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = requests.post(base + "/api/v1/prices/search", timeout=TIMEOUT,
                              json={"articleId": 3_000_000}, headers=headers)
        assert first.status_code == 200 and first.json()[0]["articleId"] == 3_000_000
        second = requests.post(base + "/api/v1/prices/search", timeout=TIMEOUT,
                               json={"articleId": 3_000_000}, headers=headers)
        assert second.status_code == 429
        assert requests.get(base + "/_emulator/health", timeout=TIMEOUT).json()["service"] == \
            "shate"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
