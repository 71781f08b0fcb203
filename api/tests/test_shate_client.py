"""ShateClient: token login and reuse, 401 handling, error statuses, secrets.

Answers are the document's examples (shared/api-docs/shate-m.txt); see shate_client_helpers.
"""

import logging
from datetime import timedelta

import pytest
import requests
import responses
from http_helpers import NOW
from shate_client_helpers import (
    API,
    API_KEY,
    BASE,
    CART_ERROR,
    KEY_LOGIN_URL,
    LOGIN_NAME,
    NEW_TOKEN,
    ORDER_URL,
    PASSWORD,
    PASSWORD_LOGIN_URL,
    TOKEN,
    add_login,
    calls_to,
    form,
    login_calls,
    make_client,
    place,
    saved_session,
    token_answer,
)

from api.base import SessionState
from api.errors import (
    ApiError,
    AuthError,
    LoginBlocked,
    NotFound,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
)


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


@pytest.fixture
def client(fake):
    return make_client(fake, session_state=saved_session(fake), max_retries=1)


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
