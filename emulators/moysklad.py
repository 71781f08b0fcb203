"""Local emulator of the MoySklad JSON API 1.2 (``https://api.moysklad.ru/api/remap/1.2``).

Serves ``http://host:port/api/remap/1.2/…``: ``security/token``; ``context/companysettings``
(and ``…/pricetype``, ``…/pricetype/default``, ``…/pricetype/<id>``), ``context/employee``;
``entity/<type>`` for product, service, variant, productfolder, uom, currency, store,
organization, counterparty (with ``accounts`` and ``contactpersons``), country, webhook, webhookstock,
customerorder, purchaseorder, demand, supply (with ``positions``): list, create one, bulk
create/update (an array), bulk delete (``…/delete``), get/update/delete one, delete by
``syncid/<syncId>``, ``metadata`` (document states); ``entity/assortment``; product images
(``entity/product/<id>/images``, ``download/<id>`` → 302 to the file); ``report/stock/bystore/
current`` and ``report/stock/all/current``. The parts: :mod:`.moysklad_protocol` (errors,
auth, limits, lockout), :mod:`.moysklad_store` (entities and JSON shapes),
:mod:`.moysklad_query` (lists), :mod:`.moysklad_reports` (stock), :mod:`.moysklad_webhooks`,
:mod:`.moysklad_demo`.

Every API request passes, in order: ``Accept-Encoding`` must name gzip (else 415, empty body;
answers are gzip-compressed); ``Accept`` must be ``application/json;charset=utf-8`` (else 400
code 1062; ``strict_accept=False`` also lets a missing header, ``*/*`` and ``application/json``
through); the lockout (403 code 1061 while switched off); authentication (401 code 1056); the
parallel limits (5 per user, 20 per account: 429 code 1073); the 45-units-per-3-s window (429 code 1049, headers). Then the
handler. ``limits_enabled=False`` switches the parallel limit, the window and the lockout off
(benchmarks); the base faults (``http_5xx``, ``timeout``, ``rate_limit`` → 429 code 1049 …),
``latency`` and ``rate_limit_per_second`` of :class:`~.base.Emulator` apply as everywhere.

Decisions where the documentation is silent (more in each module's docstring):

* An unknown path or method → 404 code 1002; an unknown entity type → 404 code 1005.
* A body that is not JSON → 400 code 2001; over 20 MB → 413 code 1044; an array of more than
  1,000 items → 413 code 2007; a single-entity route (PUT) given an array → 400 code 2009.
* Bulk POST: the answer is an array in request order, each item the entity or ``{"errors":
  [...]}``; the good items are saved; HTTP 200 when all succeed, 400 when any failed (the
  OpenAPI description says a batch 400 may be an array).
* ``POST security/token`` needs Basic auth (a token gets 401 1056), costs like any request and
  answers ``{"access_token": "<40 hex>"}``; it revokes the user's older tokens.
* ``download/<image id>`` (authenticated) answers 302 to ``/files/<image id>/<filename>``, which
  needs no authentication, gzip or Accept (the documented temporary URL).
* Images: POST of one object adds it, of an array sets the list (``meta`` items kept, new
  ones added, the others removed), ``…/images/delete`` removes a list; at most 10 per product
  (the documented limit), the 11th → 400 code 1080 (the documentation gives no code). A product
  created or updated with ``images`` replaces its images.
* The assortment lists products, then services, then variants, non-archived unless the filter
  names ``archived``; product and variant rows carry ``stock``, ``reserve``, ``inTransit`` and
  ``quantity`` (stock − reserve + in transit) summed over the stores, except with the header
  ``X-Lognex-Remap-Beta-Feature: assortmentWithoutStock`` (the new endpoint: no stock fields,
  the ``article`` filter refused with 1034). ``entity/<type>`` lists return archived entities too.
* ``X-Lognex-WebHook-DisableByPrefix: <url prefix>`` on a writing request: the webhooks whose URL
  starts with it are not called for that request's changes; a prefix without a scheme and a
  whole domain name → 400 code 3030 (one prefix per request here: the recorded headers keep the
  last of repeated ones).
* Extra fault kind ``token_expired``: the user token of the faulted request expires at once
  (``reason`` "revoked" to revoke it instead), so that request and the next ones with it get
  401 code 1056 until the client obtains a new token.
* :meth:`status_counts` (and ``statuses`` in the summary): API answers per HTTP status since
  the last reset, so a benchmark can state how many 429 it got.
* Control routes (``/_emulator/moysklad/…``): ``GET summary``; ``GET entity/<type>``
  (``?limit=``), ``POST entity/<type>`` (create, or update with ``"id"``; ``"stateName"`` sets a
  document's state by name; webhooks fire as for an API change), ``DELETE entity/<type>/<id>``; ``POST stock`` (``{"assortmentId", "storeId",
  "stock", "reserve", "inTransit"}``); ``GET tokens``, ``POST tokens`` (``{"action":
  "revoke"|"expire", "login"?, "token"?}``); ``GET|POST settings`` (:data:`SETTINGS`);
  ``POST lockout/clear``; ``POST webhook/fire`` (``{"entityType", "id", "action", "url"?}``);
  ``GET|DELETE deliveries``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from .base import Emulator, RecordedRequest, Response
from .moysklad_demo import (
    DEMO_APP_TOKEN,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    load_catalogue,
    load_counterparties,
    load_demo,
)
from .moysklad_protocol import (
    Auth,
    Limiter,
    Lockout,
    MsError,
    Weights,
    accept_ok,
    empty_415,
    wants_gzip,
)
from .moysklad_query import (
    expand_of,
    filter_text,
    list_meta,
    matches,
    page_params,
    parse_filter,
    parse_order,
    search_matches,
    sort_records,
)
from .moysklad_reports import MsReportsMixin
from .moysklad_store import (
    ACCOUNT_FIELDS,
    ACCOUNT_ID,
    ASSORTMENT_TYPES,
    CONTACT_FIELDS,
    DOCUMENT_TYPES,
    EMPLOYEE_ID,
    FIELDS,
    ROOT,
    MsStoreMixin,
    RawJson,
    Ref,
    check_uuid,
    meta,
)
from .moysklad_webhooks import MsWebhooksMixin
from .server import JSON_CONTENT_TYPE

__all__ = ["MoyskladEmulator", "SETTINGS"]

API = r"/api/remap/1\.2"
API_PREFIX = "/api/remap/1.2/"
UUID = r"(?P<id>[^/]+)"
ENTITY_TYPES = tuple(t for t in FIELDS if t != "state")
MAX_BODY = 20 * 1024 * 1024
MAX_IMAGES = 10
CONTEXT = {"employee": {"meta": {"href": f"{ROOT}/context/employee",
                                 "metadataHref": f"{ROOT}/entity/employee/metadata",
                                 "type": "employee", "mediaType": "application/json"}}}
SETTINGS = ("limits_enabled", "paid_plan", "user_weight", "app_weight", "heavy_weight",
            "rate_units", "rate_interval", "max_parallel", "max_parallel_account",
            "lockout_threshold",
            "lockout_put_threshold",
            "lockout_window", "lockout_seconds", "strict_accept", "webhook_timeout",
            "webhook_retries", "public_url", "token_ttl", "login_failures_limit")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _serialise(data) -> str:
    """JSON of an answer; a list answer's ``rows`` or a bulk answer may hold :class:`RawJson`
    texts."""
    if isinstance(data, RawJson):
        return data
    if isinstance(data, dict) and data.get("rows") and isinstance(data["rows"][0], RawJson):
        text = _dumps({k: v for k, v in data.items() if k != "rows"})
        return f'{text[:-1]},"rows":[{",".join(data["rows"])}]}}'
    if isinstance(data, list) and any(isinstance(item, RawJson) for item in data):
        return "[" + ",".join(item if isinstance(item, RawJson) else _dumps(item)
                              for item in data) + "]"
    return _dumps(data)


@dataclass
class _State:
    key: str = "?"
    over_parallel: bool = False
    headers: dict = field(default_factory=dict)
    login: str = ""
    quiet_prefix: str = ""  # X-Lognex-WebHook-DisableByPrefix
    plain: bool = False  # a malformed_json fault is set: let the server compress what it cuts


class MoyskladEmulator(MsStoreMixin, MsReportsMixin, MsWebhooksMixin, Emulator):
    """MoySklad JSON API 1.2 emulator; ``api_url`` is ``base_url + "/api/remap/1.2"``."""

    name = "moysklad"
    extra_fault_kinds = ("token_expired",)

    def __init__(self, catalogue: str | int = "demo", *, counterparties: int = 0,
                 users: dict[str, str] | None = None,
                 app_tokens: dict[str, str] | None = None, limits_enabled: bool = True,
                 paid_plan: bool = True, user_weight: int | None = None, app_weight: int = 1,
                 rate_units: int = 45, rate_interval: float = 3.0, max_parallel: int = 5,
                 max_parallel_account: int = 20,
                 lockout_threshold: int = 200, lockout_window: float = 60.0,
                 lockout_seconds: float = 3600.0, strict_accept: bool = True,
                 token_ttl: float | None = None, login_failures_limit: int = 20,
                 webhook_timeout: float = 1.5,
                 webhook_retries: int = 3, public_url: str | None = None,
                 clock: Callable[[], float] = time.time, port: int = 0,
                 host: str = "127.0.0.1", **options):
        """``catalogue``: "demo", a number of synthetic products, or "empty" (reference data
        only: currencies, price types, units, organisation, stores, states);
        ``counterparties``: that many synthetic counterparties more.
        ``options`` go to :class:`Emulator` (latency, rate_limit_per_second, record_limit)."""
        super().__init__(port=port, host=host, **options)
        self.clock = clock
        self.auth = Auth(users if users is not None else {DEMO_LOGIN: DEMO_PASSWORD},
                         app_tokens if app_tokens is not None else {DEMO_APP_TOKEN: "demo-app"},
                         clock, token_ttl, login_failures_limit)
        self.weights = Weights(user_weight, app_weight)
        self.limiter = Limiter(rate_units, rate_interval)
        self.lockout = Lockout(lockout_threshold, lockout_window, lockout_seconds)
        self.limits_enabled = limits_enabled
        self.max_parallel = max_parallel
        self.strict_accept = strict_accept
        self._active: dict[str, int] = {}
        self._active_total = 0
        self.max_parallel_account = max_parallel_account
        self._statuses: dict[int, int] = {}
        self._local = threading.local()
        self._query_cache: dict[tuple, tuple[int, list]] = {}
        self._init_store()
        self._init_reports()
        self._init_webhooks(paid_plan, webhook_timeout, webhook_retries, public_url)
        with self.lock:
            if catalogue == "demo":
                load_demo(self)
            elif catalogue == "empty":
                load_catalogue(self, 0)
            else:
                load_catalogue(self, int(catalogue))
            if counterparties:
                load_counterparties(self, counterparties)
        self._register_routes()
        self._register_moysklad_control_routes()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/remap/1.2"

    # -- settings ------------------------------------------------------------------------------
    def settings(self) -> dict:
        return {"limits_enabled": self.limits_enabled, "paid_plan": self.paid_plan,
                "user_weight": self.weights.user, "app_weight": self.weights.app_token,
                "heavy_weight": self.weights.heavy, "rate_units": self.limiter.units,
                "rate_interval": self.limiter.interval, "max_parallel": self.max_parallel,
                "max_parallel_account": self.max_parallel_account,
                "lockout_threshold": self.lockout.threshold,
                "lockout_put_threshold": self.lockout.put_threshold,
                "lockout_window": self.lockout.window, "lockout_seconds": self.lockout.seconds,
                "strict_accept": self.strict_accept, "webhook_timeout": self.webhook_timeout,
                "webhook_retries": self.webhook_retries, "public_url": self.public_url,
                "token_ttl": self.auth.token_ttl,
                "login_failures_limit": self.auth.login_failures_limit}

    def configure(self, **values):
        unknown = set(values) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        targets = {"user_weight": (self.weights, "user"), "app_weight": (self.weights,
                                                                          "app_token"),
                   "heavy_weight": (self.weights, "heavy"),
                   "rate_units": (self.limiter, "units"),
                   "rate_interval": (self.limiter, "interval"),
                   "lockout_threshold": (self.lockout, "threshold"),
                   "lockout_put_threshold": (self.lockout, "put_threshold"),
                   "lockout_window": (self.lockout, "window"),
                   "lockout_seconds": (self.lockout, "seconds"),
                   "token_ttl": (self.auth, "token_ttl"),
                   "login_failures_limit": (self.auth, "login_failures_limit")}
        with self.lock:
            for name, value in values.items():
                target, attribute = targets.get(name, (self, name))
                setattr(target, attribute, value)
        return self.settings()

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone(dt.timedelta(hours=3))).date()

    # -- answers -------------------------------------------------------------------------------
    def root_of(self, request: RecordedRequest) -> str:
        """The API root as the client addressed it (its Host header), else ``public_root``."""
        host = request.header("Host")
        return f"http://{host}/api/remap/1.2" if host else self.public_root

    def answer(self, request, data, status: int = 200, headers: dict | None = None) -> Response:
        text = _serialise(data)
        body = text.replace(ROOT, self.root_of(request)).encode()
        state = getattr(self._local, "state", None)
        if len(body) < 65536 or (state and state.plain) or not wants_gzip(
                request.header("Accept-Encoding")):
            return Response(status, body, JSON_CONTENT_TYPE, headers, gzip=True)
        # big pages: the fastest gzip level (a 1,000-product page is 3 MB of JSON)
        return Response(status, gzip.compress(body, compresslevel=1), JSON_CONTENT_TYPE,
                        {**(headers or {}), "Vary": "Accept-Encoding",
                         "Content-Encoding": "gzip"})

    def error_answer(self, request, error: MsError) -> Response:
        return self.answer(request, error.body(), error.status, dict(error.headers or {}))

    def rate_limit_response(self, retry_after) -> Response:
        error = MsError(429, 1049, "Превышено ограничение на количество запросов в единицу "
                                   "времени")
        response = error.response()
        response.headers = {"X-Lognex-Retry-After": str(int(float(retry_after) * 1000))}
        return response

    def _fault_token_expired(self, fault, request):
        """The request's user token expires now (session expiry mid-run): 401 1056."""
        token = request.bearer_token()
        if token:
            self.auth.revoke(value=token, reason=fault.params.get("reason", "expired"))

    # -- the protocol --------------------------------------------------------------------------
    def _handle_api(self, request, method, raw, handler):
        state = _State(key=Auth.guess_key(request.header("Authorization"), self.auth),
                       plain="malformed_json" in self._faults)
        with self.lock:
            active = self._active.get(state.key, 0) + 1
            self._active[state.key] = active
        with self.lock:
            self._active_total += 1
            account_over = self._active_total > self.max_parallel_account
        state.over_parallel = active > self.max_parallel or account_over
        self._local.state = state
        try:
            response = super()._handle_api(request, method, raw, handler)
        finally:
            with self.lock:
                self._active[state.key] -= 1
                self._active_total -= 1
            self._local.state = None
        if response is not None:
            with self.lock:
                self._statuses[response.status] = self._statuses.get(response.status, 0) + 1
            if state.headers:
                response.headers = {**state.headers, **(response.headers or {})}
            if self.limits_enabled and state.key != "?" and not raw.startswith("/files/"):
                with self.lock:
                    self.lockout.record(state.key, f"{method} {request.raw_path}",
                                        response.status, self.clock())
        return response

    def _check(self, request: RecordedRequest, basic_only: bool = False):
        """The protocol rules before a handler; raises MsError (or returns the 415 answer)."""
        state: _State = getattr(self._local, "state", None) or _State()
        if not wants_gzip(request.header("Accept-Encoding")):
            return empty_415()
        if not accept_ok(request.header("Accept"), self.strict_accept):
            raise MsError(400, 1062, "Неверное значение заголовка 'Accept'. Поддерживается "
                                     "только значение 'application/json;charset=utf-8'",
                          "Accept")
        now = self.clock()
        if self.limits_enabled:
            with self.lock:
                locked = self.lockout.locked(state.key, now)
            if locked:
                raise MsError(403, 1061, "Отсутствует доступ к API для данного пользователя: "
                                         "доступ отключён за превышение ограничений")
        principal = self.auth.authenticate(request.header("Authorization"), basic_only)
        state.key = principal.key
        state.login = principal.login
        prefix = request.header("X-Lognex-WebHook-DisableByPrefix").strip()
        if prefix:
            parts = urlsplit(prefix)
            if parts.scheme not in ("http", "https") or "." not in (parts.hostname or ""):
                raise MsError(400, 3030, "Ошибка валидации заголовка "
                                         "'X-Lognex-WebHook-DisableByPrefix': префикс должен "
                                         "содержать протокол и доменное имя целиком",
                              "X-Lognex-WebHook-DisableByPrefix")
            state.quiet_prefix = prefix
        if not self.limits_enabled:
            return None
        if state.over_parallel:
            raise MsError(429, 1073, "Превышено ограничение на одновременное количество "
                                     "запросов")
        path = request.path[len(API_PREFIX):] if request.path.startswith(API_PREFIX) else ""
        weight = self.weights.of(principal, path, self.today())
        with self.lock:
            ok, headers = self.limiter.take(principal.key, weight, now)
        state.headers = headers
        if not ok:
            raise MsError(429, 1049, "Превышено ограничение на количество запросов в единицу "
                                     "времени")
        return None

    def _guard(self, handler, basic_only=False):
        def guarded(request, **params):
            try:
                early = self._check(request, basic_only)
                if early is not None:
                    return early
                return handler(request, **params)
            except MsError as error:
                return self.error_answer(request, error)
        return guarded

    def not_found(self, request: RecordedRequest) -> Response:
        def unknown(request):
            raise MsError(404, 1002, f"Неопознанный путь: {request.path}")
        return self._guard(unknown)(request)

    def notify(self, events: list, login: str):
        """Webhooks of one request, less those the request's
        ``X-Lognex-WebHook-DisableByPrefix`` turns off."""
        state = getattr(self._local, "state", None)
        super().notify(events, login, quiet_prefix=state.quiet_prefix if state else "")

    def status_counts(self) -> dict[int, int]:
        """API answers per HTTP status since the last reset (e.g. how many 429)."""
        with self.lock:
            return dict(self._statuses)

    def reset(self):
        super().reset()
        with self.lock:
            self._statuses.clear()

    @property
    def login(self) -> str:
        state = getattr(self._local, "state", None)
        return state.login if state and state.login else DEMO_LOGIN

    # -- routes --------------------------------------------------------------------------------
    def _api(self, method: str, pattern: str, handler, label: str, basic_only: bool = False):
        self.route(method, API + pattern, self._guard(handler, basic_only), label)

    def _register_routes(self):
        self._api("POST", r"/security/token", self._token, "token", basic_only=True)
        self._api("GET", r"/context/companysettings", self._company_settings,
                  "companysettings")
        self._api("GET", r"/context/companysettings/pricetype", self._price_types, "pricetype")
        self._api("GET", r"/context/companysettings/pricetype/default",
                  self._default_price_type, "pricetype")
        self._api("GET", r"/context/companysettings/pricetype/" + UUID, self._price_type,
                  "pricetype")
        self._api("GET", r"/context/employee", self._employee, "employee")
        self._api("GET", r"/entity/assortment", self._assortment, "assortment")
        self._api("GET", r"/report/stock/bystore/current", self._stock_bystore, "stock.bystore")
        self._api("GET", r"/report/stock/all/current", self._stock_all, "stock.all")
        self._api("GET", r"/download/" + UUID, self._download, "download")
        self.route("GET", r"/files/(?P<id>[^/]+)(?:/[^/]*)?", self._file, "file")
        product = r"/entity/(?P<type>product)/(?P<owner>[^/]+)/images"
        self._api("GET", product, self._images, "images.list")
        self._api("POST", product, self._add_image, "images.add")
        self._api("POST", product + r"/delete", self._delete_images, "images.delete")
        self._api("DELETE", product + r"/(?P<image>[^/]+)", self._delete_image,
                  "images.delete")
        for type_ in ENTITY_TYPES:
            base = rf"/entity/(?P<type>{type_})"
            self._api("GET", base, self._list, f"{type_}.list")
            self._api("POST", base, self._create, f"{type_}.create")
            self._api("POST", base + r"/delete", self._bulk_delete, f"{type_}.delete")
            self._api("GET", base + r"/metadata", self._metadata, f"{type_}.metadata")
            self._api("DELETE", base + r"/syncid/(?P<sync>[^/]+)", self._delete_by_sync,
                      f"{type_}.delete")
            self._api("GET", base + "/" + UUID, self._get, f"{type_}.get")
            self._api("PUT", base + "/" + UUID, self._put, f"{type_}.update")
            self._api("DELETE", base + "/" + UUID, self._delete, f"{type_}.delete")
        nested = r"/entity/(?P<type>counterparty|organization)/(?P<owner>[^/]+)/" \
                 r"(?P<sub>accounts|contactpersons)"
        self._api("GET", nested, self._nested_list, "nested.list")
        self._api("POST", nested, self._nested_add, "nested.add")
        self._api("GET", nested + r"/(?P<row>[^/]+)", self._nested_get, "nested.get")
        self._api("PUT", nested + r"/(?P<row>[^/]+)", self._nested_put, "nested.update")
        docs = "|".join(DOCUMENT_TYPES)
        positions = rf"/entity/(?P<type>{docs})/(?P<owner>[^/]+)/positions"
        self._api("GET", positions, self._positions, "positions.list")
        self._api("GET", positions + r"/(?P<row>[^/]+)", self._position, "positions.get")
        self.route("GET", API + r"/entity/(?P<type>[a-z]+)", self._guard(self._unknown_type),
                   "unknown")

    def _unknown_type(self, request, type):
        raise MsError(404, 1005, f"Неизвестный тип: {type}")

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _body(request: RecordedRequest):
        if len(request.body) > MAX_BODY:
            raise MsError(413, 1044, "Превышен максимальный размер запроса")
        try:
            return json.loads(request.body) if request.body.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MsError(400, 2001, "Ошибка формата: входящий запрос не соответствует формату "
                                     "JSON") from None

    def _list_answer(self, request, path: str, type_: str, rows: list, size: int, limit: int,
                     offset: int) -> Response:
        return self.answer(request, {"context": CONTEXT, "meta": list_meta(
            request, path, type_, size, limit, offset), "rows": rows})

    def _query_ids(self, type_: str, request, default_archived: bool = False) -> list:
        text = filter_text(request)
        search = request.query.get("search", "").strip()
        order = request.query.get("order", "")
        key = (type_, text, search, order)
        cached = self._query_cache.get(key)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        conditions = parse_filter(type_, text) if text else []
        order_by = parse_order(type_, order) if order else []
        if default_archived and not any(c.field == "archived" for c in conditions):
            conditions += parse_filter(type_, "archived=false")
        words = [w.lower() for w in search.split() if w]
        if type_ == "assortment":
            records = [r for t in ASSORTMENT_TYPES for r in self.db[t].values()]
        else:
            records = list(self.db[type_].values())
        if conditions:
            records = [r for r in records if matches(self, r, conditions)]
        if words:
            records = [r for r in records if search_matches(r, words)]
        if order_by:
            records = sort_records(self, records, order_by)
        ids = [(r["_type"], r["id"]) for r in records]
        live = {k: v for k, v in self._query_cache.items() if v[0] == self.version}
        if len(live) >= 8:  # a 100,000-row id list is several MB: keep a few current ones
            live.clear()
        live[key] = (self.version, ids)
        self._query_cache = live
        return ids

    # -- handlers: auth and context ---------------------------------------------------------------
    def _token(self, request):
        token = self.auth.issue(self.login)
        return self.answer(request, {"access_token": token.value})

    def _price_type_json(self, id_: str) -> dict:
        price_type = self.price_types[id_]
        return {"meta": {"href": f"{ROOT}/context/companysettings/pricetype/{id_}",
                         "type": "pricetype", "mediaType": "application/json"},
                "id": id_, "name": price_type["name"],
                "externalCode": price_type.get("externalCode", "")}

    def _company_settings(self, request):
        with self.lock:
            data = {"meta": {"href": f"{ROOT}/context/companysettings",
                             "metadataHref": f"{ROOT}/context/companysettings/metadata",
                             "type": "companysettings", "mediaType": "application/json"},
                    "currency": {"meta": meta("currency", self.default_currency)},
                    "priceTypes": [self._price_type_json(i) for i in self.price_types],
                    "discountStrategy": "bySum", "globalOperationNumbering": True,
                    "checkShippingStock": True, "checkMinPrice": False, "useRecycleBin": True,
                    "useCompanyAddress": True, "companyAddress": "info@demo-torg.example"}
        return self.answer(request, data)

    def _price_types(self, request):
        with self.lock:
            return self.answer(request, [self._price_type_json(i) for i in self.price_types])

    def _default_price_type(self, request):
        with self.lock:
            first = next(iter(self.price_types), None)
            if first is None:
                raise MsError(404, 1021, "Тип цены по умолчанию не найден")
            return self.answer(request, self._price_type_json(first))

    def _price_type(self, request, id):
        with self.lock:
            self.get_price_type_checked(id)
            return self.answer(request, self._price_type_json(id))

    def get_price_type_checked(self, id_: str):
        check_uuid(id_)
        if id_ not in self.price_types:
            raise MsError(404, 1021, f"Объект с типом 'pricetype' и идентификатором '{id_}' не "
                                     "найден")

    def _employee(self, request):
        return self.answer(request, {
            "meta": {"href": f"{ROOT}/context/employee",
                     "metadataHref": f"{ROOT}/entity/employee/metadata", "type": "employee",
                     "mediaType": "application/json"},
            "id": EMPLOYEE_ID, "accountId": ACCOUNT_ID, "name": "Администратор",
            "uid": self.login, "isAdmin": True})

    # -- handlers: entities -----------------------------------------------------------------------
    def _list(self, request, type):
        limit, offset = page_params(request)
        expand = expand_of(request, limit)
        with self.lock:
            ids = self._query_ids(type, request)
            table = self.db[type]
            page = ids[offset:offset + limit]
            if expand:
                rows = [self.render(table[i], expand) for _t, i in page]
            else:
                rows = [RawJson(self.render_json(table[i])) for _t, i in page]
            size = len(ids)
        return self._list_answer(request, f"entity/{type}", type, rows, size, limit, offset)

    def _assortment(self, request):
        limit, offset = page_params(request)
        expand = expand_of(request, limit)
        without_stock = "assortmentwithoutstock" in request.header(
            "X-Lognex-Remap-Beta-Feature").replace(" ", "").lower().split(",")
        if without_stock and re.search(r"(^|;)article(!=|=|~|<|>)", filter_text(request)):
            raise MsError(400, 1034, "Ошибка фильтрации: фильтр 'article' недоступен в "
                                     "ассортименте без остатков", "article")
        with self.lock:
            ids = self._query_ids("assortment", request, default_archived=True)
            rows = []
            for type_, id_ in ids[offset:offset + limit]:
                record = self.db[type_][id_]
                stock = {}
                if type_ != "service" and not without_stock:
                    quantities = self.stock_totals(id_)
                    stock = {"stock": quantities[0], "reserve": quantities[1],
                             "inTransit": quantities[2],
                             "quantity": quantities[0] - quantities[1] + quantities[2]}
                if expand:
                    rows.append({**self.render(record, expand), **stock})
                else:
                    text = self.render_json(record)
                    if stock:
                        text = (f'{text[:-1]},"stock":{stock["stock"]},"reserve":'
                                f'{stock["reserve"]},"inTransit":{stock["inTransit"]},'
                                f'"quantity":{stock["quantity"]}}}')
                    rows.append(RawJson(text))
            size = len(ids)
        return self._list_answer(request, "entity/assortment", "assortment", rows, size, limit,
                                 offset)

    def _get(self, request, type, id):
        expand = expand_of(request, 1)
        with self.lock:
            return self.answer(request, self.render(self.get(type, id), expand))

    def _write_one(self, type_: str, item, events: list) -> RawJson:
        """Create or (with meta) update one item of a POST; returns the rendered entity."""
        if not isinstance(item, dict):
            raise MsError(400, 2000, "Ошибка формата: отсутствует начало объекта")
        if isinstance(item.get("meta"), dict):
            ref = self.read_ref("meta", item, (type_,))
            body = {k: v for k, v in item.items() if k != "meta"}
            if type_ in ("webhook", "webhookstock"):
                self.check_webhook(type_, body, self.db[type_][ref.id])
            return RawJson(self.render_json(self.update(type_, ref.id, body, events)))
        if type_ in ("webhook", "webhookstock"):
            self.check_webhook(type_, item, None)
        record, _created = self.create(type_, item, events)
        return RawJson(self.render_json(record))

    def _create(self, request, type):
        body = self._body(request)
        events: list = []
        try:
            if isinstance(body, list):
                if len(body) > 1000:
                    raise MsError(413, 2007, "Ошибка формата: слишком большое число вложенных "
                                             "объектов: не более 1000 элементов в массиве")
                results, failed = [], False
                with self.lock:
                    for item in body:
                        try:
                            results.append(self._write_one(type, item, events))
                        except MsError as error:
                            results.append(error.body())
                            failed = True
                return self.answer(request, results, 400 if failed else 200)
            if not isinstance(body, dict):
                raise MsError(400, 2005, "Ошибка формата: входящий JSON должен начинаться либо "
                                         "с объекта, либо с массива")
            with self.lock:
                if isinstance(body.get("meta"), dict):
                    return self.answer(request, self._write_one(type, body, events))
                if type in ("webhook", "webhookstock"):
                    self.check_webhook(type, body, None)
                record, _created = self.create(type, body, events)
                return self.answer(request, self.render(record))
        finally:
            self.notify(events, self.login)

    def _put(self, request, type, id):
        body = self._body(request)
        if isinstance(body, list):
            raise MsError(400, 2009, "Ошибка формата: запрос на создание/обновление одной "
                                     "сущности не должен содержать массив")
        if not isinstance(body, dict):
            raise MsError(400, 2000, "Ошибка формата: отсутствует начало объекта")
        events: list = []
        try:
            with self.lock:
                if type in ("webhook", "webhookstock"):
                    self.check_webhook(type, body, self.get(type, id))
                record = self.update(type, id, body, events)
                return self.answer(request, self.render(record))
        finally:
            self.notify(events, self.login)

    def _delete(self, request, type, id):
        events: list = []
        with self.lock:
            self.delete(type, id, events)
        self.notify(events, self.login)
        return Response(200, b"", JSON_CONTENT_TYPE)

    def _delete_by_sync(self, request, type, sync):
        with self.lock:
            id_ = self._sync_ids.get((type, sync))
            if id_ is None:
                raise MsError(404, 1021, f"Объект с типом '{type}' и syncId '{sync}' не найден")
        return self._delete(request, type, id_)

    def _bulk_delete(self, request, type):
        body = self._body(request)
        if not isinstance(body, list):
            raise MsError(400, 2005, "Ошибка формата: ожидается массив метаданных")
        if len(body) > 1000:
            raise MsError(413, 2007, "Ошибка формата: слишком большое число вложенных объектов")
        events: list = []
        results, failed = [], False
        with self.lock:
            for item in body:
                try:
                    ref = self.read_ref("meta", item, (type,))
                    self.delete(type, ref.id, events)
                    results.append({"info": f"Сущность '{type}' с UUID: {ref.id} успешно "
                                            "удалена"})
                except MsError as error:
                    results.append(error.body())
                    failed = True
        self.notify(events, self.login)
        return self.answer(request, results, 400 if failed else 200)

    def _metadata(self, request, type):
        data = {"meta": {"href": f"{ROOT}/entity/{type}/metadata",
                         "mediaType": "application/json"},
                "attributes": {"meta": {"href": f"{ROOT}/entity/{type}/metadata/attributes",
                                        "type": "attributemetadata",
                                        "mediaType": "application/json", "size": 0,
                                        "limit": 1000, "offset": 0}},
                "createShared": True}
        if type in DOCUMENT_TYPES:
            with self.lock:
                data["states"] = [self.render_state(s) for s in self.db["state"].values()
                                  if s["entityType"] == type]
        return self.answer(request, data)

    # -- handlers: nested rows --------------------------------------------------------------------
    def _owner(self, type_, owner):
        return self.get(type_, owner)

    def _nested_list(self, request, type, owner, sub):
        limit, offset = page_params(request)
        with self.lock:
            record = self._owner(type, owner)
            rows = record.get(sub) or []
            data = [self.render_nested_row(record, sub, r) for r in rows[offset:offset + limit]]
        return self._list_answer(request, f"entity/{type}/{owner}/{sub}",
                                 "account" if sub == "accounts" else "contactperson", data,
                                 len(rows), limit, offset)

    def _nested_add(self, request, type, owner, sub):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        events: list = []
        with self.lock:
            record = self._owner(type, owner)
            rows = self._read_nested(sub, items, self._nested_spec(sub), record)
            record.setdefault(sub, []).extend(rows)
            record["updated"] = self.stamp()
            self.version += 1
            events.append((type, owner, "UPDATE", (sub,)))
            data = [self.render_nested_row(record, sub, r) for r in rows]
        self.notify(events, self.login)
        return self.answer(request, data)

    @staticmethod
    def _nested_spec(sub):
        return ACCOUNT_FIELDS if sub == "accounts" else CONTACT_FIELDS

    def _find_row(self, record, sub, row_id):
        for row in record.get(sub) or ():
            if row["id"] == row_id:
                return row
        raise MsError(404, 1021, f"Объект с типом '{sub[:-1]}' и идентификатором '{row_id}' не "
                                 "найден")

    def _nested_get(self, request, type, owner, sub, row):
        with self.lock:
            record = self._owner(type, owner)
            return self.answer(request, self.render_nested_row(
                record, sub, self._find_row(record, sub, row)))

    def _nested_put(self, request, type, owner, sub, row):
        body = self._body(request)
        if not isinstance(body, dict):
            raise MsError(400, 2000, "Ошибка формата: отсутствует начало объекта")
        with self.lock:
            record = self._owner(type, owner)
            target = self._find_row(record, sub, row)
            for key, kind in self._nested_spec(sub).items():
                if key in body:
                    target[key] = self.read_value("", key, kind, body[key], None)
            record["updated"] = self.stamp()
            self.version += 1
            data = self.render_nested_row(record, sub, target)
        self.notify([(type, owner, "UPDATE", (sub,))], self.login)
        return self.answer(request, data)

    def _positions(self, request, type, owner):
        limit, offset = page_params(request)
        expand = expand_of(request, limit)
        with self.lock:
            record = self._owner(type, owner)
            rows = record.get("positions") or []
            data = [self.render_position(record, r, "assortment" in expand)
                    for r in rows[offset:offset + limit]]
        return self._list_answer(request, f"entity/{type}/{owner}/positions",
                                 f"{type}position", data, len(rows), limit, offset)

    def _position(self, request, type, owner, row):
        with self.lock:
            record = self._owner(type, owner)
            return self.answer(request, self.render_position(
                record, self._find_row(record, "positions", row)))

    # -- handlers: images and files ---------------------------------------------------------------
    def _images(self, request, type, owner):
        with self.lock:
            record = self.get(type, owner)
            rows = [self.render_image(self.images[i]) for i in record.get("_images", ())]
        return self._list_answer(request, f"entity/{type}/{owner}/images", "image", rows,
                                 len(rows), 1000, 0)

    def _add_image(self, request, type, owner):
        """One object adds an image; an array sets the list (items with ``meta`` keep those
        images, the others are added, the rest are removed), as documented."""
        body = self._body(request)
        with self.lock:
            record = self.get(type, owner)
            current = list(record.get("_images", ()))
            if isinstance(body, list):
                keep, new = [], []
                for item in body:
                    if isinstance(item, dict) and isinstance(item.get("meta"), dict):
                        keep.append(self._own_image(record, item))
                    else:
                        new.append(self.read_image(item))
            else:
                keep, new = current, [self.read_image(body)]
            if len(keep) + len(new) > MAX_IMAGES:
                raise MsError(400, 1080, "Ошибка при работе с файлами: число изображений не "
                                         f"может быть больше {MAX_IMAGES}")
            for image_id in set(current) - set(keep):
                self.images.pop(image_id, None)
            record["_images"] = list(keep)
            for image in new:
                self.add_image(record, image["filename"], image["content"])
            record["updated"] = self.stamp()
            self.version += 1
            rows = [self.render_image(self.images[i]) for i in record["_images"]]
        self.notify([(type, owner, "UPDATE", ("images",))], self.login)
        return self.answer(request, rows)

    def _own_image(self, record, item) -> str:
        image_id = str(item["meta"].get("href", "")).rstrip("/").rsplit("/", 1)[-1]
        if image_id not in record.get("_images", ()):
            raise MsError(404, 1021, f"Объект с типом 'image' и идентификатором '{image_id}' "
                                     "не найден")
        return image_id

    def _delete_images(self, request, type, owner):
        body = self._body(request)
        if not isinstance(body, list):
            raise MsError(400, 2005, "Ошибка формата: ожидается массив метаданных")
        with self.lock:
            record = self.get(type, owner)
            for item in body:
                image_id = self._own_image(record, item if isinstance(item, dict) else {
                    "meta": {}})
                record["_images"].remove(image_id)
                self.images.pop(image_id, None)
            record["updated"] = self.stamp()
            self.version += 1
        self.notify([(type, owner, "UPDATE", ("images",))], self.login)
        return Response(200, b"", JSON_CONTENT_TYPE)

    def _delete_image(self, request, type, owner, image):
        with self.lock:
            record = self.get(type, owner)
            if image not in record.get("_images", ()):
                raise MsError(404, 1021, f"Объект с типом 'image' и идентификатором '{image}' "
                                         "не найден")
            record["_images"].remove(image)
            self.images.pop(image, None)
            record["updated"] = self.stamp()
            self.version += 1
        self.notify([(type, owner, "UPDATE", ("images",))], self.login)
        return Response(200, b"", JSON_CONTENT_TYPE)

    def _download(self, request, id):
        with self.lock:
            image = self.images.get(id)
        if image is None:
            raise MsError(404, 1021, f"Объект с типом 'image' и идентификатором '{id}' не найден")
        root = self.root_of(request)[: -len("/api/remap/1.2")]
        location = f"{root}/files/{id}/{quote(image['filename'])}"
        return Response(302, b"", JSON_CONTENT_TYPE, {"Location": location})

    def _file(self, request, id):
        with self.lock:
            image = self.images.get(id)
        if image is None:
            return Response(404, b"", "text/plain; charset=utf-8")
        name = image["filename"].lower()
        kind = ("image/png" if name.endswith(".png") else "image/jpeg"
                if name.endswith((".jpg", ".jpeg")) else "application/octet-stream")
        return Response(200, image["content"], kind)

    # -- handlers: reports ------------------------------------------------------------------------
    def _stock_bystore(self, request):
        return self.answer(request, self.stock_report(request, True))

    def _stock_all(self, request):
        return self.answer(request, self.stock_report(request, False))

    # -- control ----------------------------------------------------------------------------------
    def _register_moysklad_control_routes(self):
        prefix = "moysklad/"
        for method, path, handler in (
            ("GET", "summary", self._ctl_summary),
            ("GET", "entity/(?P<type>[a-z]+)", self._ctl_entities),
            ("POST", "entity/(?P<type>[a-z]+)", self._ctl_write),
            ("DELETE", "entity/(?P<type>[a-z]+)/(?P<id>[^/]+)", self._ctl_delete),
            ("POST", "stock", self._ctl_stock),
            ("GET", "tokens", self._ctl_tokens),
            ("POST", "tokens", self._ctl_revoke),
            ("GET", "settings", self._ctl_settings),
            ("POST", "settings", self._ctl_configure),
            ("POST", "lockout/clear", self._ctl_lockout_clear),
            ("POST", "webhook/fire", self._ctl_fire),
            ("GET", "deliveries", self._ctl_deliveries),
            ("DELETE", "deliveries", self._ctl_clear_deliveries),
        ):  # fmt: skip
            self.control_route(method, prefix + path, handler)

    @staticmethod
    def _payload(request) -> dict:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        return payload

    def _control_answer(self, request, data) -> Response:
        text = json.dumps(data, ensure_ascii=False).replace(ROOT, self.public_root)
        return Response(200, text.encode(), JSON_CONTENT_TYPE)

    def _control_error(self, error: MsError) -> Response:
        text = json.dumps(error.body(), ensure_ascii=False)
        return Response(error.status, text.encode(), JSON_CONTENT_TYPE)

    def _ctl_summary(self, request):
        with self.lock:
            data = {"counts": {t: len(rows) for t, rows in self.db.items()},
                    "images": len(self.images), "stock_rows": len(self.stock),
                    "tokens_issued": self.auth.issued_count,
                    "statuses": {str(k): v for k, v in sorted(self._statuses.items())},
                    "locked_out": sorted(self.lockout.until), "settings": self.settings()}
        return self._control_answer(request, data)

    def _ctl_entities(self, request, type):
        if type not in self.db:
            raise ValueError(f"unknown type {type!r}")
        limit = int(request.query.get("limit", 100))
        with self.lock:
            rows = [self.render(r) for r in list(self.db[type].values())[:limit]]
        return self._control_answer(request, rows)

    def _ctl_write(self, request, type):
        if type not in self.db:
            raise ValueError(f"unknown type {type!r}")
        payload = self._payload(request)
        events: list = []
        try:
            with self.lock:
                if "stateName" in payload:
                    payload["state"] = {"meta": self._state_meta(type, payload.pop("stateName"))}
                if payload.get("id") in self.db[type]:
                    body = {k: v for k, v in payload.items() if k != "id"}
                    record = self.update(type, payload["id"], body, events)
                else:
                    record, _created = self.create(type, payload, events)
                data = self.render(record)
        except MsError as error:
            return self._control_error(error)
        self.notify(events, DEMO_LOGIN)
        return self._control_answer(request, data)

    def _state_meta(self, type_: str, name: str) -> dict:
        for state in self.db["state"].values():
            if state["entityType"] == type_ and state["name"] == name:
                return self.ref_meta(Ref("state", state["id"]))
        raise ValueError(f"no state {name!r} for {type_}")

    def _ctl_delete(self, request, type, id):
        events: list = []
        try:
            with self.lock:
                self.delete(type, id, events)
        except MsError as error:
            return self._control_error(error)
        self.notify(events, DEMO_LOGIN)
        return self._control_answer(request, {"deleted": id})

    def _ctl_stock(self, request):
        payload = self._payload(request)
        rows = payload.get("rows") if isinstance(payload.get("rows"), list) else [payload]
        answers = [self.set_stock(row["assortmentId"], row["storeId"], row.get("stock"),
                                  row.get("reserve"), row.get("inTransit")) for row in rows]
        return self._control_answer(request, answers if "rows" in payload else answers[0])

    def _ctl_tokens(self, request):
        with self.auth.lock:
            data = [{"token": t.value, "login": t.login, "issued": t.issued,
                     "revoked": t.revoked} for t in self.auth.tokens.values()]
        return self._control_answer(request, {"issued": self.auth.issued_count, "tokens": data})

    def _ctl_revoke(self, request):
        payload = self._payload(request)
        action = payload.get("action", "revoke")
        if action not in ("revoke", "expire"):
            raise ValueError("action must be 'revoke' or 'expire'")
        count = self.auth.revoke(payload.get("login"), payload.get("token"),
                                 "revoked" if action == "revoke" else "expired")
        return self._control_answer(request, {"changed": count})

    def _ctl_settings(self, request):
        return self._control_answer(request, self.settings())

    def _ctl_configure(self, request):
        return self._control_answer(request, self.configure(**self._payload(request)))

    def _ctl_lockout_clear(self, request):
        with self.lock:
            self.lockout.clear()
            self.limiter.windows.clear()
        return self._control_answer(request, {"status": "ok"})

    def _ctl_fire(self, request):
        payload = self._payload(request)
        deliveries = self.fire(payload["entityType"], payload["id"],
                               payload.get("action", "UPDATE"), payload.get("url"))
        return self._control_answer(request, deliveries[-1] if deliveries else {})

    def _ctl_deliveries(self, request):
        return self._control_answer(request, self.deliveries)

    def _ctl_clear_deliveries(self, request):
        self.clear_deliveries()
        return self._control_answer(request, {"status": "ok"})
