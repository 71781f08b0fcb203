"""MoySklad orders and stock documents as plain data: customerorder, purchaseorder, demand and
supply with positions, and their states (counterparties: ``moysklad_partners_data``).

- Drafts (``MsDocumentDraft``) build the JSON sent; fields left None are not sent, so an update
  changes only what is given. Creations carry a ``syncId``; updates carry ``meta`` and never a
  syncId (error 1047).
- ``positions``, when given on update, replace the document's positions as a whole (the
  document's rule): give all of them or None.
- Positions: ``price`` in currency units, sent in kopecks (``to_kopecks``); at most 1000 per
  document in one request (the array limit); ``discount`` and ``vat`` in percent.
- ``moment`` (naive UTC or aware) is sent in Moscow time. A new demand or supply needs a store.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .moysklad_data import (
    _dict,
    _int,
    _number,
    as_dataclass,
    collection_size,
    from_kopecks,
    text,
    to_kopecks,
)
from .moysklad_meta import entity_values, href_of, ref_id, type_of
from .moysklad_payloads import check_uuid, meta_ref
from .moysklad_query import parse_moscow, to_moscow_text

__all__ = [
    "DOCUMENT_KINDS",
    "MsDocument",
    "MsDocumentDraft",
    "MsPosition",
    "MsState",
]

DOCUMENT_KINDS = ("customerorder", "purchaseorder", "demand", "supply")
MAX_POSITIONS = 1000
# The document a demand or supply is linked to, by the field that links it.
LINK_FIELDS = {"demand": ("customerOrder", "customerorder"),
               "supply": ("purchaseOrder", "purchaseorder")}  # fmt: skip


# -- documents -----------------------------------------------------------------------------------
@dataclass
class MsPosition:
    """A document line: the assortment's href and type (product, variant, service, bundle),
    quantity, price in currency units, discount and VAT in percent."""

    assortment_href: str
    quantity: Decimal
    price: Decimal
    assortment_type: str = "product"
    discount: Decimal | None = None
    vat: int | None = None
    vat_enabled: bool | None = None
    reserve: Decimal | None = None

    def to_json(self):
        quantity = Decimal(str(self.quantity))
        if not quantity.is_finite() or quantity <= 0:
            raise ValueError("A position needs a quantity above zero")
        data = {
            "quantity": float(quantity),
            "price": to_kopecks(self.price),
            "assortment": meta_ref(self.assortment_href, self.assortment_type),
        }
        if self.discount is not None:
            data["discount"] = float(Decimal(str(self.discount)))
        if self.vat is not None:
            data["vat"] = int(self.vat)
        if self.vat_enabled is not None:
            data["vatEnabled"] = bool(self.vat_enabled)
        if self.reserve is not None:
            data["reserve"] = float(Decimal(str(self.reserve)))
        return data


@dataclass
class MsDocumentDraft:
    """An order or stock document (``kind``: customerorder, purchaseorder, demand, supply) to
    create (``sync_id``) or update (``href``). ``linked_href``: the customer order of a demand,
    the purchase order of a supply."""

    kind: str
    href: str = ""
    sync_id: str = ""
    name: str | None = None
    external_code: str | None = None
    moment: datetime | None = None
    organization_href: str | None = None
    agent_href: str | None = None
    store_href: str | None = None
    state_href: str | None = None
    linked_href: str | None = None
    description: str | None = None
    applicable: bool | None = None
    vat_enabled: bool | None = None
    vat_included: bool | None = None
    positions: list | None = None
    extra: dict = field(default_factory=dict)
    key: object = None

    def to_json(self, entity_type=None):
        kind = entity_type or self.kind
        if kind not in DOCUMENT_KINDS:
            raise ValueError(f"kind must be one of {DOCUMENT_KINDS}")
        payload = {}
        if self.href:
            payload.update(meta_ref(self.href, kind))
        else:
            missing = [name for name, value in (("organization", self.organization_href),
                                                ("agent", self.agent_href)) if not value]  # fmt: skip
            if kind in ("demand", "supply") and not self.store_href:
                missing.append("store")
            if missing:
                raise ValueError(f"A new {kind} needs: {', '.join(missing)}")
            if self.sync_id:
                payload["syncId"] = check_uuid(self.sync_id)
        simple = {"name": self.name, "externalCode": self.external_code,
                  "description": self.description, "applicable": self.applicable,
                  "vatEnabled": self.vat_enabled, "vatIncluded": self.vat_included}  # fmt: skip
        payload.update({key: value for key, value in simple.items() if value is not None})
        if self.moment is not None:
            payload["moment"] = to_moscow_text(self.moment)
        for key, href, ref_type in (("organization", self.organization_href, "organization"),
                                    ("agent", self.agent_href, "counterparty"),
                                    ("store", self.store_href, "store"),
                                    ("state", self.state_href, "state")):  # fmt: skip
            if href:
                payload[key] = meta_ref(href, ref_type)
        if self.linked_href:
            if kind not in LINK_FIELDS:
                raise ValueError(f"A {kind} is not linked to another document")
            link_field, link_type = LINK_FIELDS[kind]
            payload[link_field] = meta_ref(self.linked_href, link_type)
        if self.positions is not None:
            if len(self.positions) > MAX_POSITIONS:
                raise ValueError(f"At most {MAX_POSITIONS} positions per document request")
            payload["positions"] = [as_dataclass(MsPosition, item).to_json() for item in self.positions]
        payload.update(self.extra or {})
        return payload


@dataclass
class MsDocument:
    id: str
    kind: str
    href: str = ""
    name: str = ""
    external_code: str = ""
    sync_id: str = ""
    moment: datetime | None = None
    updated: datetime | None = None
    state_id: str = ""
    state_href: str = ""
    state_name: str = ""  # when the state came expanded
    sum: Decimal | None = None
    applicable: bool | None = None
    organization_id: str = ""
    agent_id: str = ""
    store_id: str = ""
    linked_id: str = ""
    deleted: datetime | None = None
    positions_count: int = 0


def parse_document(row):
    row, values = entity_values(row, ("name", "externalCode", "syncId"))
    kind = type_of(row)
    if values is None or kind not in DOCUMENT_KINDS:
        return None
    state = _dict(row.get("state"))
    link_field = LINK_FIELDS.get(kind, ("",))[0]
    return MsDocument(
        kind=kind,
        moment=parse_moscow(row.get("moment")),
        updated=parse_moscow(row.get("updated")),
        state_id=ref_id(state) if state else "",
        state_href=href_of(state),
        state_name=text(state.get("name")),
        sum=from_kopecks(row.get("sum")),
        applicable=row.get("applicable") if isinstance(row.get("applicable"), bool) else None,
        organization_id=ref_id(row.get("organization")),
        agent_id=ref_id(row.get("agent")),
        store_id=ref_id(row.get("store")),
        linked_id=ref_id(row.get(link_field)) if link_field else "",
        deleted=parse_moscow(row.get("deleted")),
        positions_count=collection_size(row.get("positions")),
        **values,
    )


@dataclass
class MsState:
    id: str
    name: str = ""
    color: int | None = None
    state_type: str = ""  # Regular, Successful, Unsuccessful
    entity_type: str = ""
    href: str = ""


def parse_state(row):
    row, values = entity_values(row, ("name", "stateType", "entityType"))
    if values is None:
        return None
    return MsState(color=_int(row.get("color")), **values)


def quantity_of(value):
    return _number(value)
