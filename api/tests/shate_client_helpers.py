"""Shared by the ShateClient tests: a client factory, request readers and the
document's example answers (shared/api-docs/shate-m.txt, with its JSON typos fixed: missing commas,
trailing commas, the unquoted priceId)."""

import copy
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import responses

from api.base import SessionState
from api.shate import SHATE_DEFAULT_URL, ShateClient
from api.shate_data import ShateOrderLine

BASE = SHATE_DEFAULT_URL
API = f"{BASE}/api/v1"
KEY_LOGIN_URL = f"{API}/auth/loginByapiKey"
PASSWORD_LOGIN_URL = f"{API}/auth/login"
PRICES_URL = f"{API}/prices/search"
ORDER_URL = f"{API}/orders/byPriceItems"
API_KEY = "{111AA11-111A-1B11-1DA1-111111111F1E}"
LOGIN_NAME = "Test123"
PASSWORD = "Sekret-Pa55word"
TOKEN = "eyJhbGciOiJQUzI1NiIsInR5cCI6ImF0K2p3dCJ9"
NEW_TOKEN = "eyJhbGciOiJQUzI1NiIsInR5cCI6ImF0K2p3dCJ9.second"
PRICE_ID = (
    "EA0A241990CBE80CD928445ADB1146A81861AFA2B69CC0F1C59EEBCEA5B67A12608B2F0799466CC6B01"
    "9C63056DDB2565D9E288D38DE21BCC5CB706019FF029E"
)


def make_client(fake, **options):
    values = {"api_key": API_KEY, "now": fake.now, "clock": fake.clock, "sleep": fake.sleep,
              "backoff": 0.5}  # fmt: skip
    values.update(options)
    return ShateClient(**values)


def token_answer(token=TOKEN, expires_in=3600):
    return {"access_token": token, "expires_in": expires_in, "token_type": "Bearer",
            "refresh_token": "", "scope": "ShateAuth"}  # fmt: skip


def add_login(mocked, token=TOKEN, expires_in=3600, url=KEY_LOGIN_URL):
    return mocked.add(responses.POST, url, json=token_answer(token, expires_in))


def calls_to(mocked, url, method=None):
    return [
        call
        for call in mocked.calls
        if call.request.url.split("?")[0] == url and method in (None, call.request.method)
    ]


def login_calls(mocked):
    return [call for call in mocked.calls if "/auth/" in call.request.url]


def form(call):
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def query(call):
    return parse_qs(urlsplit(call.request.url).query)


def saved_session(fake, token=TOKEN, minutes=30):
    return SessionState(token=token, expires_at=fake.now() + timedelta(minutes=minutes))


# -- the document's example answers ------------------------------------------------------------
ARTICLE = {"id": 1248288, "code": "OC100", "tradeMarkName": "KNECHT", "name": "Фильтр масляный",
           "description": "Замена - OC976. BX 82-93", "unitOfMeasure": "ШТ"}  # fmt: skip
TRADEMARK = {"name": "KNECHT", "country": "Германия",
             "description": "Торговая марка KNECHT принадлежит концерну...",
             "url": "http://www.mahle.com", "catalogUrl": "http://www.mahle.com",
             "extendedWarranty": False}  # fmt: skip
ARTICLE_CARD = {
    "article": ARTICLE,
    "tradeMark": TRADEMARK,
    "contents": [{"sortOrder": 0, "contentType": "ImageTwoDimensional",
                  "contentId": "17BD2871DF2E9294E85B12E039929D5791EE8A0303728BFA9A22B6B0E8F8DFCB"}],
    "extendedInfo": {
        "extendedDescription": "Описание",
        "originals": [{"articleCodes": ["string"], "tradeMarkName": "KNECHT"}],
        "characteristics": [{"key": "Внутренний диаметр 2 (мм)", "value": "62,0"}],
        "applicability": [{"name": "CITROEN", "models": [{"name": "JUMPER фургон (230L)",
            "modifications": [{"name": "CITROEN JUMPER Фургон (230L) 2.0",
                               "mnEngineCode": "RFW (XU10J2U)", "beginDate": "199403",
                               "endDate": "200204", "kWt": "80", "hPower": "109",
                               "cylinders": "4", "vol": "1998"}]}]}],
    },
}  # fmt: skip
OFFER = {
    "id": PRICE_ID,
    "articleId": 1248288,
    "locationCode": "SHATE-01",
    "locationCodeReal": "SHATE-01",
    "agreementCode": "SAGR1",
    "type": "Internal",
    "price": {"value": 8.5, "valueWithMargin": 8.5, "valueRecommended": None, "currencyCode": "USD",
              "priceMax": 12.32, "importAllowance": 15},
    "quantity": {"available": 5, "availableType": "Equal", "multiplicity": 1, "minimum": 1,
                 "maximum": None},
    "supplyProbability": {"lastUpdateDateTime": "2022-12-19T09:22:08.260Z", "rating": 99},
    "addInfo": {"city": "Минск", "isSale": True, "comment": "Царапины справа",
                "isReturnAllowed": True,
                "warningText": "Возврат запрещен. Нельзя заказывать масла моторные и тех. жидкости"},
    "priority": 1,
    "hash": 123456789,
    "deliveryDateTimes": [{"deliveryAddressCode": "Д1",
                           "deliveryDateTime": "2025-03-03T09:22:08.260Z"}],
    "shippingDateTime": "2025-03-02T09:22:08.260Z",
    "isImport": True,
    "isFree": True,
}  # fmt: skip
CART_ITEM = {
    "id": 1, "locationCode": "SHATE-01", "locationCodeReal": "SHATE-01", "agreementCode": "SAGR1",
    "article": ARTICLE, "price": 8.5, "priceWithMargin": 8.5, "priceType": "Internal",
    "priceMax": 12.32, "importAllowance": 15, "currencyCode": "USD", "quantity": 1,
    "quantityInfo": {"available": 5, "availableType": "Equal", "multiplicity": 1, "minimum": 1,
                     "maximum": 100},
    "addInfo": {"city": "Минск", "isSale": True, "comment": "Царапины справа",
                "isReturnAllowed": True, "warningText": "Возврат запрещен."},
    "createDateTime": "2022-12-19T08:39:15.525Z", "comment": "Comment",
    "deliveryDateTime": "2022-12-19T08:39:15.525Z", "shippingDateTime": "2022-12-19T08:39:15.525Z",
    "hash": 123456789, "isImport": True, "isFree": True,
}  # fmt: skip
ORDER = {
    "id": 1, "createDateTime": "2022-12-19T09:05:02.945Z",
    "deliveryInfo": {"deliveryAddressCode": "Д1"}, "agreementCode": "SAGR1",
    "currencyCode": "USD", "totalSum": 8.5, "comment": "Comment", "note": "Note",
    "orderItems": [{"id": 1, "article": ARTICLE, "quantity": 1, "quantityToShip": 0,
                    "quantityShipped": 0, "deliveryDateTime": "2022-12-19T09:05:02.945Z",
                    "price": 8.5, "totalSum": 8.5, "statusCode": 0, "comment": "Comment",
                    "\u0441anReturn": True}],
}  # fmt: skip
PRICE_WARNING = (
    "Произошло изменение цены в пределах допустимого отклонения. oldPrice : 3.72 ; newPrice : 3.44 "
)
ORDER_REFUSAL = {
    "errors": ["Товар не оформлен в заказ. По договору 100% предоплата."],
    "errorDescriptions": {"additionalProp1": "Ошибка валидации строк заказа"},
    "priceItemErrors": [{
        "priceId": PRICE_ID, "hash": 0,
        "current": {"price": 8.5, "priceWithMargin": 8.5,
                    "quantityInfo": {"available": 5, "availableType": "Equal", "multiplicity": 1,
                                     "minimum": 1, "maximum": None},
                    "deliveryDateTime": "2022-12-19T09:13:32.262Z",
                    "shippingDateTime": "2022-12-19T09:13:32.262Z"},
        "errors": ["Unknown"],
    }],
}  # fmt: skip
CART_ERROR = {"code": "DefaultAgreementNotFound", "description": "Договор по умолчанию не найден",
              "messages": ["Внимание! Договор по умолчанию не найден. Пожалуйста, свяжитесь с "
                           "вашим менеджером."]}  # fmt: skip


def offer(article_id=1248288, price_id=PRICE_ID, **changes):
    row = copy.deepcopy(OFFER)
    row.update(id=price_id, articleId=article_id, **changes)
    return row


def place(client, **overrides):
    values = {
        "agreement_code": "SAGR1",
        "delivery_address_code": "Д1",
        "lines": [ShateOrderLine(PRICE_ID, 2, "Skoda Octavia"), ("P2", 1.0)],
        "agree_with_terms_of_delivery": True,
        "agree_with_personal_data_policy": True,
    }
    values.update(overrides)
    return client.order_by_price_items(**values)
