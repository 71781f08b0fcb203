"""The calls IMSKLAD makes to us ("Обработка вызовов складской системы"): check the endpoint key,
validate and parse a body into typed objects, and build the answers in the document's format.

Pure functions, no Odoo, no I/O: a controller reads the raw body, calls
``parse_callback(body, endpoint_key)``, stores the event (``kind``, ``reference``,
``dedupe_key``, ``raw`` without the key) and answers with :func:`ok_answer`, a data answer
(:func:`good_answer`, :func:`supplier_answer`, :func:`suppliers_answer`) or, on a
:class:`CallbackError`, ``error.answer()`` with ``error.http_status``.

Decisions where the document is silent or contradicts itself:

- Key: the body's ``key`` is compared with ``hmac.compare_digest`` on UTF-8 bytes; an empty
  configured key refuses everything. It is checked before anything else is read. The document
  has no error for a wrong key: it is answered ``{"error": "Invalid key", "code": 4}`` ("operation
  not performed") with HTTP 403; every other error with HTTP 200, the document's format and codes:
  3 for a malformed body, an unknown method or a field that is missing or of the wrong type (the
  message names the field), 2 is for the caller to use (an order or document we do not know).
- Methods: the table's thirteen plus ``order.update_tracks`` (documented below the table, not
  in it). The table says type ``good``; ``goods`` (the type of our own calls) is accepted too.
- ``order.update_order`` carries ``delivery_type_id`` and ``delivery_courier_id`` where our
  add_order sends ``delivery_type`` and ``courier``: both spellings are read. ``guid`` is
  "required" in the tables yet null in the document's own examples: it may be null everywhere.
- ``doc.add_doc``: the document's example is a copy of order.set_status (type "order", empty data)
  and its table lists order fields (id, old_status, new_status, system_id). The method is read as
  its heading says (type ``doc``, action ``add_doc``), with the fields of our add_doc (``id``,
  ``code``, ``type``, ``date``, ``goods``) plus ``system_id`` and, when present, the table's
  statuses. A document the warehouse made itself may have no ``id`` of ours: ``id`` or
  ``system_id`` must be there. ``doc.update_doc`` is read the same way; ``doc.set_status`` as
  ``{id, system_id, old_status, new_status}`` with statuses 0 Новый, 1 Проведен, 2 Отменен (the
  document names them without numbers: ours, in its order).
- ``order.set_pay``, ``send_to_cdek``, ``send_to_boxberry``, ``send_act_to_boxberry``,
  ``good.get_good_suppliers``, ``supplier.get_supplier(s)``: no payload is documented.
  set_pay is read as an order reference (``id``, ``guid``, ``system_id``) with an optional amount
  (``amount``, ``sum``, ``total_paid`` or ``paid``) and date; the three export calls as a list of
  order references (ids as strings, or objects with ``id``/``guid``, bare or under ``orders``/
  ``ids``); the good and supplier queries by ``id`` (get_suppliers takes no data).
- ``good.get_good`` asks by ``id``; the document's example uses the id add_good returned
  (IMSKLAD's), so ``GoodRequest.id`` may be theirs or ours: the caller looks up both.
  Supplier lists are answered as bare arrays (like get_stock), a supplier or good as an object.
- ``dedupe_key``: IMSKLAD sends no event id, so a call is identified by its method and the hash
  of its data: the same call repeated gets the same key.
"""

import hashlib
import hmac
import json

from .etm_data import text, to_float
from .imsklad_callback_data import (
    DocumentEvent,
    ImskladCallback,
    ImskladSupplier,
    ObjectRequest,
    OrderExport,
    OrderPayment,
    OrderRef,
    OrderStatusChange,
    OrderUpdate,
    TrackUpdate,
    encode_answer,
    error_answer,
    good_answer,
    ok_answer,
    supplier_answer,
    suppliers_answer,
)
from .imsklad_data import (
    DOC_STATUSES,
    DOC_TYPES,
    ERROR_INCORRECT_DATA,
    ERROR_NOT_PERFORMED,
    ORDER_STATUSES,
    from_timestamp,
    status_name,
)
from .imsklad_payloads import ImskladAddress, ImskladLine, ImskladOrder

__all__ = [
    "CALLBACK_METHODS",
    "ORDER_STATUSES",
    "CallbackAuthError",
    "CallbackError",
    "DocumentEvent",
    "ImskladCallback",
    "ImskladSupplier",
    "ObjectRequest",
    "OrderExport",
    "OrderPayment",
    "OrderRef",
    "OrderStatusChange",
    "OrderUpdate",
    "TrackUpdate",
    "check_key",
    "encode_answer",
    "error_answer",
    "good_answer",
    "ok_answer",
    "parse_callback",
    "status_name",
    "supplier_answer",
    "suppliers_answer",
]

MAX_BODY = 5 * 1024 * 1024
MAX_REFERENCE = 200


class CallbackError(Exception):
    """A call we refuse: answer ``answer()`` with HTTP ``http_status``."""

    def __init__(self, code, message, http_status=200):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status

    def answer(self):
        return error_answer(self.code, self.message)


class CallbackAuthError(CallbackError):
    def __init__(self):
        super().__init__(ERROR_NOT_PERFORMED, "Invalid key", http_status=403)


# -- reading ---------------------------------------------------------------------------------
def _refuse(message):
    raise CallbackError(ERROR_INCORRECT_DATA, f"Incorrect data: {message}")


class _Reader:
    """Reads one object's fields; a missing required field or a wrong type is code 3."""

    def __init__(self, data, where="data"):
        if not isinstance(data, dict):
            _refuse(f"{where} must be an object")
        self.data = data
        self.where = where

    def _value(self, name, required):
        value = self.data.get(name)
        if value is None and required:
            _refuse(f"field '{self._name(name)}' is required")
        return value

    def _name(self, name):
        return name if self.where == "data" else f"{self.where}.{name}"

    def string(self, name, required=False):
        value = self._value(name, required)
        if value is None:
            return ""
        if isinstance(value, (dict, list, bool)):
            _refuse(f"field '{self._name(name)}' must be String")
        return text(value)

    def integer(self, name, required=False, allowed=None):
        value = self._value(name, required)
        if value is None:
            return None
        number = None if isinstance(value, (bool, dict, list)) else to_float(value)
        if number is None or not number.is_integer():
            _refuse(f"field '{self._name(name)}' must be Int")
        number = int(number)
        if allowed is not None and number not in allowed:
            _refuse(f"field '{self._name(name)}' has an unknown value {number}")
        return number

    def number(self, name, required=False):
        value = self._value(name, required)
        if value is None:
            return None
        number = None if isinstance(value, (bool, dict, list)) else to_float(value)
        if number is None:
            _refuse(f"field '{self._name(name)}' must be a number")
        return number

    def timestamp(self, name):
        return from_timestamp(self.integer(name))

    def flag(self, name):
        number = self.integer(name)
        return None if number is None else bool(number)

    def lines(self, required=True):
        goods = self._value("goods", required)
        if goods is None:
            return []
        if not isinstance(goods, list):
            _refuse("field 'goods' must be Array")
        lines = []
        for index, row in enumerate(goods):
            line = _Reader(row, f"goods[{index}]")
            lines.append(ImskladLine(line.string("id", True), line.integer("quantity", True),
                                     line.number("price", True)))  # fmt: skip
        return lines

    def ref(self, cls=OrderRef, require_id=True, **extra):
        return cls(id=self.string("id", require_id), guid=self.string("guid"),
                   system_id=self.integer("system_id"), **extra)  # fmt: skip


def _set_status(data):
    reader = _Reader(data)
    statuses = tuple(ORDER_STATUSES)
    reader.integer("system_id", True)
    return reader.ref(OrderStatusChange, old_status=reader.integer("old_status", True, statuses),
                      new_status=reader.integer("new_status", True, statuses))  # fmt: skip


_ORDER_TEXT = ("tags", "email", "phone", "phone2", "post_code", "address", "comment",
               "owner_comment", "track_status", "track", "pickup_point", "courier_city_code")  # fmt: skip


def _update_order(data):
    reader = _Reader(data)
    order = ImskladOrder(
        id=reader.string("id", True), name=reader.string("name", True), goods=reader.lines(),
        discount=reader.number("discount", True), delivery=reader.number("delivery", True),
        total_paid=reader.number("total_paid", True), guid=reader.string("guid") or None,
        address_lat=reader.number("address_lat"), address_lng=reader.number("address_lng"),
        delivery_type=reader.integer("delivery_type_id")
        if data.get("delivery_type_id") is not None else reader.integer("delivery_type"),
        courier=reader.integer("delivery_courier_id")
        if data.get("delivery_courier_id") is not None else reader.integer("courier"),
        delivery_date_from=reader.timestamp("delivery_date_from"),
        delivery_date_to=reader.timestamp("delivery_date_to"),
        shipment_date=reader.timestamp("shipment_date"), is_canceled=reader.flag("is_canceled"),
        tracked=reader.flag("tracked"), track_update=reader.timestamp("track_update"),
        city_id=reader.integer("city_id"), storage_id=reader.integer("storage_id"),
    )  # fmt: skip
    for name in _ORDER_TEXT:
        setattr(order, name, reader.string(name) if data.get(name) is not None else None)
    if data.get("address_obj") is not None:
        parts = _Reader(data["address_obj"], "address_obj")
        order.address_obj = ImskladAddress(*(parts.string(key) or None for key in (
            "city", "street", "house", "room")))  # fmt: skip
    return reader.ref(OrderUpdate, order=order)


def _update_tracks(data):
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        _refuse("data must be a non-empty Array")
    tracks = []
    for index, row in enumerate(data):
        reader = _Reader(row, f"data[{index}]")
        tracks.append(reader.ref(TrackUpdate, track=reader.string("track"),
                                 error=reader.string("err")))  # fmt: skip
    return tracks


def _set_pay(data):
    reader = _Reader(data)
    amount = None
    for name in ("amount", "sum", "total_paid", "paid"):
        if data.get(name) is not None:
            amount = reader.number(name)
            break
    paid_at = reader.timestamp("date") if data.get("date") is not None else None
    return reader.ref(OrderPayment, amount=amount, paid_at=paid_at)


def _order_export(data):
    if isinstance(data, dict):
        data = data.get("orders", data.get("ids"))
    if not isinstance(data, list) or not data:
        _refuse("data must be a non-empty Array of order ids")
    orders = []
    for index, row in enumerate(data):
        if isinstance(row, dict):
            orders.append(_Reader(row, f"data[{index}]").ref())
        elif isinstance(row, (str, int)) and not isinstance(row, bool) and text(row):
            orders.append(OrderRef(id=text(row)))
        else:
            _refuse(f"data[{index}] must be an order id")
    return OrderExport(orders)


def _document(data):
    reader = _Reader(data)
    event = DocumentEvent(
        id=reader.string("id"), system_id=reader.integer("system_id"),
        code=reader.string("code"), type=reader.integer("type", allowed=tuple(DOC_TYPES)),
        date=reader.timestamp("date"), goods=reader.lines(required=False),
        old_status=reader.integer("old_status"), new_status=reader.integer("new_status"),
    )  # fmt: skip
    if not event.id and event.system_id is None:
        _refuse("field 'id' is required")
    return event


def _doc_status(data):
    event = _document(data)
    reader = _Reader(data)
    statuses = tuple(DOC_STATUSES)
    event.new_status = reader.integer("new_status", True, statuses)
    event.old_status = reader.integer("old_status", False, statuses)
    return event


def _object_request(data):
    return ObjectRequest(_Reader(data).string("id", True))


def _no_data(data):
    return ObjectRequest()


# (type, action) → parser; the table's required methods are marked in REQUIRED_METHODS.
CALLBACK_METHODS = {
    ("order", "update_order"): _update_order,
    ("order", "set_status"): _set_status,
    ("order", "set_pay"): _set_pay,
    ("order", "update_tracks"): _update_tracks,
    ("order", "send_to_cdek"): _order_export,
    ("order", "send_to_boxberry"): _order_export,
    ("order", "send_act_to_boxberry"): _order_export,
    ("doc", "add_doc"): _document,
    ("doc", "update_doc"): _document,
    ("doc", "set_status"): _doc_status,
    ("good", "get_good"): _object_request,
    ("good", "get_good_suppliers"): _object_request,
    ("supplier", "get_supplier"): _object_request,
    ("supplier", "get_suppliers"): _no_data,
}
REQUIRED_METHODS = frozenset({("order", "update_order"), ("order", "set_status"),
                              ("good", "get_good")})  # fmt: skip
TYPE_ALIASES = {"goods": "good", "suppliers": "supplier", "docs": "doc", "orders": "order"}


def check_key(received, expected):
    """True when ``received`` is the endpoint key (constant time; an empty key never matches)."""
    if not isinstance(received, str) or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(received.encode(), expected.encode())


def _load(body):
    if isinstance(body, dict):
        return body
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, (bytes, bytearray)):
        _refuse("expected a JSON body")
    if len(body) > MAX_BODY:
        _refuse("the body is too large")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        document = None
    if not isinstance(document, dict):
        _refuse("expected a JSON object {key, type, action, data}")
    return document


def _reference(parsed):
    items = parsed if isinstance(parsed, list) else getattr(parsed, "orders", [parsed])
    refs = [item.id or (str(item.system_id) if getattr(item, "system_id", None) else "")
            for item in items]  # fmt: skip
    return ",".join(ref for ref in refs if ref)[:MAX_REFERENCE]


def parse_callback(body, endpoint_key):
    """An ImskladCallback from a raw body (bytes, str or an already parsed dict), or
    CallbackError. The key is checked first; nothing else is read from a call with a wrong key."""
    document = _load(body)
    if not check_key(document.get("key"), endpoint_key):
        raise CallbackAuthError()
    type_ = text(document.get("type")).lower()
    type_ = TYPE_ALIASES.get(type_, type_)
    action = text(document.get("action")).lower()
    parser = CALLBACK_METHODS.get((type_, action))
    if parser is None:
        _refuse(f"unknown method {type_ or '?'}.{action or '?'}"[:200])
    raw = document.get("data")
    parsed = parser(raw)
    kind = f"{type_}.{action}"
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(f"{kind}\n{canonical}".encode()).hexdigest()
    return ImskladCallback(type_, action, kind, parsed, raw, _reference(parsed),
                           f"{kind}:{digest[:40]}")  # fmt: skip
