"""Shate-M Plus articles, pictures and price offers as plain dataclasses, and their parsers.

Articles come as a card ({"article", "tradeMark", "contents", "extendedInfo"}) or bare (nested in
cart and order items); offers as a flat list or grouped under their article (with_article_info).
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime

from .etm_data import text, to_float, to_int
from .shate_convert import as_dict, dict_rows, get_value, rows_of, to_bool, to_datetime
from .shate_reference_data import ShateTrademark, parse_trademark

# Values of ``include`` for the article endpoints (the document's spelling).
INCLUDE_CONTENTS = "contents"
INCLUDE_EXTENDED_INFO = "extended_info"
INCLUDE_TRADEMARK = "trademark"
INCLUDE_OPTIONS = (INCLUDE_CONTENTS, INCLUDE_EXTENDED_INFO, INCLUDE_TRADEMARK)


# -- dataclasses: articles ---------------------------------------------------------------------
@dataclass
class ShateContentRef:
    """A picture of an article; its ``content_id`` is what ``search_content`` resolves."""

    content_id: str
    content_type: str = ""
    sort_order: int | None = None


@dataclass
class ShateOriginal:
    """Original (OE) numbers of one car maker."""

    article_codes: list[str]
    trade_mark_name: str = ""


@dataclass
class ShateVehicle:
    """One applicability row, flattened from make → model → modification."""

    make: str
    model: str = ""
    modification: str = ""
    engine_code: str = ""
    begin: str = ""  # "199403": year and month as the service gives them
    end: str = ""
    kw: str = ""
    hp: str = ""
    cylinders: str = ""
    volume: str = ""


@dataclass
class ShateExtendedInfo:
    description: str = ""
    originals: list[ShateOriginal] = field(default_factory=list)
    characteristics: list[tuple[str, str]] = field(default_factory=list)
    applicability: list[ShateVehicle] = field(default_factory=list)


@dataclass
class ShateArticle:
    """An article card. ``trademark``, ``contents`` and ``extended_info`` are filled only when
    asked with ``include`` (and the service drops contents/extended_info when more than one
    article is answered)."""

    id: int | None
    code: str
    trade_mark_name: str
    name: str = ""
    description: str = ""
    unit_of_measure: str = ""
    trademark: ShateTrademark | None = None
    contents: list[ShateContentRef] = field(default_factory=list)
    extended_info: ShateExtendedInfo | None = None


@dataclass
class ShateContent:
    """A resolved picture: ``value`` is a ``data:`` URI (as in the document) or a link."""

    content_id: str
    value: str

    @property
    def is_data_uri(self):
        return self.value[:5].lower() == "data:"

    @property
    def mime_type(self):
        match = _DATA_URI.match(self.value)
        return (match.group("mime") or "text/plain") if match else ""

    @property
    def data(self):
        """The decoded bytes of a ``data:`` URI; None for links and malformed URIs."""
        match = _DATA_URI.match(self.value)
        if not match:
            return None
        payload = match.group("payload")
        if not match.group("base64"):
            return payload.encode()
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            return None

    @property
    def url(self):
        return "" if self.is_data_uri else self.value


_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*?(?P<base64>;base64)?,(?P<payload>.*)$",
    re.S | re.I,
)


# -- dataclasses: prices -----------------------------------------------------------------------
@dataclass
class ShateOffer:
    """One price offer (prices/search). ``price_id`` is what orders and the cart take.

    ``quantity``/``quantity_type`` are the stock the offer shows ("Equal" 5, "MoreThan" 100…).
    ``delivery_date`` is the date for the delivery address asked (else the first one given);
    ``delivery_days`` is computed from it (or from ``shipping_date`` for pickups) against the
    client's clock: calendar-independent, rounded up, never negative. ``location_name`` comes from
    the locations directory when the client has loaded it (``get_locations``), else ''.
    ``is_analog``: the offer is for another article than the one asked (``requested_article_id``).
    """

    price_id: str
    article_id: int | None
    requested_article_id: int | None
    location_code: str
    location_code_real: str = ""
    location_name: str = ""
    agreement_code: str = ""
    offer_type: str = ""
    price: float | None = None
    price_with_margin: float | None = None
    price_recommended: float | None = None
    currency_code: str = ""
    price_max: float | None = None
    import_allowance: float | None = None
    quantity: float | None = None
    quantity_type: str = ""
    multiplicity: float | None = None
    min_quantity: float | None = None
    max_quantity: float | None = None
    supply_probability: float | None = None
    supply_probability_updated_at: datetime | None = None
    city: str = ""
    is_sale: bool | None = None
    comment: str = ""
    return_allowed: bool | None = None
    warning_text: str = ""
    priority: int | None = None
    hash: str = ""
    delivery_dates: dict[str, datetime] = field(default_factory=dict)
    delivery_date: datetime | None = None
    shipping_date: datetime | None = None
    delivery_days: int | None = None
    is_import: bool | None = None
    is_free: bool | None = None
    is_analog: bool = False


# -- parsers: articles -------------------------------------------------------------------------
def _parse_article_core(row):
    return ShateArticle(
        id=to_int(get_value(row, "id")),
        code=text(get_value(row, "code")),
        trade_mark_name=text(get_value(row, "tradeMarkName")),
        name=text(get_value(row, "name")),
        description=text(get_value(row, "description")),
        unit_of_measure=text(get_value(row, "unitOfMeasure")),
    )


def _parse_vehicles(makes):
    vehicles = []
    for make in dict_rows(makes):
        make_name = text(get_value(make, "name"))
        models = dict_rows(get_value(make, "models"))
        if not models:
            vehicles.append(ShateVehicle(make=make_name))
        for model in models:
            model_name = text(get_value(model, "name"))
            modifications = dict_rows(get_value(model, "modifications"))
            if not modifications:
                vehicles.append(ShateVehicle(make=make_name, model=model_name))
            for mod in modifications:
                vehicles.append(
                    ShateVehicle(
                        make=make_name,
                        model=model_name,
                        modification=text(get_value(mod, "name")),
                        engine_code=text(get_value(mod, "mnEngineCode")),
                        begin=text(get_value(mod, "beginDate")),
                        end=text(get_value(mod, "endDate")),
                        kw=text(get_value(mod, "kWt", "kw")),
                        hp=text(get_value(mod, "hPower", "hp")),
                        cylinders=text(get_value(mod, "cylinders")),
                        volume=text(get_value(mod, "vol")),
                    )
                )
    return vehicles


def parse_extended_info(row):
    originals = []
    for original in dict_rows(get_value(row, "originals")):
        codes = get_value(original, "articleCodes", "articleCode")
        codes = codes if isinstance(codes, list) else [codes]
        originals.append(
            ShateOriginal(
                article_codes=[text(code) for code in codes if text(code)],
                trade_mark_name=text(get_value(original, "tradeMarkName")),
            )
        )
    characteristics = [
        (text(get_value(item, "key", "name")), text(get_value(item, "value")))
        for item in dict_rows(get_value(row, "characteristics", "properties"))
    ]
    return ShateExtendedInfo(
        description=text(get_value(row, "extendedDescription", "description")),
        originals=originals,
        characteristics=characteristics,
        applicability=_parse_vehicles(get_value(row, "applicability")),
    )


def parse_article(row):
    """An article card: {"article": {...}, "tradeMark", "contents", "extendedInfo"}, or a bare
    article object (as nested in cart and order items)."""
    row = as_dict(row)
    core = get_value(row, "article")
    article = _parse_article_core(core if isinstance(core, dict) else row)
    trademark = get_value(row, "tradeMark")
    if isinstance(trademark, dict):
        article.trademark = parse_trademark(trademark)
    article.contents = [
        ShateContentRef(
            content_id=text(get_value(item, "contentId")),
            content_type=text(get_value(item, "contentType")),
            sort_order=to_int(get_value(item, "sortOrder")),
        )
        for item in dict_rows(get_value(row, "contents"))
        if text(get_value(item, "contentId"))
    ]
    article.contents.sort(key=lambda item: (item.sort_order is None, item.sort_order or 0))
    extended = get_value(row, "extendedInfo", "extended_info")
    if isinstance(extended, dict):
        article.extended_info = parse_extended_info(extended)
    return article


def parse_contents(document):
    return [
        ShateContent(
            content_id=text(get_value(row, "id", "contentId")), value=text(get_value(row, "value"))
        )
        for row in rows_of(document, "contents")
        if text(get_value(row, "value"))
    ]


# -- parsers: prices ---------------------------------------------------------------------------
def offer_rows(document):
    """prices/search answers a flat list of offers; with_article_info groups them under
    {"article", "prices"}: both are flattened to offer rows."""
    rows = []
    for row in rows_of(document, "prices"):
        grouped = get_value(row, "prices")
        if isinstance(grouped, list):
            rows.extend(dict_rows(grouped))
        else:
            rows.append(row)
    return rows


def _days_until(moment, now):
    if moment is None or now is None:
        return None
    seconds = (moment - now).total_seconds()
    return max(0, -int(-seconds // 86400))  # rounded up


def parse_offer(row, *, requested_article_id=None, delivery_address_code=None, now=None,
                location_names=None):  # fmt: skip
    price = as_dict(get_value(row, "price"))
    quantity = as_dict(get_value(row, "quantity"))
    probability = as_dict(get_value(row, "supplyProbability"))
    info = as_dict(get_value(row, "addInfo"))
    delivery_dates = {}
    for item in dict_rows(get_value(row, "deliveryDateTimes")):
        moment = to_datetime(get_value(item, "deliveryDateTime"))
        if moment is not None:
            delivery_dates.setdefault(text(get_value(item, "deliveryAddressCode")), moment)
    wanted = text(delivery_address_code)
    delivery_date = delivery_dates.get(wanted) if wanted else None
    if delivery_date is None and delivery_dates:
        delivery_date = next(iter(delivery_dates.values()))
    shipping_date = to_datetime(get_value(row, "shippingDateTime"))
    article_id = to_int(get_value(row, "articleId"))
    location_code = text(get_value(row, "locationCode"))
    return ShateOffer(
        price_id=text(get_value(row, "id", "priceId")),
        article_id=article_id,
        requested_article_id=requested_article_id,
        location_code=location_code,
        location_code_real=text(get_value(row, "locationCodeReal")),
        location_name=(location_names or {}).get(location_code, ""),
        agreement_code=text(get_value(row, "agreementCode")),
        offer_type=text(get_value(row, "type")),
        price=to_float(get_value(price, "value")),
        price_with_margin=to_float(get_value(price, "valueWithMargin")),
        price_recommended=to_float(get_value(price, "valueRecommended")),
        currency_code=text(get_value(price, "currencyCode")),
        price_max=to_float(get_value(price, "priceMax")),
        import_allowance=to_float(get_value(price, "importAllowance")),
        quantity=to_float(get_value(quantity, "available")),
        quantity_type=text(get_value(quantity, "availableType")),
        multiplicity=to_float(get_value(quantity, "multiplicity")),
        min_quantity=to_float(get_value(quantity, "minimum")),
        max_quantity=to_float(get_value(quantity, "maximum")),
        supply_probability=to_float(get_value(probability, "rating")),
        supply_probability_updated_at=to_datetime(get_value(probability, "lastUpdateDateTime")),
        city=text(get_value(info, "city")),
        is_sale=to_bool(get_value(info, "isSale")),
        comment=text(get_value(info, "comment")),
        return_allowed=to_bool(get_value(info, "isReturnAllowed")),
        warning_text=text(get_value(info, "warningText")),
        priority=to_int(get_value(row, "priority")),
        hash=text(get_value(row, "hash")),
        delivery_dates=delivery_dates,
        delivery_date=delivery_date,
        shipping_date=shipping_date,
        delivery_days=_days_until(delivery_date or shipping_date, now),
        is_import=to_bool(get_value(row, "isImport")),
        is_free=to_bool(get_value(row, "isFree")),
        is_analog=(
            requested_article_id is not None
            and article_id is not None
            and article_id != requested_article_id
        ),
    )
