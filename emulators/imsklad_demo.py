"""The IMSKLAD emulator's demo data: the demo API key, a few goods in stock, the document's reference
tables (colours, delivery types and couriers) and billing operations.

Two goods carry the ids of the document's examples, so that its requests work as printed: our
ids 123123 and 342343 (the goods lines of its add_order), IMSKLAD ids 124323 and 342343 with
stock 10/2 and 25/4 (its get_stock answer). The others are ordinary shop goods.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COLOURS",
    "COURIERS",
    "DELIVERY_TYPES",
    "DEMO_BALANCE",
    "DEMO_CALLBACK_KEY",
    "DEMO_KEY",
    "DemoGood",
    "demo_billing",
    "demo_goods",
    "generate_goods",
]

DEMO_KEY = "imsklad-demo-5b1f0c9e7a2d4e68"
DEMO_CALLBACK_KEY = "imsklad-callback-demo-3c8e1a7f"
DEMO_BALANCE = 11067.0  # the document's example current_balance

# The document's colour table: id → (name, RGB).
COLOURS = {
    1: ("Белый", "#ffffff"), 4: ("Черный", "#000000"), 5: ("Синий", "#0000ff"),
    6: ("Желтый", "#ffff00"), 7: ("Оранжевый", "#ff8000"), 8: ("Зеленый", "#008000"),
    9: ("Красный", "#ff0000"), 10: ("Коричневый", "#964B00"), 11: ("Голубой", "#3c9eff"),
    13: ("Серый", "#858585"), 14: ("Прозрачный", "trans"), 15: ("Серебряный", "#C0C0C0"),
    16: ("Фиолетовый", "#5A009D"), 17: ("Разноцветный", "rgb"), 18: ("Бирюзовый", "#30D5C8"),
    19: ("Золотой", "#FFD700"), 20: ("Бежевый", "#F5F5DC"), 21: ("Маджента", "#FF00FF"),
    22: ("Бордовый", "#800000"), 23: ("Оливковый", "#808000"), 24: ("Фуксия", "#FF00FF"),
    25: ("Мятный", "#00FF7F"), 26: ("Темно-зеленый", "#006400"), 27: ("Темно-синий", "#00008B"),
    28: ("Розовый", "#FF69B4"), 29: ("Ярко-розовый", "#FF1493"), 30: ("Светло-розовый", "#FFB6C1"),
    31: ("Темно-коричневый", "#800000"), 32: ("Салатовый", "#99FF99"),
    33: ("Коралловый", "#F78181"), 34: ("Бронзовый", "#B8860B"), 35: ("Сиреневый", "#DA70D6"),
    36: ("Хаки", "#78866B"), 37: ("Горчичный", "#F0A128"), 38: ("Светло-серый", "#D3D3D3"),
    39: ("Лайм", "#C8FE2E"), 40: ("Светло-голубой", "#A9E2F3"), 42: ("Ярко-зеленый", "#7FFF00"),
}  # fmt: skip
# Delivery type id → name; courier id → name (the document's "Типы доставки и курьеры").
DELIVERY_TYPES = {4: "Почтой России", 16: "СДЭК", 22: "Грастин", 62: "BoxBerry", 113: "Пешкарики"}
COURIERS = {7: "Грастин", 42: "Почта России", 6: "Грастин", 32: "BoxBerry", 40: "Пешкарики"}


@dataclass
class DemoGood:
    partner_id: str  # the shop's id
    system_id: int  # IMSKLAD's id
    name: str
    price: float
    cost: float
    stock: int = 0
    reserved: int = 0
    weight: int | None = None
    color: int | None = None
    size: str = ""
    description: str = ""

    def fields(self) -> dict:
        values = {"id": self.partner_id, "name": self.name, "description": self.description,
                  "price": self.price, "cost": self.cost, "size": self.size}
        if self.weight is not None:
            values["weight"] = self.weight
        if self.color is not None:
            values["color"] = self.color
        return values


def demo_goods() -> list[DemoGood]:
    return [
        DemoGood("123123", 124323, "Тестовый товар", 1000, 600, 10, 2, 100, 13, "",
                 "Товар из примеров документации"),
        DemoGood("342343", 342343, "Тестовый товар 2", 5000, 3200, 25, 4, 250, 4, "Большой"),
        DemoGood("DEMO-TSHIRT-M", 400101, "Футболка хлопковая", 890, 410, 40, 0, 180, 1, "M"),
        DemoGood("DEMO-TSHIRT-L", 400102, "Футболка хлопковая", 890, 410, 12, 1, 190, 1, "L"),
        DemoGood("DEMO-MUG", 400103, "Кружка керамическая 350 мл", 450, 170, 64, 5, 320, 9),
        DemoGood("DEMO-NOTEBOOK", 400104, "Блокнот А5 в клетку", 260, 95, 0, 0, 210, 5),
        DemoGood("DEMO-BOTTLE", 400105, "Бутылка для воды 0,5 л", 690, 280, 18, 3, 150, 18),
    ]


def generate_goods(count: int) -> list[DemoGood]:
    """``count`` synthetic goods (ids SKU-000001…, IMSKLAD ids from 1000001), stock by formula."""
    return [DemoGood(f"SKU-{n:06d}", 1_000_000 + n, f"Товар {n}", 100 + n % 900,
                     50 + n % 450, (n * 7) % 50, (n * 3) % 5, 100 + n % 1000, None)
            for n in range(1, count + 1)]  # fmt: skip


def demo_billing() -> list[dict]:
    """The document's two example operations (May 2020)."""
    return [
        {"id": 32953, "order_id": 153383, "foreign_order_id": "359407", "doc_request_id": None,
         "type": 0, "date": 1590775160, "amount": -50, "comment": ""},
        {"id": 32954, "order_id": None, "foreign_order_id": None, "doc_request_id": 1120,
         "type": 9, "date": 1590775195, "amount": -100, "comment": "Забор товара"},
    ]  # fmt: skip
