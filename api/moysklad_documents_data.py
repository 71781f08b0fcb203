"""MoySklad part 2 data: counterparties (with bank accounts and contact persons), orders and
stock documents (customerorder, purchaseorder, demand, supply) with positions, and states.

- Drafts (``MsCounterpartyDraft``, ``MsDocumentDraft``) build the JSON sent; fields left None are
  not sent, so an update changes only what is given. Creations carry a ``syncId``; updates carry
  ``meta`` and never a syncId (error 1047).
- ``accounts`` and ``contactpersons`` of a counterparty, and ``positions`` of a document, are
  replaced as a whole when given on update (the document's rule): give all of them or None.
- Positions: ``price`` in currency units, sent in kopecks (``to_kopecks``); at most 1000 per
  document in one request (the array limit); ``discount`` in percent; ``vat`` in percent.
- Addresses: a structured address (``*_address_full``) wins over the string at MoySklad when
  both are sent; the draft sends the structured one when given, else the string.
- ``moment`` (naive UTC or aware) is sent in Moscow time.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .moysklad_data import (
    _dict,
    _int,
    _number,
    from_kopecks,
    href_of,
    ref_id,
    text,
    to_kopecks,
    type_of,
)
from .moysklad_payloads import check_uuid, meta_ref
from .moysklad_query import parse_moscow, to_moscow_text

__all__ = [
    "DOCUMENT_KINDS",
    "MsAccount",
    "MsContact",
    "MsCounterparty",
    "MsCounterpartyDraft",
    "MsDocument",
    "MsDocumentDraft",
    "MsPosition",
    "MsState",
]

DOCUMENT_KINDS = ("customerorder", "purchaseorder", "demand", "supply")
COMPANY_TYPES = ("legal", "entrepreneur", "individual")
MAX_POSITIONS = 1000
ADDRESS_FIELDS = {"postal_code": "postalCode", "city": "city", "street": "street",
                  "house": "house", "apartment": "apartment", "add_info": "addInfo",
                  "comment": "comment"}  # fmt: skip
# The document a demand or supply is linked to, by the field that links it.
LINK_FIELDS = {"demand": ("customerOrder", "customerorder"),
               "supply": ("purchaseOrder", "purchaseorder")}  # fmt: skip


# -- counterparties ------------------------------------------------------------------------------
@dataclass
class MsAccount:
    account_number: str
    id: str = ""
    bank_name: str = ""
    bic: str = ""
    correspondent_account: str = ""
    bank_location: str = ""
    is_default: bool = False

    def to_json(self):
        if not text(self.account_number):
            raise ValueError("A bank account needs its account number")
        data = {"accountNumber": text(self.account_number), "isDefault": bool(self.is_default)}
        for key, value in (("bankName", self.bank_name), ("bic", self.bic),
                           ("correspondentAccount", self.correspondent_account),
                           ("bankLocation", self.bank_location)):  # fmt: skip
            if value:
                data[key] = value
        return data


@dataclass
class MsContact:
    name: str
    id: str = ""
    position: str = ""
    phone: str = ""
    email: str = ""
    external_code: str = ""
    description: str = ""

    def to_json(self):
        if not text(self.name):
            raise ValueError("A contact person needs a name")
        data = {"name": text(self.name)}
        for key, value in (("position", self.position), ("phone", self.phone),
                           ("email", self.email), ("externalCode", self.external_code),
                           ("description", self.description)):  # fmt: skip
            if value:
                data[key] = value
        return data


@dataclass
class MsCounterparty:
    id: str
    href: str = ""
    name: str = ""
    company_type: str = ""
    legal_title: str = ""
    legal_first_name: str = ""
    legal_last_name: str = ""
    legal_middle_name: str = ""
    inn: str = ""
    kpp: str = ""
    ogrn: str = ""
    ogrnip: str = ""
    okpo: str = ""
    email: str = ""
    phone: str = ""
    fax: str = ""
    description: str = ""
    code: str = ""
    external_code: str = ""
    sync_id: str = ""
    archived: bool = False
    updated: datetime | None = None
    tags: list = field(default_factory=list)
    actual_address: str = ""
    legal_address: str = ""
    actual_address_full: dict = field(default_factory=dict)  # postal_code, city, ..., country_id
    legal_address_full: dict = field(default_factory=dict)
    accounts: list = field(default_factory=list)  # [MsAccount] when expanded
    contacts: list = field(default_factory=list)  # [MsContact] when expanded
    accounts_count: int = 0
    contacts_count: int = 0


@dataclass
class MsCounterpartyDraft:
    """A counterparty to create (``sync_id``) or update (``href``). Addresses: a string, or a
    dict with postal_code, city, street, house, apartment, add_info, comment, country_href."""

    name: str | None = None
    href: str = ""
    sync_id: str = ""
    company_type: str | None = None
    legal_title: str | None = None
    legal_first_name: str | None = None
    legal_last_name: str | None = None
    legal_middle_name: str | None = None
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    ogrnip: str | None = None
    okpo: str | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    description: str | None = None
    code: str | None = None
    external_code: str | None = None
    archived: bool | None = None
    tags: list | None = None
    actual_address: object = None
    legal_address: object = None
    accounts: list | None = None
    contacts: list | None = None
    extra: dict = field(default_factory=dict)
    key: object = None

    def to_json(self, entity_type="counterparty"):
        payload = {}
        if self.href:
            payload.update(meta_ref(self.href, entity_type))
        else:
            if not text(self.name):
                raise ValueError("A new MoySklad counterparty needs a name")
            if self.sync_id:
                payload["syncId"] = check_uuid(self.sync_id)
        if self.company_type is not None and self.company_type not in COMPANY_TYPES:
            raise ValueError(f"companyType must be one of {COMPANY_TYPES}")
        simple = {
            "name": self.name, "companyType": self.company_type, "legalTitle": self.legal_title,
            "legalFirstName": self.legal_first_name, "legalLastName": self.legal_last_name,
            "legalMiddleName": self.legal_middle_name, "inn": self.inn, "kpp": self.kpp,
            "ogrn": self.ogrn, "ogrnip": self.ogrnip, "okpo": self.okpo, "email": self.email,
            "phone": self.phone, "fax": self.fax, "description": self.description,
            "code": self.code, "externalCode": self.external_code, "archived": self.archived,
        }  # fmt: skip
        payload.update({key: value for key, value in simple.items() if value is not None})
        if self.tags is not None:
            payload["tags"] = [text(tag) for tag in self.tags if text(tag)]
        for key, value in (("actualAddress", self.actual_address),
                           ("legalAddress", self.legal_address)):  # fmt: skip
            if isinstance(value, dict):
                payload[key + "Full"] = address_json(value)
            elif value is not None:
                payload[key] = text(value)
        if self.accounts is not None:
            payload["accounts"] = [_as(MsAccount, item).to_json() for item in self.accounts]
        if self.contacts is not None:
            payload["contactpersons"] = [_as(MsContact, item).to_json() for item in self.contacts]
        payload.update(self.extra or {})
        return payload


def _as(cls, item):
    return item if isinstance(item, cls) else cls(**item)


def address_json(address):
    data = {}
    for key, json_key in ADDRESS_FIELDS.items():
        value = address.get(key)
        if value is not None:
            data[json_key] = text(str(value))
    if address.get("country_href"):
        data["country"] = meta_ref(address["country_href"], "country")
    return data


def parse_address(data):
    data = _dict(data)
    address = {key: text(data.get(json_key)) for key, json_key in ADDRESS_FIELDS.items()
               if text(data.get(json_key))}  # fmt: skip
    if data.get("country"):
        address["country_id"] = ref_id(data.get("country"))
    if data.get("region"):
        address["region_id"] = ref_id(data.get("region"))
    return address


def _rows(value):
    """Rows of an expanded MetaArray (or a plain list); [] when only the meta came."""
    if isinstance(value, list):
        return value
    rows = _dict(value).get("rows")
    return rows if isinstance(rows, list) else []


def _count(value):
    if isinstance(value, list):
        return len(value)
    rows = _dict(value).get("rows")
    size = _int(_dict(_dict(value).get("meta")).get("size"))
    return max(len(rows) if isinstance(rows, list) else 0, size or 0)


def parse_account(row):
    row = _dict(row)
    return MsAccount(account_number=text(row.get("accountNumber")), id=ref_id(row),
                     bank_name=text(row.get("bankName")), bic=text(row.get("bic")),
                     correspondent_account=text(row.get("correspondentAccount")),
                     bank_location=text(row.get("bankLocation")),
                     is_default=row.get("isDefault") is True)  # fmt: skip


def parse_contact(row):
    row = _dict(row)
    return MsContact(name=text(row.get("name")), id=ref_id(row),
                     position=text(row.get("position")), phone=text(row.get("phone")),
                     email=text(row.get("email")), external_code=text(row.get("externalCode")),
                     description=text(row.get("description")))  # fmt: skip


def parse_counterparty(row):
    row = _dict(row)
    counterparty_id = ref_id(row)
    if not counterparty_id or (type_of(row) and type_of(row) != "counterparty"):
        return None
    simple = {name: text(row.get(key)) for name, key in (
        ("name", "name"), ("company_type", "companyType"), ("legal_title", "legalTitle"),
        ("legal_first_name", "legalFirstName"), ("legal_last_name", "legalLastName"),
        ("legal_middle_name", "legalMiddleName"), ("inn", "inn"), ("kpp", "kpp"),
        ("ogrn", "ogrn"), ("ogrnip", "ogrnip"), ("okpo", "okpo"), ("email", "email"),
        ("phone", "phone"), ("fax", "fax"), ("description", "description"), ("code", "code"),
        ("external_code", "externalCode"), ("sync_id", "syncId"),
        ("actual_address", "actualAddress"), ("legal_address", "legalAddress"))}  # fmt: skip
    return MsCounterparty(
        id=counterparty_id,
        href=href_of(row),
        archived=row.get("archived") is True,
        updated=parse_moscow(row.get("updated")),
        tags=[text(tag) for tag in row.get("tags") or () if text(tag)],
        actual_address_full=parse_address(row.get("actualAddressFull")),
        legal_address_full=parse_address(row.get("legalAddressFull")),
        accounts=[parse_account(item) for item in _rows(row.get("accounts"))],
        contacts=[parse_contact(item) for item in _rows(row.get("contactpersons"))],
        accounts_count=_count(row.get("accounts")),
        contacts_count=_count(row.get("contactpersons")),
        **simple,
    )


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
            payload["positions"] = [_as(MsPosition, item).to_json() for item in self.positions]
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
    row = _dict(row)
    document_id = ref_id(row)
    kind = type_of(row)
    if not document_id or kind not in DOCUMENT_KINDS:
        return None
    state = _dict(row.get("state"))
    link_field = LINK_FIELDS.get(kind, ("",))[0]
    return MsDocument(
        id=document_id,
        kind=kind,
        href=href_of(row),
        name=text(row.get("name")),
        external_code=text(row.get("externalCode")),
        sync_id=text(row.get("syncId")),
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
        positions_count=_count(row.get("positions")),
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
    row = _dict(row)
    state_id = ref_id(row)
    if not state_id:
        return None
    return MsState(id=state_id, name=text(row.get("name")), color=_int(row.get("color")),
                   state_type=text(row.get("stateType")),
                   entity_type=text(row.get("entityType")), href=href_of(row))  # fmt: skip


def quantity_of(value):
    return _number(value)
