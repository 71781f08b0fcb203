"""Shate-M Plus answers as plain dataclasses, and the tolerant parsers that build them.

Every value goes through a converter that never raises for one odd field: ids and codes become
str (article and order ids int), money float, flags bool or None when absent, dates naive UTC
``datetime``. The document's examples are camelCase; keys are read case-insensitively anyway, and
the document's own typos are accepted (``"сanReturn"`` with a Cyrillic "с").
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from .errors import BadResponse
from .etm_data import text, to_float, to_int

UTC = timezone.utc  # noqa: UP017 - datetime.UTC needs Python 3.11; Odoo 18 runs on 3.10

# Values of ``include`` for the article endpoints (the document's spelling).
INCLUDE_CONTENTS = "contents"
INCLUDE_EXTENDED_INFO = "extended_info"
INCLUDE_TRADEMARK = "trademark"
INCLUDE_OPTIONS = (INCLUDE_CONTENTS, INCLUDE_EXTENDED_INFO, INCLUDE_TRADEMARK)

# deliveryInfo.deliveryType: "Many Delivery" / "One Delivery" in the document (enum names).
DELIVERY_MANY = "ManyDelivery"
DELIVERY_ONE = "OneDelivery"


# -- dataclasses: reference data ---------------------------------------------------------------
@dataclass
class ShateCustomer:
    login: str
    code: str
    name: str
    phone: str = ""
    email: str = ""
    default_delivery_address_code: str = ""


@dataclass
class ShateAgreement:
    code: str
    group: str  # agreementGroup: "НАЛ", "ЭКВАИР", "МАГ" need fio and phone on orders
    description: str = ""
    location_code: str = ""
    currency_code: str = ""
    is_active: bool | None = None
    pickup_enabled: bool | None = None
    delivery_enabled: bool | None = None


@dataclass
class ShateDeliveryAddress:
    code: str
    city: str = ""
    address: str = ""
    delivery_zone_code: str = ""


@dataclass
class ShateLocation:
    code: str
    name: str = ""
    city: str = ""


@dataclass
class ShateStatusCode:
    code: int | None
    name: str = ""
    description: str = ""
    is_final: bool | None = None


@dataclass
class ShateTrademark:
    name: str
    country: str = ""
    description: str = ""
    url: str = ""
    catalog_url: str = ""
    extended_warranty: bool | None = None


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


# -- dataclasses: cart and orders --------------------------------------------------------------
@dataclass
class ShateCartItem:
    """A cart line. ``quantity`` is the quantity in the cart; ``available``/``available_type``
    the stock of its offer."""

    id: int | None
    location_code: str
    location_code_real: str = ""
    agreement_code: str = ""
    article: ShateArticle | None = None
    price: float | None = None
    price_with_margin: float | None = None
    price_type: str = ""
    price_max: float | None = None
    import_allowance: float | None = None
    currency_code: str = ""
    quantity: float | None = None
    available: float | None = None
    available_type: str = ""
    multiplicity: float | None = None
    min_quantity: float | None = None
    max_quantity: float | None = None
    city: str = ""
    is_sale: bool | None = None
    info_comment: str = ""  # addInfo.comment: the offer's remark ("Царапины справа")
    return_allowed: bool | None = None
    warning_text: str = ""
    created_at: datetime | None = None
    comment: str = ""  # the customer's own comment on the line
    delivery_date: datetime | None = None
    shipping_date: datetime | None = None
    hash: str = ""
    is_import: bool | None = None
    is_free: bool | None = None


@dataclass
class ShateOrderLine:
    """One line to order by price offer (input of ``order_by_price_items``)."""

    price_id: str
    quantity: float
    comment: str = ""


@dataclass
class ShateOrderItem:
    id: int | None
    article: ShateArticle | None
    quantity: float | None = None
    quantity_to_ship: float | None = None  # reserved at the warehouse for the customer
    quantity_shipped: float | None = None
    delivery_date: datetime | None = None
    price: float | None = None
    total_sum: float | None = None
    status_code: int | None = None
    comment: str = ""
    can_return: bool | None = None
    warnings: list[str] = field(default_factory=list)
    order_id: int | None = None


@dataclass
class ShateOrder:
    """An order; ``id`` is the order number the service shows."""

    id: int | None
    created_at: datetime | None = None
    delivery_address_code: str = ""
    agreement_code: str = ""
    currency_code: str = ""
    total_sum: float | None = None
    comment: str = ""
    note: str = ""
    items: list[ShateOrderItem] = field(default_factory=list)


@dataclass
class ShatePriceCurrent:
    """What an offer looks like now, as an order refusal reports it (priceItemErrors.current)."""

    price: float | None = None
    price_with_margin: float | None = None
    available: float | None = None
    available_type: str = ""
    multiplicity: float | None = None
    min_quantity: float | None = None
    max_quantity: float | None = None
    delivery_date: datetime | None = None
    shipping_date: datetime | None = None


@dataclass
class ShatePriceItemError:
    """A refused order line: its ``price_id`` and the messages (codes 1xx per the document)."""

    price_id: str
    hash: str = ""
    errors: list[str] = field(default_factory=list)
    current: ShatePriceCurrent | None = None


@dataclass
class ShateOrderResult:
    """The outcome of an order request whose answer came back.

    ``created`` is True when at least one order came back. Otherwise the service refused the
    request (nothing was created): ``errors``, ``error_code``, ``error_descriptions`` and
    ``price_item_errors`` say why. ``warnings`` gathers the answer's and every line's warnings
    (price lowered within the allowed deviation: see ``price_change``). ``status`` is the HTTP one.
    """

    orders: list[ShateOrder] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_code: str = ""
    error_descriptions: dict[str, str] = field(default_factory=dict)
    price_item_errors: list[ShatePriceItemError] = field(default_factory=list)
    status: int | None = None

    @property
    def created(self):
        return bool(self.orders)

    @property
    def items(self):
        return [item for order in self.orders for item in order.items]


@dataclass
class ShateStatusChange:
    status_code: int | None
    changed_at: datetime | None


# -- tolerant converters -----------------------------------------------------------------------
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
    re.I,
)


def to_datetime(value):
    """ISO 8601 as .NET writes it ("…T09:22:08.260Z", 7 fraction digits, offsets, bare dates)
    → naive UTC datetime; times without an offset are taken as UTC. None when unreadable."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    match = _ISO.match(text(value))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )  # fmt: skip
    except ValueError:
        return None
    if offset and offset.upper() != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def to_bool(value):
    """true/false, "true"/"false", 1/0 → bool; anything else (null, absent) → None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    lowered = text(value).lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None


def format_datetime(value):
    """A date or datetime (naive = UTC) or ISO string for the service: 'YYYY-MM-DDTHH:MM:SS'."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_datetime(value).replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return text(value)


def _get(row, *names):
    """The first present key of ``row`` among ``names``, compared case-insensitively."""
    if not isinstance(row, dict):
        return None
    for name in names:
        if name in row:
            return row[name]
    folded = {str(key).casefold(): value for key, value in row.items()}
    for name in names:
        value = folded.get(name.casefold())
        if value is not None:
            return value
    return None


def _dict(value):
    return value if isinstance(value, dict) else {}


def _dicts(rows):
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _strings(values):
    """A list of messages: strings, or objects with a ``message`` (the tables say Message)."""
    if isinstance(values, (str, dict)):
        values = [values]
    messages = []
    for value in values if isinstance(values, list) else []:
        message = (
            text(_get(value, "message", "description")) if isinstance(value, dict) else text(value)
        )
        if message:
            messages.append(message)
    return messages


def rows_of(document, what):
    """The list a list endpoint answers; a single object counts as a one-item list; a wrapper
    object ({"items": [...]}, {"data": [...]}) is unwrapped."""
    if document is None:
        return []
    if isinstance(document, list):
        return _dicts(document)
    if isinstance(document, dict):
        for key in ("items", "data", "results", "rows"):
            if isinstance(document.get(key), list):
                return _dicts(document[key])
        return [document]
    raise BadResponse(f"Expected a list in the Shate-M {what} answer")


def normalize_key(value):
    """Article codes and brands compared without case, spaces or punctuation ("OC 100" = "oc100")."""
    return re.sub(r"[\W_]+", "", text(value).casefold())


# -- parsers: reference data -------------------------------------------------------------------
def parse_customer(row):
    return ShateCustomer(
        login=text(_get(row, "login")),
        code=text(_get(row, "code")),
        name=text(_get(row, "name")),
        phone=text(_get(row, "phone")),
        email=text(_get(row, "email")),
        default_delivery_address_code=text(_get(row, "defaultDeliveryAddressCode")),
    )


def parse_agreement(row):
    return ShateAgreement(
        code=text(_get(row, "code")),
        group=text(_get(row, "agreementGroup")),
        description=text(_get(row, "description")),
        location_code=text(_get(row, "locationCode")),
        currency_code=text(_get(row, "currencyCode")),
        is_active=to_bool(_get(row, "isActive")),
        pickup_enabled=to_bool(_get(row, "isEnabledPickup")),
        delivery_enabled=to_bool(_get(row, "isEnabledDelivery")),
    )


def parse_delivery_address(row):
    return ShateDeliveryAddress(
        code=text(_get(row, "code")),
        city=text(_get(row, "city")),
        address=text(_get(row, "address")),
        delivery_zone_code=text(_get(row, "deliveryZoneCode")),
    )


def parse_location(row):
    return ShateLocation(
        code=text(_get(row, "code")), name=text(_get(row, "name")), city=text(_get(row, "city"))
    )


def parse_status_code(row):
    return ShateStatusCode(
        code=to_int(_get(row, "code")),
        name=text(_get(row, "name")),
        description=text(_get(row, "description")),
        is_final=to_bool(_get(row, "isFinal")),
    )


def parse_trademark(row):
    return ShateTrademark(
        name=text(_get(row, "name")),
        country=text(_get(row, "country")),
        description=text(_get(row, "description")),
        url=text(_get(row, "url")),
        catalog_url=text(_get(row, "catalogUrl")),
        extended_warranty=to_bool(_get(row, "extendedWarranty")),
    )


def parse_status_change(row):
    return ShateStatusChange(
        status_code=to_int(_get(row, "statusCode")), changed_at=to_datetime(_get(row, "dateTime"))
    )


def parse_delivery_dates(document):
    values = document if isinstance(document, list) else [document]
    return [moment for moment in (to_datetime(value) for value in values) if moment is not None]


# -- parsers: articles -------------------------------------------------------------------------
def _parse_article_core(row):
    return ShateArticle(
        id=to_int(_get(row, "id")),
        code=text(_get(row, "code")),
        trade_mark_name=text(_get(row, "tradeMarkName")),
        name=text(_get(row, "name")),
        description=text(_get(row, "description")),
        unit_of_measure=text(_get(row, "unitOfMeasure")),
    )


def _parse_vehicles(makes):
    vehicles = []
    for make in _dicts(makes):
        make_name = text(_get(make, "name"))
        models = _dicts(_get(make, "models"))
        if not models:
            vehicles.append(ShateVehicle(make=make_name))
        for model in models:
            model_name = text(_get(model, "name"))
            modifications = _dicts(_get(model, "modifications"))
            if not modifications:
                vehicles.append(ShateVehicle(make=make_name, model=model_name))
            for mod in modifications:
                vehicles.append(
                    ShateVehicle(
                        make=make_name,
                        model=model_name,
                        modification=text(_get(mod, "name")),
                        engine_code=text(_get(mod, "mnEngineCode")),
                        begin=text(_get(mod, "beginDate")),
                        end=text(_get(mod, "endDate")),
                        kw=text(_get(mod, "kWt", "kw")),
                        hp=text(_get(mod, "hPower", "hp")),
                        cylinders=text(_get(mod, "cylinders")),
                        volume=text(_get(mod, "vol")),
                    )
                )
    return vehicles


def parse_extended_info(row):
    originals = []
    for original in _dicts(_get(row, "originals")):
        codes = _get(original, "articleCodes", "articleCode")
        codes = codes if isinstance(codes, list) else [codes]
        originals.append(
            ShateOriginal(
                article_codes=[text(code) for code in codes if text(code)],
                trade_mark_name=text(_get(original, "tradeMarkName")),
            )
        )
    characteristics = [
        (text(_get(item, "key", "name")), text(_get(item, "value")))
        for item in _dicts(_get(row, "characteristics", "properties"))
    ]
    return ShateExtendedInfo(
        description=text(_get(row, "extendedDescription", "description")),
        originals=originals,
        characteristics=characteristics,
        applicability=_parse_vehicles(_get(row, "applicability")),
    )


def parse_article(row):
    """An article card: {"article": {...}, "tradeMark", "contents", "extendedInfo"}, or a bare
    article object (as nested in cart and order items)."""
    row = _dict(row)
    core = _get(row, "article")
    article = _parse_article_core(core if isinstance(core, dict) else row)
    trademark = _get(row, "tradeMark")
    if isinstance(trademark, dict):
        article.trademark = parse_trademark(trademark)
    article.contents = [
        ShateContentRef(
            content_id=text(_get(item, "contentId")),
            content_type=text(_get(item, "contentType")),
            sort_order=to_int(_get(item, "sortOrder")),
        )
        for item in _dicts(_get(row, "contents"))
        if text(_get(item, "contentId"))
    ]
    article.contents.sort(key=lambda item: (item.sort_order is None, item.sort_order or 0))
    extended = _get(row, "extendedInfo", "extended_info")
    if isinstance(extended, dict):
        article.extended_info = parse_extended_info(extended)
    return article


def parse_contents(document):
    return [
        ShateContent(content_id=text(_get(row, "id", "contentId")), value=text(_get(row, "value")))
        for row in rows_of(document, "contents")
        if text(_get(row, "value"))
    ]


# -- parsers: prices ---------------------------------------------------------------------------
def offer_rows(document):
    """prices/search answers a flat list of offers; with_article_info groups them under
    {"article", "prices"}: both are flattened to offer rows."""
    rows = []
    for row in rows_of(document, "prices"):
        grouped = _get(row, "prices")
        if isinstance(grouped, list):
            rows.extend(_dicts(grouped))
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
    price = _dict(_get(row, "price"))
    quantity = _dict(_get(row, "quantity"))
    probability = _dict(_get(row, "supplyProbability"))
    info = _dict(_get(row, "addInfo"))
    delivery_dates = {}
    for item in _dicts(_get(row, "deliveryDateTimes")):
        moment = to_datetime(_get(item, "deliveryDateTime"))
        if moment is not None:
            delivery_dates.setdefault(text(_get(item, "deliveryAddressCode")), moment)
    wanted = text(delivery_address_code)
    delivery_date = delivery_dates.get(wanted) if wanted else None
    if delivery_date is None and delivery_dates:
        delivery_date = next(iter(delivery_dates.values()))
    shipping_date = to_datetime(_get(row, "shippingDateTime"))
    article_id = to_int(_get(row, "articleId"))
    location_code = text(_get(row, "locationCode"))
    return ShateOffer(
        price_id=text(_get(row, "id", "priceId")),
        article_id=article_id,
        requested_article_id=requested_article_id,
        location_code=location_code,
        location_code_real=text(_get(row, "locationCodeReal")),
        location_name=(location_names or {}).get(location_code, ""),
        agreement_code=text(_get(row, "agreementCode")),
        offer_type=text(_get(row, "type")),
        price=to_float(_get(price, "value")),
        price_with_margin=to_float(_get(price, "valueWithMargin")),
        price_recommended=to_float(_get(price, "valueRecommended")),
        currency_code=text(_get(price, "currencyCode")),
        price_max=to_float(_get(price, "priceMax")),
        import_allowance=to_float(_get(price, "importAllowance")),
        quantity=to_float(_get(quantity, "available")),
        quantity_type=text(_get(quantity, "availableType")),
        multiplicity=to_float(_get(quantity, "multiplicity")),
        min_quantity=to_float(_get(quantity, "minimum")),
        max_quantity=to_float(_get(quantity, "maximum")),
        supply_probability=to_float(_get(probability, "rating")),
        supply_probability_updated_at=to_datetime(_get(probability, "lastUpdateDateTime")),
        city=text(_get(info, "city")),
        is_sale=to_bool(_get(info, "isSale")),
        comment=text(_get(info, "comment")),
        return_allowed=to_bool(_get(info, "isReturnAllowed")),
        warning_text=text(_get(info, "warningText")),
        priority=to_int(_get(row, "priority")),
        hash=text(_get(row, "hash")),
        delivery_dates=delivery_dates,
        delivery_date=delivery_date,
        shipping_date=shipping_date,
        delivery_days=_days_until(delivery_date or shipping_date, now),
        is_import=to_bool(_get(row, "isImport")),
        is_free=to_bool(_get(row, "isFree")),
        is_analog=(
            requested_article_id is not None
            and article_id is not None
            and article_id != requested_article_id
        ),
    )


# -- parsers: cart and orders ------------------------------------------------------------------
def _nested_article(row):
    article = _get(row, "article")
    return parse_article(article) if isinstance(article, dict) else None


def parse_cart_item(row):
    quantity = _dict(_get(row, "quantityInfo"))
    info = _dict(_get(row, "addInfo"))
    return ShateCartItem(
        id=to_int(_get(row, "id")),
        location_code=text(_get(row, "locationCode")),
        location_code_real=text(_get(row, "locationCodeReal")),
        agreement_code=text(_get(row, "agreementCode")),
        article=_nested_article(row),
        price=to_float(_get(row, "price")),
        price_with_margin=to_float(_get(row, "priceWithMargin")),
        price_type=text(_get(row, "priceType")),
        price_max=to_float(_get(row, "priceMax")),
        import_allowance=to_float(_get(row, "importAllowance")),
        currency_code=text(_get(row, "currencyCode")),
        quantity=to_float(_get(row, "quantity")),
        available=to_float(_get(quantity, "available")),
        available_type=text(_get(quantity, "availableType")),
        multiplicity=to_float(_get(quantity, "multiplicity")),
        min_quantity=to_float(_get(quantity, "minimum")),
        max_quantity=to_float(_get(quantity, "maximum")),
        city=text(_get(info, "city")),
        is_sale=to_bool(_get(info, "isSale")),
        info_comment=text(_get(info, "comment")),
        return_allowed=to_bool(_get(info, "isReturnAllowed")),
        warning_text=text(_get(info, "warningText")),
        created_at=to_datetime(_get(row, "createDateTime")),
        comment=text(_get(row, "comment")),
        delivery_date=to_datetime(_get(row, "deliveryDateTime")),
        shipping_date=to_datetime(_get(row, "shippingDateTime")),
        hash=text(_get(row, "hash")),
        is_import=to_bool(_get(row, "isImport")),
        is_free=to_bool(_get(row, "isFree")),
    )


def parse_order_item(row, order_id=None):
    return ShateOrderItem(
        id=to_int(_get(row, "id")),
        article=_nested_article(row),
        quantity=to_float(_get(row, "quantity")),
        quantity_to_ship=to_float(_get(row, "quantityToShip")),
        quantity_shipped=to_float(_get(row, "quantityShipped")),
        delivery_date=to_datetime(_get(row, "deliveryDateTime")),
        price=to_float(_get(row, "price")),
        total_sum=to_float(_get(row, "totalSum")),
        status_code=to_int(_get(row, "statusCode")),
        comment=text(_get(row, "comment")),
        # The document spells it once with a Cyrillic "с".
        can_return=to_bool(_get(row, "canReturn", "\u0441anReturn")),
        warnings=_strings(_get(row, "warnings")),
        order_id=order_id,
    )


def parse_order(row):
    order_id = to_int(_get(row, "id"))
    delivery = _dict(_get(row, "deliveryInfo"))
    return ShateOrder(
        id=order_id,
        created_at=to_datetime(_get(row, "createDateTime", "createdDateTime")),
        delivery_address_code=text(_get(delivery, "deliveryAddressCode")),
        agreement_code=text(_get(row, "agreementCode")),
        currency_code=text(_get(row, "currencyCode")),
        total_sum=to_float(_get(row, "totalSum")),
        comment=text(_get(row, "comment")),
        note=text(_get(row, "note")),
        items=[parse_order_item(item, order_id) for item in _dicts(_get(row, "orderItems"))],
    )


def parse_price_item_error(row):
    current = _get(row, "current")
    parsed_current = None
    if isinstance(current, dict):
        quantity = _dict(_get(current, "quantityInfo"))
        parsed_current = ShatePriceCurrent(
            price=to_float(_get(current, "price")),
            price_with_margin=to_float(_get(current, "priceWithMargin")),
            available=to_float(_get(quantity, "available")),
            available_type=text(_get(quantity, "availableType")),
            multiplicity=to_float(_get(quantity, "multiplicity")),
            min_quantity=to_float(_get(quantity, "minimum")),
            max_quantity=to_float(_get(quantity, "maximum")),
            delivery_date=to_datetime(_get(current, "deliveryDateTime")),
            shipping_date=to_datetime(_get(current, "shippingDateTime")),
        )
    return ShatePriceItemError(
        price_id=text(_get(row, "priceId")),
        hash=text(_get(row, "hash")),
        errors=_strings(_get(row, "errors")),
        current=parsed_current,
    )


def _unique(messages):
    seen, unique = set(), []
    for message in messages:
        if message not in seen:
            seen.add(message)
            unique.append(message)
    return unique


def parse_order_result(document, status=None):
    """An order answer (one order, a list of orders, or the refusal shape) → ShateOrderResult.

    Refusals come as {"errors", "errorDescriptions", "priceItemErrors"} or as the generic
    {"code", "description", "messages"}; anything readable in them is kept.
    """
    result = ShateOrderResult(status=status)
    if isinstance(document, dict):
        errors = _get(document, "errors")
        # ASP.NET validation problems put a {field: [messages]} object under "errors".
        if isinstance(errors, dict):
            errors = [message for value in errors.values() for message in _strings(value)]
        result.errors = _strings(errors)
        if to_int(_get(document, "id")) is None:
            result.error_code = text(_get(document, "code"))
            if not result.errors:
                result.errors = _strings(_get(document, "messages")) or _strings(
                    _get(document, "description", "title", "detail")
                )
        descriptions = _get(document, "errorDescriptions")
        if isinstance(descriptions, dict):
            result.error_descriptions = {
                text(key): " ".join(_strings(value)) for key, value in descriptions.items()
            }
        result.price_item_errors = [
            parse_price_item_error(row) for row in _dicts(_get(document, "priceItemErrors"))
        ]
        result.warnings = _strings(_get(document, "warnings"))
    candidates = document if isinstance(document, list) else [document]
    for row in _dicts(candidates):
        if to_int(_get(row, "id")) is not None or isinstance(_get(row, "orderItems"), list):
            result.orders.append(parse_order(row))
    for order in result.orders:
        for item in order.items:
            result.warnings.extend(item.warnings)
    result.warnings = _unique(result.warnings)
    return result


_PRICE_CHANGE = re.compile(
    r"oldPrice\s*:\s*(?P<old>-?[\d\s.,]+?)\s*;\s*newPrice\s*:\s*(?P<new>-?[\d\s.,]+)", re.I
)


def price_change(warning):
    """(old, new) from "… oldPrice : 3.72 ; newPrice : 3.44 ", else None."""
    match = _PRICE_CHANGE.search(text(warning))
    if not match:
        return None
    old, new = to_float(match.group("old")), to_float(match.group("new"))
    return (old, new) if old is not None and new is not None else None
