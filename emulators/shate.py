"""Local emulator of the Shate-M Plus API (https://api.shate-m.ru/api/v1).

Emulates every method of ``shared/api-docs/shate-m.txt`` (revision 1.2.3): auth (login/password
and ApiKey), articles (by id, analogs, search by string, search by keys/ids), cart items
(CRUD), contents, customer (agreements, info), delivery (addresses, available dates),
locations, order item status history, status codes, orders (list, byPriceItems, byCartItems),
prices (search, with_article_info) and trademarks. It is one service's protocol end to end
(auth, rate limits, offers that go stale, order validation, status progression).

:class:`ShateEmulator` is this module's routes, tokens and control endpoints, composed with one
mixin per concern, each with the decisions it takes: :mod:`.shate_articles`,
:mod:`.shate_account`, :mod:`.shate_prices` (offers, price limits), :mod:`.shate_cart`,
:mod:`.shate_orders` (orders, stale priceIds, statuses). Shapes and rules live in
:mod:`.shate_answers`, data in :mod:`.shate_catalogue`, request reading in :mod:`.shate_requests`.

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
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import unquote

from .base import Emulator, RecordedRequest, Response, json_response
from .shate_account import ShateAccountMixin
from .shate_answers import CartItem, Order, OrderItem, PriceRecord, error_body, iso_z, token_body
from .shate_articles import ShateArticlesMixin
from .shate_cart import ShateCartMixin
from .shate_catalogue import (
    DEFAULT_ADDRESSES,
    DEFAULT_AGREEMENTS,
    DEFAULT_LOCATIONS,
    ShateAddress,
    ShateAgreement,
    ShateArticle,
    ShateCatalogue,
    ShateLocation,
    ShateOffer,
    generate_catalogue,
)
from .shate_demo import DEMO_API_KEY, DEMO_LOGIN, DEMO_PASSWORD
from .shate_orders import ShateOrdersMixin
from .shate_prices import ShatePricesMixin
from .shate_requests import API_PREFIX, Reject, lower_keys, reject

__all__ = ["ShateArticle", "ShateEmulator", "ShateOffer", "generate_catalogue"]

_JWT_HEADER = "eyJhbGciOiJQUzI1NiIsInR5cCI6ImF0K2p3dCJ9"  # {"alg":"PS256","typ":"at+jwt"}


class ShateEmulator(ShateArticlesMixin, ShateAccountMixin, ShatePricesMixin, ShateCartMixin,
                    ShateOrdersMixin, Emulator):
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
            except Reject as rejection:
                return rejection.response
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
            raise reject(415, "UnsupportedMediaType",
                         "Ожидается Content-Type application/x-www-form-urlencoded")
        return {k.lower(): v for k, v in request.form().items()}

    def _login(self, request: RecordedRequest) -> Response:
        form = self._auth_form(request)
        login, password = form.get("login", ""), form.get("password", "")
        if not login or not password:
            raise reject(400, "InvalidRequest", "Не указан логин или пароль")
        if self.users.get(login) != password:
            raise reject(401, "InvalidCredentials", "Неверный логин или пароль")
        return self._new_token(login)

    def _login_by_key(self, request: RecordedRequest) -> Response:
        key = self._auth_form(request).get("apikey", "").strip()
        if not key:
            raise reject(400, "InvalidRequest", "Не указан ApiKey")
        login = self.api_keys.get(key)
        if login is None:
            raise reject(401, "InvalidApiKey", "Неверный ApiKey")
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
            raise reject(415, "UnsupportedMediaType", "Ожидается Content-Type application/json")
        try:
            return lower_keys(json.loads(request.body)) if request.body.strip() else None
        except ValueError:
            raise reject(400, "InvalidRequest", "Некорректный JSON в теле запроса") from None

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
