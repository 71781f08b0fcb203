"""The UDOMA emulator's demo organisation: its API key, two shops, a group tree and a few
marketplace orders to pull.

* The key is the document's example key (``X-API-KEY: 9af80846-…``).
* Shops ``s001`` and ``s002``: the ids of the document's examples, bound in the organisation's
  integration settings.
* Groups (v1): a tree that keeps UDOMA's rule (a group holds either items or sub-groups):
  ``ng001`` "Молочные продукты" with the document's ``ng00101``/``ng00102``/``ng00103`` under it,
  and ``g-goods`` "Товары для дома и отдыха" with ``g-clothes``, ``g-home``, ``g-electric``.
* Orders: four orders over the last hours (relative to the emulator's start), on both shops,
  with the demo products of the addon's IMSKLAD demo (``DEMO-TSHIRT-M``, ``DEMO-MUG``,
  ``DEMO-BOTTLE``); one of them also holds ``UD-GONE-01``, a product Odoo does not know (the
  "unknown product" case), one has a delivery cost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "DEMO_GROUPS",
    "DEMO_KEY",
    "DEMO_ORDER_PRODUCTS",
    "DEMO_SHOPS",
    "DEMO_UNKNOWN_PRODUCT",
    "demo_orders",
    "generate_orders",
]

DEMO_KEY = "9af80846-7b7f-496d-a249-91c6fc724dc1"
DEMO_SHOPS = {"s001": "UDOMA: магазин на Ленина", "s002": "UDOMA: магазин на Мира"}
# group id → (name, parent id or None)
DEMO_GROUPS = {
    "ng001": ("Молочные продукты", None),
    "ng00101": ("Молоко", "ng001"),
    "ng00102": ("Кефир", "ng001"),
    "ng00103": ("Творог", "ng001"),
    "g-goods": ("Товары для дома и отдыха", None),
    "g-clothes": ("Одежда", "g-goods"),
    "g-home": ("Для дома", "g-goods"),
    "g-electric": ("Электротовары", "g-goods"),
}
DEMO_ORDER_PRODUCTS = ("DEMO-TSHIRT-M", "DEMO-MUG", "DEMO-BOTTLE")
DEMO_UNKNOWN_PRODUCT = "UD-GONE-01"


def demo_orders(now: datetime) -> list[dict]:
    """The demo orders (``dateUtc`` as naive UTC datetimes: the store formats them)."""
    return [
        {"shopSourceSystemId": "s001", "orderId": "a4b74a75-3092-4672-a3cf-beeba96e4be8",
         "ticketNumber": "00037", "dateUtc": now - timedelta(hours=5), "paymentMethod": "terminal",
         "positions": [{"nomenclatureSourceSystemId": "DEMO-TSHIRT-M", "itemsCount": 2,
                        "purchasePrice": 890},
                       {"nomenclatureSourceSystemId": "DEMO-MUG", "itemsCount": 3,
                        "purchasePrice": 420}]},
        {"shopSourceSystemId": "s002", "orderId": "10b3543b-7872-4ec3-a4d8-ef6daca1c2f6",
         "ticketNumber": "00021", "dateUtc": now - timedelta(hours=4), "paymentMethod": "cash",
         "positions": [{"nomenclatureSourceSystemId": "DEMO-BOTTLE", "itemsCount": 1,
                        "purchasePrice": 690}]},
        {"shopSourceSystemId": "s001", "orderId": "5d0c6f1e-2b8a-4c3e-9f71-0a6de2b1c845",
         "ticketNumber": "00038", "dateUtc": now - timedelta(hours=2), "paymentMethod": "cash",
         "deliveryCost": 150,
         "positions": [{"nomenclatureSourceSystemId": "DEMO-MUG", "itemsCount": 1,
                        "purchasePrice": 450},
                       {"nomenclatureSourceSystemId": DEMO_UNKNOWN_PRODUCT, "itemsCount": 2,
                        "purchasePrice": 199.9}]},
        {"shopSourceSystemId": "s002", "orderId": "e3f1b2a4-77c9-4d1f-8a35-6b2c9d0e4f12",
         "ticketNumber": "00022", "dateUtc": now - timedelta(minutes=30),
         "paymentMethod": "terminal",
         "positions": [{"nomenclatureSourceSystemId": "DEMO-TSHIRT-M", "itemsCount": 1,
                        "purchasePrice": 850.5}]},
    ]  # fmt: skip


def generate_orders(count: int, start: datetime, *, shops=("s001", "s002"),
                    products: tuple[str, ...] = tuple(f"SKU-{n:06d}" for n in range(1, 101)),
                    step_seconds: float = 30.0) -> list[dict]:
    """``count`` synthetic orders from ``start`` every ``step_seconds``, shops in turn, one to
    three positions each (benchmarks)."""
    orders = []
    for n in range(1, count + 1):
        positions = [{"nomenclatureSourceSystemId": products[(n * 7 + k) % len(products)],
                      "itemsCount": 1 + (n + k) % 3, "purchasePrice": 100 + (n * 13 + k) % 900}
                     for k in range(1 + n % 3)]  # fmt: skip
        orders.append({
            "shopSourceSystemId": shops[n % len(shops)],
            "orderId": f"00000000-0000-4000-8000-{n:012d}",
            "ticketNumber": f"{n:05d}",
            "dateUtc": start + timedelta(seconds=n * step_seconds),
            "paymentMethod": "terminal" if n % 2 else "cash",
            **({"deliveryCost": 150} if n % 5 == 0 else {}),
            "positions": positions,
        })
    return orders
