"""EtmClient: session handling, login throttling, batching, parsing, jobs, downloads, secrets."""

import json
import logging
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from http_helpers import NOW

from api.base import SessionState
from api.errors import (
    ApiError,
    AuthError,
    BadResponse,
    LoginBlocked,
    NotFound,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
    UnsafeUrl,
)
from api.etm import ETM_DEFAULT_URL, EtmClient, etm_code_problem

BASE = ETM_DEFAULT_URL
LOGIN_URL = f"{BASE}/user/login"
PRICE_URL = re.compile(re.escape(BASE) + r"/goods/[^/?]+/price")
LOGIN_NAME = "690000889TA"
PASSWORD = "Sekret-Pa55"
TOKEN = "110377745112238593650805959783"
NEW_TOKEN = "220488856223349604761916060894"
HIDDEN = "\u0425\u0425\u0425"  # Cyrillic "XXX": ETM's hidden price


def make_client(fake, **options):
    values = {
        "login": LOGIN_NAME,
        "password": PASSWORD,
        "now": fake.now,
        "clock": fake.clock,
        "sleep": fake.sleep,
        "rate_limit": 0,
        "backoff": 0.5,
    }
    values.update(options)
    return EtmClient(**values)


def saved_session(fake, token=TOKEN):
    """A session saved by an earlier run: still valid, logged in an hour ago."""
    return SessionState(
        token=token,
        expires_at=fake.now() + timedelta(hours=1),
        logged_in_at=fake.now() - timedelta(hours=1),
    )


def ok(data):
    return {"status": {"code": 200, "message": ""}, "data": data}


def failed(code, message=""):
    return {"status": {"code": code, "message": message}, "data": {}}


def add_login(mocked, token=TOKEN):
    return mocked.add(responses.POST, LOGIN_URL, json=ok({"session": token, "basket_lines": 0}))


def query(call):
    return {key: values[0] for key, values in parse_qs(urlsplit(call.request.url).query).items()}


def price_calls(mocked):
    return [call for call in mocked.calls if "/price" in call.request.url]


def login_calls(mocked):
    return [call for call in mocked.calls if "/user/login" in call.request.url]


def price_row(code, price=100.0):
    return {"gdscode": int(code), "price": price, "pricewnds": price * 1.2, "price_tarif": "1288.16",
            "price_retail": HIDDEN}  # fmt: skip


# -- login and session ---------------------------------------------------------------------------
def test_login_sends_credentials_as_query_params(fake, mocked):
    add_login(mocked)
    client = make_client(fake)

    assert client.login() == TOKEN

    request = mocked.calls[0].request
    assert request.method == "POST"
    assert query(mocked.calls[0]) == {"log": LOGIN_NAME, "pwd": PASSWORD}
    assert client.session_state.token == TOKEN
    assert client.session_state.expires_at == NOW + timedelta(hours=2)
    assert client.stats["login"] == 1


def test_session_reused_for_many_calls(fake, mocked):
    add_login(mocked)
    mocked.add(responses.GET, PRICE_URL, json=ok(price_row("9536092")))
    client = make_client(fake)

    for _ in range(3):
        client.get_prices(["9536092"])

    assert len(login_calls(mocked)) == 1
    assert len(price_calls(mocked)) == 3
    for call in price_calls(mocked):
        assert query(call) == {"type": "etm", "session-id": TOKEN}


def test_saved_session_reused_across_runs(fake, mocked):
    mocked.add(responses.GET, PRICE_URL, json=ok(price_row("9536092")))
    client = make_client(fake, session_state=saved_session(fake))

    client.get_prices(["9536092"])

    assert login_calls(mocked) == []
    assert query(mocked.calls[0])["session-id"] == TOKEN


@pytest.mark.parametrize("expires_in", [-60, 30])  # expired, or inside the 60 s margin
def test_expired_session_logs_in_again(fake, mocked, expires_in):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.GET, PRICE_URL, json=ok(price_row("9536092")))
    state = SessionState(TOKEN, NOW + timedelta(seconds=expires_in), None, NOW - timedelta(hours=2))
    client = make_client(fake, session_state=state)

    client.get_prices(["9536092"])

    assert len(login_calls(mocked)) == 1
    assert query(price_calls(mocked)[0])["session-id"] == NEW_TOKEN
    assert client.session_state.token == NEW_TOKEN


@pytest.mark.parametrize(
    "refusal",
    [
        {"status": 403, "json": failed(403, "session expired")},
        {"json": failed(403, "bad session")},
        {"status": 403, "body": "<html>Forbidden</html>"},
        {"status": 403, "json": failed(400, "odd body")},  # the HTTP 403 decides
    ],
    ids=["http-403", "body-403", "http-403-html", "http-403-other-body"],
)
def test_session_refused_relogs_in_once_then_succeeds(fake, mocked, refusal):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.GET, PRICE_URL, **refusal)
    mocked.add(responses.GET, PRICE_URL, json=ok(price_row("9536092", 679.51)))
    client = make_client(fake, session_state=saved_session(fake))

    prices = client.get_prices(["9536092"])

    assert prices["9536092"].price == 679.51
    assert len(login_calls(mocked)) == 1
    assert [query(call)["session-id"] for call in price_calls(mocked)] == [TOKEN, NEW_TOKEN]
    assert client.session_state.token == NEW_TOKEN


def test_two_refusals_in_a_row_raise_session_expired(fake, mocked):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.GET, PRICE_URL, status=403)
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(SessionExpired) as caught:
        client.get_prices(["9536092"])

    assert caught.value.code == "session"
    assert len(login_calls(mocked)) == 1
    assert len(price_calls(mocked)) == 2
    assert client.session_state.token is None  # the next run starts with a fresh login


def test_refusals_never_loop_even_without_login_interval(fake, mocked):
    add_login(mocked)
    mocked.add(responses.GET, PRICE_URL, json=failed(403))
    client = make_client(fake, min_login_interval=0)

    with pytest.raises(SessionExpired):
        client.get_prices(["9536092"])

    assert len(login_calls(mocked)) == 2
    assert len(price_calls(mocked)) == 2


def test_one_forced_relogin_per_min_login_interval(fake, mocked):
    """A session that dies gets one re-login; refused again, no new login for 2 minutes."""
    add_login(mocked)
    mocked.add(responses.GET, PRICE_URL, status=403)
    client = make_client(fake)  # no saved session: the first call logs in

    with pytest.raises(SessionExpired):
        client.get_prices(["9536092"])
    assert len(login_calls(mocked)) == 2  # the first login, then one forced re-login
    assert len(price_calls(mocked)) == 2

    fake.advance(119)
    with pytest.raises(SessionExpired):
        client.get_prices(["9536092"])
    # The plain login (no valid token) is allowed; the forced one within 2 minutes is not.
    assert len(login_calls(mocked)) == 3
    assert len(price_calls(mocked)) == 3

    fake.advance(121)
    with pytest.raises(SessionExpired):
        client.get_prices(["9536092"])
    assert len(login_calls(mocked)) == 5
    assert len(price_calls(mocked)) == 5


def test_session_dying_shortly_after_login_gets_one_relogin(fake, mocked):
    """E.g. another client logged in with the same account: one re-login cures it."""
    add_login(mocked)
    mocked.add(responses.GET, PRICE_URL, status=403)
    mocked.add(responses.GET, PRICE_URL, json=ok({"gdscode": 9536092, "price": 679.51}))
    client = make_client(fake)

    assert "9536092" in client.get_prices(["9536092"])
    assert len(login_calls(mocked)) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"json": failed(400, "Неверный логин или пароль")},
        {"json": failed(403, "Неверный логин или пароль")},
        {"status": 401, "json": failed(401, "Неверный логин или пароль")},
        {"json": ok({"session": ""})},
    ],
    ids=["body-400", "body-403", "http-401", "no-session"],
)
def test_rejected_login_blocks_further_logins(fake, mocked, answer):
    mocked.add(responses.POST, LOGIN_URL, **answer)
    client = make_client(fake)

    with pytest.raises(AuthError) as caught:
        client.get_prices(["9536092"])
    assert type(caught.value) is AuthError
    assert caught.value.code == "auth"
    if "status" in answer["json"] and answer["json"]["status"]["code"] != 200:
        assert caught.value.detail == "Неверный логин или пароль"
    assert client.session_state.login_blocked_until == NOW + timedelta(hours=1)
    sent = len(mocked.calls)

    fake.advance(600)
    with pytest.raises(LoginBlocked) as caught:
        client.get_prices(["9536092"])
    assert len(mocked.calls) == sent  # nothing was sent
    assert caught.value.code == "login_blocked"
    assert caught.value.blocked_until == NOW + timedelta(hours=1)
    assert isinstance(caught.value, AuthError)

    fake.advance(3000)  # the block is over: logging in is allowed again
    with pytest.raises(AuthError):
        client.login()
    assert len(mocked.calls) == sent + 1


def test_saved_block_is_honoured_by_a_new_client(fake, mocked):
    state = SessionState(login_blocked_until=NOW + timedelta(minutes=5))
    client = make_client(fake, session_state=state)

    with pytest.raises(LoginBlocked):
        client.ensure_session()
    assert len(mocked.calls) == 0


def test_missing_credentials_send_nothing(fake, mocked):
    client = make_client(fake, password="")

    with pytest.raises(AuthError):
        client.ensure_session()
    assert len(mocked.calls) == 0
    assert client.session_state.login_blocked_until is None


def test_old_tokens_stay_redacted_after_a_new_login(fake, mocked):
    add_login(mocked, NEW_TOKEN)
    mocked.add(responses.GET, PRICE_URL, json=failed(403))
    mocked.add(responses.GET, PRICE_URL, json=failed(400, f"old session {TOKEN} refused"))
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(RequestRejected) as caught:
        client.get_prices(["1"])
    assert caught.value.detail == "old session *** refused"


def test_login_service_failure_does_not_block(fake, mocked):
    mocked.add(responses.POST, LOGIN_URL, status=502)
    client = make_client(fake, max_retries=1)

    with pytest.raises(ServiceUnavailable):
        client.login()

    assert len(login_calls(mocked)) == 2
    assert client.session_state.login_blocked_until is None


# -- prices ------------------------------------------------------------------------------------
def _rows_for_requested_codes(request):
    codes = urlsplit(request.url).path.split("/")[-2].split("%2C")
    return 200, {}, json.dumps(ok({"rows": [price_row(code) for code in codes]}))


def test_price_batching_in_chunks_of_50(fake, mocked):
    add_login(mocked)
    mocked.add_callback(responses.GET, PRICE_URL, callback=_rows_for_requested_codes)
    client = make_client(fake)
    codes = [f"ETM{1000000 + n}" for n in range(120)]

    prices = client.get_prices(codes)

    calls = price_calls(mocked)
    assert len(calls) == 3
    sizes = [len(urlsplit(c.request.url).path.split("/")[-2].split("%2C")) for c in calls]
    assert sizes == [50, 50, 20]
    for call in calls:
        assert "%2C" in call.request.url
        assert "%252C" not in call.request.url
        assert "," not in call.request.url
        assert "ETM" not in urlsplit(call.request.url).path
    assert set(prices) == set(codes)
    assert prices["ETM1000007"].code == "ETM1000007"
    assert prices["ETM1000007"].price == 100.0
    assert client.stats["price"] == 3


def test_price_batch_size_is_clamped_to_50(fake):
    assert make_client(fake, price_batch_size=500).price_batch_size == 50
    assert make_client(fake, price_batch_size=10).price_batch_size == 10


def test_codes_are_percent_quoted_in_the_path(fake, mocked):
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": []}))
    client = make_client(fake, code_type="mnf", session_state=saved_session(fake))

    client.get_prices(["LO/69 08", "X%Y"])

    path = urlsplit(price_calls(mocked)[0].request.url).path
    assert path.endswith("/goods/LO%2F69%2008%2CX%25Y/price")
    assert query(mocked.calls[0])["type"] == "mnf"


def test_normalize_code_strips_etm_prefix(fake):
    client = make_client(fake)
    assert client.normalize_code("ETM9536092") == "9536092"
    assert client.normalize_code(" etm 9536092 ") == "9536092"
    assert client.normalize_code(9536092) == "9536092"
    assert make_client(fake, code_type="cli").normalize_code(" ETM9536092 ") == "ETM9536092"


DOC_PRICE = {"gdscode": 9536092, "price": 679.51, "pricewnds": 815.41, "price_tarif": 1288.16,
             "price_retail": 1288}  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [DOC_PRICE, [DOC_PRICE], {"rows": [DOC_PRICE]}],
    ids=["object", "list", "rows"],
)
def test_price_answer_shapes(fake, mocked, data):
    mocked.add(responses.GET, PRICE_URL, json=ok(data))
    client = make_client(fake, session_state=saved_session(fake))

    prices = client.get_prices(["ETM9536092"])

    price = prices["ETM9536092"]
    assert (price.price, price.price_with_vat, price.price_tariff, price.price_retail) == (
        679.51,
        815.41,
        1288.16,
        1288.0,
    )


def test_price_values_as_strings_and_hidden(fake, mocked):
    row = {"gdscode": "9536092", "price": "679.51", "pricewnds": "", "price_tarif": HIDDEN}
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": [row]}))
    client = make_client(fake, session_state=saved_session(fake))

    price = client.get_prices(["9536092"])["9536092"]

    assert price.price == 679.51
    assert price.price_with_vat is None
    assert price.price_tariff is None
    assert price.price_retail is None


def test_missing_codes_are_absent(fake, mocked):
    rows = [price_row("1000001"), price_row("1000003"), price_row("5555555")]
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": rows}))
    client = make_client(fake, session_state=saved_session(fake))

    prices = client.get_prices(["ETM1000001", "1000002", "1000003"])

    assert sorted(prices) == ["1000003", "ETM1000001"]


# -- codes that cannot be sent, rows that belong to another code ----------------------------------
@pytest.mark.parametrize(
    ("code", "code_type", "problem"),
    [
        ("9536092", "etm", None),
        ("ETM9536092", "etm", None),
        (" etm 9536092 ", "etm", None),
        (9536092, "etm", None),
        ("EL-00001", "cli", None),
        ("LO/69 08", "mnf", None),
        ("X%Y", "mnf", None),
        ("Лоток 200*50", "mnf", None),
        ("x" * 100, "cli", None),
        ("", "cli", "empty"),
        ("   ", "mnf", "empty"),
        (None, "cli", "empty"),
        ("ETM", "etm", "empty"),
        ("95,36092", "etm", "comma"),
        ("EL-1,EL-2", "cli", "comma"),
        ("A%2cB", "mnf", "%2C"),
        ("LO\x006908", "mnf", "control"),
        ("LO\u200b6908", "mnf", "invisible"),
        ("A\tB", "cli", "control"),
        ("x" * 101, "cli", "longer than 100"),
        ("12a4", "etm", "digits only"),
        ("\u0661\u0662\u0663", "etm", "digits only"),  # Arabic-Indic digits are not ETM's
        ("1" * 21, "etm", "at most 20 digits"),
    ],
)
def test_etm_code_problem(code, code_type, problem):
    reason = etm_code_problem(code, code_type)
    if problem is None:
        assert reason is None
    else:
        assert problem in reason
        assert reason[0].isupper() and reason.endswith(".")


def test_etm_code_problem_needs_a_known_code_type():
    with pytest.raises(ValueError):
        etm_code_problem("1", "gtin")


def test_codes_that_cannot_be_sent_are_never_sent(fake, mocked):
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": []}))
    client = make_client(fake, code_type="cli", session_state=saved_session(fake))

    client.get_prices(["EL-1,EL-2", "EL-3", "A%2CB", "", "B\x00"])

    (call,) = price_calls(mocked)
    assert urlsplit(call.request.url).path.endswith("/goods/EL-3/price")
    assert set(client.refused_codes) == {"EL-1,EL-2", "A%2CB", "", "B\x00"}
    assert "separator" in client.refused_codes["EL-1,EL-2"]


def test_only_refused_codes_send_nothing(fake, mocked):
    client = make_client(fake, session_state=saved_session(fake))

    assert client.get_prices(["95,36092", "ETM12a"]) == {}
    assert len(mocked.calls) == 0
    assert sorted(client.refused_codes) == ["95,36092", "ETM12a"]


@pytest.mark.parametrize("call", ["get_remains", "get_goods"])
def test_one_code_methods_refuse_codes_that_cannot_be_sent(fake, mocked, call):
    client = make_client(fake, code_type="cli", session_state=saved_session(fake))

    with pytest.raises(RequestRejected, match="separator") as caught:
        getattr(client, call)("EL-1,EL-2")
    assert "'EL-1,EL-2'" in caught.value.message
    assert len(mocked.calls) == 0


def test_a_row_for_another_code_is_ignored(fake, mocked, caplog):
    """One code asked, one row answered, but for another article: not this code's price."""
    mocked.add(responses.GET, PRICE_URL, json=ok(DOC_PRICE))  # gdscode 9536092
    client = make_client(fake, session_state=saved_session(fake))
    caplog.set_level(logging.DEBUG, logger="api.etm")

    assert client.get_prices(["ETM1000001"]) == {}
    assert "'9536092' matches no asked code" in caplog.text


def test_rows_are_matched_by_code_not_by_position(fake, mocked):
    rows = [price_row("1000003", 3.0), price_row("7777777", 7.0), price_row("1000001", 1.0)]
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": rows}))
    client = make_client(fake, session_state=saved_session(fake))

    prices = client.get_prices(["1000001", "1000002", "ETM1000003"])

    assert {code: p.price for code, p in prices.items()} == {"1000001": 1.0, "ETM1000003": 3.0}


def goods_card(etm_code, article="LO6908"):
    return ok(dict(DOC_GOODS, gdsCode=etm_code, gdsArt=article, gdsExtArt=""))


def goods_calls(mocked):
    return [call for call in mocked.calls if re.search(r"/goods/[^/?]+\?", call.request.url)]


def test_article_row_is_matched_through_the_product_card(fake, mocked):
    """Asked by article, ETM answers with its own code: the card says which code that is."""
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": [DOC_PRICE]}))  # gdscode 9536092
    mocked.add(responses.GET, f"{BASE}/goods/LO6908", json=goods_card("9536092"))
    mocked.add(responses.GET, f"{BASE}/goods/OTHER", json=goods_card("1111111", "OTHER"))
    client = make_client(fake, code_type="mnf", session_state=saved_session(fake))

    prices = client.get_prices(["OTHER", "LO6908"])

    assert list(prices) == ["LO6908"]
    assert prices["LO6908"].price == 679.51
    assert client.known_etm_codes == {"OTHER": "1111111", "LO6908": "9536092"}
    assert len(goods_calls(mocked)) == 2

    mocked.calls.reset()
    assert client.get_prices(["LO6908"])["LO6908"].price == 679.51  # learnt: no card again
    assert goods_calls(mocked) == []


def test_article_row_of_another_product_is_ignored(fake, mocked):
    mocked.add(responses.GET, PRICE_URL, json=ok(DOC_PRICE))  # gdscode 9536092
    mocked.add(responses.GET, f"{BASE}/goods/LO6908", json=goods_card("9682787"))
    client = make_client(fake, code_type="mnf", session_state=saved_session(fake))

    assert client.get_prices(["LO6908"]) == {}
    assert len(goods_calls(mocked)) == 1


def test_a_card_for_another_article_teaches_nothing(fake, mocked):
    mocked.add(responses.GET, PRICE_URL, json=ok(DOC_PRICE))
    mocked.add(responses.GET, f"{BASE}/goods/LO6908", json=goods_card("9536092", "MVA20"))
    client = make_client(fake, code_type="mnf", session_state=saved_session(fake))

    assert client.get_prices(["LO6908"]) == {}
    assert client.known_etm_codes == {}


def test_known_etm_codes_match_rows_without_cards(fake, mocked):
    rows = [price_row("1000002", 2.0), price_row("1000001", 1.0)]
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": rows}))
    client = make_client(fake, code_type="cli", session_state=saved_session(fake))

    prices = client.get_prices(["A-1", "A-2"], etm_codes={"A-1": "ETM1000001", "A-2": 1000002})

    assert {code: p.price for code, p in prices.items()} == {"A-1": 1.0, "A-2": 2.0}
    assert goods_calls(mocked) == []


def test_rows_echoing_the_asked_code_are_matched(fake, mocked):
    rows = [
        dict(price_row("1"), gdscode="el-00002", price=2.0),
        dict(price_row("1"), gdscode="EL-00001"),
    ]
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": rows}))
    client = make_client(fake, code_type="cli", session_state=saved_session(fake))

    prices = client.get_prices(["EL-00001", "EL-00002"])

    assert (prices["EL-00001"].price, prices["EL-00002"].price) == (100.0, 2.0)
    assert goods_calls(mocked) == []


def test_two_different_rows_for_one_code_keep_neither(fake, mocked):
    rows = [dict(DOC_PRICE, gdscode="LO6908"), dict(DOC_PRICE, gdscode="LO6908", price=1.0)]
    mocked.add(responses.GET, PRICE_URL, json=ok({"rows": rows}))
    client = make_client(fake, code_type="mnf", session_state=saved_session(fake))

    assert client.get_prices(["LO6908"]) == {}


def test_card_not_found_leaves_the_code_absent(fake, mocked):
    mocked.add(responses.GET, PRICE_URL, json=ok(DOC_PRICE))
    mocked.add(responses.GET, f"{BASE}/goods/EL-9", json=failed(404, "Товар не найден"))
    client = make_client(fake, code_type="cli", session_state=saved_session(fake))

    assert client.get_prices(["EL-9"]) == {}


@pytest.mark.parametrize("answer", [{"json": failed(404)}, {"status": 404, "json": failed(404)}])
def test_price_not_found_gives_empty_dict(fake, mocked, answer):
    mocked.add(responses.GET, PRICE_URL, **answer)
    client = make_client(fake, session_state=saved_session(fake))

    assert client.get_prices(["1", "2"]) == {}


@pytest.mark.parametrize("answer", [{"json": failed(400, "Ошибка")}, {"status": 400, "body": "x"}])
def test_price_bad_request_raises_rejected(fake, mocked, answer):
    mocked.add(responses.GET, PRICE_URL, **answer)
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(RequestRejected) as caught:
        client.get_prices(["1"])
    assert caught.value.code == "rejected"
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "body", [{"data": DOC_PRICE}, {"status": {"code": 500}, "data": {}}, {"nothing": 1}, [1]]
)
def test_price_answer_status_handling(fake, mocked, body):
    mocked.add(responses.GET, PRICE_URL, json=body)
    client = make_client(fake, session_state=saved_session(fake))

    if "data" in body and "status" not in body:  # no status but data: taken as 200
        assert client.get_prices(["9536092"])["9536092"].price == 679.51
    else:
        with pytest.raises(BadResponse):
            client.get_prices(["9536092"])


def test_empty_code_list_sends_nothing(fake, mocked):
    assert make_client(fake).get_prices(["", "  ", "ETM"]) == {}
    assert len(mocked.calls) == 0


@pytest.fixture
def emulator():
    from emulators.etm import EtmEmulator

    with EtmEmulator() as emu:
        yield emu


def emulator_client(emulator, code_type):
    return EtmClient(base_url=emulator.api_url, login="demo", password="demo", code_type=code_type,
                     rate_limit=0, timeout=5)  # fmt: skip


def test_a_code_with_a_comma_never_gets_another_articles_price(emulator):
    """The reported case: 'EL-00001,X' went out as 'EL-00001%2CX', the service read two codes,
    found EL-00001 and its row was taken for the code asked."""
    client = emulator_client(emulator, "cli")

    assert client.get_prices(["EL-00001,X"]) == {}
    assert emulator.requests_for("price") == []

    prices = client.get_prices(["EL-00001,X", "EL-00002"])

    assert list(prices) == ["EL-00002"]
    assert prices["EL-00002"].price == emulator.product("1037375").price
    assert "EL-00001,X" in client.refused_codes
    sent = [r.raw_path for r in emulator.requests_for("price")]
    assert len(sent) == 1 and "EL-00001" not in sent[0]


@pytest.mark.parametrize(
    ("code_type", "codes"),
    [
        ("cli", {"EL-00001": "9536092", "EL-00003": "9682787", "EL-00002": "1037375"}),
        ("mnf", {"MAD22-5-016-C-30": "9536092", "lo6908": "9682787"}),
        ("etm", {"ETM9536092": "9536092", "1037375": "1037375"}),
    ],
)
def test_prices_by_every_code_type_against_the_emulator(emulator, code_type, codes):
    client = emulator_client(emulator, code_type)

    prices = client.get_prices([*codes, "NOPE-404" if code_type != "etm" else "404404"])

    assert {code: p.price for code, p in prices.items()} == {
        code: emulator.product(etm_code).price for code, etm_code in codes.items()
    }
    assert len(emulator.requests_for("price")) == 1
    learnt = len(emulator.requests_for("goods"))
    assert learnt == (0 if code_type == "etm" else len(codes))  # cards only while rows are left
    emulator.reset()
    assert client.get_prices(list(codes)).keys() == codes.keys()
    assert emulator.requests_for("goods") == []  # learnt once


# -- remains, goods, manufacturers ----------------------------------------------------------------
DOC_REMAINS = {
    "RequestStoreName": "ЭТМ-СПб",
    "UnitName": "шт",
    "gdscode": "1037375",
    "InfoStores": [
        {"StoreCode": 11, "StoreType": "rc", "StoreName": "Центральный склад ЛЦ",
         "StoreDate": "20/07/2021", "StoreQuantRem": "77"},
        {"StoreCode": 105, "StoreType": "op", "StoreDate": "22/07/2021", "StoreDateExpress": "",
         "StoreName": "г. Петрозаводск", "StoreQuantRem": "0"},
        {"StoreCode": "7", "StoreType": "rc2sum", "StoreName": "Сумма", "StoreDate": "",
         "StoreQuantRem": "12.5"},
    ],
    "InforDeliveryTime": {"DeliveryLabelInPres": "складе производителя",
                          "DeliveryTimeInPres": "3", "DeliveryLabelAtAbs": "складе производителя"},
}  # fmt: skip


def test_remains_parsing(fake, mocked):
    url = f"{BASE}/goods/1037375/remains"
    mocked.add(responses.GET, url, json=ok(DOC_REMAINS))
    client = make_client(fake, session_state=saved_session(fake))

    remains = client.get_remains("ETM1037375")

    assert query(mocked.calls[0]) == {"type": "etm", "session-id": TOKEN}
    assert remains.code == "ETM1037375"
    assert (remains.unit, remains.request_store_name) == ("шт", "ЭТМ-СПб")
    assert (remains.delivery_label, remains.delivery_days) == ("складе производителя", 3)
    assert [(s.code, s.type, s.quantity) for s in remains.stores] == [
        ("11", "rc", 77.0),
        ("105", "op", 0.0),
        ("7", "rc2sum", 12.5),
    ]
    assert remains.stores[0].date == date(2021, 7, 20)
    assert remains.stores[0].name == "Центральный склад ЛЦ"
    assert remains.stores[2].date is None
    assert client.stats["remains"] == 1


def test_remains_without_delivery_info(fake, mocked):
    data = dict(DOC_REMAINS, InforDeliveryTime={"DeliveryTimeInPres": ""})
    mocked.add(responses.GET, f"{BASE}/goods/1037375/remains", json=ok(data))
    client = make_client(fake, session_state=saved_session(fake))

    remains = client.get_remains("1037375")
    assert (remains.delivery_label, remains.delivery_days) == ("", None)


def test_remains_not_found(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods/404404/remains", json=failed(404, "Не найден"))
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(NotFound) as caught:
        client.get_remains("404404")
    assert caught.value.detail == "Не найден"
    assert caught.value.code == "not_found"


DOC_GOODS = {
    "gdsCode": "9682787",
    "gdsNameTitle": "Лоток лестничный 3000x200x100x1.5мм быстрый монтаж (LO6908)",
    "gdsNameInMnf": "",
    "gdsInfoClass81": "20101420 - Оцинкованные лотки(метод Сендзимира)",
    "gdsNameCountry": "Россия",
    "gdsMnfName": "КМ-Профиль",
    "gdsMnfCode": "1209",
    "gdsArt": "LO6908",
    "gdsExtArt": "LLS100*200*1.5*3000",
    "gdsUnitName": "м",
    "gdsInfoPacks": "3 м",
    "gdsSertifName": "POCC RU.HA34.H01604",
    "gdsChars": [
        {"gdsCharName": "Тип изделия", "gdsCharVal": "Лоток лестничный"},
        {"gdsCharName": "Высота, мм", "gdsCharVal": "100"},
        {"gdsCharName": "Масса, кг", "gdsCharVal": "3.66"},
    ],
    "description": "",
    "gdsPrice1": HIDDEN,
    "gdsImages": [{"gdsImgSrc": "/ipro/1209/small_lls.jpg", "gdsImgRef": "/ipro/1209/lls.jpg"},
                  {"gdsImgSrc": "/ipro/1209/small_2.jpg", "gdsImgRef": ""}],
    "minPack": "1",
    "gdsTechDescInt": [{"gdsTechIntSrc": "//cdn.etm.ru/ipro/1209/lls.pdf"}],
}  # fmt: skip


def test_goods_parsing_on_the_doc_example(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods/9682787", json=ok(DOC_GOODS))
    client = make_client(fake, session_state=saved_session(fake))

    goods = client.get_goods("ETM9682787")

    assert goods.code == "ETM9682787"
    assert goods.etm_code == "9682787"
    assert goods.name.startswith("Лоток лестничный 3000x200x100")
    assert (goods.manufacturer, goods.manufacturer_code) == ("КМ-Профиль", "1209")
    assert (goods.article, goods.ext_article) == ("LO6908", "LLS100*200*1.5*3000")
    assert (goods.unit, goods.country, goods.name_in_mnf) == ("м", "Россия", "")
    assert goods.classification == "20101420 - Оцинкованные лотки(метод Сендзимира)"
    assert goods.characteristics[0] == ("Тип изделия", "Лоток лестничный")
    assert len(goods.characteristics) == 3
    assert goods.image_urls == ["/ipro/1209/lls.jpg", "/ipro/1209/small_2.jpg"]
    assert goods.certificate == "POCC RU.HA34.H01604"
    assert goods.min_pack == 1.0
    assert goods.raw["gdsInfoPacks"] == "3 м"
    assert client.stats["goods"] == 1


def test_goods_by_article_and_manufacturer(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods/LO6908", json=ok(DOC_GOODS))
    client = make_client(fake, code_type="mnf", session_state=saved_session(fake))

    assert client.get_goods("LO6908", manufacturer_code="1209").etm_code == "9682787"
    assert query(mocked.calls[0]) == {"type": "mnf", "session-id": TOKEN, "mnf": "1209"}


def test_download_image_resolves_relative_link(fake, mocked):
    mocked.add(responses.GET, "https://ipro.etm.ru/ipro/1209/lls.jpg", body=b"\x89PNG")
    client = make_client(fake, session_state=saved_session(fake))

    assert client.download_image("/ipro/1209/lls.jpg") == b"\x89PNG"
    assert "session-id" not in mocked.calls[0].request.url


def test_manufacturers(fake, mocked):
    rows = [{"id": "4263058", "value": "686", "label": "''Реле и Автоматика''"},
            {"id": 4261534, "value": 104, "label": "''Старорусаприбор''"}]  # fmt: skip
    mocked.add(responses.GET, f"{BASE}/info/search/r-manuf/",
               json=ok({"rows": rows, "records": 2}))  # fmt: skip
    client = make_client(fake, session_state=saved_session(fake))

    manufacturers = client.get_manufacturers()

    assert [(m.id, m.code, m.name) for m in manufacturers] == [
        ("4263058", "686", "''Реле и Автоматика''"),
        ("4261534", "104", "''Старорусаприбор''"),
    ]
    assert client.stats["manufacturers"] == 1


# -- SgGds catalogue job --------------------------------------------------------------------------
JOB_UUID = "6A6F622C31333635363336372C37383638383134372C6964"
JOB_URL = f"{BASE}/job/{JOB_UUID}"
FILE_URL = "https://itest.etm.ru/upload/report/cligds_202107203747679369254.json"


def job_answer(state, msg="", urls=()):
    return ok({"page": "1", "rows": [{"id": "0x46f08", "state": state, "name": "Товары клиента",
                                      "msg": msg, "urls": list(urls)}], "total": 1})  # fmt: skip


def test_create_catalogue_job(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/job/create/40029846",
               json=ok({"message": "отчет запущен в фоновом режиме", "uuid": JOB_UUID}))  # fmt: skip
    client = make_client(fake, session_state=saved_session(fake))

    assert client.create_catalogue_job() == JOB_UUID
    assert query(mocked.calls[0]) == {"session-id": TOKEN}
    assert client.stats["job"] == 1


def test_wait_for_job_polls_until_done(fake, mocked):
    mocked.add(responses.GET, JOB_URL, json=job_answer("0"))
    mocked.add(responses.GET, JOB_URL, json=job_answer("3"))
    mocked.add(responses.GET, JOB_URL, json=job_answer("1", urls=[FILE_URL]))
    client = make_client(fake, session_state=saved_session(fake))

    job = client.wait_for_job(JOB_UUID, poll_interval=10)

    assert (job.uuid, job.state, job.urls) == (JOB_UUID, "1", [FILE_URL])
    assert fake.sleeps == [10, 10]
    assert client.stats["job"] == 3


def test_wait_for_job_failed(fake, mocked):
    mocked.add(responses.GET, JOB_URL, json=job_answer("2", msg="Нет спецпрайса"))
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(RequestRejected) as caught:
        client.wait_for_job(JOB_UUID)
    assert caught.value.detail == "Нет спецпрайса"


def test_wait_for_job_times_out(fake, mocked):
    mocked.add(responses.GET, JOB_URL, json=job_answer("0"))
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(ServiceUnavailable, match="still running"):
        client.wait_for_job(JOB_UUID, poll_interval=10, timeout=30)
    assert len(mocked.calls) == 4
    assert fake.sleeps == [10, 10, 10]


def test_get_job_without_rows_is_not_found(fake, mocked):
    mocked.add(responses.GET, JOB_URL, json=ok({"rows": []}))
    client = make_client(fake, session_state=saved_session(fake))

    with pytest.raises(NotFound):
        client.get_job(JOB_UUID)


CATALOGUE_ROWS = [
    {"id": 9536092, "name": "Автомат", "brand": "IEK", "article": "MVA20", "brand_code": 138,
     "cli_code": "A-1", "class": "Автоматы"},
    {"id": "9682787", "name": "Лоток", "brand": "КМ-Профиль", "article": "LO6908",
     "brand_code": "1209", "cli_code": "", "class": "Лотки"},
]  # fmt: skip


@pytest.mark.parametrize(
    "document",
    [CATALOGUE_ROWS, {"rows": CATALOGUE_ROWS}, {"data": CATALOGUE_ROWS}],
    ids=["list", "rows", "data"],
)
def test_download_catalogue(fake, mocked, document):
    mocked.add(responses.GET, FILE_URL, json=document)
    client = make_client(fake)

    items = client.download_catalogue(FILE_URL)

    assert [(i.etm_code, i.article, i.brand_code, i.cli_code, i.class_name) for i in items] == [
        ("9536092", "MVA20", "138", "A-1", "Автоматы"),
        ("9682787", "LO6908", "1209", "", "Лотки"),
    ]
    assert items[1].brand == "КМ-Профиль"
    assert login_calls(mocked) == []  # a file download needs no session
    assert client.stats["catalogue"] == 1


def test_download_catalogue_refuses_foreign_host(fake, mocked):
    client = make_client(fake)

    with pytest.raises(UnsafeUrl):
        client.download_catalogue("https://files.example.com/cligds.json")
    assert len(mocked.calls) == 0


@pytest.fixture
def spools(monkeypatch, tmp_path):
    """The temporary files download_catalogue opens, made visible in tmp_path."""
    import api.etm

    opened = []

    def temporary_file(**options):
        spool = api.etm.tempfile.NamedTemporaryFile(dir=tmp_path, **options)
        opened.append(spool)
        return spool

    monkeypatch.setattr(api.etm.tempfile, "TemporaryFile", temporary_file)
    return opened


def test_download_catalogue_streams_to_a_temporary_file(
    fake, mocked, monkeypatch, spools, tmp_path
):
    """The file goes to disk as it arrives (never whole in memory), is parsed from there, and the
    temporary file is gone afterwards."""
    body = json.dumps(CATALOGUE_ROWS * 500).encode()
    mocked.add(responses.GET, FILE_URL, body=body)
    monkeypatch.setattr(EtmClient, "download", lambda *a, **k: pytest.fail("bytes in memory"))
    client = make_client(fake)

    items = client.download_catalogue(FILE_URL)

    assert len(items) == 1000
    assert items[-1].etm_code == "9682787"
    assert len(spools) == 1 and spools[0].closed
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [({"body": b"x" * 5000}, "too_large"), ({"body": b'[{"id": 1}, {"id"'}, "bad_response")],
)
def test_download_catalogue_removes_the_file_on_failure(
    fake, mocked, spools, tmp_path, answer, code
):
    mocked.add(responses.GET, FILE_URL, **answer)
    client = make_client(fake)

    with pytest.raises(ApiError) as caught:
        client.download_catalogue(FILE_URL, max_bytes=1000)
    assert caught.value.code == code
    assert len(spools) == 1 and spools[0].closed
    assert list(tmp_path.iterdir()) == []


def test_download_catalogue_has_a_longer_deadline(fake):
    client = make_client(fake, timeout=30)
    assert (client.download_deadline, client.catalogue_deadline) == (120, 600)
    assert make_client(fake, catalogue_deadline=5).catalogue_deadline == 5


def test_download_catalogue_missing_file_is_not_an_unknown_code(fake, mocked):
    mocked.add(responses.GET, FILE_URL, status=404)
    client = make_client(fake)

    with pytest.raises(ApiError) as caught:
        client.download_catalogue(FILE_URL)
    assert caught.value.code == "download_not_found"
    assert not isinstance(caught.value, NotFound)


@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
@pytest.mark.parametrize(
    "text",
    [
        json.dumps(CATALOGUE_ROWS),
        "\ufeff" + json.dumps(CATALOGUE_ROWS, indent=2, ensure_ascii=False),
        json.dumps({"rows": CATALOGUE_ROWS}),
        json.dumps({"data": CATALOGUE_ROWS}),
        " [ "
        + json.dumps(CATALOGUE_ROWS[0])
        + ' , 12345 , null , "x" , {"id": ""},'
        + json.dumps(CATALOGUE_ROWS[1])
        + " ]\n",
    ],
    ids=["list", "bom-indented", "rows", "data", "odd-lines"],
)
def test_parse_catalogue_file_reads_items_one_by_one(monkeypatch, text, chunk):
    import io

    from api import etm_data

    monkeypatch.setattr(etm_data._JsonStream, "CHUNK", chunk)
    items = etm_data.parse_catalogue_file(io.BytesIO(text.encode()))

    assert [(i.etm_code, i.brand, i.cli_code) for i in items] == [
        ("9536092", "IEK", "A-1"),
        ("9682787", "КМ-Профиль", ""),
    ]


@pytest.mark.parametrize(
    "content",
    [b"", b"[", b"[1,]", b"[1 2]", b'[{"id": 1}] x', b'[{"id": 1}', b"{}", b'"rows"', b"\xff[]",
     b"[" * 100_000 + b"]" * 100_000],
)  # fmt: skip
def test_parse_catalogue_file_malformed(content):
    import io

    from api.etm_data import parse_catalogue_file

    with pytest.raises(BadResponse) as caught:
        parse_catalogue_file(io.BytesIO(content))
    assert caught.value.__context__ is None


def test_parse_catalogue_file_empty_list_and_file_left_open():
    import io

    from api.etm_data import parse_catalogue_file

    spool = io.BytesIO(b" [ ] ")
    assert parse_catalogue_file(spool) == []
    assert not spool.closed


def test_download_catalogue_malformed(fake, mocked):
    mocked.add(responses.GET, FILE_URL, body=b'[{"id": 1, "name": "cut sh')
    client = make_client(fake)

    with pytest.raises(BadResponse):
        client.download_catalogue(FILE_URL)


# -- secrets ----------------------------------------------------------------------------------
def test_secrets_never_in_errors_or_logs(fake, mocked, caplog):
    caplog.set_level(logging.DEBUG)
    errors = []
    client = make_client(fake, max_retries=0)

    # a login, a session refused once, a service message quoting the token, a timeout whose
    # requests text holds the whole URL, and finally a rejected login
    add_login(mocked, TOKEN)
    mocked.add(responses.GET, PRICE_URL, json=failed(400, f"session {TOKEN} pwd={PASSWORD} bad"))
    leaked = f"{BASE}/goods/1/remains?type=etm&session-id={TOKEN}"
    mocked.add(responses.GET, f"{BASE}/goods/1/remains", body=requests.ReadTimeout(leaked))
    for call in (
        lambda: client.get_prices(["1"]),
        lambda: client.get_remains("1"),
    ):
        with pytest.raises(ApiError) as caught:
            call()
        errors.append(caught.value)
    mocked.replace(responses.POST, LOGIN_URL, json=failed(403, f"wrong password {PASSWORD}"))
    fake.advance(7200)
    for _ in range(2):
        with pytest.raises(AuthError) as caught:
            client.login()
        errors.append(caught.value)

    assert [e.code for e in errors] == ["rejected", "unavailable", "auth", "login_blocked"]
    assert "/user/login?log=***&pwd=*** -> 200" in caplog.text  # the log is there, masked
    assert "session-id=***" in caplog.text
    texts = [caplog.text] + [f"{e} {e!r} {e.message} {e.detail}" for e in errors]
    for text in texts:
        assert PASSWORD not in text
        assert TOKEN not in text
    for error in errors:
        assert error.__context__ is None
