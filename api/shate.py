"""Shate-M Plus client (https://api.shate-m.ru, paths /api/v1/...): articles, offers, cart, orders.

Decisions where the document (revision 1.2.3) is silent or contradicts itself, and what the field
notes (shared/api-docs/FIELD-NOTES.md) changed:

- URL: ``base_url`` is the host root; a trailing ``/api/v1`` is accepted and dropped, so the
  ``.by``/``.kz`` hosts, proxies and the local emulator are all a URL away.
- Login: API key preferred when set: ``POST /api/v1/auth/loginByapiKey`` (the document's path
  spelling; notes also see ``loginbyapikey``) with the form field ``apikey`` (document; notes say
  ``ApiKey`` works too). Else ``POST /api/v1/auth/login`` with form fields ``Login``/``Password``
  (the document's table spelling). The token's lifetime is ``expires_in`` (3600 in the document,
  1800 seen live; ``token_ttl`` when absent); it is reused across runs through ``session_state``
  until ``token_margin`` (120 s) before it expires. ``refresh_token`` comes back empty in the
  document: the client logs in again instead.
- Auth failures: HTTP 400/401/403 on a login means the credentials were rejected: no new login
  for ``login_retry_delay`` (1 h; suppliers block accounts that keep sending bad credentials),
  LoginBlocked without a request meanwhile. 5xx/timeouts at login are the service's fault (no
  block). A 401 on any call: one re-login and one repeat; a second 401 raises SessionExpired, and
  a forced re-login is not repeated within ``min_login_interval`` (never a loop). A 401 is answered
  before the request is processed, so even an order is repeated safely after it.
- Names: JSON bodies and query parameters are camelCase, as in every JSON example of the document
  (its tables mix PascalCase and camelCase; the service binds names case-insensitively).
- GET articles/search: the section heading takes ``searchString`` as a query parameter, other
  sections name a ``/articles/search/{articleSearchString}`` path; the heading is followed.
  ``include`` is sent comma-joined (contents, extended_info, trademark).
- POST articles/search: body ``{"keys": [{"articleCode", "tradeMarkName"}], "include"}`` or
  ``{"ids": [1, 2], ...}`` (the document lists ``Ids`` as a collection of ids: plain numbers are
  sent). The document gives no batch limit: ``article_batch_size`` (50) keys per request. Answers
  are matched back by code and brand compared without case, spaces and punctuation; with one key
  asked, everything answered belongs to it.
- POST prices/search: the document lists the parameters but shows no body. Field notes: typed
  clients (and the service's own runtime error) use an array of ``{articleId, agreementCode,
  deliveryAddressCode, includeAnalogs}``, others one object. ``price_request_shape`` 'array'
  (default: up to ``price_batch_size`` articles per request) or 'object' (one per request). With
  ``include_analogs`` every request holds one article: the answer says which article an offer is
  for but not which asked article it is an analog of. Grouped answers (``with_article_info``
  shape) are accepted too. Notes: the service answers an empty list unless ``agreementCode`` and
  ``deliveryAddressCode`` are given, so the client's ``agreement_code``/``delivery_address_code``
  are sent whenever the call gives none.
- Price limits: 2,000 per 15 min and 120,000 per day for API accounts (Belarus: 1,200 and 40,000);
  the document speaks of "requests for an article's price", so by default ``price_budget`` is
  charged one unit per article in a request (``price_budget_unit='request'`` charges one per
  request). The budget is checked before anything is sent (RateLimited, no request). The document
  says a 429 on prices lasts "until the end of the day": a 429 without ``Retry-After`` there waits
  until the next midnight of the service (UTC+3, ``service_utc_offset``), which raises RateLimited
  at once instead of sleeping, and the budget is blocked that long so the next run does not try.
- Orders (byPriceItems, byCartItems) are sent once, never retried automatically: a timeout, a lost
  connection, a 5xx or a garbled 2xx raises OutcomeUnknown, and the caller must reconcile with
  ``get_orders`` (by date, article, agreement) before sending again. The answer does not echo
  ``priceId`` (notes): lines are matched back by article. A refusal (HTTP 400/409/422) is returned
  as a ShateOrderResult with ``created`` False and every error kept; other failures raise.
  ``expectedDateTimeOfArrivalAllItems`` is sent at the top level (the table does not say where);
  ``deliveryType`` is ``ManyDelivery``/``OneDelivery`` (the document writes "Many Delivery");
  without a delivery address the order is a pickup (no ``deliveryInfo``), as the document says.
- Adding to the cart is not retried either (a retry could add the line twice); PATCH and DELETE
  are idempotent and keep the normal retries.
- The document's examples are not valid JSON in places (missing commas, an unquoted ``priceId``,
  a Cyrillic "с" in ``сanReturn``); parsing is tolerant of the latter, and of a single object where
  a list is expected (trademarks, customer info) and of list wrappers ({"items": [...]}).
- contents/search takes one ``contentId`` per request (the document's body); ``value`` is a
  ``data:`` URI in the document: ``content_bytes`` decodes it, or downloads a link from the
  Shate-M hosts only.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from datetime import time as day_start
from typing import ClassVar
from urllib.parse import quote

from .base import HttpClient
from .errors import (
    AuthError,
    BadResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
    TooLarge,
)
from .etm_data import text, to_int
from .session import SessionClientMixin
from .shate_data import (
    DELIVERY_MANY,
    ShateOrderLine,
    format_datetime,
    normalize_key,
    offer_rows,
    parse_agreement,
    parse_article,
    parse_cart_item,
    parse_contents,
    parse_customer,
    parse_delivery_address,
    parse_delivery_dates,
    parse_location,
    parse_offer,
    parse_order,
    parse_order_result,
    parse_status_change,
    parse_status_code,
    parse_trademark,
    rows_of,
)

__all__ = ["SHATE_DEFAULT_URL", "SHATE_HOSTS", "ShateClient"]

_logger = logging.getLogger(__name__)

SHATE_DEFAULT_URL = "https://api.shate-m.ru"
SHATE_HOSTS = ("shate-m.ru", "shate-m.by", "shate-m.com", "shate-m.kz")
API = "api/v1"
ARTICLE_BATCH_SIZE = 50
PRICE_BATCH_SIZE = 20
PRICE_SHAPES = ("array", "object")
BUDGET_UNITS = ("article", "request")
REJECTED_LOGIN_HTTP = (400, 401, 403)
ORDER_REFUSAL_HTTP = (400, 409, 422)
MAX_DETAIL = 500
_MALFORMED = object()


def _root_url(base_url):
    url = (base_url or SHATE_DEFAULT_URL).strip().rstrip("/")
    if url.lower().endswith("/" + API):
        url = url[: -len(API) - 1]
    return url


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _include(include):
    """('contents', 'trademark') or 'contents,trademark' → 'contents,trademark' (None if empty)."""
    if isinstance(include, str):
        include = include.split(",")
    values = [text(value).lower() for value in include or () if text(value)]
    return ",".join(dict.fromkeys(values)) or None


def _quantity(value):
    number = float(value)
    return int(number) if number.is_integer() else number


def _order_lines(lines):
    parsed = []
    for line in lines or ():
        if isinstance(line, dict):
            line = ShateOrderLine(line.get("price_id"), line.get("quantity"), line.get("comment"))
        elif not isinstance(line, ShateOrderLine):
            line = ShateOrderLine(*line)
        if not text(line.price_id) or not line.quantity or float(line.quantity) <= 0:
            raise ValueError("Every order line needs a price id and a quantity > 0")
        parsed.append(line)
    if not parsed:
        raise ValueError("An order needs at least one line")
    return parsed


class ShateClient(SessionClientMixin, HttpClient):
    service_name = "Shate-M"
    secret_params = ("apikey", "password", "access_token", "refresh_token", "token")
    default_headers: ClassVar[dict] = {"Accept": "application/json"}

    def __init__(
        self,
        *,
        api_key=None,
        login=None,
        password=None,
        base_url=SHATE_DEFAULT_URL,
        session_state=None,
        token_margin=120,
        token_ttl=3600,
        login_retry_delay=3600,
        min_login_interval=120,
        price_budget=None,
        price_budget_unit="article",
        price_request_shape="array",
        price_batch_size=PRICE_BATCH_SIZE,
        article_batch_size=ARTICLE_BATCH_SIZE,
        agreement_code=None,
        delivery_address_code=None,
        service_utc_offset=3,
        allowed_hosts=SHATE_HOSTS,
        **http_options,
    ):
        super().__init__(_root_url(base_url), **http_options)
        if price_request_shape not in PRICE_SHAPES:
            raise ValueError(f"price_request_shape must be one of {PRICE_SHAPES}")
        if price_budget_unit not in BUDGET_UNITS:
            raise ValueError(f"price_budget_unit must be one of {BUDGET_UNITS}")
        self._api_key = text(api_key)
        self._login_name = text(login)
        self._password = password or ""
        self.token_ttl = int(token_ttl or 3600)
        self.price_budget = price_budget
        self.price_budget_unit = price_budget_unit
        self.price_request_shape = price_request_shape
        self.price_batch_size = max(1, int(price_batch_size or PRICE_BATCH_SIZE))
        self.article_batch_size = max(1, int(article_batch_size or ARTICLE_BATCH_SIZE))
        self.agreement_code = text(agreement_code) or None
        self.delivery_address_code = text(delivery_address_code) or None
        self.service_utc_offset = float(service_utc_offset or 0)
        self.allowed_hosts = tuple(allowed_hosts or ())
        # Filled by get_locations(): offers then carry their location's name.
        self.location_names = {}
        self._init_session(
            session_state,
            ttl=self.token_ttl,
            retry_delay=login_retry_delay,
            min_interval=min_login_interval,
            margin=token_margin,
        )

    def _secret_values(self):
        return (self._api_key, self._password, *self._tokens)

    # -- token ------------------------------------------------------------------------------
    def login(self, forced=False):
        """Get a new token (API key first); LoginBlocked/SessionExpired when a login is unwise.

        ``forced``: the service refused the current token (see ``LoginGuard.check_allowed``).
        """
        if self._api_key:
            path, form, how = f"{API}/auth/loginByapiKey", {"apikey": self._api_key}, "API key"
        elif self._login_name and self._password:
            form = {"Login": self._login_name, "Password": self._password}
            path, how = f"{API}/auth/login", "login and password"
        else:
            # Not worth a request: empty credentials would only count as a rejected attempt.
            raise AuthError("No Shate-M API key, or login and password, is configured")
        self._guard.check_allowed(forced=forced)
        response = self._request("POST", path, data=form, endpoint="login")
        status = response.status_code
        if status in REJECTED_LOGIN_HTTP:
            detail = self._error_detail(response)
            until = self._guard.record_rejection()
            raise AuthError(
                f"Shate-M rejected the {how} (HTTP {status}); no new attempt before "
                f"{until:%Y-%m-%d %H:%M} UTC",
                status=status,
                detail=detail,
            )
        if not 200 <= status < 300:
            response.close()
            raise BadResponse(f"Unexpected HTTP {status} from the Shate-M login", status=status)
        body = self.json_or_raise(response, "a JSON token answer")
        token = text(body.get("access_token")) if isinstance(body, dict) else ""
        if not token:
            raise BadResponse("The Shate-M login answer has no access_token", status=status)
        self._remember(token)
        ttl = to_int(body.get("expires_in"))
        self._guard.record_success(token, ttl=ttl if ttl and ttl > 0 else None, forced=forced)
        return token

    def ensure_token(self):
        """The saved token while valid (``token_margin`` before expiry), else a fresh login."""
        return self._guard.usable_token() or self.login()

    ensure_session = ensure_token  # the name the other clients use

    # -- the call protocol --------------------------------------------------------------------
    def _call(self, method, path, *, endpoint, params=None, json=None, retries=None, once=False):
        """Send with the bearer token; on a 401 log in again once and repeat once.

        ``once``: a non-idempotent request (no retries; a lost answer raises OutcomeUnknown).
        Returns the response of any other status, unchecked.
        """
        options = {"params": params, "json": json, "endpoint": endpoint, "retries": retries}
        if once:
            options["retries"] = 0
        token = self.ensure_token()
        response = self._send(method, path, token, once, options)
        if response.status_code == 401:
            response.close()
            self._guard.invalidate()
            token = self.login(forced=True)
            response = self._send(method, path, token, once, options)
            if response.status_code == 401:
                response.close()
                self._guard.invalidate()
                raise SessionExpired("Shate-M refused a freshly issued token", status=401)
        return response

    def _send(self, method, path, token, once, options):
        headers = {"Authorization": f"Bearer {token}"}
        if not once:
            return self._request(method, path, headers=headers, **options)
        failure = None
        try:
            return self._request(method, path, headers=headers, **options)
        except ServiceUnavailable as exc:
            failure = exc
        if not failure.retryable:  # TLS or URL failure: nothing reached the service
            raise failure
        raise OutcomeUnknown(
            f"No answer to the Shate-M {options['endpoint']} request ({failure.message}); it may "
            "have been processed: look it up before sending it again",
            status=failure.status,
        )

    def _checked_json(self, method, path, *, endpoint, params=None, json=None, retries=None):
        response = self._call(
            method, path, endpoint=endpoint, params=params, json=json, retries=retries
        )
        self._raise_for_status(response, endpoint)
        if not response.content.strip():
            return None
        return self.json_or_raise(response, f"a JSON {endpoint} answer")

    def _get(self, path, *, endpoint, params=None):
        return self._checked_json("GET", path, endpoint=endpoint, params=params)

    def _raise_for_status(self, response, endpoint):
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = self._error_detail(response)
        if status == 404:
            raise NotFound(
                f"Shate-M found nothing for the {endpoint} request", status=404, detail=detail
            )
        if status == 403:
            raise RequestRejected(
                f"Shate-M does not allow the {endpoint} request for this account (HTTP 403): "
                "ask the Shate-M manager to enable it",
                status=403,
                detail=detail,
            )
        if status == 429:
            raise RateLimited(f"Shate-M is rate limiting the {endpoint} requests", status=429)
        if 400 <= status < 500:
            raise RequestRejected(
                f"Shate-M rejected the {endpoint} request (HTTP {status})",
                status=status,
                detail=detail,
            )
        raise BadResponse(
            f"Unexpected HTTP {status} in the Shate-M {endpoint} answer",
            status=status,
            detail=detail,
        )

    def _body(self, response):
        """Parsed JSON body, None when empty, _MALFORMED when not JSON. Never raises."""
        content = response.content
        response.close()
        if not content.strip():
            return None
        try:
            return self.parse_json(content)
        except BadResponse:
            return _MALFORMED

    def _error_detail(self, response):
        """The service's own words from an error body ({code, description, messages},
        ASP.NET problem details, OAuth errors), redacted and cut short."""
        body = self._body(response)
        parts = []
        if isinstance(body, dict):
            for key in ("code", "error", "title", "description", "error_description", "detail"):
                value = body.get(key)
                if isinstance(value, (str, int)) and text(value):
                    parts.append(text(value))
            for key in ("messages", "errors"):
                value = body.get(key)
                if isinstance(value, dict):
                    value = [item for items in value.values() for item in (
                        items if isinstance(items, list) else [items])]  # fmt: skip
                if isinstance(value, list):
                    parts.extend(text(item) for item in value if text(item))
        elif isinstance(body, list):
            parts.extend(text(item) for item in body if text(item))
        detail = self.redact(" ".join(dict.fromkeys(parts)))
        return detail[:MAX_DETAIL]

    def _retry_after(self, response):
        """A 429 on prices without Retry-After lasts "until the end of the day" (document)."""
        seconds = super()._retry_after(response)
        request = getattr(response, "request", None)
        path = getattr(request, "path_url", "") or ""
        if seconds is None and response.status_code == 429 and "/prices/search" in path:
            return self._seconds_until_service_midnight()
        return seconds

    def _seconds_until_service_midnight(self):
        local = self.now() + timedelta(hours=self.service_utc_offset)
        midnight = datetime.combine(local.date() + timedelta(days=1), day_start())
        return max(1.0, (midnight - local).total_seconds())

    # -- reference data -----------------------------------------------------------------------
    def get_customer_info(self):
        """The account's personal data (the document answers a one-item list); None if empty."""
        rows = rows_of(self._get(f"{API}/customer/info", endpoint="customer"), "customer")
        return parse_customer(rows[0]) if rows else None

    def get_agreements(self):
        rows = rows_of(self._get(f"{API}/customer/agreements", endpoint="customer"), "agreements")
        return [parse_agreement(row) for row in rows]

    def get_delivery_addresses(self):
        document = self._get(f"{API}/delivery/addresses", endpoint="delivery")
        return [parse_delivery_address(row) for row in rows_of(document, "delivery addresses")]

    def get_delivery_dates(self, location_code, delivery_address_code, days_count=None):
        """Delivery dates/times available from a location to an address (naive UTC)."""
        params = {"locationCode": location_code, "deliveryAddressCode": delivery_address_code}
        if days_count:
            params["daysCount"] = int(days_count)
        document = self._get(
            f"{API}/delivery/availableDateTimes", endpoint="delivery", params=params
        )
        return parse_delivery_dates(document)

    def get_locations(self):
        """The warehouses; also remembered so that offers carry their location's name."""
        document = self._get(f"{API}/locations", endpoint="locations")
        locations = [parse_location(row) for row in rows_of(document, "locations")]
        self.location_names = {loc.code: loc.name for loc in locations if loc.code}
        return locations

    def get_order_item_status_codes(self):
        document = self._get(f"{API}/orderItemStatusCodes", endpoint="statuses")
        return [parse_status_code(row) for row in rows_of(document, "status codes")]

    def get_trademarks(self):
        document = self._get(f"{API}/trademarks", endpoint="trademarks")
        return [parse_trademark(row) for row in rows_of(document, "trademarks")]

    def get_trademark(self, name):
        path = f"{API}/trademarks/{quote(text(name), safe='')}"
        rows = rows_of(self._get(path, endpoint="trademarks"), "trademark")
        if not rows:
            raise NotFound("Shate-M does not know this trademark", status=404)
        return parse_trademark(rows[0])

    # -- articles -----------------------------------------------------------------------------
    def get_article(self, article_id, include=()):
        """One article card; ``include``: 'contents', 'extended_info', 'trademark' (any mix).

        The document warns that ``include`` can make the answer much slower.
        """
        article_id = self._article_id(article_id)
        params = {"include": _include(include)}
        document = self._get(f"{API}/articles/{article_id}", endpoint="articles", params=params)
        articles = [parse_article(row) for row in rows_of(document, "article")]
        for article in articles:
            if article.id == article_id:
                return article
        if len(articles) == 1:
            return articles[0]
        raise NotFound("Shate-M does not know this article", status=404)

    def get_analogs(self, article_id, include=()):
        article_id = self._article_id(article_id)
        path = f"{API}/articles/{article_id}/analogs"
        try:
            document = self._get(path, endpoint="articles", params={"include": _include(include)})
        except NotFound:
            return []
        return [parse_article(row) for row in rows_of(document, "analogs")]

    def search_articles_by_string(self, search_string, *, trade_mark_names=(), include=()):
        """Articles whose code matches ``search_string`` (with or without punctuation)."""
        params = {"searchString": text(search_string), "include": _include(include)}
        if isinstance(trade_mark_names, str):
            trade_mark_names = [trade_mark_names]
        names = [text(name) for name in trade_mark_names or () if text(name)]
        if names:
            params["tradeMarkNames"] = names
        try:
            document = self._get(f"{API}/articles/search", endpoint="articles", params=params)
        except NotFound:
            return []
        return [parse_article(row) for row in rows_of(document, "articles")]

    def search_articles(self, keys, *, include=()):
        """Articles for (article_code, trade_mark_name) keys → {key: [ShateArticle, ...]}.

        POST /api/v1/articles/search with ``{"keys": [...]}``, ``article_batch_size`` (default
        50; the document states no limit) keys per request. Every key is in the result, with an
        empty list when nothing matched; a key whose brand is empty matches any brand.
        """
        result, by_norm, raw = {}, {}, {}
        for key in keys:
            code, brand = (key, "") if isinstance(key, str) else (key[0], key[1])
            norm = (normalize_key(code), normalize_key(brand))
            result[key] = []
            if norm[0]:
                by_norm.setdefault(norm, []).append(key)
                raw.setdefault(norm, (text(code), text(brand)))
        asked = list(by_norm)
        for chunk in _chunks(asked, self.article_batch_size):
            body = {"keys": [self._article_key(*raw[norm]) for norm in chunk]}
            articles = self._article_search(body, include)
            for article in articles:
                for key in self._matching_keys(article, chunk, by_norm):
                    if article not in result[key]:
                        result[key].append(article)
        return result

    def get_articles(self, article_ids, *, include=()):
        """Article cards by Shate-M id → {id: ShateArticle}; unknown ids are absent."""
        ids = list(dict.fromkeys(self._article_id(value) for value in article_ids))
        found = {}
        for chunk in _chunks(ids, self.article_batch_size):
            for article in self._article_search({"ids": chunk}, include):
                if article.id in chunk:
                    found[article.id] = article
        return found

    def _article_search(self, body, include):
        include = _include(include)
        if include:
            body["include"] = include
        try:
            document = self._checked_json(
                "POST", f"{API}/articles/search", endpoint="articles", json=body
            )
        except NotFound:
            return []
        return [parse_article(row) for row in rows_of(document, "articles")]

    @staticmethod
    def _article_key(code, brand):
        key = {"articleCode": code}
        if brand:
            key["tradeMarkName"] = brand
        return key

    @staticmethod
    def _matching_keys(article, chunk, by_norm):
        code, brand = normalize_key(article.code), normalize_key(article.trade_mark_name)
        keys = by_norm.get((code, brand), []) + by_norm.get((code, ""), [])
        if not keys and len(chunk) == 1:
            keys = by_norm[chunk[0]]
        return keys

    @staticmethod
    def _article_id(value):
        article_id = to_int(value)
        if article_id is None:
            raise ValueError(f"Not a Shate-M article id: {value!r}")
        return article_id

    # -- prices -------------------------------------------------------------------------------
    def search_prices(
        self, article_ids, *, agreement_code=None, delivery_address_code=None, include_analogs=False
    ):
        """Offers per article id → {article_id as given: [ShateOffer, ...]} (empty when none).

        Each request is counted against ``price_budget`` first (RateLimited without a request
        when it is used up). Up to ``price_batch_size`` articles per request in the 'array'
        shape; one per request with ``include_analogs`` or the 'object' shape. Analog offers
        are listed under the article asked, with ``is_analog`` True.
        """
        agreement = text(agreement_code) or self.agreement_code
        address = text(delivery_address_code) or self.delivery_address_code
        callers = {}
        for value in article_ids:
            callers.setdefault(self._article_id(value), []).append(value)
        result = {value: [] for values in callers.values() for value in values}
        single = include_analogs or self.price_request_shape == "object"
        size = 1 if single else self.price_batch_size
        now = self.now()
        for chunk in _chunks(list(callers), size):
            rows = self._price_request(chunk, agreement, address, include_analogs)
            for row in rows:
                offer = parse_offer(
                    row,
                    requested_article_id=chunk[0] if len(chunk) == 1 else None,
                    delivery_address_code=address,
                    now=now,
                    location_names=self.location_names,
                )
                requested = offer.requested_article_id
                if len(chunk) > 1:
                    # Analogs are never asked in a multi-article request: the offer's own
                    # article is the one asked.
                    requested = offer.requested_article_id = offer.article_id
                if requested is None:
                    continue  # an offer without an article id in a multi-article answer
                # An unasked article in a multi-article answer is kept under its own id.
                for value in callers.get(requested, [requested]):
                    result.setdefault(value, []).append(offer)
        return result

    def _price_request(self, chunk, agreement, address, include_analogs):
        if self.price_budget is not None:
            self.price_budget.acquire(len(chunk) if self.price_budget_unit == "article" else 1)
        keys = []
        for article_id in chunk:
            key = {"articleId": article_id}
            if agreement:
                key["agreementCode"] = agreement
            if address:
                key["deliveryAddressCode"] = address
            key["includeAnalogs"] = bool(include_analogs)
            keys.append(key)
        body = keys if self.price_request_shape == "array" else keys[0]
        failure = None
        try:
            document = self._checked_json(
                "POST", f"{API}/prices/search", endpoint="prices", json=body
            )
        except NotFound:
            return []
        except RateLimited as exc:
            failure = exc
        if failure is not None:
            if self.price_budget is not None:
                self.price_budget.block(failure.retry_after)
            raise failure
        return offer_rows(document)

    # -- cart ---------------------------------------------------------------------------------
    @staticmethod
    def _codes(agreement_code, delivery_address_code):
        params = {}
        if agreement_code:
            params["agreementCode"] = agreement_code
        if delivery_address_code:
            params["deliveryAddressCode"] = delivery_address_code
        return params

    def get_cart_items(self, *, agreement_code=None, delivery_address_code=None):
        params = self._codes(agreement_code, delivery_address_code)
        document = self._get(f"{API}/cartitems", endpoint="cart", params=params)
        return [parse_cart_item(row) for row in rows_of(document, "cart")]

    def get_cart_item(self, cart_item_id, *, agreement_code=None, delivery_address_code=None):
        params = self._codes(agreement_code, delivery_address_code)
        path = f"{API}/cartitems/{int(cart_item_id)}"
        return self._one_cart_item(self._get(path, endpoint="cart", params=params))

    def add_cart_item(self, price_id, quantity, comment=None):
        """Put an offer in the cart. Sent once (a retry could add the line twice)."""
        body = {"quantity": _quantity(quantity), "priceId": text(price_id)}
        if comment:
            body["comment"] = comment
        response = self._call("POST", f"{API}/cartitems", endpoint="cart", json=body, once=True)
        self._raise_for_status(response, "cart")
        return self._one_cart_item(self.json_or_raise(response, "a JSON cart answer"))

    def patch_cart_item(self, cart_item_id, *, quantity=None, price=None, comment=None):
        """Change only the given fields of a cart line."""
        body = {}
        if quantity is not None:
            body["quantity"] = _quantity(quantity)
        if price is not None:
            body["price"] = float(price)
        if comment is not None:
            body["comment"] = comment
        if not body:
            raise ValueError("Nothing to change in the cart line")
        path = f"{API}/cartitems/{int(cart_item_id)}"
        return self._one_cart_item(self._checked_json("PATCH", path, endpoint="cart", json=body))

    def delete_cart_item(self, cart_item_id):
        self._checked_json("DELETE", f"{API}/cartitems/{int(cart_item_id)}", endpoint="cart")

    def delete_all_cart_items(self):
        self._checked_json("DELETE", f"{API}/cartitems", endpoint="cart")

    @staticmethod
    def _one_cart_item(document):
        rows = rows_of(document, "cart")
        if not rows:
            raise BadResponse("The Shate-M cart answer has no cart line")
        return parse_cart_item(rows[0])

    # -- orders -------------------------------------------------------------------------------
    def order_by_price_items(
        self,
        *,
        agreement_code,
        lines,
        agree_with_terms_of_delivery,
        agree_with_personal_data_policy,
        delivery_address_code=None,
        delivery_type=DELIVERY_MANY,
        delivery_date=None,
        expected_arrival=None,
        comment=None,
        note=None,
        fio=None,
        phone=None,
    ):
        """Order offers straight from a price search (POST /api/v1/orders/byPriceItems).

        ``lines``: ShateOrderLine(price_id, quantity, comment) items (tuples and dicts too); all
        from one location. Without ``delivery_address_code`` the order is a pickup. ``fio`` and
        ``phone`` are required by the service for agreement groups НАЛ, ЭКВАИР and МАГ.

        Sent exactly once, never retried: when the answer is lost (timeout, connection dropped,
        5xx, garbled body) OutcomeUnknown is raised and the order may exist: reconcile with
        ``get_orders`` before sending it again. A refusal is returned, not raised:
        ``result.created`` False with ``errors``/``price_item_errors``.
        """
        body = self._order_body(
            agreement_code, agree_with_terms_of_delivery, agree_with_personal_data_policy,
            delivery_address_code, delivery_type, delivery_date, expected_arrival,
            comment, note, fio, phone,
        )  # fmt: skip
        items = []
        for line in _order_lines(lines):
            item = {"priceId": text(line.price_id), "quantity": _quantity(line.quantity)}
            if line.comment:
                item["comment"] = line.comment
            items.append(item)
        body["priceItems"] = items
        return self._send_order(f"{API}/orders/byPriceItems", body)

    def order_by_cart_items(
        self,
        *,
        agreement_code,
        cart_item_ids,
        agree_with_terms_of_delivery,
        agree_with_personal_data_policy,
        delivery_address_code=None,
        delivery_type=DELIVERY_MANY,
        delivery_date=None,
        expected_arrival=None,
        comment=None,
        note=None,
        fio=None,
        phone=None,
    ):
        """Order cart lines (POST /api/v1/orders/byCartItems). Same rules as
        ``order_by_price_items``: sent once, OutcomeUnknown when the answer is lost."""
        ids = [int(value) for value in cart_item_ids or ()]
        if not ids:
            raise ValueError("An order needs at least one cart line")
        body = self._order_body(
            agreement_code, agree_with_terms_of_delivery, agree_with_personal_data_policy,
            delivery_address_code, delivery_type, delivery_date, expected_arrival,
            comment, note, fio, phone,
        )  # fmt: skip
        body["cartItems"] = [{"id": value} for value in ids]
        return self._send_order(f"{API}/orders/byCartItems", body)

    def _order_body(
        self, agreement_code, agree_terms, agree_policy, delivery_address_code, delivery_type,
        delivery_date, expected_arrival, comment, note, fio, phone,
    ):  # fmt: skip
        if not text(agreement_code):
            raise ValueError("An order needs an agreement code")
        if not (agree_terms and agree_policy):
            # The service refuses an order without both consents: no point sending it.
            raise RequestRejected(
                "Shate-M orders need the consent to the terms of delivery and to the personal "
                "data policy; enable both on the connection"
            )
        body = {
            "agreementCode": text(agreement_code),
            "agreeWithTermsOfDelivery": True,
            "agreeWithPersonalDataProcessingPolicyAndUserAgreement": True,
        }
        for key, value in (("comment", comment), ("note", note), ("fio", fio), ("phone", phone)):
            if value:
                body[key] = value
        if delivery_address_code:
            body["deliveryInfo"] = {
                "deliveryType": delivery_type or DELIVERY_MANY,
                "deliveryAddressCode": delivery_address_code,
            }
            if delivery_date:
                body["deliveryInfo"]["deliveryDateTime"] = format_datetime(delivery_date)
        if expected_arrival:
            body["expectedDateTimeOfArrivalAllItems"] = format_datetime(expected_arrival)
        return body

    def _send_order(self, path, body):
        response = self._call("POST", path, endpoint="orders", json=body, once=True)
        status = response.status_code
        if 200 <= status < 300 or status in ORDER_REFUSAL_HTTP:
            document = self._body(response)
            if document is _MALFORMED:
                document = None
            result = parse_order_result(document, status)
            if 200 <= status < 300:
                if not (result.created or result.errors or result.price_item_errors):
                    raise OutcomeUnknown(
                        f"Shate-M answered the order with HTTP {status} but no readable order; "
                        "it may have been created: look it up before sending it again",
                        status=status,
                    )
                if result.created:
                    _logger.info(
                        "Shate-M order(s) %s created",
                        ", ".join(str(order.id) for order in result.orders),
                    )
            elif not (result.errors or result.price_item_errors):
                result.errors = [f"HTTP {status}"]
            result.errors = [self.redact(message) for message in result.errors]
            return result
        self._raise_for_status(response, "orders")
        raise BadResponse(f"Unexpected HTTP {status} in the Shate-M order answer", status=status)

    def get_orders(
        self,
        *,
        page=1,
        page_size=25,
        start=None,
        end=None,
        order_ids=(),
        trade_mark_name=None,
        article_code=None,
        status_codes=(),
    ):
        """One page of orders (with their items), newest filters as the document lists them:
        dates (date, naive-UTC datetime or ISO text), order ids, brand, article, status codes."""
        params = {"page": int(page), "pageSize": int(page_size)}
        if start:
            params["startDateTime"] = format_datetime(start)
        if end:
            params["endDateTime"] = format_datetime(end)
        ids = [int(value) for value in _iterable(order_ids)]
        if ids:
            params["ids"] = ids
        if trade_mark_name:
            params["tradeMarkName"] = trade_mark_name
        if article_code:
            params["articleCode"] = article_code
        statuses = [int(value) for value in _iterable(status_codes)]
        if statuses:
            params["statusCode"] = statuses
        try:
            document = self._get(f"{API}/orders", endpoint="orders", params=params)
        except NotFound:
            return []
        return [parse_order(row) for row in rows_of(document, "orders")]

    def iter_orders(self, *, page_size=100, max_pages=1000, **filters):
        """All orders matching ``filters`` (see get_orders), page after page until a short one."""
        seen_first = None
        for page in range(1, max_pages + 1):
            orders = self.get_orders(page=page, page_size=page_size, **filters)
            if not orders:
                return
            first = (orders[0].id, len(orders))
            if first == seen_first:
                return  # the service ignores paging: the same page again
            seen_first = first
            yield from orders
            if len(orders) < page_size:
                return

    def get_order_item_history(self, order_item_id):
        """Status changes of one order item, oldest first."""
        path = f"{API}/orderitems/{int(order_item_id)}/statuseshistory"
        document = self._get(path, endpoint="orders")
        changes = [parse_status_change(row) for row in rows_of(document, "status history")]
        changes.sort(key=lambda change: (change.changed_at is None, change.changed_at or 0))
        return changes

    # -- contents -----------------------------------------------------------------------------
    def search_content(self, content_ids, *, height=None, width=None):
        """Pictures by content id (from ``get_article(include='contents')``) → {id: ShateContent}.

        One request per id, as the document's body takes one ``contentId``.
        """
        found = {}
        for content_id in dict.fromkeys(text(value) for value in content_ids if text(value)):
            body = {"contentId": content_id}
            if height:
                body["heightSize"] = int(height)
            if width:
                body["widthSize"] = int(width)
            try:
                document = self._checked_json(
                    "POST", f"{API}/contents/search", endpoint="contents", json=body
                )
            except NotFound:
                continue
            contents = parse_contents(document)
            for content in contents:
                key = content_id if len(contents) == 1 else (content.content_id or content_id)
                found[key] = content
        return found

    def content_bytes(self, content, max_bytes=5_000_000):
        """The picture's bytes: a ``data:`` URI decoded, or a link downloaded from Shate-M hosts."""
        if content.is_data_uri:
            data = content.data
            if data is None:
                raise BadResponse("Malformed data URI in the Shate-M content answer")
            if len(data) > max_bytes:
                raise TooLarge(f"The picture is over the {max_bytes} bytes limit")
            return data
        return self.download(
            content.url, max_bytes=max_bytes, allowed_hosts=self.allowed_hosts, endpoint="content"
        )


def _iterable(values):
    if values is None or values == "":
        return []
    if isinstance(values, (str, int)) or not isinstance(values, Iterable):
        return [values]
    return list(values)
