"""The UDOMA emulator's organisation: shops bound to source-system ids, the group tree,
nomenclature, per-shop assortment and marketplace orders, and the handlers of the three methods.

Validation, in the order a request meets it (the first failure answers):

1. the body must be a JSON object → 400 without a code ("Возможно невалидный json-объект");
2. required fields (the document's "Да" rows) present and of the right type → 400
   ``invalid.json`` naming the field(s) in ``detail.fields``;
3. method rules: ``nomenclature.doubles`` (one sourceSystemId twice in the request),
   ``nomenclature.barcode.doubles`` (one barCode twice in the request, or the barCode of another
   item of the organisation that is not deleted), ``nomenclature.group.source.system.id.not.found``
   (v1: an unknown group), ``nomenclature.group.parent.source.system.id`` (v1: a group that has
   sub-groups), ``shop.not.found.by.source.system.id`` (a shop id not bound). The items concerned
   are named in ``detail`` (``sourceSystemIds``, ``barCodes``, ``groupSourceSystemIds``,
   ``shopSourceSystemIds``) unless ``name_items_in_errors`` is off (the real service may not).

A refused request changes nothing. Decisions where the document is silent:

* v2 nomenclature for a shop that is not bound: ``shop.not.found.by.source.system.id`` (the v2
  table does not list it, but the shop must be bound before any import); v2 items are recorded
  per shop (``shops``) in the one organisation-wide nomenclature. v2 ignores
  ``turnOffMissingNomenclature`` (not in its table).
* ``okeiCode`` outside the document's list is stored as 796, as the document says.
* ``turnOffMissingNomenclature`` (v1) switches off every item not in the request: ``turnedOff``
  true and its price and remains zeroed in every shop. An item sent again is switched on.
  ``moveNomenclatureInGroups`` false keeps an existing item in its group.
* Assortment rows for a nomenclature id the organisation does not know are stored (the document
  does not refuse them) and counted in the answer's ``detail.unknownNomenclature``.
  ``salePrice``/``salePercent``: the missing one is computed from the other and the price.
  ``turnOffMissingAssortment`` zeroes remains and price of the shops' rows not in the request.
  A row repeated in one request: the last one wins (the document's own example repeats one).
* ``export-orders`` (v1 only): orders of the shop with ``dateFromUtc < dateUtc <= dateToUtc``
  (both optional), oldest first; a shop that is not bound has no orders (empty list; the document
  lists no error for it). ``export_all_shops`` answers the orders of every bound shop, as the
  document's example answer does. ``dateUtc`` is written with ``date_offset_hours`` (default +5,
  as in the document's example). Unreadable dates → ``invalid.json``.
* Answers of the imports: ``{"code": "import.successful", "detail": {...counts}}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .udoma_demo import DEMO_GROUPS, DEMO_SHOPS

UTC = timezone.utc  # noqa: UP017 - Odoo 18 still runs on Python 3.10

OKEI_CODES = (796, 166, 163, 778, 112)
OKEI_PIECE = 796
PAYMENT_METHODS = ("terminal", "cash")

# The document's error codes and their descriptions (in its words).
INVALID_JSON = "invalid.json"
EMPTY_KEY = "empty.api.key.not.allowed"
KEY_NOT_FOUND = "api.key.not.found"
DOUBLES = "nomenclature.doubles"
BARCODE_DOUBLES = "nomenclature.barcode.doubles"
GROUP_NOT_FOUND = "nomenclature.group.source.system.id.not.found"
GROUP_HAS_CHILDREN = "nomenclature.group.parent.source.system.id"
SHOP_NOT_FOUND = "shop.not.found.by.source.system.id"
MESSAGES = {
    None: "Возможно невалидный json-объект запроса",
    INVALID_JSON: "В json-объекте отсутствуют обязательные поля",
    EMPTY_KEY: "Отсутствует API-ключ в заголовке запроса",
    KEY_NOT_FOUND: "Неверный или устаревшний API-ключ",
    DOUBLES: "Есть дубликаты в идентификаторах позиций номенклатуры",
    BARCODE_DOUBLES: "Есть дубликаты в штрих-кодах позиций номенклатуры",
    GROUP_NOT_FOUND: "Не найдена группа номенклатуры",
    GROUP_HAS_CHILDREN: (
        "Родительская группа импортируемой номенклатуры имеет дочерние группы. Группа должна "
        "содержать либо позиции номенклатуры, либо дочерние группы, но не вместе"
    ),
    SHOP_NOT_FOUND: (
        "В настройках интеграции нет привязки к магазину идентификатора в учетной системе "
        "пользователя"
    ),
}
IMPORT_OK = "import.successful"
SEARCH_OK = "search.successful"


class Refusal(Exception):
    """A refused request: HTTP ``status``, the document's ``code`` (None: no code), ``detail``."""

    def __init__(self, status: int, code: str | None, detail: dict | None = None):
        super().__init__(code or "invalid request")
        self.status = status
        self.code = code
        self.detail = detail or {}

    def body(self, name_items: bool = True) -> dict:
        detail = dict(self.detail)
        if not name_items:
            detail = {key: value for key, value in detail.items() if key == "fields"}
        body = {"code": self.code, "message": MESSAGES.get(self.code, "")} if self.code \
            else {"message": MESSAGES[None]}  # fmt: skip
        if detail:
            body["detail"] = detail
        return body


@dataclass
class Group:
    source_id: str
    name: str
    parent_id: str | None = None


@dataclass
class Item:
    """One nomenclature item (its fields as last imported)."""

    source_id: str
    fields: dict
    group_id: str | None = None
    shops: set = field(default_factory=set)  # v2: shops it was imported for
    turned_off: bool = False
    deleted: bool = False
    imports: int = 0

    def to_dict(self) -> dict:
        return {**self.fields, "sourceSystemId": self.source_id,
                "groupSourceSystemId": self.group_id, "shops": sorted(self.shops),
                "turnedOff": self.turned_off, "deleted": self.deleted, "imports": self.imports}


# -- readers -----------------------------------------------------------------------------------
def _text(value) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if value == value and abs(value) != float("inf") else None


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.I,
)


def parse_time(value) -> datetime | None:
    """ISO 8601 with or without an offset (none = UTC) → naive UTC; None when unreadable."""
    match = _ISO.match(_text(value))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second or 0), int((fraction or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    if offset and offset.upper() != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def format_time(moment: datetime, offset_hours: float) -> str:
    """Naive UTC → ISO 8601 in ``offset_hours`` with microseconds, like the document's example."""
    shifted = moment + timedelta(hours=offset_hours)
    minutes = int(round(offset_hours * 60))
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{shifted.isoformat(timespec='microseconds')}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _require(missing: list):
    if missing:
        raise Refusal(400, INVALID_JSON, {"fields": sorted(set(missing))[:20]})


def _doubles(values) -> list[str]:
    seen, twice = set(), []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice


class UdomaStoreMixin:
    """The organisation and the three methods; the emulator holds ``self.lock``."""

    def _init_store(self, shops=None, groups=None, orders=None, *, key: str):
        self.api_key = key
        self.retired_keys: list[str] = []
        self.shops: dict[str, str] = dict(DEMO_SHOPS if shops is None else shops)
        self.groups: dict[str, Group] = {}
        for source_id, (name, parent) in (DEMO_GROUPS if groups is None else groups).items():
            self.groups[source_id] = Group(source_id, name, parent)
        self.nomenclature: dict[str, Item] = {}
        # barCode → sourceSystemIds of the items (not deleted) that carry it
        self._barcodes: dict[str, set] = {}
        # (shop id, nomenclature id) → {"remains", "price", "salePrice", "salePercent"}
        self.assortment: dict[tuple[str, str], dict] = {}
        self.orders: list[dict] = []
        for order in orders or ():
            self.add_order(order)

    # -- administration (control routes, tests) ------------------------------------------------
    def regenerate_key(self, new_key: str | None = None) -> str:
        """Issue a new key; the old one stops working at once (as in UDOMA's settings)."""
        import uuid

        with self.lock:
            self.retired_keys.append(self.api_key)
            self.api_key = new_key or str(uuid.uuid4())
            return self.api_key

    def bind_shop(self, source_id: str, name: str = "", bound: bool = True):
        with self.lock:
            if bound:
                self.shops[source_id] = name or self.shops.get(source_id) or source_id
            else:
                self.shops.pop(source_id, None)

    def add_group(self, source_id: str, name: str = "", parent_id: str | None = None) -> Group:
        """Create or move a group; refused (ValueError) when its parent holds items (a group
        holds either items or sub-groups, never both) or the parent is unknown."""
        with self.lock:
            if parent_id:
                if parent_id not in self.groups:
                    raise ValueError(f"unknown parent group {parent_id!r}")
                holding = [i.source_id for i in self.nomenclature.values()
                           if i.group_id == parent_id and not i.deleted]  # fmt: skip
                if holding:
                    raise ValueError(
                        f"group {parent_id!r} holds items ({', '.join(holding[:3])}); a group "
                        "holds either items or sub-groups, never both")  # fmt: skip
                ancestor = parent_id
                while ancestor:
                    if ancestor == source_id:
                        raise ValueError("a group cannot be its own ancestor")
                    ancestor = self.groups[ancestor].parent_id
            group = Group(source_id, name or source_id, parent_id or None)
            self.groups[source_id] = group
            return group

    def add_order(self, order: dict) -> dict:
        """Store a marketplace order (``dateUtc`` a naive UTC datetime or ISO text)."""
        when = order.get("dateUtc")
        if not isinstance(when, datetime):
            when = parse_time(when)
            if when is None:
                raise ValueError("an order needs a readable dateUtc")
        if not _text(order.get("orderId")) or not _text(order.get("shopSourceSystemId")):
            raise ValueError("an order needs orderId and shopSourceSystemId")
        stored = {**order, "dateUtc": when}
        with self.lock:
            self.orders = [o for o in self.orders if o["orderId"] != stored["orderId"]]
            self.orders.append(stored)
            self.orders.sort(key=lambda o: o["dateUtc"])
        return stored

    # -- import-nomenclature ---------------------------------------------------------------
    def import_nomenclature(self, version: str, body: dict) -> dict:
        rows = body.get("nomenclatures")
        missing = []
        if not isinstance(rows, list):
            missing.append("nomenclatures")
            rows = []
        shop = _text(body.get("shopSourceSystemId"))
        if version == "v2" and not shop:
            missing.append("shopSourceSystemId")
        required = ("sourceSystemId", "name") + (("groupSourceSystemId",) if version == "v1"
                                                 else ())  # fmt: skip
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                missing.append(f"nomenclatures[{index}]")
                continue
            missing.extend(f"nomenclatures[{index}].{key}" for key in required
                           if not _text(row.get(key)))  # fmt: skip
        _require(missing)
        ids = [_text(row["sourceSystemId"]) for row in rows]
        twice = _doubles(ids)
        if twice:
            raise Refusal(400, DOUBLES, {"sourceSystemIds": twice})
        with self.lock:
            barcodes = [_text(row.get("barCode")) for row in rows]
            twice = _doubles([b for b in barcodes if b])
            sent = set(ids)
            for barcode in barcodes:
                if barcode and barcode not in twice \
                        and self._barcodes.get(barcode, set()) - sent:  # fmt: skip
                    twice.append(barcode)
            if twice:
                raise Refusal(400, BARCODE_DOUBLES, {"barCodes": twice})
            if version == "v2" and shop not in self.shops:
                raise Refusal(400, SHOP_NOT_FOUND, {"shopSourceSystemIds": [shop]})
            move = body.get("moveNomenclatureInGroups")
            move = True if move is None else bool(move)
            if version == "v1":
                self._check_groups(rows, ids, move)
            return self._store_nomenclature(version, body, rows, ids, shop, move)

    def _check_groups(self, rows, ids, move):
        unknown, parents = [], []
        with_children = {g.parent_id for g in self.groups.values() if g.parent_id}
        for source_id, row in zip(ids, rows, strict=True):
            group = _text(row["groupSourceSystemId"])
            existing = self.nomenclature.get(source_id)
            if existing is not None and not move and existing.group_id:
                group = existing.group_id
            if group not in self.groups:
                unknown.append(group)
            elif group in with_children:
                parents.append(group)
        if unknown:
            raise Refusal(400, GROUP_NOT_FOUND, {"groupSourceSystemIds": sorted(set(unknown))})
        if parents:
            raise Refusal(400, GROUP_HAS_CHILDREN, {"groupSourceSystemIds": sorted(set(parents))})

    def _store_nomenclature(self, version, body, rows, ids, shop, move):
        turned_off = 0
        for source_id, row in zip(ids, rows, strict=True):
            fields = {key: row[key] for key in ("name", "shortDescription", "description",
                                                "vendorCode", "barCode") if key in row}  # fmt: skip
            code = row.get("okeiCode")
            fields["okeiCode"] = code if code in OKEI_CODES and not isinstance(code, bool) \
                else OKEI_PIECE  # fmt: skip
            fields["alcohol"] = bool(row.get("alcohol"))
            fields["tobacco"] = bool(row.get("tobacco"))
            item = self.nomenclature.get(source_id)
            if item is None:
                item = self.nomenclature[source_id] = Item(source_id, fields)
            else:
                self._index_barcode(item, False)
                item.fields = fields
            if version == "v1" and (move or not item.group_id):
                item.group_id = _text(row["groupSourceSystemId"])
            if version == "v2":
                item.shops.add(shop)
            item.deleted = bool(row.get("deleted"))
            item.turned_off = False
            item.imports += 1
            self._index_barcode(item, True)
        if version == "v1" and body.get("turnOffMissingNomenclature") is True:
            sent = set(ids)
            switched = set()
            for item in self.nomenclature.values():
                if item.source_id not in sent and not item.turned_off:
                    item.turned_off = True
                    switched.add(item.source_id)
            turned_off = len(switched)
            for (_shop, source_id), row in self.assortment.items():
                if source_id in switched:
                    row.update(remains=0, price=0, salePrice=None, salePercent=None)
        return {"code": IMPORT_OK, "detail": {"imported": len(rows), "turnedOff": turned_off}}

    def _index_barcode(self, item: Item, add: bool):
        barcode = _text(item.fields.get("barCode"))
        if not barcode:
            return
        holders = self._barcodes.setdefault(barcode, set())
        if add and not item.deleted:
            holders.add(item.source_id)
        else:
            holders.discard(item.source_id)

    # -- import-assortment -----------------------------------------------------------------
    def import_assortment(self, version: str, body: dict) -> dict:
        rows = body.get("shopAssortment")
        missing = []
        if not isinstance(rows, list):
            missing.append("shopAssortment")
            rows = []
        top_shop = _text(body.get("shopSourceSystemId"))
        if version == "v2" and not top_shop:
            missing.append("shopSourceSystemId")
        parsed = []
        for index, row in enumerate(rows):
            where = f"shopAssortment[{index}]"
            if not isinstance(row, dict):
                missing.append(where)
                continue
            shop = top_shop if version == "v2" else _text(row.get("shopSourceSystemId"))
            source_id = _text(row.get("nomenclatureSourceSystemId"))
            remains, price = _number(row.get("remains")), _number(row.get("price"))
            checks = (("shopSourceSystemId", shop), ("nomenclatureSourceSystemId", source_id),
                      ("remains", remains is not None), ("price", price is not None))
            missing.extend(f"{where}.{key}" for key, ok in checks if not ok)
            for key in ("salePrice", "salePercent"):
                if row.get(key) is not None and _number(row.get(key)) is None:
                    missing.append(f"{where}.{key}")
            parsed.append((shop, source_id, remains, price, row))
        _require(missing)
        with self.lock:
            shops = {shop for shop, *_rest in parsed} | ({top_shop} if top_shop else set())
            unknown = sorted(shop for shop in shops if shop not in self.shops)
            if unknown:
                raise Refusal(400, SHOP_NOT_FOUND, {"shopSourceSystemIds": unknown})
            unknown_items = set()
            sent = set()
            for shop, source_id, remains, price, row in parsed:
                sale_price = _number(row.get("salePrice"))
                sale_percent = _number(row.get("salePercent"))
                if sale_price is None and sale_percent is not None:
                    sale_price = round(price * (1 - sale_percent / 100), 2)
                elif sale_percent is None and sale_price is not None and price:
                    sale_percent = round((1 - sale_price / price) * 100, 2)
                self.assortment[(shop, source_id)] = {
                    "remains": remains, "price": price, "salePrice": sale_price,
                    "salePercent": sale_percent}  # fmt: skip
                sent.add((shop, source_id))
                if source_id not in self.nomenclature:
                    unknown_items.add(source_id)
            zeroed = 0
            if body.get("turnOffMissingAssortment") is True:
                for key, row in self.assortment.items():
                    if key[0] in shops and key not in sent and (row["remains"] or row["price"]):
                        row.update(remains=0, price=0, salePrice=None, salePercent=None)
                        zeroed += 1
        return {"code": IMPORT_OK, "detail": {"imported": len(parsed), "turnedOff": zeroed,
                                              "unknownNomenclature": sorted(unknown_items)}}

    # -- export-orders -----------------------------------------------------------------------
    def export_orders(self, body: dict) -> dict:
        shop = _text(body.get("shopSourceSystemId"))
        missing = [] if shop else ["shopSourceSystemId"]
        bounds = []
        for key in ("dateFromUtc", "dateToUtc"):
            value = body.get(key)
            moment = None if value in (None, "") else parse_time(value)
            if value not in (None, "") and moment is None:
                missing.append(key)
            bounds.append(moment)
        _require(missing)
        start, end = bounds
        with self.lock:
            shops = set(self.shops) if self.export_all_shops else {shop} & set(self.shops)
            rows = [self._order_out(order) for order in self.orders
                    if order["shopSourceSystemId"] in shops
                    and (start is None or order["dateUtc"] > start)
                    and (end is None or order["dateUtc"] <= end)]  # fmt: skip
        return {"code": SEARCH_OK, "detail": {"orders": rows}}

    def _order_out(self, order: dict) -> dict:
        out = {key: value for key, value in order.items() if key != "dateUtc"}
        out["dateUtc"] = format_time(order["dateUtc"], self.date_offset_hours)
        out["positions"] = [dict(p) for p in order.get("positions", ())]
        return out
