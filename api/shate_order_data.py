"""Shate-M Plus cart lines, orders, order outcomes and status history as plain dataclasses, and
their parsers.

The document spells ``canReturn`` once with a Cyrillic "с" (``сanReturn``): both are read.
Refusals come in the order shape ({"errors", "errorDescriptions", "priceItemErrors"}) or the generic
one ({"code", "description", "messages"}); everything readable in either is kept.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from .etm_data import text, to_float, to_int
from .shate_catalogue_data import ShateArticle, parse_article
from .shate_convert import as_dict, dict_rows, get_value, messages_of, to_bool, to_datetime

# deliveryInfo.deliveryType: "Many Delivery" / "One Delivery" in the document (enum names).
DELIVERY_MANY = "ManyDelivery"
DELIVERY_ONE = "OneDelivery"


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


def parse_status_change(row):
    return ShateStatusChange(
        status_code=to_int(get_value(row, "statusCode")),
        changed_at=to_datetime(get_value(row, "dateTime")),
    )


# -- parsers: cart and orders ------------------------------------------------------------------
def _nested_article(row):
    article = get_value(row, "article")
    return parse_article(article) if isinstance(article, dict) else None


def parse_cart_item(row):
    quantity = as_dict(get_value(row, "quantityInfo"))
    info = as_dict(get_value(row, "addInfo"))
    return ShateCartItem(
        id=to_int(get_value(row, "id")),
        location_code=text(get_value(row, "locationCode")),
        location_code_real=text(get_value(row, "locationCodeReal")),
        agreement_code=text(get_value(row, "agreementCode")),
        article=_nested_article(row),
        price=to_float(get_value(row, "price")),
        price_with_margin=to_float(get_value(row, "priceWithMargin")),
        price_type=text(get_value(row, "priceType")),
        price_max=to_float(get_value(row, "priceMax")),
        import_allowance=to_float(get_value(row, "importAllowance")),
        currency_code=text(get_value(row, "currencyCode")),
        quantity=to_float(get_value(row, "quantity")),
        available=to_float(get_value(quantity, "available")),
        available_type=text(get_value(quantity, "availableType")),
        multiplicity=to_float(get_value(quantity, "multiplicity")),
        min_quantity=to_float(get_value(quantity, "minimum")),
        max_quantity=to_float(get_value(quantity, "maximum")),
        city=text(get_value(info, "city")),
        is_sale=to_bool(get_value(info, "isSale")),
        info_comment=text(get_value(info, "comment")),
        return_allowed=to_bool(get_value(info, "isReturnAllowed")),
        warning_text=text(get_value(info, "warningText")),
        created_at=to_datetime(get_value(row, "createDateTime")),
        comment=text(get_value(row, "comment")),
        delivery_date=to_datetime(get_value(row, "deliveryDateTime")),
        shipping_date=to_datetime(get_value(row, "shippingDateTime")),
        hash=text(get_value(row, "hash")),
        is_import=to_bool(get_value(row, "isImport")),
        is_free=to_bool(get_value(row, "isFree")),
    )


def parse_order_item(row, order_id=None):
    return ShateOrderItem(
        id=to_int(get_value(row, "id")),
        article=_nested_article(row),
        quantity=to_float(get_value(row, "quantity")),
        quantity_to_ship=to_float(get_value(row, "quantityToShip")),
        quantity_shipped=to_float(get_value(row, "quantityShipped")),
        delivery_date=to_datetime(get_value(row, "deliveryDateTime")),
        price=to_float(get_value(row, "price")),
        total_sum=to_float(get_value(row, "totalSum")),
        status_code=to_int(get_value(row, "statusCode")),
        comment=text(get_value(row, "comment")),
        # The document spells it once with a Cyrillic "с".
        can_return=to_bool(get_value(row, "canReturn", "\u0441anReturn")),
        warnings=messages_of(get_value(row, "warnings")),
        order_id=order_id,
    )


def parse_order(row):
    order_id = to_int(get_value(row, "id"))
    delivery = as_dict(get_value(row, "deliveryInfo"))
    return ShateOrder(
        id=order_id,
        created_at=to_datetime(get_value(row, "createDateTime", "createdDateTime")),
        delivery_address_code=text(get_value(delivery, "deliveryAddressCode")),
        agreement_code=text(get_value(row, "agreementCode")),
        currency_code=text(get_value(row, "currencyCode")),
        total_sum=to_float(get_value(row, "totalSum")),
        comment=text(get_value(row, "comment")),
        note=text(get_value(row, "note")),
        items=[
            parse_order_item(item, order_id) for item in dict_rows(get_value(row, "orderItems"))
        ],
    )


def parse_price_item_error(row):
    current = get_value(row, "current")
    parsed_current = None
    if isinstance(current, dict):
        quantity = as_dict(get_value(current, "quantityInfo"))
        parsed_current = ShatePriceCurrent(
            price=to_float(get_value(current, "price")),
            price_with_margin=to_float(get_value(current, "priceWithMargin")),
            available=to_float(get_value(quantity, "available")),
            available_type=text(get_value(quantity, "availableType")),
            multiplicity=to_float(get_value(quantity, "multiplicity")),
            min_quantity=to_float(get_value(quantity, "minimum")),
            max_quantity=to_float(get_value(quantity, "maximum")),
            delivery_date=to_datetime(get_value(current, "deliveryDateTime")),
            shipping_date=to_datetime(get_value(current, "shippingDateTime")),
        )
    return ShatePriceItemError(
        price_id=text(get_value(row, "priceId")),
        hash=text(get_value(row, "hash")),
        errors=messages_of(get_value(row, "errors")),
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
        errors = get_value(document, "errors")
        # ASP.NET validation problems put a {field: [messages]} object under "errors".
        if isinstance(errors, dict):
            errors = [message for value in errors.values() for message in messages_of(value)]
        result.errors = messages_of(errors)
        if to_int(get_value(document, "id")) is None:
            result.error_code = text(get_value(document, "code"))
            if not result.errors:
                result.errors = messages_of(get_value(document, "messages")) or messages_of(
                    get_value(document, "description", "title", "detail")
                )
        descriptions = get_value(document, "errorDescriptions")
        if isinstance(descriptions, dict):
            result.error_descriptions = {
                text(key): " ".join(messages_of(value)) for key, value in descriptions.items()
            }
        result.price_item_errors = [
            parse_price_item_error(row) for row in dict_rows(get_value(document, "priceItemErrors"))
        ]
        result.warnings = messages_of(get_value(document, "warnings"))
    candidates = document if isinstance(document, list) else [document]
    for row in dict_rows(candidates):
        if to_int(get_value(row, "id")) is not None or isinstance(
            get_value(row, "orderItems"), list
        ):
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
