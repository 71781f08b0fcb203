"""Shate-M Plus answers as plain dataclasses: the one import for callers of ShateClient.

The classes live with their concern and are re-exported here:

- :mod:`.shate_reference_data`: customer, agreements (``ShateAgreement.group``/``needs_contact``),
  delivery addresses, locations, status codes, trademarks;
- :mod:`.shate_catalogue_data`: articles, pictures (``ShateContent``), price offers;
- :mod:`.shate_order_data`: cart lines, order lines to send (``ShateOrderLine``), orders, order
  outcomes and refusals, status history, ``price_change``;
- :mod:`.shate_convert`: the tolerant converters every parser uses (``normalize_key``, dates).
"""

from .shate_catalogue_data import (
    INCLUDE_CONTENTS,
    INCLUDE_EXTENDED_INFO,
    INCLUDE_OPTIONS,
    INCLUDE_TRADEMARK,
    ShateArticle,
    ShateContent,
    ShateContentRef,
    ShateExtendedInfo,
    ShateOffer,
    ShateOriginal,
    ShateVehicle,
)
from .shate_convert import format_datetime, normalize_key, to_datetime
from .shate_order_data import (
    DELIVERY_MANY,
    DELIVERY_ONE,
    ShateCartItem,
    ShateOrder,
    ShateOrderItem,
    ShateOrderLine,
    ShateOrderResult,
    ShatePriceCurrent,
    ShatePriceItemError,
    ShateStatusChange,
    price_change,
)
from .shate_reference_data import (
    CONTACT_AGREEMENT_GROUPS,
    ShateAgreement,
    ShateCustomer,
    ShateDeliveryAddress,
    ShateLocation,
    ShateStatusCode,
    ShateTrademark,
)

__all__ = [
    "CONTACT_AGREEMENT_GROUPS",
    "DELIVERY_MANY",
    "DELIVERY_ONE",
    "INCLUDE_CONTENTS",
    "INCLUDE_EXTENDED_INFO",
    "INCLUDE_OPTIONS",
    "INCLUDE_TRADEMARK",
    "ShateAgreement",
    "ShateArticle",
    "ShateCartItem",
    "ShateContent",
    "ShateContentRef",
    "ShateCustomer",
    "ShateDeliveryAddress",
    "ShateExtendedInfo",
    "ShateLocation",
    "ShateOffer",
    "ShateOrder",
    "ShateOrderItem",
    "ShateOrderLine",
    "ShateOrderResult",
    "ShateOriginal",
    "ShatePriceCurrent",
    "ShatePriceItemError",
    "ShateStatusChange",
    "ShateStatusCode",
    "ShateTrademark",
    "ShateVehicle",
    "format_datetime",
    "normalize_key",
    "price_change",
    "to_datetime",
]
