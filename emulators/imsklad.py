"""Local emulator of the IMSKLAD fulfilment warehouse API (``http://clients.imsklad.ru:7000``).

Emulates every method of ``shared/api-docs/imsklad.txt``: one endpoint, ``POST /`` with the JSON
envelope ``{"key", "type", "action", "data"}``, for goods (add_good, update_good, get_stock), order
(add_order, update_order), preorder (add_preorder, update_preorder), doc (add_doc, update_doc) and
billing (get_billing); and the warehouse's calls to the shop (:mod:`.imsklad_callbacks`). The
warehouse itself (stock, statuses, billing) is :mod:`.imsklad_store`, the reading of the
document's field tables :mod:`.imsklad_fields`, the demo data :mod:`.imsklad_demo`.

Decisions where the document is silent (see also FIELD-NOTES.md):

* Every answer, error or not, is HTTP 200 (the document shows no other status);
  ``error_http_status`` changes it for the error answers. Errors are ``{"error", "code"}`` with
  the document's codes: 1 fatal server error (fault ``fatal_error`` only), 2 object not found,
  3 incorrect data, 4 operation not performed.
* The envelope is checked first: a body that is not a JSON object → 3 "Incorrect data"; a missing
  or unknown ``key`` → 4 "Access denied: invalid API key" (the document has no code for it: the
  operation is not performed, and the text names the key); then an unknown ``type`` or ``action``
  → 3 "Incorrect data: unknown type/action …"; a missing ``data`` → 3.
* Each request is recorded and counted under its action's name (``add_order``, ``get_stock``…,
  whatever the outcome, faults included; ``invalid`` when the body names no action), so tests can
  ask ``requests_for("add_order")``.
* Another path than ``/`` → HTTP 404 ``{"error": "Not found", "code": 2}``.
* Extra fault kind ``fatal_error``: answer ``{"error": "Fatal server error", "code": 1}``; with
  ``processed: true`` the request is carried out first (its answer is lost, as after a crash). The
  base ``timeout`` fault also lets the request be carried out after the delay, while the client
  has given up: the lost-answer case of a create.
* Control extras: ``GET /_emulator/goods|orders|documents|billing``; ``POST /_emulator/stock``
  (``{"id": ours or IMSKLAD's, "stock", "reserved"}``); ``POST /_emulator/order_status``
  (``{"order_id", "status", "callback": false}``); ``POST /_emulator/receive`` (``{"id", "kind",
  "callback": false}``); ``POST /_emulator/billing`` (``{"amount", "type", "comment",
  "order_id"}``); ``POST /_emulator/callback`` (``{"type", "action", "data", "url", "key"}``);
  ``POST /_emulator/callback_walk`` (``{"order_id", "url", "key", "statuses", "track",
  "receipt_id", "background"}``); ``GET|DELETE /_emulator/callbacks``; ``POST /_emulator/config``
  also takes ``_CONFIG_KEYS`` (callback URL and key, limits, fees, error status).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

from .base import Emulator, RecordedRequest, Response, json_response
from .imsklad_callbacks import CallbackCall, ImskladCallbacksMixin
from .imsklad_demo import (
    DEMO_BALANCE,
    DEMO_CALLBACK_KEY,
    DEMO_KEY,
    DemoGood,
    demo_billing,
    demo_goods,
    generate_goods,
)
from .imsklad_fields import ERROR_FATAL, ERROR_INCORRECT_DATA, ERROR_NOT_PERFORMED, Reject
from .imsklad_store import ASSEMBLY_WARNING, ImskladStoreMixin

__all__ = ["ASSEMBLY_WARNING", "CallbackCall", "DemoGood", "ImskladEmulator"]

INVALID_KEY = "Access denied: invalid API key"
UNKNOWN_STOCK_IDS = ("omit", "error")


def _action_of(request: RecordedRequest) -> str:
    try:
        action = json.loads(request.body).get("action")
    except (ValueError, UnicodeDecodeError, RecursionError, AttributeError):
        return "invalid"
    return action if isinstance(action, str) and action.isidentifier() else "invalid"


class ImskladEmulator(ImskladStoreMixin, ImskladCallbacksMixin, Emulator):
    """IMSKLAD API emulator; ``api_url`` is ``base_url`` (requests go to ``/``)."""

    name = "imsklad"
    extra_fault_kinds = ("fatal_error",)

    def __init__(self, goods: Iterable[DemoGood] | None = None, *,
                 api_keys: Iterable[str] | None = None, storages: Iterable[int] = (1,),
                 callback_url: str | None = None, callback_key: str | None = DEMO_CALLBACK_KEY,
                 callback_timeout: float = 10.0, error_http_status: int = 200,
                 unknown_stock_ids: str = "omit", max_stock_ids: int | None = 1000,
                 billing: Iterable[dict] | None = None, balance: float = DEMO_BALANCE,
                 assembly_fee: float = 50, delivery_fee: float = 150, pickup_fee: float = 100,
                 clock: Callable[[], float] = time.time, port: int = 0, host: str = "127.0.0.1",
                 **options):
        """``options`` go to :class:`Emulator` (latency, rate_limit_per_second, record_limit)."""
        super().__init__(port=port, host=host, **options)
        if unknown_stock_ids not in UNKNOWN_STOCK_IDS:
            raise ValueError(f"unknown_stock_ids must be one of {UNKNOWN_STOCK_IDS}")
        self.api_keys = set(api_keys if api_keys is not None else {DEMO_KEY})
        self.storages = set(storages)
        self.error_http_status = error_http_status
        self.unknown_stock_ids = unknown_stock_ids
        self.max_stock_ids = max_stock_ids
        self.assembly_fee = assembly_fee
        self.delivery_fee = delivery_fee
        self.pickup_fee = pickup_fee
        self.clock = clock
        self._init_store(demo_goods() if goods is None else goods,
                         demo_billing() if billing is None else billing, balance)
        self._init_callbacks(callback_url, callback_key, callback_timeout)
        self._actions = {
            ("goods", "add_good"): self._add_good,
            ("goods", "update_good"): self._update_good,
            ("goods", "get_stock"): self._get_stock,
            ("order", "add_order"): self._add_order,
            ("order", "update_order"): self._update_order,
            ("preorder", "add_preorder"): self._add_preorder,
            ("preorder", "update_preorder"): self._update_preorder,
            ("doc", "add_doc"): self._add_doc,
            ("doc", "update_doc"): self._update_doc,
            ("billing", "get_billing"): self._get_billing,
        }
        self.route("POST", r"/", self._endpoint, "api")
        self._register_imsklad_control_routes()

    @classmethod
    def generate_goods(cls, count: int) -> list[DemoGood]:
        return generate_goods(count)

    @property
    def api_url(self) -> str:
        return self.base_url

    # -- the endpoint -------------------------------------------------------------------------
    def _endpoint(self, request: RecordedRequest) -> Response:
        try:
            handler, data = self._envelope(request)
            return json_response(handler(data))
        except Reject as rejection:
            return json_response(rejection.body(), self.error_http_status)

    def _envelope(self, request: RecordedRequest):
        """(handler, data) of a request; Reject for a body, key or method it does not take."""
        self._relabel(request, _action_of(request))
        try:
            body = json.loads(request.body) if request.body.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise Reject(ERROR_INCORRECT_DATA, "Incorrect data")
        key = body.get("key")
        if not isinstance(key, str) or key not in self.api_keys:
            raise Reject(ERROR_NOT_PERFORMED, INVALID_KEY)
        type_, action = body.get("type"), body.get("action")
        if not isinstance(type_, str) or type_ not in {t for t, _a in self._actions}:
            raise Reject(ERROR_INCORRECT_DATA, f"Incorrect data: unknown type {str(type_)[:40]!r}")
        handler = self._actions.get((type_, action)) if isinstance(action, str) else None
        if handler is None:
            raise Reject(ERROR_INCORRECT_DATA,
                         f"Incorrect data: unknown action {str(action)[:40]!r} for {type_}")
        if body.get("data") is None:
            raise Reject(ERROR_INCORRECT_DATA, "Incorrect data: field 'data' is required")
        return handler, body["data"]

    def _relabel(self, request: RecordedRequest, label: str):
        """Count and record the request under ``label`` instead of its route's."""
        with self.lock:
            old = request.label
            if old == label:
                return
            if self._counts.get(old):
                self._counts[old] -= 1
                if not self._counts[old]:
                    del self._counts[old]
            self._counts[label] = self._counts.get(label, 0) + 1
            request.label = label

    def _handle_api(self, request, method, raw, handler):
        response = super()._handle_api(request, method, raw, handler)
        if request.label == "api":  # a fault answered before the handler ran: label by the body
            self._relabel(request, _action_of(request))
        return response

    def _fault_fatal_error(self, fault, request):
        if fault.params.get("processed"):
            self._endpoint(request)
        return json_response({"error": "Fatal server error", "code": ERROR_FATAL},
                             self.error_http_status)

    def not_found(self, request: RecordedRequest) -> Response:
        return json_response({"error": "Not found", "code": 2}, 404)

    def rate_limit_response(self, retry_after) -> Response:
        return json_response({"error": "Too many requests", "code": ERROR_NOT_PERFORMED}, 429)

    # -- control ----------------------------------------------------------------------------
    def _register_imsklad_control_routes(self):
        for method, path, handler in (
            ("GET", "goods", self._ctl_goods), ("GET", "orders", self._ctl_orders),
            ("GET", "documents", self._ctl_documents), ("GET", "billing", self._ctl_billing),
            ("POST", "billing", self._ctl_add_billing), ("POST", "stock", self._ctl_stock),
            ("POST", "order_status", self._ctl_order_status),
            ("POST", "receive", self._ctl_receive), ("POST", "callback", self._ctl_callback),
            ("POST", "callback_walk", self._ctl_callback_walk),
            ("GET", "callbacks", self._ctl_callbacks),
            ("DELETE", "callbacks", self._ctl_clear_callbacks),
        ):  # fmt: skip
            self.control_route(method, path, handler)

    @staticmethod
    def _payload(request) -> dict:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
        return payload

    def _ctl_goods(self, request):
        with self.lock:
            rows = [{"id": g.partner_id, "system_id": g.system_id, "stock": g.stock,
                     "reserved": g.reserved, "fields": g.fields} for g in self.goods.values()]
        return json_response(rows)

    def _ctl_orders(self, request):
        with self.lock:
            return json_response([order.to_dict() for order in self.orders.values()])

    def _ctl_documents(self, request):
        with self.lock:
            return json_response([doc.to_dict() for doc in self.documents.values()])

    def _ctl_billing(self, request):
        with self.lock:
            return json_response({"balance": self.balance,
                                  "billing": [op.to_dict() for op in self.billing]})

    def _ctl_add_billing(self, request):
        payload = self._payload(request)
        operation = self.add_billing(float(payload["amount"]), int(payload.get("type", 1)),
                                     str(payload.get("comment", "")), payload.get("order_id"))
        return json_response(operation.to_dict())

    def _ctl_stock(self, request):
        payload = self._payload(request)
        good = self.set_stock(payload["id"], payload.get("stock"), payload.get("reserved"))
        return json_response(good.stock_row())

    def _ctl_order_status(self, request):
        payload = self._payload(request)
        if payload.get("callback"):
            call = self.callback_set_status(payload["order_id"], int(payload["status"]),
                                            payload.get("url"), payload.get("key"))
            return json_response(call.to_dict())
        old, order = self.set_order_status(payload["order_id"], int(payload["status"]))
        return json_response({"id": order.partner_id, "old_status": old, "status": order.status})

    def _ctl_receive(self, request):
        payload = self._payload(request)
        if payload.get("callback"):
            call = self.callback_document(payload["id"], payload.get("url"), payload.get("key"),
                                          payload.get("kind"))  # fmt: skip
            return json_response(call.to_dict())
        return json_response(self.receive_document(payload["id"], payload.get("kind")).to_dict())

    def _ctl_callback(self, request):
        payload = self._payload(request)
        call = self.send_callback(payload["type"], payload["action"], payload.get("data"),
                                  payload.get("url"), payload.get("key"))  # fmt: skip
        return json_response(call.to_dict())

    def _ctl_callback_walk(self, request):
        payload = self._payload(request)
        options = {key: payload[key] for key in ("url", "key", "statuses", "track", "receipt_id")
                   if key in payload}  # fmt: skip
        if payload.get("background"):
            self.callback_walk_in_background(payload["order_id"], **options)
            return json_response({"started": True})
        calls = self.callback_walk(payload["order_id"], **options)
        return json_response([call.to_dict() for call in calls])

    def _ctl_callbacks(self, request):
        return json_response([call.to_dict() for call in self.callbacks])

    def _ctl_clear_callbacks(self, request):
        self.clear_callbacks()
        return json_response({"status": "ok"})

    _CONFIG_KEYS = ("callback_url", "callback_key", "callback_timeout", "error_http_status",
                    "unknown_stock_ids", "max_stock_ids", "assembly_fee", "delivery_fee",
                    "pickup_fee")

    def _ctl_config(self, request):
        """The base settings plus this emulator's (``_CONFIG_KEYS``)."""
        payload = self._payload(request)
        unknown = set(payload) - set(self._CONFIG_KEYS) - {"latency", "rate_limit_per_second"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        if payload.get("unknown_stock_ids", "omit") not in UNKNOWN_STOCK_IDS:
            raise ValueError(f"unknown_stock_ids must be one of {UNKNOWN_STOCK_IDS}")
        for key in self._CONFIG_KEYS:
            if key in payload:
                setattr(self, key, payload[key])
        answer = json.loads(super()._ctl_config(request).body)
        return json_response({**answer, **{k: getattr(self, k) for k in self._CONFIG_KEYS}})
