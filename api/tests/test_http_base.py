"""HttpClient: retries, backoff, rate limiting, error wrapping, redaction, safe downloads."""

import logging
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from api.base import HttpClient, SessionState
from api.errors import (
    ApiError,
    BadResponse,
    DownloadNotFound,
    RateLimited,
    ServiceUnavailable,
    TooLarge,
    UnsafeUrl,
)

BASE = "https://ipro.etm.ru/api/v1"
SECRET = "hunter2-secret"
NOW = datetime(2025, 3, 1, 12, 0, 0)


class SecretClient(HttpClient):
    service_name = "Test service"
    secret_params = ("pwd",)

    def _secret_values(self):
        return (SECRET,)


def make_client(fake, base_url=BASE, **options):
    options.setdefault("backoff", 1.0)
    return SecretClient(base_url, sleep=fake.sleep, clock=fake.clock, now=lambda: NOW, **options)


@pytest.fixture
def client(fake):
    return make_client(fake)


def assert_clean(error):
    """The error tells nothing secret and chains to no requests exception (whose text has URLs)."""
    for text in (str(error), error.message, repr(error), error.detail):
        assert SECRET not in text
        assert "pwd=" not in text
        assert "?" not in text
    assert error.__cause__ is None
    assert error.__context__ is None


# -- retries -----------------------------------------------------------------------------------
def test_retries_server_errors_then_succeeds(client, fake, mocked):
    for status in (500, 502, 503):
        mocked.add(responses.GET, f"{BASE}/goods", status=status)
    mocked.add(responses.GET, f"{BASE}/goods", json={"ok": True})

    response = client.request("GET", "goods", endpoint="goods")

    assert response.status_code == 200
    assert len(mocked.calls) == 4
    assert fake.sleeps == [1.0, 2.0, 4.0]


def test_gives_up_after_max_retries(client, fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods", status=503)

    with pytest.raises(ServiceUnavailable) as caught:
        client.request("GET", "goods")

    assert len(mocked.calls) == 4  # the first try + max_retries=3
    assert caught.value.status == 503
    assert caught.value.retryable is True
    assert caught.value.code == "unavailable"


def test_retries_override_and_backoff_cap(fake, mocked):
    client = make_client(fake, backoff=50.0, max_retries=5)
    mocked.add(responses.GET, f"{BASE}/goods", status=500)

    with pytest.raises(ServiceUnavailable):
        client.request("GET", "goods", retries=2)

    assert len(mocked.calls) == 3
    assert fake.sleeps == [50.0, 60.0]  # 100 s capped at 60


def test_client_errors_are_not_retried(client, fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods", status=404)

    assert client.request("GET", "goods").status_code == 404
    assert len(mocked.calls) == 1
    assert fake.sleeps == []


def test_429_retry_after_seconds_honoured(client, fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods", status=429, headers={"Retry-After": "7"})
    mocked.add(responses.GET, f"{BASE}/goods", json={})

    assert client.request("GET", "goods").status_code == 200
    assert fake.sleeps == [7.0]


def test_429_retry_after_http_date_honoured(client, fake, mocked):
    when = format_datetime((NOW + timedelta(seconds=30)).replace(tzinfo=None), usegmt=False)
    mocked.add(responses.GET, f"{BASE}/goods", status=429, headers={"Retry-After": when})
    mocked.add(responses.GET, f"{BASE}/goods", json={})

    client.request("GET", "goods")

    assert fake.sleeps == [30.0]


def test_retry_after_over_cap_raises_rate_limited_without_sleeping(client, fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods", status=429, headers={"Retry-After": "3600"})

    with pytest.raises(RateLimited) as caught:
        client.request("GET", "goods")

    assert caught.value.retry_after == 3600
    assert caught.value.code == "rate_limited"
    assert len(mocked.calls) == 1
    assert fake.sleeps == []


def test_429_exhausted_raises_rate_limited(client, fake, mocked):
    mocked.add(responses.GET, f"{BASE}/goods", status=429, headers={"Retry-After": "2"})

    with pytest.raises(RateLimited) as caught:
        client.request("GET", "goods")

    assert len(mocked.calls) == 4
    assert fake.sleeps == [2.0, 2.0, 2.0]
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("exc_class", [requests.ConnectTimeout, requests.ReadTimeout])
def test_timeout_wrapped_without_secrets(client, mocked, exc_class):
    leaked = f"{BASE}/user/login?log=me&pwd={SECRET} timed out"
    mocked.add(responses.POST, f"{BASE}/user/login", body=exc_class(leaked))

    with pytest.raises(ServiceUnavailable) as caught:
        client.request("POST", "user/login", params={"log": "me", "pwd": SECRET})

    assert len(mocked.calls) == 4
    assert "did not answer" in caught.value.message
    assert_clean(caught.value)


def test_connection_error_wrapped_without_secrets(fake, mocked):
    client = make_client(fake, max_retries=0)
    leaked = f"Max retries exceeded with url: /api/v1/x?pwd={SECRET}"
    mocked.add(responses.GET, f"{BASE}/x", body=requests.ConnectionError(leaked))

    with pytest.raises(ServiceUnavailable) as caught:
        client.request("GET", "x", params={"pwd": SECRET})

    assert len(mocked.calls) == 1
    assert "ipro.etm.ru" in caught.value.message
    assert_clean(caught.value)


def test_invalid_url_wrapped_without_secrets(client):
    with pytest.raises(ServiceUnavailable) as caught:
        client.request("GET", f"https://?pwd={SECRET}")

    assert caught.value.retryable is False
    assert_clean(caught.value)


# -- rate limit, JSON, statistics ----------------------------------------------------------------
def test_rate_limit_spaces_requests(fake, mocked):
    client = make_client(fake, rate_limit=2.0)
    mocked.add(responses.GET, f"{BASE}/goods", json={})

    for _ in range(3):
        client.request("GET", "goods")
    assert fake.sleeps == [0.5, 0.5]

    fake.mono += 10  # idle for a while: the next request goes at once, the one after waits
    client.request("GET", "goods")
    assert fake.sleeps == [0.5, 0.5]
    client.request("GET", "goods")
    assert fake.sleeps == [0.5, 0.5, 0.5]


def test_rate_limit_per_endpoint(fake, mocked):
    class PerEndpoint(SecretClient):
        rate_limit_per_endpoint = True

    client = PerEndpoint(BASE, rate_limit=1.0, sleep=fake.sleep, clock=fake.clock)
    mocked.add(responses.GET, f"{BASE}/goods", json={})

    client.request("GET", "goods", endpoint="price")
    client.request("GET", "goods", endpoint="remains")
    assert fake.sleeps == []
    client.request("GET", "goods", endpoint="price")
    assert fake.sleeps == [1.0]


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"status": {"code": 200', b""])
def test_malformed_json_raises_bad_response(client, mocked, body):
    mocked.add(responses.GET, f"{BASE}/goods", body=body)

    response = client.request("GET", "goods")
    with pytest.raises(BadResponse) as caught:
        client.json_or_raise(response, "a JSON price answer")

    assert "a JSON price answer" in caught.value.message
    assert caught.value.code == "bad_response"
    assert caught.value.__context__ is None


def test_json_or_raise_parses(client, mocked):
    mocked.add(responses.GET, f"{BASE}/goods", json={"a": [1, 2]})
    assert client.json_or_raise(client.request("GET", "goods")) == {"a": [1, 2]}


def test_stats_count_every_request_sent(client, mocked):
    mocked.add(responses.GET, f"{BASE}/price", status=500)
    mocked.add(responses.GET, f"{BASE}/price", json={})
    mocked.add(responses.GET, f"{BASE}/goods", json={})

    client.request("GET", "price", endpoint="price")
    client.request("GET", "price", endpoint="price")
    client.request("GET", "goods", endpoint="goods")
    client.request("GET", "goods")

    assert client.stats == {"price": 3, "goods": 1, "other": 1}
    assert client.request_count == 5


# -- redaction ---------------------------------------------------------------------------------
def test_debug_log_redacts_secrets(client, mocked, caplog):
    mocked.add(responses.GET, f"{BASE}/goods", json={})
    caplog.set_level(logging.DEBUG)

    client.request("GET", "goods", params={"pwd": "other-value", "q": SECRET})

    assert "GET https://ipro.etm.ru/api/v1/goods?pwd=***&q=*** -> 200 in" in caplog.text
    assert SECRET not in caplog.text
    assert "other-value" not in caplog.text


def test_redact_masks_params_values_and_json():
    class Client(SecretClient):
        def _secret_values(self):
            return ("p@ss w/rd!", "ab")

    client = Client(BASE)
    assert client.redact("/login?pwd=abc&x=1") == "/login?pwd=***&x=1"
    assert client.redact('{"pwd": "abc", "x": 1}') == '{"pwd": "***", "x": 1}'
    raw_and_encoded = "echo p@ss w/rd! p%40ss%20w%2Frd%21 p%40ss+w%2Frd%21"
    assert client.redact(raw_and_encoded) == "echo *** *** ***"
    assert client.redact("ab cd") == "ab cd"  # too short to be worth masking
    assert client.redact(None) == ""


def test_urllib3_request_lines_are_redacted(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "https", "ipro.etm.ru", 443, "POST", f"/api/v1/user/login?log=me&pwd={SECRET}",
        "HTTP/1.1", 200, None,
    )  # fmt: skip
    assert "pwd=***" in caplog.text
    assert SECRET not in caplog.text


def test_session_state_round_trip():
    state = SessionState("tok", NOW, None, NOW - timedelta(minutes=5))
    assert SessionState.from_dict(state.to_dict()) == state
    assert SessionState.from_dict(None) == SessionState()
    assert state.token_valid(NOW - timedelta(minutes=2)) is True
    assert state.token_valid(NOW - timedelta(seconds=30)) is False  # inside the 60 s margin


def test_error_codes_are_stable():
    from api import errors

    codes = {cls.__name__: cls.code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, ApiError) and cls is not ApiError}  # fmt: skip
    assert codes == {
        "AuthError": "auth",
        "LoginBlocked": "login_blocked",
        "SessionExpired": "session",
        "NotFound": "not_found",
        "RequestRejected": "rejected",
        "RateLimited": "rate_limited",
        "ServiceUnavailable": "unavailable",
        "BadResponse": "bad_response",
        "UnsafeUrl": "unsafe_url",
        "TooLarge": "too_large",
        "DownloadNotFound": "download_not_found",
        "DownloadTimeout": "download_timeout",
        "OutcomeUnknown": "outcome_unknown",
        "AlreadyExists": "already_exists",
    }
    assert issubclass(errors.LoginBlocked, errors.AuthError)
    assert issubclass(errors.AlreadyExists, errors.RequestRejected)
    assert issubclass(errors.DownloadTimeout, errors.ServiceUnavailable)
    assert not issubclass(errors.DownloadNotFound, errors.NotFound)


# -- downloads ---------------------------------------------------------------------------------
ALLOWED = ("etm.ru",)


@pytest.mark.parametrize(
    "url", ["https://cdn.etm.ru/x.pdf", "https://etm.ru/x.pdf", "https://A.B.ETM.RU/x.pdf"]
)
def test_download_from_allowed_hosts(client, mocked, url):
    mocked.add(responses.GET, url, body=b"%PDF-data")

    assert client.download(url, max_bytes=100, allowed_hosts=ALLOWED) == b"%PDF-data"
    assert client.stats["download"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/x.jpg",
        "https://etm.ru.evil.com/x.jpg",
        "https://eviletm.ru/x.jpg",
        "https://etm.ru@evil.com/x.jpg",
        "https://user:pw@cdn.etm.ru/x.jpg",  # would be logged with its credentials
        "http://cdn.etm.ru/x.jpg",  # plain http only for the API host itself
        "ftp://cdn.etm.ru/x.jpg",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "",
    ],
)
def test_download_refuses_unsafe_urls(client, mocked, url):
    with pytest.raises(UnsafeUrl) as caught:
        client.download(url, max_bytes=100, allowed_hosts=ALLOWED)

    assert len(mocked.calls) == 0
    assert caught.value.code == "unsafe_url"


def test_download_plain_http_allowed_for_the_api_host(fake, mocked):
    client = make_client(fake, base_url="http://localhost:8071/api/v1")
    mocked.add(responses.GET, "http://localhost:8071/files/x.json", body=b"[]")

    data = client.download("http://localhost:8071/files/x.json", max_bytes=10, allowed_hosts=())
    assert data == b"[]"


@pytest.mark.parametrize(
    ("url", "fetched"),
    [
        ("/ipro/1209/lls.jpg", "https://ipro.etm.ru/ipro/1209/lls.jpg"),
        ("//cdn.etm.ru/ipro/1209/lls.pdf", "https://cdn.etm.ru/ipro/1209/lls.pdf"),
    ],
)
def test_download_resolves_relative_urls(client, mocked, url, fetched):
    mocked.add(responses.GET, fetched, body=b"img")

    assert client.download(url, max_bytes=100, allowed_hosts=ALLOWED) == b"img"
    assert mocked.calls[0].request.url == fetched


def test_download_refuses_redirect_to_foreign_host(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/x", status=302,
               headers={"Location": "https://evil.com/x"})  # fmt: skip
    evil = mocked.add(responses.GET, "https://evil.com/x", body=b"pwned")

    with pytest.raises(UnsafeUrl):
        client.download("https://cdn.etm.ru/x", max_bytes=100, allowed_hosts=ALLOWED)
    assert evil.call_count == 0


def test_download_follows_allowed_redirects(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/x", status=301,
               headers={"Location": "https://files.etm.ru/x"})  # fmt: skip
    mocked.add(responses.GET, "https://files.etm.ru/x", status=302, headers={"Location": "/real"})
    mocked.add(responses.GET, "https://files.etm.ru/real", body=b"file")

    assert client.download("https://cdn.etm.ru/x", max_bytes=100, allowed_hosts=ALLOWED) == b"file"
    assert len(mocked.calls) == 3


def test_download_stops_after_three_redirects(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/loop", status=302,
               headers={"Location": "https://cdn.etm.ru/loop"})  # fmt: skip

    with pytest.raises(UnsafeUrl):
        client.download("https://cdn.etm.ru/loop", max_bytes=100, allowed_hosts=ALLOWED)
    assert len(mocked.calls) == 4


def test_download_size_cap_while_streaming(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/big", body=b"x" * 1000)

    with pytest.raises(TooLarge) as caught:
        client.download("https://cdn.etm.ru/big", max_bytes=999, allowed_hosts=ALLOWED)
    assert caught.value.code == "too_large"
    assert client.download("https://cdn.etm.ru/big", max_bytes=1000, allowed_hosts=ALLOWED)


def test_download_size_cap_from_content_length(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/big", body=b"x" * 10,
               headers={"Content-Length": "5000000"}, auto_calculate_content_length=False)  # fmt: skip

    with pytest.raises(TooLarge, match="5000000 bytes"):
        client.download("https://cdn.etm.ru/big", max_bytes=1000, allowed_hosts=ALLOWED)


def test_download_missing_file(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/gone", status=404)

    with pytest.raises(DownloadNotFound) as caught:
        client.download("https://cdn.etm.ru/gone", max_bytes=10, allowed_hosts=ALLOWED)
    assert caught.value.code == "download_not_found"  # not "the supplier does not know this code"
