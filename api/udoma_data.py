"""UDOMA marketplace: what UdomaClient sends and reads, as plain dataclasses, and the builders and
tolerant readers that turn them into the document's JSON and back.

Sent (dataclasses or plain mappings with the same keys):

- :class:`UdomaNomenclature`: one catalogue item (``import-nomenclature``);
- :class:`UdomaAssortmentRow`: one shop's remains and price of an item (``import-assortment``).

Read:

- :class:`UdomaOrder` / :class:`UdomaOrderPosition`: one marketplace order (``export-orders``);
- :class:`UdomaImportResult`: the outcome of an import over any number of items, with
  per-item errors (:class:`UdomaItemError`) mapped to the items' ``sourceSystemId``;
- :class:`UdomaOrderExport`: the orders of a window (iterable like a list of orders).

Groups (v1): the document has no call to create groups; they are made in UDOMA (or bound in its
integration settings) and items name theirs by ``groupSourceSystemId``. Its rule — a group holds
either items or sub-groups, never both — is checked before sending by :func:`group_conflicts`.
"""

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

from .etm_data import text, to_float
from .shate_convert import to_datetime

UTC = timezone.utc  # noqa: UP017 - datetime.UTC needs Python 3.11; Odoo 18 runs on 3.10

VERSIONS = ("v1", "v2")
# Units (okeiCode) the document allows; anything else UDOMA reads as 796 (pieces).
OKEI_PIECE = 796
OKEI_CODES = {796: "pcs", 166: "kg", 163: "100 g", 778: "pack", 112: "l"}
PAYMENT_METHODS = ("terminal", "cash")

# The document's answer and error codes (strings, sent in the body's ``code``).
CODE_SEARCH_OK = "search.successful"
CODE_IMPORT_OK = "import.successful"  # ours: the document shows no import answer
CODE_INVALID_JSON = "invalid.json"
CODE_EMPTY_KEY = "empty.api.key.not.allowed"
CODE_KEY_NOT_FOUND = "api.key.not.found"
CODE_DOUBLES = "nomenclature.doubles"
CODE_BARCODE_DOUBLES = "nomenclature.barcode.doubles"
CODE_GROUP_NOT_FOUND = "nomenclature.group.source.system.id.not.found"
CODE_GROUP_HAS_CHILDREN = "nomenclature.group.parent.source.system.id"
CODE_SHOP_NOT_FOUND = "shop.not.found.by.source.system.id"
# Item-level codes: the request failed because of some items; the others can be sent again.
ITEM_CODES = frozenset({CODE_DOUBLES, CODE_BARCODE_DOUBLES, CODE_GROUP_NOT_FOUND,
                        CODE_GROUP_HAS_CHILDREN})  # fmt: skip

# Per-item error codes of UdomaItemError (the Odoo layer words them for users).
ITEM_INVALID = "invalid"  # a required field is missing or unreadable: never sent
ITEM_DUPLICATE_ID = "duplicate_id"  # two items with one sourceSystemId
ITEM_DUPLICATE_BARCODE = "duplicate_barcode"  # two items with one barCode
ITEM_GROUP_NOT_FOUND = "group_not_found"
ITEM_GROUP_HAS_SUBGROUPS = "group_has_subgroups"
ITEM_REJECTED = "rejected"  # UDOMA refused the item for another reason
SERVICE_TO_ITEM_CODE = {
    CODE_DOUBLES: ITEM_DUPLICATE_ID,
    CODE_BARCODE_DOUBLES: ITEM_DUPLICATE_BARCODE,
    CODE_GROUP_NOT_FOUND: ITEM_GROUP_NOT_FOUND,
    CODE_GROUP_HAS_CHILDREN: ITEM_GROUP_HAS_SUBGROUPS,
}

_MAX_SHOWN = 60


# -- what is sent ----------------------------------------------------------------------------
@dataclass
class UdomaNomenclature:
    """One catalogue item. ``source_id`` is our stable id (sourceSystemId); ``group_source_id``
    is required by v1 and not sent by v2. Optional texts left None or '' are not sent."""

    source_id: str
    name: str
    group_source_id: str | None = None
    short_description: str | None = None
    description: str | None = None
    vendor_code: str | None = None
    barcode: str | None = None
    okei_code: int | None = None  # see OKEI_CODES; None: not sent (UDOMA: pieces)
    alcohol: bool = False
    tobacco: bool = False
    deleted: bool = False


@dataclass
class UdomaAssortmentRow:
    """One item's remains and price in one shop. Send ``sale_price`` or ``sale_percent`` (or
    both): UDOMA computes the missing one."""

    source_id: str  # nomenclatureSourceSystemId
    remains: float
    price: float
    sale_price: float | None = None
    sale_percent: float | None = None


@dataclass
class UdomaGroup:
    """A group as our side maps it: its id and its parent's id (None: a top group)."""

    source_id: str
    parent_source_id: str | None = None


# -- what is read ----------------------------------------------------------------------------
@dataclass
class UdomaOrderPosition:
    source_id: str  # nomenclatureSourceSystemId ('' when UDOMA sent none)
    quantity: float
    price: float  # purchasePrice: the price as bought


@dataclass
class UdomaOrder:
    """One marketplace order. ``date`` is naive UTC (from ``dateUtc``); ``delivery_cost`` None
    when UDOMA sent none; ``problems``: what could not be read (an unreadable position is listed
    here, never dropped silently); ``raw`` is the order object as received (for the log)."""

    order_id: str
    shop_source_id: str
    ticket_number: str
    date: datetime | None
    payment_method: str
    delivery_cost: float | None = None
    positions: list = field(default_factory=list)
    # Plain English about parts that could not be read (a position, the date): for the log.
    problems: list = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def total(self):
        """Positions (quantity × price) plus delivery, rounded to kopecks."""
        amount = sum(p.quantity * p.price for p in self.positions) + (self.delivery_cost or 0.0)
        return round(amount, 2)


@dataclass
class UdomaItemError:
    """Why one item of an import was not accepted. ``index``: its position in what the caller
    passed; ``source_id``: its sourceSystemId ('' when it had none); ``code``: one of the
    ``ITEM_*`` codes; ``message``: plain English; ``service_code``: UDOMA's code when UDOMA
    refused it ('' when the client refused it before sending)."""

    index: int
    source_id: str
    code: str
    message: str
    service_code: str = ""


@dataclass
class UdomaImportResult:
    """The outcome of an import over any number of items.

    ``accepted``: the sourceSystemIds UDOMA accepted, in the order sent; ``errors``: one
    UdomaItemError per refused item (the item is in no request that succeeded); ``warnings``:
    (index, source_id, text) for items sent with a change (e.g. an unknown unit sent as pieces);
    ``requests``: HTTP requests made; ``turned_off``: True when ``turnOffMissing…`` was sent and
    accepted (only when every item was accepted: see UdomaClient); ``notes``: plain English
    about the import as a whole (e.g. why the turn-off was not sent)."""

    accepted: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    requests: int = 0
    turned_off: bool = False
    notes: list = field(default_factory=list)

    @property
    def errors_by_id(self):
        """{sourceSystemId: [UdomaItemError, ...]} (two items may share an id)."""
        grouped = {}
        for error in self.errors:
            grouped.setdefault(error.source_id, []).append(error)
        return grouped

    @property
    def ok(self):
        return not self.errors


@dataclass
class UdomaOrderExport:
    """The orders of one window. Iterating it (or ``len``) gives the orders; ``skipped`` holds
    plain-English reasons for order objects that could not be read (no ``orderId``), which the
    caller logs; ``requests``: HTTP requests made."""

    orders: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    requests: int = 0
    shop_source_id: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None

    def __iter__(self):
        return iter(self.orders)

    def __len__(self):
        return len(self.orders)


# -- converters ------------------------------------------------------------------------------
def shown(value):
    """A value quoted in a message, cut to a readable length."""
    value = text(value)
    return value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 1] + "…"


def as_record(value, cls):
    """``value`` (an instance of ``cls`` or a mapping with its field names) as ``cls``."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        names = {f.name for f in fields(cls)}
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"Unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
        return cls(**value)
    raise TypeError(f"Expected {cls.__name__} or a mapping, got {type(value).__name__}")


def id_text(value):
    """An id as sent: str of a str or an int; '' for None, bool, floats and containers."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return text(value)


def money(value):
    """A finite non-negative number rounded to kopecks; None when absent or unreadable."""
    number = to_float(value)
    if number is None or number < 0:
        return None
    return round(number, 2)


def quantity(value):
    """A finite non-negative quantity (ints stay ints in the JSON); None when unreadable."""
    number = to_float(value)
    if number is None or number < 0:
        return None
    return int(number) if float(number).is_integer() else round(number, 3)


def format_utc(value):
    """A naive-UTC or aware datetime as ISO 8601 with an explicit +00:00 offset (seconds, or
    microseconds when it has them), as the document's examples write times."""
    if not isinstance(value, datetime):
        raise TypeError(f"Expected a datetime, got {type(value).__name__}")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec) + "+00:00"


def parse_utc(value):
    """``dateUtc`` (ISO 8601 with any offset, or none = UTC) → naive UTC datetime; None when
    unreadable."""
    return to_datetime(value)


def duplicates(values):
    """The values that occur more than once (empty values ignored)."""
    counts = Counter(value for value in values if value)
    return {value for value, count in counts.items() if count > 1}


def group_conflicts(groups, item_group_ids):
    """Groups that would break UDOMA's rule "a group holds either items or sub-groups, never
    both", before anything is sent.

    ``groups``: UdomaGroup objects, mappings ``{"source_id", "parent_source_id"}`` or a dict
    ``{group_id: parent_id or None}``; ``item_group_ids``: the groupSourceSystemId of every item
    to send. Returns ``{group_id: plain-English reason}`` for each group that items are put in
    while it is the parent of another group. Items of such a group must be refused before
    sending (UDOMA answers ``nomenclature.group.parent.source.system.id`` for the whole request).
    """
    if isinstance(groups, Mapping):
        pairs = [(id_text(key), id_text(parent)) for key, parent in groups.items()]
    else:
        pairs = []
        for group in groups or ():
            group = as_record(group, UdomaGroup)
            pairs.append((id_text(group.source_id), id_text(group.parent_source_id)))
    children = {}
    for group_id, parent_id in pairs:
        if parent_id:
            children.setdefault(parent_id, []).append(group_id)
    conflicts = {}
    for group_id in sorted({id_text(value) for value in item_group_ids or ()} - {""}):
        if group_id in children:
            subgroups = ", ".join(sorted(children[group_id])[:5])
            conflicts[group_id] = (
                f"Group '{shown(group_id)}' has sub-groups ({shown(subgroups)}); UDOMA lets a "
                "group hold either items or sub-groups, never both: put the items in a "
                "sub-group or map them to another group"
            )
    return conflicts


_CODE_WORDS = re.compile(r"^[a-z][a-z0-9]*(?:\.[a-z0-9]+)+$")


def looks_like_code(value):
    """True for UDOMA-style codes ("api.key.not.found", "search.successful")."""
    return bool(_CODE_WORDS.match(text(value)))


def is_finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
