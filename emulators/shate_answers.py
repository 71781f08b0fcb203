"""Shate-M Plus answers in the document's JSON shapes, the records they are built from (issued
prices, cart lines, orders), and the document's rules as pure functions (quantities, price
changes, order headers). The emulator decides what to send; nothing here touches its state."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .server import make_png
from .shate_catalogue import (
    STATUS_CODES,
    ShateAddress,
    ShateAgreement,
    ShateArticle,
    ShateLocation,
    ShateOffer,
    ShateTrademark,
)

# Groups whose orders need ``fio`` and ``phone`` (document, 10.2 and 10.3).
CASH_GROUPS = frozenset({"НАЛ", "ЭКВАИР", "МАГ"})
DELIVERY_TYPES = {"manydelivery": "ManyDelivery", "onedelivery": "OneDelivery"}
INCLUDE_ALIASES = {
    "contents": "contents", "content": "contents", "images": "contents",
    "extendedinfo": "extendedinfo", "extended": "extendedinfo",
    "characteristics": "extendedinfo", "applicability": "extendedinfo",
    "trademark": "trademark", "brand": "trademark",
}
SHIP_HOUR = 10  # local time an order leaves the warehouse
DELIVERY_HOUR = 15  # local time it reaches the customer
PRICE_CHANGED_WARNING = ("Произошло изменение цены в пределах допустимого отклонения. "
                         "oldPrice : {old} ; newPrice : {new} ")
PREPAYMENT_ERROR = "Товар не оформлен в заказ. По договору 100% предоплата."

# -- dates ------------------------------------------------------------------------------------


def iso_z(ts: float) -> str:
    """``2022-12-19T08:39:15.525Z`` (UTC, milliseconds), as the document prints times."""
    ms = int((ts % 1) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{ms:03d}Z"


def iso_plain(ts: float) -> str:
    """``2020-12-02T22:00:00`` (UTC, no zone), as availableDateTimes prints them."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
                   r"\s*(Z|[+-]\d{2}:?\d{2})?")


def parse_datetime(value, end_of_day: bool = False) -> float:
    """Epoch seconds of an ISO date or date-time; no zone means UTC (the document: "дата и
    время (UTC)"). A bare date is its start, or its last second with ``end_of_day``.
    Raises ValueError on anything else."""
    match = _DATE.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"bad date: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), int((fraction or "0")[:6].ljust(6, "0")), timezone.utc)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if hour is None and end_of_day:
        moment += timedelta(days=1, microseconds=-1000)
    return moment.timestamp()


def shipping_time(now: float, shipping_days: int, utc_offset_hours: float) -> float:
    """When an offer leaves its warehouse: ``shipping_days`` days from today at SHIP_HOUR local,
    one day later if that hour has passed."""
    offset = utc_offset_hours * 3600
    local = now + offset
    at = (local // 86400 + shipping_days) * 86400 + SHIP_HOUR * 3600
    if at <= local:
        at += 86400
    return at - offset


def delivery_time(shipped: float, address: ShateAddress) -> float:
    return shipped + address.extra_days * 86400 + (DELIVERY_HOUR - SHIP_HOUR) * 3600


# -- records ----------------------------------------------------------------------------------
@dataclass(slots=True)
class PriceRecord:
    """What a priceId stood for when it was issued (the emulator keeps them by priceId)."""

    price_id: str
    login: str
    article_id: int
    location_code: str
    location_code_real: str
    agreement_code: str
    version: int
    price: float
    issued_at: float
    hash: int


@dataclass(slots=True)
class CartItem:
    """A cart line; ``offer`` and ``article`` are snapshots for when the offer is gone."""

    id: int
    login: str
    record: PriceRecord
    offer: ShateOffer
    article: dict
    quantity: int
    price: float  # the price the customer agreed to (the issued price unless PATCHed)
    comment: str
    created_at: float


@dataclass(slots=True)
class OrderItem:
    id: int
    order_id: int
    login: str
    article: dict
    location_code: str
    location_code_real: str
    quantity: int
    price: float
    delivery_at: float
    comment: str
    warnings: list[str] | None
    can_return: bool
    path: tuple[int, ...]  # the statuses automatic progression walks through
    history: list[tuple[int, float]] = field(default_factory=list)
    off_path: bool = False  # set to a status outside ``path`` by hand: no more progression

    @property
    def status(self) -> int:
        return self.history[-1][0]


@dataclass(slots=True)
class Order:
    id: int
    login: str
    created_at: float
    agreement_code: str
    currency: str
    delivery_address_code: str | None  # None: pickup
    delivery_type: str | None
    comment: str
    note: str
    fio: str
    phone: str
    items: list[OrderItem]


# -- shapes -----------------------------------------------------------------------------------
def number(value: float):
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def error_body(code: str, description: str, *messages: str) -> dict:
    """The document's error answer (3.4): code, description, messages."""
    return {"code": code, "description": description, "messages": list(messages or
                                                                       (description,))}


def order_error_body(errors: list[str], descriptions: dict[str, str],
                     item_errors: list[dict]) -> dict:
    """The document's order error answer (10.2)."""
    return {"errors": errors, "errorDescriptions": descriptions or None,
            "priceItemErrors": item_errors}


def token_body(token: str, ttl: float) -> dict:
    return {"access_token": token, "expires_in": int(ttl), "token_type": "Bearer",
            "refresh_token": "", "scope": "ShateAuth"}


def article_row(article: ShateArticle) -> dict:
    return {"id": article.id, "code": article.code, "tradeMarkName": article.trademark,
            "name": article.name, "description": article.description,
            "unitOfMeasure": article.unit}


def trademark_row(trademark: ShateTrademark) -> dict:
    return {"name": trademark.name, "country": trademark.country,
            "description": trademark.description, "url": trademark.url,
            "catalogUrl": trademark.catalog_url, "extendedWarranty": trademark.extended_warranty}


def _extended_info(article: ShateArticle) -> dict:
    makes: dict[str, dict[str, list]] = {}
    for make, model, name, engine, begin, end, kwt, hp, cylinders, vol in article.applicability:
        makes.setdefault(make, {}).setdefault(model, []).append({
            "name": name, "mnEngineCode": engine, "beginDate": begin, "endDate": end,
            "kWt": kwt, "hPower": hp, "cylinders": cylinders, "vol": vol})
    return {
        "extendedDescription": article.extended_description or article.description,
        "originals": [{"articleCodes": list(codes), "tradeMarkName": brand}
                      for codes, brand in article.originals],
        "characteristics": [{"key": key, "value": value} for key, value in article.characteristics],
        "applicability": [{"name": make, "models": [{"name": model, "modifications": mods}
                                                    for model, mods in models.items()]}
                          for make, models in makes.items()],
    }


def article_details(article: ShateArticle, trademark: ShateTrademark | None,
                    include: set[str], single: bool) -> dict:
    """``GET /articles/{id}``: tradeMark, contents and extendedInfo only when included;
    contents and extendedInfo only when the answer holds a single article."""
    row = {"article": article_row(article)}
    if "trademark" in include:
        row["tradeMark"] = trademark_row(trademark or ShateTrademark(article.trademark))
    if single and "contents" in include:
        row["contents"] = [{"sortOrder": k, "contentId": content_id,
                            "contentType": "ImageTwoDimensional"}
                           for k, content_id in enumerate(article.contents)]
    if single and "extendedinfo" in include:
        row["extendedInfo"] = _extended_info(article)
    return row


def quantity_info(offer: ShateOffer) -> dict:
    return {"available": offer.available, "availableType": offer.available_type,
            "multiplicity": offer.multiplicity, "minimum": offer.minimum,
            "maximum": offer.maximum}


def add_info(offer: ShateOffer, location: ShateLocation | None) -> dict:
    return {"city": location.city if location else "", "isSale": offer.is_sale,
            "comment": offer.comment, "isReturnAllowed": offer.is_return_allowed,
            "warningText": offer.warning_text}


def offer_row(record: PriceRecord, offer: ShateOffer, agreement: ShateAgreement,
              location: ShateLocation | None, deliveries: Iterable[tuple[str, float]],
              shipped: float, priority: int, margin: float, now: float) -> dict:
    """One offer of ``POST /prices/search``."""
    price = record.price
    return {
        "id": record.price_id,
        "articleId": record.article_id,
        "locationCode": offer.location_code,
        "locationCodeReal": offer.location_code_real,
        "agreementCode": agreement.code,
        "type": offer.type,
        "price": {"value": number(price), "valueWithMargin": number(price * (1 + margin)),
                  "valueRecommended": None if offer.recommended_price is None
                  else number(offer.recommended_price * agreement.price_factor),
                  "currencyCode": agreement.currency, "priceMax": number(price * 1.45),
                  "importAllowance": 15 if offer.is_import else 0},
        "quantity": quantity_info(offer),
        "supplyProbability": None if offer.rating is None else {
            "lastUpdateDateTime": iso_z((now // 3600) * 3600), "rating": offer.rating},
        "addInfo": add_info(offer, location),
        "priority": priority,
        "hash": record.hash,
        "deliveryDateTimes": [{"deliveryAddressCode": code, "deliveryDateTime": iso_z(at)}
                              for code, at in deliveries],
        "shippingDateTime": iso_z(shipped),
        "isImport": offer.is_import,
        "isFree": offer.is_free,
    }


def current_info(offer: ShateOffer, price: float, margin: float, delivered: float,
                 shipped: float) -> dict:
    """``current`` of a priceItemError: the offer as it is now."""
    return {"price": number(price), "priceWithMargin": number(price * (1 + margin)),
            "quantityInfo": quantity_info(offer), "deliveryDateTime": iso_z(delivered),
            "shippingDateTime": iso_z(shipped)}


def cart_item_row(item: CartItem, article: dict, offer: ShateOffer, agreement: ShateAgreement,
                  location: ShateLocation | None, delivered: float, shipped: float,
                  margin: float) -> dict:
    return {
        "id": item.id,
        "locationCode": item.record.location_code,
        "locationCodeReal": item.record.location_code_real,
        "agreementCode": agreement.code,
        "article": article,
        "price": number(item.price),
        "priceWithMargin": number(item.price * (1 + margin)),
        "priceType": offer.type,
        "priceMax": number(item.price * 1.45),
        "importAllowance": 15 if offer.is_import else 0,
        "currencyCode": agreement.currency,
        "quantity": item.quantity,
        "quantityInfo": quantity_info(offer),
        "addInfo": add_info(offer, location),
        "createDateTime": iso_z(item.created_at),
        "comment": item.comment,
        "deliveryDateTime": iso_z(delivered),
        "shippingDateTime": iso_z(shipped),
        "hash": item.record.hash,
        "isImport": offer.is_import,
        "isFree": offer.is_free,
    }


def _shipped_quantities(item: OrderItem) -> tuple[int, int]:
    """(quantityToShip, quantityShipped) implied by the status."""
    status = item.status
    if status in (60, 160, 180):
        return 0, 0
    if status >= 100:
        return 0, item.quantity
    if status >= 80:
        return item.quantity, 0
    return 0, 0


def order_item_row(item: OrderItem) -> dict:
    to_ship, shipped = _shipped_quantities(item)
    return {"id": item.id, "article": item.article, "quantity": item.quantity,
            "quantityToShip": to_ship, "quantityShipped": shipped,
            "deliveryDateTime": iso_z(item.delivery_at), "price": number(item.price),
            "totalSum": number(item.price * item.quantity), "statusCode": item.status,
            "comment": item.comment, "warnings": item.warnings, "canReturn": item.can_return}


def order_row(order: Order, items: Iterable[OrderItem] | None = None) -> dict:
    items = order.items if items is None else list(items)
    return {
        "id": order.id,
        "createDateTime": iso_z(order.created_at),
        "deliveryInfo": None if order.delivery_address_code is None
        else {"deliveryAddressCode": order.delivery_address_code},
        "agreementCode": order.agreement_code,
        "currencyCode": order.currency,
        "totalSum": number(sum(round(i.price * i.quantity, 2) for i in order.items)),
        "comment": order.comment,
        "note": order.note,
        "orderItems": [order_item_row(item) for item in items],
    }


def status_code_rows() -> list[dict]:
    return [{"code": code, "name": name, "description": description, "isFinal": final}
            for code, (name, description, final) in STATUS_CODES.items()]


def agreement_row(agreement: ShateAgreement) -> dict:
    return {"code": agreement.code, "agreementGroup": agreement.group,
            "description": agreement.description, "locationCode": agreement.location_code,
            "currencyCode": agreement.currency, "isActive": agreement.is_active,
            "isEnabledPickup": agreement.is_enabled_pickup,
            "isEnabledDelivery": agreement.is_enabled_delivery}


def address_row(address: ShateAddress) -> dict:
    return {"code": address.code, "city": address.city, "address": address.address,
            "deliveryZoneCode": address.zone_code}


def location_row(location: ShateLocation) -> dict:
    return {"code": location.code, "name": location.name, "city": location.city}


def content_value(content_id: str, height, width) -> str:
    """A small PNG as a data URI (the document's value is ``data:image/webp;base64...``);
    sizes are honoured up to 64 pixels."""
    def size(value, default=32):
        try:
            return max(1, min(int(value), 64))
        except (TypeError, ValueError):
            return default
    colour = bytes.fromhex(content_id[:6]) if len(content_id) >= 6 else b"\x80\x80\x80"
    png = make_png(size(width), size(height), tuple(colour))
    return "data:image/png;base64," + base64.b64encode(png).decode()


# -- rules ------------------------------------------------------------------------------------
def quantity_errors(quantity, offer: ShateOffer) -> list[str]:
    """Per-line quantity errors (codes 1xx, document 10.2 "начинается с кода 1хх")."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        return [f"103: Некорректное количество: {quantity!r}"]
    errors = []
    if offer.multiplicity > 1 and quantity % offer.multiplicity:
        errors.append(f"104: Количество должно быть кратно {offer.multiplicity}")
    if quantity < offer.minimum:
        errors.append(f"105: Количество меньше минимального ({offer.minimum})")
    if offer.maximum is not None and quantity > offer.maximum:
        errors.append(f"106: Количество больше максимального ({offer.maximum})")
    if offer.available_type == "Equal" and quantity > offer.available:
        errors.append(f"107: Недостаточно товара на складе (доступно {offer.available})")
    return errors


def price_check(old: float, new: float, stale: bool, tolerance: float):
    """(warning, error) of ordering at ``old`` what now costs ``new``: a fall within
    ``tolerance`` (a fraction of ``old``) is accepted with the document's warning; a rise or a
    larger fall is an error; an unchanged price is fine unless the priceId went stale."""
    old, new = round(old, 2), round(new, 2)
    if new < old and old - new <= old * tolerance + 1e-9:
        return PRICE_CHANGED_WARNING.format(old=number(old), new=number(new)), None
    if new != old:
        return None, f"102: Цена изменилась. oldPrice : {number(old)} ; newPrice : {number(new)}"
    if stale:
        return None, "101: Ценовое предложение устарело. Выполните проценку повторно"
    return None, None


def order_header_errors(body: dict, agreement: ShateAgreement | None, agreement_code,
                        addresses: dict[str, ShateAddress]) -> tuple[list[str], dict]:
    """Errors of an order's header (everything but its lines); ``body`` has lower-case keys.
    Returns (errors, errorDescriptions)."""
    errors: list[str] = []
    descriptions: dict[str, str] = {}

    def fail(key: str, message: str):
        errors.append(message)
        descriptions[key] = message

    if not agreement_code:
        fail("AgreementCode", "Не указан договор (agreementCode)")
    elif agreement is None:
        fail("AgreementCode", f"Договор {agreement_code} не найден")
    elif not agreement.is_active:
        fail("AgreementCode", f"Договор {agreement_code} не активен. Оформление заказа невозможно")
    if body.get("agreewithtermsofdelivery") is not True:
        fail("AgreeWithTermsOfDelivery",
             "Необходимо согласие с условиями поставок под заказ (agreeWithTermsOfDelivery)")
    if body.get("agreewithpersonaldataprocessingpolicyanduseragreement") is not True:
        fail("AgreeWithPersonalDataProcessingPolicyAndUserAgreement",
             "Необходимо согласие с политикой обработки персональных данных")
    if agreement is not None and agreement.group in CASH_GROUPS:
        if not str(body.get("fio") or "").strip() or not str(body.get("phone") or "").strip():
            fail("Fio", f"Для договора группы {agreement.group} обязательны поля fio и phone")
    _delivery_errors(body, agreement, addresses, fail)
    return errors, descriptions


def delivery_type(info: dict) -> str | None:
    """``ManyDelivery``/``OneDelivery`` from a deliveryInfo (spaces and case ignored)."""
    kind = str(info.get("deliverytype") or "").replace(" ", "").replace("_", "").lower()
    return DELIVERY_TYPES.get(kind)


def _valid_date(value) -> bool:
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


def _delivery_errors(body: dict, agreement: ShateAgreement | None,
                     addresses: dict[str, ShateAddress], fail):
    info = body.get("deliveryinfo")
    if info is not None and not isinstance(info, dict):
        fail("DeliveryInfo", "Некорректный deliveryInfo")
    elif info:
        code = info.get("deliveryaddresscode")
        if not code:
            fail("DeliveryAddressCode", "Не указан адрес доставки (deliveryAddressCode)")
        elif code not in addresses:
            fail("DeliveryAddressCode", f"Адрес доставки {code} не найден")
        if delivery_type(info) is None:
            fail("DeliveryType", "Тип доставки (deliveryType): ManyDelivery или OneDelivery")
        if agreement is not None and not agreement.is_enabled_delivery:
            fail("DeliveryInfo", f"По договору {agreement.code} доставка недоступна")
        if info.get("deliverydatetime") is not None and not _valid_date(info["deliverydatetime"]):
            fail("DeliveryDateTime", "Некорректная дата доставки (deliveryDateTime)")
    elif agreement is not None and not agreement.is_enabled_pickup:
        fail("DeliveryInfo", f"По договору {agreement.code} самовывоз недоступен")
    expected = body.get("expecteddatetimeofarrivalallitems")
    if expected is not None and not _valid_date(expected):
        fail("ExpectedDateTimeOfArrivalAllItems", "Некорректная дата прибытия строк заказа")
