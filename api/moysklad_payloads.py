"""What we send to MoySklad: product payloads, bulk batches, syncIds, meta references.

- A product to create carries a ``syncId`` (a UUID the caller keeps on the binding, or derives
  with ``stable_sync_id``): MoySklad answers a repeated creation with the same syncId with the
  object it created the first time, so a batch whose answer was lost can be sent again.
  An update carries the product's ``meta`` and never a syncId (error 1047: it cannot change).
- Prices are given in currency units (Decimal) and sent in kopecks (``to_kopecks``).
- Bulk: at most ``MAX_BULK_ITEMS`` (1000) objects per POST (the documented array limit) and at
  most ``max_bytes`` of UTF-8 JSON per request (MoySklad takes 20 MB; the default leaves 1 MB of
  headroom). ``bulk_batches`` cuts a list of payloads accordingly; one payload over the byte
  limit alone is reported, not sent.
- Images in a product payload (``images``: filename + base64 content) replace all its images
  on update; product pushes therefore leave images out and images go through ``add_image``.
"""

import base64
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from .moysklad_data import to_kopecks

__all__ = [
    "MAX_BULK_ITEMS",
    "MAX_REQUEST_BYTES",
    "MsProductDraft",
    "bulk_batches",
    "dumps",
    "meta_ref",
    "stable_sync_id",
]

MAX_BULK_ITEMS = 1000
MAX_REQUEST_BYTES = 19 * 1024 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # error 1079: a file over 10 MB is refused
MAX_FILENAME = 255
BARCODE_KINDS = ("ean13", "ean8", "code128", "gtin")
# A fixed namespace: the same parts give the same syncId in every database and every run.
SYNC_NAMESPACE = uuid.UUID("5c0b8f7e-3f55-4f4e-9a59-6d6f7973a1d0")


def dumps(payload):
    """UTF-8 JSON bytes, compact, non-ASCII kept as is (MoySklad reads UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")  # fmt: skip


def stable_sync_id(*parts):
    """A UUID derived from ``parts`` (e.g. database uuid, model, record id): the same record
    always gets the same syncId, even if the binding's stored one was lost."""
    if not parts:
        raise ValueError("stable_sync_id needs at least one part")
    return str(uuid.uuid5(SYNC_NAMESPACE, "\x1f".join(str(part) for part in parts)))


def check_uuid(value, what="syncId"):
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"The {what} must be a UUID, got {value!r}") from None


def meta_ref(href, entity_type):
    """``{"meta": {...}}`` reference to an object by its href."""
    if not href:
        raise ValueError(f"A reference to a {entity_type} needs its href")
    return {"meta": {"href": href, "type": entity_type, "mediaType": "application/json"}}


@dataclass
class MsSalePrice:
    price_type_href: str
    amount: Decimal
    currency_href: str = ""


@dataclass
class MsProductDraft:
    """A product to create (``sync_id``, no ``href``) or update (``href``). Fields left None
    are not sent, so an update changes only what is given. ``sale_prices``: MsSalePrice or
    (price type href, amount[, currency href]); ``barcodes``: (kind, value) with kind ean13,
    ean8, code128 or gtin. ``extra``: more JSON fields sent as they are."""

    name: str | None = None
    href: str = ""
    sync_id: str = ""
    code: str | None = None
    article: str | None = None
    external_code: str | None = None
    description: str | None = None
    archived: bool | None = None
    uom_href: str | None = None
    folder_href: str | None = None
    barcodes: list | None = None
    sale_prices: list | None = None
    buy_price: Decimal | None = None
    buy_currency_href: str = ""
    min_price: Decimal | None = None
    min_currency_href: str = ""
    weight: Decimal | None = None
    volume: Decimal | None = None
    vat: int | None = None
    extra: dict = field(default_factory=dict)
    key: object = None  # the caller's own key for this item (a binding id), returned in results

    @property
    def is_update(self):
        return bool(self.href)

    def to_json(self, entity_type="product"):
        payload = {}
        if self.href:
            payload.update(meta_ref(self.href, entity_type))
        elif self.sync_id:
            payload["syncId"] = check_uuid(self.sync_id)
        if not self.href and not (self.name or "").strip():
            raise ValueError("A new MoySklad product needs a name")
        simple = {
            "name": self.name,
            "code": self.code,
            "article": self.article,
            "externalCode": self.external_code,
            "description": self.description,
            "archived": self.archived,
            "vat": self.vat,
        }
        payload.update({key: value for key, value in simple.items() if value is not None})
        for key, value in (("weight", self.weight), ("volume", self.volume)):
            if value is not None:
                payload[key] = float(value)
        if self.uom_href is not None:
            payload["uom"] = meta_ref(self.uom_href, "uom") if self.uom_href else None
        if self.folder_href is not None:
            payload["productFolder"] = (
                meta_ref(self.folder_href, "productfolder") if self.folder_href else None
            )
        if self.barcodes is not None:
            payload["barcodes"] = [_barcode(kind, value) for kind, value in self.barcodes]
        if self.sale_prices is not None:
            payload["salePrices"] = [_sale_price(price) for price in self.sale_prices]
        if self.buy_price is not None:
            payload["buyPrice"] = _money(self.buy_price, self.buy_currency_href)
        if self.min_price is not None:
            payload["minPrice"] = _money(self.min_price, self.min_currency_href)
        payload.update(self.extra or {})
        return payload


def _barcode(kind, value):
    kind = str(kind or "").lower()
    if kind not in BARCODE_KINDS:
        raise ValueError(f"Unknown MoySklad barcode kind {kind!r} (one of {BARCODE_KINDS})")
    value = str(value or "").strip()
    if not value:
        raise ValueError("An empty barcode cannot be sent")
    return {kind: value}


def _money(amount, currency_href=""):
    money = {"value": to_kopecks(amount)}
    if currency_href:
        money["currency"] = meta_ref(currency_href, "currency")
    return money


def _sale_price(price):
    if not isinstance(price, MsSalePrice):
        price = MsSalePrice(*price)
    money = _money(price.amount, price.currency_href)
    money["priceType"] = meta_ref(price.price_type_href, "pricetype")
    return money


def payload_of(item, entity_type="product"):
    """JSON dict of a draft (MsProductDraft, MsCounterpartyDraft...) or a ready dict."""
    if isinstance(item, dict):
        return item
    if hasattr(item, "to_json"):
        return item.to_json(entity_type)
    raise TypeError("A bulk item must be a draft (with to_json) or a dict")


@dataclass
class MsBatch:
    """Items of one bulk request: ``indexes`` into the caller's list, their JSON and bytes."""

    indexes: list
    payloads: list
    body: bytes


def bulk_batches(payloads, *, max_items=MAX_BULK_ITEMS, max_bytes=MAX_REQUEST_BYTES):
    """Cut ``payloads`` (dicts) into MsBatch of at most ``max_items`` and ``max_bytes``.

    Returns ``(batches, oversized)``: ``oversized`` lists the indexes of payloads too large to
    be sent even alone."""
    max_items = max(1, min(int(max_items), MAX_BULK_ITEMS))
    batches, oversized = [], []
    indexes, chunk, encoded, size = [], [], [], 2  # 2: the brackets
    for index, payload in enumerate(payloads):
        data = dumps(payload)
        if len(data) + 2 > max_bytes:
            oversized.append(index)
            continue
        extra = len(data) + (1 if chunk else 0)
        if chunk and (len(chunk) >= max_items or size + extra > max_bytes):
            batches.append(MsBatch(indexes, chunk, b"[" + b",".join(encoded) + b"]"))
            indexes, chunk, encoded, size = [], [], [], 2
            extra = len(data)
        indexes.append(index)
        chunk.append(payload)
        encoded.append(data)
        size += extra
    if chunk:
        batches.append(MsBatch(indexes, chunk, b"[" + b",".join(encoded) + b"]"))
    return batches, oversized


def image_payload(filename, content):
    """``{"filename", "content"}`` for an image upload; ValueError when it cannot be sent."""
    filename = str(filename or "").strip()
    if not filename or "." not in filename:
        raise ValueError("An image needs a file name with its extension (e.g. 'photo.png')")
    if len(filename) > MAX_FILENAME:
        raise ValueError(f"An image file name is limited to {MAX_FILENAME} characters")
    if not content:
        raise ValueError("An image without content cannot be uploaded")
    if len(content) > MAX_IMAGE_BYTES:
        raise ValueError(
            f"The image is {len(content)} bytes; MoySklad takes at most {MAX_IMAGE_BYTES} bytes"
        )
    return {"filename": filename, "content": base64.b64encode(content).decode("ascii")}
