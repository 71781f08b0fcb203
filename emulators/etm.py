"""Local emulator of the ETM iPro product API (https://ipro.etm.ru/api/v1).

Emulates every method of ``shared/api-docs/etm-ipro.txt``: ``user/login``, Price
(``goods/{codes}/price``), Remains (``goods/{code}/remains``), Goods (``goods/{code}``, plus the
``/ipro/...`` images it links to), SgGds (``job/create/40029846``, ``job/{uuid}`` and the
``/upload/report/*.json`` file) and R-manuf (``info/search/r-manuf/``).

Decisions where the document is silent (see also FIELD-NOTES.md):

* Every answer is HTTP 200 and the outcome is in the body ``{"status": {"code", "message"},
  "data"}``; error answers carry ``"data": []``. ``mirror_status_in_http=True`` also puts the
  body code into the HTTP status (clients report seeing both). An unknown API path is HTTP 404
  with body code 404 "Метод не найден".
* Sessions: 30 random digits, valid ``session_ttl`` seconds (default 7200, the documented 2 h) by
  the injectable ``clock``; not extended by use. Several sessions per user may live at once.
  Missing ``log``/``pwd`` (query or form body) → 400; wrong → 403 "Неверный логин или пароль".
  ``max_failed_logins`` (off by default) blocks a login after that many failures in a row.
* Every method except login needs ``session-id`` (also R-manuf, whose example omits it);
  authentication is checked before anything else. Images and report files need no session.
* ``type`` is trimmed and lower-cased (the document's own example sends ``type=%20etm``); default
  ``cli``; an unknown type → 400. ``etm`` codes are matched exactly, so "ETM9536092" is not found;
  ``mnf`` articles case-insensitively, narrowed by ``mnf=<manufacturer code>`` when given.
* Price: codes are split on the literal ``%2C`` (any case) and on ``,``; duplicates are dropped;
  more than 50 → 400 "Слишком много кодов". The answer shape follows the number of codes
  *requested*: one code → ``data`` is the object, several → ``data.rows`` with one object per
  *found* code (unknown ones silently absent); nothing found → 404 "Товар не найден".
  ``gdscode`` is always the product's ETM code, whatever ``type`` was asked: the document's
  "Код товара", its name for ETM's own code in every answer. A client code holding a comma is
  read as two codes here, as by any service splitting on the separator.
* Remains and Goods take one code (several → 400). Remains lists the stores the emulator is
  configured with (the "predefined stores" of the account; ``stores`` takes ``EtmStore`` or
  ``(code, type, name)`` tuples), quantity "0" where the product has none; ``StoreDate`` is
  today by ``clock``. Goods builds ``gdsClassTree`` from the class code (two digits per level),
  ``relatedProducts`` from other products of the same class, image paths as
  ``/ipro/<brand code>/small_<file>``; any ``/ipro/...`` image path answers a small PNG.
* SgGds: a job is ``0`` on the first poll, ``3`` until ``job_polls_until_done`` polls, then ``1``
  with the file URL (built from the request's Host header, so it works behind any address) or
  ``2`` when ``job_fail``. The file is a snapshot of the catalogue taken when the job finishes,
  served gzip-compressed when the client accepts it. Jobs belong to the user who created them.
* Extra fault kind ``expire_session`` (``after=N``): after N more API requests every session is
  invalidated, so the next request gets 403, as when the real session ends mid-run.
* Control extras: ``POST /_emulator/expire_sessions``; ``PATCH|DELETE /_emulator/products/<etm>``
  (JSON price/price_with_vat/price_tariff/price_retail/delivery_days/stores {code: qty}).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, unquote

from .base import Emulator, RecordedRequest, Response, json_response, text_response
from .etm_answers import (
    login_data,
    manufacturer_rows,
    png_for,
    price_row,
    product_card,
    remains_data,
    report_rows,
)
from .etm_catalogue import (
    DEFAULT_STORES,
    EtmCatalogue,
    EtmProduct,
    EtmStore,
    generate_catalogue,
)

__all__ = ["DEFAULT_STORES", "EtmEmulator", "EtmProduct", "EtmStore", "generate_catalogue"]

API_PREFIX = "/api/v1"
SGGDS_REPORT_ID = "40029846"
MAX_PRICE_CODES = 50
CODE_TYPES = ("cli", "etm", "mnf")
_CODE_SPLIT = re.compile(r"%2[cC]|,")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")

MSG_BAD_LOGIN = "Неверный логин или пароль"
MSG_NO_LOGIN = "Не указан логин или пароль"
MSG_BLOCKED = "Пользователь заблокирован"
MSG_SESSION = "Ошибка проверки сессии пользователя"
MSG_NOT_FOUND = "Товар не найден"
MSG_TOO_MANY = "Слишком много кодов"
MSG_ONE_CODE = "Допускается только один код товара"
MSG_NO_CODE = "Не указан код товара"
MSG_BAD_TYPE = "Неверный тип кода"
MSG_NO_METHOD = "Метод не найден"
MSG_NO_REPORT = "Отчет не найден"
MSG_NO_JOB = "Задача не найдена"
MSG_RATE_LIMIT = "Превышен лимит запросов"
MSG_JOB_STARTED = "отчет запущен в фоновом режиме"
MSG_JOB_FAILED = "Ошибка формирования отчета: согласованный спец. прайс отсутствует"


@dataclass(slots=True)
class _Job:
    number: int
    login: str
    created: float
    polls: int = 0
    report: str = ""


class EtmEmulator(Emulator):
    """ETM iPro API emulator; ``api_url`` is ``base_url + '/api/v1'``."""

    name = "etm"
    extra_fault_kinds = ("expire_session",)

    def __init__(self, catalogue: Mapping[str, EtmProduct] | Iterable[EtmProduct] | None = None,
                 users: Mapping[str, str] | None = None, session_ttl: float = 7200,
                 clock: Callable[[], float] = time.time, stores: Iterable | None = None,
                 port: int = 0, host: str = "127.0.0.1", *, job_polls_until_done: int = 2,
                 job_fail: bool = False, mirror_status_in_http: bool = False,
                 max_failed_logins: int | None = None, request_store_name: str = "ЭТМ-СПб",
                 gzip_reports: bool = True, **options):
        """``options`` go to :class:`Emulator` (latency, rate_limit_per_second, record_limit)."""
        super().__init__(port=port, host=host, **options)
        if catalogue is None:
            # Imported here so that `python -m emulators.etm_demo` runs a fresh module.
            from .etm_demo import demo_catalogue

            catalogue = demo_catalogue()
        self.catalogue = EtmCatalogue(
            catalogue.values() if isinstance(catalogue, Mapping) else catalogue)
        self.users = dict(users if users is not None else {"demo": "demo"})
        self.session_ttl = session_ttl
        self.clock = clock
        self.stores = tuple(s if isinstance(s, EtmStore) else EtmStore(*s)
                            for s in (stores if stores is not None else DEFAULT_STORES))
        self.job_polls_until_done = job_polls_until_done
        self.job_fail = job_fail
        self.mirror_status_in_http = mirror_status_in_http
        self.max_failed_logins = max_failed_logins
        self.request_store_name = request_store_name
        self.gzip_reports = gzip_reports
        self._sessions: dict[str, tuple[str, float]] = {}
        self._failed_logins: dict[str, int] = {}
        self._jobs: dict[str, _Job] = {}
        self._job_seq = 0
        self._reports: OrderedDict[str, bytes] = OrderedDict()
        self._register_routes()

    @classmethod
    def generate_catalogue(cls, n: int, seed: int = 0) -> dict[str, EtmProduct]:
        return generate_catalogue(n, seed)

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    def _register_routes(self):
        api = re.escape(API_PREFIX)
        self.route("POST", api + "/user/login", self._login, "login")
        self.route("GET", api + r"/goods/(?P<codes>[^/]+)/price", self._price, "price")
        self.route("GET", api + r"/goods/(?P<codes>[^/]+)/remains", self._remains, "remains")
        self.route("GET", api + r"/goods/(?P<codes>[^/]+)", self._goods, "goods")
        self.route("POST", api + r"/job/create/(?P<report>[^/]+)", self._job_create, "job_create")
        self.route("GET", api + r"/job/(?P<uuid>[^/]+)", self._job_status, "job_status")
        self.route("GET", api + r"/info/search/r-manuf/?", self._manufacturers, "manufacturers")
        self.route("GET", r"/ipro/.+", self._image, "image")
        self.route("GET", r"/upload/report/(?P<name>[^/]+)\.json", self._report, "report")
        self.control_route("POST", "expire_sessions", self._ctl_expire_sessions)
        self.control_route("PATCH", r"products/(?P<code>[^/]+)", self._ctl_update_product)
        self.control_route("DELETE", r"products/(?P<code>[^/]+)", self._ctl_remove_product)

    # -- catalogue helpers (products are replaced, never mutated) ----------------------------
    def product(self, code: str) -> EtmProduct:
        return self.catalogue[str(code)]

    def add_product(self, product: EtmProduct) -> EtmProduct:
        with self.lock:
            return self.catalogue.add(product)

    def remove_product(self, code: str) -> EtmProduct | None:
        with self.lock:
            return self.catalogue.remove(str(code))

    def update_product(self, code: str, **changes) -> EtmProduct:
        """Replace a product with a changed copy (``dataclasses.replace`` field names)."""
        with self.lock:
            return self.catalogue.add(replace(self.catalogue[str(code)], **changes))

    def set_price(self, code: str, price: float | None = None, price_with_vat: float | None = None,
                  price_tariff: float | None = None, price_retail: float | None = None,
                  vat: float = 0.20) -> EtmProduct:
        """Change prices; a new ``price`` alone also sets ``price_with_vat`` at ``vat``."""
        changes = {}
        if price is not None:
            changes["price"] = price
            if price_with_vat is None:
                price_with_vat = round(price * (1 + vat), 2)
        for key, value in (("price_with_vat", price_with_vat), ("price_tariff", price_tariff),
                           ("price_retail", price_retail)):
            if value is not None:
                changes[key] = value
        return self.update_product(code, **changes)

    def set_stock(self, code: str, store: int, qty: float) -> EtmProduct:
        with self.lock:
            stores = {**self.catalogue[str(code)].stores, int(store): qty}
            return self.update_product(code, stores=stores)

    # -- sessions --------------------------------------------------------------------------
    def expire_sessions(self):
        """Invalidate every session now (the next authenticated request gets 403)."""
        with self.lock:
            self._sessions.clear()

    @property
    def sessions(self) -> dict[str, str]:
        """Live sessions: session id → login."""
        now = self.clock()
        with self.lock:
            return {sid: login for sid, (login, until) in self._sessions.items() if until > now}

    def _fault_expire_session(self, fault, request):
        self.expire_sessions()

    def _session_login(self, request: RecordedRequest) -> str | None:
        sid = request.query.get("session-id", "")
        entry = self._sessions.get(sid)
        if entry is None:
            return None
        if entry[1] <= self.clock():
            with self.lock:
                self._sessions.pop(sid, None)
            return None
        return entry[0]

    # -- answers ---------------------------------------------------------------------------
    def _ok(self, data) -> Response:
        return json_response({"status": {"code": 200, "message": ""}, "data": data})

    def _error(self, code: int, message: str) -> Response:
        status = code if self.mirror_status_in_http else 200
        return json_response({"status": {"code": code, "message": message}, "data": []}, status)

    def not_found(self, request: RecordedRequest) -> Response:
        if request.path.startswith(API_PREFIX + "/"):
            return json_response(
                {"status": {"code": 404, "message": MSG_NO_METHOD}, "data": []}, 404)
        return text_response("<html><body><h1>404 Not Found</h1></body></html>", 404, "text/html")

    def rate_limit_response(self, retry_after) -> Response:
        return json_response({"status": {"code": 429, "message": MSG_RATE_LIMIT}, "data": []}, 429)

    # -- API -------------------------------------------------------------------------------
    def _login(self, request: RecordedRequest) -> Response:
        params = dict(request.query)
        if request.body and "form-urlencoded" in request.header("Content-Type"):
            params.update(parse_qsl(request.body.decode("utf-8", "replace")))
        login, password = params.get("log", ""), params.get("pwd", "")
        if not login or not password:
            return self._error(400, MSG_NO_LOGIN)
        with self.lock:
            failures = self._failed_logins.get(login, 0)
            if self.max_failed_logins is not None and failures >= self.max_failed_logins:
                return self._error(403, MSG_BLOCKED)
            if self.users.get(login) != password:
                self._failed_logins[login] = failures + 1
                return self._error(403, MSG_BAD_LOGIN)
            self._failed_logins.pop(login, None)
            session = str(secrets.randbelow(9 * 10**29) + 10**29)
            self._sessions[session] = (login, self.clock() + self.session_ttl)
        return self._ok(login_data(session, login))

    def _codes_request(self, request: RecordedRequest, codes: str):
        """Checks common to the goods methods: session, type, codes.
        Returns (error answer or None, codes, type)."""
        if self._session_login(request) is None:
            return self._error(403, MSG_SESSION), [], ""
        code_type = (request.query.get("type") or "cli").strip().lower()
        if code_type not in CODE_TYPES:
            return self._error(400, MSG_BAD_TYPE), [], ""
        items = (unquote(c).strip() for c in _CODE_SPLIT.split(codes))
        items = list(dict.fromkeys(c for c in items if c))
        if not items:
            return self._error(400, MSG_NO_CODE), [], ""
        return None, items, code_type

    def _price(self, request: RecordedRequest, codes: str) -> Response:
        error, items, code_type = self._codes_request(request, codes)
        if error:
            return error
        if len(items) > MAX_PRICE_CODES:
            return self._error(400, MSG_TOO_MANY)
        mnf = request.query.get("mnf", "")
        found = (self.catalogue.lookup(code, code_type, mnf) for code in items)
        rows = [price_row(product) for product in found if product is not None]
        if not rows:
            return self._error(404, MSG_NOT_FOUND)
        return self._ok(rows[0] if len(items) == 1 else {"rows": rows})

    def _one_product(self, request: RecordedRequest, codes: str):
        """(error answer or None, product) for the methods taking one code."""
        error, items, code_type = self._codes_request(request, codes)
        if error:
            return error, None
        if len(items) > 1:
            return self._error(400, MSG_ONE_CODE), None
        product = self.catalogue.lookup(items[0], code_type, request.query.get("mnf", ""))
        if product is None:
            return self._error(404, MSG_NOT_FOUND), None
        return None, product

    def _remains(self, request: RecordedRequest, codes: str) -> Response:
        error, product = self._one_product(request, codes)
        if error:
            return error
        today = time.strftime("%d/%m/%Y", time.localtime(self.clock()))
        return self._ok(remains_data(product, self.stores, self.request_store_name, today))

    def _goods(self, request: RecordedRequest, codes: str) -> Response:
        error, product = self._one_product(request, codes)
        if error:
            return error
        return self._ok(self.product_card(product))

    def product_card(self, product: EtmProduct) -> dict:
        """The ``data`` of Goods for one product."""
        return product_card(product, self.stores, self.catalogue.same_class(product))

    def _job_create(self, request: RecordedRequest, report: str) -> Response:
        login = self._session_login(request)
        if login is None:
            return self._error(403, MSG_SESSION)
        if report != SGGDS_REPORT_ID:
            return self._error(404, MSG_NO_REPORT)
        with self.lock:
            self._job_seq += 1
            number = self._job_seq
            # Shaped like the document's: hex of "job,<n>,<m>,id".
            uuid = f"job,{number},{secrets.randbelow(10**8)},id".encode().hex().upper()
            self._jobs[uuid] = _Job(number, login, self.clock())
        return self._ok({"message": MSG_JOB_STARTED, "uuid": uuid})

    def _job_status(self, request: RecordedRequest, uuid: str) -> Response:
        login = self._session_login(request)
        if login is None:
            return self._error(403, MSG_SESSION)
        with self.lock:
            job = self._jobs.get(uuid)
            if job is None or job.login != login:
                return self._error(404, MSG_NO_JOB)
            job.polls += 1
            done = job.polls > self.job_polls_until_done
            if done and not self.job_fail and not job.report:
                job.report = self._make_report(job)
        state, msg, urls = ("0" if job.polls == 1 else "3"), "", []
        if done and self.job_fail:
            state, msg = "2", MSG_JOB_FAILED
        elif done:
            host = request.header("Host") or self.base_url.split("//", 1)[1]
            state, urls = "1", [f"http://{host}/upload/report/{job.report}.json"]
        created = time.localtime(job.created)
        return self._ok({
            "page": "1",
            "rows": [{"id": f"0x{job.number:016x}", "state": state, "name": "Товары клиента",
                      "msg": msg, "urls": urls, "whencre": time.strftime("%d/%m/%y", created),
                      "timecre": time.strftime("%H:%M:%S", created)}],
            "total": 1,
            "records": 1,
            "userdata": {"error": "", "limit": "no "},
        })

    def _make_report(self, job: _Job) -> str:
        """Snapshot the catalogue into a report file (under the lock); keep the last few."""
        name = "cligds_{}{:04d}{:09d}".format(
            time.strftime("%Y%m%d", time.localtime(self.clock())), job.number,
            secrets.randbelow(10**9))
        rows = report_rows(self.catalogue.values())
        self._reports[name] = json.dumps(rows, ensure_ascii=False).encode()
        while len(self._reports) > 8:
            self._reports.popitem(last=False)
        return name

    def _report(self, request: RecordedRequest, name: str) -> Response:
        body = self._reports.get(name)
        if body is None:
            return self.not_found(request)
        return Response(200, body, "application/json", None, self.gzip_reports)

    def _image(self, request: RecordedRequest) -> Response:
        if not request.path.lower().endswith(_IMAGE_SUFFIXES):
            return self.not_found(request)
        return Response(200, png_for(request.path), "image/png")

    def _manufacturers(self, request: RecordedRequest) -> Response:
        if self._session_login(request) is None:
            return self._error(403, MSG_SESSION)
        with self.lock:
            rows = manufacturer_rows(self.catalogue.manufacturers())
        return self._ok({"rows": rows, "records": len(rows)})

    # -- control ---------------------------------------------------------------------------
    def _ctl_expire_sessions(self, request):
        self.expire_sessions()
        return json_response({"status": "ok"})

    def _ctl_update_product(self, request, code):
        payload = json.loads(request.body or b"{}")
        allowed = {"price", "price_with_vat", "price_tariff", "price_retail", "delivery_days",
                   "name", "stores"}
        unknown = set(payload) - allowed
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        if code not in self.catalogue:
            return json_response({"error": f"unknown product {code}"}, 404)
        if "stores" in payload:
            payload["stores"] = {int(k): v for k, v in payload["stores"].items()}
        product = self.update_product(code, **payload)
        return json_response({"etm_code": product.etm_code, "price": product.price,
                              "stores": product.stores})

    def _ctl_remove_product(self, request, code):
        removed = self.remove_product(code)
        return json_response({"removed": removed is not None}, 200 if removed else 404)
