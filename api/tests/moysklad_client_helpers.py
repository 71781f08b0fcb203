"""Shared by the MoySkladClient tests: a fake clock, a client factory, request readers and answers
shaped like the official documentation's examples (api-remap-1.2-doc)."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import http_helpers
import responses

from api.base import SessionState
from api.moysklad import MOYSKLAD_DEFAULT_URL, MoySkladClient

BASE = MOYSKLAD_DEFAULT_URL
TOKEN_URL = f"{BASE}/security/token"
LOGIN = "admin@shop"
PASSWORD = "Sekret-Pa55word"
TOKEN = "0cbfc512618efa7d5fa306250bca064c1169b37c"
NEW_TOKEN = "1dcfd623729f0be8e6b417361cdb175d2270c48d"
PASTED = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
NOW = datetime(2026, 11, 28, 12, 0, 0)  # naive UTC: 15:00 in Moscow; user weight 3
PRODUCT_ID = "35427052-36e7-11e7-8a7f-40d0000000d1"
PRODUCT_ID_2 = "6830a346-36e7-11e7-8a7f-40d0000000f8"
VARIANT_ID = "68379863-36e7-11e7-8a7f-40d0000000fd"
SERVICE_ID = "437f2d67-36e7-11e7-8a7f-40d0000000df"
BUNDLE_ID = "4f75d130-36e7-11e7-8a7f-40d0000000ef"
STORE_ID = "12345678-b123-aaee-0a80-012b0001bb10"
STORE_ID_2 = "12345678-b123-aaee-0a80-012b0001bb12"
CURRENCY_HREF = f"{BASE}/entity/currency/10772c12-36e7-11e7-8a7f-40d000000097"
PRICE_TYPE_ID = "672559f1-cbf3-11e1-9eb9-889ffa6f49fd"
PRICE_TYPE_HREF = f"{BASE}/context/companysettings/pricetype/{PRICE_TYPE_ID}"


class FakeTime(http_helpers.FakeTime):
    """The shared fake clock at NOW, whose wall clock stays put unless a test sets ``current``."""

    def __init__(self):
        super().__init__(NOW, wall_moves=False)


def make_client(fake, **options):
    options.setdefault("login", LOGIN)
    options.setdefault("password", PASSWORD)
    options.setdefault("backoff", 1.0)
    if "session_state" not in options and options.get("login"):
        options["session_state"] = SessionState(token=TOKEN)
    return MoySkladClient(sleep=fake.sleep, clock=fake.clock, now=fake.now, **options)


def meta(kind, entity_id, path=None):
    return {"href": f"{BASE}/{path or 'entity/' + kind}/{entity_id}", "type": kind,
            "mediaType": "application/json"}  # fmt: skip


def price(kopecks, price_type=True):
    data = {"value": kopecks, "currency": {"meta": {"href": CURRENCY_HREF, "type": "currency"}}}
    if price_type:
        data["priceType"] = {
            "meta": {"href": PRICE_TYPE_HREF, "type": "pricetype"},
            "id": PRICE_TYPE_ID,
            "name": "Цена продажи",
            "externalCode": "cbcf493b-55bc-11d9-848a-00112f43529a",
        }
    return data


def product_row(entity_id=PRODUCT_ID, kind="product", **fields):
    row = {
        "meta": meta(kind, entity_id),
        "id": entity_id,
        "updated": "2017-05-12 10:47:11",
        "name": "product",
        "code": "00001",
        "externalCode": "LsAGeHdbgyQ3oSlTzZUvH0",
        "archived": False,
        "pathName": "",
        "vat": 18,
        "uom": {"meta": meta("uom", "19f1edc0-fc42-4001-94cb-c9ec9c62ec10")},
        "images": {"meta": {"href": f"{BASE}/entity/{kind}/{entity_id}/images", "type": "image",
                            "size": 2, "limit": 1000, "offset": 0}},  # fmt: skip
        "minPrice": price(500.0, price_type=False),
        "salePrices": [price(1500.0)],
        "buyPrice": price(700.0, price_type=False),
        "article": "100000000",
        "weight": 0.25,
        "volume": 0,
        "barcodes": [{"ean13": "2000000000015"}],
        "variantsCount": 0,
    }
    row.update(fields)
    return row


def list_answer(rows, *, href="entity/product", size=None, limit=1000, offset=0, next_href=None):
    meta_block = {"href": f"{BASE}/{href}", "type": href.rsplit("/", 1)[-1],
                  "mediaType": "application/json", "size": len(rows) if size is None else size,
                  "limit": limit, "offset": offset}  # fmt: skip
    if next_href:
        meta_block["nextHref"] = next_href
    return {"context": {"employee": {"meta": {"href": f"{BASE}/context/employee"}}},
            "meta": meta_block, "rows": rows}  # fmt: skip


def error_body(code, text="Ошибка", parameter=None):
    error = {"error": text, "code": code,
             "moreInfo": f"https://dev.moysklad.ru/doc/api/remap/1.2/#error_{code}"}  # fmt: skip
    if parameter:
        error["parameter"] = parameter
    return {"errors": [error]}


def query_of(call):
    return {key: values[0] if len(values) == 1 else values
            for key, values in parse_qs(urlsplit(call.request.url).query).items()}  # fmt: skip


body_of = http_helpers.json_body


def api_calls(mocked, path=None):
    calls = [call for call in mocked.calls if call.request.url.startswith(BASE)]
    if path is not None:
        calls = [call for call in calls if urlsplit(call.request.url).path.endswith(path)]
    return calls


def add_token(mocked, token=NEW_TOKEN, status=200):
    body = {"access_token": token} if status == 200 else error_body(1056, "Ошибка аутентификации")
    mocked.add(responses.POST, TOKEN_URL, json=body, status=status)
