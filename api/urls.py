"""Downloads of files named by a service's data: which links are fetched, and how.

Download URLs come from the supplier's data (image links, report files), so they are untrusted.
The rule, checked on the link and again on every redirect hop (at most 3, followed by hand):

- The link is read exactly as the HTTP library will read it: ``urllib3.util.parse_url``, which
  requests uses to prepare the request, and the host of the prepared URL is the host checked.
  ``urllib.parse`` reads some links differently (``https://169.254.169.254\\.etm.ru/`` is a host
  ending in ``.etm.ru`` for it and the IP address for urllib3), so a link is also refused when
  the two disagree on the host or port.
- Refused outright: backslashes anywhere, user-info (``user@``, ``user:pw@``), whitespace and
  control characters anywhere, percent escapes or other odd characters in the host, a malformed
  port, any scheme other than http(s).
- https only. Plain http only when the API itself is on http *and* the link has the API's exact
  origin (scheme, host and port), as local emulators and test servers do.
- Host: the API host itself, or a host on ``allowed_hosts`` ('etm.ru' allows etm.ru and its
  subdomains, never 'etm.ru.evil.com' or 'eviletm.ru').
- Port: 443 (the https default); on the API host also the API's own port.

The body is read one socket read at a time (a server trickling it keeps every read under the
timeout), so that the size cap (``max_bytes``, on the decoded bytes: a gzip/deflate body sent
although ``identity`` was asked is decoded piece by piece) and the total deadline
(``download_deadline`` of the client, by its ``clock``) hold. A missing file (404/410) is
DownloadNotFound, not NotFound: a stale link says nothing about a product code.

Messages name the host, never the full URL, since file links may carry signed tokens.
"""

import re
import unicodedata
import zlib
from contextlib import closing
from http.client import HTTPException
from urllib.parse import urljoin, urlsplit

from requests.exceptions import RequestException
from requests.models import PreparedRequest
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import LocationParseError, ReadTimeoutError
from urllib3.util import parse_url

from .errors import (
    BadResponse,
    DownloadNotFound,
    DownloadTimeout,
    RequestRejected,
    ServiceUnavailable,
    TooLarge,
    UnsafeUrl,
)

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3
GONE_STATUSES = (404, 410)
CHUNK_SIZE = 64 * 1024
# Bodies are asked unencoded; gzip/deflate are still decoded (within the cap) if sent anyway.
DOWNLOAD_HEADERS = {"Accept-Encoding": "identity"}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# A DNS name (letters, digits, '-', '_', dots) or IPv4 address, or an IPv6 address (brackets off).
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|[0-9a-f.]*:[0-9a-f:.]*")


def _unsafe_character(url):
    """Why ``url`` is refused before any parsing ('' when it is clean)."""
    if "\\" in url:
        return "a backslash"
    for char in url:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return "whitespace or control characters"
    return ""


def _normal_host(host):
    """Lower case, no final dot, IPv6 without brackets (as ``urlsplit`` gives it)."""
    host = (host or "").lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


class ParsedUrl:
    """The parts of a link as the HTTP library reads them (``host`` lower-case, no final dot)."""

    __slots__ = ("host", "port", "scheme")

    def __init__(self, scheme, host, port):
        self.scheme, self.host, self.port = scheme, host, port

    @property
    def origin(self):
        return (self.scheme, self.host, self.port)


def parse_download_url(url):
    """``ParsedUrl`` of an absolute http(s) link, read as requests will send it; UnsafeUrl for a
    link that is malformed, carries user-info or odd characters, or reads differently to
    ``urllib.parse``."""
    url = url or ""
    problem = _unsafe_character(url)
    if problem:
        raise UnsafeUrl(f"Refusing a download link with {problem}")
    try:
        parts = parse_url(url)
        sent = PreparedRequest()
        sent.prepare_url(url, None)  # what requests will really send (it decodes host escapes)
        prepared = parse_url(sent.url)
        split = urlsplit(sent.url)
        split_port = split.port
    except (LocationParseError, RequestException, ValueError, UnicodeError):
        raise UnsafeUrl("Malformed download link") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeUrl("Only http(s) links can be downloaded")
    host = _normal_host(parts.host)
    if not _HOST.fullmatch(host):
        raise UnsafeUrl("Refusing a download link with a malformed host")
    if parts.auth is not None or prepared.auth is not None or split.username is not None:
        raise UnsafeUrl(f"Refusing a download link with credentials for host {host}")
    port = parts.port or DEFAULT_PORTS[scheme]
    readings = {
        (host, port),
        (_normal_host(prepared.host), prepared.port or DEFAULT_PORTS[scheme]),
        (_normal_host(split.hostname), split_port or DEFAULT_PORTS[scheme]),
    }
    if len(readings) != 1:
        raise UnsafeUrl(f"Refusing an ambiguous download link (host {host})")
    return ParsedUrl(scheme, host, port)


def origin(url):
    """Scheme and authority of ``url`` (a link with a path hangs off it)."""
    parts = parse_url(url)
    return f"{parts.scheme}://{parts.netloc}"


def resolve_download_url(url, base_url):
    """Absolute URL for ``url``: relative paths hang off the API origin, '//host/x' gets https."""
    url = (url or "").strip()
    if not url:
        raise UnsafeUrl("Empty download URL")
    problem = _unsafe_character(url)
    if problem:  # before urljoin, which reads a backslash differently from urllib3
        raise UnsafeUrl(f"Refusing a download link with {problem}")
    if url.startswith("//"):
        return "https:" + url
    if _SCHEME.match(url):  # absolute: urljoin would read 'https:///x' as a path on the API host
        return url
    return urljoin(origin(base_url) + "/", url)


def host_allowed(host, allowed_hosts):
    """'etm.ru' allows etm.ru and any subdomain, never 'etm.ru.evil.com' or 'eviletm.ru'."""
    host = _normal_host(host)
    for entry in allowed_hosts:
        entry = entry.strip().lower().removeprefix("*.").lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def check_download_url(url, base_url, allowed_hosts):
    """Raise UnsafeUrl unless ``url`` (absolute) may be fetched; return its host."""
    link = parse_download_url(url)
    api = parse_download_url(base_url)
    host = link.host
    if link.scheme != "https":
        if api.scheme == "http" and link.origin == api.origin:
            return host
        raise UnsafeUrl(f"Refusing a plain http download from {host}: https is required")
    on_api_host = host == api.host
    if not on_api_host and not host_allowed(host, allowed_hosts):
        raise UnsafeUrl(f"Refusing to download from {host}: not an allowed host")
    if link.port != DEFAULT_PORTS["https"] and not (on_api_host and link.port == api.port):
        raise UnsafeUrl(f"Refusing to download from {host} on port {link.port}")
    return host


class _BodyDecoder:
    """Undoes a gzip/deflate Content-Encoding piece by piece, never more than asked for: a small
    compressed body cannot blow up past the size cap. Identity bodies pass through."""

    ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})

    def __init__(self, encoding, host):
        encoding = (encoding or "identity").strip().lower()
        if encoding not in self.ENCODINGS | {"identity", ""}:
            raise BadResponse(
                f"The download from {host} came with an unsupported {encoding!r} encoding"
            )
        self.host = host
        self._zlib = zlib.decompressobj(47) if encoding in self.ENCODINGS else None
        self._members = 0  # gzip members decoded to their end
        self._ignore_rest = False

    @property
    def complete(self):
        return self._zlib is None or self._zlib.eof or self._ignore_rest

    def decode(self, chunk, limit):
        """The decoded bytes of ``chunk``, no more than ``limit`` of them."""
        if self._zlib is None:
            return chunk
        parts, size = [], 0
        try:
            while chunk and size < limit and not self._ignore_rest:
                if self._zlib.eof:  # another gzip member follows
                    self._members += 1
                    self._zlib = zlib.decompressobj(47)
                data = self._zlib.decompress(chunk, limit - size)
                parts.append(data)
                size += len(data)
                chunk = self._zlib.unconsumed_tail or self._zlib.unused_data
        except zlib.error:
            if not self._members:
                raise BadResponse(
                    f"The download from {self.host} could not be decompressed"
                ) from None
            self._ignore_rest = True  # junk after a complete member, as urllib3 tolerates it
        return b"".join(parts)


class _Deadline:
    """The moment a download must be over, by the client's clock."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds = clock, seconds
        self.ends = clock() + seconds

    def check(self, host):
        if self.clock() > self.ends:
            raise DownloadTimeout(
                f"The download from {host} did not finish within {self.seconds:g} s"
            )


class DownloadMixin:
    """``download`` and ``download_to_file`` for HttpClient (which has ``_request``, ``clock``,
    ``timeout``, ``base_url`` and ``download_deadline``)."""

    def download(self, url, *, max_bytes, allowed_hosts, endpoint="download", deadline=None):
        """The file named by the service's data, as bytes (see ``download_to_file``)."""
        parts = []
        self._download(url, parts.append, max_bytes, allowed_hosts, endpoint, deadline)
        return b"".join(parts)

    def download_to_file(
        self, url, file, *, max_bytes, allowed_hosts, endpoint="download", deadline=None
    ):
        """Write the file into ``file`` (binary) chunk by chunk as it arrives; return its size.

        Redirects are followed by hand (at most 3) so every hop is checked again. At most
        ``max_bytes`` (TooLarge), within ``deadline`` seconds in all (``download_deadline`` by
        default; DownloadTimeout); a missing file is DownloadNotFound.
        """
        return self._download(url, file.write, max_bytes, allowed_hosts, endpoint, deadline)

    def _download(self, url, write, max_bytes, allowed_hosts, endpoint, deadline):
        deadline = _Deadline(self.clock, self.download_deadline if deadline is None else deadline)
        target = resolve_download_url(url, self.base_url)
        for _hop in range(MAX_REDIRECTS + 1):
            host = check_download_url(target, self.base_url, allowed_hosts)
            deadline.check(host)
            response = self._request(
                "GET",
                target,
                endpoint=endpoint,
                stream=True,
                allow_redirects=False,
                give_up_at=deadline.ends,
                headers=DOWNLOAD_HEADERS,
            )
            with closing(response):
                if response.status_code not in REDIRECT_STATUSES:
                    return self._read_body(response, write, max_bytes, host, deadline)
                location = (response.headers.get("Location") or "").strip()
            if not location:
                raise BadResponse(
                    "Download redirect without a Location header", status=response.status_code
                )
            target = urljoin(target, location)
        raise UnsafeUrl(f"Download refused after more than {MAX_REDIRECTS} redirects")

    def _read_body(self, response, write, max_bytes, host, deadline):
        status = response.status_code
        if status in GONE_STATUSES:
            raise DownloadNotFound(
                f"The file to download no longer exists at {host} (HTTP {status})", status=status
            )
        if not 200 <= status < 300:
            raise RequestRejected(
                f"The download from {host} was refused with HTTP {status}", status=status
            )
        declared = response.headers.get("Content-Length", "").strip()
        declared = int(declared) if declared.isdigit() else None
        if declared is not None and declared > max_bytes:
            raise TooLarge(f"The file is {declared} bytes, over the {max_bytes} bytes limit")
        decoder = _BodyDecoder(response.headers.get("Content-Encoding"), host)
        received = size = 0
        while True:
            deadline.check(host)
            chunk = self._read_chunk(response, host)
            if not chunk:
                break
            received += len(chunk)
            data = decoder.decode(chunk, max_bytes - size + 1)
            size += len(data)
            if size > max_bytes:
                raise TooLarge(f"The file is over the {max_bytes} bytes limit")
            write(data)
        if (declared is not None and received < declared) or not decoder.complete:
            raise ServiceUnavailable(f"The download from {host} was cut short")
        return size

    def _read_chunk(self, response, host):
        """At most one socket read: a trickling server cannot hold us past the deadline check."""
        raw = response.raw
        try:
            if hasattr(raw, "read1"):  # urllib3 2
                chunk = raw.read1(CHUNK_SIZE, decode_content=False)
            else:  # urllib3 1.26 (Odoo 18 pins it) has no read1; the http.client response has
                chunk = raw._fp.read1(CHUNK_SIZE)
        except (TimeoutError, ReadTimeoutError):
            reason = f"{host} did not answer within {self.timeout} s"
        except (OSError, HTTPException, Urllib3Error, ValueError) as exc:
            reason = f"The download from {host} was cut short ({type(exc).__name__})"
        else:
            return chunk or b""
        # Raised outside the except block: the transport error's text may hold the URL.
        raise ServiceUnavailable(reason)
