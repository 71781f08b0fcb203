"""MoySklad JSON API 1.2 emulator over real HTTP (requests, gzip): auth and tokens, the protocol
rules (gzip, Accept, limits and their headers, parallel limit, lockout), entities and their
shapes, lists (pages, filters, search, order, expand), bulk writes with syncId and per-item
errors, images, stock reports, webhooks delivered to a local receiver with retries, documents,
the demo, the command line, and paging 100,000 synthetic products (measured, not asserted)."""

import base64
import calendar
import datetime
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from emulators.moysklad import MoyskladEmulator
from emulators.moysklad_demo import (
    DEMO_APP_TOKEN,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    MAIN_STORE_ID,
    NORTH_STORE_ID,
    ORGANIZATION_ID,
    RUB_ID,
    SALE_PRICE_ID,
    USD_ID,
    WHOLESALE_PRICE_ID,
    fixed_id,
)
from emulators.moysklad_protocol import scheduled_user_weight
from emulators.server import RecordedRequest, make_png

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 10
HEADERS = {"Accept-Encoding": "gzip", "Accept": "application/json;charset=utf-8"}
MUG = fixed_id("product-DEMO-001")  # 45000 kopecks, stock 64 (reserve 1) + 10
PLATE = fixed_id("product-DEMO-002")
TSHIRT = fixed_id("product-DEMO-007")  # 3 variants
ROBE = fixed_id("product-DEMO-023")  # archived
SUPPLIER = fixed_id("counterparty-supplier")
NEW_STATE = fixed_id("state-customerorder-Новый")
MOMENT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")
# Saturday 2026-11-28 10:00 UTC (13:00 in Moscow): login/password requests weigh 3 units.
START = calendar.timegm((2026, 11, 28, 10, 0, 0))


class Clock:
    def __init__(self, now=START):
        self.now = float(now)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class Api:
    """Requests to one emulator with the headers the service requires."""

    def __init__(self, emu, auth=None, token=DEMO_APP_TOKEN):
        self.emu = emu
        self.session = requests.Session()
        self.session.headers.update(HEADERS)
        if auth:
            self.session.auth = auth
        elif token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path):
        return path if path.startswith("http") else f"{self.emu.api_url}/{path}"

    def __call__(self, method, path, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path, **kwargs):
        return self("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self("POST", path, json=body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self("PUT", path, json=body, **kwargs)


def error_code(response):
    return response.json()["errors"][0]["code"]


def href(emu, type_, id_):
    return {"meta": {"href": f"{emu.api_url}/entity/{type_}/{id_}", "type": type_,
                     "mediaType": "application/json"}}


def price_type(emu, id_):
    return {"meta": {"href": f"{emu.api_url}/context/companysettings/pricetype/{id_}",
                     "type": "pricetype", "mediaType": "application/json"}}


@pytest.fixture
def emu():
    """Demo account, real clock, limits off (the limit tests build their own)."""
    with MoyskladEmulator(limits_enabled=False) as emulator:
        yield emulator


@pytest.fixture
def api(emu):
    return Api(emu)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def limited(clock):
    with MoyskladEmulator(clock=clock, lockout_seconds=60) as emulator:
        yield emulator


# -- authentication and tokens ---------------------------------------------------------------------
def test_token_issue_revokes_the_older_token(emu):
    basic = Api(emu, auth=(DEMO_LOGIN, DEMO_PASSWORD))
    first = basic.post("security/token")
    assert first.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{40}", first.json()["access_token"])
    old = Api(emu, token=first.json()["access_token"])
    assert old.get("entity/product/" + MUG).json()["code"] == "DEMO-001"
    second = basic.post("security/token").json()["access_token"]
    refused = old.get("entity/product/" + MUG)
    assert refused.status_code == 401
    assert error_code(refused) == 1056
    assert "отозван" in refused.json()["errors"][0]["error"]
    assert refused.headers["X-Lognex-Auth"] == "1056"
    assert Api(emu, token=second).get("entity/product/" + MUG).status_code == 200
    assert emu.auth.issued_count == 2


def test_token_needs_basic_auth_and_bad_credentials_are_1056(emu):
    assert Api(emu).post("security/token").status_code == 401  # an app token cannot get one
    wrong = Api(emu, auth=(DEMO_LOGIN, "wrong")).get("entity/product")
    assert wrong.status_code == 401 and error_code(wrong) == 1056
    unknown = Api(emu, token="0" * 40).get("entity/product")
    assert unknown.status_code == 401 and error_code(unknown) == 1056
    missing = Api(emu, token=None).get("entity/product")
    assert missing.status_code == 401 and error_code(missing) == 1056
    users = MoyskladEmulator(users={"shop@acme": "s3cret"}, limits_enabled=False)
    with users:
        assert Api(users, auth=("shop@acme", "s3cret")).get("entity/uom").status_code == 200
        assert Api(users, auth=(DEMO_LOGIN, DEMO_PASSWORD)).get("entity/uom").status_code == 401


def test_too_many_wrong_passwords_block_the_login(clock):
    with MoyskladEmulator(clock=clock, limits_enabled=False, login_failures_limit=3) as emu:
        wrong = Api(emu, auth=(DEMO_LOGIN, "wrong"))
        assert [error_code(wrong.get("entity/uom")) for _ in range(3)] == [1056] * 3
        right = Api(emu, auth=(DEMO_LOGIN, DEMO_PASSWORD))
        blocked = right.post("security/token")
        assert blocked.status_code == 401 and error_code(blocked) == 1048
        assert blocked.headers["X-Lognex-Auth"] == "1048"
        clock.advance(61)
        assert right.post("security/token").status_code == 200


def test_control_route_expires_and_revokes_tokens(emu):
    basic = Api(emu, auth=(DEMO_LOGIN, DEMO_PASSWORD))
    token = basic.post("security/token").json()["access_token"]
    control = f"{emu.base_url}/_emulator/moysklad/tokens"
    assert requests.post(control, json={"action": "expire", "token": token},
                         timeout=TIMEOUT).json() == {"changed": 1}
    expired = Api(emu, token=token).get("entity/uom")
    assert expired.status_code == 401 and "истёк" in expired.json()["errors"][0]["error"]
    token = basic.post("security/token").json()["access_token"]
    requests.post(control, json={"action": "revoke", "login": DEMO_LOGIN}, timeout=TIMEOUT)
    assert Api(emu, token=token).get("entity/uom").status_code == 401
    listed = requests.get(control, timeout=TIMEOUT).json()
    assert listed["issued"] == 2 and {t["revoked"] for t in listed["tokens"]} == {"expired",
                                                                                  "revoked"}


def test_token_ttl_expires_by_the_clock(clock):
    with MoyskladEmulator(clock=clock, token_ttl=3600, limits_enabled=False) as emu:
        token = Api(emu, auth=(DEMO_LOGIN, DEMO_PASSWORD)).post("security/token").json()[
            "access_token"]
        assert Api(emu, token=token).get("entity/uom").status_code == 200
        clock.advance(3601)
        assert Api(emu, token=token).get("entity/uom").status_code == 401


# -- protocol rules -------------------------------------------------------------------------------
def test_gzip_is_required_and_answers_are_compressed(emu):
    url = f"{emu.api_url}/entity/uom"
    auth = {"Authorization": f"Bearer {DEMO_APP_TOKEN}", "Accept": HEADERS["Accept"]}
    for encoding in ("identity", "deflate", "br", "*"):
        answer = requests.get(url, headers={**auth, "Accept-Encoding": encoding},
                              timeout=TIMEOUT)
        assert answer.status_code == 415, encoding
        assert answer.content == b""
    raw = urllib.request.urlopen(urllib.request.Request(
        url, headers={**auth, "Accept-Encoding": "gzip"}), timeout=TIMEOUT)
    assert raw.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(raw.read()))
    assert {row["name"] for row in body["rows"]} == {"шт", "кг"}


def test_accept_header_must_be_json_utf8(emu):
    api = Api(emu)
    for accept in ("application/json", "*/*", "text/html"):
        answer = api.get("entity/uom", headers={"Accept": accept})
        assert answer.status_code == 400 and error_code(answer) == 1062, accept
    assert api.get("entity/uom", headers={"Accept": "application/json; charset=UTF-8"}
                   ).status_code == 200
    emu.configure(strict_accept=False)
    assert api.get("entity/uom", headers={"Accept": "*/*"}).status_code == 200


def test_unknown_paths_and_types(api):
    missing = api.get("entity/product/" + MUG + "/nothing")
    assert missing.status_code == 404 and error_code(missing) == 1002
    assert "Неопознанный путь" in missing.json()["errors"][0]["error"]
    kind = api.get("entity/spaceship")
    assert kind.status_code == 404 and error_code(kind) == 1005
    error = kind.json()["errors"][0]
    assert error["moreInfo"].endswith("#error_1005")


# -- limits -------------------------------------------------------------------------------------------
def test_user_requests_weigh_by_the_schedule_and_get_1049(limited, clock):
    assert [scheduled_user_weight(datetime.date(*day)) for day in (
        (2026, 5, 11), (2026, 5, 12), (2026, 9, 1), (2026, 11, 28), (2026, 12, 1))] == [
        1, 2, 3, 3, 4]
    api = Api(limited, auth=(DEMO_LOGIN, DEMO_PASSWORD))
    remaining = []
    for _ in range(15):
        answer = api.get("entity/uom")
        assert answer.status_code == 200
        remaining.append(int(answer.headers["X-RateLimit-Remaining"]))
    assert remaining[:3] == [42, 39, 36] and remaining[-1] == 0
    assert answer.headers["X-RateLimit-Limit"] == "45"
    assert answer.headers["X-Lognex-Retry-TimeInterval"] == "3000"
    assert answer.headers["X-Lognex-Reset"] == "3000"
    refused = api.get("entity/uom")
    assert refused.status_code == 429 and error_code(refused) == 1049
    assert 1 <= int(refused.headers["X-Lognex-Retry-After"]) <= 3001
    clock.advance(3.01)
    assert api.get("entity/uom").status_code == 200


def test_app_token_weighs_one_and_stock_reports_five(limited):
    api = Api(limited)
    answer = api.get("entity/uom")
    assert answer.headers["X-RateLimit-Remaining"] == "44"
    answer = api.get("report/stock/bystore/current")
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Remaining"] == "39"
    for _ in range(39):
        assert api.get("entity/uom").status_code == 200
    assert api.get("entity/uom").status_code == 429
    # the user's bucket is separate from the application's
    assert Api(limited, auth=(DEMO_LOGIN, DEMO_PASSWORD)).get("entity/uom").status_code == 200


def test_weights_are_settings(limited):
    limited.configure(user_weight=4, heavy_weight=5)
    api = Api(limited, auth=(DEMO_LOGIN, DEMO_PASSWORD))
    assert api.get("entity/uom").headers["X-RateLimit-Remaining"] == "41"
    assert api.get("report/stock/all/current").headers["X-RateLimit-Remaining"] == "36"
    settings = requests.post(f"{limited.base_url}/_emulator/moysklad/settings",
                             json={"user_weight": 2}, timeout=TIMEOUT).json()
    assert settings["user_weight"] == 2
    assert api.get("entity/uom").headers["X-RateLimit-Remaining"] == "34"


def test_more_than_five_parallel_requests_get_1073(limited):
    limited.set_fault("slow", None, seconds=1.2)
    results = []

    def call():
        with requests.Session() as session:
            session.headers.update({**HEADERS, "Authorization": f"Bearer {DEMO_APP_TOKEN}"})
            results.append(session.get(f"{limited.api_url}/entity/uom", timeout=TIMEOUT))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 5 + [429] * 3
    assert {error_code(r) for r in results if r.status_code == 429} == {1073}
    assert limited.status_counts() == {200: 5, 429: 3}
    limited.reset()
    assert limited.status_counts() == {}


def test_twenty_parallel_requests_per_account(limited):
    limited.configure(max_parallel=100, max_parallel_account=2)
    limited.set_fault("slow", None, seconds=1.2)
    results = []

    def call(auth):
        results.append(Api(limited, auth=auth).get("entity/uom"))

    threads = [threading.Thread(target=call, args=(auth,)) for auth in (
        (DEMO_LOGIN, DEMO_PASSWORD), None, None)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200, 200, 429]


def test_lockout_after_identical_failing_requests(limited, clock):
    limited.configure(lockout_threshold=5)
    api = Api(limited)
    missing = "entity/product/" + fixed_id("no-such-product")
    for _ in range(6):
        assert api.get(missing).status_code == 404
    locked = api.get("entity/uom")
    assert locked.status_code == 403 and error_code(locked) == 1061
    # another user is not affected
    assert Api(limited, auth=(DEMO_LOGIN, DEMO_PASSWORD)).get("entity/uom").status_code == 200
    clock.advance(61)  # lockout_seconds=60 in the fixture
    assert api.get("entity/uom").status_code == 200


def test_lockout_after_many_429(limited, clock):
    limited.configure(lockout_threshold=10, rate_units=2)
    api = Api(limited)
    statuses = [api.get("entity/uom").status_code for _ in range(13)]
    assert statuses[:2] == [200, 200] and set(statuses[2:]) == {429}
    clock.advance(5)
    assert error_code(api.get("entity/uom")) == 1061
    summary = requests.get(f"{limited.base_url}/_emulator/moysklad/summary",
                           timeout=TIMEOUT).json()
    assert summary["locked_out"] == ["app:demo-app"]
    requests.post(f"{limited.base_url}/_emulator/moysklad/lockout/clear", timeout=TIMEOUT)
    assert api.get("entity/uom").status_code == 200


def test_lockout_after_too_many_puts_to_one_entity(limited, clock):
    limited.configure(lockout_put_threshold=4, rate_units=1000)
    api = Api(limited)
    for n in range(5):
        assert api.put("entity/product/" + MUG, {"description": f"v{n}"}).status_code == 200
    assert error_code(api.get("entity/uom")) == 1061


def test_token_expired_fault_mid_run(emu):
    basic = Api(emu, auth=(DEMO_LOGIN, DEMO_PASSWORD))
    api = Api(emu, token=basic.post("security/token").json()["access_token"])
    assert api.get("entity/uom").status_code == 200
    emu.set_fault("token_expired", 1, after=1)
    assert api.get("entity/uom").status_code == 200
    expired = api.get("entity/uom")
    assert expired.status_code == 401 and "истёк" in expired.json()["errors"][0]["error"]
    assert api.get("entity/uom").status_code == 401
    fresh = Api(emu, token=basic.post("security/token").json()["access_token"])
    assert fresh.get("entity/uom").status_code == 200


def test_limits_switch_off_for_benchmarks(clock):
    with MoyskladEmulator(clock=clock, limits_enabled=False) as emu:
        api = Api(emu, auth=(DEMO_LOGIN, DEMO_PASSWORD))
        answers = [api.get("entity/uom") for _ in range(60)]
        assert {a.status_code for a in answers} == {200}
        assert "X-RateLimit-Remaining" not in answers[-1].headers


def test_malformed_json_fault_on_a_big_page():
    with MoyskladEmulator(1500, limits_enabled=False) as emu:
        api = Api(emu)
        emu.set_fault("malformed_json", 1)
        broken = api.get("entity/product")
        assert broken.status_code == 200  # the base fault sends the cut JSON uncompressed
        with pytest.raises(ValueError):
            broken.json()
        assert broken.content.startswith(b'{"context":') and len(broken.content) > 1_000_000
        assert len(api.get("entity/product").json()["rows"]) == 1000


def test_rate_limit_fault_answers_1049(api, emu):
    emu.set_fault("rate_limit", 1, retry_after=2)
    answer = api.get("entity/uom")
    assert answer.status_code == 429 and error_code(answer) == 1049
    assert answer.headers["X-Lognex-Retry-After"] == "2000"
    assert api.get("entity/uom").status_code == 200


# -- entities ------------------------------------------------------------------------------------
def test_product_shape(api, emu):
    product = api.get("entity/product/" + MUG).json()
    assert product["meta"] == {
        "href": f"{emu.api_url}/entity/product/{MUG}",
        "metadataHref": f"{emu.api_url}/entity/product/metadata",
        "type": "product", "mediaType": "application/json"}
    assert product["id"] == MUG and MOMENT.fullmatch(product["updated"])
    assert (product["name"], product["code"], product["article"], product["externalCode"]) == (
        "Кружка керамическая 350 мл", "DEMO-001", "KR-350", "ext-DEMO-001")
    assert product["pathName"] == "Посуда" and product["archived"] is False
    assert product["barcodes"][0]["ean13"].startswith("46")
    assert product["weight"] == 0.32 and product["variantsCount"] == 0
    sale = {p["priceType"]["name"]: p for p in product["salePrices"]}
    assert sale["Цена продажи"]["value"] == 45000 and sale["Оптовая"]["value"] == 39000
    assert sale["Цена продажи"]["priceType"]["meta"]["href"].endswith(
        f"/context/companysettings/pricetype/{SALE_PRICE_ID}")
    assert sale["Цена продажи"]["currency"]["meta"]["href"].endswith(f"/currency/{RUB_ID}")
    assert product["buyPrice"]["value"] == 17000
    assert product["images"]["meta"]["size"] == 1
    assert product["uom"]["meta"]["type"] == "uom"
    assert api.get("entity/product/" + TSHIRT).json()["variantsCount"] == 3
    usd = api.get("entity/product/" + fixed_id("product-DEMO-030")).json()
    assert usd["salePrices"][0]["currency"]["meta"]["href"].endswith(USD_ID)


def test_get_one_errors(api):
    missing = api.get("entity/product/" + fixed_id("none"))
    assert missing.status_code == 404 and error_code(missing) == 1021
    bad = api.get("entity/product/not-a-uuid")
    assert bad.status_code == 400 and error_code(bad) == 1052


def test_reference_data(api, emu):
    settings = api.get("context/companysettings").json()
    assert [p["name"] for p in settings["priceTypes"]] == ["Цена продажи", "Оптовая"]
    assert settings["currency"]["meta"]["href"].endswith(RUB_ID)
    assert [p["id"] for p in api.get("context/companysettings/pricetype").json()] == [
        SALE_PRICE_ID, WHOLESALE_PRICE_ID]
    assert api.get("context/companysettings/pricetype/default").json()["name"] == "Цена продажи"
    assert api.get(f"context/companysettings/pricetype/{WHOLESALE_PRICE_ID}").json()[
        "name"] == "Оптовая"
    currencies = {c["isoCode"]: c for c in api.get("entity/currency").json()["rows"]}
    assert currencies["RUB"]["default"] is True and currencies["USD"]["default"] is False
    assert currencies["USD"]["rate"] == 92.5
    stores = api.get("entity/store").json()["rows"]
    assert {s["id"] for s in stores} == {MAIN_STORE_ID, NORTH_STORE_ID}
    organization = api.get("entity/organization").json()["rows"][0]
    assert organization["id"] == ORGANIZATION_ID and organization["inn"] == "7707083893"
    folders = api.get("entity/productfolder").json()["rows"]
    assert {f["name"] for f in folders} == {"Посуда", "Одежда", "Канцелярия"}
    variant = api.get("entity/variant?filter=code=DEMO-007-L").json()["rows"][0]
    assert variant["name"] == "Футболка хлопковая (L)"
    assert variant["characteristics"][0]["name"] == "Размер"
    assert variant["characteristics"][0]["value"] == "L"
    assert variant["product"]["meta"]["href"].endswith(TSHIRT)
    assert api.get("entity/service").json()["rows"][0]["code"] == "SRV-DELIVERY"
    sizes = api.get("entity/variant", params={"filter": f"productid={TSHIRT}"}).json()["rows"]
    assert sorted(v["code"] for v in sizes) == ["DEMO-007-L", "DEMO-007-M", "DEMO-007-XL"]


# -- lists -----------------------------------------------------------------------------------------
def test_pagination_follows_next_href(api):
    page = api.get("entity/product?limit=7").json()
    assert page["meta"]["size"] == 30 and page["meta"]["limit"] == 7
    assert "previousHref" not in page["meta"]
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [row["code"] for row in page["rows"]]
        if "nextHref" not in page["meta"]:
            break
        page = api.get(page["meta"]["nextHref"]).json()
        assert page["meta"]["previousHref"]
    assert pages == 5 and len(seen) == len(set(seen)) == 30
    assert page["meta"]["offset"] == 28


def test_limit_range(api):
    for value in ("1001", "0", "-1", "x"):
        answer = api.get(f"entity/product?limit={value}")
        assert answer.status_code == 400 and error_code(answer) == 1040, value
        assert answer.json()["errors"][0]["parameter"] == "limit"
    assert api.get("entity/product?offset=-5").status_code == 400
    assert len(api.get("entity/product?limit=1000").json()["rows"]) == 30


def test_filters(api):
    def codes(query):
        answer = api.get("entity/product", params={"filter": query})
        assert answer.status_code == 200, answer.text
        return sorted(row["code"] for row in answer.json()["rows"])

    assert codes("code=DEMO-001;code=DEMO-002") == ["DEMO-001", "DEMO-002"]
    assert codes("externalCode=ext-DEMO-005") == ["DEMO-005"]
    assert codes("article=KR-350") == ["DEMO-001"]
    assert codes("archived=true") == ["DEMO-023"]
    assert len(codes("archived=false")) == 29
    assert len(codes("archived=true;archived=false")) == 30
    assert codes(f"id={MUG};id={PLATE}") == ["DEMO-001", "DEMO-002"]
    assert codes("name~КРУЖКА") == ["DEMO-001"]
    assert codes("code=~-030") == ["DEMO-030"]
    assert len(codes("code!=DEMO-001;code!=DEMO-002")) == 28
    assert codes("barcode=" + api.get("entity/product/" + MUG).json()["barcodes"][0][
        "ean13"]) == ["DEMO-001"]
    assert codes("pathName=Одежда;weight>1") == ["DEMO-012", "DEMO-023"]
    heavy = codes("weight>=1.2")
    assert heavy == ["DEMO-004", "DEMO-005", "DEMO-006", "DEMO-012"]


def test_filter_by_updated_and_escaped_semicolon(api, emu):
    before = api.get("entity/product/" + PLATE).json()["updated"]
    time.sleep(0.01)
    changed = api.put("entity/product/" + PLATE, {"description": "новое"}).json()
    assert changed["updated"] > before
    rows = api.get("entity/product", params={"filter": f"updated>={changed['updated']}"}
                   ).json()["rows"]
    assert [r["id"] for r in rows] == [PLATE]
    older = api.get("entity/product", params={"filter": f"updated<{changed['updated']}"}
                    ).json()["meta"]["size"]
    assert older == 29
    created = api.post("entity/product", {"name": "Набор; 2 шт", "code": "SEMI"}).json()
    rows = api.get("entity/product", params={"filter": "name=Набор\\; 2 шт"}).json()["rows"]
    assert [r["id"] for r in rows] == [created["id"]]


def test_bad_filters(api):
    for query, code in (("colour=red", 1034), ("archived=yes", 1014), ("updated>=yesterday", 1035),
                        ("id=12", 1014), ("code", 1034), ("code=A;code>B", 1034),
                        ("weight>heavy", 1014)):
        answer = api.get("entity/product", params={"filter": query})
        assert answer.status_code == 400 and error_code(answer) == code, query


def test_search_and_order(api):
    rows = api.get("entity/product", params={"search": "кружка"}).json()["rows"]
    assert [r["code"] for r in rows] == ["DEMO-001"]
    rows = api.get("entity/product", params={"search": "KR-350"}).json()["rows"]
    assert [r["code"] for r in rows] == ["DEMO-001"]
    rows = api.get("entity/product", params={"order": "code,desc", "limit": 3}).json()["rows"]
    assert [r["code"] for r in rows] == ["DEMO-030", "DEMO-029", "DEMO-028"]
    rows = api.get("entity/product", params={"order": "weight;code", "limit": 2}).json()["rows"]
    assert [r["code"] for r in rows] == ["DEMO-014", "DEMO-015"]
    bad = api.get("entity/product", params={"order": "colour"})
    assert bad.status_code == 400 and error_code(bad) == 1063


def test_expand_only_up_to_limit_100(api):
    row = api.get("entity/product?limit=100&expand=productFolder,images").json()["rows"][0]
    assert row["productFolder"]["name"] == "Посуда"
    assert row["images"]["rows"][0]["filename"] == "demo-001.png"
    row = api.get("entity/product?limit=101&expand=productFolder").json()["rows"][0]
    assert "name" not in row["productFolder"]
    one = api.get(f"entity/product/{MUG}?expand=uom").json()
    assert one["uom"]["name"] == "шт"


def test_assortment(api):
    page = api.get("entity/assortment").json()
    types = [row["meta"]["type"] for row in page["rows"]]
    assert types.count("product") == 29 and types.count("variant") == 3
    assert types.count("service") == 1
    mug = next(row for row in page["rows"] if row["id"] == MUG)
    assert (mug["stock"], mug["reserve"], mug["inTransit"], mug["quantity"]) == (74, 1, 0, 73)
    with_archived = api.get("entity/assortment", params={
        "filter": "archived=true;archived=false"}).json()
    assert with_archived["meta"]["size"] == 34
    variants = api.get("entity/assortment", params={"filter": "type=variant"}).json()["rows"]
    assert sorted(v["code"] for v in variants) == ["DEMO-007-L", "DEMO-007-M", "DEMO-007-XL"]
    beta = {"X-Lognex-Remap-Beta-Feature": "assortmentWithoutStock"}
    light = api.get("entity/assortment", headers=beta).json()["rows"]
    assert len(light) == 33 and not any("stock" in row for row in light)
    refused = api.get("entity/assortment", headers=beta, params={"filter": "article=KR-350"})
    assert refused.status_code == 400 and error_code(refused) == 1034
    in_transit = next(r for r in page["rows"] if r["code"] == "DEMO-005")
    assert (in_transit["stock"], in_transit["inTransit"], in_transit["quantity"]) == (5, 2, 7)


# -- writes -----------------------------------------------------------------------------------------
def test_create_update_delete_one(api, emu):
    body = {"name": "Чашка", "code": "NEW-1", "article": "CH-1", "externalCode": "odoo-1",
            "barcodes": [{"ean13": "4600000000017"}], "weight": 0.2,
            "salePrices": [{"value": 12345, "priceType": price_type(emu, SALE_PRICE_ID)}],
            "buyPrice": {"value": 5000, "currency": href(emu, "currency", RUB_ID)},
            "uom": href(emu, "uom", fixed_id("uom-pcs"))}
    created = api.post("entity/product", body).json()
    assert created["salePrices"][0]["value"] == 12345
    assert created["salePrices"][0]["currency"]["meta"]["href"].endswith(RUB_ID)
    assert created["buyPrice"]["value"] == 5000
    updated = api.put("entity/product/" + created["id"], {
        "salePrices": [{"value": 9900, "priceType": price_type(emu, WHOLESALE_PRICE_ID)}],
        "archived": True}).json()
    assert [(p["priceType"]["name"], p["value"]) for p in updated["salePrices"]] == [
        ("Цена продажи", 12345), ("Оптовая", 9900)]
    assert updated["archived"] is True and updated["updated"] >= created["updated"]
    by_meta = api.post("entity/product", {**href(emu, "product", created["id"]),
                                          "article": "CH-2"})
    assert by_meta.status_code == 200 and by_meta.json()["article"] == "CH-2"
    assert by_meta.json()["id"] == created["id"]
    assert api("DELETE", "entity/product/" + created["id"]).status_code == 200
    assert error_code(api.get("entity/product/" + created["id"])) == 1021


def test_write_validation(api, emu):
    cases = [
        ({"code": "X"}, 412, 3000),
        ({"name": 5}, 400, 2016),
        ({"name": "Дубль", "code": "DEMO-001"}, 412, 3006),
        ({"name": "A", "uom": href(emu, "uom", fixed_id("nope"))}, 404, 1021),
        ({"name": "A", "uom": href(emu, "uom", "bad")}, 400, 1052),
        ({"name": "A", "uom": href(emu, "currency", RUB_ID)}, 400, 2024),
        ({"name": "A", "syncId": "not-uuid"}, 400, 2016),
        ({"name": "A", "barcodes": [{"qr": "1"}]}, 400, 2029),
    ]
    for body, status, code in cases:
        answer = api.post("entity/product", body)
        assert (answer.status_code, error_code(answer)) == (status, code), body
    not_json = api("POST", "entity/product", data=b"{oops",
                   headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and error_code(not_json) == 2001
    array = api.put("entity/product/" + MUG, [{"name": "x"}])
    assert error_code(array) == 2009
    sync = api.post("entity/product", {"name": "S", "syncId": fixed_id("s")}).json()
    assert error_code(api.put("entity/product/" + sync["id"], {"syncId": fixed_id("t")})) == 1047


def test_bulk_create_update_with_per_item_errors(api, emu):
    sync_id = fixed_id("sync-bulk-1")
    body = [
        {"name": "Новый товар", "code": "BULK-1", "syncId": sync_id,
         "salePrices": [{"value": 777, "priceType": price_type(emu, SALE_PRICE_ID)}]},
        {**href(emu, "product", MUG),
         "salePrices": [{"value": 50000, "priceType": price_type(emu, SALE_PRICE_ID)}]},
        {"name": "Дубль кода", "code": "DEMO-002"},
        {"code": "NO-NAME"},
        {**href(emu, "product", fixed_id("missing")), "name": "x"},
    ]
    answer = api.post("entity/product", body)
    assert answer.status_code == 400
    items = answer.json()
    assert len(items) == 5
    assert items[0]["code"] == "BULK-1" and items[0]["syncId"] == sync_id
    assert items[1]["id"] == MUG and items[1]["salePrices"][0]["value"] == 50000
    assert [item["errors"][0]["code"] for item in items[2:]] == [3006, 3000, 1021]
    assert items[3]["errors"][0]["parameter"] == "name"
    assert api.get("entity/product").json()["meta"]["size"] == 31
    # the same syncId again: the same product, nothing new
    again = api.post("entity/product", [{"name": "Новый товар", "code": "BULK-1",
                                         "syncId": sync_id}])
    assert again.status_code == 200 and again.json()[0]["id"] == items[0]["id"]
    single = api.post("entity/product", {"name": "Другое имя", "syncId": sync_id}).json()
    assert single["id"] == items[0]["id"] and single["name"] == "Новый товар"
    assert api.get("entity/product").json()["meta"]["size"] == 31
    assert api("DELETE", f"entity/product/syncid/{sync_id}").status_code == 200
    assert api.get("entity/product").json()["meta"]["size"] == 30


def test_bulk_limits_and_bulk_delete(api, emu):
    too_many = api.post("entity/product", [{"name": f"p{i}"} for i in range(1001)])
    assert too_many.status_code == 413 and error_code(too_many) == 2007
    created = api.post("entity/product", [{"name": f"p{i}", "code": f"P-{i}"}
                                          for i in range(1000)])
    assert created.status_code == 200 and len(created.json()) == 1000
    ids = [row["id"] for row in created.json()[:3]]
    deleted = api.post("entity/product/delete", [href(emu, "product", i) for i in ids] + [
        href(emu, "product", fixed_id("gone"))])
    assert deleted.status_code == 400
    rows = deleted.json()
    assert rows[0]["info"].endswith("успешно удалена") and rows[3]["errors"][0]["code"] == 1021
    assert api.get("entity/product?limit=1").json()["meta"]["size"] == 30 + 997


def test_images_upload_list_download(api, emu):
    png = make_png(4, 4, (1, 2, 3))
    added = api.post(f"entity/product/{PLATE}/images",
                     {"filename": "plate.png", "content": base64.b64encode(png).decode()})
    assert added.status_code == 200
    rows = added.json()
    assert [r["filename"] for r in rows] == ["demo-002.png", "plate.png"]
    assert rows[1]["size"] == len(png)
    listed = api.get(f"entity/product/{PLATE}/images").json()
    assert listed["meta"]["size"] == 2
    download = listed["rows"][1]["meta"]["downloadHref"]
    redirect = api.get(download, allow_redirects=False)
    assert redirect.status_code == 302
    file = requests.get(redirect.headers["Location"], timeout=TIMEOUT)  # no auth needed
    assert file.content == png and file.headers["Content-Type"] == "image/png"
    assert api.get(download).content == png
    assert api.get("entity/product/" + PLATE).json()["images"]["meta"]["size"] == 2
    for n in range(8):
        api.post(f"entity/product/{PLATE}/images",
                 {"filename": f"{n}.png", "content": base64.b64encode(png).decode()})
    eleventh = api.post(f"entity/product/{PLATE}/images",
                        {"filename": "11.png", "content": base64.b64encode(png).decode()})
    assert eleventh.status_code == 400 and error_code(eleventh) == 1080
    bad = api.post(f"entity/product/{PLATE}/images", {"filename": "x.png", "content": "@@"})
    assert error_code(bad) == 1078
    listed = api.get(f"entity/product/{PLATE}/images").json()["rows"]
    kept = api.post(f"entity/product/{PLATE}/images", [
        {"meta": listed[0]["meta"]},
        {"filename": "new.png", "content": base64.b64encode(png).decode()}]).json()
    assert [r["filename"] for r in kept] == ["demo-002.png", "new.png"]
    assert api.post(f"entity/product/{PLATE}/images/delete", [{"meta": kept[1]["meta"]}]
                    ).status_code == 200
    assert api.get(f"entity/product/{PLATE}/images").json()["meta"]["size"] == 1
    assert len(emu.images) == 2  # the mug's and the plate's: nothing orphaned
    created = api.post("entity/product", {"name": "С картинкой", "images": [
        {"filename": "a.png", "content": base64.b64encode(png).decode()}]}).json()
    assert created["images"]["meta"]["size"] == 1
    image_id = api.get(f"entity/product/{created['id']}/images").json()["rows"][0]["meta"][
        "href"].rsplit("/", 1)[1]
    assert api("DELETE", f"entity/product/{created['id']}/images/{image_id}").status_code == 200
    assert api.get(f"entity/product/{created['id']}/images").json()["meta"]["size"] == 0


# -- stock reports ---------------------------------------------------------------------------------
def test_stock_by_store_and_all(api):
    rows = api.get("report/stock/bystore/current").json()
    mug = {r["storeId"]: r["stock"] for r in rows if r["assortmentId"] == MUG}
    assert mug == {MAIN_STORE_ID: 64, NORTH_STORE_ID: 10}
    assert all(r["stock"] for r in rows)  # zero lines left out
    reserve = api.get("report/stock/bystore/current?stockType=reserve").json()
    assert {r["storeId"]: r["reserve"] for r in reserve if r["assortmentId"] == MUG} == {
        MAIN_STORE_ID: 1}
    free = api.get("report/stock/bystore/current?stockType=freeStock&include=zeroLines").json()
    assert {r["storeId"]: r["freeStock"] for r in free if r["assortmentId"] == MUG} == {
        MAIN_STORE_ID: 63, NORTH_STORE_ID: 10}
    every = api.get("report/stock/all/current").json()
    assert next(r for r in every if r["assortmentId"] == MUG) == {"assortmentId": MUG,
                                                                   "stock": 74}
    filtered = api.get("report/stock/bystore/current", params={
        "filter": f"assortmentId={MUG},{PLATE};storeId={MAIN_STORE_ID}"}).json()
    assert sorted((r["assortmentId"], r["stock"]) for r in filtered) == sorted(
        [(MUG, 64), (PLATE, 30)])


def test_stock_changed_since_and_errors(clock):
    emu = MoyskladEmulator(clock=clock, limits_enabled=False).start()
    api = Api(emu)
    clock.advance(60)
    clock_moment = emu.now_moment()[:19]
    clock.advance(1)
    control = f"{emu.base_url}/_emulator/moysklad/stock"
    assert requests.post(control, json={"assortmentId": PLATE, "storeId": NORTH_STORE_ID,
                                        "stock": 3, "inTransit": 2},
                         timeout=TIMEOUT).json()["stock"] == 3
    rows = api.get("report/stock/bystore/current", params={
        "changedSince": clock_moment, "stockType": "quantity"}).json()
    assert rows == [{"assortmentId": PLATE, "storeId": NORTH_STORE_ID, "quantity": 5}]
    old = api.get("report/stock/bystore/current", params={"changedSince": "2020-01-01 00:00:00"})
    assert old.status_code == 400 and error_code(old) == 1040
    bad = api.get("report/stock/all/current", params={"changedSince": "soon"})
    assert error_code(bad) == 1035
    kind = api.get("report/stock/all/current", params={"stockType": "everything"})
    assert error_code(kind) == 1040
    flt = api.get("report/stock/all/current", params={"filter": "storeId=abc"})
    assert error_code(flt) == 1014
    emu.stop()


# -- counterparties and documents --------------------------------------------------------------------
def test_counterparty_with_accounts_and_contacts(api, emu):
    created = api.post("entity/counterparty", {
        "name": "ООО Ромашка", "companyType": "legal", "inn": "7701234567",
        "syncId": fixed_id("cp-sync"),
        "accounts": [{"accountNumber": "40702810000000000001", "bic": "044525225"}],
        "contactpersons": [{"name": "Петров", "email": "p@example.ru"}]}).json()
    assert created["accounts"]["meta"]["size"] == 1
    assert created["contactpersons"]["meta"]["size"] == 1
    accounts = api.get(f"entity/counterparty/{created['id']}/accounts").json()["rows"]
    assert accounts[0]["bic"] == "044525225"
    added = api.post(f"entity/counterparty/{created['id']}/contactpersons",
                     [{"name": "Сидорова", "phone": "+7900"}]).json()
    contact = added[0]["meta"]["href"].rsplit("/", 1)[1]
    put = api.put(f"entity/counterparty/{created['id']}/contactpersons/{contact}",
                  {"position": "Бухгалтер"}).json()
    assert put["position"] == "Бухгалтер" and put["name"] == "Сидорова"
    expanded = api.get(f"entity/counterparty/{created['id']}?expand=contactpersons").json()
    assert [c["name"] for c in expanded["contactpersons"]["rows"]] == ["Петров", "Сидорова"]
    found = api.get("entity/counterparty", params={"filter": "inn=7701234567"}).json()["rows"]
    assert [c["id"] for c in found] == [created["id"]]
    bad = api.post("entity/counterparty", {"name": "X", "companyType": "company"})
    assert bad.status_code == 400 and error_code(bad) == 2029
    demo = api.get(f"entity/counterparty/{SUPPLIER}?expand=accounts").json()
    assert demo["accounts"]["rows"][0]["bankName"] == "АО «Альфа-Банк»"


def test_customer_order_with_positions_states_and_sync_id(api, emu):
    states = api.get("entity/customerorder/metadata").json()["states"]
    assert [s["name"] for s in states][:2] == ["Новый", "Подтвержден"]
    assert states[0]["meta"]["href"].endswith(f"/entity/customerorder/metadata/states/"
                                              f"{NEW_STATE}")
    sync_id = fixed_id("order-sync")
    body = {"name": "SO0042", "externalCode": "SO0042", "syncId": sync_id,
            "organization": href(emu, "organization", ORGANIZATION_ID),
            "agent": href(emu, "counterparty", SUPPLIER),
            "store": href(emu, "store", MAIN_STORE_ID),
            "state": {"meta": states[0]["meta"]},
            "positions": [{"assortment": href(emu, "product", MUG), "quantity": 2,
                           "price": 45000, "discount": 10, "vat": 20},
                          {"assortment": href(emu, "variant",
                                              fixed_id("variant-DEMO-007-M")),
                           "quantity": 1, "price": 89000}]}
    first = api.post("entity/customerorder", body).json()
    assert first["sum"] == 2 * 45000 * 0.9 + 89000
    assert first["positions"]["meta"]["size"] == 2
    assert first["state"]["meta"]["href"] == states[0]["meta"]["href"]
    again = api.post("entity/customerorder", body).json()
    assert again["id"] == first["id"]
    assert api.get("entity/customerorder").json()["meta"]["size"] == 1
    positions = api.get(f"entity/customerorder/{first['id']}/positions?limit=100&expand=assortment"
                        ).json()["rows"]
    assert positions[0]["assortment"]["code"] == "DEMO-001" and positions[0]["quantity"] == 2
    shipped = next(s for s in states if s["name"] == "Отгружен")
    moved = api.put(f"entity/customerorder/{first['id']}", {"state": {"meta": shipped["meta"]}})
    assert moved.json()["state"]["meta"]["href"].endswith(shipped["id"])
    listed = api.get("entity/customerorder", params={"filter": "state.name=Отгружен"}).json()
    assert listed["meta"]["size"] == 1
    control = f"{emu.base_url}/_emulator/moysklad/entity/customerorder"
    cancelled = requests.post(control, json={"id": first["id"], "stateName": "Отменен"},
                              timeout=TIMEOUT).json()
    assert cancelled["state"]["meta"]["href"].endswith(
        fixed_id("state-customerorder-Отменен"))
    assert requests.post(control, json={"id": first["id"], "stateName": "Нет такого"},
                         timeout=TIMEOUT).status_code == 400
    missing = api.post("entity/customerorder", {"organization": body["organization"]})
    assert error_code(missing) == 3000
    purchase_state = api.get("entity/purchaseorder/metadata").json()["states"][0]
    wrong = api.put(f"entity/customerorder/{first['id']}", {"state": {"meta": purchase_state[
        "meta"]}})
    assert wrong.status_code == 400 and error_code(wrong) == 3004
    demand = api.post("entity/demand", {
        "organization": body["organization"], "agent": body["agent"], "store": body["store"],
        "customerOrder": href(emu, "customerorder", first["id"]),
        "positions": [{"assortment": href(emu, "product", MUG), "quantity": 2,
                       "price": 45000}]}).json()
    assert demand["customerOrder"]["meta"]["href"].endswith(first["id"])
    assert demand["name"] == "00001" and demand["sum"] == 90000
    assert demand["vatSum"] == 0  # the position has no VAT rate
    order = api.get(f"entity/customerorder/{first['id']}").json()
    assert order["shippedSum"] == 90000 and order["demands"][0]["meta"]["href"].endswith(
        demand["id"])
    assert first["vatSum"] == round(81000 * 20 / 120)  # VAT included in the price by default
    purchase = api.post("entity/purchaseorder", {
        "organization": body["organization"], "agent": body["agent"],
        "positions": [{"assortment": href(emu, "product", PLATE), "quantity": 5,
                       "price": 26000}]}).json()
    supply = api.post("entity/supply", {
        "organization": body["organization"], "agent": body["agent"], "store": body["store"],
        "purchaseOrder": href(emu, "purchaseorder", purchase["id"])}).json()
    assert supply["purchaseOrder"]["meta"]["href"].endswith(purchase["id"])


# -- webhooks ---------------------------------------------------------------------------------------
class Receiver:
    """A local HTTP server recording webhook calls; ``statuses`` answers them in turn (then
    200)."""

    def __init__(self, statuses=()):
        self.calls = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append((self.path, json.loads(body)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                """No request log on the test output."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_webhook_crud_and_delivery(api, emu, receiver):
    hook = api.post("entity/webhook", {"url": receiver.url, "action": "UPDATE",
                                       "entityType": "product", "diffType": "FIELDS"})
    assert hook.status_code == 200
    assert hook.json()["enabled"] is True and hook.json()["method"] == "POST"
    api.post("entity/webhook", {"url": receiver.url, "action": "CREATE",
                                "entityType": "product"})
    assert api.get("entity/webhook").json()["meta"]["size"] == 2
    api.put("entity/product/" + MUG, {"name": "Кружка большая"})
    api.post("entity/product", {"name": "Совсем новый"})
    assert emu.flush_webhooks(5)
    assert len(receiver.calls) == 2
    path, body = receiver.calls[0]
    assert re.fullmatch(r"/hook\?requestId=[0-9a-f-]{36}", path)
    event = body["events"][0]
    assert event == {"meta": {"type": "product",
                              "href": f"{emu.api_url}/entity/product/{MUG}"},
                     "action": "UPDATE", "accountId": event["accountId"],
                     "updatedFields": ["name"]}
    assert body["auditContext"]["uid"] == "demo-app"
    assert body["auditContext"]["meta"]["type"] == "audit"
    assert receiver.calls[1][1]["events"][0]["action"] == "CREATE"
    api.put(f"entity/webhook/{hook.json()['id']}", {"enabled": False})
    api.put("entity/product/" + MUG, {"name": "Кружка"})
    emu.flush_webhooks(5)
    assert len(receiver.calls) == 2
    assert api("DELETE", f"entity/webhook/{hook.json()['id']}").status_code == 200


def test_webhooks_disabled_by_prefix_for_one_request(api, emu, receiver):
    api.post("entity/webhook", {"url": receiver.url, "action": "UPDATE",
                                "entityType": "product"})
    prefix = receiver.url.rsplit("/", 1)[0]
    quiet = api.put("entity/product/" + MUG, {"description": "из Odoo"},
                    headers={"X-Lognex-WebHook-DisableByPrefix": prefix})
    assert quiet.status_code == 200
    api.put("entity/product/" + MUG, {"description": "из МоегоСклада"},
            headers={"X-Lognex-WebHook-DisableByPrefix": "https://other.example.com"})
    emu.flush_webhooks(5)
    assert len(receiver.calls) == 1
    bad = api.put("entity/product/" + MUG, {"description": "x"},
                  headers={"X-Lognex-WebHook-DisableByPrefix": "https://"})
    assert bad.status_code == 400 and error_code(bad) == 3030


def test_webhook_retries_with_the_same_request_id(api, emu):
    receiver = Receiver(statuses=[500, 503, 404])
    try:
        api.post("entity/webhook", {"url": receiver.url, "action": "UPDATE",
                                    "entityType": "product"})
        api.put("entity/product/" + MUG, {"description": "x"})
        emu.flush_webhooks(10)
        assert len(receiver.calls) == 4
        assert len({path for path, _body in receiver.calls}) == 1
        delivery = emu.deliveries[-1]
        assert delivery["delivered"] is True
        assert [a["status"] for a in delivery["attempts"]] == [500, 503, 404, 200]
        receiver.statuses = [500] * 10
        receiver.calls.clear()
        answer = requests.post(f"{emu.base_url}/_emulator/moysklad/webhook/fire",
                               json={"entityType": "product", "id": PLATE},
                               timeout=TIMEOUT).json()
        assert answer["delivered"] is False and len(answer["attempts"]) == 4
        assert len(receiver.calls) == 4
        assert receiver.calls[0][1]["events"][0]["meta"]["href"].endswith(PLATE)
    finally:
        receiver.close()


def test_webhook_rules_and_free_plan(api, emu, receiver):
    for body, code in (({"url": receiver.url, "action": "MOVE", "entityType": "product"}, 30002),
                       ({"url": "ftp://x", "action": "UPDATE", "entityType": "product"}, 30005),
                       ({"url": "http://x/" + "a" * 260, "action": "UPDATE",
                         "entityType": "product"}, 30010),
                       ({"url": receiver.url, "action": "UPDATE", "entityType": "spaceship"},
                        30000),
                       ({"url": receiver.url, "action": "CREATE", "entityType": "product",
                         "diffType": "FIELDS"}, 30009),
                       ({"action": "UPDATE", "entityType": "product"}, 3000)):
        assert error_code(api.post("entity/webhook", body)) == code, body
    good = {"url": receiver.url, "action": "DELETE", "entityType": "product"}
    assert api.post("entity/webhook", good).status_code == 200
    assert error_code(api.post("entity/webhook", good)) == 30003
    emu.configure(paid_plan=False)
    free = api.post("entity/webhook", {**good, "action": "CREATE"})
    assert free.status_code == 403 and error_code(free) == 30006
    assert api.get("entity/webhook").status_code == 200


def test_stock_webhook(api, emu, receiver):
    created = api.post("entity/webhookstock", {"url": receiver.url, "reportType": "bystore",
                                               "stockType": "stock"})
    assert created.status_code == 200
    emu.set_stock(MUG, MAIN_STORE_ID, stock=70)
    emu.flush_webhooks(5)
    body = receiver.calls[0][1]
    assert body["reportType"] == "bystore" and body["stockType"] == "stock"
    report = body["reportUrl"]
    assert report.startswith(f"{emu.api_url}/report/stock/bystore/current?changedSince=")
    rows = api.get(report.replace(" ", "%20")).json()
    assert {"assortmentId": MUG, "storeId": MAIN_STORE_ID, "stock": 70} in rows


def test_control_routes_change_data_and_fire_webhooks(api, emu, receiver):
    api.post("entity/webhook", {"url": receiver.url, "action": "UPDATE",
                                "entityType": "product"})
    control = f"{emu.base_url}/_emulator/moysklad"
    changed = requests.post(f"{control}/entity/product", json={"id": MUG, "article": "NEW"},
                            timeout=TIMEOUT).json()
    assert changed["article"] == "NEW"
    emu.flush_webhooks(5)
    assert receiver.calls[0][1]["events"][0]["meta"]["href"].endswith(MUG)
    listed = requests.get(f"{control}/entity/store", timeout=TIMEOUT).json()
    assert {s["name"] for s in listed} == {"Основной склад", "Склад Север"}
    summary = requests.get(f"{control}/summary", timeout=TIMEOUT).json()
    assert summary["counts"]["product"] == 30 and summary["counts"]["variant"] == 3
    deliveries = requests.get(f"{control}/deliveries", timeout=TIMEOUT).json()
    assert deliveries[0]["delivered"] is True


# -- demo, command line, performance ----------------------------------------------------------------
def test_synthetic_catalogue_and_command_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", "moysklad", "--port", "0", "--catalogue", "2500",
         "--no-limits"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"MOYSKLAD emulator on (http://127\.0\.0\.1:\d+/api/remap/1\.2) "
                             r"\(login admin@demo/demo-password; app token (\S+)\)", line)
        assert match, line
        session = requests.Session()
        session.headers.update({**HEADERS, "Authorization": f"Bearer {match.group(2)}"})
        page = session.get(f"{match.group(1)}/entity/product?offset=2000", timeout=TIMEOUT).json()
        assert page["meta"]["size"] == 2500 and len(page["rows"]) == 500
        assert page["rows"][-1]["code"] == "SYN-0002500"
    finally:
        process.terminate()
        process.wait(10)


def test_synthetic_counterparties(clock):
    with MoyskladEmulator("empty", counterparties=2500, limits_enabled=False) as emu:
        api = Api(emu)
        page = api.get("entity/counterparty?offset=2000&expand=accounts,contactpersons&limit=100"
                       ).json()
        assert page["meta"]["size"] == 2500 and page["rows"][0]["code"] == "CP-0002001"
        row = page["rows"][0]
        assert row["accounts"]["rows"][0]["bic"] == "044525225"
        assert row["contactpersons"]["rows"][0]["name"] == "Контакт 2001"
        contact = row["contactpersons"]["rows"][0]["meta"]["href"].rsplit("/", 1)[1]
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                            contact)
        assert api.get(f"entity/counterparty/{row['id']}/contactpersons/{contact}").json()[
            "email"] == "person2001@example.ru"
        inn = [int(d) for d in row["inn"]]
        assert len(inn) == 10 and sum(d * w for d, w in zip(
            inn, (2, 4, 10, 3, 5, 9, 4, 6, 8), strict=False)) % 11 % 10 == inn[9]
        assert api.get("entity/product").json()["meta"]["size"] == 0
        found = api.get("entity/counterparty", params={"filter": f"inn={row['inn']}"}).json()
        assert [r["id"] for r in found["rows"]] == [row["id"]]


def test_paging_100000_products(capsys):
    started = time.perf_counter()
    emu = MoyskladEmulator(100_000, limits_enabled=False, record_limit=0)
    built = time.perf_counter() - started
    with emu:
        api = Api(emu)
        started = time.perf_counter()
        url, pages, codes, nbytes = "entity/product?limit=1000", 0, set(), 0
        while url:  # the pages read as bytes: parsing 3 MB of JSON per page would dominate
            content = api.get(url).content
            nbytes += len(content)
            pages += 1
            codes.update(re.findall(rb'"code":"(SYN-\d{7})"', content))
            head = re.search(rb'"nextHref":"([^"]+)"', content[:2000])
            url = head.group(1).decode() if head else None
        paged = time.perf_counter() - started
        last = json.loads(content)
        assert last["meta"]["offset"] == 99_000 and len(last["rows"]) == 1000
        assert emu.requests == []  # record_limit=0: nothing recorded
        page_request = RecordedRequest(
            "GET", "/api/remap/1.2/entity/product", {"limit": "1000", "offset": "50000"},
            "/api/remap/1.2/entity/product?limit=1000&offset=50000",
            {"Host": "127.0.0.1", "Accept-Encoding": "gzip"}, b"", 0.0)
        started = time.perf_counter()
        for _ in range(5):
            handler_body = emu._list(page_request, type="product").body
        handler = (time.perf_counter() - started) / 5
        assert json.loads(gzip.decompress(handler_body))["meta"]["offset"] == 50000
        started = time.perf_counter()
        stock = api.get("report/stock/bystore/current").json()
        report = time.perf_counter() - started
        started = time.perf_counter()
        delta = api.get("entity/product", params={"filter": "updated>=2099-01-01 00:00:00"})
        filtered = time.perf_counter() - started
    assert pages == 100 and len(codes) == 100_000
    assert len(stock) > 100_000 and delta.json()["meta"]["size"] == 0
    with capsys.disabled():
        print(f"\n100k products: built in {built:.2f} s; 100 pages of 1000 in {paged:.2f} s "
              f"({paged * 10:.0f} ms/page over HTTP, decompressed, {nbytes / 1e6:.0f} MB "
              f"JSON; the handler alone {handler * 1000:.0f} ms/page, gzipped); stock by store "
              f"({len(stock)} rows) in {report:.2f} s; an empty delta filter in "
              f"{filtered:.2f} s")
