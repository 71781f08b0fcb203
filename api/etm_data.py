"""ETM iPro answers as plain dataclasses, and the parsers that build them from the JSON.

ETM mixes numbers and strings freely ("gdscode": 9536092 vs "1037375", "StoreQuantRem": "77",
"gdsPrice1": Cyrillic "XXX" for a hidden price), so every value goes through a tolerant converter:
codes become str, prices float or None, never an exception for one odd field.

Also here: the SgGds file read item by item from disk (``parse_catalogue_file``). Which codes can
be sent and which row belongs to which code: ``etm_codes``.
"""

import contextlib
import io
import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from .errors import BadResponse
from .etm_codes import (  # noqa: F401 - re-exported: the codes' rules used to live here
    CODE_PROBLEMS,
    CODE_TYPES,
    MAX_CODE_LENGTH,
    MAX_ETM_CODE_DIGITS,
    etm_code_problem,
    etm_code_problem_key,
    etm_key,
    match_price_rows,
    normalize_code,
    shown_code,
    text,
)

_logger = logging.getLogger(__name__)



@dataclass
class EtmPrice:
    code: str
    price: float | None = None
    price_with_vat: float | None = None
    price_tariff: float | None = None
    price_retail: float | None = None


@dataclass
class EtmStore:
    code: str
    type: str
    name: str
    date: date | None
    quantity: float


@dataclass
class EtmRemains:
    code: str
    unit: str
    request_store_name: str
    stores: list[EtmStore]
    delivery_label: str
    delivery_days: int | None


@dataclass
class EtmGoods:
    code: str
    name: str
    name_in_mnf: str
    manufacturer: str
    manufacturer_code: str
    article: str
    ext_article: str
    unit: str
    country: str
    classification: str
    characteristics: list[tuple[str, str]]
    description: str
    image_urls: list[str]
    certificate: str
    min_pack: float | None
    raw: dict
    # ETM's own code from the card: when asked by client code or article, this is the id to keep.
    etm_code: str = ""


@dataclass
class EtmManufacturer:
    id: str
    code: str
    name: str


@dataclass
class EtmJob:
    uuid: str
    state: str
    message: str
    urls: list[str] = field(default_factory=list)


@dataclass
class EtmCatalogueItem:
    etm_code: str
    name: str
    brand: str
    article: str
    brand_code: str
    cli_code: str
    class_name: str


# -- tolerant converters -----------------------------------------------------------------------
def to_float(value):
    """679.51, "679.51", "1 288,16" → float; hidden ("XXX"), "", None, NaN → None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.replace("\xa0", "").replace(" ", "").replace(",", ".")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def to_int(value):
    number = to_float(value)
    return int(number) if number is not None else None


def to_date(value):
    """The doc's dd/mm/YYYY; the job list's dd/mm/yy; ISO as a courtesy. None when unreadable."""
    value = text(value)
    for pattern in ("%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _require_dict(data, what):
    if not isinstance(data, dict):
        raise BadResponse(f"Expected an object in the ETM iPro {what} answer")
    return data


def _dicts(rows):
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


PRICE_KEYS = frozenset({"gdscode", "price", "pricewnds", "price_tarif", "price_retail"})


# -- parsers ------------------------------------------------------------------------------------
def price_rows(data):
    """The three shapes seen: one object (doc), a list of rows, or {"rows": [...]} (field notes)."""
    if not data:
        return []
    if isinstance(data, list):
        return _dicts(data)
    if isinstance(data, dict):
        if isinstance(data.get("rows"), list):
            return _dicts(data["rows"])
        if PRICE_KEYS & data.keys():
            return [data]
    raise BadResponse("Expected price rows in the ETM iPro price answer")


def parse_price(code, row):
    return EtmPrice(
        code=code,
        price=to_float(row.get("price")),
        price_with_vat=to_float(row.get("pricewnds")),
        price_tariff=to_float(row.get("price_tarif")),
        price_retail=to_float(row.get("price_retail")),
    )


def parse_store(row):
    quantity = to_float(row.get("StoreQuantRem"))
    return EtmStore(
        code=text(row.get("StoreCode")),
        type=text(row.get("StoreType")),  # rc/crs/op per the doc; rc2sum, all... kept as given
        name=text(row.get("StoreName")),
        date=to_date(row.get("StoreDate")),
        quantity=quantity if quantity is not None else 0.0,
    )


def parse_remains(code, data):
    data = _require_dict(data, "remains")
    delivery = data.get("InforDeliveryTime")
    delivery = delivery if isinstance(delivery, dict) else {}
    return EtmRemains(
        code=code,
        unit=text(data.get("UnitName")),
        request_store_name=text(data.get("RequestStoreName")),
        stores=[parse_store(row) for row in _dicts(data.get("InfoStores"))],
        delivery_label=text(delivery.get("DeliveryLabelInPres")),
        delivery_days=to_int(delivery.get("DeliveryTimeInPres")),
    )


def image_urls(images):
    """The full picture (gdsImgRef) when given, else the thumbnail; duplicates dropped."""
    urls = []
    for image in _dicts(images):
        url = text(image.get("gdsImgRef")) or text(image.get("gdsImgSrc"))
        if url and url not in urls:
            urls.append(url)
    return urls


def parse_goods(code, data):
    data = _require_dict(data, "goods")
    return EtmGoods(
        code=code,
        name=text(data.get("gdsNameTitle")),
        name_in_mnf=text(data.get("gdsNameInMnf")),
        manufacturer=text(data.get("gdsMnfName")),
        manufacturer_code=text(data.get("gdsMnfCode")),
        article=text(data.get("gdsArt")),
        ext_article=text(data.get("gdsExtArt")),
        unit=text(data.get("gdsUnitName")),
        country=text(data.get("gdsNameCountry")),
        classification=text(data.get("gdsInfoClass81")),
        characteristics=[
            (text(row.get("gdsCharName")), text(row.get("gdsCharVal")))
            for row in _dicts(data.get("gdsChars"))
        ],
        description=text(data.get("description")),
        image_urls=image_urls(data.get("gdsImages")),
        certificate=text(data.get("gdsSertifName")),
        min_pack=to_float(data.get("minPack")),
        raw=data,
        etm_code=text(data.get("gdsCode")),
    )


def parse_manufacturers(data):
    data = _require_dict(data, "manufacturers")
    return [
        EtmManufacturer(
            id=text(row.get("id")), code=text(row.get("value")), name=text(row.get("label"))
        )
        for row in _dicts(data.get("rows"))
    ]


def parse_job(uuid, data):
    data = _require_dict(data, "job")
    rows = _dicts(data.get("rows"))
    if not rows:
        return None
    row = rows[0]
    urls = row.get("urls")
    return EtmJob(
        uuid=uuid,
        state=text(row.get("state")),
        message=text(row.get("msg")),
        urls=[text(url) for url in urls if text(url)] if isinstance(urls, list) else [],
    )


def catalogue_item(row):
    """One SgGds line; None for a line without an id (or not an object)."""
    if not isinstance(row, dict) or not text(row.get("id")):
        return None
    return EtmCatalogueItem(
        etm_code=text(row.get("id")),
        name=text(row.get("name")),
        brand=text(row.get("brand")),
        article=text(row.get("article")),
        brand_code=text(row.get("brand_code")),
        cli_code=text(row.get("cli_code")),
        class_name=text(row.get("class")),
    )


def parse_catalogue(document):
    """A list of items, or the same list under "rows" or "data"; items without an id are skipped."""
    rows = document
    if isinstance(document, dict):
        rows = document.get("rows", document.get("data"))
    if not isinstance(rows, list):
        raise BadResponse("Expected a list of items in the ETM iPro catalogue file")
    return [item for item in map(catalogue_item, rows) if item is not None]


def parse_catalogue_file(binary_file):
    """``parse_catalogue`` of the SgGds file on disk (UTF-8, BOM or not). A top-level list (the
    file as ETM writes it) is decoded one item at a time, so the file's text is never held
    whole; other shapes are read whole."""
    reader = io.TextIOWrapper(binary_file, encoding="utf-8-sig")
    # The decode error quotes the file: say less, outside the except block.
    try:
        with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
            return _catalogue_items(_JsonStream(reader))
    finally:
        reader.detach()  # the caller owns (and closes) the file
    raise BadResponse("Expected a JSON catalogue file from ETM iPro, got malformed JSON")


def _catalogue_items(stream):
    if stream.peek() != "[":
        return parse_catalogue(json.loads(stream.rest()))
    stream.take()
    items = []
    char = stream.peek()
    while char != "]":
        item = catalogue_item(stream.value())
        if item is not None:
            items.append(item)
        char = stream.peek()
        if char not in (",", "]"):
            raise ValueError("expected ',' or ']' in the catalogue list")
        if char == ",":
            stream.take()
            char = ""  # a value must follow a comma
    stream.take()
    if stream.peek():
        raise ValueError("data after the catalogue list")
    return items


class _JsonStream:
    """JSON values read one at a time from a text file, through a window that slides on."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    CHUNK = 1 << 16

    def __init__(self, reader):
        self.reader = reader
        self.decoder = json.JSONDecoder()
        self.buffer, self.pos, self.eof = "", 0, False

    def _fill(self):
        """Read more (as much again as the window holds, so one long value costs n log n)."""
        data = "" if self.eof else self.reader.read(max(self.CHUNK, len(self.buffer) - self.pos))
        if not data:
            self.eof = True
            return False
        self.buffer, self.pos = self.buffer[self.pos :] + data, 0
        return True

    def peek(self):
        """The next character that is not white space; '' at the end."""
        while True:
            self.pos = self._SPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def take(self):
        self.pos += 1

    def value(self):
        if not self.peek():
            raise ValueError("a value is missing")
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError:
                if self._fill():
                    continue
                raise
            # A number at the window's edge may go on in the next read: decode it again then.
            if end < len(self.buffer) or not self._fill():
                self.pos = end
                return value

    def rest(self):
        return self.buffer[self.pos :] + self.reader.read()
