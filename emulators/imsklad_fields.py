"""The IMSKLAD emulator's reading of requests: the document's field tables, checked field by field.
A handler's helpers ``raise Reject(code, message)`` to answer ``{"error", "code"}`` at once.

Types as the tables name them, read the way a PHP service would, and no looser:

* String: a string, or a number (PHP casts it; the document's own examples send numbers for the
  String ``id`` of add_good and for get_stock's String ``storage_id``); never an object, array or
  boolean.
* Int: a JSON integer (or a float without fraction); Float/Double/Decimal: any JSON number. A
  numeric string in a number field is refused: the document's examples never send one.
* Array / Object: a JSON array / object.
* Required: present and not null ('' is present). Optional fields may be null (the examples send
  null for ``phone2``, ``track``, ``track_status``). Unknown fields are ignored.
* A goods line's ``id`` ("ID товара в системе партнера") is Int in the line tables but the same
  id is a String in add_good: a line's id may be either, and is compared by its text.

Values with a closed list in the document are checked against it: ``type`` 0/1, the 0/1 flags,
``color`` (the colour table), ``delivery_type`` and ``courier`` (the delivery table); quantities
must be above 0 and ``goods`` must not be empty. Every message starts with "Incorrect data" (the
document's example) and names the field as ``goods[1].quantity``.
"""

from __future__ import annotations

import math

from .imsklad_demo import COLOURS, COURIERS, DELIVERY_TYPES

STRING, INT, FLOAT, ARRAY, OBJECT, GOOD_ID = "String", "Int", "Float", "Array", "Object", "Id"
FLAG = frozenset({0, 1})
DOC_TYPE = frozenset({0, 1})

ERROR_FATAL, ERROR_NOT_FOUND, ERROR_INCORRECT_DATA, ERROR_NOT_PERFORMED = 1, 2, 3, 4


class Reject(Exception):
    """Answer ``{"error": message, "code": code, **extra}`` (``extra``: e.g. the existing id)."""

    def __init__(self, code: int, message: str, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict:
        return {"error": self.message, "code": self.code, **self.extra}


def incorrect(message: str) -> Reject:
    return Reject(ERROR_INCORRECT_DATA, f"Incorrect data: {message}")


# (name, type, required, allowed values or None)
LINE = (("id", GOOD_ID, True, None), ("quantity", INT, True, "positive"),
        ("price", FLOAT, True, None))
ADDRESS = tuple((name, STRING, False, None) for name in ("city", "street", "house", "room"))
GOOD = (
    ("id", STRING, True, None), ("name", STRING, True, None), ("description", STRING, False, None),
    ("price", FLOAT, True, None), ("cost", FLOAT, True, None), ("image", STRING, False, None),
    ("weight", INT, False, None), ("width", INT, False, None), ("height", INT, False, None),
    ("length", INT, False, None), ("color", INT, False, frozenset(COLOURS)),
    ("size", STRING, False, None),
)
STOCK = (("storage_id", STRING, True, None), ("ids", ARRAY, True, None))
_ORDER_FIELDS = (
    ("id", STRING, True, None), ("guid", STRING, False, None), ("storage_id", INT, True, None),
    ("tags", STRING, False, None), ("name", STRING, True, None), ("email", STRING, False, None),
    ("phone", STRING, False, None), ("phone2", STRING, False, None),
    ("post_code", STRING, False, None), ("address", STRING, False, None),
    ("address_lat", FLOAT, False, None), ("address_lng", FLOAT, False, None),
    ("comment", STRING, False, None), ("owner_comment", STRING, False, None),
    ("discount", FLOAT, True, None), ("delivery", FLOAT, True, None),
    ("total_paid", FLOAT, True, None), ("delivery_type", INT, False, frozenset(DELIVERY_TYPES)),
    ("delivery_date_from", INT, False, None), ("delivery_date_to", INT, False, None),
    ("shipment_date", INT, False, None), ("courier", INT, False, frozenset(COURIERS)),
    ("is_canceled", INT, False, FLAG), ("track_status", STRING, False, None),
    ("tracked", INT, False, FLAG), ("track", STRING, False, None),
    ("track_update", INT, False, None), ("city_id", INT, False, None),
    ("pickup_point", STRING, False, None), ("courier_city_code", STRING, False, None),
    ("address_obj", OBJECT, False, ADDRESS), ("goods", ARRAY, True, LINE),
)
ADD_ORDER = _ORDER_FIELDS
UPDATE_ORDER = tuple(spec for spec in _ORDER_FIELDS if spec[0] not in ("guid", "storage_id"))
ADD_PREORDER = (
    ("id", STRING, True, None), ("storage_id", INT, True, None), ("code", STRING, False, None),
    ("type", INT, True, DOC_TYPE), ("owner_date", INT, False, None),
    ("need_pickup", INT, False, FLAG), ("pickup_address", STRING, False, None),
    ("pickup_contacts", STRING, False, None), ("supplier_name", STRING, False, None),
    ("goods", ARRAY, True, LINE),
)
UPDATE_PREORDER = tuple(
    ("date", INT, False, None) if spec[0] == "owner_date" else spec
    for spec in ADD_PREORDER if spec[0] != "storage_id"
)
ADD_DOC = (
    ("id", STRING, True, None), ("storage_id", INT, True, None), ("code", STRING, False, None),
    ("type", INT, True, DOC_TYPE), ("date", INT, False, None), ("goods", ARRAY, True, LINE),
)
UPDATE_DOC = tuple(spec for spec in ADD_DOC if spec[0] != "storage_id")
BILLING = (("storage_id", INT, True, None), ("from", INT, True, None), ("to", INT, True, None))


def _number(value, name: str, kind: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise incorrect(f"field '{name}' must be {kind}")
    if kind == INT:
        if isinstance(value, float) and not value.is_integer():
            raise incorrect(f"field '{name}' must be Int")
        return int(value)
    return float(value)


def _string(value, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    raise incorrect(f"field '{name}' must be String")


def read(data, table, where: str = "") -> dict:
    """The fields of ``table`` read from ``data`` (normalised: String → str, Int → int, lines
    and objects read recursively); Reject(3) naming the first bad field."""
    if not isinstance(data, dict):
        raise incorrect(f"{where or 'data'} must be an Object")
    values = {}
    for name, kind, required, rule in table:
        full = f"{where}.{name}" if where else name
        value = data.get(name)
        if value is None:
            if required:
                raise incorrect(f"field '{full}' is required")
            continue
        if kind in (STRING, GOOD_ID):
            value = _string(value, full)
        elif kind in (INT, FLOAT):
            value = _number(value, full, kind)
        elif kind == OBJECT:
            value = read(value, rule, full)
        elif kind == ARRAY:
            if not isinstance(value, list):
                raise incorrect(f"field '{full}' must be Array")
            if rule is not None:
                if not value:
                    raise incorrect(f"field '{full}' must not be empty")
                value = [read(row, rule, f"{full}[{index}]") for index, row in enumerate(value)]
        if rule == "positive" and value <= 0:
            raise incorrect(f"field '{full}' must be above 0")
        elif isinstance(rule, frozenset) and value not in rule:
            raise incorrect(f"field '{full}' has an unknown value {value}")
        values[name] = value
    return values


def read_ids(values) -> list[int]:
    """get_stock's ``ids``: an array of Int."""
    ids = []
    for index, value in enumerate(values):
        ids.append(_number(value, f"ids[{index}]", INT))
    return ids
