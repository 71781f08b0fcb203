"""HttpClient downloads: which links are fetched, where the connection really goes, the total
deadline, missing files, and files streamed to disk."""

import gzip
import io
import re
import zlib

import pytest
import requests
import responses

from api.base import HttpClient
from api.errors import (
    BadResponse,
    DownloadNotFound,
    DownloadTimeout,
    NotFound,
    RequestRejected,
    ServiceUnavailable,
    TooLarge,
    UnsafeUrl,
)
from api.urls import check_download_url
from emulators.etm import EtmEmulator

BASE = "https://ipro.etm.ru/api/v1"
ALLOWED = ("etm.ru",)
METADATA = re.compile(r"https?://169\.254\.169\.254(:\d+)?/.*")


class Trickle(io.RawIOBase):
    """A body that gives ``piece`` bytes per read, each read taking ``interval`` fake seconds:
    the server that keeps every socket read under the timeout but never finishes."""

    def __init__(self, data, fake, interval=1.0, piece=1):
        super().__init__()
        self.data, self.fake, self.interval, self.piece = data, fake, interval, piece
        self.sent = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.sent >= len(self.data):
            return 0
        self.fake.mono += self.interval
        size = min(self.piece, len(buffer), len(self.data) - self.sent)
        buffer[:size] = self.data[self.sent : self.sent + size]
        self.sent += size
        return size


def make_client(fake, base_url=BASE, **options):
    return HttpClient(base_url, sleep=fake.sleep, clock=fake.clock, backoff=1.0, **options)


@pytest.fixture
def client(fake):
    return make_client(fake)


def fetch(client, url, **options):
    options.setdefault("max_bytes", 1000)
    options.setdefault("allowed_hosts", ALLOWED)
    return client.download(url, **options)


# -- 1. the URL is read the way requests/urllib3 will read it ------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254\\.etm.ru/x",  # urllib: host '169.254.169.254\.etm.ru'; urllib3: IP
        "https://169.254.169.254\\@cdn.etm.ru/x",
        "https://cdn.etm.ru\\@169.254.169.254/x",
        "https://cdn.etm.ru/\\169.254.169.254/x",
        "https://cdn.etm.ru@169.254.169.254/x",
        "https://user@cdn.etm.ru/x",  # user-info without a password
        "https://:pw@cdn.etm.ru/x",
        "https://%31%36%39.254.169.254/x",  # requests decodes the escapes in the host
        "https://169.254.169.254%2f.etm.ru/x",
        "https://cdn.etm.ru/x y",
        "https://cdn.etm.ru/x\ty",
        "https://cdn.etm.ru/x\ny",
        "https://cdn.etm.ru/x\x00",
        "https://cdn.etm.ru/x\x7f",
        "https://cdn.etm.ru\u3002evil.com/x",  # ideographic full stop: a dot for IDNA
        "https://cdn.etm.ru:99999/x",
        "https://cdn.etm.ru:abc/x",
        "https:///x",
    ],
)
def test_download_refuses_urls_read_differently_or_unsafely(client, mocked, url):
    metadata = mocked.add(responses.GET, METADATA, body=b"instance credentials")
    mocked.add(responses.GET, re.compile(r"https://cdn\.etm\.ru/.*"), body=b"ok")

    with pytest.raises(UnsafeUrl) as caught:
        fetch(client, url)

    assert metadata.call_count == 0
    assert len(mocked.calls) == 0
    assert caught.value.code == "unsafe_url"


def test_backslash_url_is_refused_before_parsing_by_host(client):
    """The reported case: the allow-list saw '*.etm.ru', the connection went to the IP."""
    with pytest.raises(UnsafeUrl, match="backslash"):
        check_download_url("https://169.254.169.254\\.etm.ru/x", BASE, ALLOWED)


def test_redirect_to_a_url_read_differently_is_refused(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/x", status=302,
               headers={"Location": "https://169.254.169.254\\.etm.ru/meta"})  # fmt: skip
    metadata = mocked.add(responses.GET, METADATA, body=b"instance credentials")

    with pytest.raises(UnsafeUrl):
        fetch(client, "https://cdn.etm.ru/x")
    assert metadata.call_count == 0
    assert len(mocked.calls) == 1


def test_the_checked_host_is_the_host_connected_to(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/a%20b/%D1%84.jpg", body=b"img")

    assert fetch(client, "https://CDN.ETM.RU/a%20b/%D1%84.jpg") == b"img"
    assert mocked.calls[0].request.url == "https://cdn.etm.ru/a%20b/%D1%84.jpg"


def test_relative_link_with_backslash_is_refused(client, mocked):
    with pytest.raises(UnsafeUrl):
        fetch(client, "/\\169.254.169.254/x")
    assert len(mocked.calls) == 0


# -- 2. scheme and port, not only the host -------------------------------------------------------
@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://127.0.0.1:8071/api/v1", "http://127.0.0.1:5432/"),  # the reported case
        ("http://127.0.0.1:8071/api/v1", "http://127.0.0.1/x"),
        ("http://127.0.0.1:8071/api/v1", "https://127.0.0.1:5432/x"),
        ("http://127.0.0.1/api/v1", "http://127.0.0.1:8080/x"),
        ("https://ipro.etm.ru/api/v1", "http://ipro.etm.ru/x"),  # API on https: no plain http
        ("https://ipro.etm.ru/api/v1", "https://ipro.etm.ru:8443/x"),
        ("https://ipro.etm.ru/api/v1", "https://cdn.etm.ru:8443/x"),
        ("https://ipro.etm.ru/api/v1", "http://cdn.etm.ru/x"),
        ("https://ipro.etm.ru:8443/api/v1", "https://cdn.etm.ru:8443/x"),
    ],
)
def test_download_refuses_other_scheme_or_port(fake, mocked, base_url, url):
    client = make_client(fake, base_url=base_url)
    mocked.add(responses.GET, re.compile(r".*"), body=b"database banner")

    with pytest.raises(UnsafeUrl):
        fetch(client, url)
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://127.0.0.1:8071/api/v1", "http://127.0.0.1:8071/upload/x.json"),
        ("http://LOCALHOST:8071/api/v1", "http://localhost:8071/upload/x.json"),
        ("http://127.0.0.1:8071/api/v1", "https://127.0.0.1:8071/x"),
        ("http://127.0.0.1:8071/api/v1", "https://127.0.0.1/x"),
        ("http://127.0.0.1/api/v1", "http://127.0.0.1:80/x"),
        ("https://ipro.etm.ru/api/v1", "https://ipro.etm.ru:443/x"),
        ("https://ipro.etm.ru:8443/api/v1", "https://ipro.etm.ru:8443/x"),
        ("https://ipro.etm.ru:8443/api/v1", "https://cdn.etm.ru/x"),
        ("https://ipro.etm.ru/api/v1", "https://cdn.etm.ru:443/x"),
    ],
)
def test_download_allows_https_and_the_api_origin(fake, mocked, base_url, url):
    client = make_client(fake, base_url=base_url)
    mocked.add(responses.GET, re.compile(r".*"), body=b"file")

    assert fetch(client, url) == b"file"
    assert len(mocked.calls) == 1


def test_redirect_from_https_to_plain_http_on_the_api_host_is_refused(fake, mocked):
    client = make_client(fake)
    mocked.add(responses.GET, "https://ipro.etm.ru/files/x", status=301,
               headers={"Location": "http://ipro.etm.ru/files/x"})  # fmt: skip

    with pytest.raises(UnsafeUrl, match="https is required"):
        fetch(client, "/files/x")
    assert len(mocked.calls) == 1


def test_messages_name_the_host_never_the_url(client):
    with pytest.raises(UnsafeUrl) as caught:
        fetch(client, "https://evil.example/file.json?token=s3cr3t")
    assert "evil.example" in caught.value.message
    assert "s3cr3t" not in str(caught.value)
    assert "?" not in str(caught.value)


# -- 3. a total deadline per download ------------------------------------------------------------
def test_trickling_body_stops_at_the_total_deadline(fake, mocked):
    """One byte a second keeps every socket read under the 5 s timeout: only a deadline ends it."""
    client = make_client(fake, timeout=5, download_deadline=10)
    body = Trickle(b"x" * 39, fake, interval=1.0)
    mocked.add(responses.GET, "https://cdn.etm.ru/slow", body=io.BufferedReader(body))

    with pytest.raises(DownloadTimeout) as caught:
        fetch(client, "https://cdn.etm.ru/slow?sig=s3cr3t")

    assert fake.mono <= 11  # stopped right after the deadline, not after the 39 s body
    assert body.sent <= 11
    error = caught.value
    assert isinstance(error, ServiceUnavailable)
    assert error.code == "download_timeout"
    assert "cdn.etm.ru" in error.message
    assert "10 s" in error.message
    assert "s3cr3t" not in str(error)
    assert len(mocked.calls) == 1  # a deadline is not retried inside the call


def test_deadline_holds_on_a_real_socket():
    """The emulator trickles a picture 1 byte per 50 ms (4 s for 80 bytes): each socket read is
    well under the 1 s timeout, and still the download stops at its 0.5 s deadline."""
    import time

    with EtmEmulator() as emulator:
        client = HttpClient(emulator.api_url, timeout=1, download_deadline=0.5, max_retries=0)
        url = emulator.base_url + "/ipro/1209/lls.png"
        whole = client.download(url, max_bytes=10_000, allowed_hosts=())
        assert len(whole) > 40
        emulator.set_fault("slow_body", seconds=0.05, piece=1)
        started = time.monotonic()

        with pytest.raises(DownloadTimeout):
            client.download(url, max_bytes=10_000, allowed_hosts=())

        assert time.monotonic() - started < 1.5
        assert client.download(url, max_bytes=10_000, allowed_hosts=()) == whole


def test_default_deadline_is_a_multiple_of_the_timeout(fake, mocked):
    """The reported case: 39 bytes at one a second held a request 39 s with a 5 s timeout."""
    client = make_client(fake, timeout=5)
    body = Trickle(b"x" * 39, fake, interval=1.0)
    mocked.add(responses.GET, "https://cdn.etm.ru/slow", body=io.BufferedReader(body))

    with pytest.raises(DownloadTimeout):
        fetch(client, "https://cdn.etm.ru/slow")
    assert 20 <= fake.mono <= 21
    assert client.download_deadline == 20


def test_deadline_per_call_and_a_fast_body_passes(fake, mocked):
    client = make_client(fake, timeout=5)
    body = Trickle(b"y" * 30, fake, interval=1.0, piece=10)
    mocked.add(responses.GET, "https://cdn.etm.ru/ok", body=io.BufferedReader(body))

    assert fetch(client, "https://cdn.etm.ru/ok", deadline=5) == b"y" * 30
    assert fake.mono == 3


def test_deadline_also_bounds_retries(fake, mocked):
    """Backoff of 1, 2, 4 s fits in the 10 s; the next wait (8 s) would not: no sleeping past it."""
    client = make_client(fake, timeout=5, download_deadline=10, max_retries=5)
    mocked.add(responses.GET, "https://cdn.etm.ru/a", status=503)

    with pytest.raises(ServiceUnavailable, match="HTTP 503 after 3 retries"):
        fetch(client, "https://cdn.etm.ru/a")
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert len(mocked.calls) == 4


def test_deadline_counts_every_redirect_hop(fake, mocked):
    client = make_client(fake, timeout=5, download_deadline=10)
    for hop in range(3):
        mocked.add(responses.GET, f"https://cdn.etm.ru/{hop}", status=302,
                   headers={"Location": f"/{hop + 1}"})  # fmt: skip
    mocked.add(responses.GET, "https://cdn.etm.ru/3", body=b"file")
    original = client._request

    def slow_hop(*args, **kwargs):
        fake.mono += 4  # each hop's answer takes 4 s
        return original(*args, **kwargs)

    client._request = slow_hop

    with pytest.raises(DownloadTimeout):
        fetch(client, "https://cdn.etm.ru/0")
    assert len(mocked.calls) == 3  # the fourth hop is not even asked


def test_size_cap_still_applies_while_streaming(fake, mocked):
    client = make_client(fake)
    body = Trickle(b"z" * 5000, fake, interval=0.0, piece=700)
    mocked.add(responses.GET, "https://cdn.etm.ru/big", body=io.BufferedReader(body))

    with pytest.raises(TooLarge):
        fetch(client, "https://cdn.etm.ru/big", max_bytes=2000)
    assert body.sent <= 2100


def test_body_cut_short_is_unavailable(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/cut", body=b"abc",
               headers={"Content-Length": "10"}, auto_calculate_content_length=False)  # fmt: skip

    with pytest.raises(ServiceUnavailable, match="cut short"):
        fetch(client, "https://cdn.etm.ru/cut")


def test_download_asks_for_an_unencoded_body(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/x", body=b"plain")

    fetch(client, "https://cdn.etm.ru/x")
    assert mocked.calls[0].request.headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize(
    "encode",
    [gzip.compress, zlib.compress, lambda data: gzip.compress(data[:3]) + gzip.compress(data[3:])],
    ids=["gzip", "deflate", "gzip-members"],
)
def test_compressed_body_is_decoded_within_the_cap(client, mocked, encode):
    data = b'[{"id": "1"}]' * 50
    name = "deflate" if encode is zlib.compress else "gzip"
    mocked.add(responses.GET, "https://cdn.etm.ru/x", body=encode(data),
               headers={"Content-Encoding": name})  # fmt: skip

    assert fetch(client, "https://cdn.etm.ru/x") == data
    with pytest.raises(TooLarge):
        fetch(client, "https://cdn.etm.ru/x", max_bytes=len(data) - 1)


def test_gzip_bomb_is_stopped_at_the_cap(client, mocked):
    bomb = gzip.compress(b"\0" * 5_000_000)
    mocked.add(responses.GET, "https://cdn.etm.ru/bomb", body=bomb,
               headers={"Content-Encoding": "gzip"})  # fmt: skip

    with pytest.raises(TooLarge):
        fetch(client, "https://cdn.etm.ru/bomb", max_bytes=100_000)


def test_unknown_content_encoding_is_a_bad_response(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/x", body=b"??",
               headers={"Content-Encoding": "br"})  # fmt: skip

    with pytest.raises(BadResponse, match="br"):
        fetch(client, "https://cdn.etm.ru/x")


def test_transport_error_while_reading_is_unavailable(client, mocked):
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise ConnectionResetError("peer reset https://cdn.etm.ru/x?sig=s3cr3t")

    mocked.add(responses.GET, "https://cdn.etm.ru/x", body=io.BufferedReader(Broken()))

    with pytest.raises(ServiceUnavailable) as caught:
        fetch(client, "https://cdn.etm.ru/x")
    assert "s3cr3t" not in str(caught.value)
    assert caught.value.__context__ is None


# -- 4. a missing file is not an unknown product code ----------------------------------------------
@pytest.mark.parametrize("status", [404, 410])
def test_missing_file_has_its_own_error(client, mocked, status):
    mocked.add(responses.GET, "https://cdn.etm.ru/gone", status=status)

    with pytest.raises(DownloadNotFound) as caught:
        fetch(client, "https://cdn.etm.ru/gone?sig=s3cr3t")

    error = caught.value
    assert error.code == "download_not_found"
    assert not isinstance(error, NotFound)  # NotFound means "the supplier does not know this code"
    assert error.status == status
    assert f"HTTP {status}" in error.message
    assert "s3cr3t" not in str(error)


def test_other_refusals_name_the_host_and_status(client, mocked):
    mocked.add(responses.GET, "https://cdn.etm.ru/x", status=403)

    with pytest.raises(RequestRejected, match=r"cdn\.etm\.ru.*HTTP 403"):
        fetch(client, "https://cdn.etm.ru/x")


# -- streamed to a file ----------------------------------------------------------------------------
def test_download_to_file_writes_chunks_without_returning_them(fake, mocked, tmp_path):
    client = make_client(fake)
    body = Trickle(b"0123456789" * 100, fake, interval=0.0, piece=64)
    mocked.add(responses.GET, "https://cdn.etm.ru/file", body=io.BufferedReader(body))
    writes = []

    class Recorder(io.BytesIO):
        def write(self, data):
            writes.append(len(data))
            return super().write(data)

    target = Recorder()
    size = client.download_to_file("https://cdn.etm.ru/file", target, max_bytes=5000,
                                   allowed_hosts=ALLOWED)  # fmt: skip

    assert size == 1000
    assert target.getvalue() == b"0123456789" * 100
    assert len(writes) > 1 and max(writes) <= 64  # written as it arrived, never as one blob


def test_requests_exceptions_never_leak_from_download(client, mocked):
    leaked = "https://cdn.etm.ru/x?sig=s3cr3t"
    mocked.add(responses.GET, "https://cdn.etm.ru/x", body=requests.ConnectionError(leaked))

    with pytest.raises(ServiceUnavailable) as caught:
        fetch(client, "https://cdn.etm.ru/x")
    assert "s3cr3t" not in str(caught.value)
