"""IMSKLAD reference tables and answers: the document's constants (order statuses, colours,
delivery types, tags, billing operations), the answers as plain dataclasses, and the tolerant
converters that read them.

Every value of an answer goes through a converter that never raises for one odd field: ids
become int (IMSKLAD's own) or str (ours), money float, Unix timestamps naive UTC ``datetime``.
The document's billing table types ``amount`` as Array and ``comment`` as Int; its example sends a
number and a string, which is what is read (anything else: None / '').
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from .errors import BadResponse
from .etm_data import text, to_float, to_int

_logger = logging.getLogger(__name__)

UTC = timezone.utc  # noqa: UP017 - datetime.UTC needs Python 3.11; Odoo 18 runs on 3.10
EPOCH = datetime(1970, 1, 1)

# -- the document's tables -----------------------------------------------------------------------
# Order statuses (callback order.set_status), with the document's Russian names.
ORDER_STATUSES = {
    0: "Новый заказ, собрать",
    1: "Передан на комплектацию",
    2: "Комплектуется",
    3: "Скомплектован, готов передаваться на упаковку",
    4: "Передан на упаковку",
    5: "Упаковывается",
    6: "Упакован",
    7: "Передается на отгрузку",
    8: "Готов к отгрузке",
    9: "Отгружен в курьерскую службу, покинул склад",
    10: "Отменен",
    11: "Вручен клиенту",
}
STATUS_NEW = 0
STATUS_SHIPPED = 9
STATUS_CANCELLED = 10
STATUS_DELIVERED = 11
# Handed to picking .. ready to ship: update_order keeps the customer data, not the goods
# ("The order in the assembly process(goods not saved)").
ASSEMBLY_STATUSES = frozenset(range(1, 9))

# Document statuses (callback doc.set_status). The document only names them ("Новый, Проведен,
# Отменен"); the numbers are ours, in that order.
DOC_STATUSES = {0: "Новый", 1: "Проведен", 2: "Отменен"}
DOC_TYPE_INCOMING = 0
DOC_TYPE_OUTGOING = 1
DOC_TYPES = {DOC_TYPE_INCOMING: "Приход", DOC_TYPE_OUTGOING: "Расход"}

BILLING_TYPES = {0: "Сборка заказа", 1: "Пополнение баланса", 2: "Доставка", 9: "Прочее"}

# Colour id → (Russian name, RGB as the document writes it; "trans" and "rgb" are not colours).
COLOURS = {
    1: ("Белый", "#ffffff"),
    4: ("Черный", "#000000"),
    5: ("Синий", "#0000ff"),
    6: ("Желтый", "#ffff00"),
    7: ("Оранжевый", "#ff8000"),
    8: ("Зеленый", "#008000"),
    9: ("Красный", "#ff0000"),
    10: ("Коричневый", "#964B00"),
    11: ("Голубой", "#3c9eff"),
    13: ("Серый", "#858585"),
    14: ("Прозрачный", "trans"),
    15: ("Серебряный", "#C0C0C0"),
    16: ("Фиолетовый", "#5A009D"),
    17: ("Разноцветный", "rgb"),
    18: ("Бирюзовый", "#30D5C8"),
    19: ("Золотой", "#FFD700"),
    20: ("Бежевый", "#F5F5DC"),
    21: ("Маджента", "#FF00FF"),
    22: ("Бордовый", "#800000"),
    23: ("Оливковый", "#808000"),
    24: ("Фуксия", "#FF00FF"),
    25: ("Мятный", "#00FF7F"),
    26: ("Темно-зеленый", "#006400"),
    27: ("Темно-синий", "#00008B"),
    28: ("Розовый", "#FF69B4"),
    29: ("Ярко-розовый", "#FF1493"),
    30: ("Светло-розовый", "#FFB6C1"),
    31: ("Темно-коричневый", "#800000"),
    32: ("Салатовый", "#99FF99"),
    33: ("Коралловый", "#F78181"),
    34: ("Бронзовый", "#B8860B"),
    35: ("Сиреневый", "#DA70D6"),
    36: ("Хаки", "#78866B"),
    37: ("Горчичный", "#F0A128"),
    38: ("Светло-серый", "#D3D3D3"),
    39: ("Лайм", "#C8FE2E"),
    40: ("Светло-голубой", "#A9E2F3"),
    42: ("Ярко-зеленый", "#7FFF00"),
}

# Delivery type id → name, and the courier ids the document lists for it.
DELIVERY_TYPES = {4: "Почтой России", 16: "СДЭК", 22: "Грастин", 62: "BoxBerry", 113: "Пешкарики"}
DELIVERY_COURIERS = {4: (7, 42), 16: (7,), 22: (6,), 62: (32,), 113: (40,)}
COURIERS = {7: "Грастин", 42: "Почта России", 6: "Грастин", 32: "BoxBerry", 40: "Пешкарики"}
# Order tags the document lists (its own example sends "to-assemble", which is not among them:
# tags are passed through as given).
ORDER_TAGS = {"call": "Позвонить", "nosms": "Без СМС", "problem": "Проблема"}

# The {error, code} codes.
ERROR_FATAL = 1  # Фатальная ошибка сервера
ERROR_NOT_FOUND = 2  # Объект не найден
ERROR_INCORRECT_DATA = 3  # Данные запроса неверны
ERROR_NOT_PERFORMED = 4  # Операция не выполнена
ERROR_CODES = {
    ERROR_FATAL: "Фатальная ошибка сервера",
    ERROR_NOT_FOUND: "Объект не найден",
    ERROR_INCORRECT_DATA: "Данные запроса неверны",
    ERROR_NOT_PERFORMED: "Операция не выполнена",
}


def status_name(status):
    """The document's name of an order status; '' for a code it does not list."""
    return ORDER_STATUSES.get(to_int(status), "") if to_int(status) is not None else ""


def colour_id(name):
    """The colour id of a Russian colour name (case and 'ё' ignored); None when unknown."""
    wanted = text(name).casefold().replace("ё", "е")
    for colour, (label, _rgb) in COLOURS.items():
        if label.casefold() == wanted:
            return colour
    return None


# -- time ------------------------------------------------------------------------------------
def to_timestamp(value, utc_offset_hours=3):
    """A Unix timestamp (int) for what the caller has: int/float (taken as a timestamp), a naive
    datetime (UTC, as Odoo stores them), an aware datetime, or a date (its midnight at the
    warehouse, ``utc_offset_hours`` east of UTC: Moscow by default). None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("A boolean is not a date")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return int((value - EPOCH).total_seconds())
    if isinstance(value, date):
        midnight = datetime(value.year, value.month, value.day)
        return int((midnight - EPOCH).total_seconds() - utc_offset_hours * 3600)
    number = to_int(value)
    if number is None:
        raise ValueError(f"Not a date or Unix timestamp: {text(value)[:40]!r}")
    return number


def from_timestamp(value):
    """Naive UTC datetime of a Unix timestamp (int, float or digits); None when absent, odd or 0
    (the document's examples send 0 for "not set", e.g. ``track_update``)."""
    number = to_float(value)
    if not number or isinstance(value, bool):
        return None
    try:
        return EPOCH + timedelta(seconds=number)
    except OverflowError:
        return None


# -- answers ---------------------------------------------------------------------------------
@dataclass
class ImskladWriteResult:
    """The answer to add_*/update_*: IMSKLAD's id of the object, ``result`` as sent ('ok' or
    'warning') and the ``warning`` text (update_order in assembly: goods not saved)."""

    system_id: int | None
    partner_id: str = ""
    result: str = "ok"
    warning: str = ""

    @property
    def has_warning(self):
        return bool(self.warning) or self.result == "warning"

    @property
    def goods_not_saved(self):
        """update_order during assembly: the order's goods were left as they were."""
        return self.has_warning


@dataclass
class ImskladStock:
    """Stock of one good (IMSKLAD's id): ``stock`` on hand, ``reserved`` for orders. The
    document does not say whether ``stock`` includes the reserve; ``free`` assumes it does."""

    id: int
    stock: int
    reserved: int

    @property
    def free(self):
        return max(0, self.stock - self.reserved)


@dataclass
class ImskladStockReport:
    """get_stock over any number of ids: stocks by IMSKLAD id, ids IMSKLAD does not know
    (``missing``), values that are no IMSKLAD id at all (``invalid``, never sent), requests."""

    stocks: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    invalid: list = field(default_factory=list)
    requests: int = 0


@dataclass
class ImskladBillingOperation:
    id: int | None
    order_id: int | None  # IMSKLAD's order id
    foreign_order_id: str  # our order id ('' when none)
    doc_request_id: int | None
    type: int | None
    date: datetime | None
    amount: float | None
    comment: str

    @property
    def type_name(self):
        return BILLING_TYPES.get(self.type, "") if self.type is not None else ""


@dataclass
class ImskladBilling:
    current_balance: float | None
    change_of_balance: float | None
    date_from: datetime | None
    date_to: datetime | None
    operations: list = field(default_factory=list)


# -- parsers -------------------------------------------------------------------------------
def service_error(document):
    """(code, text) of an ``{error, code}`` answer, None for any other answer. ``code`` is None
    when the answer has an error text but no readable code."""
    if not isinstance(document, dict):
        return None
    message = document.get("error")
    if message not in (None, "", False) or text(document.get("result")).lower() == "error":
        words = text(message) if not isinstance(message, (dict, list)) else ""
        return to_int(document.get("code")), words or text(document.get("message"))
    return None


def parse_write_result(document, partner_id=""):
    """ImskladWriteResult of an ``{"result": ..., "id": ...}`` answer; None when the answer is
    not one (no object, or neither a result nor an id)."""
    if not isinstance(document, dict):
        return None
    result = text(document.get("result")).lower()
    system_id = to_int(document.get("id"))
    if not result and system_id is None:
        return None
    warning = text(document.get("warning"))
    return ImskladWriteResult(
        system_id=system_id,
        partner_id=text(partner_id),
        result=result or ("warning" if warning else "ok"),
        warning=warning,
    )


def stock_rows(document):
    """ImskladStock rows of a get_stock answer: the document's array; a single object, or a
    wrapper ({"stock": [...]}, {"data": [...]}) tolerated. Rows without an id are skipped."""
    if isinstance(document, dict):
        for key in ("stock", "goods", "data", "items"):
            if isinstance(document.get(key), list):
                document = document[key]
                break
        else:
            document = [document] if "id" in document else []
    if not isinstance(document, list):
        raise BadResponse("Expected a list in the IMSKLAD get_stock answer")
    rows = []
    for row in document:
        good_id = to_int(row.get("id")) if isinstance(row, dict) else None
        if good_id is None:
            _logger.debug("IMSKLAD stock row without an id skipped")
            continue
        rows.append(ImskladStock(good_id, to_int(row.get("stock")) or 0,
                                 to_int(row.get("reserved")) or 0))  # fmt: skip
    return rows


def parse_billing(document):
    if not isinstance(document, dict):
        raise BadResponse("Expected an object in the IMSKLAD get_billing answer")
    operations = []
    rows = document.get("billing")
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, dict):
            continue
        amount = row.get("amount")
        comment = row.get("comment")
        operations.append(
            ImskladBillingOperation(
                id=to_int(row.get("id")),
                order_id=to_int(row.get("order_id")),
                foreign_order_id=text(row.get("foreign_order_id")),
                doc_request_id=to_int(row.get("doc_request_id")),
                type=to_int(row.get("type")),
                date=from_timestamp(row.get("date")),
                amount=None if isinstance(amount, (list, dict)) else to_float(amount),
                comment=comment.strip() if isinstance(comment, str) else text(comment),
            )
        )
    return ImskladBilling(
        current_balance=to_float(document.get("current_balance")),
        change_of_balance=to_float(document.get("change_of_balance")),
        date_from=from_timestamp(document.get("from")),
        date_to=from_timestamp(document.get("to")),
        operations=operations,
    )
