"""The HTTP plumbing every service client shares.

One ``requests.Session`` per client; every request has a timeout; connection errors, timeouts,
429 and 5xx are retried with exponential backoff (``Retry-After`` wins when the service sends
it); an optional client-side rate limit spaces requests; secrets are redacted from logs and
error messages. Subclasses add only their protocol: auth, URLs, status mapping, parsing.

Downloads of files named by the service's data (``download``, ``download_to_file``) come from
``urls.DownloadMixin``: the link rule, checked on every redirect hop, a size cap and a total
deadline (``download_deadline``) however slowly the server trickles.

Errors from ``requests`` are never let through: their text holds the full URL, query string and
all (ETM sends the password there). They are turned into ``ApiError`` subclasses, raised outside
the ``except`` block so no traceback chains back to the original.
"""

import json as jsonlib
import logging
import math
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import ClassVar
from urllib.parse import urlsplit

import requests

from .errors import (
    BadResponse,
    RateLimited,
    ServiceUnavailable,
)
from .redact import redact_text, register_log_secrets, secret_param_pattern
from .session import LoginGuard, SessionState
from .urls import DownloadMixin

__all__ = ["HttpClient", "LoginGuard", "SessionState", "utcnow"]

_logger = logging.getLogger(__name__)

BACKOFF_CAP = 60.0
# A download may take this many times the client's timeout in total, unless told otherwise.
DOWNLOAD_DEADLINE_FACTOR = 4
RETRIED_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


# datetime.UTC needs Python 3.11; Odoo 18 still runs on 3.10.
UTC = timezone.utc  # noqa: UP017


_MALFORMED = object()


def _decode_json(content):
    """The parsed document, or ``_MALFORMED`` (never an exception that carries the body)."""
    try:
        return jsonlib.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _MALFORMED


def utcnow():
    """Naive UTC now: what SessionState and the Odoo datetime fields use."""
    return datetime.now(UTC).replace(tzinfo=None)


class HttpClient(DownloadMixin):
    """Base of all service clients. See the module docstring for what it guarantees."""

    service_name = "the service"
    # Names of query/form/JSON parameters whose values never reach logs or error messages.
    secret_params = ()
    default_headers: ClassVar[dict] = {}
    # True: the rate limit applies per endpoint label (ETM limits each endpoint group apart).
    rate_limit_per_endpoint = False
    # A longer Retry-After is not slept through: the caller gets RateLimited and comes back later.
    max_retry_after = 300.0

    def __init_subclass__(cls, **kwargs):
        register_log_secrets(cls.secret_params)
        return super().__init_subclass__(**kwargs)

    def __init__(
        self,
        base_url,
        *,
        timeout=30,
        max_retries=3,
        backoff=1.0,
        rate_limit=0.0,
        sleep=time.sleep,
        clock=time.monotonic,
        now=utcnow,
        user_agent=None,
        session=None,
        download_deadline=None,
    ):
        if not base_url:
            raise ValueError("base_url is required")
        self.base_url = base_url.rstrip("/")
        # Never None: a request without a timeout can hang a cron worker forever.
        self.timeout = timeout or 30
        # Per socket read the timeout holds; a whole download gets this many seconds at most.
        self.download_deadline = float(download_deadline or DOWNLOAD_DEADLINE_FACTOR * self.timeout)
        self.max_retries = 3 if max_retries is None else max(0, int(max_retries))
        self.backoff = float(backoff or 0.0)
        self.rate_limit = float(rate_limit or 0.0)
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.session = session or requests.Session()
        self.session.headers.update(self.default_headers)
        self.session.headers["User-Agent"] = user_agent or "supplier_connector/18.0 (Odoo)"
        self.stats = Counter()
        self.request_count = 0
        # Pages fetched ahead (api/prefetch.py) send from several threads: `+=` is not atomic.
        self._count_lock = threading.Lock()
        self._next_slot = {}
        self._secret_pattern = secret_param_pattern(self.secret_params)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- public helpers -------------------------------------------------------------------------
    def url(self, path_or_url):
        if urlsplit(path_or_url).scheme in ("http", "https"):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method,
        path_or_url,
        *,
        params=None,
        json=None,
        data=None,
        headers=None,
        stream=False,
        endpoint=None,
        retries=None,
    ):
        """Send with retries; return the ``requests.Response`` for any non-retried status.

        ``retries`` overrides ``max_retries`` for this call (0 for non-idempotent pushes).
        """
        return self._request(
            method,
            path_or_url,
            endpoint=endpoint,
            retries=retries,
            stream=stream,
            params=params,
            json=json,
            data=data,
            headers=headers,
        )

    def json_or_raise(self, response, expected="a JSON document"):
        """Parsed JSON of ``response``; BadResponse when the body is malformed or cut short."""
        return self.parse_json(response.content, expected, status=response.status_code)

    def parse_json(self, content, expected="a JSON document", *, status=None):
        document = _decode_json(content)
        if document is not _MALFORMED:
            return document
        # Raised outside any except block: the decode error quotes the body (a session id…).
        where = f"HTTP {status}, " if status is not None else ""
        raise BadResponse(
            f"Expected {expected} from {self.service_name}, got malformed JSON "
            f"({where}{len(content)} bytes)",
            status=status,
        )

    def redact(self, text):
        """``text`` with secret parameter values and known secret values replaced by '***'."""
        return redact_text(text, self._secret_pattern, self._secret_values())

    def _secret_values(self):
        """Secret values a subclass holds (password, token): masked wherever they appear."""
        return ()

    # -- sending --------------------------------------------------------------------------------
    def _request(
        self,
        method,
        path_or_url,
        *,
        endpoint=None,
        retries=None,
        stream=False,
        allow_redirects=True,
        give_up_at=None,
        **body,
    ):
        """``give_up_at`` (a ``clock`` value): no retry whose wait would end after it."""
        label = endpoint or "other"
        prepared = self._prepare(method, self.url(path_or_url), body)
        allowed = self.max_retries if retries is None else max(0, retries)
        attempt = 0
        while True:
            try:
                response = self._send_once(prepared, label, stream, allow_redirects)
            except ServiceUnavailable as error:
                delay = self._backoff(attempt)
                if not error.retryable or attempt >= allowed or self._past(give_up_at, delay):
                    raise
            else:
                if not self._should_retry(response):
                    return response
                delay = self._retry_delay(response, attempt)
                if attempt >= allowed or self._past(give_up_at, delay):
                    raise self._exhausted(response, delay, attempt)
                response.close()
            attempt += 1
            _logger.info(
                "%s %s: retry %d of %d in %.1f s",
                prepared.method,
                self.redact(prepared.url),
                attempt,
                allowed,
                delay,
            )
            self.sleep(delay)

    def _past(self, give_up_at, delay):
        return give_up_at is not None and self.clock() + delay > give_up_at

    def _prepare(self, method, url, body):
        try:
            return self.session.prepare_request(requests.Request(method.upper(), url, **body))
        except requests.RequestException as exc:
            reason = type(exc).__name__  # its text holds the URL: keep only the kind
        raise ServiceUnavailable(
            f"Invalid request URL for {self.service_name} ({reason})", retryable=False
        )

    def _send_once(self, prepared, label, stream, allow_redirects):
        self._throttle(label)
        with self._count_lock:
            self.stats[label] += 1
            self.request_count += 1
        started = self.clock()
        response = failure = None
        try:
            settings = self.session.merge_environment_settings(prepared.url, {}, stream, None, None)
            response = self.session.send(
                prepared, timeout=self.timeout, allow_redirects=allow_redirects, **settings
            )
        except requests.RequestException as exc:
            failure = self._transport_error(exc, prepared.url)
        self._log(prepared, response, failure, started)
        if failure is not None:
            raise failure
        return response

    def _log(self, prepared, response, failure, started):
        if _logger.isEnabledFor(logging.DEBUG):
            outcome = (
                response.status_code if response is not None else f"failed ({failure.message})"
            )
            elapsed_ms = (self.clock() - started) * 1000
            _logger.debug(
                "%s %s -> %s in %d ms",
                prepared.method,
                self.redact(prepared.url),
                outcome,
                elapsed_ms,
            )

    def _transport_error(self, exc, url):
        host = urlsplit(url or "").hostname or self.service_name
        if isinstance(exc, requests.exceptions.SSLError):
            return ServiceUnavailable(f"TLS connection to {host} failed", retryable=False)
        if isinstance(exc, requests.Timeout):
            return ServiceUnavailable(f"{host} did not answer within {self.timeout} s")
        if isinstance(exc, RETRIED_TRANSPORT_ERRORS):
            return ServiceUnavailable(f"Could not connect to {host} ({type(exc).__name__})")
        return ServiceUnavailable(
            f"Request to {host} failed ({type(exc).__name__})", retryable=False
        )

    def _throttle(self, label):
        """Keep at least 1/rate_limit seconds between requests (per label when configured)."""
        if self.rate_limit <= 0:
            return
        key = label if self.rate_limit_per_endpoint else None
        now = self.clock()
        slot = self._next_slot.get(key, now)
        if slot > now:
            self.sleep(slot - now)
        self._next_slot[key] = max(slot, now) + 1.0 / self.rate_limit

    # -- retry policy ---------------------------------------------------------------------------
    def _should_retry(self, response):
        return response.status_code == 429 or 500 <= response.status_code < 600

    def _backoff(self, attempt):
        return min(self.backoff * 2**attempt, BACKOFF_CAP)

    def _retry_delay(self, response, attempt):
        wait = self._retry_after(response)
        if wait is None:
            return self._backoff(attempt)
        if wait > self.max_retry_after:
            response.close()
            raise RateLimited(
                f"{self.service_name} asks to wait {wait:.0f} s before trying again",
                status=response.status_code,
                retry_after=wait,
            )
        return wait

    def _retry_after(self, response):
        """Seconds to wait from ``Retry-After`` (seconds or HTTP date); None when absent/garbled.

        Services with their own header (MoySklad's X-Lognex-Retry-After in ms) override this.
        """
        value = (response.headers.get("Retry-After") or "").strip()
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            seconds = self._seconds_until(value)
        if seconds is None or not math.isfinite(seconds):
            return None
        return max(0.0, seconds)

    def _seconds_until(self, http_date):
        try:
            when = parsedate_to_datetime(http_date)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        return (when - self.now()).total_seconds()

    def _exhausted(self, response, delay, retries):
        response.close()
        status = response.status_code
        if status == 429:
            return RateLimited(
                f"{self.service_name} is still rate limiting after {retries} retries",
                status=status,
                retry_after=delay,
            )
        return ServiceUnavailable(
            f"{self.service_name} answered HTTP {status} after {retries} retries", status=status
        )
