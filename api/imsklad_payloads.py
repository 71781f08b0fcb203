"""What ImskladClient sends: goods, orders, supplier pre-orders and stock documents as dataclasses
(or plain mappings with the same keys), and the builders that turn them into the document's
``data`` objects.

Decisions where the document is silent or contradicts itself:

- Our good id: add_good's table types ``id`` as String, the goods lines of orders, pre-orders and
  documents type the same "ID товара в системе партнера" as Int, and every example sends numbers.
  One rule everywhere: an id whose text is a plain decimal integer (no sign, no leading zero) is
  sent as a JSON number, any other id as a string ("SKU-1" still works, "007" keeps its zeros).
  The emulator compares good ids by their text, as a PHP service would.
- Order, pre-order and document ids are strings (tables and examples agree).
- Optional fields left None are not sent (the examples send null for some: same meaning);
  '' is sent as ''. Required fields missing or unreadable → RequestRejected naming the item and
  the field, and nothing is sent.
- update_order sends the update table's fields only: no ``storage_id``, no ``guid``. update_preorder
  and update_doc have no ``storage_id``. add_preorder's date is ``owner_date``, update_preorder's is
  ``date``: the two tables differ, and each is followed.
- Quantities are Int: whole numbers only (2.0 → 2, 0 or 1.5 refused before sending). Money is
  rounded to kopecks. Weight (grams) and dimensions (mm) are rounded to int. Flags (``is_canceled``,
  ``tracked``, ``need_pickup``) are sent as 0/1. ``tags`` given as a list are comma-joined.
- Dates: Unix timestamps; see :func:`.imsklad_data.to_timestamp` (naive datetimes are UTC, a bare
  date is midnight at the warehouse).
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from .errors import RequestRejected
from .etm_data import text
from .imsklad_data import DOC_TYPES, to_timestamp

_PLAIN_INT = re.compile(r"0|[1-9][0-9]{0,17}")
MAX_SHOWN = 40


@dataclass
class ImskladGood:
    id: str  # ours (the binding's code)
    name: str
    price: float  # retail price
    cost: float
    description: str | None = None
    image: str | None = None  # a URL IMSKLAD can reach
    weight: float | None = None  # grams
    width: float | None = None  # mm
    height: float | None = None
    length: float | None = None
    color: int | None = None  # see imsklad_data.COLOURS
    size: str | None = None


@dataclass
class ImskladLine:
    id: str  # our good id
    quantity: float
    price: float


@dataclass
class ImskladAddress:
    city: str | None = None
    street: str | None = None
    house: str | None = None
    room: str | None = None


@dataclass
class ImskladOrder:
    id: str  # ours (the sale order's name)
    name: str  # the customer's full name
    goods: list = field(default_factory=list)  # ImskladLine, mappings or (id, qty, price)
    discount: float = 0.0
    delivery: float = 0.0
    total_paid: float = 0.0
    guid: str | None = None
    storage_id: int | None = None  # the client's storage_id when None
    tags: object = None  # "call,nosms" or ["call", "nosms"]
    email: str | None = None
    phone: str | None = None
    phone2: str | None = None
    post_code: str | None = None
    address: str | None = None
    address_lat: float | None = None
    address_lng: float | None = None
    comment: str | None = None
    owner_comment: str | None = None
    delivery_type: int | None = None  # see imsklad_data.DELIVERY_TYPES
    delivery_date_from: object = None  # datetime, date or Unix timestamp
    delivery_date_to: object = None
    shipment_date: object = None
    courier: int | None = None
    is_canceled: bool | None = None
    track_status: str | None = None
    tracked: bool | None = None
    track: str | None = None
    track_update: object = None
    city_id: int | None = None
    pickup_point: str | None = None
    courier_city_code: str | None = None
    address_obj: object = None  # ImskladAddress or a mapping with city/street/house/room


@dataclass
class ImskladPreorder:
    """A supplier pre-order: type 0 the warehouse expects goods from the supplier, 1 it returns
    them; ``need_pickup`` with ``pickup_address``/``pickup_contacts`` sends a courier."""

    id: str
    type: int
    goods: list = field(default_factory=list)
    storage_id: int | None = None
    code: str | None = None
    date: object = None
    need_pickup: bool | None = None
    pickup_address: str | None = None
    pickup_contacts: str | None = None
    supplier_name: str | None = None


@dataclass
class ImskladDoc:
    """A stock document that is not an order: type 0 receipt, 1 write-off."""

    id: str
    type: int
    goods: list = field(default_factory=list)
    storage_id: int | None = None
    code: str | None = None
    date: object = None


def shown(value):
    """An id as put in messages: quoted and cut short."""
    value = text(value)
    return repr(value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…")


def good_id_value(value):
    """Our good id as sent: a JSON number when its text is a plain integer, else a string."""
    value = text(value)
    return int(value) if _PLAIN_INT.fullmatch(value) else value


def coerce(cls, value):
    """``value`` as a ``cls`` dataclass: itself, or built from a mapping (unknown keys refused)."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise TypeError(f"Unknown {cls.__name__} fields: {', '.join(unknown)}")
        return cls(**value)
    raise TypeError(f"Expected {cls.__name__} or a mapping, got {type(value).__name__}")


# -- value converters (ValueError/TypeError when unreadable) -------------------------------------
def _str(value):
    return value.strip() if isinstance(value, str) else text(value)


def _int(value):
    if isinstance(value, bool):
        return int(value)
    number = float(value)
    if not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def _rounded(value):
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a number")
    return int(round(number))


def _float(value):
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a number")
    return number


def _money(value):
    return round(_float(value), 2)


def _flag(value):
    return 1 if value not in (0, "0", False, "") else 0


def _tags(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(_str(tag) for tag in value if _str(tag))
    return _str(value)


def _address(value):
    address = coerce(ImskladAddress, value)
    return {key: _str(getattr(address, key)) for key in ("city", "street", "house", "room")
            if getattr(address, key) is not None}  # fmt: skip


def _quantity(value):
    number = float(value)
    if not number.is_integer() or number <= 0:
        raise ValueError("IMSKLAD takes whole quantities above 0")
    return int(number)


GOOD_FIELDS = (
    ("description", _str), ("image", _str), ("weight", _rounded), ("width", _rounded),
    ("height", _rounded), ("length", _rounded), ("color", _int), ("size", _str),
)  # fmt: skip
ORDER_FIELDS = (
    ("guid", _str), ("tags", _tags), ("email", _str), ("phone", _str), ("phone2", _str),
    ("post_code", _str), ("address", _str), ("address_lat", _float), ("address_lng", _float),
    ("comment", _str), ("owner_comment", _str), ("delivery_type", _int),
    ("delivery_date_from", to_timestamp), ("delivery_date_to", to_timestamp),
    ("shipment_date", to_timestamp), ("courier", _int), ("is_canceled", _flag),
    ("track_status", _str), ("tracked", _flag), ("track", _str), ("track_update", to_timestamp),
    ("city_id", _int), ("pickup_point", _str), ("courier_city_code", _str),
    ("address_obj", _address),
)  # fmt: skip
NOT_IN_ORDER_UPDATE = frozenset({"guid", "storage_id"})
PREORDER_FIELDS = (
    ("code", _str), ("need_pickup", _flag), ("pickup_address", _str),
    ("pickup_contacts", _str), ("supplier_name", _str),
)  # fmt: skip


class _Builder:
    """Collects one ``data`` object; every conversion error names the item and the field."""

    def __init__(self, item, utc_offset):
        self.item = item
        self.utc_offset = utc_offset
        self.data = {}

    def refuse(self, name, reason):
        raise RequestRejected(f"IMSKLAD {self.item} not sent: {name} {reason}")

    def convert(self, name, value, converter):
        try:
            if converter is to_timestamp:
                return to_timestamp(value, self.utc_offset)
            return converter(value)
        except ValueError as exc:
            reason = str(exc)[:80]
        except TypeError:
            reason = f"a {type(value).__name__}"
        return self.refuse(name, f"is not valid ({reason})")

    def required(self, name, value, converter=_str):
        if value is None or (isinstance(value, str) and not value.strip()):
            self.refuse(name, "is required")
        self.data[name] = self.convert(name, value, converter)

    def optional(self, source, spec, skip=()):
        for name, converter in spec:
            value = getattr(source, name)
            if value is not None and name not in skip:
                self.data[name] = self.convert(name, value, converter)

    def lines(self, goods):
        lines = []
        for index, line in enumerate(goods or ()):
            where = f"goods[{index}]"
            if isinstance(line, (tuple, list)):
                line = ImskladLine(*line)
            if not isinstance(line, (ImskladLine, Mapping)):
                self.refuse(where, f"is not a line (a {type(line).__name__})")
            line = coerce(ImskladLine, line)
            if not text(line.id):
                self.refuse(f"{where}.id", "is required")
            lines.append({
                "id": good_id_value(line.id),
                "quantity": self.convert(f"{where}.quantity", line.quantity, _quantity),
                "price": self.convert(f"{where}.price", line.price, _money),
            })  # fmt: skip
        if not lines:
            self.refuse("goods", "must hold at least one line")
        self.data["goods"] = lines

    def doc_type(self, value):
        kind = self.convert("type", value, _int) if value is not None else None
        if kind not in DOC_TYPES:
            self.refuse("type", "must be 0 (incoming) or 1 (outgoing)")
        self.data["type"] = kind


def good_data(good):
    """(data, item) of add_good/update_good."""
    good = coerce(ImskladGood, good)
    build = _Builder(f"good {shown(good.id)}", 0)
    build.required("id", good.id, good_id_value)
    build.required("name", good.name)
    build.required("price", good.price, _money)
    build.required("cost", good.cost, _money)
    build.optional(good, GOOD_FIELDS)
    return build.data, build.item


def order_data(order, *, storage_id, update=False, utc_offset=3):
    """(data, item) of add_order, or of update_order (its table: no storage_id, no guid)."""
    order = coerce(ImskladOrder, order)
    build = _Builder(f"order {shown(order.id)}", utc_offset)
    build.required("id", order.id)
    if not update:
        build.required("storage_id", order.storage_id or storage_id, _int)
    build.required("name", order.name)
    for name in ("discount", "delivery", "total_paid"):
        build.required(name, getattr(order, name), _money)
    build.optional(order, ORDER_FIELDS, NOT_IN_ORDER_UPDATE if update else ())
    build.lines(order.goods)
    return build.data, build.item


def preorder_data(preorder, *, storage_id, update=False, utc_offset=3):
    """(data, item) of add_preorder (date as ``owner_date``) or update_preorder (``date``)."""
    preorder = coerce(ImskladPreorder, preorder)
    build = _Builder(f"pre-order {shown(preorder.id)}", utc_offset)
    build.required("id", preorder.id)
    if not update:
        build.required("storage_id", preorder.storage_id or storage_id, _int)
    build.doc_type(preorder.type)
    if preorder.date is not None:
        date_name = "date" if update else "owner_date"
        build.data[date_name] = build.convert(date_name, preorder.date, to_timestamp)
    build.optional(preorder, PREORDER_FIELDS)
    build.lines(preorder.goods)
    return build.data, build.item


def doc_data(doc, *, storage_id, update=False, utc_offset=3):
    """(data, item) of add_doc or update_doc (no storage_id)."""
    doc = coerce(ImskladDoc, doc)
    build = _Builder(f"document {shown(doc.id)}", utc_offset)
    build.required("id", doc.id)
    if not update:
        build.required("storage_id", doc.storage_id or storage_id, _int)
    if doc.code is not None:
        build.data["code"] = build.convert("code", doc.code, _str)
    build.doc_type(doc.type)
    if doc.date is not None:
        build.data["date"] = build.convert("date", doc.date, to_timestamp)
    build.lines(doc.goods)
    return build.data, build.item
