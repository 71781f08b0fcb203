"""Local emulator of the UDOMA marketplace integration API
(``https://market.udoma.online/api/online/integration``).

Emulates every method of ``shared/api-docs/udoma.txt``: ``POST /api/online/integration/v1|v2/
import-nomenclature``, ``…/v1|v2/import-assortment`` and ``…/v1/export-orders`` (the document has
no v2 of it), for one organisation (:mod:`.udoma_demo`: two shops, a group tree, a few orders).
The organisation and the methods' rules are :mod:`.udoma_store`.

Decisions where the document is silent:

* The key (``X-API-KEY``) is checked first: none → 403 ``empty.api.key.not.allowed``; any other
  value than the organisation's current key → 403 ``api.key.not.found``. ``regenerate_key`` (and
  ``POST /_emulator/regenerate_key``) issues a new key and retires the old one at once.
* Then ``Content-Type`` must be JSON (the document's "Дополнительный заголовок"): anything else
  → 415 without a code. Then the body (see :mod:`.udoma_store`).
* Error bodies: ``{"code", "message" (the document's description), "detail": {...}}``; the body
  of a 400 for a malformed JSON has no ``code``. ``name_items_in_errors`` False leaves the items
  out of ``detail`` (the client must then find them itself).
* Unknown paths → 404 ``{"code": "not.found"}``; 429 → ``{"code": "too.many.requests"}``.
* Each request is counted and recorded under its method's label: ``v1/import-nomenclature``,
  ``v2/import-assortment``, ``v1/export-orders``…
* Control extras: ``GET /_emulator/nomenclature|assortment|orders|groups|shops|key``;
  ``POST /_emulator/regenerate_key`` (``{"key": optional}``) → ``{"key"}``; ``POST
  /_emulator/shops`` (``{"source_id", "name", "bound"}``); ``POST /_emulator/groups``
  (``{"source_id", "name", "parent_id"}``: refused with 400 when the parent holds items);
  ``POST /_emulator/orders`` (an order object, or ``{"generate": n, "start": iso}``); ``POST
  /_emulator/config`` also takes ``name_items_in_errors``, ``export_all_shops``,
  ``date_offset_hours``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

from .base import Emulator, RecordedRequest, Response, json_response
from .udoma_demo import DEMO_KEY, demo_orders, generate_orders
from .udoma_store import (
    EMPTY_KEY,
    KEY_NOT_FOUND,
    Refusal,
    UdomaStoreMixin,
    parse_time,
)

__all__ = ["API_PREFIX", "UdomaEmulator"]

API_PREFIX = "/api/online/integration"
UTC = timezone.utc  # noqa: UP017 - Odoo 18 still runs on Python 3.10


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class UdomaEmulator(UdomaStoreMixin, Emulator):
    """UDOMA emulator; ``api_url`` is what a client's ``base_url`` must be."""

    name = "udoma"

    def __init__(self, *, api_key: str = DEMO_KEY, shops: dict | None = None,
                 groups: dict | None = None, orders: list | None = None, demo: bool = True,
                 name_items_in_errors: bool = True, export_all_shops: bool = False,
                 date_offset_hours: float = 5.0, now: Callable[[], datetime] = _utcnow,
                 port: int = 0, host: str = "127.0.0.1", **options):
        """``shops`` {id: name}, ``groups`` {id: (name, parent)} (the demo's by default);
        ``orders``: order dicts (default: the demo orders when ``demo``, else none).
        ``options`` go to :class:`Emulator` (latency, rate_limit_per_second, record_limit)."""
        super().__init__(port=port, host=host, **options)
        self.name_items_in_errors = name_items_in_errors
        self.export_all_shops = export_all_shops
        self.date_offset_hours = date_offset_hours
        self.now = now
        if orders is None and demo:
            orders = demo_orders(now())
        self._init_store(shops, groups, orders, key=api_key)
        methods = (("v1", "import-nomenclature"), ("v2", "import-nomenclature"),
                   ("v1", "import-assortment"), ("v2", "import-assortment"),
                   ("v1", "export-orders"))  # fmt: skip
        for version, method in methods:
            self.route("POST", f"{API_PREFIX}/{version}/{method}",
                       self._method(version, method), f"{version}/{method}")  # fmt: skip
        self._register_udoma_control_routes()

    @classmethod
    def generate_orders(cls, count: int, start: datetime, **options) -> list[dict]:
        return generate_orders(count, start, **options)

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    # -- the methods -----------------------------------------------------------------------
    def _method(self, version: str, method: str):
        handlers = {"import-nomenclature": lambda body: self.import_nomenclature(version, body),
                    "import-assortment": lambda body: self.import_assortment(version, body),
                    "export-orders": self.export_orders}  # fmt: skip
        handler = handlers[method]

        def endpoint(request: RecordedRequest) -> Response:
            try:
                self._check_key(request)
                return json_response(handler(self._body(request)))
            except Refusal as refusal:
                return json_response(refusal.body(self.name_items_in_errors), refusal.status)

        return endpoint

    def _check_key(self, request: RecordedRequest):
        key = request.header("X-API-KEY").strip()
        if not key:
            raise Refusal(403, EMPTY_KEY)
        with self.lock:
            if key != self.api_key:
                raise Refusal(403, KEY_NOT_FOUND)

    @staticmethod
    def _body(request: RecordedRequest) -> dict:
        if "json" not in request.header("Content-Type").lower():
            raise Refusal(415, None, {"message": "Content-Type must be application/json"})
        try:
            body = json.loads(request.body) if request.body.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise Refusal(400, None)
        return body

    def not_found(self, request: RecordedRequest) -> Response:
        return json_response({"code": "not.found", "message": "Not found"}, 404)

    def rate_limit_response(self, retry_after) -> Response:
        return json_response({"code": "too.many.requests", "message": "Too many requests"}, 429)

    # -- control ----------------------------------------------------------------------------
    def _register_udoma_control_routes(self):
        for method, path, handler in (
            ("GET", "nomenclature", self._ctl_nomenclature),
            ("GET", "assortment", self._ctl_assortment),
            ("GET", "orders", self._ctl_orders), ("POST", "orders", self._ctl_add_orders),
            ("GET", "groups", self._ctl_groups), ("POST", "groups", self._ctl_add_group),
            ("GET", "shops", self._ctl_shops), ("POST", "shops", self._ctl_bind_shop),
            ("GET", "key", self._ctl_key), ("POST", "regenerate_key", self._ctl_regenerate_key),
        ):  # fmt: skip
            self.control_route(method, path, handler)

    @staticmethod
    def _payload(request) -> dict:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        return payload

    def _ctl_nomenclature(self, request):
        with self.lock:
            return json_response([item.to_dict() for item in self.nomenclature.values()])

    def _ctl_assortment(self, request):
        with self.lock:
            return json_response([{"shopSourceSystemId": shop, "nomenclatureSourceSystemId": item,
                                   **row} for (shop, item), row in self.assortment.items()])

    def _ctl_orders(self, request):
        with self.lock:
            return json_response([self._order_out(order) for order in self.orders])

    def _ctl_add_orders(self, request):
        payload = self._payload(request)
        if "generate" in payload:
            start = parse_time(payload.get("start")) or self.now()
            added = [self.add_order(order)
                     for order in generate_orders(int(payload["generate"]), start)]
            return json_response({"added": len(added)})
        return json_response(self._order_out(self.add_order(payload)))

    def _ctl_groups(self, request):
        with self.lock:
            return json_response([{"source_id": g.source_id, "name": g.name,
                                   "parent_id": g.parent_id} for g in self.groups.values()])

    def _ctl_add_group(self, request):
        payload = self._payload(request)
        group = self.add_group(str(payload["source_id"]), str(payload.get("name") or ""),
                               payload.get("parent_id") or None)
        return json_response({"source_id": group.source_id, "name": group.name,
                              "parent_id": group.parent_id})

    def _ctl_shops(self, request):
        with self.lock:
            return json_response(dict(self.shops))

    def _ctl_bind_shop(self, request):
        payload = self._payload(request)
        self.bind_shop(str(payload["source_id"]), str(payload.get("name") or ""),
                       bool(payload.get("bound", True)))
        return self._ctl_shops(request)

    def _ctl_key(self, request):
        with self.lock:
            return json_response({"key": self.api_key})

    def _ctl_regenerate_key(self, request):
        payload = self._payload(request)
        return json_response({"key": self.regenerate_key(payload.get("key") or None)})

    _CONFIG_KEYS = ("name_items_in_errors", "export_all_shops", "date_offset_hours")

    def _ctl_config(self, request):
        """The base settings plus this emulator's (``_CONFIG_KEYS``)."""
        payload = self._payload(request)
        unknown = set(payload) - set(self._CONFIG_KEYS) - {"latency", "rate_limit_per_second"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        for key in self._CONFIG_KEYS:
            if key in payload:
                setattr(self, key, payload[key])
        answer = json.loads(super()._ctl_config(request).body)
        return json_response({**answer, **{k: getattr(self, k) for k in self._CONFIG_KEYS}})
