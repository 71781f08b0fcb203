"""ETM iPro emulator and the shared emulator base, over real HTTP (requests)."""

import gzip
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from emulators.base import make_png
from emulators.etm import EtmEmulator, EtmProduct
from emulators.etm_demo import (
    DEMO_MISSING_CODES,
    demo_catalogue,
    demo_products,
    render_odoo_demo_xml,
)

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 5


@pytest.fixture
def emu():
    with EtmEmulator() as emulator:
        yield emulator


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def login(emu, http, log="demo", pwd="demo"):
    return http.post(f"{emu.api_url}/user/login", params={"log": log, "pwd": pwd},
                     timeout=TIMEOUT)


@pytest.fixture
def sid(emu, http):
    return login(emu, http).json()["data"]["session"]


def get(http, url, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    return http.get(url, **kwargs)


def body_code(response):
    return response.json()["status"]["code"]


# -- login and sessions ----------------------------------------------------------------------
def test_login_ok(emu, http):
    response = login(emu, http)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == {"code": 200, "message": ""}
    data = body["data"]
    assert re.fullmatch(r"\d{30}", data["session"])
    for key in ("basket_lines", "basket_sum", "sms", "url", "data_url", "show_ipro3"):
        assert key in data
    assert emu.api_url == emu.base_url + "/api/v1"
    assert emu.counts() == {"login": 1}


def test_login_bad_and_missing(emu, http):
    bad = login(emu, http, pwd="wrong")
    assert bad.status_code == 200
    assert bad.json()["status"] == {"code": 403, "message": "Неверный логин или пароль"}
    missing = http.post(f"{emu.api_url}/user/login", params={"log": "demo"}, timeout=TIMEOUT)
    assert body_code(missing) == 400
    assert not emu.sessions


def test_login_block_after_failures(http):
    with EtmEmulator(max_failed_logins=2) as emu:
        assert body_code(login(emu, http, pwd="x")) == 403
        assert body_code(login(emu, http, pwd="x")) == 403
        blocked = login(emu, http)
        assert blocked.json()["status"]["message"] == "Пользователь заблокирован"


def test_session_required(emu, http):
    for params in ({"type": "etm"}, {"type": "etm", "session-id": "123"}):
        response = get(http, f"{emu.api_url}/goods/9536092/price", params=params)
        assert response.status_code == 200
        assert response.json()["status"] == {"code": 403,
                                             "message": "Ошибка проверки сессии пользователя"}
    for path in ("goods/1037375/remains", "goods/9682787", "info/search/r-manuf/", "job/ABC"):
        assert body_code(get(http, f"{emu.api_url}/{path}")) == 403
    create = http.post(f"{emu.api_url}/job/create/40029846", timeout=TIMEOUT)
    assert body_code(create) == 403


def test_session_ttl_with_fake_clock(http):
    now = [1_700_000_000.0]
    with EtmEmulator(clock=lambda: now[0], session_ttl=7200) as emu:
        sid = login(emu, http).json()["data"]["session"]
        url = f"{emu.api_url}/goods/9536092/price"
        now[0] += 7199
        assert body_code(get(http, url, params={"type": "etm", "session-id": sid})) == 200
        now[0] += 2
        assert body_code(get(http, url, params={"type": "etm", "session-id": sid})) == 403


def test_expire_sessions_method_and_control(emu, http, sid):
    url = f"{emu.api_url}/goods/9536092/price"
    params = {"type": "etm", "session-id": sid}
    assert body_code(get(http, url, params=params)) == 200
    emu.expire_sessions()
    assert body_code(get(http, url, params=params)) == 403
    sid2 = login(emu, http).json()["data"]["session"]
    assert http.post(emu.base_url + "/_emulator/expire_sessions", timeout=TIMEOUT).ok
    assert body_code(get(http, url, params={"type": "etm", "session-id": sid2})) == 403


def test_expire_session_fault_after_n_requests(emu, http, sid):
    emu.set_fault("expire_session", after=2)
    url = f"{emu.api_url}/goods/9536092/price"
    params = {"type": "etm", "session-id": sid}
    assert [body_code(get(http, url, params=params)) for _ in range(3)] == [200, 200, 403]
    fresh = login(emu, http).json()["data"]["session"]
    assert body_code(get(http, url, params={"type": "etm", "session-id": fresh})) == 200
    assert not emu.faults()


def test_mirror_status_in_http(http):
    with EtmEmulator(mirror_status_in_http=True) as emu:
        assert login(emu, http, pwd="x").status_code == 403
        assert get(http, f"{emu.api_url}/goods/1/price").status_code == 403


# -- price -----------------------------------------------------------------------------------
def test_price_single_is_an_object(emu, http, sid):
    response = get(http, f"{emu.api_url}/goods/9536092/price",
                   params={"type": "etm", "session-id": sid})
    assert response.json() == {
        "status": {"code": 200, "message": ""},
        "data": {"gdscode": 9536092, "price": 679.51, "pricewnds": 815.41,
                 "price_tarif": 1288.16, "price_retail": 1288},
    }


def test_price_multi_with_literal_percent_2c(emu, http, sid):
    url = f"{emu.api_url}/goods/9536092%2C1037375%2C0000000%2C9682787/price"
    response = get(http, url, params={"type": "etm", "session-id": sid})
    data = response.json()["data"]
    assert [row["gdscode"] for row in data["rows"]] == [9536092, 1037375, 9682787]
    assert set(data["rows"][0]) == {"gdscode", "price", "pricewnds", "price_tarif",
                                    "price_retail"}
    recorded = emu.requests_for("price")[-1]
    assert "9536092%2C1037375" in recorded.raw_path
    assert recorded.query == {"type": "etm", "session-id": sid}
    comma = get(http, f"{emu.api_url}/goods/9536092,1037375/price",
                params={"type": "etm", "session-id": sid})
    assert len(comma.json()["data"]["rows"]) == 2


def test_price_several_codes_one_found_still_rows(emu, http, sid):
    response = get(http, f"{emu.api_url}/goods/9536092%2C777/price",
                   params={"type": "etm", "session-id": sid})
    assert [row["gdscode"] for row in response.json()["data"]["rows"]] == [9536092]


def test_price_not_found_and_too_many(emu, http, sid):
    response = get(http, f"{emu.api_url}/goods/{DEMO_MISSING_CODES[0]}/price",
                   params={"type": "etm", "session-id": sid})
    assert response.json()["status"] == {"code": 404, "message": "Товар не найден"}
    prefixed = get(http, f"{emu.api_url}/goods/ETM9536092/price",
                   params={"type": "etm", "session-id": sid})
    assert body_code(prefixed) == 404
    codes = "%2C".join(str(9_000_000 + i) for i in range(51))
    too_many = get(http, f"{emu.api_url}/goods/{codes}/price",
                   params={"type": "etm", "session-id": sid})
    assert too_many.json()["status"] == {"code": 400, "message": "Слишком много кодов"}
    fifty = "%2C".join(["9536092"] + [str(9_000_000 + i) for i in range(49)])
    assert body_code(get(http, f"{emu.api_url}/goods/{fifty}/price",
                         params={"type": "etm", "session-id": sid})) == 200


def test_price_by_client_code_and_article(emu, http, sid):
    default_type = get(http, f"{emu.api_url}/goods/EL-00002/price", params={"session-id": sid})
    assert default_type.json()["data"]["gdscode"] == 1037375
    cli = get(http, f"{emu.api_url}/goods/EL-00001%2CEL-00003/price",
              params={"type": "cli", "session-id": sid})
    assert [r["gdscode"] for r in cli.json()["data"]["rows"]] == [9536092, 9682787]
    mnf = get(http, f"{emu.api_url}/goods/MVA20-1-016-C/price",
              params={"type": " mnf", "session-id": sid})
    assert mnf.json()["data"]["gdscode"] == 1037375
    etm_as_cli = get(http, f"{emu.api_url}/goods/9536092/price", params={"session-id": sid})
    assert body_code(etm_as_cli) == 404
    bad_type = get(http, f"{emu.api_url}/goods/9536092/price",
                   params={"type": "xyz", "session-id": sid})
    assert body_code(bad_type) == 400


# -- remains, goods, images --------------------------------------------------------------------
def test_remains_shape(emu, http, sid):
    response = get(http, f"{emu.api_url}/goods/1037375/remains",
                   params={"type": "etm", "session-id": sid})
    body = response.json()
    assert body["status"]["code"] == 200
    data = body["data"]
    assert data["gdscode"] == "1037375"
    assert data["UnitName"] == "шт"
    assert data["RequestStoreName"] == "ЭТМ-СПб"
    stores = {s["StoreCode"]: s for s in data["InfoStores"]}
    assert set(stores) == {11, 105, 207, 312}
    assert stores[11]["StoreType"] == "rc" and stores[11]["StoreQuantRem"] == "77"
    assert stores[105]["StoreQuantRem"] == "0" and stores[207]["StoreType"] == "crs"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", stores[11]["StoreDate"])
    assert stores[11]["StoreName"].startswith("пос. Шушары")
    assert len(data["InfoForecast"]) == 2
    assert set(data["InforDeliveryTime"]) == {
        "DeliveryLabelInPres", "DeliveryTimeInPres", "DeliveryLabelAtAbs",
        "DeliveryIsNeedSpecification", "DeliveryProductionTerm"}
    assert data["InforDeliveryTime"]["DeliveryTimeInPres"] == "1"
    several = get(http, f"{emu.api_url}/goods/1037375%2C9536092/remains",
                  params={"type": "etm", "session-id": sid})
    assert body_code(several) == 400
    unknown = get(http, f"{emu.api_url}/goods/12/remains", params={"type": "etm",
                                                                 "session-id": sid})
    assert body_code(unknown) == 404


def test_goods_shape_and_image(emu, http, sid):
    response = get(http, f"{emu.api_url}/goods/9682787",
                   params={"type": "%20etm".replace("%20", " "), "session-id": sid})
    data = response.json()["data"]
    assert data["gdsCode"] == "9682787"
    assert data["gdsNameTitle"] == "Лоток лестничный 3000x200x100x1.5мм быстрый монтаж (LO6908)"
    assert (data["gdsMnfName"], data["gdsMnfCode"], data["gdsArt"]) == ("КМ-Профиль", "1209",
                                                                        "LO6908")
    assert data["gdsExtArt"] == "LLS100*200*1.5*3000"
    assert data["gdsUnitName"] == "м" and data["minPack"] == "3"
    assert data["gdsInfoClass81"] == "20101420 - Оцинкованные лотки(метод Сендзимира)"
    assert [n["code"] for n in data["gdsClassTree"]] == ["20", "2010", "201014", "20101420"]
    assert {"gdsCharName": "Материал изделия", "gdsCharVal": "Сталь"} in data["gdsChars"]
    assert data["gdsImages"] == [{"gdsImgSrc": "/ipro/1209/small_lls.jpg",
                                  "gdsImgRef": "/ipro/1209/lls.jpg"}]
    assert data["gdsSertifName"] == "POCC RU.HA34.H01604"
    assert data["gdsRemSt"] == "279"
    related = {r["gdsCode"] for r in data["relatedProducts"]}
    assert related and "9682787" not in related and related <= set(demo_catalogue())
    for key in ("gdsNameCountry", "gdsTechDescInt", "gdsTechDescExt", "description"):
        assert key in data

    image = get(http, emu.base_url + data["gdsImages"][0]["gdsImgRef"])
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", image.content[16:24])
    assert (width, height) == (16, 16)
    assert image.content == get(http, emu.base_url + "/ipro/1209/lls.jpg").content
    assert get(http, emu.base_url + "/ipro/1209/readme.txt").status_code == 404


def test_goods_by_article_with_manufacturer(emu, http, sid):
    found = get(http, f"{emu.api_url}/goods/LO6908",
                params={"type": "mnf", "mnf": "1209", "session-id": sid})
    assert found.json()["data"]["gdsCode"] == "9682787"
    other = get(http, f"{emu.api_url}/goods/LO6908",
                params={"type": "mnf", "mnf": "138", "session-id": sid})
    assert body_code(other) == 404


def test_make_png_is_valid():
    png = make_png(2, 3, (1, 2, 3))
    assert png[12:16] == b"IHDR" and struct.unpack(">II", png[16:24]) == (2, 3)
    assert png.endswith(b"IEND\xaeB`\x82")


# -- SgGds job and manufacturers -----------------------------------------------------------------
def test_job_lifecycle_and_file(emu, http, sid):
    created = http.post(f"{emu.api_url}/job/create/40029846", params={"session-id": sid},
                        timeout=TIMEOUT).json()
    assert created["status"]["code"] == 200
    assert created["data"]["message"] == "отчет запущен в фоновом режиме"
    uuid = created["data"]["uuid"]
    assert re.fullmatch(r"[0-9A-F]+", uuid)
    states, rows = [], []
    for _ in range(3):
        data = get(http, f"{emu.api_url}/job/{uuid}", params={"session-id": sid}).json()["data"]
        rows.append(data["rows"][0])
        states.append(rows[-1]["state"])
    assert states == ["0", "3", "1"]
    done = rows[-1]
    assert done["name"] == "Товары клиента" and done["msg"] == ""
    assert set(data) == {"page", "rows", "total", "records", "userdata"}
    assert re.fullmatch(r"\d\d/\d\d/\d\d", done["whencre"])
    (url,) = done["urls"]
    assert re.fullmatch(re.escape(emu.base_url) + r"/upload/report/cligds_\d+\.json", url)
    download = get(http, url)
    assert download.status_code == 200
    assert download.headers.get("Content-Encoding") == "gzip"
    items = download.json()
    assert len(items) == 36
    assert set(items[0]) == {"id", "name", "brand", "article", "brand_code", "cli_code", "class"}
    by_id = {item["id"]: item for item in items}
    assert by_id["9682787"]["article"] == "LO6908"
    assert by_id["9682787"]["cli_code"] == "EL-00003"
    plain = get(http, url, headers={"Accept-Encoding": "identity"})
    assert json.loads(plain.content) == items
    assert body_code(get(http, f"{emu.api_url}/job/{uuid}", params={"session-id": sid})) == 200


def test_job_fail_unknown_and_other_report(http):
    with EtmEmulator(job_fail=True, job_polls_until_done=0) as emu:
        sid = login(emu, http).json()["data"]["session"]
        uuid = http.post(f"{emu.api_url}/job/create/40029846", params={"session-id": sid},
                         timeout=TIMEOUT).json()["data"]["uuid"]
        row = get(http, f"{emu.api_url}/job/{uuid}", params={"session-id": sid}).json()[
            "data"]["rows"][0]
        assert row["state"] == "2" and row["msg"] and row["urls"] == []
        assert body_code(get(http, f"{emu.api_url}/job/DEADBEEF",
                             params={"session-id": sid})) == 404
        other = http.post(f"{emu.api_url}/job/create/1", params={"session-id": sid},
                          timeout=TIMEOUT)
        assert body_code(other) == 404
        assert get(http, emu.base_url + "/upload/report/cligds_1.json").status_code == 404


def test_manufacturers(emu, http, sid):
    response = get(http, f"{emu.api_url}/info/search/r-manuf/", params={"session-id": sid})
    data = response.json()["data"]
    labels = {row["label"]: row for row in data["rows"]}
    assert data["records"] == len(data["rows"]) == 10
    assert labels["КМ-Профиль"]["value"] == "1209"
    assert {"IEK", "ABB", "DKC", "Legrand", "Камкабель"} <= set(labels)
    assert all(set(row) == {"id", "value", "label"} for row in data["rows"])


def test_unknown_api_path(emu, http, sid):
    response = get(http, f"{emu.api_url}/nothing/here", params={"session-id": sid})
    assert response.status_code == 404 and body_code(response) == 404


# -- faults ------------------------------------------------------------------------------------
def price_url(emu, sid):
    return f"{emu.api_url}/goods/9536092/price?type=etm&session-id={sid}"


def test_fault_http_5xx_then_recovers(emu, http, sid):
    emu.set_fault("http_5xx", count=4)
    responses = [get(http, price_url(emu, sid)) for _ in range(5)]
    assert [r.status_code for r in responses] == [500, 502, 503, 500, 200]
    assert "<html>" in responses[0].text
    assert responses[0].headers["Content-Type"].startswith("text/html")
    assert body_code(responses[-1]) == 200


def test_fault_after_and_until_cleared(emu, http, sid):
    emu.set_fault("http_5xx", count=None, after=2, statuses=[503])
    codes = [get(http, price_url(emu, sid)).status_code for _ in range(5)]
    assert codes == [200, 200, 503, 503, 503]
    emu.clear_faults()
    assert get(http, price_url(emu, sid)).status_code == 200


def test_fault_limited_to_matching_requests(emu, http, sid):
    # Only price requests asking for code 1037375 are faulted, and counted by after/count.
    emu.set_fault("http_5xx", count=2, after=1, match=r"(/|%2C)1037375(%2C|/)", statuses=[502])
    base = f"{emu.api_url}/goods/{{}}/price?type=etm&session-id={sid}"
    codes = [get(http, base.format(code)).status_code
             for code in ("9536092", "1037375", "9536092%2C1037375", "9536092", "1037375",
                          "1037375")]
    assert codes == [200, 200, 502, 200, 502, 200]
    assert not emu.faults()
    # The body is searched too; a bad pattern is refused when the fault is set.
    emu.set_fault("http_5xx", match="pwd=demo", statuses=[503])
    assert get(http, base.format("9536092")).status_code == 200
    form = http.post(f"{emu.api_url}/user/login", data={"log": "demo", "pwd": "demo"},
                     timeout=TIMEOUT)
    assert form.status_code == 503
    with pytest.raises(ValueError):
        emu.set_fault("http_5xx", match="(")


def test_fault_malformed_json(emu, http, sid):
    emu.set_fault("malformed_json")
    response = get(http, price_url(emu, sid))
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert response.text.startswith('{"status"')
    assert get(http, price_url(emu, sid)).json()["status"]["code"] == 200


def test_fault_rate_limit(emu, http, sid):
    emu.set_fault("rate_limit", count=2, retry_after=2)
    first = get(http, price_url(emu, sid))
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert first.json()["status"]["code"] == 429
    assert get(http, price_url(emu, sid)).status_code == 429
    assert get(http, price_url(emu, sid)).status_code == 200


def test_global_rate_limit(http):
    with EtmEmulator(rate_limit_per_second=3) as emu:
        codes = [get(http, f"{emu.api_url}/goods/1/price").status_code for _ in range(6)]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
        limited = next(r for r in (get(http, f"{emu.api_url}/goods/1/price") for _ in range(3))
                       if r.status_code == 429)
        assert limited.headers["Retry-After"] == "1"


def test_fault_timeout_and_slow(emu, http, sid):
    emu.set_fault("timeout", seconds=0.6)
    with pytest.raises(requests.Timeout):
        http.get(price_url(emu, sid), timeout=0.15)
    emu.set_fault("slow", count=2, seconds=0.2)
    started = time.monotonic()
    with requests.Session() as fresh:
        assert body_code(fresh.get(price_url(emu, sid), timeout=TIMEOUT)) == 200
        assert time.monotonic() - started >= 0.2
        started = time.monotonic()
        fresh.get(price_url(emu, sid), timeout=TIMEOUT)
        fresh.get(price_url(emu, sid), timeout=TIMEOUT)
    assert time.monotonic() - started >= 0.2
    assert not emu.faults()


def test_fault_slow_body(emu, http):
    """Headers at once, then the body a few bytes at a time: each read is quick, the whole is not."""
    url = emu.base_url + "/ipro/1209/lls.png"
    whole = get(http, url).content
    emu.set_fault("slow_body", seconds=0.02, piece=10)
    started = time.monotonic()
    response = get(http, url, stream=True, timeout=0.5)
    assert time.monotonic() - started < 0.3  # the headers did not wait for the body
    pieces = list(response.raw.stream(1000, decode_content=False))
    elapsed = time.monotonic() - started
    assert b"".join(pieces) == whole
    assert elapsed >= 0.02 * (len(whole) // 10)
    assert response.headers["Content-Length"] == str(len(whole))
    assert get(http, url).content == whole  # count=1: the next answer is whole at once
    assert not emu.faults()


def test_fault_slow_body_over_the_control_route(emu, http):
    control = emu.base_url + "/_emulator/faults"
    answer = http.post(control, json={"kind": "slow_body", "seconds": 0.5, "piece": 3},
                       timeout=TIMEOUT)
    assert answer.json() == {"kind": "slow_body", "count": 1, "after": 0, "applied": 0,
                             "seconds": 0.5, "piece": 3}


def test_latency(http):
    with EtmEmulator(latency=0.1) as emu:
        started = time.monotonic()
        login(emu, http)
        assert time.monotonic() - started >= 0.1


def test_fault_connection_reset(emu, http, sid):
    emu.set_fault("reset")
    with pytest.raises(requests.ConnectionError):
        get(http, price_url(emu, sid))
    assert body_code(get(http, price_url(emu, sid))) == 200


def test_unknown_fault_kind(emu):
    with pytest.raises(ValueError):
        emu.set_fault("meteor")


def test_faults_over_http_and_control_routes_untouched(emu, http, sid):
    control = emu.base_url + "/_emulator/faults"
    answer = http.post(control, json={"kind": "http_5xx", "count": None}, timeout=TIMEOUT)
    assert answer.ok and answer.json()["count"] is None
    assert get(http, emu.base_url + "/_emulator/health").json()["status"] == "ok"
    assert get(http, control).json()[0]["kind"] == "http_5xx"
    assert get(http, price_url(emu, sid)).status_code == 500
    assert http.delete(control, timeout=TIMEOUT).ok
    assert get(http, price_url(emu, sid)).status_code == 200
    bad = http.post(control, json={"kind": "nope"}, timeout=TIMEOUT)
    assert bad.status_code == 400
    http.post(control, json={"kind": "expire_session"}, timeout=TIMEOUT)
    assert body_code(get(http, price_url(emu, sid))) == 403


# -- recording and control endpoints -------------------------------------------------------------
def test_request_recording_and_control(emu, http, sid):
    get(http, f"{emu.api_url}/goods/9536092%2C1037375/price?type=etm&session-id={sid}")
    recorded = emu.requests
    assert [r.label for r in recorded] == ["login", "price"]
    price = recorded[-1]
    assert price.method == "GET"
    assert price.raw_path == f"/api/v1/goods/9536092%2C1037375/price?type=etm&session-id={sid}"
    assert price.path == "/api/v1/goods/9536092,1037375/price"
    assert price.query == {"type": "etm", "session-id": sid}
    assert price.headers["Host"].startswith("127.0.0.1:")
    assert recorded[0].query == {"log": "demo", "pwd": "demo"}
    assert emu.counts() == {"login": 1, "price": 1}

    listed = get(http, emu.base_url + "/_emulator/requests").json()
    assert [r["label"] for r in listed] == ["login", "price"]
    assert listed[1]["query"]["session-id"] == sid and "%2C" in listed[1]["raw_path"]
    only = get(http, emu.base_url + "/_emulator/requests", params={"label": "login"}).json()
    assert len(only) == 1
    assert get(http, emu.base_url + "/_emulator/counts").json() == {"login": 1, "price": 1}
    health = get(http, emu.base_url + "/_emulator/health").json()
    assert health["service"] == "etm" and health["requests"] == 2
    assert http.post(emu.base_url + "/_emulator/reset", timeout=TIMEOUT).ok
    assert emu.requests == [] and emu.counts() == {}
    config = http.post(emu.base_url + "/_emulator/config", json={"latency": 0.01},
                       timeout=TIMEOUT).json()
    assert config["latency"] == 0.01 == emu.latency


def test_keep_alive_and_content_length(emu, http, sid):
    for _ in range(20):
        response = get(http, price_url(emu, sid))
        assert response.headers["Content-Length"] == str(len(response.content))
        assert response.headers.get("Connection", "").lower() != "close"
    assert len(emu._connections) == 1  # one pooled connection served every request


# -- catalogue helpers and generated catalogues ---------------------------------------------------
def test_catalogue_changes_between_runs(emu, http, sid):
    emu.set_price("9536092", 700)
    price = get(http, price_url(emu, sid)).json()["data"]
    assert (price["price"], price["pricewnds"]) == (700, 840)
    emu.set_stock("1037375", 105, 5)
    remains = get(http, f"{emu.api_url}/goods/1037375/remains",
                  params={"type": "etm", "session-id": sid}).json()["data"]
    assert {s["StoreCode"]: s["StoreQuantRem"] for s in remains["InfoStores"]}[105] == "5"
    emu.remove_product("9536092")
    assert body_code(get(http, price_url(emu, sid))) == 404
    emu.add_product(EtmProduct("9536092", "NEW-1", "Новый товар", "IEK", "107", "NEW-ART", "шт",
                               10.0, 12.0, 15.0, 14.0))
    assert get(http, price_url(emu, sid)).json()["data"]["price"] == 10
    assert demo_catalogue()["9536092"].price == 679.51  # the default catalogue is untouched
    patched = http.patch(emu.base_url + "/_emulator/products/1037375",
                         json={"price": 1.5, "stores": {"11": 0}}, timeout=TIMEOUT)
    assert patched.ok and emu.product("1037375").stores == {11: 0}


def test_generate_catalogue_fast_and_deterministic(http):
    started = time.perf_counter()
    catalogue = EtmEmulator.generate_catalogue(10_000)
    assert time.perf_counter() - started < 1.0
    assert len(catalogue) == 10_000
    assert catalogue == EtmEmulator.generate_catalogue(10_000)
    assert catalogue != EtmEmulator.generate_catalogue(10_000, seed=1)
    product = catalogue["1000042"]
    assert product.cli_code == "CLI-000042" and product.etm_code == "1000042"
    assert len({p.article for p in catalogue.values()}) == 10_000
    with EtmEmulator(catalogue) as emu:
        sid = login(emu, http).json()["data"]["session"]
        codes = "%2C".join(str(1_000_000 + i) for i in range(50))
        rows = get(http, f"{emu.api_url}/goods/{codes}/price",
                   params={"type": "etm", "session-id": sid}).json()["data"]["rows"]
        assert len(rows) == 50
        card = get(http, f"{emu.api_url}/goods/CLI-000042",
                   params={"session-id": sid}).json()["data"]
        assert card["gdsCode"] == "1000042" and card["gdsChars"]


# -- demo data and CLI -------------------------------------------------------------------------
def test_demo_catalogue():
    catalogue = demo_catalogue()
    assert len(catalogue) == 36
    assert {"9536092", "1037375", "9682787"} <= set(catalogue)
    assert not set(DEMO_MISSING_CODES) & set(catalogue)
    assert len(demo_products()) == 38
    brands = {p.brand for p in catalogue.values()}
    assert {"IEK", "Schneider Electric", "ABB", "DKC", "КМ-Профиль", "Legrand", "EKF",
            "Navigator", "Rexant", "Камкабель"} == brands
    assert {p.unit for p in catalogue.values()} == {"шт", "м", "упак"}
    assert all(3 <= len(p.chars) <= 8 and p.image for p in catalogue.values())
    assert any(p.total_stock == 0 for p in catalogue.values())
    assert sum(1 for p in catalogue.values() if len([q for q in p.stores.values() if q]) == 1) >= 2
    assert len({p.cli_code for p in catalogue.values()}) == 36


def test_demo_xml_renders_parses_and_is_committed():
    xml = render_odoo_demo_xml()
    root = ET.fromstring(xml.encode())
    assert root.tag == "odoo"
    products = root.findall("record[@model='product.product']")
    bindings = root.findall("record[@model='supplier.product']")
    assert len(products) == len(bindings) == 38
    first = products[0]
    fields = {f.get("name"): f for f in first.findall("field")}
    assert first.get("id") == "demo_product_etm_9536092"
    assert fields["default_code"].text == "MAD22-5-016-C-30"
    assert fields["type"].text == "consu" and fields["is_storable"].get("eval") == "True"
    assert fields["uom_id"].get("ref") == "uom.product_uom_unit"
    assert float(fields["standard_price"].get("eval")) == 679.51
    assert float(fields["list_price"].get("eval")) == 1288
    meters = [p for p in products
              if p.find("field[@name='uom_id']").get("ref") == "uom.product_uom_meter"]
    assert meters
    binding = {f.get("name"): f for f in bindings[0].findall("field")}
    assert binding["backend_id"].get("ref") == "demo_backend_etm"
    assert binding["product_id"].get("ref") == "demo_product_etm_9536092"
    assert binding["external_code"].text == "9536092"
    ids = {r.get("id") for r in bindings}
    assert {f"demo_binding_etm_{code}" for code in DEMO_MISSING_CODES} <= ids
    committed = REPO / "demo" / "etm_demo_products.xml"
    assert committed.read_text(encoding="utf-8") == xml


def test_package_is_self_contained():
    for path in (REPO / "emulators").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) (odoo|emulators)\b", source, re.MULTILINE), path


def test_cli_runs_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators", "etm", "--port", "0", "--catalogue", "50"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"ETM emulator on (http://127\.0\.0\.1:\d+)/api/v1 \(login demo/demo\)",
                             line)
        assert match, line
        health = requests.get(match.group(1) + "/_emulator/health", timeout=TIMEOUT)
        assert health.json()["status"] == "ok"
        price = requests.get(match.group(1) + "/api/v1/goods/1000001/price", timeout=TIMEOUT)
        assert body_code(price) == 403
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_report_is_gzip_only_when_accepted(emu, http, sid):
    uuid = http.post(f"{emu.api_url}/job/create/40029846", params={"session-id": sid},
                     timeout=TIMEOUT).json()["data"]["uuid"]
    emu.job_polls_until_done = 0
    url = get(http, f"{emu.api_url}/job/{uuid}", params={"session-id": sid}).json()[
        "data"]["rows"][0]["urls"][0]
    raw = http.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=TIMEOUT)
    compressed = raw.raw.read()
    assert len(json.loads(gzip.decompress(compressed))) == 36
