"""MoySkladClient core: headers on every request, token reuse and renewal, pasted tokens, error
codes in plain words, malformed answers, time-outs, secrets kept out of errors."""

import base64
import json
import logging
import threading

import pytest
import requests
import responses
from moysklad_client_helpers import (
    BASE,
    LOGIN,
    NEW_TOKEN,
    PASSWORD,
    PASTED,
    PRODUCT_ID,
    TOKEN,
    TOKEN_URL,
    FakeTime,
    add_token,
    api_calls,
    error_body,
    make_client,
    product_row,
)

from api.base import SessionState
from api.errors import (
    AlreadyExists,
    AuthError,
    BadResponse,
    LoginBlocked,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
)
from api.moysklad_errors import (
    BadFilter,
    BadUuid,
    Forbidden,
    MoySkladAuthError,
    MoySkladNotFound,
    MoySkladRateLimited,
    MoySkladUnavailable,
    NoApiAccess,
    PlanRequired,
    UnknownPath,
)

PRODUCT_URL = f"{BASE}/entity/product/{PRODUCT_ID}"


@pytest.fixture
def fake():
    return FakeTime()


# -- headers -------------------------------------------------------------------------------------
def test_every_request_has_gzip_accept_and_bearer(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    mocked.add(responses.POST, f"{BASE}/entity/product", json=[product_row()])
    client = make_client(fake)

    client.get_product(PRODUCT_ID)
    client.post_json("entity/product", [{"name": "Мандарины"}])

    for call in mocked.calls:
        headers = call.request.headers
        assert headers["Accept-Encoding"] == "gzip"
        assert headers["Accept"] == "application/json;charset=utf-8"
        assert headers["Authorization"] == f"Bearer {TOKEN}"
    post = mocked.calls[1].request
    assert post.headers["Content-Type"] == "application/json"
    assert post.body == '[{"name":"Мандарины"}]'.encode()  # UTF-8, not \\u escapes


def test_writing_requests_carry_the_webhook_prefix_reads_do_not(fake, mocked):
    prefix = "https://erp.example.com/supplier_connector/moysklad/"
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    mocked.add(responses.POST, f"{BASE}/entity/product", json=[product_row()])
    mocked.add(responses.PUT, PRODUCT_URL, json=product_row())
    client = make_client(fake, webhook_quiet_prefix=prefix)

    client.get_product(PRODUCT_ID)
    client.post_json("entity/product", [{"name": "Мандарины"}])
    client.put_json(f"entity/product/{PRODUCT_ID}", {"name": "Мандарины"})

    sent = [call.request.headers.get("X-Lognex-WebHook-DisableByPrefix") for call in mocked.calls]
    assert sent == [None, prefix, prefix]
    # Without a prefix (no webhooks registered) nothing is sent.
    mocked.calls.reset()
    make_client(fake).post_json("entity/product", [{"name": "Мандарины"}])
    assert "X-Lognex-WebHook-DisableByPrefix" not in mocked.calls[0].request.headers


# -- tokens --------------------------------------------------------------------------------------
def test_stored_token_is_reused_without_a_token_request(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    state = SessionState(token=TOKEN)
    for _run in range(3):  # three runs, each a new client with the persisted state
        client = make_client(fake, session_state=state)
        client.get_product(PRODUCT_ID)
        state = client.session_state

    assert api_calls(mocked, "/security/token") == []
    assert state.token == TOKEN


def test_first_run_obtains_one_token_with_basic_auth_and_keeps_it(fake, mocked):
    add_token(mocked)
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    client = make_client(fake, session_state=SessionState())

    client.get_product(PRODUCT_ID)
    client.get_product(PRODUCT_ID)

    token_calls = api_calls(mocked, "/security/token")
    assert len(token_calls) == 1
    expected = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    assert token_calls[0].request.headers["Authorization"] == f"Basic {expected}"
    assert token_calls[0].request.headers["Accept-Encoding"] == "gzip"
    assert [c.request.headers["Authorization"] for c in api_calls(mocked, PRODUCT_ID)] == [
        f"Bearer {NEW_TOKEN}", f"Bearer {NEW_TOKEN}"]  # fmt: skip
    assert client.session_state.token == NEW_TOKEN
    assert client.usage()["tokens_issued"] == 1


def test_401_gets_exactly_one_new_token_then_succeeds(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=401, json=error_body(1056))
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    add_token(mocked)
    client = make_client(fake)

    product = client.get_product(PRODUCT_ID)

    assert product.id == PRODUCT_ID
    assert len(api_calls(mocked, "/security/token")) == 1
    auths = [c.request.headers["Authorization"] for c in api_calls(mocked, PRODUCT_ID)]
    assert auths == [f"Bearer {TOKEN}", f"Bearer {NEW_TOKEN}"]
    assert client.session_state.token == NEW_TOKEN


def test_401_on_the_fresh_token_is_an_auth_error_and_no_second_token(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=401, json=error_body(1056))
    add_token(mocked)
    client = make_client(fake)

    with pytest.raises(MoySkladAuthError) as caught:
        client.get_product(PRODUCT_ID)

    assert len(api_calls(mocked, "/security/token")) == 1
    assert caught.value.code == "auth"
    assert caught.value.service_code == 1056
    assert client.session_state.token is None


def test_pasted_token_401_is_auth_error_without_token_request(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=401, json=error_body(1056))
    client = make_client(fake, login="", password="", token=PASTED)

    with pytest.raises(AuthError) as caught:
        client.get_product(PRODUCT_ID)

    assert api_calls(mocked, "/security/token") == []
    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {PASTED}"
    assert "paste a new token" in str(caught.value)
    assert PASTED not in str(caught.value)


def test_rejected_login_pauses_further_logins(fake, mocked):
    add_token(mocked, status=401)
    client = make_client(fake, session_state=SessionState())

    with pytest.raises(MoySkladAuthError) as caught:
        client.get_product(PRODUCT_ID)
    assert "rejected the login or password" in caught.value.message
    with pytest.raises(LoginBlocked):
        client.get_product(PRODUCT_ID)

    assert len(api_calls(mocked, "/security/token")) == 1
    assert api_calls(mocked, PRODUCT_ID) == []


def test_no_credentials_at_all_is_a_clear_auth_error(fake, mocked):
    client = make_client(fake, login="", password="")
    with pytest.raises(MoySkladAuthError) as caught:
        client.get_product(PRODUCT_ID)
    assert "No MoySklad token" in str(caught.value)
    assert len(mocked.calls) == 0


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "code", "cls", "base", "words", "api_code"),
    [
        (403, 1061, NoApiAccess, AuthError, "no access to the API", "no_api_access"),
        (404, 1021, MoySkladNotFound, NotFound, "has no such object", "not_found"),
        (404, 1002, UnknownPath, RequestRejected, "unknown path", "rejected"),
        (400, 1014, BadFilter, RequestRejected, "refused a filter value", "rejected"),
        (400, 1034, BadFilter, RequestRejected, "refused the filter", "rejected"),
        (400, 1035, BadFilter, RequestRejected, "refused a date", "rejected"),
        (400, 1052, BadUuid, RequestRejected, "not a valid UUID", "rejected"),
        (403, 30006, PlanRequired, RequestRejected, "paid MoySklad plan", "plan_required"),
        (400, 1062, RequestRejected, RequestRejected, "Accept header", "rejected"),
        (403, 1016, Forbidden, RequestRejected, "may not view", "rejected"),
        (400, 3006, AlreadyExists, RequestRejected, "must be unique", "already_exists"),
        (400, 9999, RequestRejected, RequestRejected, "rejected the request", "rejected"),
    ],
)
def test_error_codes_in_plain_words(fake, mocked, status, code, cls, base, words, api_code):
    mocked.add(responses.GET, PRODUCT_URL, status=status,
               json=error_body(code, "Текст МоегоСклада", parameter="filter"))  # fmt: skip
    client = make_client(fake)

    with pytest.raises(cls) as caught:
        client.get_product(PRODUCT_ID)

    error = caught.value
    assert isinstance(error, base)
    assert words in error.message
    assert error.code == api_code
    assert error.service_code == code
    assert error.parameter == "filter"
    assert error.detail == "Текст МоегоСклада"
    assert error.status == status
    assert len(mocked.calls) == 1  # client errors are not retried


def test_415_without_body_says_gzip(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=415, body=b"")
    client = make_client(fake)
    with pytest.raises(RequestRejected) as caught:
        client.get_product(PRODUCT_ID)
    assert "gzip" in caught.value.message
    assert caught.value.service_code is None


def test_rate_limit_1049_after_retries_keeps_code(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=429, json=error_body(1049),
               headers={"X-Lognex-Retry-After": "1500"})  # fmt: skip
    client = make_client(fake, max_retries=2, max_rate_limited=100)
    with pytest.raises(MoySkladRateLimited) as caught:
        client.get_product(PRODUCT_ID)
    assert caught.value.service_code == 1049
    assert caught.value.code == "rate_limited"
    assert isinstance(caught.value, RateLimited)
    assert len(mocked.calls) == 3
    assert fake.sleeps.count(1.5) >= 2  # X-Lognex-Retry-After in ms obeyed before each retry


def test_parallel_limit_1073_retried_then_succeeds(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=429, json=error_body(1073),
               headers={"X-Lognex-Retry-After": "250"})  # fmt: skip
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    client = make_client(fake)
    assert client.get_product(PRODUCT_ID).id == PRODUCT_ID
    assert 0.25 in fake.sleeps
    assert client.usage()["rate_limited"] == 1


def test_server_errors_retried_then_unavailable_with_service_text(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=503, json=error_body(1074, "Тех. работы"))
    client = make_client(fake)
    with pytest.raises(MoySkladUnavailable) as caught:
        client.get_product(PRODUCT_ID)
    assert len(mocked.calls) == 4
    assert caught.value.service_code == 1074
    assert "maintenance" in caught.value.message
    assert caught.value.retryable is True


@pytest.mark.parametrize("body", [b"{\"meta\": {\"href\": ", b"<html>oops</html>", b"[1, 2"])
def test_malformed_or_partial_json_is_bad_response(fake, mocked, body):
    mocked.add(responses.GET, PRODUCT_URL, body=body, status=200)
    client = make_client(fake)
    with pytest.raises(BadResponse):
        client.get_product(PRODUCT_ID)


def test_timeouts_are_retried_then_a_clear_error(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, body=requests.ReadTimeout("read timed out"))
    client = make_client(fake, timeout=20)
    with pytest.raises(ServiceUnavailable) as caught:
        client.get_product(PRODUCT_ID)
    assert len(mocked.calls) == 4
    assert fake.sleeps[:3] == [1.0, 2.0, 4.0]
    assert "did not answer within 20 s" in caught.value.message
    assert caught.value.__context__ is None


def test_timeout_then_success(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, body=requests.ConnectTimeout("connect timed out"))
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    client = make_client(fake)
    assert client.get_product(PRODUCT_ID).id == PRODUCT_ID
    assert len(mocked.calls) == 2


def test_creation_without_sync_id_is_sent_once_and_lost_answer_is_outcome_unknown(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/product", body=requests.ReadTimeout("timed out"))
    client = make_client(fake)
    with pytest.raises(OutcomeUnknown):
        list(client.push_products([{"name": "Без syncId"}]))
    assert len(mocked.calls) == 1


def test_secrets_never_in_errors_or_logs(fake, mocked, caplog):
    mocked.add(responses.POST, TOKEN_URL, status=401,
               json=error_body(1056, f"bad credentials for {PASSWORD} / {TOKEN}"))  # fmt: skip
    client = make_client(fake, session_state=SessionState())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MoySkladAuthError) as caught:
        client.get_product(PRODUCT_ID)
    for text in (str(caught.value), caught.value.detail, caplog.text):
        assert PASSWORD not in text
    assert "***" in caught.value.detail


def test_threads_hitting_the_same_401_share_one_new_token(fake, mocked):
    barrier = threading.Barrier(3, timeout=5)

    def product(request):
        if request.headers["Authorization"] == f"Bearer {TOKEN}":
            barrier.wait()  # all three threads were refused with the old token
            return 401, {}, json.dumps(error_body(1056))
        return 200, {}, json.dumps(product_row())

    mocked.add_callback(responses.GET, PRODUCT_URL, callback=product)
    add_token(mocked)
    client = make_client(fake)
    errors = []

    def run():
        try:
            client.get_product(PRODUCT_ID)
        except Exception as exc:  # reported below: the test fails with it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert len(api_calls(mocked, "/security/token")) == 1  # a second would revoke the first
    assert client.session_state.token == NEW_TOKEN


def test_second_forced_renewal_within_a_minute_is_refused(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=401, json=error_body(1056))
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    mocked.add(responses.GET, PRODUCT_URL, status=401, json=error_body(1056))
    add_token(mocked)
    client = make_client(fake)
    client.get_product(PRODUCT_ID)  # renewal 1

    with pytest.raises(SessionExpired):
        client.get_product(PRODUCT_ID)  # refused again 1 s later: no second token
    assert len(api_calls(mocked, "/security/token")) == 1


def test_too_many_wrong_logins_1048_blocks_logins(fake, mocked):
    mocked.add(responses.POST, TOKEN_URL, status=403, json=error_body(1048))
    client = make_client(fake, session_state=SessionState())
    with pytest.raises(LoginBlocked) as caught:
        client.obtain_token()
    assert caught.value.service_code == 1048
    assert caught.value.blocked_until is not None
    with pytest.raises(LoginBlocked):
        client.get_product(PRODUCT_ID)
    assert len(mocked.calls) == 1


def test_pasted_token_with_login_renews_on_401(fake, mocked):
    mocked.add(responses.GET, PRODUCT_URL, status=401, json=error_body(1056))
    mocked.add(responses.GET, PRODUCT_URL, json=product_row())
    add_token(mocked)
    client = make_client(fake, token=PASTED, session_state=SessionState())
    client.get_product(PRODUCT_ID)
    auths = [c.request.headers["Authorization"] for c in api_calls(mocked, PRODUCT_ID)]
    assert auths == [f"Bearer {PASTED}", f"Bearer {NEW_TOKEN}"]
    assert client.session_state.token == NEW_TOKEN
