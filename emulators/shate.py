"""Local emulator of the Shate-M Plus API (https://api.shate-m.ru/api/v1).

Emulates every method of ``shared/api-docs/shate-m.txt`` (revision 1.2.3): auth (login/password
and ApiKey), articles (by id, analogs, search by string, search by keys/ids), cart items
(CRUD), contents, customer (agreements, info), delivery (addresses, available dates),
locations, order item status history, status codes, orders (list, byPriceItems, byCartItems),
prices (search, with_article_info) and trademarks. It is one service's protocol end to end
(auth, rate limits, offers that go stale, order validation, status progression), hence its
length; shapes and rules live in :mod:`.shate_answers`, data in :mod:`.shate_catalogue`.

Decisions where the document is silent or contradicts itself (see also FIELD-NOTES.md):

* Paths, query names and JSON property names are case-insensitive (ASP.NET style):
  ``loginByapiKey`` == ``loginbyapikey``, ``ArticleId`` == ``articleId``. Answers use the
  camelCase of the document's examples. The GET order list's ``сanReturn`` (a Cyrillic "с" in
  the document) is sent as ``canReturn``; order items carry both ``warnings`` and ``canReturn``.
* Auth bodies must be form-urlencoded (a JSON body → 415). Fields ``login``/``password`` and
  ``apikey`` (any case: ``ApiKey``, ``apiKey``). Missing → 400, wrong → 401, both with the
  document's error shape ``{"code","description","messages"}``. Tokens look like the document's
  (a PS256 ``at+jwt`` header), live ``token_ttl`` seconds by the injectable ``clock``
  (``expires_in``), are not extended by use; several may live at once. A missing, unknown or
  expired token → 401 with an empty body and ``WWW-Authenticate: Bearer ...`` (as ASP.NET does).
* Other errors use ``{"code","description","messages"}`` (codes such as ``ArticleNotFound``,
  ``AgreementNotFound``, ``DefaultAgreementNotFound``, ``PriceNotFound``, ``PriceIsOutdated``,
  ``InvalidQuantity``, ``TooManyItems``, ``InvalidRequest``, ``TooManyRequests``); the two order
  methods use the document's ``{"errors","errorDescriptions","priceItemErrors"}``, HTTP 400.
  Unknown API path → 404 with the same shape.
* ``include`` takes ``contents``, ``extended_info`` (also ``extendedInfo``,
  ``characteristics``) and ``trademark``, comma-separated and/or repeated; without it only
  ``article`` is sent. With more than one article in an answer contents and extendedInfo are left
  out (the document's rule), tradeMark is not. Analogs do not list the article itself. The
  string search ignores spaces and special characters (``W71275`` finds ``W 712/75``) and
  answers ``[]`` when nothing matches; it is ``GET /articles/search?searchString=`` and also
  ``GET /articles/search/{searchString}`` (the document names both). ``POST /articles/search``
  takes ``keys`` and/or ``ids`` (≤ ``max_search_items``, default 100); unknown keys are left out;
  a key without ``tradeMarkName`` (required by the document) matches the code in every trademark.
* Prices: the body is one object or an array of them (field notes); ≤ ``max_price_articles``
  (default 100) elements. ``deliveryAddressCode`` may be a string or a list (also
  ``deliveryAddressCodes``); without it the customer's default address is used. Without
  ``agreementCode`` the default agreement is (none configured → 400 DefaultAgreementNotFound).
  ``require_agreement_and_address=True`` answers ``[]`` for elements lacking either (field notes).
  Unknown articleId → no offers. Offers with nothing available are not offered; own stock
  comes first (``priority``); ``supplyProbability`` is null for own stock. ``valueWithMargin``
  applies ``margin`` (default 0). Each offer gets a fresh 128-hex ``id`` (the priceId).
* priceIds go stale after ``price_ttl`` seconds (default 1800) or when the offer changes
  (:meth:`reprice`, :meth:`set_offer`, :meth:`expire_prices`). Ordering a stale priceId compares
  the issued price with today's: a fall within ``price_tolerance`` (default 10 %) is accepted
  at the new price with the document's warning (``Произошло изменение цены в пределах
  допустимого отклонения. oldPrice : x ; newPrice : y ``) in the item's ``warnings``; a rise or
  a larger fall is a line error ``102``; an unchanged price is ``101`` (re-price). Line errors
  start with a 1xx code (document): 100 offer not found, 101 stale, 102 price changed, 103 bad
  quantity, 104 multiplicity, 105 minimum, 106 maximum, 107 more than available (``Equal``),
  108 priced under another agreement, 109 cannot arrive by expectedDateTimeOfArrivalAllItems,
  110 100 % prepayment agreement and goods not in own stock (the document's example error
  "Товар не оформлен в заказ. По договору 100% предоплата." also goes into ``errors``).
* Orders: every rule of 10.2/10.3 is checked before anything is created and all errors are
  reported at once: agreement given, known, active; both consents true; ``fio`` and ``phone``
  for groups НАЛ, ЭКВАИР, МАГ; delivery (``deliveryInfo``: known address, ``deliveryType``
  ManyDelivery/OneDelivery, spaces allowed) only if the agreement allows delivery, pickup
  (no deliveryInfo) only if it allows pickup; lines from one ``locationCode`` only (lines of a
  supplier's stock ship from the central warehouse, so they mix with its own stock). The
  agreement's ``locationCode`` binds the lines only with ``enforce_agreement_location=True``.
  The order ``id`` is its number. Items come back in request order (no priceId echoed),
  status 0 "Новый"; a pickup order has ``deliveryInfo: null``. OneDelivery gives every item
  the latest date; a later ``deliveryDateTime`` replaces the computed one. Orders do not
  consume stock. byCartItems removes the ordered lines from the cart.
* Statuses: the list of :data:`STATUS_CODES` (60 refused, 140 delivered, 150 handed over, 180
  cancelled as in the field notes). :meth:`advance_status` moves an item on its path (own stock:
  0→30→80→100→110→140 for delivery, …→80→90→150 for pickup; supplier stock adds 40, 50, 70) or
  to any code; ``auto_progress_seconds`` moves every item one step per that many seconds,
  evaluated when read. ``GET /orders`` filters orders by dates (UTC; a bare end date includes
  its day), ``ids``; ``tradeMarkName``, ``articleCode`` and ``statusCode`` filter the lines (an
  order without matching lines is left out); newest first; ``pageSize`` ≤ ``max_page_size``
  (default 100) else 400.
* Cart: a line per POST (the same offer twice gives two lines); POST takes an object (answers
  one line) or an array (answers a list); a stale priceId → 400 PriceIsOutdated. PATCH ``price``
  sets the price the customer agreed to, which the order then checks like a stale price.
  DELETE answers 204. GET without ``agreementCode`` lists the default agreement's lines.
* Rate limits (document, preamble): price requests count one per requested article, per login,
  in fixed 15-minute windows (``price_requests_per_15min``, default 2000) and per local day
  (``price_requests_per_day``, default 120000; the day ends at midnight UTC+``utc_offset_hours``,
  default 3). Over a limit → 429 ``TooManyRequests`` with ``Retry-After`` (seconds to the end of
  the window or of the day); a refused request counts nothing. Other methods are not limited.
* availableDateTimes: one slot a day (not Sundays) at 15:00 local, from the earliest delivery
  from that location to that address, within ``daysCount`` (default 7) days; naive UTC times.
* Extra fault kind ``expire_token`` (``after=N``): every token is invalidated, so that request
  and the next ones get 401 until the client logs in again.
* Control extras: ``POST /_emulator/expire_tokens``, ``POST /_emulator/reprice`` (``{"factor",
  "article_ids"}``), ``POST /_emulator/advance_status`` (``{"order_item_id", "status_code"}``),
  ``GET /_emulator/orders``, ``PATCH /_emulator/offers/<articleId>/<locationCodeReal>``
  (ShateOffer fields), ``POST /_emulator/reset_price_limits``; ``POST /_emulator/config`` also
  takes the settings of ``_CONFIG_KEYS`` (limits, TTLs, switches).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import secrets
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote

from .base import Emulator, RecordedRequest, Response, json_response
from .shate_answers import (
    DELIVERY_HOUR,
    INCLUDE_ALIASES,
    PREPAYMENT_ERROR,
    CartItem,
    Order,
    OrderItem,
    PriceRecord,
    address_row,
    agreement_row,
    article_details,
    article_row,
    cart_item_row,
    content_value,
    current_info,
    delivery_time,
    delivery_type,
    error_body,
    iso_plain,
    iso_z,
    location_row,
    offer_row,
    order_error_body,
    order_header_errors,
    order_row,
    parse_datetime,
    price_check,
    quantity_errors,
    shipping_time,
    status_code_rows,
    token_body,
    trademark_row,
)
from .shate_catalogue import (
    DEFAULT_ADDRESSES,
    DEFAULT_AGREEMENTS,
    DEFAULT_LOCATIONS,
    STATUS_CODES,
    ShateAddress,
    ShateAgreement,
    ShateArticle,
    ShateCatalogue,
    ShateLocation,
    ShateOffer,
    generate_catalogue,
    normalize_code,
)
from .shate_demo import DEMO_API_KEY, DEMO_LOGIN, DEMO_PASSWORD

__all__ = ["ShateArticle", "ShateEmulator", "ShateOffer", "generate_catalogue"]

API_PREFIX = "/api/v1"
_JWT_HEADER = "eyJhbGciOiJQUzI1NiIsInR5cCI6ImF0K2p3dCJ9"  # {"alg":"PS256","typ":"at+jwt"}
_PATHS = {  # (own stock?, delivery?) → status path
    (True, True): (0, 30, 80, 100, 110, 140),
    (True, False): (0, 30, 80, 90, 150),
    (False, True): (0, 30, 40, 50, 70, 80, 100, 110, 140),
    (False, False): (0, 30, 40, 50, 70, 80, 90, 150),
}


class _Reject(Exception):
    """Raised by a handler's helpers to answer with ``response`` at once."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def _reject(status: int, code: str, description: str, *messages: str) -> _Reject:
    return _Reject(json_response(error_body(code, description, *messages), status))


def _lower_keys(value):
    """JSON with every object key lower-cased (property names are case-insensitive)."""
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _split(values: Iterable) -> list[str]:
    """Values of a repeated and/or comma-separated parameter (or a JSON string/list)."""
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values or ():
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def _include(values) -> set[str]:
    names = (v.replace("_", "").replace(" ", "").lower() for v in _split(values))
    return {INCLUDE_ALIASES[name] for name in names if name in INCLUDE_ALIASES}


@dataclass(slots=True)
class _Line:
    price_id: str
    quantity: object
    comment: str
    agreed_price: float | None = None
    cart_item_id: int | None = None


class ShateEmulator(Emulator):
    """Shate-M Plus API emulator; ``api_url`` is ``base_url + '/api/v1'``."""

    name = "shate"
    extra_fault_kinds = ("expire_token",)

    def __init__(self, catalogue: Mapping[int, ShateArticle] | Iterable[ShateArticle] | None = None,
                 *, users: Mapping[str, str] | None = None,
                 api_keys: Mapping[str, str] | None = None, token_ttl: float = 3600,
                 clock: Callable[[], float] = time.time, price_ttl: float | None = 1800,
                 price_tolerance: float = 0.10, price_requests_per_15min: int | None = 2000,
                 price_requests_per_day: int | None = 120_000, utc_offset_hours: float = 3,
                 require_agreement_and_address: bool = False,
                 enforce_agreement_location: bool = False,
                 auto_progress_seconds: float | None = None,
                 agreements: Iterable[ShateAgreement] | None = None,
                 addresses: Iterable[ShateAddress] | None = None,
                 locations: Iterable[ShateLocation] | None = None,
                 default_agreement_code: str | None = "SAGR1", customer: Mapping | None = None,
                 margin: float = 0.0, max_search_items: int = 100, max_price_articles: int = 100,
                 max_page_size: int = 100, max_price_records: int = 2_000_000,
                 port: int = 0, host: str = "127.0.0.1", **options):
        """``options`` go to :class:`Emulator` (latency, rate_limit_per_second, record_limit)."""
        super().__init__(port=port, host=host, **options)
        if catalogue is None:
            from .shate_demo import demo_catalogue

            catalogue = demo_catalogue()
        self.catalogue = ShateCatalogue(
            catalogue.values() if isinstance(catalogue, Mapping) else catalogue)
        self.users = dict(users if users is not None else {DEMO_LOGIN: DEMO_PASSWORD})
        self.api_keys = dict(api_keys if api_keys is not None else {DEMO_API_KEY: DEMO_LOGIN})
        self.token_ttl = token_ttl
        self.clock = clock
        self.price_ttl = price_ttl
        self.price_tolerance = price_tolerance
        self.price_requests_per_15min = price_requests_per_15min
        self.price_requests_per_day = price_requests_per_day
        self.utc_offset_hours = utc_offset_hours
        self.require_agreement_and_address = require_agreement_and_address
        self.enforce_agreement_location = enforce_agreement_location
        self.auto_progress_seconds = auto_progress_seconds
        self.agreements = {a.code: a for a in (agreements or DEFAULT_AGREEMENTS)}
        self.addresses = {a.code: a for a in (addresses or DEFAULT_ADDRESSES)}
        self.locations = {loc.code: loc for loc in (locations or DEFAULT_LOCATIONS)}
        self.default_agreement_code = default_agreement_code
        first_address = next(iter(self.addresses), None)
        self.customer = dict(customer or {
            "code": "S0001", "name": "ООО «Демо Автозапчасти»", "phone": "+375 17 200-00-00",
            "email": "demo@example.com", "defaultDeliveryAddressCode": first_address})
        self.margin = margin
        self.max_search_items = max_search_items
        self.max_price_articles = max_price_articles
        self.max_page_size = max_page_size
        self.max_price_records = max_price_records
        self._secret = secrets.token_bytes(16)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._prices: OrderedDict[str, PriceRecord] = OrderedDict()
        self._price_seq = 0
        self._price_usage: dict[str, list[int]] = {}
        self._cart: dict[int, CartItem] = {}
        self._orders: dict[int, Order] = {}
        self._order_items: dict[int, OrderItem] = {}
        self._seq = {"cart": 26_151_144, "order": 20_826_499, "item": 87_865_468}  # +1 = first
        self._content_index: dict[str, int] | None = None
        self._register_routes()

    @classmethod
    def generate_catalogue(cls, n: int, seed: int = 0) -> dict[int, ShateArticle]:
        return generate_catalogue(n, seed)

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    def _register_routes(self):
        api = "(?i)" + re.escape(API_PREFIX)
        open_routes = (
            ("POST", "/auth/login", self._login, "auth_login"),
            ("POST", "/auth/loginbyapikey", self._login_by_key, "auth_apikey"),
        )
        for method, path, handler, label in open_routes:
            self.route(method, api + path, self._guard(handler), label)
        routes = (
            ("GET", r"/articles/search", self._search_get, "articles_search"),
            ("GET", r"/articles/search/(?P<text>.+)", self._search_get, "articles_search"),
            ("POST", r"/articles/search", self._search_post, "articles_search_keys"),
            ("GET", r"/articles/(?P<article_id>[^/]+)/analogs", self._analogs, "article_analogs"),
            ("GET", r"/articles/(?P<article_id>[^/]+)", self._article, "article"),
            ("GET", r"/cartitems", self._cart_list, "cart_list"),
            ("POST", r"/cartitems", self._cart_add, "cart_add"),
            ("DELETE", r"/cartitems", self._cart_clear, "cart_clear"),
            ("GET", r"/cartitems/(?P<item_id>[^/]+)", self._cart_get, "cart_item"),
            ("PATCH", r"/cartitems/(?P<item_id>[^/]+)", self._cart_patch, "cart_update"),
            ("DELETE", r"/cartitems/(?P<item_id>[^/]+)", self._cart_delete, "cart_delete"),
            ("POST", r"/contents/search", self._contents, "contents"),
            ("GET", r"/customer/agreements", self._agreements, "agreements"),
            ("GET", r"/customer/info", self._customer, "customer"),
            ("GET", r"/delivery/addresses", self._addresses, "addresses"),
            ("GET", r"/delivery/availabledatetimes", self._delivery_dates, "delivery_dates"),
            ("GET", r"/locations", self._locations, "locations"),
            ("GET", r"/orderitems/(?P<item_id>[^/]+)/statuseshistory", self._history,
             "status_history"),
            ("GET", r"/orderitemstatuscodes", self._status_codes, "status_codes"),
            ("GET", r"/orders", self._orders_list, "orders"),
            ("POST", r"/orders/bypriceitems", self._order_by_price_items, "order_by_price_items"),
            ("POST", r"/orders/bycartitems", self._order_by_cart_items, "order_by_cart_items"),
            ("POST", r"/prices/search", self._prices_flat, "prices"),
            ("POST", r"/prices/search/with_article_info", self._prices_grouped,
             "prices_with_article_info"),
            ("GET", r"/trademarks", self._trademarks, "trademarks"),
            ("GET", r"/trademarks/(?P<name>[^/]+)", self._trademark, "trademark"),
        )
        for method, path, handler, label in routes:
            self.route(method, api + path, self._guard(self._authed(handler)), label)
        self.control_route("POST", "expire_tokens", self._ctl_expire_tokens)
        self.control_route("POST", "reprice", self._ctl_reprice)
        self.control_route("POST", "advance_status", self._ctl_advance_status)
        self.control_route("GET", "orders", self._ctl_orders)
        self.control_route("POST", "reset_price_limits", self._ctl_reset_price_limits)
        self.control_route("PATCH", r"offers/(?P<article_id>\d+)/(?P<real>[^/]+)",
                           self._ctl_set_offer)

    # -- catalogue and offers (articles are replaced, never mutated) ----------------------
    def article(self, article_id: int) -> ShateArticle:
        return self.catalogue[int(article_id)]

    def add_article(self, article: ShateArticle) -> ShateArticle:
        with self.lock:
            self._content_index = None
            return self.catalogue.add(article)

    def remove_article(self, article_id: int) -> ShateArticle | None:
        with self.lock:
            self._content_index = None
            return self.catalogue.remove(int(article_id))

    def set_offer(self, article_id: int, location_code_real: str, **changes) -> ShateOffer:
        """Change one offer (``ShateOffer`` field names); its priceIds go stale."""
        with self.lock:
            article = self.catalogue[int(article_id)]
            old = article.offer(location_code_real)
            if old is None:
                raise KeyError(f"article {article_id} has no offer at {location_code_real}")
            new = replace(old, **changes, version=old.version + 1)
            offers = tuple(new if o is old else o for o in article.offers)
            self.catalogue.add(replace(article, offers=offers))
            return new

    def add_offer(self, article_id: int, offer: ShateOffer) -> ShateOffer:
        with self.lock:
            article = self.catalogue[int(article_id)]
            offers = tuple(o for o in article.offers
                           if o.location_code_real != offer.location_code_real)
            self.catalogue.add(replace(article, offers=offers + (offer,)))
            return offer

    def remove_offer(self, article_id: int, location_code_real: str) -> bool:
        with self.lock:
            article = self.catalogue[int(article_id)]
            offers = tuple(o for o in article.offers if o.location_code_real != location_code_real)
            self.catalogue.add(replace(article, offers=offers))
            return len(offers) != len(article.offers)

    def reprice(self, factor: float = 1.0, article_ids: Iterable[int] | None = None) -> int:
        """Multiply offer prices by ``factor`` (all articles or ``article_ids``) and make every
        priceId issued for them stale. Returns the number of offers changed."""
        changed = 0
        with self.lock:
            ids = list(self.catalogue) if article_ids is None else [int(i) for i in article_ids]
            for article_id in ids:
                article = self.catalogue.get(article_id)
                if article is None or not article.offers:
                    continue
                offers = tuple(replace(o, price=round(o.price * factor, 2), version=o.version + 1)
                               for o in article.offers)
                self.catalogue.articles[article_id] = replace(article, offers=offers)
                changed += len(offers)
        return changed

    def expire_prices(self) -> int:
        """Every priceId issued so far goes stale; prices stay."""
        return self.reprice(1.0)

    def issued_price(self, price_id: str) -> PriceRecord | None:
        return self._prices.get(price_id)

    def _price_for(self, offer: ShateOffer, agreement: ShateAgreement) -> float:
        return round(offer.price * agreement.price_factor, 2)

    def _stale(self, record: PriceRecord, offer: ShateOffer, now: float) -> bool:
        return record.version != offer.version or (
            self.price_ttl is not None and now - record.issued_at >= self.price_ttl)

    def _issue(self, login: str, article: ShateArticle, offer: ShateOffer,
               agreement: ShateAgreement, now: float) -> PriceRecord:
        """A new priceId for an offer (under the lock)."""
        self._price_seq += 1
        price_id = hashlib.sha512(self._secret + self._price_seq.to_bytes(8, "big")).hexdigest()
        key = f"{article.id}|{offer.location_code_real}|{agreement.code}|{offer.version}"
        record = PriceRecord(price_id.upper(), login, article.id, offer.location_code,
                             offer.location_code_real, agreement.code, offer.version,
                             self._price_for(offer, agreement), now,
                             zlib.crc32(key.encode()) & 0x7FFFFFFF)
        self._prices[record.price_id] = record
        if len(self._prices) > self.max_price_records:
            self._prices.popitem(last=False)
        return record

    # -- tokens -----------------------------------------------------------------------------
    def expire_tokens(self):
        """Invalidate every token now (the next authenticated request gets 401)."""
        with self.lock:
            self._tokens.clear()

    @property
    def tokens(self) -> dict[str, str]:
        """Live tokens: token → login."""
        now = self.clock()
        with self.lock:
            return {t: login for t, (login, until) in self._tokens.items() if until > now}

    def _fault_expire_token(self, fault, request):
        self.expire_tokens()

    def _new_token(self, login: str) -> Response:
        now = self.clock()
        claims = {"sub": login, "scope": "ShateAuth", "iat": int(now),
                  "exp": int(now + self.token_ttl), "jti": secrets.token_hex(8)}
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        token = f"{_JWT_HEADER}.{payload}.{signature}"
        with self.lock:
            self._tokens[token] = (login, now + self.token_ttl)
        return json_response(token_body(token, self.token_ttl))

    @staticmethod
    def _unauthorized(error: str | None = None, description: str = "") -> Response:
        challenge = "Bearer" if error is None else (
            f'Bearer error="{error}", error_description="{description}"')
        return Response(401, b"", "text/plain; charset=utf-8", {"WWW-Authenticate": challenge})

    def _guard(self, handler):
        def guarded(request, **params):
            try:
                return handler(request, **params)
            except _Reject as reject:
                return reject.response
        return guarded

    def _authed(self, handler):
        def authed(request, **params):
            token = request.bearer_token()
            if not token:
                return self._unauthorized()
            entry = self._tokens.get(token)
            if entry is None:
                return self._unauthorized("invalid_token", "The token is invalid")
            if entry[1] <= self.clock():
                with self.lock:
                    self._tokens.pop(token, None)
                return self._unauthorized(
                    "invalid_token", f"The token expired at '{iso_z(entry[1])}'")
            return handler(request, entry[0], **params)
        return authed

    def _auth_form(self, request: RecordedRequest) -> dict[str, str]:
        if "json" in request.header("Content-Type").lower():
            raise _reject(415, "UnsupportedMediaType",
                          "Ожидается Content-Type application/x-www-form-urlencoded")
        return {k.lower(): v for k, v in request.form().items()}

    def _login(self, request: RecordedRequest) -> Response:
        form = self._auth_form(request)
        login, password = form.get("login", ""), form.get("password", "")
        if not login or not password:
            raise _reject(400, "InvalidRequest", "Не указан логин или пароль")
        if self.users.get(login) != password:
            raise _reject(401, "InvalidCredentials", "Неверный логин или пароль")
        return self._new_token(login)

    def _login_by_key(self, request: RecordedRequest) -> Response:
        key = self._auth_form(request).get("apikey", "").strip()
        if not key:
            raise _reject(400, "InvalidRequest", "Не указан ApiKey")
        login = self.api_keys.get(key)
        if login is None:
            raise _reject(401, "InvalidApiKey", "Неверный ApiKey")
        return self._new_token(login)

    # -- request helpers --------------------------------------------------------------------
    def not_found(self, request: RecordedRequest) -> Response:
        return json_response(error_body("NotFound", "Метод не найден"), 404)

    def rate_limit_response(self, retry_after) -> Response:
        return json_response(error_body(
            "TooManyRequests", "Превышен лимит запросов",
            "Превышено допустимое количество запросов. Повторите запрос позже."), 429)

    @staticmethod
    def _query(request: RecordedRequest) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, value in request.query_items():
            out.setdefault(name.lower(), []).append(value)
        return out

    @staticmethod
    def _body(request: RecordedRequest):
        if "x-www-form-urlencoded" in request.header("Content-Type").lower():
            raise _reject(415, "UnsupportedMediaType", "Ожидается Content-Type application/json")
        try:
            return _lower_keys(json.loads(request.body)) if request.body.strip() else None
        except ValueError:
            raise _reject(400, "InvalidRequest", "Некорректный JSON в теле запроса") from None

    def _agreement(self, code) -> ShateAgreement:
        if not code:
            if self.default_agreement_code not in self.agreements:
                raise _reject(400, "DefaultAgreementNotFound", "Договор по умолчанию не найден",
                              "Внимание! Договор по умолчанию не найден. Пожалуйста, свяжитесь "
                              "с вашим менеджером.")
            return self.agreements[self.default_agreement_code]
        agreement = self.agreements.get(str(code))
        if agreement is None:
            raise _reject(400, "AgreementNotFound", f"Договор {code} не найден")
        return agreement

    def _address(self, code) -> ShateAddress:
        """A delivery address by code; without one the customer's default (or the first)."""
        if code:
            address = self.addresses.get(str(code))
            if address is None:
                raise _reject(400, "DeliveryAddressNotFound", f"Адрес доставки {code} не найден")
            return address
        address = self.addresses.get(str(self.customer.get("defaultDeliveryAddressCode")))
        address = address or next(iter(self.addresses.values()), None)
        if address is None:
            raise _reject(400, "DeliveryAddressNotFound", "Адрес доставки не найден")
        return address

    def _article_or_404(self, article_id) -> ShateArticle:
        article = self.catalogue.get(_as_int(article_id))
        if article is None:
            raise _reject(404, "ArticleNotFound", f"Артикул {unquote(str(article_id))} не найден")
        return article

    def _details(self, articles: list[ShateArticle], include: set[str]) -> Response:
        single = len(articles) == 1
        return json_response([article_details(a, self.catalogue.trademark(a.trademark), include,
                                              single) for a in articles])

    # -- articles ---------------------------------------------------------------------------
    def _article(self, request, login, article_id):
        article = self._article_or_404(article_id)
        include = _include(self._query(request).get("include", ()))
        return json_response(article_details(
            article, self.catalogue.trademark(article.trademark), include, True))

    def _analogs(self, request, login, article_id):
        article = self._article_or_404(article_id)
        found = [self.catalogue.get(i) for i in article.analogs]
        return self._details([a for a in found if a is not None],
                             _include(self._query(request).get("include", ())))

    def _search_get(self, request, login, text=None):
        query = self._query(request)
        text = unquote(text) if text is not None else (query.get("searchstring") or [""])[-1]
        if not text.strip():
            raise _reject(400, "InvalidRequest", "Не указана строка поиска (searchString)")
        trademarks = _split(query.get("trademarknames", []) + query.get("trademarkname", []))
        return self._details(self.catalogue.search(text, trademarks),
                             _include(query.get("include", ())))

    def _search_post(self, request, login):
        body = self._body(request)
        if not isinstance(body, dict):
            raise _reject(400, "InvalidRequest", "Ожидается объект с keys или ids")
        keys, ids = body.get("keys") or [], body.get("ids") or []
        if not isinstance(keys, list) or not isinstance(ids, list) or not (keys or ids):
            raise _reject(400, "InvalidRequest", "Не заполнены keys или ids")
        if len(keys) + len(ids) > self.max_search_items:
            raise _reject(400, "TooManyItems",
                          f"Не более {self.max_search_items} артикулов в запросе")
        found: dict[int, ShateArticle] = {}
        for key in keys:
            if not isinstance(key, dict) or not key.get("articlecode"):
                raise _reject(400, "InvalidRequest", "Ключ без articleCode")
            brand = str(key.get("trademarkname") or "")
            for article in self.catalogue.search(str(key["articlecode"]), (brand,)):
                found.setdefault(article.id, article)
        for article_id in ids:
            article = self.catalogue.get(_as_int(article_id))
            if article is not None:
                found.setdefault(article.id, article)
        return self._details(list(found.values()), _include(body.get("include")))

    def _contents(self, request, login):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) and i.get("contentid") for i in items):
            raise _reject(400, "InvalidRequest", "Не указан contentId")
        with self.lock:
            if self._content_index is None:
                self._content_index = {c: a.id for a in self.catalogue.values() for c in a.contents}
            index = self._content_index
        return json_response([
            {"id": i["contentid"], "value": content_value(i["contentid"], i.get("heightsize"),
                                                          i.get("widthsize"))}
            for i in items if str(i["contentid"]).upper() in index])

    # -- account ----------------------------------------------------------------------------
    def _agreements(self, request, login):
        return json_response([agreement_row(a) for a in self.agreements.values()])

    def _customer(self, request, login):
        return json_response([{"login": login, **self.customer}])

    def _addresses(self, request, login):
        return json_response([address_row(a) for a in self.addresses.values()])

    def _locations(self, request, login):
        return json_response([location_row(loc) for loc in self.locations.values()])

    def _status_codes(self, request, login):
        return json_response(status_code_rows())

    def _trademarks(self, request, login):
        rows = sorted(self.catalogue.trademarks.values(), key=lambda t: t.name)
        return json_response([trademark_row(t) for t in rows])

    def _trademark(self, request, login, name):
        trademark = self.catalogue.trademark(unquote(name))
        if trademark is None:
            raise _reject(404, "TradeMarkNotFound", f"Торговая марка {unquote(name)} не найдена")
        return json_response(trademark_row(trademark))

    def _delivery_dates(self, request, login):
        query = {k: v[-1] for k, v in self._query(request).items()}
        location = self.locations.get(query.get("locationcode", ""))
        if location is None:
            raise _reject(400, "LocationNotFound",
                          f"Склад {query.get('locationcode', '')!r} не найден")
        if not query.get("deliveryaddresscode"):
            raise _reject(400, "InvalidRequest", "Не указан deliveryAddressCode")
        address = self._address(query["deliveryaddresscode"])
        days = _as_int(query.get("dayscount") or 7)
        if days is None or not 1 <= days <= 60:
            raise _reject(400, "InvalidRequest", "daysCount: от 1 до 60")
        now = self.clock()
        offset = self.utc_offset_hours * 3600
        earliest = delivery_time(shipping_time(now, location.lead_days, self.utc_offset_hours),
                                 address)
        first_day = (now + offset) // 86400
        slots = []
        for day in range(days):
            local = (first_day + day) * 86400 + DELIVERY_HOUR * 3600
            if local - offset >= earliest and time.gmtime(local).tm_wday != 6:
                slots.append(iso_plain(local - offset))
        return json_response(slots)

    # -- prices -----------------------------------------------------------------------------
    def price_requests_used(self, login: str = DEMO_LOGIN) -> dict[str, int]:
        """Price requests counted for ``login`` in the current 15-minute window and day."""
        now = self.clock()
        usage = self._price_usage.get(login)
        window, day = int(now // 900), int((now + self.utc_offset_hours * 3600) // 86400)
        return {"15min": usage[1] if usage and usage[0] == window else 0,
                "day": usage[3] if usage and usage[2] == day else 0}

    def reset_price_limits(self):
        with self.lock:
            self._price_usage.clear()

    def _consume_price_units(self, login: str, units: int) -> Response | None:
        now = self.clock()
        local = now + self.utc_offset_hours * 3600
        window, day = int(now // 900), int(local // 86400)
        with self.lock:
            usage = self._price_usage.setdefault(login, [window, 0, day, 0])
            if usage[0] != window:
                usage[0:2] = [window, 0]
            if usage[2] != day:
                usage[2:4] = [day, 0]
            if (self.price_requests_per_day is not None
                    and usage[3] + units > self.price_requests_per_day):
                wait, limit, period = (day + 1) * 86400 - local, self.price_requests_per_day, "день"
            elif (self.price_requests_per_15min is not None
                    and usage[1] + units > self.price_requests_per_15min):
                wait, limit, period = (window + 1) * 900 - now, self.price_requests_per_15min, \
                    "15 минут"
            else:
                usage[1] += units
                usage[3] += units
                return None
        retry_after = max(1, math.ceil(wait))
        body = error_body("TooManyRequests", "Превышен лимит запросов проценки",
                          f"Превышен лимит запросов проценки: {limit} за {period}. "
                          f"Повторите запрос через {retry_after} с или обратитесь к Вашему "
                          "менеджеру.")
        return json_response(body, 429, {"Retry-After": str(retry_after)})

    def _prices_flat(self, request, login):
        return self._price_search(request, login, grouped=False)

    def _prices_grouped(self, request, login):
        return self._price_search(request, login, grouped=True)

    def _price_search(self, request, login, grouped):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) for i in items):
            raise _reject(400, "InvalidRequest", "Ожидается объект или массив объектов")
        if len(items) > self.max_price_articles:
            raise _reject(400, "TooManyItems",
                          f"Не более {self.max_price_articles} артикулов в запросе")
        asked = []
        for item in items:
            article_id = _as_int(item.get("articleid"))
            if article_id is None:
                raise _reject(400, "InvalidRequest", "Не указан articleId")
            agreement_code = item.get("agreementcode")
            codes = _split(item.get("deliveryaddresscodes") or item.get("deliveryaddresscode"))
            if self.require_agreement_and_address and not (agreement_code and codes):
                continue
            addresses = [self._address(c) for c in codes] or [self._address(None)]
            asked.append((article_id, self._agreement(agreement_code), addresses,
                          item.get("includeanalogs") in (True, "true", "True")))
        limited = self._consume_price_units(login, len(items))
        if limited is not None:
            return limited
        now = self.clock()
        rows: list = []
        with self.lock:
            for article_id, agreement, addresses, analogs in asked:
                article = self.catalogue.get(article_id)
                if article is None:
                    continue
                for other in [article_id, *(article.analogs if analogs else ())]:
                    found = self.catalogue.get(other)
                    if found is None:
                        continue
                    offers = self._offer_rows(login, found, agreement, addresses, now)
                    if not grouped:
                        rows.extend(offers)
                    elif offers or other == article_id:
                        rows.append({"article": article_row(found), "prices": offers})
        return json_response(rows)

    def _offer_rows(self, login, article, agreement, addresses, now) -> list[dict]:
        offers = sorted((o for o in article.offers if o.available > 0),
                        key=lambda o: (o.type != "Internal", o.shipping_days, o.price))
        rows = []
        for priority, offer in enumerate(offers, 1):
            record = self._issue(login, article, offer, agreement, now)
            shipped = shipping_time(now, offer.shipping_days, self.utc_offset_hours)
            deliveries = [(a.code, delivery_time(shipped, a)) for a in addresses]
            rows.append(offer_row(record, offer, agreement,
                                  self.locations.get(offer.location_code_real), deliveries,
                                  shipped, priority, self.margin, now))
        return rows

    # -- cart -------------------------------------------------------------------------------
    def _offer_now(self, record: PriceRecord) -> tuple[ShateArticle | None, ShateOffer | None]:
        article = self.catalogue.get(record.article_id)
        offer = article.offer(record.location_code_real) if article else None
        return article, (offer if offer is not None and offer.available > 0 else None)

    def _cart_row(self, item: CartItem, address: ShateAddress, now: float) -> dict:
        _article, offer = self._offer_now(item.record)
        offer = offer or replace(item.offer, available=0)
        shipped = shipping_time(now, offer.shipping_days, self.utc_offset_hours)
        return cart_item_row(item, item.article, offer, self.agreements[item.record.agreement_code],
                             self.locations.get(offer.location_code_real),
                             delivery_time(shipped, address), shipped, self.margin)

    def _cart_item(self, login, item_id) -> CartItem:
        item = self._cart.get(_as_int(item_id))
        if item is None or item.login != login:
            raise _reject(404, "CartItemNotFound", f"Строка корзины {item_id} не найдена")
        return item

    def _cart_list(self, request, login):
        query = {k: v[-1] for k, v in self._query(request).items()}
        agreement = self._agreement(query.get("agreementcode"))
        address = self._address(query.get("deliveryaddresscode"))
        now = self.clock()
        with self.lock:
            items = [i for i in self._cart.values()
                     if i.login == login and i.record.agreement_code == agreement.code]
            return json_response([self._cart_row(i, address, now) for i in items])

    def _cart_get(self, request, login, item_id):
        query = {k: v[-1] for k, v in self._query(request).items()}
        address = self._address(query.get("deliveryaddresscode"))
        with self.lock:
            return json_response(self._cart_row(self._cart_item(login, item_id), address,
                                                self.clock()))

    def _cart_add(self, request, login):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) for i in items):
            raise _reject(400, "InvalidRequest", "Ожидается объект с priceId и quantity")
        now = self.clock()
        with self.lock:
            new = []
            for item in items:
                record = self._prices.get(str(item.get("priceid") or ""))
                if record is None or record.login != login:
                    raise _reject(404, "PriceNotFound", "Ценовое предложение не найдено")
                article, offer = self._offer_now(record)
                if offer is None:
                    raise _reject(404, "PriceNotFound", "Ценовое предложение больше недоступно")
                if self._stale(record, offer, now):
                    raise _reject(400, "PriceIsOutdated",
                                  "Ценовое предложение устарело. Выполните проценку повторно")
                errors = quantity_errors(item.get("quantity"), offer)
                if errors:
                    raise _reject(400, "InvalidQuantity", "Некорректное количество", *errors)
                new.append(CartItem(0, login, record, offer, article_row(article),
                                    item["quantity"], record.price,
                                    str(item.get("comment") or ""), now))
            for cart_item in new:
                self._seq["cart"] += 1
                cart_item.id = self._seq["cart"]
                self._cart[cart_item.id] = cart_item
            address = self._address(None)
            rows = [self._cart_row(i, address, now) for i in new]
        return json_response(rows if isinstance(body, list) else rows[0])

    def _cart_patch(self, request, login, item_id):
        body = self._body(request)
        if not isinstance(body, dict):
            raise _reject(400, "InvalidRequest", "Ожидается объект")
        with self.lock:
            item = self._cart_item(login, item_id)
            if body.get("quantity") is not None:
                _article, offer = self._offer_now(item.record)
                errors = quantity_errors(body["quantity"], offer or item.offer)
                if errors:
                    raise _reject(400, "InvalidQuantity", "Некорректное количество", *errors)
                item.quantity = body["quantity"]
            price = body.get("price")
            if price is not None:
                if isinstance(price, bool) or not isinstance(price, (int, float)) or price <= 0:
                    raise _reject(400, "InvalidRequest", "Некорректная цена")
                item.price = round(float(price), 2)
            if body.get("comment") is not None:
                item.comment = str(body["comment"])
            return json_response(self._cart_row(item, self._address(None), self.clock()))

    def _cart_delete(self, request, login, item_id):
        with self.lock:
            self._cart.pop(self._cart_item(login, item_id).id)
        return Response(204)

    def _cart_clear(self, request, login):
        with self.lock:
            for item_id in [i.id for i in self._cart.values() if i.login == login]:
                del self._cart[item_id]
        return Response(204)

    # -- orders -----------------------------------------------------------------------------
    def _order_body(self, request) -> dict:
        try:
            body = self._body(request)
        except _Reject:
            body = None
        if not isinstance(body, dict):
            raise _Reject(json_response(order_error_body(
                ["Некорректный запрос"], {"Body": "Ожидается JSON-объект заказа"}, []), 400))
        return body

    def _order_by_price_items(self, request, login):
        body = self._order_body(request)
        items = body.get("priceitems")
        lines = [_Line(str(i.get("priceid") or ""), i.get("quantity"), str(i.get("comment") or ""))
                 if isinstance(i, dict) else _Line("", None, "")
                 for i in (items if isinstance(items, list) else [])]
        return self._place_order(login, body, lines)[0]

    def _order_by_cart_items(self, request, login):
        body = self._order_body(request)
        refs = body.get("cartitems")
        lines, missing = [], []
        with self.lock:
            for ref in refs if isinstance(refs, list) else []:
                item_id = _as_int(ref.get("id") if isinstance(ref, dict) else ref)
                item = self._cart.get(item_id)
                if item is None or item.login != login:
                    missing.append(str(item_id))
                    continue
                lines.append(_Line(item.record.price_id, item.quantity, item.comment, item.price,
                                   item.id))
            extra = ([f"Строки корзины не найдены: {', '.join(missing)}"] if missing else [])
            response, order = self._place_order(login, body, lines, extra)
            if order is not None:
                for line in lines:
                    self._cart.pop(line.cart_item_id, None)
        return response

    def _place_order(self, login: str, body: dict, lines: list[_Line],
                     extra_errors: list[str] = ()) -> tuple[Response, Order | None]:
        """Validate everything, then create the order (10.2 and 10.3)."""
        now = self.clock()
        agreement_code = body.get("agreementcode")
        agreement = self.agreements.get(str(agreement_code)) if agreement_code else None
        errors, descriptions = order_header_errors(body, agreement, agreement_code,
                                                   self.addresses)
        errors.extend(extra_errors)
        info = body.get("deliveryinfo") if isinstance(body.get("deliveryinfo"), dict) else None
        address = self.addresses.get(str(info.get("deliveryaddresscode"))) if info else None
        expected = None
        try:
            if body.get("expecteddatetimeofarrivalallitems") is not None:
                expected = parse_datetime(body["expecteddatetimeofarrivalallitems"])
        except ValueError:
            pass  # reported by order_header_errors
        if not lines:
            errors.append("Не переданы строки заказа")
            descriptions.setdefault("PriceItems", "Не переданы строки заказа")
        item_errors, resolved = [], []
        with self.lock:
            for line in lines:
                record, line_errors, current, checked = self._check_line(
                    login, line, agreement, address, expected, now)
                if checked is not None:
                    resolved.append(checked)
                if any(e.startswith("110: ") for e in line_errors) \
                        and PREPAYMENT_ERROR not in errors:
                    errors.append(PREPAYMENT_ERROR)
                if line_errors:
                    row = {"priceId": line.price_id or None, "hash": record.hash if record else 0,
                           "current": current, "errors": line_errors}
                    if line.cart_item_id is not None:
                        row["cartItemId"] = line.cart_item_id
                    item_errors.append(row)
            locations = sorted({r[1].location_code for r in resolved})
            if len(locations) > 1:
                message = ("Все строки заказа должны быть из одного склада (locationCode): "
                           + ", ".join(locations))
                errors.append(message)
                descriptions["LocationCode"] = message
            elif (self.enforce_agreement_location and agreement is not None and locations
                  and locations[0] != agreement.location_code):
                message = (f"Код склада договора ({agreement.location_code}) не соответствует "
                           f"коду склада строк заказа ({locations[0]})")
                errors.append(message)
                descriptions["LocationCode"] = message
            if item_errors:
                errors.append("Ошибка валидации строк заказа")
                descriptions["PriceItems"] = "Ошибка валидации строк заказа"
            if errors:
                return json_response(order_error_body(errors, descriptions, item_errors),
                                     400), None
            order = self._create_order(login, body, agreement, info, address, resolved, now)
            return json_response(order_row(order)), order

    def _check_line(self, login, line: _Line, agreement, address, expected, now):
        """One order line against its priceId and today's offer (under the lock): (record,
        errors, ``current`` of the offer, (line, record, article, offer, price, warning,
        delivery time) or None when the offer is unknown or gone)."""
        record = self._prices.get(line.price_id) if line.price_id else None
        if record is None or record.login != login:
            return None, ["100: Ценовое предложение не найдено"], None, None
        errors = []
        if agreement is not None and record.agreement_code != agreement.code:
            errors.append(f"108: Ценовое предложение получено по другому договору "
                          f"({record.agreement_code})")
        article, offer = self._offer_now(record)
        if offer is None:
            return record, errors + ["100: Ценовое предложение больше недоступно"], None, None
        price = self._price_for(offer, self.agreements[record.agreement_code])
        shipped = shipping_time(now, offer.shipping_days, self.utc_offset_hours)
        delivered = delivery_time(shipped, address) if address else shipped
        old = record.price if line.agreed_price is None else line.agreed_price
        warning, error = price_check(old, price, self._stale(record, offer, now),
                                     self.price_tolerance)
        errors += [error] if error else []
        errors += quantity_errors(line.quantity, offer)
        if agreement is not None and agreement.prepayment_stock_only and offer.type != "Internal":
            errors.append("110: " + PREPAYMENT_ERROR)
        if expected is not None and delivered > expected:
            errors.append(f"109: Строка не может прибыть к {iso_z(expected)}; "
                          f"ближайшая дата {iso_z(delivered)}")
        current = current_info(offer, price, self.margin, delivered, shipped)
        return record, errors, current, (line, record, article, offer, price, warning, delivered)

    def _create_order(self, login, body, agreement, info, address, resolved, now) -> Order:
        kind = None
        dates = [r[6] for r in resolved]
        if info:
            kind = delivery_type(info)
            if kind == "OneDelivery":
                dates = [max(dates)] * len(dates)
            if info.get("deliverydatetime") is not None:
                wanted = parse_datetime(info["deliverydatetime"])
                dates = [max(at, wanted) for at in dates]
        self._seq["order"] += 1
        order = Order(self._seq["order"], login, now, agreement.code, agreement.currency,
                      address.code if address else None, kind,
                      str(body.get("comment") or ""), str(body.get("note") or ""),
                      str(body.get("fio") or ""), str(body.get("phone") or ""), [])
        for (line, record, article, offer, price, warning, _), at in zip(resolved, dates,
                                                                           strict=True):
            self._seq["item"] += 1
            item = OrderItem(self._seq["item"], order.id, login, article_row(article),
                             record.location_code, record.location_code_real, line.quantity,
                             price, at, line.comment, [warning] if warning else None,
                             offer.is_return_allowed,
                             _PATHS[(offer.type == "Internal", address is not None)],
                             [(0, now)])
            order.items.append(item)
            self._order_items[item.id] = item
        self._orders[order.id] = order
        return order

    def _orders_list(self, request, login):
        query = self._query(request)
        one = {k: v[-1] for k, v in query.items()}
        page, size = _as_int(one.get("page") or 1), _as_int(one.get("pagesize") or 25)
        if page is None or page < 1 or size is None or not 1 <= size <= self.max_page_size:
            raise _reject(400, "InvalidRequest",
                          f"page ≥ 1, pageSize от 1 до {self.max_page_size}")
        try:
            start = parse_datetime(one["startdatetime"]) if one.get("startdatetime") else None
            end = (parse_datetime(one["enddatetime"], end_of_day=True)
                   if one.get("enddatetime") else None)
        except ValueError:
            raise _reject(400, "InvalidRequest", "Некорректная дата") from None
        ids = {_as_int(v) for v in _split(query.get("ids", []) + query.get("id", []))}
        statuses = {_as_int(v) for v in
                    _split(query.get("statuscode", []) + query.get("statuscodes", []))}
        trademark = (one.get("trademarkname") or "").casefold()
        code = normalize_code(one.get("articlecode") or "")
        now = self.clock()
        rows = []
        with self.lock:
            for order in sorted(self._orders.values(), key=lambda o: -o.id):
                if order.login != login or (ids and order.id not in ids) or (
                        start is not None and order.created_at < start) or (
                        end is not None and order.created_at > end):
                    continue
                for item in order.items:
                    self._progress(item, now)
                items = [i for i in order.items
                         if (not trademark or i.article["tradeMarkName"].casefold() == trademark)
                         and (not code or normalize_code(i.article["code"]) == code)
                         and (not statuses or i.status in statuses)]
                if items or not (trademark or code or statuses):
                    rows.append(order_row(order, items))
        return json_response(rows[(page - 1) * size:page * size])

    # -- statuses ---------------------------------------------------------------------------
    def _progress(self, item: OrderItem, now: float):
        """Automatic progression: one step of the item's path per auto_progress_seconds."""
        step = self.auto_progress_seconds
        if not step or item.off_path or item.status not in item.path:
            return
        created = item.history[0][1]
        index = item.path.index(item.status)
        due = min(int((now - created) // step), len(item.path) - 1)
        while index < due:
            index += 1
            at = max(created + index * step, item.history[-1][1])
            item.history.append((item.path[index], at))

    def advance_status(self, order_item_id: int, status_code: int | None = None,
                       at: float | None = None) -> int:
        """Move an order item to ``status_code`` (any code of STATUS_CODES) or, by default, to
        the next status of its path; returns the new code. A code off the path stops the
        automatic progression of that item."""
        with self.lock:
            item = self._order_items.get(int(order_item_id))
            if item is None:
                raise KeyError(f"unknown order item {order_item_id}")
            now = self.clock() if at is None else at
            self._progress(item, now)
            if status_code is None:
                if item.status not in item.path or item.status == item.path[-1]:
                    raise ValueError(f"order item {order_item_id} has no next status")
                status_code = item.path[item.path.index(item.status) + 1]
            if status_code not in STATUS_CODES:
                raise ValueError(f"unknown status code {status_code}")
            if status_code not in item.path:
                item.off_path = True
            item.history.append((int(status_code), now))
            return int(status_code)

    def advance_order(self, order_id: int, status_code: int | None = None) -> list[int]:
        """:meth:`advance_status` for every item of an order."""
        order = self._orders[int(order_id)]
        return [self.advance_status(item.id, status_code) for item in order.items]

    def order_item(self, order_item_id: int) -> OrderItem:
        return self._order_items[int(order_item_id)]

    def placed_orders(self) -> list[dict]:
        """Every order placed so far (all logins), oldest first, as ``GET /orders`` shows it."""
        now = self.clock()
        with self.lock:
            for item in self._order_items.values():
                self._progress(item, now)
            return [order_row(order) for order in self._orders.values()]

    def _history(self, request, login, item_id):
        item = self._order_items.get(_as_int(item_id))
        if item is None or item.login != login:
            raise _reject(404, "OrderItemNotFound", f"Строка заказа {item_id} не найдена")
        with self.lock:
            self._progress(item, self.clock())
            rows = [{"statusCode": code, "dateTime": iso_z(at)} for code, at in item.history]
        return json_response(rows)

    # -- control ----------------------------------------------------------------------------
    def _ctl_expire_tokens(self, request):
        self.expire_tokens()
        return json_response({"status": "ok"})

    def _ctl_reprice(self, request):
        payload = json.loads(request.body or b"{}")
        changed = self.reprice(float(payload.get("factor", 1.0)), payload.get("article_ids"))
        return json_response({"changed": changed})

    def _ctl_advance_status(self, request):
        payload = json.loads(request.body or b"{}")
        code = self.advance_status(payload["order_item_id"], payload.get("status_code"))
        return json_response({"order_item_id": payload["order_item_id"], "status_code": code})

    _CONFIG_KEYS = ("token_ttl", "price_ttl", "price_tolerance", "price_requests_per_15min",
                    "price_requests_per_day", "require_agreement_and_address",
                    "enforce_agreement_location", "auto_progress_seconds",
                    "default_agreement_code", "margin")

    def _ctl_config(self, request):
        """The base settings plus this emulator's (``_CONFIG_KEYS``; null switches off)."""
        payload = json.loads(request.body or b"{}")
        unknown = set(payload) - set(self._CONFIG_KEYS) - {"latency", "rate_limit_per_second"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        for key in self._CONFIG_KEYS:
            if key in payload:
                setattr(self, key, payload[key])
        answer = json.loads(super()._ctl_config(request).body)
        return json_response({**answer, **{k: getattr(self, k) for k in self._CONFIG_KEYS}})

    def _ctl_reset_price_limits(self, request):
        self.reset_price_limits()
        return json_response({"status": "ok"})

    def _ctl_orders(self, request):
        return json_response(self.placed_orders())

    def _ctl_set_offer(self, request, article_id, real):
        payload = json.loads(request.body or b"{}")
        offer = self.set_offer(int(article_id), unquote(real), **payload)
        return json_response({"price": offer.price, "available": offer.available,
                              "version": offer.version})
