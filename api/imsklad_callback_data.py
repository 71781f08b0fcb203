"""The calls IMSKLAD makes to us, as typed objects (read by :mod:`.imsklad_callbacks`), and the
answers we give them, in the document's format."""

import json
from dataclasses import dataclass, field

from .etm_data import text
from .imsklad_data import DOC_STATUSES, status_name
from .imsklad_payloads import ImskladGood, ImskladOrder, coerce

__all__ = [
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
    "encode_answer",
    "error_answer",
    "good_answer",
    "ok_answer",
    "supplier_answer",
    "suppliers_answer",
]


@dataclass
class OrderRef:
    id: str  # ours ('' when IMSKLAD sent none)
    guid: str = ""
    system_id: int | None = None


@dataclass
class OrderStatusChange(OrderRef):
    old_status: int = 0
    new_status: int = 0

    @property
    def new_status_name(self):
        return status_name(self.new_status)

    @property
    def old_status_name(self):
        return status_name(self.old_status)


@dataclass
class OrderUpdate(OrderRef):
    order: ImskladOrder | None = None  # dates as naive UTC datetimes, flags as bool


@dataclass
class TrackUpdate(OrderRef):
    track: str = ""
    error: str = ""  # the document's ``err``: the courier service refused the order


@dataclass
class OrderPayment(OrderRef):
    amount: float | None = None
    paid_at: object = None  # naive UTC datetime or None


@dataclass
class OrderExport:
    """send_to_cdek / send_to_boxberry / send_act_to_boxberry: the orders concerned."""

    orders: list = field(default_factory=list)  # OrderRef


@dataclass
class DocumentEvent:
    """doc.add_doc / doc.update_doc / doc.set_status."""

    id: str  # ours, '' for a document the warehouse made itself
    system_id: int | None = None
    code: str = ""
    type: int | None = None  # 0 receipt, 1 write-off
    date: object = None
    goods: list = field(default_factory=list)  # ImskladLine
    old_status: int | None = None
    new_status: int | None = None

    @property
    def new_status_name(self):
        return DOC_STATUSES.get(self.new_status, "") if self.new_status is not None else ""


@dataclass
class ObjectRequest:
    """good.get_good, good.get_good_suppliers, supplier.get_supplier (``id``);
    supplier.get_suppliers (``id`` '')."""

    id: str = ""


@dataclass
class ImskladCallback:
    type: str
    action: str
    kind: str  # "order.set_status"
    data: object  # one of the dataclasses above, or a list of TrackUpdate
    raw: object  # the body's ``data`` as received (never the key)
    reference: str
    dedupe_key: str


@dataclass
class ImskladSupplier:
    id: str
    name: str
    inn: str | None = None
    kpp: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    contacts: str | None = None


# -- answers -----------------------------------------------------------------------------------
def ok_answer(object_id=None):
    """``{"result": "ok"}``; with ``id`` for order.update_order (our order id, echoed)."""
    answer = {"result": "ok"}
    if object_id not in (None, ""):
        answer["id"] = object_id
    return answer


def error_answer(code, message):
    return {"error": text(message), "code": int(code)}


_GOOD_NUMBERS = ("weight", "width", "height", "length")


def good_answer(good, object_id=None):
    """good.get_good: the good as the document's example shows it; ``id`` echoes what IMSKLAD
    asked by (``object_id``) or is ours."""
    good = coerce(ImskladGood, good)
    answer = {"id": object_id if object_id not in (None, "") else text(good.id),
              "name": text(good.name), "description": text(good.description),
              "price": round(float(good.price or 0), 2), "cost": round(float(good.cost or 0), 2)}  # fmt: skip
    for name in _GOOD_NUMBERS:
        value = getattr(good, name)
        answer[name] = int(round(float(value))) if value is not None else 0
    if good.color is not None:
        answer["color"] = int(good.color)
    answer["size"] = text(good.size)
    if good.image:
        answer["image"] = good.image
    return answer


def supplier_answer(supplier):
    supplier = coerce(ImskladSupplier, supplier)
    answer = {"id": text(supplier.id), "name": text(supplier.name)}
    for name in ("inn", "kpp", "phone", "email", "address", "contacts"):
        value = getattr(supplier, name)
        if value not in (None, ""):
            answer[name] = text(value)
    return answer


def suppliers_answer(suppliers):
    """good.get_good_suppliers / supplier.get_suppliers: a bare array of suppliers."""
    return [supplier_answer(supplier) for supplier in suppliers or ()]


def encode_answer(answer):
    """The answer as the body to send (UTF-8 JSON, Cyrillic kept readable)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
