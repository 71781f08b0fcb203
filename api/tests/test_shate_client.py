"""ShateClient: token login and reuse, 401 handling, reference data, articles, prices within the
budget, orders never re-sent, cart, contents, secrets.

Answers are the document's examples (shared/api-docs/shate-m.txt), with its JSON typos fixed
(missing commas, trailing commas, the unquoted priceId).
"""

import base64
import copy
import json
import logging
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from api.base import SessionState
from api.errors import (
    ApiError,
    AuthError,
    LoginBlocked,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
    UnsafeUrl,
)
from api.rate_budget import RateBudget
from api.shate import SHATE_DEFAULT_URL, ShateClient
from api.shate_data import ShateOrderLine, price_change

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
NOW = datetime(2025, 3, 1, 12, 0, 0)  # naive UTC: 15:00 in Moscow
PRICE_ID = (
    "EA0A241990CBE80CD928445ADB1146A81861AFA2B69CC0F1C59EEBCEA5B67A12608B2F0799466CC6B01"
    "9C63056DDB2565D9E288D38DE21BCC5CB706019FF029E"
)


class FakeTime:
    """Wall clock (``now``), monotonic clock, epoch clock and sleep, moved only by sleep/advance."""

    def __init__(self):
        self.current = NOW
        self.mono = 0.0
        self.sleeps = []

    def now(self):
        return self.current

    def clock(self):
        return self.mono

    def epoch(self):
        return (self.current - datetime(1970, 1, 1)).total_seconds()

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds):
        self.mono += seconds
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def fake():
    return FakeTime()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


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


def body(call):
    return json.loads(call.request.body)


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


# -- login and token ---------------------------------------------------------------------------
def test_login_by_api_key_sends_the_documented_form(fake, mocked):
    add_login(mocked)
    client = make_client(fake, login=LOGIN_NAME, password=PASSWORD)  # the key wins

    assert client.login() == TOKEN

    (call,) = mocked.calls
    assert call.request.url == KEY_LOGIN_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(call) == {"apikey": API_KEY}
    assert client.session_state.token == TOKEN
    assert client.session_state.expires_at == NOW + timedelta(seconds=3600)
    assert client.stats["login"] == 1


def test_login_by_password_sends_the_documented_form(fake, mocked):
    add_login(mocked, url=PASSWORD_LOGIN_URL, expires_in=1800)
    client = make_client(fake, api_key=None, login=LOGIN_NAME, password=PASSWORD)

    client.login()

    (call,) = mocked.calls
    assert call.request.url == PASSWORD_LOGIN_URL
    assert form(call) == {"Login": LOGIN_NAME, "Password": PASSWORD}
    assert client.session_state.expires_at == NOW + timedelta(seconds=1800)


@pytest.mark.parametrize("base_url", [BASE, BASE + "/", BASE + "/api/v1", BASE + "/api/v1/"])
def test_base_url_with_or_without_api_prefix(fake, mocked, base_url):
    add_login(mocked)
    mocked.add(responses.GET, f"{API}/locations", json=[])
    make_client(fake, base_url=base_url).get_locations()
    assert [call.request.url for call in mocked.calls] == [KEY_LOGIN_URL, f"{API}/locations"]


def test_bearer_token_on_every_call_and_reused(fake, mocked):
    add_login(mocked)
    mocked.add(responses.GET, f"{API}/locations", json=[])
    mocked.add(responses.GET, f"{API}/customer/agreements", json=[])
    client = make_client(fake)

    client.get_locations()
    client.get_agreements()
    client.get_locations()

    assert len(login_calls(mocked)) == 1
    api_calls = [call for call in mocked.calls if "/auth/" not in call.request.url]
    assert len(api_calls) == 3
    assert {call.request.headers["Authorization"] for call in api_calls} == {f"Bearer {TOKEN}"}


def test_saved_token_reused_across_runs(fake, mocked):
    mocked.add(responses.GET, f"{API}/locations", json=[])
    client = make_client(fake, session_state=saved_session(fake))

    client.get_locations()

    assert login_calls(mocked) == []
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_token_renewed_token_margin_before_expiry(fake, mocked):
    add_login(mocked, expires_in=1800)
    mocked.add(responses.GET, f"{API}/locations", json=[])
    client = make_client(fake)  # token_margin 120 s

    client.get_locations()
    fake.advance(1800 - 121)
    client.get_locations()
    assert len(login_calls(mocked)) == 1

    mocked.replace(responses.POST, KEY_LOGIN_URL, json=token_answer(NEW_TOKEN, 1800))
    fake.advance(2)  # 119 s left: inside the margin
    client.get_locations()

    assert len(login_calls(mocked)) == 2
    assert mocked.calls[-1].request.headers["Authorization"] == f"Bearer {NEW_TOKEN}"
    assert client.session_state.token == NEW_TOKEN


def test_missing_expires_in_uses_token_ttl(fake, mocked):
    mocked.add(responses.POST, KEY_LOGIN_URL, json={"access_token": TOKEN})
    client = make_client(fake, token_ttl=900)
    client.login()
    assert client.session_state.expires_at == NOW + timedelta(seconds=900)


def test_401_logs_in_again_once_and_repeats(fake, mocked):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.GET, f"{API}/locations", status=401)
    mocked.add(responses.GET, f"{API}/locations", json=[{"code": "SHATE-S01", "name": "Склад"}])
    client = make_client(fake, session_state=saved_session(fake))

    locations = client.get_locations()

    assert [loc.code for loc in locations] == ["SHATE-S01"]
    assert len(login_calls(mocked)) == 1
    tries = calls_to(mocked, f"{API}/locations")
    assert [call.request.headers["Authorization"] for call in tries] == [
        f"Bearer {TOKEN}",
        f"Bearer {NEW_TOKEN}",
    ]
    assert client.session_state.token == NEW_TOKEN
    assert client.session_state.relogin_at == NOW


def test_second_401_raises_session_expired_never_loops(fake, mocked):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.GET, f"{API}/locations", status=401)
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(SessionExpired):
        client.get_locations()
    assert len(login_calls(mocked)) == 1
    assert len(calls_to(mocked, f"{API}/locations")) == 2

    # Another call soon after: one more login would not help; it is refused locally.
    with pytest.raises(SessionExpired):
        client.get_locations()
    assert len(login_calls(mocked)) == 2  # the normal login of an empty session
    assert len(calls_to(mocked, f"{API}/locations")) == 3


def test_rejected_login_blocks_further_logins(fake, mocked):
    mocked.add(responses.POST, KEY_LOGIN_URL, status=400,
               json={"error": "invalid_grant", "error_description": "invalid api key"})  # fmt: skip
    mocked.add(responses.GET, f"{API}/locations", json=[])
    client = make_client(fake)

    with pytest.raises(AuthError) as rejected:
        client.get_locations()
    assert rejected.value.code == "auth"
    assert "invalid_grant" in rejected.value.detail
    assert client.session_state.login_blocked_until == NOW + timedelta(hours=1)

    fake.advance(3599)
    with pytest.raises(LoginBlocked):
        client.get_locations()
    assert len(mocked.calls) == 1  # nothing sent while blocked

    fake.advance(2)
    mocked.replace(responses.POST, KEY_LOGIN_URL, json=token_answer())
    client.get_locations()
    assert len(login_calls(mocked)) == 2


def test_saved_block_is_honoured_by_a_new_client(fake, mocked):
    state = SessionState(login_blocked_until=NOW + timedelta(minutes=10))
    client = make_client(fake, session_state=state)
    with pytest.raises(LoginBlocked):
        client.get_agreements()
    assert len(mocked.calls) == 0


def test_missing_credentials_send_nothing(fake, mocked):
    client = make_client(fake, api_key="", login=LOGIN_NAME, password="")
    with pytest.raises(AuthError):
        client.get_locations()
    assert len(mocked.calls) == 0


def test_login_service_failure_does_not_block(fake, mocked):
    mocked.add(responses.POST, KEY_LOGIN_URL, status=503)
    client = make_client(fake, max_retries=1)
    with pytest.raises(ServiceUnavailable):
        client.login()
    assert client.session_state.login_blocked_until is None
    mocked.replace(responses.POST, KEY_LOGIN_URL, json=token_answer())
    assert client.login() == TOKEN


# -- reference data ----------------------------------------------------------------------------
@pytest.fixture
def client(fake):
    return make_client(fake, session_state=saved_session(fake), max_retries=1)


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


def test_error_statuses(client, mocked):
    mocked.add(responses.GET, f"{API}/articles/1", status=404)
    mocked.add(responses.GET, f"{API}/locations", status=403)
    mocked.add(responses.GET, f"{API}/cartitems", status=400, json=CART_ERROR)
    with pytest.raises(NotFound):
        client.get_article(1)
    with pytest.raises(RequestRejected) as forbidden:
        client.get_locations()
    assert forbidden.value.status == 403
    with pytest.raises(RequestRejected) as refused:
        client.get_cart_items()
    assert "DefaultAgreementNotFound" in refused.value.detail
    assert "Договор по умолчанию не найден" in refused.value.detail


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

    sizes = [len(body(call)["keys"]) for call in mocked.calls]
    assert sizes == [50, 50, 21]
    assert body(mocked.calls[0])["keys"][0] == {"articleCode": "OC0", "tradeMarkName": "KNECHT"}
    assert set(found) == set(keys)
    assert [a.id for a in found[("OC7", "KNECHT")]] == [1007]
    assert found[("OC999", "KNECHT")] == []


def test_search_articles_matches_code_and_brand_loosely(client, mocked):
    mocked.add(responses.POST, f"{API}/articles/search", json=[
        {"article": dict(ARTICLE, id=1, code="OC 100", tradeMarkName="Knecht")},
        {"article": dict(ARTICLE, id=2, code="W712/75", tradeMarkName="MANN-FILTER")},
        {"article": dict(ARTICLE, id=3, code="W712/75", tradeMarkName="OTHER")}])  # fmt: skip
    keys = [("oc-100", "KNECHT"), ("W 712/75", "mann filter"), ("W71275", "")]

    found = client.search_articles(keys, include="trademark")

    assert body(mocked.calls[0])["include"] == "trademark"
    assert body(mocked.calls[0])["keys"][2] == {"articleCode": "W71275"}  # no brand: any brand
    assert [a.id for a in found[keys[0]]] == [1]
    assert [a.id for a in found[keys[1]]] == [2]
    assert [a.id for a in found[keys[2]]] == [2, 3]


def test_search_articles_one_key_takes_all_answers(client, mocked):
    mocked.add(responses.POST, f"{API}/articles/search",
               json=[{"article": dict(ARTICLE, code="OC100-X")}])  # fmt: skip
    found = client.search_articles([("OC100", "KNECHT")])
    assert [a.code for a in found[("OC100", "KNECHT")]] == ["OC100-X"]


def test_get_articles_by_ids(client, mocked):
    mocked.add(responses.POST, f"{API}/articles/search", json=[
        {"article": dict(ARTICLE, id=5)}, {"article": dict(ARTICLE, id=6)}])  # fmt: skip
    found = client.get_articles([5, "6", 7])
    assert body(mocked.calls[0]) == {"ids": [5, 6, 7]}
    assert sorted(found) == [5, 6]


# -- prices ------------------------------------------------------------------------------------
def test_search_prices_single_article_parses_every_field(client, mocked):
    mocked.add(responses.POST, PRICES_URL, json=[OFFER])
    client.location_names = {"SHATE-01": "Центральный склад"}

    result = client.search_prices([1248288], agreement_code="SAGR1", delivery_address_code="Д1")

    assert body(mocked.calls[0]) == [{"articleId": 1248288, "agreementCode": "SAGR1",
                                      "deliveryAddressCode": "Д1", "includeAnalogs": False}]  # fmt: skip
    (found,) = result[1248288]
    assert found.price_id == PRICE_ID
    assert (found.article_id, found.requested_article_id, found.is_analog) == (
        1248288, 1248288, False)  # fmt: skip
    assert (found.location_code, found.location_code_real, found.location_name) == (
        "SHATE-01", "SHATE-01", "Центральный склад")  # fmt: skip
    assert (found.agreement_code, found.offer_type) == ("SAGR1", "Internal")
    assert (found.price, found.price_with_margin, found.price_recommended) == (8.5, 8.5, None)
    assert (found.currency_code, found.price_max, found.import_allowance) == ("USD", 12.32, 15.0)
    assert (found.quantity, found.quantity_type, found.multiplicity) == (5.0, "Equal", 1.0)
    assert (found.min_quantity, found.max_quantity) == (1.0, None)
    assert found.supply_probability == 99.0
    assert found.supply_probability_updated_at == datetime(2022, 12, 19, 9, 22, 8, 260000)
    assert (found.city, found.is_sale, found.comment) == ("Минск", True, "Царапины справа")
    assert found.return_allowed is True
    assert found.warning_text.startswith("Возврат запрещен")
    assert (found.priority, found.hash) == (1, "123456789")
    assert found.delivery_dates == {"Д1": datetime(2025, 3, 3, 9, 22, 8, 260000)}
    assert found.delivery_date == datetime(2025, 3, 3, 9, 22, 8, 260000)
    assert found.shipping_date == datetime(2025, 3, 2, 9, 22, 8, 260000)
    assert found.delivery_days == 2  # 1 day 21 h from NOW, rounded up
    assert (found.is_import, found.is_free) == (True, True)


def test_search_prices_several_articles_per_request(fake, mocked):
    client = make_client(fake, session_state=saved_session(fake), price_batch_size=2,
                         agreement_code="SAGR1", delivery_address_code="Д1")  # fmt: skip

    def answer(request):
        asked = [key["articleId"] for key in json.loads(request.body)]
        rows = [offer(a, price_id=f"P{a}-{n}") for a in asked if a != 3 for n in range(2)]
        return 200, {}, json.dumps(rows)

    mocked.add_callback(responses.POST, PRICES_URL, callback=answer)

    result = client.search_prices([1, "2", 3])

    assert [[key["articleId"] for key in body(call)] for call in mocked.calls] == [[1, 2], [3]]
    assert body(mocked.calls[0])[0]["agreementCode"] == "SAGR1"  # the client's defaults
    assert body(mocked.calls[0])[0]["deliveryAddressCode"] == "Д1"
    assert [o.price_id for o in result[1]] == ["P1-0", "P1-1"]
    assert [o.price_id for o in result["2"]] == ["P2-0", "P2-1"]  # keyed as the caller gave it
    assert result[3] == []
    assert not any(o.is_analog for offers in result.values() for o in offers)


def test_search_prices_accepts_grouped_answers(client, mocked):
    mocked.add(responses.POST, PRICES_URL, json=[{"article": ARTICLE, "prices": [OFFER, OFFER]}])
    assert len(client.search_prices([1248288])[1248288]) == 2


def test_search_prices_with_analogs_one_article_per_request(client, mocked):
    mocked.add(responses.POST, PRICES_URL, json=[offer(), offer(article_id=77, price_id="A")])

    result = client.search_prices([1248288, 1248289], include_analogs=True)

    assert [len(body(call)) for call in mocked.calls] == [1, 1]
    assert body(mocked.calls[0])[0]["includeAnalogs"] is True
    offers = result[1248288]
    assert [(o.price_id, o.is_analog, o.requested_article_id) for o in offers] == [
        (PRICE_ID, False, 1248288), ("A", True, 1248288)]  # fmt: skip


def test_search_prices_object_shape(fake, mocked):
    client = make_client(fake, session_state=saved_session(fake), price_request_shape="object")
    mocked.add(responses.POST, PRICES_URL, json=[OFFER])
    client.search_prices([1248288, 5])
    assert [body(call) for call in mocked.calls] == [
        {"articleId": 1248288, "includeAnalogs": False}, {"articleId": 5, "includeAnalogs": False}]  # fmt: skip


def test_price_budget_exhausted_raises_without_a_request(fake, mocked):
    budget = RateBudget([(3, 900), (100, 86400)], clock=fake.epoch)
    client = make_client(fake, session_state=saved_session(fake), price_budget=budget,
                         price_batch_size=2)  # fmt: skip
    mocked.add(responses.POST, PRICES_URL, json=[])

    client.search_prices([1, 2])  # one request, two articles: two units
    assert budget.used(900) == 2
    with pytest.raises(RateLimited) as refused:
        client.search_prices([3, 4])
    assert len(mocked.calls) == 1
    assert 0 < refused.value.retry_after <= 900 + 60

    # The state survives the run (Odoo stores it) and still refuses in the next one.
    saved = json.loads(json.dumps(budget.to_dict()))
    restored = RateBudget([(3, 900), (100, 86400)], clock=fake.epoch, state=saved)
    next_run = make_client(fake, session_state=saved_session(fake), price_budget=restored,
                           price_batch_size=2)  # fmt: skip
    with pytest.raises(RateLimited):
        next_run.search_prices([3, 4])
    assert len(mocked.calls) == 1
    next_run.search_prices([3])
    assert len(mocked.calls) == 2
    assert restored.remaining(900) == 0


def test_price_budget_per_request_unit(fake, mocked):
    budget = RateBudget([(10, 900)], clock=fake.epoch)
    client = make_client(fake, session_state=saved_session(fake), price_budget=budget,
                         price_budget_unit="request")  # fmt: skip
    mocked.add(responses.POST, PRICES_URL, json=[])
    client.search_prices([1, 2, 3])
    assert budget.used(900) == 1


def test_price_429_lasts_until_the_services_midnight(fake, mocked):
    budget = RateBudget(clock=fake.epoch)
    client = make_client(fake, session_state=saved_session(fake), price_budget=budget)
    mocked.add(responses.POST, PRICES_URL, status=429)

    with pytest.raises(RateLimited) as limited:
        client.search_prices([1])

    assert limited.value.retry_after == 9 * 3600  # 15:00 in Moscow → midnight
    assert fake.sleeps == []
    assert len(mocked.calls) == 1
    with pytest.raises(RateLimited):  # the next run does not even try
        client.search_prices([1])
    assert len(mocked.calls) == 1


def test_429_with_long_retry_after_raises_at_once(client, fake, mocked):
    mocked.add(responses.GET, f"{API}/locations", status=429, headers={"Retry-After": "900"})
    with pytest.raises(RateLimited) as limited:
        client.get_locations()
    assert limited.value.retry_after == 900
    assert fake.sleeps == []
    assert len(mocked.calls) == 1


def test_429_with_short_retry_after_is_waited_for(client, fake, mocked):
    mocked.add(responses.POST, PRICES_URL, status=429, headers={"Retry-After": "7"})
    mocked.add(responses.POST, PRICES_URL, json=[OFFER])
    assert len(client.search_prices([1248288])[1248288]) == 1
    assert fake.sleeps == [7.0]


# -- orders ------------------------------------------------------------------------------------
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


def test_order_by_price_items_body_and_answer(client, mocked):
    created = copy.deepcopy(ORDER)
    created["orderItems"][0]["warnings"] = [PRICE_WARNING]
    mocked.add(responses.POST, ORDER_URL, json=created)

    result = place(client, delivery_date=datetime(2020, 12, 2, 22), fio="Иванов Иван Иванович",
                   phone="+375 29 123 45 67", comment="Позвонить", note="Для Васи",
                   expected_arrival=date(2020, 12, 3))  # fmt: skip

    assert body(mocked.calls[0]) == {
        "agreementCode": "SAGR1",
        "agreeWithTermsOfDelivery": True,
        "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
        "comment": "Позвонить",
        "note": "Для Васи",
        "fio": "Иванов Иван Иванович",
        "phone": "+375 29 123 45 67",
        "deliveryInfo": {"deliveryType": "ManyDelivery", "deliveryAddressCode": "Д1",
                         "deliveryDateTime": "2020-12-02T22:00:00"},
        "expectedDateTimeOfArrivalAllItems": "2020-12-03",
        "priceItems": [{"priceId": PRICE_ID, "quantity": 2, "comment": "Skoda Octavia"},
                       {"priceId": "P2", "quantity": 1}],
    }  # fmt: skip
    assert result.created is True and result.status == 200
    (order,) = result.orders
    assert (order.id, order.agreement_code, order.currency_code, order.total_sum) == (
        1, "SAGR1", "USD", 8.5)  # fmt: skip
    assert (order.delivery_address_code, order.comment, order.note) == ("Д1", "Comment", "Note")
    assert order.created_at == datetime(2022, 12, 19, 9, 5, 2, 945000)
    (item,) = result.items
    assert (item.id, item.order_id, item.article.code, item.article.trade_mark_name) == (
        1, 1, "OC100", "KNECHT")  # fmt: skip
    assert (item.quantity, item.quantity_to_ship, item.quantity_shipped) == (1.0, 0.0, 0.0)
    assert (item.price, item.total_sum, item.status_code, item.can_return) == (8.5, 8.5, 0, True)
    assert result.warnings == [PRICE_WARNING.strip()] == item.warnings
    assert price_change(result.warnings[0]) == (3.72, 3.44)
    assert result.errors == [] and result.price_item_errors == []


def test_order_refusal_keeps_every_error(client, mocked):
    mocked.add(responses.POST, ORDER_URL, status=400, json=ORDER_REFUSAL)

    result = place(client)

    assert result.created is False and result.status == 400
    assert result.errors == ["Товар не оформлен в заказ. По договору 100% предоплата."]
    assert result.error_descriptions == {"additionalProp1": "Ошибка валидации строк заказа"}
    (line,) = result.price_item_errors
    assert (line.price_id, line.hash, line.errors) == (PRICE_ID, "0", ["Unknown"])
    current = line.current
    assert (current.price, current.price_with_margin, current.available) == (8.5, 8.5, 5.0)
    assert (current.available_type, current.multiplicity, current.min_quantity) == (
        "Equal", 1.0, 1.0)  # fmt: skip
    assert current.max_quantity is None
    assert current.delivery_date == current.shipping_date == datetime(2022, 12, 19, 9, 13, 32, 262000)
    assert len(mocked.calls) == 1


def test_order_refusal_in_the_generic_error_shape(client, mocked):
    mocked.add(responses.POST, ORDER_URL, status=400, json=CART_ERROR)
    result = place(client)
    assert result.created is False
    assert result.error_code == "DefaultAgreementNotFound"
    assert result.errors == CART_ERROR["messages"]


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectionError("connection reset")},
        {"status": 502},
        {"status": 200, "body": "{not json"},
        {"status": 200, "body": ""},
    ],
)
def test_order_is_never_resent_when_the_answer_is_lost(client, fake, mocked, answer):
    mocked.add(responses.POST, ORDER_URL, **answer)

    with pytest.raises(OutcomeUnknown) as unknown:
        place(client)

    assert len(calls_to(mocked, ORDER_URL)) == 1
    assert fake.sleeps == []
    assert unknown.value.code == "outcome_unknown" and unknown.value.retryable is False
    assert "look it up" in str(unknown.value)


def test_order_after_401_is_sent_again_once(client, mocked):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.POST, ORDER_URL, status=401)
    mocked.add(responses.POST, ORDER_URL, json=ORDER)
    assert place(client).created is True
    assert len(calls_to(mocked, ORDER_URL)) == 2


def test_order_without_consents_sends_nothing(client, mocked):
    with pytest.raises(RequestRejected):
        place(client, agree_with_personal_data_policy=False)
    with pytest.raises(ValueError):
        place(client, lines=[("P1", 0)])
    assert len(mocked.calls) == 0


def test_pickup_order_has_no_delivery_info(client, mocked):
    mocked.add(responses.POST, ORDER_URL, json=ORDER)
    place(client, delivery_address_code=None)
    assert "deliveryInfo" not in body(mocked.calls[0])


def test_order_by_cart_items(client, mocked):
    mocked.add(responses.POST, f"{API}/orders/byCartItems", json=[ORDER])
    result = client.order_by_cart_items(
        agreement_code="SAGR1", cart_item_ids=[87865469, "2"], delivery_type="OneDelivery",
        delivery_address_code="Д1", agree_with_terms_of_delivery=True,
        agree_with_personal_data_policy=True,
    )  # fmt: skip
    sent = body(mocked.calls[0])
    assert sent["cartItems"] == [{"id": 87865469}, {"id": 2}]
    assert sent["deliveryInfo"]["deliveryType"] == "OneDelivery"
    assert [order.id for order in result.orders] == [1]


def test_get_orders_filters_and_parsing(client, mocked):
    mocked.add(responses.GET, f"{API}/orders", json=[ORDER])

    (order,) = client.get_orders(page=2, page_size=10, start=date(2020, 12, 1),
                                 end=datetime(2020, 12, 3, 10, 30), order_ids=[20826500, 2],
                                 trade_mark_name="KNECHT", article_code="OC105",
                                 status_codes=140)  # fmt: skip

    assert query(mocked.calls[0]) == {
        "page": ["2"], "pageSize": ["10"], "startDateTime": ["2020-12-01"],
        "endDateTime": ["2020-12-03T10:30:00"], "ids": ["20826500", "2"],
        "tradeMarkName": ["KNECHT"], "articleCode": ["OC105"], "statusCode": ["140"],
    }  # fmt: skip
    (item,) = order.items
    assert (order.id, item.id, item.status_code, item.can_return) == (1, 1, 0, True)
    assert item.delivery_date == datetime(2022, 12, 19, 9, 5, 2, 945000)


def test_iter_orders_pages_until_a_short_page(client, mocked):
    pages = {1: [dict(ORDER, id=n) for n in (1, 2)], 2: [dict(ORDER, id=n) for n in (3, 4)],
             3: [dict(ORDER, id=5)]}  # fmt: skip

    def answer(request):
        page = int(parse_qs(urlsplit(request.url).query)["page"][0])
        return 200, {}, json.dumps(pages.get(page, []))

    mocked.add_callback(responses.GET, f"{API}/orders", callback=answer)
    assert [o.id for o in client.iter_orders(page_size=2, status_codes=[30])] == [1, 2, 3, 4, 5]
    assert len(mocked.calls) == 3


# -- cart --------------------------------------------------------------------------------------
def test_cart_endpoints(client, mocked):
    mocked.add(responses.GET, f"{API}/cartitems", json=[CART_ITEM])
    mocked.add(responses.GET, f"{API}/cartitems/1", json=CART_ITEM)
    mocked.add(responses.POST, f"{API}/cartitems", json=CART_ITEM)
    mocked.add(responses.PATCH, f"{API}/cartitems/1", json=dict(CART_ITEM, quantity=3))
    mocked.add(responses.DELETE, f"{API}/cartitems/1", status=200)
    mocked.add(responses.DELETE, f"{API}/cartitems", status=204)

    (line,) = client.get_cart_items(agreement_code="SAGR1", delivery_address_code="Д1")
    single = client.get_cart_item(1)
    added = client.add_cart_item(PRICE_ID, 1, comment="Для Пети")
    patched = client.patch_cart_item(1, quantity=3)
    client.delete_cart_item(1)
    client.delete_all_cart_items()

    assert line == single == added
    assert query(mocked.calls[0]) == {"agreementCode": ["SAGR1"], "deliveryAddressCode": ["Д1"]}
    assert body(calls_to(mocked, f"{API}/cartitems", "POST")[0]) == {
        "quantity": 1, "priceId": PRICE_ID, "comment": "Для Пети"}  # fmt: skip
    assert body(calls_to(mocked, f"{API}/cartitems/1", "PATCH")[0]) == {"quantity": 3}
    assert patched.quantity == 3.0
    assert len(calls_to(mocked, f"{API}/cartitems", "DELETE")) == 1
    assert len(calls_to(mocked, f"{API}/cartitems/1", "DELETE")) == 1
    assert (line.id, line.location_code, line.location_code_real, line.agreement_code) == (
        1, "SHATE-01", "SHATE-01", "SAGR1")  # fmt: skip
    assert (line.article.id, line.price, line.price_with_margin, line.price_type) == (
        1248288, 8.5, 8.5, "Internal")  # fmt: skip
    assert (line.price_max, line.import_allowance, line.currency_code) == (12.32, 15.0, "USD")
    assert (line.quantity, line.available, line.available_type, line.multiplicity) == (
        1.0, 5.0, "Equal", 1.0)  # fmt: skip
    assert (line.min_quantity, line.max_quantity) == (1.0, 100.0)
    assert (line.city, line.is_sale, line.info_comment, line.return_allowed) == (
        "Минск", True, "Царапины справа", True)  # fmt: skip
    assert (line.warning_text, line.comment, line.hash) == ("Возврат запрещен.", "Comment",
                                                             "123456789")  # fmt: skip
    assert line.created_at == datetime(2022, 12, 19, 8, 39, 15, 525000)
    assert line.delivery_date == line.shipping_date == line.created_at
    assert (line.is_import, line.is_free) == (True, True)


def test_add_to_cart_is_not_retried(client, mocked):
    mocked.add(responses.POST, f"{API}/cartitems", body=requests.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknown):
        client.add_cart_item(PRICE_ID, 1)
    assert len(mocked.calls) == 1


def test_patch_cart_item_needs_a_change(client):
    with pytest.raises(ValueError):
        client.patch_cart_item(1)


# -- contents ----------------------------------------------------------------------------------
def test_search_content_and_bytes(client, mocked):
    picture = b"RIFF....WEBPVP8 "
    uri = "data:image/webp;base64," + base64.b64encode(picture).decode()
    mocked.add(responses.POST, f"{API}/contents/search", json=[{"id": "C1", "value": uri}])

    found = client.search_content(["C1"], height=1000, width=100)

    assert body(mocked.calls[0]) == {"contentId": "C1", "heightSize": 1000, "widthSize": 100}
    assert found["C1"].mime_type == "image/webp"
    assert client.content_bytes(found["C1"]) == picture


def test_content_links_only_from_shate_hosts(client, mocked):
    from api.shate_data import ShateContent

    mocked.add(responses.GET, "https://img.shate-m.ru/c1.webp", body=b"img")
    assert client.content_bytes(ShateContent("C1", "https://img.shate-m.ru/c1.webp")) == b"img"
    with pytest.raises(UnsafeUrl):
        client.content_bytes(ShateContent("C2", "https://evil.example/c2.webp"))


# -- secrets -----------------------------------------------------------------------------------
def test_secrets_never_in_errors_or_logs(fake, mocked, caplog):
    caplog.set_level(logging.DEBUG)
    errors = []
    client = make_client(fake, max_retries=0, login=LOGIN_NAME, password=PASSWORD)

    # a login, a service message quoting the token and key, a timeout whose requests text
    # holds the key, an order refusal quoting the key, and finally rejected logins
    add_login(mocked, TOKEN)
    mocked.add(responses.GET, f"{API}/locations", status=400,
               json={"code": "Bad", "messages": [f"token {TOKEN} key {API_KEY} pwd {PASSWORD}"]})  # fmt: skip
    mocked.add(responses.GET, f"{API}/customer/agreements",
               body=requests.ReadTimeout(f"{API}/x?apikey={API_KEY}&access_token={TOKEN}"))  # fmt: skip
    mocked.add(responses.POST, ORDER_URL, status=400, json={"errors": [f"bad key {API_KEY}"]})
    for call in (client.get_locations, client.get_agreements):
        with pytest.raises(ApiError) as caught:
            call()
        errors.append(caught.value)
    refusal = place(client)
    mocked.replace(responses.POST, KEY_LOGIN_URL, status=401,
                   json={"error": "invalid_client", "error_description": f"key {API_KEY}"})  # fmt: skip
    fake.advance(7200)
    for _ in range(2):
        with pytest.raises(AuthError) as caught:
            client.login()
        errors.append(caught.value)

    assert [e.code for e in errors] == ["rejected", "unavailable", "auth", "login_blocked"]
    assert "key ***" in errors[0].detail and "token ***" in errors[0].detail
    assert refusal.errors == ["bad key ***"]
    assert "/api/v1/auth/loginByapiKey -> 200" in caplog.text  # the log is there
    texts = [caplog.text, *refusal.errors] + [f"{e} {e!r} {e.message} {e.detail}" for e in errors]
    for text in texts:
        for secret in (API_KEY, PASSWORD, TOKEN):
            assert secret not in text
    for error in errors:
        assert error.__context__ is None
