"""The calls IMSKLAD makes to us, as typed objects (read by :mod:`.imsklad_callbacks`)."""

from dataclasses import dataclass, field

from .imsklad_data import DOC_STATUSES, status_name
from .imsklad_payloads import ImskladOrder

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
