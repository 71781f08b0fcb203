"""Shate-M Plus reference lists as plain dataclasses: customer, agreements, delivery addresses
and dates, locations, order item status codes, trademarks; and their parsers.

An agreement's ``group`` (the document's ``agreementGroup``) tells whether orders on it need the
buyer's ``fio`` and ``phone`` (10.2: groups НАЛ, ЭКВАИР, МАГ): ``ShateAgreement.needs_contact``.
"""

from dataclasses import dataclass

from .etm_data import text, to_int
from .shate_convert import get_value, to_bool, to_datetime

# agreementGroup values whose orders must carry ``fio`` and ``phone`` (document, 10.2 and 10.3).
CONTACT_AGREEMENT_GROUPS = frozenset({"НАЛ", "ЭКВАИР", "МАГ"})


# -- dataclasses -------------------------------------------------------------------------------
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

    @property
    def needs_contact(self):
        """True when orders on this agreement need ``fio`` and ``phone`` (НАЛ, ЭКВАИР, МАГ)."""
        return text(self.group).upper() in CONTACT_AGREEMENT_GROUPS


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


# -- parsers ------------------------------------------------------------------------------------
def parse_customer(row):
    return ShateCustomer(
        login=text(get_value(row, "login")),
        code=text(get_value(row, "code")),
        name=text(get_value(row, "name")),
        phone=text(get_value(row, "phone")),
        email=text(get_value(row, "email")),
        default_delivery_address_code=text(get_value(row, "defaultDeliveryAddressCode")),
    )


def parse_agreement(row):
    return ShateAgreement(
        code=text(get_value(row, "code")),
        group=text(get_value(row, "agreementGroup")),
        description=text(get_value(row, "description")),
        location_code=text(get_value(row, "locationCode")),
        currency_code=text(get_value(row, "currencyCode")),
        is_active=to_bool(get_value(row, "isActive")),
        pickup_enabled=to_bool(get_value(row, "isEnabledPickup")),
        delivery_enabled=to_bool(get_value(row, "isEnabledDelivery")),
    )


def parse_delivery_address(row):
    return ShateDeliveryAddress(
        code=text(get_value(row, "code")),
        city=text(get_value(row, "city")),
        address=text(get_value(row, "address")),
        delivery_zone_code=text(get_value(row, "deliveryZoneCode")),
    )


def parse_location(row):
    return ShateLocation(
        code=text(get_value(row, "code")),
        name=text(get_value(row, "name")),
        city=text(get_value(row, "city")),
    )


def parse_status_code(row):
    return ShateStatusCode(
        code=to_int(get_value(row, "code")),
        name=text(get_value(row, "name")),
        description=text(get_value(row, "description")),
        is_final=to_bool(get_value(row, "isFinal")),
    )


def parse_trademark(row):
    return ShateTrademark(
        name=text(get_value(row, "name")),
        country=text(get_value(row, "country")),
        description=text(get_value(row, "description")),
        url=text(get_value(row, "url")),
        catalog_url=text(get_value(row, "catalogUrl")),
        extended_warranty=to_bool(get_value(row, "extendedWarranty")),
    )


def parse_delivery_dates(document):
    values = document if isinstance(document, list) else [document]
    return [moment for moment in (to_datetime(value) for value in values) if moment is not None]
