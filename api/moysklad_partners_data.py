"""MoySklad counterparties as plain data, with bank accounts and contact persons.

- ``MsCounterpartyDraft`` builds the JSON sent; fields left None are not sent. Creations carry a
  ``syncId``; updates carry ``meta`` and never a syncId (error 1047).
- ``accounts`` and ``contactpersons``, when given on update, replace the counterparty's
  collections as a whole (the document's rule): give all of them or None.
- Addresses: a structured address (``*_address_full``) wins over the string at MoySklad when
  both are sent; the draft sends the structured one when given (a dict), else the string.
  Its country is a reference to MoySklad's country list: read as ``country_id`` and
  ``country_href``, sent from ``country_href`` (``moysklad_countries`` maps them to ISO codes).
  Contact persons have no address in MoySklad (the documented attributes).
- Requisites by ``companyType`` (the document's three tables): a draft with a company type
  sends only the requisites that type has (no KPP or OGRN for an entrepreneur, no OGRNIP for a
  legal entity, only the INN and the names for an individual); the others are left out rather
  than sent for MoySklad to ignore.
- ``inn_problem`` checks an INN the cheap way MoySklad does: digits only, 10 digits for a legal
  entity, 12 for an entrepreneur or an individual, and the check digit(s) (Federal Tax Service
  algorithm). It answers a problem code, never raises.
"""

from dataclasses import dataclass, field
from datetime import datetime

from .moysklad_data import _dict, as_dataclass, collection_rows, collection_size, text
from .moysklad_meta import entity_values, href_of, ref_id
from .moysklad_payloads import check_uuid, meta_ref
from .moysklad_query import parse_moscow

__all__ = ["MsAccount", "MsContact", "MsCounterparty", "MsCounterpartyDraft", "inn_problem"]

COMPANY_TYPES = ("legal", "entrepreneur", "individual")
_NAMES = ("legal_first_name", "legal_last_name", "legal_middle_name")
REQUISITES = {
    "legal": frozenset(("legal_title", "inn", "kpp", "ogrn", "okpo")),
    "entrepreneur": frozenset(("legal_title", *_NAMES, "inn", "ogrnip", "okpo")),
    "individual": frozenset(("legal_title", *_NAMES, "inn")),
}
REQUISITE_FIELDS = frozenset().union(*REQUISITES.values())
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits, weights):
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(inn, company_type=""):
    """None when ``inn`` is empty or valid; else "digits" (not only digits), "length" (neither
    10 nor 12 digits), "kind" (10 digits for a person or 12 for a legal entity) or "check"
    (a check digit is wrong)."""
    inn = (inn or "").strip()
    if not inn:
        return None
    if not inn.isdigit():
        return "digits"
    if len(inn) not in (10, 12):
        return "length"
    if (company_type == "legal" and len(inn) != 10) or (
            company_type in ("entrepreneur", "individual") and len(inn) != 12):
        return "kind"
    digits = [int(char) for char in inn]
    if len(inn) == 10:
        return None if _check_digit(digits, _INN10) == digits[9] else "check"
    if _check_digit(digits, _INN11) != digits[10] or _check_digit(digits, _INN12) != digits[11]:
        return "check"
    return None
ADDRESS_FIELDS = {"postal_code": "postalCode", "city": "city", "street": "street",
                  "house": "house", "apartment": "apartment", "add_info": "addInfo",
                  "comment": "comment"}  # fmt: skip


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
    actual_address_full: dict = field(default_factory=dict)  # postal_code, city, ..., country_href
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
        kept = REQUISITES.get(self.company_type)
        if kept is not None:
            dropped = {_JSON_NAMES[name] for name in REQUISITE_FIELDS - kept}
            simple = {key: value for key, value in simple.items() if key not in dropped}
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
            payload["accounts"] = [as_dataclass(MsAccount, item).to_json() for item in self.accounts]
        if self.contacts is not None:
            payload["contactpersons"] = [as_dataclass(MsContact, item).to_json() for item in self.contacts]
        payload.update(self.extra or {})
        return payload


_JSON_NAMES = {"legal_title": "legalTitle", "legal_first_name": "legalFirstName",
               "legal_last_name": "legalLastName", "legal_middle_name": "legalMiddleName",
               "inn": "inn", "kpp": "kpp", "ogrn": "ogrn", "ogrnip": "ogrnip", "okpo": "okpo"}


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
    for name in ("country", "region"):
        if data.get(name):
            address[f"{name}_id"] = ref_id(data.get(name))
            address[f"{name}_href"] = href_of(data.get(name))
    return address


def _nested_values(row, texts):
    """Values of a bank account or contact person row (its id when it has one; no href)."""
    row, values = entity_values(row, texts, need_id=False)
    values.pop("href")
    return row, values


def parse_account(row):
    row, values = _nested_values(row, ("accountNumber", "bankName", "bic",
                                       "correspondentAccount", "bankLocation"))  # fmt: skip
    return MsAccount(is_default=row.get("isDefault") is True, **values)


def parse_contact(row):
    _row, values = _nested_values(row, ("name", "position", "phone", "email", "externalCode",
                                        "description"))  # fmt: skip
    return MsContact(**values)


_COUNTERPARTY_TEXTS = (
    "name", "companyType", "legalTitle", "legalFirstName", "legalLastName", "legalMiddleName",
    "inn", "kpp", "ogrn", "ogrnip", "okpo", "email", "phone", "fax", "description", "code",
    "externalCode", "syncId", "actualAddress", "legalAddress",
)


def parse_counterparty(row):
    row, values = entity_values(row, _COUNTERPARTY_TEXTS, kinds=("counterparty",))
    if values is None:
        return None
    return MsCounterparty(
        archived=row.get("archived") is True,
        updated=parse_moscow(row.get("updated")),
        tags=[text(tag) for tag in row.get("tags") or () if text(tag)],
        actual_address_full=parse_address(row.get("actualAddressFull")),
        legal_address_full=parse_address(row.get("legalAddressFull")),
        accounts=[parse_account(item) for item in collection_rows(row.get("accounts"))],
        contacts=[parse_contact(item) for item in collection_rows(row.get("contactpersons"))],
        accounts_count=collection_size(row.get("accounts")),
        contacts_count=collection_size(row.get("contactpersons")),
        **values,
    )
