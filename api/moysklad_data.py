"""MoySklad catalogue answers as plain data (dataclasses), and money in kopecks converted in one
place. Reference data (folders, units, currencies, stores...) is in ``moysklad_reference_data``.

- Money: MoySklad sends and takes prices in kopecks (roubles × 100, or cents of the price's
  currency): ``salePrices[].value``, ``buyPrice.value``, ``minPrice.value``, positions.
  ``from_kopecks`` (→ Decimal of the currency unit, exact) and ``to_kopecks`` (→ int, rounded
  half-up to a whole kopeck) are the only conversions; nothing else divides or multiplies by 100.
- Dates come in Moscow time and are given as naive UTC datetimes (``parse_moscow``).
- Ids: ``id`` when present, else the last part of ``meta.href`` (references are meta only).
- Parsing never raises on a row: a row that is no object or lacks its id gives None, and the
  lists that carry it report it as skipped with a reason.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .moysklad_meta import _dict, meta_of, ref_id, text, type_of
from .moysklad_query import parse_moscow

__all__ = [
    "MsPage",
    "MsPrice",
    "MsProduct",
    "MsSkipped",
    "MsStockReport",
    "MsStockRow",
    "from_kopecks",
    "to_kopecks",
]

PRODUCT_TYPES = ("product", "variant")
KOPECKS = Decimal(100)
ONE_KOPECK = Decimal(1)


# -- money ---------------------------------------------------------------------------------------
def from_kopecks(value):
    """Decimal amount for MoySklad's kopecks (1500.0 → Decimal('15')); None when not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    result = amount / KOPECKS
    cents = result.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    result = cents if cents == result else result  # 1500.0 -> 15.00, 1234.5 -> 12.345
    return result + 0  # +0 turns -0 into 0


def to_kopecks(amount):
    """Whole kopecks (int) for an amount (Decimal, int, float or text), rounded half-up."""
    if amount is None or isinstance(amount, bool):
        raise ValueError("A price needs a number")
    try:
        decimal = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValueError(f"Not a price: {amount!r}") from None
    if not decimal.is_finite():
        raise ValueError(f"Not a price: {amount!r}")
    return int((decimal * KOPECKS).quantize(ONE_KOPECK, rounding=ROUND_HALF_UP))


# -- small readers -------------------------------------------------------------------------------
def _number(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _int(value):
    number = _number(value)
    return int(number) if number is not None else None


def collection_size(value):
    """``size`` of a MetaArray (``{"meta": {"size": n}}``) or the length of an expanded list."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        rows = value.get("rows")
        if isinstance(rows, list):
            return max(len(rows), _int(meta_of(value).get("size")) or 0)
        return _int(meta_of(value).get("size")) or 0
    return 0


def collection_rows(value):
    """Rows of an expanded MetaArray (or a plain list); [] when only its meta came."""
    if isinstance(value, list):
        return value
    rows = _dict(value).get("rows")
    return rows if isinstance(rows, list) else []


def as_dataclass(cls, item):
    """``item`` itself when it is a ``cls``, else ``cls(**item)`` (drafts take dicts too)."""
    return item if isinstance(item, cls) else cls(**item)


# -- dataclasses ---------------------------------------------------------------------------------
@dataclass
class MsPrice:
    amount: Decimal | None
    currency_id: str = ""
    currency_href: str = ""
    price_type_id: str = ""
    price_type_name: str = ""
    price_type_href: str = ""
    price_type_external_code: str = ""


@dataclass
class MsProduct:
    """A product or a variant (``kind``), from ``entity/product``, ``entity/variant`` or
    ``entity/assortment``."""

    id: str
    kind: str
    href: str = ""
    name: str = ""
    code: str = ""
    article: str = ""
    external_code: str = ""
    description: str = ""
    archived: bool = False
    updated: datetime | None = None
    sync_id: str = ""
    uom_id: str = ""
    folder_id: str = ""
    path_name: str = ""
    supplier_id: str = ""
    country_id: str = ""
    barcodes: list = field(default_factory=list)  # [(kind, value)], kind ean13/ean8/code128/gtin
    sale_prices: list = field(default_factory=list)  # [MsPrice]
    buy_price: MsPrice | None = None
    min_price: MsPrice | None = None
    weight: Decimal | None = None
    volume: Decimal | None = None
    vat: int | None = None
    vat_enabled: bool | None = None
    images_count: int = 0
    variants_count: int = 0
    parent_id: str = ""  # a variant's product
    characteristics: list = field(default_factory=list)  # [(name, value)]

    def sale_price(self, price_type_id):
        return next((p for p in self.sale_prices if p.price_type_id == price_type_id), None)


@dataclass
class MsSkipped:
    """A row a list returned that is not what the caller asked for, and why."""

    id: str
    kind: str
    name: str
    reason: str


@dataclass
class MsPage:
    """One page of a list: parsed ``items``, ``skipped`` rows, and where it sits."""

    items: list
    skipped: list
    offset: int
    limit: int
    size: int | None
    next_href: str = ""

    @property
    def rows_count(self):
        return len(self.items) + len(self.skipped)


@dataclass
class MsStockRow:
    """One row of a short stock report: ``quantity`` of ``stock_type`` (None while MoySklad
    recalculates it); ``store_id`` '' for the all-stores report and for reserves without a
    store."""

    assortment_id: str
    store_id: str
    quantity: Decimal | None
    stock_type: str


@dataclass
class MsStockReport:
    rows: list
    stock_type: str
    by_store: bool
    changed_since: datetime | None  # naive UTC actually sent; None for a full report
    full: bool  # True: every row with stock (not only changes)
    skipped: int = 0


# -- parsers ---------------------------------------------------------------------------------
def parse_price(data, *, with_type=False):
    if not isinstance(data, dict) or not data:
        return None
    currency = data.get("currency")
    currency_href = _meta_href(currency)
    price = MsPrice(
        amount=_kopecks(data.get("value")),
        currency_id=_ref(currency, currency_href),
        currency_href=currency_href,
    )
    if with_type:
        price_type = data.get("priceType")
        if isinstance(price_type, dict):
            price.price_type_href = _meta_href(price_type)
            price.price_type_id = _ref(price_type, price.price_type_href)
            price.price_type_name = text(price_type.get("name"))
            price.price_type_external_code = text(price_type.get("externalCode"))
    return price


def parse_barcodes(values):
    barcodes = []
    for item in values if isinstance(values, list) else ():
        for kind, value in _dict(item).items():
            if text(value):
                barcodes.append((kind, text(value)))
    return barcodes


# A page holds 1,000 rows of about fifty fields: the row parsers below read each field once,
# without the small readers' calls (measured: 82 ms → see ``parse_product``), for the same
# values. ``_meta_href`` / ``_ref`` are ``href_of`` / ``ref_id`` of a reference.
def _meta_href(obj):
    if not isinstance(obj, dict):
        return ""
    meta = obj.get("meta")
    if not isinstance(meta, dict):
        return ""
    href = meta.get("href")
    return href.strip() if isinstance(href, str) else ""


def _ref(obj, href=None):
    """``ref_id(obj)``; ``href``: its ``_meta_href`` when the caller has it already."""
    if not isinstance(obj, dict):
        return ""
    value = obj.get("id")
    if isinstance(value, str):
        value = value.strip()
        if value:
            return value
    if href is None:
        href = _meta_href(obj)
    if not href:
        return ""
    return href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _kopecks(value):
    """``from_kopecks``, with whole numbers (MoySklad's usual ``10037`` or ``1500.0``) exact
    without a round trip through text."""
    kind = type(value)
    if kind is int:
        return Decimal(value).scaleb(-2) + 0
    if kind is float and value.is_integer():
        return Decimal(int(value)).scaleb(-2) + 0
    return from_kopecks(value)


_MOSCOW_OFFSET = timedelta(hours=3)  # Moscow is UTC+3 all year (``moysklad_query.MOSCOW``)


def _moscow(value):
    """``parse_moscow(value)``; MoySklad's usual ``YYYY-MM-DD HH:MM:SS.mmm`` read by
    ``datetime.fromisoformat`` (a fifth of the time), anything else by ``parse_moscow``."""
    if (type(value) is str and len(value) == 23 and value[10] == " " and value[19] == "."
            and value[4] == value[7] == "-" and value[13] == value[16] == ":"
            and value.isascii() and value[20:].isdigit()):  # fmt: skip
        try:
            return datetime.fromisoformat(value) - _MOSCOW_OFFSET
        except (ValueError, OverflowError):
            return parse_moscow(value)  # the slow reader says what is wrong with it
    return parse_moscow(value)


def parse_product(row):
    """MsProduct for a product/variant row; None when the row has no id or another type."""
    if not isinstance(row, dict):
        return None
    get = row.get
    meta = get("meta")
    if isinstance(meta, dict):
        href = meta.get("href")
        href = href.strip() if isinstance(href, str) else ""
        kind = meta.get("type")
        kind = (kind.strip() if isinstance(kind, str) else "") or "product"
    else:
        href, kind = "", "product"
    product_id = _ref(row, href)
    if not product_id or kind not in PRODUCT_TYPES:
        return None
    characteristics = get("characteristics")
    characteristics = [
        (text(item.get("name")), text(str(item.get("value", ""))))
        for item in characteristics or ()
        if isinstance(item, dict)
    ] if characteristics else []
    sale_prices = get("salePrices")
    sale_prices = [
        price
        for price in (parse_price(item, with_type=True) for item in sale_prices)
        if price is not None
    ] if sale_prices else []
    images = get("images")
    vat_enabled = get("vatEnabled")
    return MsProduct(
        id=product_id,
        kind=kind,
        href=href,
        name=text(get("name")),
        code=text(get("code")),
        article=text(get("article")),
        external_code=text(get("externalCode")),
        description=text(get("description")),
        archived=get("archived") is True,
        updated=_moscow(get("updated")),
        sync_id=text(get("syncId")),
        uom_id=_ref(get("uom")),
        folder_id=_ref(get("productFolder")),
        path_name=text(get("pathName")),
        supplier_id=_ref(get("supplier")),
        country_id=_ref(get("country")),
        barcodes=parse_barcodes(get("barcodes")),
        sale_prices=sale_prices,
        buy_price=parse_price(get("buyPrice")),
        min_price=parse_price(get("minPrice")),
        weight=_number(get("weight")),
        volume=_number(get("volume")),
        vat=_int(get("vat")),
        vat_enabled=vat_enabled if isinstance(vat_enabled, bool) else None,
        images_count=collection_size(images) if images else 0,
        variants_count=_int(get("variantsCount")) or 0,
        parent_id=_ref(get("product")),
        characteristics=characteristics,
    )


def skipped_row(row, reason=None):
    row = _dict(row)
    kind = type_of(row) or "?"
    if reason is None:
        if not ref_id(row):
            reason = "malformed row without an id"
        else:
            reason = f"a {kind}, not a product or variant"
    return MsSkipped(id=ref_id(row), kind=kind, name=text(row.get("name")), reason=reason)


def parse_stock_rows(document, stock_type):
    """``(rows, skipped)`` of a short stock report (a plain array); a row without an
    assortment id is skipped. BadResponse is the caller's when ``document`` is no list."""
    rows, skipped = [], 0
    for item in document:
        item = _dict(item)
        assortment_id = text(item.get("assortmentId"))
        if not assortment_id:
            skipped += 1
            continue
        value = item.get(stock_type)
        quantity = _number(value)
        if value is not None and quantity is None:
            skipped += 1
            continue
        rows.append(MsStockRow(assortment_id=assortment_id, store_id=text(item.get("storeId")),
                               quantity=quantity, stock_type=stock_type))  # fmt: skip
    return rows, skipped
