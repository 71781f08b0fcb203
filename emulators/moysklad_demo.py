"""The MoySklad emulator's demo account and the synthetic catalogue of the benchmarks.

Demo (:func:`load_demo`): the organisation ООО «Демо Торг», stores «Основной склад» and «Склад
Север», price types «Цена продажи» and «Оптовая», currencies RUB (default) and USD, units шт and
кг, 21 countries (:data:`COUNTRIES`), three product folders, 30 products with Russian names,
codes ``DEMO-001``…, articles, EAN-13 barcodes, prices in kopecks (sale, wholesale, purchase;
one priced in USD), weights and volumes, one archived, a PNG image on the first two, a service,
variants of the T-shirt (sizes M/L/XL), stock on both stores (some reserve and in transit), two
counterparties (the supplier with a bank account and a contact person, the customer with a
structured address in Russia), and the order states of customerorder and purchaseorder.
Ids are fixed (UUID5 of a name), so the demo is the same on every start.

Synthetic counterparties (:func:`load_counterparties`, part 2 benchmarks): legal entities with
a valid 10-digit INN, a bank account and a contact person each.

Synthetic (:func:`load_catalogue`): ``count`` products ``SYN-0000001``… in folders of 1,000,
both price types and a purchase price, barcodes, stock on the main store for every product and on
the second for every third; records are built directly (about 100,000 a second).
"""

from __future__ import annotations

import gc
import uuid

from .moysklad_store import Ref
from .server import make_png

DEMO_LOGIN = "admin@demo"
DEMO_PASSWORD = "demo-password"
DEMO_APP_TOKEN = "ms-app-token-demo-6f2c1e8a9b7d4c3e"
_NS = uuid.UUID("1b7c2f0e-5a4d-4e8b-9c3a-2d1e0f6a7b8c")


def fixed_id(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


ORGANIZATION_ID = fixed_id("organization")
MAIN_STORE_ID = fixed_id("store-main")
NORTH_STORE_ID = fixed_id("store-north")
RUB_ID = fixed_id("currency-rub")
USD_ID = fixed_id("currency-usd")
SALE_PRICE_ID = fixed_id("pricetype-sale")
WHOLESALE_PRICE_ID = fixed_id("pricetype-wholesale")
PCS_ID = fixed_id("uom-pcs")
KG_ID = fixed_id("uom-kg")

# code, name, article, folder, sale rub, wholesale rub, purchase rub, weight kg, stock main/north
_PRODUCTS = [
    ("DEMO-001", "Кружка керамическая 350 мл", "KR-350", "Посуда", 450, 390, 170, 0.32, 64, 10),
    ("DEMO-002", "Тарелка фарфоровая 24 см", "TR-24", "Посуда", 620, 540, 260, 0.55, 30, 0),
    ("DEMO-003", "Чайник заварочный 0,8 л", "CH-08", "Посуда", 1290, 1100, 640, 0.9, 12, 4),
    ("DEMO-004", "Сковорода чугунная 26 см", "SK-26", "Посуда", 2490, 2190, 1350, 2.6, 8, 2),
    ("DEMO-005", "Набор ножей 5 предметов", "NN-5", "Посуда", 3890, 3400, 2100, 1.4, 5, 0),
    ("DEMO-006", "Кастрюля 3 л нержавеющая", "KS-3", "Посуда", 1990, 1750, 990, 1.3, 0, 7),
    ("DEMO-007", "Футболка хлопковая", "FT-100", "Одежда", 890, 760, 410, 0.18, 40, 15),
    ("DEMO-008", "Носки шерстяные", "NS-22", "Одежда", 350, 300, 120, 0.08, 120, 60),
    ("DEMO-009", "Шапка вязаная", "SH-01", "Одежда", 990, 850, 430, 0.12, 25, 0),
    ("DEMO-010", "Перчатки кожаные", "PR-07", "Одежда", 2390, 2100, 1200, 0.15, 9, 3),
    ("DEMO-011", "Шарф кашемировый", "SF-12", "Одежда", 3290, 2900, 1700, 0.2, 6, 1),
    ("DEMO-012", "Куртка утеплённая", "KT-44", "Одежда", 8990, 7900, 4800, 1.2, 3, 2),
    ("DEMO-013", "Блокнот А5 в клетку", "BL-A5", "Канцелярия", 260, 220, 95, 0.21, 200, 80),
    ("DEMO-014", "Ручка шариковая синяя", "RS-1", "Канцелярия", 45, 35, 12, 0.01, 1000, 500),
    ("DEMO-015", "Карандаш чернографитный HB", "KR-HB", "Канцелярия", 25, 20, 7, 0.01, 800, 0),
    ("DEMO-016", "Тетрадь 48 листов", "TT-48", "Канцелярия", 75, 62, 28, 0.12, 350, 150),
    ("DEMO-017", "Степлер настольный", "ST-24", "Канцелярия", 390, 330, 180, 0.25, 20, 5),
    ("DEMO-018", "Папка-регистратор 75 мм", "PR-75", "Канцелярия", 290, 250, 130, 0.6, 45, 0),
    ("DEMO-019", "Бутылка для воды 0,5 л", "BT-05", "Посуда", 690, 600, 280, 0.15, 18, 3),
    ("DEMO-020", "Термос 1 л", "TM-1", "Посуда", 1890, 1650, 950, 0.7, 11, 0),
    ("DEMO-021", "Ланч-бокс пластиковый", "LB-2", "Посуда", 490, 420, 190, 0.3, 33, 12),
    ("DEMO-022", "Полотенце махровое 70×140", "PL-70", "Одежда", 990, 860, 450, 0.5, 27, 9),
    ("DEMO-023", "Халат банный", "HL-01", "Одежда", 2990, 2600, 1500, 1.1, 0, 0),
    ("DEMO-024", "Рюкзак городской 20 л", "RK-20", "Одежда", 3490, 3050, 1800, 0.8, 14, 6),
    ("DEMO-025", "Зонт складной", "ZN-3", "Одежда", 1290, 1120, 600, 0.4, 22, 8),
    ("DEMO-026", "Клей-карандаш 21 г", "KL-21", "Канцелярия", 95, 80, 35, 0.03, 300, 100),
    ("DEMO-027", "Ножницы офисные", "NZ-17", "Канцелярия", 190, 160, 75, 0.09, 70, 20),
    ("DEMO-028", "Калькулятор настольный", "KL-12", "Канцелярия", 890, 780, 430, 0.2, 16, 0),
    ("DEMO-029", "Органайзер для ручек", "OR-4", "Канцелярия", 450, 390, 190, 0.3, 0, 4),
    ("DEMO-030", "Кофемолка ручная", "KM-1", "Посуда", 2790, 2450, 1400, 0.6, 7, 2),
]
_FOLDERS = ("Посуда", "Одежда", "Канцелярия")
# A subset of the predefined countries (OKSM: code and externalCode are the numeric code; the
# real list has about 250): numeric code, name, description. 895 is OKSM's own (no ISO code).
COUNTRIES = [
    ("643", "Россия", "Российская Федерация"), ("112", "Беларусь", "Республика Беларусь"),
    ("398", "Казахстан", "Республика Казахстан"), ("051", "Армения", "Республика Армения"),
    ("417", "Киргизия", "Киргизская Республика"), ("860", "Узбекистан", "Республика Узбекистан"),
    ("762", "Таджикистан", "Республика Таджикистан"),
    ("031", "Азербайджан", "Республика Азербайджан"), ("268", "Грузия", ""),
    ("498", "Молдова, Республика", "Республика Молдова"), ("804", "Украина", ""),
    ("156", "Китай", "Китайская Народная Республика"),
    ("276", "Германия", "Федеративная Республика Германия"),
    ("380", "Италия", "Итальянская Республика"), ("792", "Турция", "Турецкая Республика"),
    ("840", "Соединенные Штаты", "Соединенные Штаты Америки"), ("392", "Япония", ""),
    ("410", "Корея, Республика", "Республика Корея"), ("356", "Индия", "Республика Индия"),
    ("504", "Марокко", "Королевство Марокко"), ("895", "Абхазия", "Республика Абхазия"),
]


def country_id(code: str) -> str:
    """The fixed id of a demo country by its numeric code ("643")."""
    return fixed_id(f"country-{code}")
_STATES = {
    "customerorder": [("Новый", "Regular", 15106326), ("Подтвержден", "Regular", 40931),
                      ("Собран", "Regular", 8825440), ("Отгружен", "Successful", 8767198),
                      ("Отменен", "Unsuccessful", 10774205)],
    "purchaseorder": [("Новый", "Regular", 15106326), ("Подтвержден", "Regular", 40931),
                      ("Получен", "Successful", 8767198), ("Отменен", "Unsuccessful", 10774205)],
}


def ean13(number: int) -> str:
    digits = f"46{number:010d}"[-12:]
    total = sum(map(int, digits[0::2])) + 3 * sum(map(int, digits[1::2]))
    return digits + str((10 - total % 10) % 10)


def _base(emulator):
    """Reference data every account has: currencies, price types, units, org, stores, states."""
    add = emulator._new_record
    emulator.default_currency = RUB_ID
    add("currency", RUB_ID, {"name": "руб", "fullName": "Российский рубль", "code": "643",
                             "isoCode": "RUB", "rate": 1.0, "multiplicity": 1,
                             "indirect": False, "rateUpdateType": "manual", "margin": 0.0,
                             "system": True})
    add("currency", USD_ID, {"name": "USD", "fullName": "Доллар США", "code": "840",
                             "isoCode": "USD", "rate": 92.5, "multiplicity": 1,
                             "indirect": False, "rateUpdateType": "manual", "margin": 0.0,
                             "system": True})
    emulator.price_types[SALE_PRICE_ID] = {"name": "Цена продажи",
                                           "externalCode": "cbcf493b-55bc-11d9-848a-00112f43529a"}
    emulator.price_types[WHOLESALE_PRICE_ID] = {"name": "Оптовая", "externalCode": "wholesale"}
    add("uom", PCS_ID, {"name": "шт", "code": "796", "externalCode": "796",
                        "description": "Штука"})
    add("uom", KG_ID, {"name": "кг", "code": "166", "externalCode": "166",
                       "description": "Килограмм"})
    add("organization", ORGANIZATION_ID, {
        "name": "ООО «Демо Торг»", "code": "ORG-1", "externalCode": "demo-org",
        "legalTitle": "Общество с ограниченной ответственностью «Демо Торг»",
        "companyType": "legal", "inn": "7707083893", "kpp": "773601001",
        "ogrn": "1027700132195", "legalAddress": "119021, Москва, ул. Тимура Фрунзе, д. 11",
        "accounts": [{"id": fixed_id("org-account"), "accountNumber": "40702810900000000001",
                      "bankName": "ПАО Сбербанк", "bic": "044525225",
                      "correspondentAccount": "30101810400000000225", "isDefault": True}]})
    add("store", MAIN_STORE_ID, {"name": "Основной склад", "code": "MAIN",
                                 "externalCode": "main-store",
                                 "address": "Москва, ул. Складская, д. 1"})
    add("store", NORTH_STORE_ID, {"name": "Склад Север", "code": "NORTH",
                                  "externalCode": "north-store",
                                  "address": "Санкт-Петербург, пр. Северный, д. 5"})
    for code, name, description in COUNTRIES:
        values = {"name": name, "code": code, "externalCode": code}
        if description:
            values["description"] = description
        add("country", country_id(code), values)
    for entity_type, states in _STATES.items():
        for name, state_type, color in states:
            add("state", fixed_id(f"state-{entity_type}-{name}"),
                {"name": name, "stateType": state_type, "color": color,
                 "entityType": entity_type})


def _prices(sale: int, wholesale: int, currency: str = RUB_ID) -> list:
    return [[sale, SALE_PRICE_ID, currency], [wholesale, WHOLESALE_PRICE_ID, currency]]


def load_demo(emulator):
    """Fill an empty emulator with the demo account (caller holds the lock)."""
    _base(emulator)
    add = emulator._new_record
    folders = {}
    for name in _FOLDERS:
        folders[name] = fixed_id(f"folder-{name}")
        add("productfolder", folders[name], {"name": name, "code": f"F-{len(folders)}",
                                             "externalCode": f"folder-{len(folders)}"})
    png = make_png(16, 16, (40, 120, 200))
    for index, row in enumerate(_PRODUCTS, 1):
        code, name, article, folder, sale, wholesale, purchase, weight, main, north = row
        product_id = fixed_id(f"product-{code}")
        currency = USD_ID if code == "DEMO-030" else RUB_ID
        values = {
            "name": name, "code": code, "article": article, "externalCode": f"ext-{code}",
            "description": f"{name}. Демонстрационный товар.",
            "uom": Ref("uom", PCS_ID), "productFolder": Ref("productfolder", folders[folder]),
            "salePrices": (_prices(sale * 100, wholesale * 100) if currency == RUB_ID
                           else _prices(3000, 2650, USD_ID)),
            "buyPrice": [purchase * 100, RUB_ID], "minPrice": [0, RUB_ID],
            "barcodes": [{"ean13": ean13(index)}], "weight": weight,
            "volume": round(weight / 1000, 4), "vat": 20, "vatEnabled": True,
            "paymentItemType": "GOOD", "archived": code == "DEMO-023",
        }
        if index <= 2:
            values["images"] = [{"filename": f"{code.lower()}.png", "content": png}]
        add("product", product_id, values)
        for store_id, quantity in ((MAIN_STORE_ID, main), (NORTH_STORE_ID, north)):
            if quantity:
                emulator.stock[(product_id, store_id)] = [
                    quantity, 1 if quantity > 10 and store_id == MAIN_STORE_ID else 0,
                    2 if index % 5 == 0 else 0, emulator.stamp()]
    tshirt = Ref("product", fixed_id("product-DEMO-007"))
    for size, quantity in (("M", 12), ("L", 9), ("XL", 0)):
        variant_id = fixed_id(f"variant-DEMO-007-{size}")
        add("variant", variant_id, {
            "code": f"DEMO-007-{size}", "externalCode": f"ext-DEMO-007-{size}",
            "product": tshirt, "characteristics": [
                {"id": fixed_id("characteristic-size"), "name": "Размер", "value": size}],
            "salePrices": _prices(89000, 76000), "buyPrice": [41000, RUB_ID],
            "barcodes": [{"ean13": ean13(900 + len(size) * 10 + quantity)}]})
        if quantity:
            emulator.stock[(variant_id, MAIN_STORE_ID)] = [quantity, 0, 0, emulator.stamp()]
    add("service", fixed_id("service-delivery"), {
        "name": "Доставка по Москве", "code": "SRV-DELIVERY", "externalCode": "delivery",
        "uom": Ref("uom", PCS_ID), "salePrices": _prices(50000, 40000),
        "buyPrice": [0, RUB_ID], "vat": 20, "vatEnabled": True})
    add("counterparty", fixed_id("counterparty-supplier"), {
        "name": "ООО «Поставщик»", "code": "CP-1", "externalCode": "cp-supplier",
        "legalTitle": "Общество с ограниченной ответственностью «Поставщик»",
        "companyType": "legal", "inn": "7736207543", "kpp": "773601001",
        "ogrn": "1027700229193", "email": "info@postavshik.example", "phone": "+74951234567",
        "legalAddress": "117997, Москва, ул. Вавилова, д. 19", "tags": ["поставщики"],
        "accounts": [{"id": fixed_id("cp-account"), "accountNumber": "40702810500000000002",
                      "bankName": "АО «Альфа-Банк»", "bic": "044525593",
                      "correspondentAccount": "30101810200000000593", "isDefault": True}],
        "contactpersons": [{"id": fixed_id("cp-contact"), "name": "Иванов Пётр Сергеевич",
                            "position": "Менеджер", "phone": "+79161234567",
                            "email": "ivanov@postavshik.example", "externalCode": "cp-1-1"}]})
    add("counterparty", fixed_id("counterparty-customer"), {
        "name": "ИП Смирнова Анна Викторовна", "code": "CP-2", "externalCode": "cp-customer",
        "companyType": "entrepreneur", "inn": "500100732259", "ogrnip": "304500116000157",
        "email": "smirnova@example.ru", "phone": "+79261112233", "tags": ["покупатели"],
        "actualAddressFull": {"postalCode": "141400", "country": Ref("country", country_id("643")),
                              "city": "Химки", "street": "ул. Ленинградская", "house": "5"},
        "actualAddress": "141400, Россия, Химки, ул. Ленинградская, 5"})


def load_catalogue(emulator, count: int):
    """Reference data and ``count`` synthetic products (caller holds the lock)."""
    _base(emulator)
    folder_ids = []
    for number in range(max(1, (count + 999) // 1000)):
        folder_id = fixed_id(f"syn-folder-{number}")
        emulator._new_record("productfolder", folder_id,
                             {"name": f"Группа {number + 1:03d}", "code": f"SF-{number + 1}"})
        folder_ids.append(Ref("productfolder", folder_id))
    db = emulator.db["product"]
    codes = emulator._codes
    stock = emulator.stock
    now = emulator.stamp()
    collecting = gc.isenabled()
    gc.disable()  # 100,000 records of small containers: no collection passes meanwhile
    try:
        _synthetic(db, codes, stock, folder_ids, now, count)
    finally:
        if collecting:
            gc.enable()
    emulator.version += 1


def _synthetic(db, codes, stock, folder_ids, now, count):
    uom = Ref("uom", PCS_ID)
    prefix = str(uuid.uuid4())[:24]  # UUID-shaped ids: a random head, the number in the tail
    for n in range(1, count + 1):
        product_id = f"{prefix}{n:012x}"
        code = f"SYN-{n:07d}"
        sale = 10_000 + (n * 37) % 900_000
        db[product_id] = {
            "id": product_id, "_type": "product", "created": now, "updated": now,
            "name": f"Товар синтетический {n}", "code": code, "article": f"A{n:07d}",
            "externalCode": f"syn-{n}", "uom": uom, "productFolder": folder_ids[(n - 1) // 1000],
            "salePrices": [[sale, SALE_PRICE_ID, RUB_ID],
                           [sale * 9 // 10, WHOLESALE_PRICE_ID, RUB_ID]],
            "buyPrice": [sale // 2, RUB_ID], "barcodes": [{"ean13": ean13(100_000 + n)}],
            "weight": round(0.1 + (n % 50) / 10, 2), "volume": 0.001, "archived": False,
        }
        codes[code] = product_id
        stock[(product_id, MAIN_STORE_ID)] = [(n * 7) % 50, (n * 3) % 5, 0, now]
        if n % 3 == 0:
            stock[(product_id, NORTH_STORE_ID)] = [(n * 11) % 30, 0, n % 4, now]


def _inn10(number: int) -> str:
    """A 10-digit INN with a valid check digit (the legal entities' checksum)."""
    digits = [int(d) for d in f"77{number:07d}"[-9:]]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return "".join(map(str, digits)) + str(sum(d * w for d, w in zip(digits, weights,
                                                                     strict=True)) % 11 % 10)


def load_counterparties(emulator, count: int):
    """``count`` synthetic legal counterparties ``CP-0000001``… with a valid INN, KPP, e-mail,
    phone, a bank account and a contact person (caller holds the lock)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        table = emulator.db["counterparty"]
        now = emulator.stamp()
        prefix = str(uuid.uuid4())[:24]
        for n in range(1, count + 1):
            counterparty_id = f"{prefix}{n:012x}"
            table[counterparty_id] = {
                "id": counterparty_id, "_type": "counterparty", "created": now, "updated": now,
                "name": f"ООО «Контрагент {n}»", "code": f"CP-{n:07d}",
                "externalCode": f"syn-cp-{n}", "archived": False, "companyType": "legal",
                "legalTitle": f"Общество с ограниченной ответственностью «Контрагент {n}»",
                "inn": _inn10(n), "kpp": "770101001", "email": f"cp{n}@example.ru",
                "phone": f"+7495{n:07d}", "legalAddress": f"Москва, ул. Тестовая, д. {n}",
                "accounts": [{"id": f"{prefix[:19]}a{n % 4096:03x}-{n:012x}",
                              "accountNumber": f"40702810{n:012d}", "bic": "044525225",
                              "bankName": "ПАО Сбербанк", "isDefault": True}],
                "contactpersons": [{"id": f"{prefix[:19]}c{n % 4096:03x}-{n:012x}",
                                    "name": f"Контакт {n}", "email": f"person{n}@example.ru"}],
            }
    finally:
        if collecting:
            gc.enable()
    emulator.version += 1
