"""MoySklad reference data as plain data: product folders, units, currencies, price types,
company settings, stores, organizations, images and webhooks (meta readers in
``moysklad_meta``, value readers in ``moysklad_data``)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .moysklad_data import _dict, _int, _number, text
from .moysklad_meta import entity_values, meta_of, ref_id
from .moysklad_query import parse_moscow

__all__ = [
    "MsCompanySettings",
    "MsCurrency",
    "MsFolder",
    "MsImage",
    "MsOrganization",
    "MsPriceType",
    "MsStore",
    "MsUom",
    "MsWebhook",
]


@dataclass
class MsFolder:
    id: str
    name: str = ""
    code: str = ""
    external_code: str = ""
    path_name: str = ""
    parent_id: str = ""
    archived: bool = False
    updated: datetime | None = None
    href: str = ""


@dataclass
class MsUom:
    id: str
    name: str = ""
    code: str = ""
    external_code: str = ""
    description: str = ""
    href: str = ""


@dataclass
class MsCurrency:
    id: str
    name: str = ""
    full_name: str = ""
    iso_code: str = ""
    code: str = ""
    rate: Decimal | None = None
    multiplicity: int | None = None
    indirect: bool = False
    default: bool = False
    archived: bool = False
    href: str = ""


@dataclass
class MsPriceType:
    id: str
    name: str = ""
    external_code: str = ""
    href: str = ""


@dataclass
class MsCompanySettings:
    currency: MsCurrency | None
    price_types: list  # [MsPriceType]


@dataclass
class MsStore:
    id: str
    name: str = ""
    code: str = ""
    external_code: str = ""
    address: str = ""
    archived: bool = False
    parent_id: str = ""
    path_name: str = ""
    href: str = ""


@dataclass
class MsOrganization:
    id: str
    name: str = ""
    legal_title: str = ""
    company_type: str = ""
    inn: str = ""
    kpp: str = ""
    code: str = ""
    external_code: str = ""
    archived: bool = False
    href: str = ""


@dataclass
class MsImage:
    id: str
    filename: str = ""
    title: str = ""
    size: int | None = None
    updated: datetime | None = None
    href: str = ""
    download_href: str = ""
    miniature_href: str = ""
    tiny_href: str = ""


@dataclass
class MsWebhook:
    id: str
    url: str = ""
    action: str = ""
    entity_type: str = ""
    enabled: bool = True
    diff_type: str = ""
    href: str = ""


# -- parsers ---------------------------------------------------------------------------------
_NAMED = ("name", "code", "externalCode")


def parse_folder(row):
    row, values = entity_values(row, (*_NAMED, "pathName"))
    if values is None:
        return None
    return MsFolder(parent_id=ref_id(row.get("productFolder")),
                    archived=row.get("archived") is True,
                    updated=parse_moscow(row.get("updated")), **values)  # fmt: skip


def parse_uom(row):
    _row, values = entity_values(row, (*_NAMED, "description"))
    return MsUom(**values) if values else None


def parse_currency(row):
    row, values = entity_values(row, ("name", "fullName", "code"))
    if values is None:
        return None
    return MsCurrency(
        iso_code=text(row.get("isoCode")).upper(),
        rate=_number(row.get("rate")),
        multiplicity=_int(row.get("multiplicity")),
        indirect=row.get("indirect") is True,
        default=row.get("default") is True,
        archived=row.get("archived") is True,
        **values,
    )


def parse_price_type(row):
    _row, values = entity_values(row, ("name", "externalCode"))
    return MsPriceType(**values) if values else None


def parse_company_settings(document):
    document = _dict(document)
    price_types = [
        item for item in map(parse_price_type, document.get("priceTypes") or ()) if item
    ]
    return MsCompanySettings(currency=parse_currency(document.get("currency")),
                             price_types=price_types)  # fmt: skip


def parse_store(row):
    row, values = entity_values(row, (*_NAMED, "address", "pathName"))
    if values is None:
        return None
    return MsStore(archived=row.get("archived") is True, parent_id=ref_id(row.get("parent")),
                   **values)  # fmt: skip


def parse_organization(row):
    row, values = entity_values(row, (*_NAMED, "legalTitle", "companyType", "inn", "kpp"))
    if values is None:
        return None
    return MsOrganization(archived=row.get("archived") is True, **values)


def parse_image(row):
    row, values = entity_values(row, ("filename", "title"))
    if values is None:
        return None
    miniature = _dict(row.get("miniature"))
    return MsImage(
        size=_int(row.get("size")),
        updated=parse_moscow(row.get("updated")),
        download_href=text(meta_of(row).get("downloadHref")),
        miniature_href=text(miniature.get("downloadHref")) or text(miniature.get("href")),
        tiny_href=text(_dict(row.get("tiny")).get("href")),
        **values,
    )


def parse_webhook(row):
    row, values = entity_values(row, ("url", "action", "diffType"))
    if values is None:
        return None
    return MsWebhook(
        entity_type=text(row.get("entityType")) or text(row.get("reportType")),
        enabled=row.get("enabled") is not False,
        **values,
    )
