"""MoySklad reference data as plain data: product folders, units, currencies, price types,
company settings, stores, organizations, images and webhooks (readers in ``moysklad_data``)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .moysklad_data import (
    _dict,
    _int,
    _number,
    href_of,
    id_from_href,
    meta_of,
    ref_id,
    text,
)
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


@dataclass
class MsUom:
    id: str
    name: str = ""
    code: str = ""
    external_code: str = ""
    description: str = ""


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
def parse_folder(row):
    row = _dict(row)
    folder_id = ref_id(row)
    if not folder_id:
        return None
    return MsFolder(
        id=folder_id,
        name=text(row.get("name")),
        code=text(row.get("code")),
        external_code=text(row.get("externalCode")),
        path_name=text(row.get("pathName")),
        parent_id=ref_id(row.get("productFolder")),
        archived=row.get("archived") is True,
        updated=parse_moscow(row.get("updated")),
    )


def parse_uom(row):
    row = _dict(row)
    uom_id = ref_id(row)
    if not uom_id:
        return None
    return MsUom(id=uom_id, name=text(row.get("name")), code=text(row.get("code")),
                 external_code=text(row.get("externalCode")),
                 description=text(row.get("description")))  # fmt: skip


def parse_currency(row):
    row = _dict(row)
    currency_id = ref_id(row)
    if not currency_id:
        return None
    return MsCurrency(
        id=currency_id,
        name=text(row.get("name")),
        full_name=text(row.get("fullName")),
        iso_code=text(row.get("isoCode")).upper(),
        code=text(row.get("code")),
        rate=_number(row.get("rate")),
        multiplicity=_int(row.get("multiplicity")),
        indirect=row.get("indirect") is True,
        default=row.get("default") is True,
        archived=row.get("archived") is True,
        href=href_of(row),
    )


def parse_price_type(row):
    row = _dict(row)
    type_id = ref_id(row)
    if not type_id:
        return None
    return MsPriceType(id=type_id, name=text(row.get("name")),
                       external_code=text(row.get("externalCode")), href=href_of(row))  # fmt: skip


def parse_company_settings(document):
    document = _dict(document)
    price_types = [
        item for item in map(parse_price_type, document.get("priceTypes") or ()) if item
    ]
    return MsCompanySettings(currency=parse_currency(document.get("currency")),
                             price_types=price_types)  # fmt: skip


def parse_store(row):
    row = _dict(row)
    store_id = ref_id(row)
    if not store_id:
        return None
    return MsStore(
        id=store_id,
        name=text(row.get("name")),
        code=text(row.get("code")),
        external_code=text(row.get("externalCode")),
        address=text(row.get("address")),
        archived=row.get("archived") is True,
        parent_id=ref_id(row.get("parent")),
        path_name=text(row.get("pathName")),
        href=href_of(row),
    )


def parse_organization(row):
    row = _dict(row)
    organization_id = ref_id(row)
    if not organization_id:
        return None
    return MsOrganization(
        id=organization_id,
        name=text(row.get("name")),
        legal_title=text(row.get("legalTitle")),
        company_type=text(row.get("companyType")),
        inn=text(row.get("inn")),
        kpp=text(row.get("kpp")),
        code=text(row.get("code")),
        external_code=text(row.get("externalCode")),
        archived=row.get("archived") is True,
        href=href_of(row),
    )


def parse_image(row):
    row = _dict(row)
    meta = meta_of(row)
    href = text(meta.get("href"))
    image_id = text(row.get("id")) or id_from_href(href)
    if not image_id:
        return None
    return MsImage(
        id=image_id,
        filename=text(row.get("filename")),
        title=text(row.get("title")),
        size=_int(row.get("size")),
        updated=parse_moscow(row.get("updated")),
        href=href,
        download_href=text(meta.get("downloadHref")),
        miniature_href=text(_dict(row.get("miniature")).get("downloadHref"))
        or text(_dict(row.get("miniature")).get("href")),
        tiny_href=text(_dict(row.get("tiny")).get("href")),
    )


def parse_webhook(row):
    row = _dict(row)
    webhook_id = ref_id(row)
    if not webhook_id:
        return None
    return MsWebhook(
        id=webhook_id,
        url=text(row.get("url")),
        action=text(row.get("action")),
        entity_type=text(row.get("entityType")) or text(row.get("reportType")),
        enabled=row.get("enabled") is not False,
        diff_type=text(row.get("diffType")),
        href=href_of(row),
    )
