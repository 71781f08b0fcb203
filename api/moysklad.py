"""MoySklad JSON API 1.2 client (https://api.moysklad.ru/api/remap/1.2).

Public API (stable: the emulator's tests and the Odoo side build on it)::

    client = MoySkladClient(login=..., password=..., session_state=state)   # or token=...
    client.obtain_token()                  # POST security/token (Basic), once; see Auth below
    client.session_state                   # SessionState to persist (token) after every run
    client.usage()                         # requests, units, waits, 429s, failures for the log
    client.reference()                     # MsReference: organizations, stores, price types,
                                           #   currencies, default currency (Test connection)
    client.iter_assortment(updated_since=dt)      # MsPage per page: MsProduct items + skipped
    client.iter_products(...), client.get_product(id), client.iter_variants(...)
    client.iter_folders(), client.list_uoms(), client.list_currencies(),
    client.company_settings(), client.price_types(), client.list_stores(),
    client.list_organizations()
    client.push_products([MsProductDraft | dict, ...])   # generator: [MsItemResult] per POST
    client.stock(by_store=True, stock_type="stock", changed_since=dt, assortment_ids=None)
    client.stock_by_store(types=("stock", "reserve", "inTransit"), ...)
    client.stock_report_from_url(report_url)      # a webhookstock's reportUrl, checked
    client.list_images(id), client.add_image(id, filename, content), client.delete_image(...)
    client.download_image(image, max_bytes=...)
    client.list_webhooks(), client.create_webhook(url, action, entity_type), delete_webhook(id)
    client.list_stock_webhooks(), create_stock_webhook(url), delete_stock_webhook(id)
    client.iter_pages(path, parse=..., filter=..., search=..., order=..., expand=...)
    with client.prefetch_assortment(...) as pages:   # pages ahead fetched in threads,
        for page in pages: ...                        # handed in page order
    client.iter_stock_rows(stock_type=..., changed_since=dt)     # streamed short report
    client.get_json(path, params), client.post_json(path, body), client.put_json(path, body)

Part 2 (``moysklad_documents``)::

    client.iter_counterparties(updated_since=dt, with_details=False), get_counterparty(id),
    client.list_accounts(id), list_contacts(id), push_counterparties([MsCounterpartyDraft])
    client.create_document(MsDocumentDraft), update_document(draft), push_documents(kind, ...)
    client.get_document(kind, id), find_by_sync_id(entity_type, sync_id),
    client.iter_documents(kind, updated_since=dt), document_states(kind)
    client.country_book()                  # MsCountryBook of entity/country, read once per
                                           #   client: alpha2_of(ref), href_for("RU")

Webhook deliveries (for the controller): ``moysklad_events.parse_delivery(body, request_id)``.

Modules: catalogue calls ``moysklad_catalogue``, images and webhooks ``moysklad_media``,
counterparties and documents ``moysklad_documents``; plain data ``moysklad_data`` (products,
stock, money), ``moysklad_reference_data`` (folders, units, currencies, price types, stores,
organizations, images, webhooks), ``moysklad_partners_data`` and ``moysklad_documents_data``
(drafts and results of part 2), ``moysklad_countries`` (the country list and its ISO codes,
``iso3166``), meta and href readers ``moysklad_meta``; payloads, syncIds and bulk batches ``moysklad_payloads``;
filters and Moscow time ``moysklad_query``; limits and circuit breaker ``moysklad_limits``;
errors ``moysklad_errors``.

For the Odoo side: errors keep the shared ``code`` values except ``no_api_access`` (1061),
``plan_required`` (30006, 1043, 1070) and ``circuit_open``; each error has ``run_level`` (True:
stop the run: auth, no access, plan, rate limit, circuit) and ``service_code`` (MoySklad's
number). ``usage()`` is what the sync log shows (units used, seconds waited, 429s).

Auth
- Login + password: the first request that needs a token sends ``POST security/token`` with
  Basic auth; the token is kept in ``session_state.token`` for the caller to persist, and reused
  by every later run and worker. MoySklad revokes a user's older tokens when it issues a new one,
  so a token is never requested per run: only when none is stored, or once after a 401.
- A 401 on a stored token: one new token (only when login and password are known), the request
  sent again once; a 401 on the fresh token is MoySkladAuthError. Threads that hit the same 401
  share one new token (a lock: a second issue would revoke the first). A rejected login pauses
  further logins for ``login_retry_delay`` seconds (LoginBlocked); a forced re-login less than
  ``min_login_interval`` seconds after the previous one is refused (SessionExpired): a token that
  dies again at once is not cured by hammering ``security/token``.
- A pasted token (``token=``) without login/password is used as it is; a 401 is a
  MoySkladAuthError telling the administrator to paste a new one (no token request, ever).
  With login/password too, the stored session token wins, then the pasted one, then a new one.
- MoySklad documents no lifetime for tokens: ``expires_at`` is set a year ahead only because
  SessionState wants one; a 401 is the only real expiry signal.
- ``token_kind``: "user" (login/password, a user's token: the default) or "application" (a
  solution's token); it picks the default request weight (``moysklad_limits``). Without a
  ``request_weight``, the weight follows the documented schedule, read in Moscow time from
  ``now`` when each request leaves. The budget and the parallel slots are the account's, shared
  by every client of the same login (else token) on the same API in this process.

Every request
- ``Accept: application/json;charset=utf-8`` (1062 otherwise), ``Accept-Encoding: gzip`` (415
  otherwise; exactly ``gzip``, not requests' default list), ``Authorization: Bearer <token>``,
  JSON bodies serialised here as compact UTF-8 with ``Content-Type: application/json``.
- Timeouts, retries with backoff on time-outs, connection errors, 5xx and 429 come from the base
  class; a 429 waits ``X-Lognex-Retry-After`` (milliseconds) when MoySklad sends it, else
  ``Retry-After``, else the backoff. Budget, parallel limit, header slow-down and circuit breaker:
  ``moysklad_limits`` (every attempt, retries included, goes through them).
- Creations are retried only when they are idempotent: a bulk POST is retried when every new item
  carries a syncId; otherwise, and for image uploads, it is sent once and a lost answer raises
  OutcomeUnknown (look it up before sending again).
- Links MoySklad gives (``nextHref``, a webhook's ``reportUrl``) are followed only on the API's
  own scheme, host and port, under its path: the token never goes anywhere else.

Decisions where the documents are silent or disagree
- Lists: ``nextHref`` is followed; when a page has no ``nextHref`` but ``meta.size`` says rows
  remain, the next offset is asked (an answer without nextHref must not end a pull early). A
  ``nextHref`` that repeats a page already read ends with BadResponse (no endless loop).
  ``limit`` is at most 1000, and 100 when ``expand`` is asked (MoySklad ignores expand above).
  Pulls are asked in ``order=id`` unless told otherwise: offset pages stay put while objects
  change during the pull (in MoySklad's default or ``updated`` order, an object updated
  mid-pull moves and shifts the pages after it, and one object is skipped). The delta filter is
  ``updated>=`` the watermark: objects of the watermark's second come again (harmless, and
  nothing of that second is lost).
- ``entity/assortment`` is asked with ``X-Lognex-Remap-Beta-Feature: assortmentWithoutStock``
  (the new, faster endpoint; stock comes from the stock reports anyway); ``assortment_beta``
  False sends the legacy request. Services, bundles and consignments are skipped with a reason,
  not filtered out in the query, so the log can say what was left aside. Archived items are
  asked too (``archived=true;archived=false``): a product archived at MoySklad must reach Odoo.
- Short stock reports: one ``stockType`` per request (the document's rule), so stock, reserve
  and in-transit per store cost three requests of 5 units. ``changed_since`` older than 24 h
  (less a 5-minute margin) is dropped and the full report asked (``full=True`` on the result),
  a future one is clamped to now. Ids for ``assortment_ids``/``store_ids`` are sent 100 per
  request (URL length: 8 KB of headers at most).
- Bulk answers: HTTP 200 with one element per item, an element ``{"errors": [...]}`` (no meta)
  being that item's error; the same array shape under HTTP 400 is read per item too. When the
  answer has another length, items are matched by syncId (creations) and href (updates); an item
  left unmatched gets a BadResponse error of its own.
- 30003 (webhook exists already) and 3006 (a unique value taken) are AlreadyExists: the caller
  adopts the existing object.
- Errors are MoySklad error classes (``moysklad_errors``): the numeric code stays on the
  exception as ``service_code``; an error body that is not JSON (HTML from a proxy, the empty
  415) still gives the class and words of its HTTP status.
- Images: the file is checked before sending (a name with an extension, at most 255 characters,
  1 byte to 10 MB: error 1079's limit) and sent base64 in ``{"filename", "content"}``. The
  10-images-per-product limit is MoySklad's to enforce (the caller knows the count from
  ``MsProduct.images_count``). ``download_image`` sends the token only to the API's
  ``downloadHref``; the temporary link it redirects to is fetched without it, https on
  ``moysklad.ru`` hosts only (``allowed_hosts``), or on the API's own origin (an emulator).
- Test connection: ``reference()`` (company settings, organizations, stores, currencies: five
  requests); when companysettings gives the accounting currency as a bare reference, it is
  completed from the currency list.
- Prefetch (``prefetch``): the pages of a list are fetched one ahead in a thread
  (``api.prefetch``) while the caller applies the current one; MoySklad's 45 units per 3 s are
  then spent while Odoo works, not after. Stopping it (``close``, an error in the caller) makes
  that thread's next request or wait raise PrefetchStopped inside the thread: no request
  leaves after the stop, and a wait for the budget or a retry ends at once.
"""

import base64
import logging
import threading
import time
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from .base import HttpClient
from .errors import BadResponse, OutcomeUnknown, ServiceUnavailable
from .moysklad_catalogue import MoySkladCatalogueMixin
from .moysklad_countries import MoySkladCountriesMixin
from .moysklad_data import MsPage, skipped_row, text
from .moysklad_documents import MoySkladDocumentsMixin
from .moysklad_errors import (
    MoySkladAuthError,
    MoySkladUnavailable,
    build_error,
    error_entries,
)
from .moysklad_limits import (
    CircuitBreaker,
    MoySkladLimiter,
    account_key,
    default_weight,
    moscow_date,
    retry_after_ms,
)
from .moysklad_media import MoySkladMediaMixin
from .moysklad_payloads import dumps
from .moysklad_query import MAX_LIMIT, list_params
from .prefetch import PrefetchStopped
from .session import SessionClientMixin

__all__ = ["MOYSKLAD_DEFAULT_URL", "MOYSKLAD_HOSTS", "MoySkladClient", "MsReference"]

_logger = logging.getLogger(__name__)
WRITING_METHODS = frozenset({"POST", "PUT", "DELETE"})

MOYSKLAD_DEFAULT_URL = "https://api.moysklad.ru/api/remap/1.2"
# Hosts image downloads may be redirected to (miniatures, CDN, static files).
MOYSKLAD_HOSTS = ("moysklad.ru",)
ACCEPT = "application/json;charset=utf-8"
TOKEN_TTL = 365 * 24 * 3600
_MALFORMED = object()


@dataclass
class MsReference:
    """What Test connection loads into the connection."""

    organizations: list
    stores: list
    price_types: list
    currencies: list
    default_currency: object


class MoySkladClient(
    MoySkladCatalogueMixin,
    MoySkladMediaMixin,
    MoySkladDocumentsMixin,
    MoySkladCountriesMixin,
    SessionClientMixin,
    HttpClient,
):
    service_name = "MoySklad"
    secret_params = ("access_token", "password")
    default_headers: ClassVar[dict] = {"Accept": ACCEPT, "Accept-Encoding": "gzip"}
    max_retry_after = 60.0

    def __init__(
        self,
        *,
        base_url=MOYSKLAD_DEFAULT_URL,
        login="",
        password="",
        token="",
        session_state=None,
        token_kind="user",
        request_weight=None,
        max_parallel=5,
        low_remaining=None,
        max_wait=60.0,
        budget_margin=0.2,
        max_failures=50,
        max_identical_failures=10,
        max_rate_limited=20,
        breaker_window=60.0,
        breaker_cooldown=60.0,
        login_retry_delay=300,
        min_login_interval=60,
        assortment_beta=True,
        stock_ids_per_request=100,
        allowed_hosts=MOYSKLAD_HOSTS,
        webhook_quiet_prefix="",
        **http_options,
    ):
        super().__init__((base_url or MOYSKLAD_DEFAULT_URL).strip(), **http_options)
        self._login_name = text(login)
        self._password = password or ""
        self._pasted_token = text(token)
        self.token_kind = token_kind
        default_weight(token_kind)  # ValueError for an unknown kind, now rather than later
        # The documented schedule, in Moscow time, when each request leaves (see Auth).
        weight = request_weight or (lambda: default_weight(token_kind, moscow_date(self.now())))
        # A thread prefetching pages gets an event that cancels its requests and waits.
        self._local = threading.local()
        self._plain_sleep = self.sleep
        self.sleep = self._sleep
        breaker = CircuitBreaker(
            max_failures=max_failures,
            max_identical_failures=max_identical_failures,
            max_rate_limited=max_rate_limited,
            window=breaker_window,
            cooldown=breaker_cooldown,
            clock=self.clock,
        )
        self.limiter = MoySkladLimiter(
            request_weight=weight, clock=self.clock, sleep=self.sleep,
            max_parallel=max_parallel, low_remaining=low_remaining, max_wait=max_wait,
            breaker=breaker, margin=budget_margin,
            account=account_key(self.base_url, self._login_name if self.can_login else "",
                                self._pasted_token),
        )  # fmt: skip
        self.assortment_beta = bool(assortment_beta)
        self.stock_ids_per_request = max(1, int(stock_ids_per_request or 100))
        self.allowed_hosts = tuple(allowed_hosts or ())
        # Our own changes must not come back to us as webhooks: writing requests carry
        # X-Lognex-WebHook-DisableByPrefix with the prefix of our webhook URLs.
        self.webhook_quiet_prefix = text(webhook_quiet_prefix)
        self._token_lock = threading.Lock()
        self.tokens_issued = 0
        api = urlsplit(self.base_url)
        self._api_origin = _origin(api)
        self._api_path = api.path.rstrip("/")
        self._init_session(
            session_state,
            ttl=TOKEN_TTL,
            retry_delay=login_retry_delay,
            min_interval=min_login_interval,
        )
        self._remember(self._pasted_token)

    def _secret_values(self):
        return (self._password, self._basic_credentials(), *self._tokens)

    def _basic_credentials(self):
        pair = f"{self._login_name}:{self._password}".encode()
        return base64.b64encode(pair).decode("ascii") if self.can_login else ""

    @property
    def can_login(self):
        return bool(self._login_name and self._password)

    # -- auth -------------------------------------------------------------------------------------
    def obtain_token(self, forced=False):
        """A new token from ``POST security/token`` (Basic auth); stored in ``session_state``.

        Revokes the user's older tokens at MoySklad: call it only when no token is stored or the
        stored one was refused (``forced``)."""
        if not self.can_login:
            raise MoySkladAuthError(
                "No MoySklad login and password are configured to obtain a token"
            )
        self._guard.check_allowed(forced=forced)  # LoginBlocked / SessionExpired
        response = self._request(
            "POST", "security/token",
            headers={"Authorization": f"Basic {self._basic_credentials()}"},
            endpoint="security/token", retries=0,
        )  # fmt: skip
        status = response.status_code
        if not 200 <= status < 300:
            error = self._error_from(response, "POST security/token")
            if type(error) is MoySkladAuthError:  # 401 / 1056 (1048 and 1061 are their own)
                until = self._guard.record_rejection()
                raise MoySkladAuthError(
                    f"MoySklad rejected the login or password (HTTP {status}); no new attempt "
                    f"before {until:%Y-%m-%d %H:%M} UTC",
                    status=status, detail=error.detail, service_code=error.service_code,
                    errors=error.errors,
                )  # fmt: skip
            raise error
        body = self.json_or_raise(response, "a JSON token answer")
        token = text(body.get("access_token")) if isinstance(body, dict) else ""
        if not token:
            raise BadResponse("The MoySklad token answer has no access_token", status=status)
        self._remember(token)
        self._guard.record_success(token, forced=forced)
        self.tokens_issued += 1
        _logger.info("MoySklad: a new access token was issued (older ones are now revoked)")
        return token

    def _current_token(self):
        if self.can_login:
            token = self._guard.state.token or self._pasted_token
            if token:
                return token
            with self._token_lock:
                return self._guard.state.token or self.obtain_token()
        if self._pasted_token:
            return self._pasted_token
        raise MoySkladAuthError("No MoySklad token, or login and password, is configured")

    def _renew_token(self, refused):
        """One new token after ``refused`` got a 401 (shared by threads that hit the same 401)."""
        with self._token_lock:
            current = self._guard.state.token
            if current and current != refused:
                return current  # another thread renewed it meanwhile
            self._guard.invalidate()
            return self.obtain_token(forced=True)

    # -- sending ----------------------------------------------------------------------------------
    def _is_api_url(self, url):
        parts = urlsplit(url)
        return _origin(parts) == self._api_origin and (
            parts.path == self._api_path or parts.path.startswith(self._api_path + "/")
        )

    def _relative_path(self, url):
        return urlsplit(url).path[len(self._api_path):].strip("/")

    # -- prefetching ------------------------------------------------------------------------------
    def _cancel_on(self, event):
        """Requests and waits of the calling thread stop once ``event`` is set."""
        self._local.cancel = event

    def _check_cancelled(self):
        event = getattr(self._local, "cancel", None)
        if event is not None and event.is_set():
            raise PrefetchStopped("The prefetch was stopped: no more MoySklad requests")

    def _sleep(self, seconds):
        """The client's sleep (retries, the budget); in a prefetching thread it ends when the
        prefetch is stopped."""
        event = getattr(self._local, "cancel", None)
        if event is None:
            return self._plain_sleep(seconds)
        self._check_cancelled()
        if self._plain_sleep is time.sleep:
            event.wait(seconds)
        else:
            self._plain_sleep(seconds)
        self._check_cancelled()
        return None

    def _send_once(self, prepared, label, stream, allow_redirects):
        self._check_cancelled()
        if not self._is_api_url(prepared.url):
            return super()._send_once(prepared, label, stream, allow_redirects)
        self.limiter.before(self._relative_path(prepared.url))
        status = headers = None
        try:
            response = super()._send_once(prepared, label, stream, allow_redirects)
            status, headers = response.status_code, response.headers
            return response
        finally:
            self.limiter.after((prepared.method, prepared.url), status=status, headers=headers)

    def _retry_after(self, response):
        wait = retry_after_ms(response.headers)
        return wait if wait is not None else super()._retry_after(response)

    def _retry_delay(self, response, attempt):
        wait = self._retry_after(response)
        if response.status_code == 429 and wait is not None and wait > self.max_retry_after:
            error = self._error_from(response, "", retry_after=wait)
            error.message = f"{error.message}; MoySklad asks to wait {wait:.0f} s"
            raise error
        return super()._retry_delay(response, attempt)

    def _exhausted(self, response, delay, retries):
        error = self._error_from(response, "", retry_after=delay)
        if response.status_code == 429:
            error.message = f"{error.message}; still refused after {retries} retries"
            return error
        if isinstance(error, ServiceUnavailable):
            return error
        return MoySkladUnavailable(
            f"MoySklad answered HTTP {response.status_code} after {retries} retries",
            status=response.status_code, detail=error.detail,
            service_code=error.service_code, errors=error.errors,
        )  # fmt: skip

    def _send(self, method, path, token, *, params, body, endpoint, retries, once,
              allow_redirects=True, extra_headers=None, stream=False):  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        if self.webhook_quiet_prefix and method.upper() in WRITING_METHODS:
            headers["X-Lognex-WebHook-DisableByPrefix"] = self.webhook_quiet_prefix
        headers.update(extra_headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else dumps(body)
            headers["Content-Type"] = "application/json"
        options = {"params": params, "data": data, "headers": headers, "endpoint": endpoint,
                   "retries": 0 if once else retries, "allow_redirects": allow_redirects,
                   "stream": stream}  # fmt: skip
        if not once:
            return self._request(method, path, **options)
        failure = None
        try:
            return self._request(method, path, **options)
        except ServiceUnavailable as exc:
            failure = exc
        if not failure.retryable:
            raise failure
        raise OutcomeUnknown(
            f"No answer to the MoySklad {method} {endpoint} request ({failure.message}); it may "
            "have been carried out: look it up before sending it again",
            status=failure.status,
        )

    def _call(self, method, path, *, params=None, body=None, endpoint=None, retries=None,
              once=False, allow_redirects=True, extra_headers=None, stream=False):  # fmt: skip
        """Send with the token; on a 401 renew it once (see Auth). Returns the response of any
        other status, unchecked (``stream``: its body not read yet)."""
        endpoint = endpoint or self._endpoint_label(path)
        options = {"params": params, "body": body, "endpoint": endpoint, "retries": retries,
                   "once": once, "allow_redirects": allow_redirects,
                   "extra_headers": extra_headers, "stream": stream}  # fmt: skip
        token = self._current_token()
        response = self._send(method, path, token, **options)
        if response.status_code != 401:
            return response
        if not self.can_login:
            error = self._error_from(response, f"{method} {endpoint}")
            raise MoySkladAuthError(
                "MoySklad refused the access token (HTTP 401): paste a new token on the "
                "connection, or enter the login and password",
                status=401, detail=error.detail, service_code=error.service_code,
                errors=error.errors,
            )  # fmt: skip
        response.close()
        token = self._renew_token(token)
        response = self._send(method, path, token, **options)
        if response.status_code == 401:
            error = self._error_from(response, f"{method} {endpoint}")
            self._guard.invalidate()
            raise MoySkladAuthError(
                "MoySklad refused a freshly issued token (HTTP 401): check that the user may "
                "use the API",
                status=401, detail=error.detail, service_code=error.service_code,
                errors=error.errors,
            )  # fmt: skip
        return response

    def _endpoint_label(self, path):
        """Stats label: the path without ids (entity/product/<id>/images -> entity/product/images)."""
        if self._is_api_url(self.url(path)):
            path = self._relative_path(self.url(path))
        parts = [part for part in path.split("?", 1)[0].strip("/").split("/") if part]
        return "/".join(part for part in parts if not _looks_like_id(part)) or "root"

    # -- answers ----------------------------------------------------------------------------------
    def _body(self, response):
        content = response.content
        response.close()
        if not content or not content.strip():
            return None
        try:
            return self.parse_json(content)
        except BadResponse:
            return _MALFORMED

    def _error_from(self, response, what, retry_after=None):
        body = self._body(response)
        entries = error_entries(body) if body is not _MALFORMED else []
        status = response.status_code
        if status == 429 and retry_after is None:
            retry_after = retry_after_ms(response.headers)
        blocked_until = None
        if any(entry.code == 1048 for entry in entries):
            blocked_until = self._guard.record_rejection()
        return build_error(status, entries, redact=self.redact, what=what,
                           retry_after=retry_after, blocked_until=blocked_until)  # fmt: skip

    def _raise_for_status(self, response, what):
        if 200 <= response.status_code < 300:
            return
        raise self._error_from(response, what)

    def _json(self, method, path, *, params=None, body=None, endpoint=None, retries=None,
              once=False, expected="a JSON document", allow_empty=False, extra_headers=None):  # fmt: skip
        endpoint = endpoint or self._endpoint_label(path)
        response = self._call(method, path, params=params, body=body, endpoint=endpoint,
                              retries=retries, once=once, extra_headers=extra_headers)  # fmt: skip
        self._raise_for_status(response, f"{method} {endpoint}")
        if not response.content.strip():
            response.close()
            if allow_empty:
                return None
            raise BadResponse(f"MoySklad sent an empty answer to {method} {endpoint}",
                              status=response.status_code)  # fmt: skip
        return self.json_or_raise(response, expected)

    def get_json(self, path, params=None, *, endpoint=None, extra_headers=None):
        return self._json("GET", path, params=params, endpoint=endpoint,
                          extra_headers=extra_headers)  # fmt: skip

    def post_json(self, path, body, *, params=None, endpoint=None, once=False):
        return self._json("POST", path, params=params, body=body, endpoint=endpoint, once=once)

    def put_json(self, path, body, *, params=None, endpoint=None):
        return self._json("PUT", path, params=params, body=body, endpoint=endpoint)

    def delete(self, path, *, endpoint=None):
        """DELETE; a missing object (404/1021) is MoySkladNotFound."""
        return self._json("DELETE", path, endpoint=endpoint, allow_empty=True)

    # -- lists ------------------------------------------------------------------------------------
    def iter_pages(self, path, *, parse, limit=MAX_LIMIT, offset=0, filter=None, search=None,
                   order=None, expand=None, params=None, endpoint=None, extra_headers=None,
                   skip=None):  # fmt: skip
        """Pages of a list (``meta`` + ``rows``), one request per page, lazily: a generator of
        MsPage. ``parse(row)`` gives an item or None (then ``skip(row)`` gives the MsSkipped)."""
        skip = skip or skipped_row
        query = list_params(limit=limit, offset=offset, filter=filter, search=search,
                            order=order, expand=expand, extra=params)  # fmt: skip
        endpoint = endpoint or self._endpoint_label(path)
        target, seen = path, set()
        while True:
            document = self._json("GET", target, params=query, endpoint=endpoint,
                                  expected="a JSON list", extra_headers=extra_headers)  # fmt: skip
            rows = document.get("rows") if isinstance(document, dict) else None
            if not isinstance(rows, list):
                raise BadResponse(f"The MoySklad list {endpoint} has no rows")
            meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
            items, skipped = [], []
            for row in rows:
                item = parse(row)
                if item is None:
                    skipped.append(skip(row))
                else:
                    items.append(item)
            page_offset = _int(meta.get("offset"), _int((query or {}).get("offset"), 0))
            page_limit = _int(meta.get("limit"), _int((query or {}).get("limit"), MAX_LIMIT))
            size = _int(meta.get("size"), None)
            next_href = text(meta.get("nextHref"))
            yield MsPage(items=items, skipped=skipped, offset=page_offset, limit=page_limit,
                         size=size, next_href=next_href)  # fmt: skip
            if next_href:
                if not self._is_api_url(next_href):
                    raise BadResponse("MoySklad's nextHref points outside the API; not followed")
                if next_href in seen:
                    raise BadResponse("MoySklad's nextHref repeats a page already read")
                seen.add(next_href)
                target, query = next_href, None
                continue
            if rows and size is not None and page_offset + len(rows) < size:
                query = dict(list_params(limit=page_limit, offset=page_offset + len(rows),
                                         filter=filter, search=search, order=order,
                                         expand=expand, extra=params))  # fmt: skip
                target = path
                continue
            return

    def iter_rows(self, path, *, parse, **options):
        for page in self.iter_pages(path, parse=parse, **options):
            yield from page.items

    def list_all(self, path, *, parse, **options):
        return list(self.iter_rows(path, parse=parse, **options))

    # -- reporting --------------------------------------------------------------------------------
    def usage(self):
        """For the sync log: requests, units, seconds waited, 429s, failures, per endpoint."""
        report = self.limiter.usage()
        report["tokens_issued"] = self.tokens_issued
        report["per_endpoint"] = dict(self.stats)
        return report


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _origin(parts):
    """(scheme, host, port) with the default port filled in: ':443' is the same origin."""
    try:
        port = parts.port
    except ValueError:
        return (None, None, None)
    scheme = (parts.scheme or "").lower()
    return (scheme, parts.hostname, port or {"https": 443, "http": 80}.get(scheme))


def _looks_like_id(part):
    return len(part) >= 32 and part.count("-") == 4
