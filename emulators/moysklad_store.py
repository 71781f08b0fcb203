"""The MoySklad emulator's account: entities kept as compact records, rendered on demand in the
official JSON shapes, and written by create/update with the service's validation.

* A record is a dict: ``id``, ``_type``, ``updated``/``created`` (Moscow time
  ``YYYY-MM-DD HH:MM:SS.fff``, strictly increasing) and the fields of ``FIELDS[type]``; references
  are :class:`Ref` (type, id); money is in kopecks as sent (``salePrices`` as
  ``[value, price type id, currency id]``, ``buyPrice``/``minPrice`` as ``[value, currency id]``).
  100,000 synthetic products take about 2 KB each (about 250 MB for the process).
* Hrefs are written with the placeholder :data:`ROOT` and the emulator replaces it in the
  serialised answer by the URL the client used (``http://<Host>/api/remap/1.2``), so ``nextHref``
  and every ``meta.href`` lead back to the emulator.
* Incoming references (``{"meta": {"href": …}}``) are read by the href's last path segments
  (``entity/<type>/<id>``, ``context/companysettings/pricetype/<id>``,
  ``entity/<doc>/metadata/states/<id>``), whatever the host: a missing entity → 404 code 1021,
  a bad UUID → 400 code 1052, a reference of another type than the field takes → 400 code 2024.
* Structured addresses (``legalAddressFull``, ``actualAddressFull``): the text parts are checked
  for type and length (``postalCode`` 6, ``house`` and ``apartment`` 30, the others 255: 400
  codes 2016 / 3040), the ``country`` is a reference to ``entity/country`` (an unknown country
  → 404 code 1021, a reference to another type → 400 code 2024, like every reference), and the
  address string is rebuilt from the parts, the country by its name (the document's rule:
  postalCode, country, region, city, street, house, apartment, addInfo joined by ", "); a
  string sent alone becomes the ``addInfo`` of the structured address (also the document's
  rule). The address is replaced as a whole when sent.
* Validation (decisions where the documentation is silent on details): a missing ``name`` on
  creation → 412 code 3000 (``parameter`` the field); a value of the wrong JSON type → 400 code
  2016; ``code`` unique among products, services and variants → 412 code 3006; ``syncId`` must
  be a UUID (2016) and cannot change on update (1047); creating with a ``syncId`` already known
  for the type answers the existing entity unchanged (the documented idempotence); unknown fields
  and read-only fields are ignored, as the documentation says of read-only ones. Variants need
  ``product`` and non-empty ``characteristics`` (3000); their name is the product's name with
  the characteristic values in brackets unless given.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from typing import NamedTuple

from .moysklad_protocol import UUID_RE, MsError

ROOT = "@@MSROOT@@"
MSK = dt.timezone(dt.timedelta(hours=3))
ACCOUNT_ID = "6270cd18-2c7f-11e6-8a84-bae500000001"
EMPLOYEE_ID = "faba7f37-2e58-11e6-8a84-bae500000028"
GROUP_ID = "f97aa1fb-2e58-11e6-8a84-bae500000002"


class RawJson(str):
    """A value already serialised as JSON (a list row, a report row, a bulk answer item)."""


class Ref(NamedTuple):
    type: str
    id: str


# field kinds: str, text, bool, num, int, uuid, dt, obj, list, ref:<type|type>, money,
# saleprices, barcodes, characteristics, images, positions, accounts, contactpersons
_NAMED = {"name": "str", "code": "str", "externalCode": "str", "description": "text",
          "archived": "bool"}
_GOODS = {**_NAMED, "uom": "ref:uom", "productFolder": "ref:productfolder",
          "salePrices": "saleprices", "buyPrice": "money", "minPrice": "money",
          "barcodes": "barcodes", "vat": "int", "vatEnabled": "bool", "syncId": "uuid",
          "paymentItemType": "str", "discountProhibited": "bool", "attributes": "list"}
_DOCUMENT = {"name": "str", "code": "str", "externalCode": "str", "description": "text",
             "moment": "dt", "applicable": "bool", "organization": "ref:organization",
             "agent": "ref:counterparty|organization", "store": "ref:store",
             "state": "ref:state", "rate": "obj", "vatEnabled": "bool", "vatIncluded": "bool",
             "positions": "positions", "syncId": "uuid", "shared": "bool",
             "deliveryPlannedMoment": "dt", "shipmentAddress": "str"}
_COMPANY = {**_NAMED, "legalTitle": "str", "legalAddress": "str", "actualAddress": "str",
            "legalAddressFull": "address", "actualAddressFull": "address", "companyType": "str",
            "inn": "str", "kpp": "str", "ogrn": "str", "ogrnip": "str", "okpo": "str",
            "email": "str", "phone": "str", "fax": "str", "tags": "list",
            "legalFirstName": "str", "legalLastName": "str", "legalMiddleName": "str",
            "certificateNumber": "str", "certificateDate": "dt", "accounts": "accounts",
            "syncId": "uuid"}
FIELDS: dict[str, dict[str, str]] = {
    "product": {**_GOODS, "article": "str", "weight": "num", "volume": "num",
                "images": "images", "supplier": "ref:counterparty", "trackingType": "str"},
    "service": dict(_GOODS),
    "variant": {"name": "str", "code": "str", "externalCode": "str", "description": "text",
                "archived": "bool", "product": "ref:product",
                "characteristics": "characteristics", "salePrices": "saleprices",
                "buyPrice": "money", "minPrice": "money", "barcodes": "barcodes",
                "syncId": "uuid"},
    "productfolder": {**_NAMED, "productFolder": "ref:productfolder", "vat": "int",
                      "vatEnabled": "bool"},
    "uom": {"name": "str", "code": "str", "externalCode": "str", "description": "text"},
    "currency": {"name": "str", "fullName": "str", "code": "str", "isoCode": "str",
                 "rate": "num", "multiplicity": "int", "indirect": "bool", "archived": "bool",
                 "system": "bool", "margin": "num", "rateUpdateType": "str"},
    "store": {**_NAMED, "address": "str", "addressFull": "obj"},
    "organization": {**_COMPANY},
    "counterparty": {**_COMPANY, "contactpersons": "contactpersons"},
    "state": {"name": "str", "color": "int", "stateType": "str", "entityType": "str"},
    "country": {"name": "str", "code": "str", "externalCode": "str", "description": "text"},
    "webhook": {"url": "str", "action": "str", "entityType": "str", "method": "str",
                "enabled": "bool", "diffType": "str"},
    "webhookstock": {"url": "str", "stockType": "str", "reportType": "str",
                     "enabled": "bool"},
    "customerorder": dict(_DOCUMENT),
    "purchaseorder": dict(_DOCUMENT),
    "demand": {**_DOCUMENT, "customerOrder": "ref:customerorder"},
    "supply": {**_DOCUMENT, "purchaseOrder": "ref:purchaseorder", "incomingNumber": "str",
               "incomingDate": "dt"},
}
ACCOUNT_FIELDS = {"accountNumber": "str", "bankName": "str", "bic": "str",
                   "correspondentAccount": "str", "bankLocation": "str", "isDefault": "bool"}
CONTACT_FIELDS = {"name": "str", "position": "str", "phone": "str", "email": "str",
                   "externalCode": "str", "description": "text"}
# The structured address (the document's table): text parts with their lengths, the country
# (a reference to entity/country) and the region (kept as sent: no region list here).
ADDRESS_PARTS = {"postalCode": 6, "city": 255, "street": 255, "house": 30, "apartment": 30,
                 "addInfo": 255, "comment": 255}
# The address string is the parts joined in this order (the document's rule).
ADDRESS_ORDER = ("postalCode", "country", "region", "city", "street", "house", "apartment",
                 "addInfo")
_POSITION_FIELDS = {"quantity": "num", "price": "num", "discount": "num", "vat": "int",
                    "reserve": "num", "assortment": "ref:product|service|variant"}
ASSORTMENT_TYPES = ("product", "service", "variant")
DOCUMENT_TYPES = ("customerorder", "purchaseorder", "demand", "supply")
REQUIRED = {"variant": ("product", "characteristics"),
            "customerorder": ("organization", "agent"),
            "purchaseorder": ("organization", "agent"),
            "demand": ("organization", "agent", "store"),
            "supply": ("organization", "agent", "store"),
            "webhook": ("url", "action", "entityType"),
            "webhookstock": ("url", "reportType", "stockType"),
            "state": ("name",)}
NO_NAME = frozenset({"variant", "webhook", "webhookstock", "customerorder", "purchaseorder",
                     "demand", "supply"})
OWNED = frozenset({"product", "service", "variant", "productfolder", "store", "organization",
                   "counterparty", *DOCUMENT_TYPES})
_HREF = re.compile(
    r"/(?:context/companysettings/(?P<pricetype>pricetype)"
    r"|entity/[a-z]+/metadata/(?P<state>states)"
    r"|entity/(?P<type>[a-z]+))/(?P<id>[^/?#]+)/?(?:[?#].*)?$")
_MAX_LEN = {"str": 255, "text": 4096}
# Requisites a counterparty shows per companyType (the document's three tables); the others
# are ignored on write, as the document says of the names for a legal entity.
_FIO = ("legalFirstName", "legalLastName", "legalMiddleName")
REQUISITES = {
    "legal": frozenset(("legalTitle", "inn", "kpp", "ogrn", "okpo")),
    "entrepreneur": frozenset(("legalTitle", *_FIO, "inn", "ogrnip", "okpo",
                               "certificateNumber", "certificateDate")),
    "individual": frozenset(("legalTitle", *_FIO, "inn")),
}
REQUISITE_FIELDS = frozenset().union(*REQUISITES.values())
ENUMS = {"companyType": ("legal", "entrepreneur", "individual"),
         "stateType": ("Regular", "Successful", "Unsuccessful")}


def fmt_moment(ts: float) -> str:
    return fmt_millis(round(ts * 1000))


def fmt_millis(millis: int) -> str:
    """Moscow time ``YYYY-MM-DD HH:MM:SS.fff`` of a Unix time in milliseconds (exact)."""
    seconds, rest = divmod(millis, 1000)
    return f"{dt.datetime.fromtimestamp(seconds, MSK):%Y-%m-%d %H:%M:%S}.{rest:03d}"


def parse_moment(text: str) -> str | None:
    """A filter or field date-time normalised to ``YYYY-MM-DD HH:MM:SS.fff``; None if bad."""
    text = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            moment = dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return None


def moment_ts(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=MSK).timestamp()


def _keep_requisites(record: dict):
    """Drop the requisites the counterparty's company type does not have (legal by default)."""
    kept = REQUISITES.get(record.get("companyType") or "legal", REQUISITES["legal"])
    for field in REQUISITE_FIELDS - kept:
        record.pop(field, None)


def meta(type_: str, id_: str, extra: str = "") -> dict:
    return {"href": f"{ROOT}/entity/{type_}/{id_}{extra}",
            "metadataHref": f"{ROOT}/entity/{type_}/metadata",
            "type": type_, "mediaType": "application/json"}


def collection_meta(href: str, type_: str, size: int, limit: int = 1000,
                    offset: int = 0) -> dict:
    return {"href": href, "type": type_, "mediaType": "application/json", "size": size,
            "limit": limit, "offset": offset}


_OWNER = {"meta": meta("employee", EMPLOYEE_ID)}
_GROUP = {"meta": meta("group", GROUP_ID)}


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_str = json.encoder.encode_basestring


def _dumps(value) -> str:
    """``json.dumps(value, ensure_ascii=False)`` compact, scalars without an encoder object."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return float.__repr__(value)
    if value is None:
        return "null"
    return _encode(value)


_OWNED_JSON = f'"owner":{_dumps(_OWNER)},"shared":true,"group":{_dumps(_GROUP)}'


def bad_type(field: str, kind: str) -> MsError:
    return MsError(400, 2016, f"Ошибка формата: значение поля '{field}' не соответствует "
                              f"типу {kind}", field)


def check_uuid(value: str, parameter: str | None = None):
    if not UUID_RE.fullmatch(value):
        raise MsError(400, 1052, "Неверный формат UUID", parameter)


def _read_text(kind):
    def reader(field, value):
        if not isinstance(value, str):
            raise bad_type(field, "строка")
        if len(value) > _MAX_LEN[kind]:
            raise MsError(400, 3040, f"Ошибка валидации: поле '{field}' не может быть более "
                                     f"'{_MAX_LEN[kind]}' символов", field)
        return value
    return reader


def _read_bool(field, value):
    if not isinstance(value, bool):
        raise bad_type(field, "логический")
    return value


def _read_number(kind):
    def reader(field, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind == "int" and not float(value).is_integer()):
            raise bad_type(field, "число")
        return int(value) if kind == "int" else value
    return reader


def _read_uuid(field, value):
    if not isinstance(value, str) or not UUID_RE.fullmatch(value):
        raise bad_type(field, "UUID")
    return value


def _read_dt(field, value):
    moment = parse_moment(value) if isinstance(value, str) else None
    if moment is None:
        raise bad_type(field, "дата")
    return moment


def _read_typed(python_type, name):
    def reader(field, value):
        if not isinstance(value, python_type):
            raise bad_type(field, name)
        return value
    return reader


_SCALAR_READERS = {"str": _read_text("str"), "text": _read_text("text"), "bool": _read_bool,
                   "num": _read_number("num"), "int": _read_number("int"), "uuid": _read_uuid,
                   "dt": _read_dt, "obj": _read_typed(dict, "объект"),
                   "list": _read_typed(list, "массив")}


class MsStoreMixin:
    """Entities of :class:`~.moysklad.MoyskladEmulator` (its ``lock`` and ``clock``)."""

    def _init_store(self):
        self.db: dict[str, dict[str, dict]] = {t: {} for t in FIELDS}
        self.images: dict[str, dict] = {}  # image id → {filename, content, owner, updated}
        self.price_types: dict[str, dict] = {}  # id → {name, externalCode}
        self.default_currency: str | None = None
        self.version = 0
        self._last_millis = 0
        self._sync_ids: dict[tuple[str, str], str] = {}
        self._codes: dict[str, str] = {}
        self._variant_counts: dict[str, int] = {}
        self._numbers: dict[str, int] = {}
        self._ref_json: dict = {}  # Ref or (kind, id) → its JSON text (names never change)
        self._paths: dict[str, str] = {}  # folder id → pathName of what it holds

    # -- time ------------------------------------------------------------------------------
    def stamp(self) -> str:
        """Moscow time now with ms, strictly after the previous stamp (caller holds the lock)."""
        millis = int(self.clock() * 1000)
        if millis <= self._last_millis:
            millis = self._last_millis + 1
        self._last_millis = millis
        return fmt_millis(millis)

    # -- lookup ----------------------------------------------------------------------------
    def get(self, type_: str, id_: str) -> dict:
        check_uuid(id_)
        record = self.db[type_].get(id_)
        if record is None:
            raise MsError(404, 1021, f"Объект с типом '{type_}' и идентификатором '{id_}' не "
                                     "найден")
        return record

    def find_assortment(self, id_: str) -> dict | None:
        for type_ in ASSORTMENT_TYPES:
            record = self.db[type_].get(id_)
            if record is not None:
                return record
        return None

    # -- references ------------------------------------------------------------------------
    def ref_meta(self, ref: Ref) -> dict:
        if ref.type == "pricetype":
            return {"href": f"{ROOT}/context/companysettings/pricetype/{ref.id}",
                    "type": "pricetype", "mediaType": "application/json"}
        if ref.type == "state":
            owner = self.db["state"].get(ref.id, {}).get("entityType", "customerorder")
            return {"href": f"{ROOT}/entity/{owner}/metadata/states/{ref.id}",
                    "type": "state", "mediaType": "application/json"}
        return meta(ref.type, ref.id)

    def read_ref(self, field: str, value, allowed: tuple[str, ...]) -> Ref:
        href = value.get("meta", {}).get("href") if isinstance(value, dict) else None
        if not isinstance(href, str):
            raise MsError(400, 2010, f"Ошибка формата: отсутствует href для meta поля '{field}'",
                          field)
        match = _HREF.search(href)
        if match is None:
            raise MsError(400, 2013, "Ошибка формата: неправильное значение href для meta "
                                     f"поля '{field}'", field)
        type_ = "pricetype" if match["pricetype"] else "state" if match["state"] else match["type"]
        id_ = match["id"]
        check_uuid(id_, field)
        if type_ not in allowed:
            raise MsError(400, 2024, f"Ошибка формата: href указывает на сущность неправильного "
                                     f"типа '{type_}', требуется '{allowed[0]}'", field)
        exists = (id_ in self.price_types if type_ == "pricetype"
                  else id_ in self.db.get(type_, {}))
        if not exists:
            raise MsError(404, 1021, f"Объект с типом '{type_}' и идентификатором '{id_}' не "
                                     "найден", field)
        return Ref(type_, id_)

    # -- reading a body into record values -------------------------------------------------
    def read_value(self, type_: str, field: str, kind: str, value, record: dict | None):
        if value is None:
            return None
        scalar = _SCALAR_READERS.get(kind)
        if scalar is not None:
            return scalar(field, value)
        if kind.startswith("ref:"):
            return self.read_ref(field, value, tuple(kind[4:].split("|")))
        reader = getattr(self, f"_read_{kind}")
        return reader(field, value, record)

    def _read_money(self, field, value, record):
        if not isinstance(value, dict):
            raise bad_type(field, "объект")
        amount = self.read_value("", f"{field}.value", "num", value.get("value", 0), None)
        currency = (self.read_ref(f"{field}.currency", value["currency"], ("currency",)).id
                    if value.get("currency") else self.default_currency)
        return [amount, currency]

    def _read_saleprices(self, field, value, record):
        if not isinstance(value, list):
            raise bad_type(field, "массив")
        prices = {row[1]: row for row in (record or {}).get("salePrices") or ()}
        for index, item in enumerate(value):
            name = f"{field}[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("priceType"), dict):
                raise MsError(412, 3000, f"Ошибка сохранения объекта: поле '{name}.priceType' "
                                         "не может быть пустым или отсутствовать",
                              f"{name}.priceType")
            price_type = self.read_ref(f"{name}.priceType", item["priceType"], ("pricetype",))
            amount = self.read_value("", f"{name}.value", "num", item.get("value", 0), None)
            currency = (self.read_ref(f"{name}.currency", item["currency"], ("currency",)).id
                        if item.get("currency") else self.default_currency)
            prices[price_type.id] = [amount, price_type.id, currency]
        order = list(self.price_types)
        return sorted(prices.values(), key=lambda row: order.index(row[1]))

    def _read_barcodes(self, field, value, record):
        if not isinstance(value, list) or not all(
                isinstance(item, dict) and len(item) == 1
                and isinstance(next(iter(item.values())), str) for item in value):
            raise bad_type(field, "массив штрихкодов")
        known = ("ean13", "ean8", "code128", "gtin", "upc")
        for item in value:
            kind = next(iter(item))
            if kind not in known:
                raise MsError(400, 2029, f"Ошибка формата: неверное значение '{kind}' поля "
                                         f"'{field}'. Допустимые значения: {', '.join(known)}",
                              field)
        return [dict(item) for item in value]

    def _read_characteristics(self, field, value, record):
        if not isinstance(value, list) or not value:
            raise MsError(412, 3000, f"Ошибка сохранения объекта: поле '{field}' не может быть "
                                     "пустым или отсутствовать", field)
        rows = []
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("value"), str) or not (
                    isinstance(item.get("name"), str) or isinstance(item.get("id"), str)):
                raise MsError(400, 10000, "Ошибка сохранения характеристики модификации: поля "
                                          "'id' и 'name' не могут быть пустыми", field)
            name = item.get("name") or item["id"]
            rows.append({"id": item.get("id") or str(uuid.uuid5(uuid.NAMESPACE_OID, name)),
                         "name": name, "value": item["value"]})
        return rows

    def _read_images(self, field, value, record):
        if not isinstance(value, list):
            raise bad_type(field, "массив")
        return [self.read_image(item, f"{field}[{index}]") for index, item in enumerate(value)]

    def read_image(self, item, field="image") -> dict:
        if not isinstance(item, dict) or not item.get("filename"):
            raise MsError(400, 1076, "Ошибка при работе с файлами: у файла отсутствует имя",
                          field)
        if not item.get("content"):
            raise MsError(400, 1077, "Ошибка при работе с файлами: у файла отсутствует контент",
                          field)
        try:
            content = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise MsError(400, 1078, "Ошибка при работе с файлами: невозможно преобразовать "
                                     "поле content в изображение", field) from None
        if len(content) > 10 * 1024 * 1024:
            raise MsError(400, 1079, "Ошибка при работе с файлами: размер файла превышает "
                                     "максимально допустимый(10 мб)", field)
        return {"filename": str(item["filename"]), "content": content}

    def _read_nested(self, field, value, spec, record):
        if isinstance(value, dict) and "rows" in value:
            value = value["rows"]
        if not isinstance(value, list):
            raise bad_type(field, "массив")
        rows = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise bad_type(f"{field}[{index}]", "объект")
            row = {"id": str(uuid.uuid4())}
            for key, kind in spec.items():
                if key in item:
                    row[key] = self.read_value("", f"{field}[{index}].{key}", kind, item[key],
                                               None)
            rows.append(row)
        return rows

    def _read_accounts(self, field, value, record):
        return self._read_nested(field, value, ACCOUNT_FIELDS, record)

    def _read_contactpersons(self, field, value, record):
        return self._read_nested(field, value, CONTACT_FIELDS, record)

    def _read_address(self, field, value, record):
        if not isinstance(value, dict):
            raise bad_type(field, "объект")
        address = {}
        for key, item in value.items():
            name = f"{field}.{key}"
            if key == "country":
                address[key] = self.read_ref(name, item, ("country",)) if item else None
            elif key == "region":
                address[key] = item
            elif key in ADDRESS_PARTS:
                if not isinstance(item, str):
                    raise bad_type(name, "строка")
                if len(item) > ADDRESS_PARTS[key]:
                    raise MsError(400, 3040, f"Ошибка валидации: поле '{name}' не может быть "
                                             f"более '{ADDRESS_PARTS[key]}' символов", name)
                address[key] = item
        return {key: item for key, item in address.items() if item not in (None, "")}

    def address_line(self, address: dict) -> str:
        """The address string of a structured address (the document's order)."""
        parts = []
        for key in ADDRESS_ORDER:
            item = address.get(key)
            if isinstance(item, Ref):
                item = self.db[item.type].get(item.id, {}).get("name", "")
            elif isinstance(item, dict):
                item = item.get("name", "")
            if item:
                parts.append(item)
        return ", ".join(parts)

    def _link_addresses(self, values: dict):
        """A structured address rebuilds its string; a string sent alone becomes the
        structured address's ``addInfo`` (the document's two rules)."""
        for line in ("legalAddress", "actualAddress"):
            full = line + "Full"
            if full in values and values[full] is None:
                del values[full]  # null does not remove an address (the document)
            if values.get(full) is not None:
                values[line] = self.address_line(values[full])
            elif line in values:  # "" removes the address (the document)
                values[line] = values[line] or None
                values[full] = {"addInfo": values[line]} if values[line] else None

    def _read_positions(self, field, value, record):
        rows = self._read_nested(field, value, _POSITION_FIELDS, record)
        for index, row in enumerate(rows):
            if "assortment" not in row:
                raise MsError(412, 3000, f"Ошибка сохранения объекта: поле '{field}[{index}]."
                                         "assortment' не может быть пустым или отсутствовать",
                              f"{field}[{index}].assortment")
            row.setdefault("quantity", 1)
            row.setdefault("price", 0)
            row.setdefault("discount", 0)
            row.setdefault("vat", 0)
        if len(rows) > 1000:
            raise MsError(413, 2022, "Ошибка формата: слишком большое число элементов вложенной "
                                     "коллекции", field)
        return rows

    # -- writing ---------------------------------------------------------------------------
    def read_body(self, type_: str, body: dict, record: dict | None) -> dict:
        spec = FIELDS[type_]
        values = {}
        for field, value in body.items():
            kind = spec.get(field)
            if kind is None:
                continue
            values[field] = self.read_value(type_, field, kind, value, record)
            allowed = ENUMS.get(field)
            if allowed and values[field] is not None and values[field] not in allowed:
                raise MsError(400, 2029, f"Ошибка формата: неверное значение '{values[field]}' "
                                         f"поля '{field}'. Допустимые значения: "
                                         f"{', '.join(allowed)}", field)
        state = values.get("state")
        if state is not None and self.db["state"][state.id]["entityType"] != type_:
            raise MsError(400, 3004, "Ошибка сохранения объекта: поле 'state' не соответствует "
                                     "полю связанного объекта", "state")
        return values

    def _required(self, type_: str, values: dict):
        needed = () if type_ in NO_NAME else ("name",)
        for field in (*needed, *REQUIRED.get(type_, ())):
            if values.get(field) in (None, ""):
                raise MsError(412, 3000, f"Ошибка сохранения объекта: поле '{field}' не может "
                                         "быть пустым или отсутствовать", field)

    def _check_code(self, type_: str, code, id_: str):
        if type_ in ASSORTMENT_TYPES and code:
            owner = self._codes.get(code)
            if owner is not None and owner != id_:
                raise MsError(412, 3006, "Ошибка сохранения объекта: нарушено ограничение "
                                         "уникальности параметра 'code'", "code")

    def create(self, type_: str, body: dict, events: list | None = None) -> tuple[dict, bool]:
        """Create from a JSON body; (record, created). A known syncId answers its entity."""
        sync_id = body.get("syncId")
        if isinstance(sync_id, str) and "syncId" in FIELDS[type_]:
            existing = self._sync_ids.get((type_, sync_id))
            if existing is not None and existing in self.db[type_]:
                return self.db[type_][existing], False
        if body.get("id") is not None and type_ != "state":
            raise MsError(400, 1006, "Создание объектов с указанным идентификатором запрещено",
                          "id")
        values = self.read_body(type_, body, None)
        if type_ in ("counterparty", "organization"):
            self._link_addresses(values)
        values = {k: v for k, v in values.items() if v is not None}
        self._required(type_, values)
        id_ = str(uuid.uuid4())
        self._check_code(type_, values.get("code"), id_)
        record = self._new_record(type_, id_, values)
        if type_ == "counterparty":
            _keep_requisites(record)
        if events is not None:
            events.append((type_, id_, "CREATE"))
        return record, True

    def _new_record(self, type_: str, id_: str, values: dict) -> dict:
        """Store a record from already-read values (also used by the demo loader)."""
        now = self.stamp()
        record = {"id": id_, "_type": type_, "created": now, "updated": now}
        images = values.pop("images", None)
        record.update(values)
        if type_ == "variant":
            product = self.db["product"][values["product"].id]
            if not record.get("name"):
                chars = ", ".join(c["value"] for c in values["characteristics"])
                record["name"] = f"{product['name']} ({chars})"
            self._variant_counts[product["id"]] = self._variant_counts.get(product["id"], 0) + 1
        if type_ in DOCUMENT_TYPES and not record.get("name"):
            self._numbers[type_] = self._numbers.get(type_, 0) + 1
            record["name"] = f"{self._numbers[type_]:05d}"
        if type_ in DOCUMENT_TYPES:
            record.setdefault("moment", now)
            record.setdefault("applicable", True)
        if type_ in ("webhook", "webhookstock"):
            record.setdefault("enabled", True)
        if type_ == "webhook":
            record.setdefault("method", "POST")
        if type_ in ("product", "service", "variant", "productfolder", "store",
                     "organization", "counterparty", "currency"):
            record.setdefault("archived", False)
        if record.get("code") and type_ in ASSORTMENT_TYPES:
            self._codes[record["code"]] = id_
        if record.get("syncId"):
            self._sync_ids[(type_, record["syncId"])] = id_
        self.db[type_][id_] = record
        if type_ == "productfolder":
            self._paths.clear()
        if images is not None:
            self._set_images(record, images)
        self.version += 1
        return record

    def update(self, type_: str, id_: str, body: dict, events: list | None = None) -> dict:
        record = self.get(type_, id_)
        if "syncId" in body and body["syncId"] != record.get("syncId"):
            raise MsError(400, 1047, "Вы не можете обновить поле syncId в запросе на обновление "
                                     "сущности", "syncId")
        values = self.read_body(type_, body, record)
        if type_ in ("counterparty", "organization"):
            self._link_addresses(values)
        if "code" in values:
            self._check_code(type_, values["code"], id_)
        if type_ == "variant" and "product" in values and values["product"] != record["product"]:
            raise MsError(400, 3001, "Ошибка сохранения объекта: поле 'product' не может быть "
                                     "изменено", "product")
        for field in ("name",) if type_ not in NO_NAME else ():
            if field in values and not values[field]:
                raise MsError(412, 3000, f"Ошибка сохранения объекта: поле '{field}' не может "
                                         "быть пустым или отсутствовать", field)
        images = values.pop("images", None)
        if "code" in values and type_ in ASSORTMENT_TYPES:
            if record.get("code"):
                self._codes.pop(record["code"], None)
            if values["code"]:
                self._codes[values["code"]] = id_
        for field, value in values.items():
            if value is None:
                record.pop(field, None)
            else:
                record[field] = value
        if images is not None:
            self._set_images(record, images)
        if type_ == "counterparty":
            _keep_requisites(record)
        record["updated"] = self.stamp()
        self.version += 1
        if type_ == "productfolder":
            self._paths.clear()
        if events is not None:
            events.append((type_, id_, "UPDATE", tuple(values) + (("images",) if images is not
                                                                  None else ())))
        return record

    def delete(self, type_: str, id_: str, events: list | None = None) -> dict:
        record = self.get(type_, id_)
        del self.db[type_][id_]
        if record.get("code") and self._codes.get(record["code"]) == id_:
            del self._codes[record["code"]]
        if record.get("syncId"):
            self._sync_ids.pop((type_, record["syncId"]), None)
        if type_ == "variant":
            product_id = record["product"].id
            self._variant_counts[product_id] = self._variant_counts.get(product_id, 1) - 1
        for image_id in record.get("_images", ()):
            self.images.pop(image_id, None)
        self.version += 1
        self._paths.clear()
        if events is not None:
            events.append((type_, id_, "DELETE"))
        return record

    def _set_images(self, record: dict, images: list[dict]):
        for image_id in record.get("_images", ()):
            self.images.pop(image_id, None)
        record["_images"] = []
        for image in images:
            self.add_image(record, image["filename"], image["content"])

    def add_image(self, record: dict, filename: str, content: bytes) -> dict:
        image_id = str(uuid.uuid4())
        image = {"id": image_id, "filename": filename, "content": content,
                 "owner": Ref(record["_type"], record["id"]), "updated": self.stamp()}
        self.images[image_id] = image
        record.setdefault("_images", []).append(image_id)
        return image

    # -- rendering -------------------------------------------------------------------------
    def render(self, record: dict, expand: frozenset = frozenset()) -> dict:
        type_ = record["_type"]
        if type_ == "state":
            return self.render_state(record)
        out = {"meta": meta(type_, record["id"]), "id": record["id"], "accountId": ACCOUNT_ID}
        if type_ in OWNED:
            out["owner"] = _OWNER
            out["shared"] = True
            out["group"] = _GROUP
        spec = FIELDS[type_]
        for field, value in record.items():
            if field[0] == "_" or field == "id":
                continue
            kind = spec.get(field)
            out[field] = (value if kind is None or kind in _SCALAR_READERS
                          else self._render_field(record, field, kind, value, expand))
        self._render_extras(type_, record, out, expand)
        return out

    def _render_field(self, record, field, kind, value, expand):
        if isinstance(value, Ref):
            if field in expand and value.type in self.db and value.id in self.db[value.type]:
                return self.render(self.db[value.type][value.id])
            return {"meta": self.ref_meta(value)}
        if kind == "money":
            return {"value": value[0], "currency": {"meta": meta("currency", value[1])}}
        if kind == "saleprices":
            return [self._render_price(row) for row in value]
        if kind == "positions":
            return self._render_positions(record, value, expand)
        if kind in ("accounts", "contactpersons"):
            return self._render_nested(record, field, value, field in expand)
        if kind == "address":
            return {key: {"meta": self.ref_meta(item)} if isinstance(item, Ref) else item
                    for key, item in value.items()}
        if kind == "characteristics":
            return [{"meta": {"href": f"{ROOT}/entity/variant/metadata/characteristics/"
                                      f"{c['id']}", "type": "attributemetadata",
                              "mediaType": "application/json"}, **c} for c in value]
        return value

    def _render_extras(self, type_, record, out, expand):
        if type_ == "product":
            out["variantsCount"] = self._variant_counts.get(record["id"], 0)
            images = record.get("_images", ())
            out["images"] = {"meta": collection_meta(
                f"{ROOT}/entity/product/{record['id']}/images", "image", len(images))}
            if "images" in expand:
                out["images"]["rows"] = [self.render_image(self.images[i]) for i in images]
        if type_ in ("product", "service", "productfolder"):
            out["pathName"] = self.path_name(record)
        if type_ in ("counterparty", "organization") and "accounts" not in record:
            out["accounts"] = self._render_nested(record, "accounts", [], False)
        if type_ == "counterparty" and "contactpersons" not in record:
            out["contactpersons"] = self._render_nested(record, "contactpersons", [], False)
        if type_ in DOCUMENT_TYPES:
            self._document_extras(type_, record, out, expand)
        if type_ == "currency":
            out["default"] = record["id"] == self.default_currency

    # -- fast serialisation of list rows ------------------------------------------------------
    def render_json(self, record: dict) -> str:
        """``json.dumps(render(record))`` without building the nested dicts: constant parts
        and references come from caches (lists of 1,000 products serialise several times
        faster). Same keys, same order, same values as :meth:`render` without expand."""
        type_ = record["_type"]
        if type_ == "state":
            return _dumps(self.render_state(record))
        id_ = record["id"]
        parts = [f'{{"meta":{{"href":"{ROOT}/entity/{type_}/{id_}","metadataHref":"{ROOT}/entity/'
                 f'{type_}/metadata","type":"{type_}","mediaType":"application/json"}},"id":'
                 f'"{id_}","accountId":"{ACCOUNT_ID}"']
        if type_ in OWNED:
            parts.append(_OWNED_JSON)
        spec = FIELDS[type_]
        refs = self._ref_json
        for field, value in record.items():
            if field[0] == "_" or field == "id":
                continue
            kind = spec.get(field)
            if kind is None or kind in _SCALAR_READERS:
                parts.append(f'"{field}":{_dumps(value)}')
            elif kind == "barcodes":
                codes = ",".join(f'{{"{k}":{_dumps(v)}}}' for item in value
                                 for k, v in item.items())
                parts.append(f'"{field}":[{codes}]')
            elif isinstance(value, Ref):
                cached = refs.get(value)
                if cached is None:
                    cached = refs[value] = _dumps({"meta": self.ref_meta(value)})
                parts.append(f'"{field}":{cached}')
            elif kind == "money":
                parts.append(f'"{field}":{{"value":{_dumps(value[0])},'
                             f'"currency":{self._currency_json(value[1])}}}')
            elif kind == "saleprices":
                prices = ",".join(f'{{"value":{_dumps(row[0])},"currency":'
                                  f'{self._currency_json(row[2])},"priceType":'
                                  f'{self._price_type_ref_json(row[1])}}}' for row in value)
                parts.append(f'"{field}":[{prices}]')
            else:
                rendered = self._render_field(record, field, kind, value, frozenset())
                parts.append(f'"{field}":{_dumps(rendered)}')
        if type_ == "product":  # the common case of big lists, without dicts
            parts.append(f'"variantsCount":{self._variant_counts.get(id_, 0)},"images":'
                         f'{{"meta":{{"href":"{ROOT}/entity/product/{id_}/images","type":'
                         f'"image","mediaType":"application/json","size":'
                         f'{len(record.get("_images", ()))},"limit":1000,"offset":0}}}},'
                         f'"pathName":{_dumps(self.path_name(record))}')
            return ",".join(parts) + "}"
        extras: dict = {}
        self._render_extras(type_, record, extras, frozenset())
        for field, value in extras.items():
            parts.append(f'"{field}":{_dumps(value)}')
        return ",".join(parts) + "}"

    def _currency_json(self, currency_id) -> str:
        key = ("currency", currency_id)
        cached = self._ref_json.get(key)
        if cached is None:
            cached = self._ref_json[key] = _dumps({"meta": meta("currency", currency_id)})
        return cached

    def _price_type_ref_json(self, price_type_id) -> str:
        key = ("pricetype-full", price_type_id)
        cached = self._ref_json.get(key)
        if cached is None:
            price_type = self.price_types.get(price_type_id, {})
            cached = self._ref_json[key] = _dumps({
                "meta": self.ref_meta(Ref("pricetype", price_type_id)), "id": price_type_id,
                "name": price_type.get("name", ""),
                "externalCode": price_type.get("externalCode", "")})
        return cached

    def _document_extras(self, type_, record, out, expand):
        """Sums in kopecks (``sum``, ``vatSum``; ``shippedSum`` of an order's demands or
        supplies), the linked documents, ``printed``/``published`` false, default rate."""
        positions = record.get("positions", [])
        included = record.get("vatIncluded", True)
        total = vat = 0.0
        for p in positions:
            line = p["price"] * p["quantity"] * (1 - p["discount"] / 100)
            total += line if included or not record.get("vatEnabled", True) else line * (
                1 + p["vat"] / 100)
            if record.get("vatEnabled", True):
                vat += line * p["vat"] / (100 + p["vat"]) if included else line * p["vat"] / 100
        out["sum"] = round(total)
        out["vatSum"] = round(vat)
        out.setdefault("printed", False)
        out.setdefault("published", False)
        links = {"customerorder": ("demand", "customerOrder", "demands"),
                 "purchaseorder": ("supply", "purchaseOrder", "supplies")}.get(type_)
        if links is not None:
            linked_type, field, name = links
            linked = [d for d in self.db[linked_type].values()
                      if d.get(field) is not None and d[field].id == record["id"]]
            if linked:
                out[name] = [{"meta": meta(linked_type, d["id"])} for d in linked]
            out["shippedSum"] = sum(round(sum(
                p["price"] * p["quantity"] * (1 - p["discount"] / 100)
                for p in d.get("positions", ()))) for d in linked)
        if "positions" not in record:
            out["positions"] = self._render_positions(record, [], expand)
        if "rate" not in record:
            out["rate"] = {"currency": {"meta": meta("currency", self.default_currency)}}

    def _render_price(self, row) -> dict:
        price_type = self.price_types.get(row[1], {})
        return {"value": row[0], "currency": {"meta": meta("currency", row[2])},
                "priceType": {"meta": self.ref_meta(Ref("pricetype", row[1])), "id": row[1],
                              "name": price_type.get("name", ""),
                              "externalCode": price_type.get("externalCode", "")}}

    def _render_nested(self, record, field, rows, expanded: bool) -> dict:
        type_ = "account" if field == "accounts" else "contactperson"
        href = f"{ROOT}/entity/{record['_type']}/{record['id']}/{field}"
        out = {"meta": collection_meta(href, type_, len(rows))}
        if expanded:
            out["rows"] = [self.render_nested_row(record, field, row) for row in rows]
        return out

    def render_nested_row(self, record, field, row) -> dict:
        type_ = "account" if field == "accounts" else "contactperson"
        href = f"{ROOT}/entity/{record['_type']}/{record['id']}/{field}/{row['id']}"
        return {"meta": {"href": href, "type": type_, "mediaType": "application/json"},
                "accountId": ACCOUNT_ID, **row,
                **({"agent": {"meta": meta(record["_type"], record["id"])}}
                   if field == "contactpersons" else {})}

    def _render_positions(self, record, rows, expand) -> dict:
        href = f"{ROOT}/entity/{record['_type']}/{record['id']}/positions"
        out = {"meta": collection_meta(href, f"{record['_type']}position", len(rows))}
        if "positions" in expand:
            out["rows"] = [self.render_position(record, row,
                                                "positions.assortment" in expand)
                           for row in rows]
        return out

    def render_position(self, record, row, expand_assortment=False) -> dict:
        href = f"{ROOT}/entity/{record['_type']}/{record['id']}/positions/{row['id']}"
        out = {"meta": {"href": href, "type": f"{record['_type']}position",
                        "mediaType": "application/json"}, "id": row["id"],
               "accountId": ACCOUNT_ID}
        for key, value in row.items():
            if key == "assortment":
                target = self.find_assortment(value.id)
                out[key] = (self.render(target) if expand_assortment and target
                            else {"meta": self.ref_meta(value)})
            elif key != "id":
                out[key] = value
        return out

    def render_state(self, record) -> dict:
        return {"meta": self.ref_meta(Ref("state", record["id"])), "id": record["id"],
                "accountId": ACCOUNT_ID, "name": record["name"],
                "color": record.get("color", 15106326),
                "stateType": record.get("stateType", "Regular"),
                "entityType": record["entityType"]}

    def render_image(self, image) -> dict:
        owner = image["owner"]
        href = f"{ROOT}/entity/{owner.type}/{owner.id}/images/{image['id']}"
        download = f"{ROOT}/download/{image['id']}"
        return {"meta": {"href": href, "type": "image", "mediaType": "application/json",
                         "downloadHref": download},
                "title": image["filename"].rsplit(".", 1)[0], "filename": image["filename"],
                "size": len(image["content"]), "updated": image["updated"],
                "miniature": {"href": f"{download}?miniature=true", "type": "image",
                              "mediaType": "image/png",
                              "downloadHref": f"{download}?miniature=true"},
                "tiny": {"href": f"{download}?tiny=true", "type": "image",
                         "mediaType": "image/png"}}

    def path_name(self, record) -> str:
        folder = record.get("productFolder")
        if folder is None:
            return ""
        cached = self._paths.get(folder.id)
        if cached is None:
            cached = self._paths[folder.id] = self._folder_path(record)
        return cached

    def _folder_path(self, record) -> str:
        names = []
        folder = record.get("productFolder")
        seen = set()
        while folder is not None and folder.id not in seen:
            seen.add(folder.id)
            parent = self.db["productfolder"].get(folder.id)
            if parent is None:
                break
            names.append(parent["name"])
            folder = parent.get("productFolder")
        return "/".join(reversed(names))
