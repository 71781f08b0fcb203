"""Catalogue model of the ETM iPro emulator: products, stores, classes, synthetic catalogues."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

__all__ = [
    "BRANDS",
    "CLASS_NAMES",
    "DEFAULT_STORES",
    "EtmCatalogue",
    "EtmProduct",
    "EtmStore",
    "class_tree",
    "generate_catalogue",
    "slugify",
]


@dataclass(frozen=True, slots=True)
class EtmStore:
    """A store the account is configured for: ``type`` is rc, crs or op (also rc2sum, all)."""

    code: int
    type: str
    name: str


DEFAULT_STORES = (
    EtmStore(11, "rc", "пос. Шушары, Ленсоветовская дорога, Центральный склад ЛЦ"),
    EtmStore(105, "op", "г. Петрозаводск, ул.Мелентьевой, д.50А"),
    EtmStore(207, "crs", "Логистический центр ЭТМ-Москва"),
    EtmStore(312, "op", "г. Москва, ул. Электродная, д.2"),
)


@dataclass(slots=True)
class EtmProduct:
    """One product of the emulated catalogue.

    Prices are roubles: ``price`` without VAT (the client's price), ``price_with_vat``,
    ``price_tariff`` (manufacturer's tariff) and ``price_retail``. ``stores`` maps a store code
    to the quantity there. The emulator never mutates a product in place (its helpers replace
    it), so a catalogue dict can be shared between emulators.
    """

    etm_code: str
    cli_code: str
    name: str
    brand: str
    brand_code: str
    article: str
    unit: str
    price: float
    price_with_vat: float
    price_tariff: float
    price_retail: float
    stores: dict[int, float] = field(default_factory=dict)
    delivery_days: int = 3
    chars: list[tuple[str, str]] = field(default_factory=list)
    class_code: str = ""
    class_name: str = ""
    image: str = ""
    ext_article: str = ""
    country: str = "Россия"
    certificate: str = ""
    description: str = ""
    min_pack: int = 1

    @property
    def total_stock(self) -> float:
        return sum(self.stores.values())


class EtmCatalogue:
    """Products by ETM code plus the indexes the API looks codes up by (client code,
    manufacturer article, class). Mutations are not locked here: the emulator holds its lock."""

    def __init__(self, products: Iterable[EtmProduct] = ()):
        self.products: dict[str, EtmProduct] = {}
        self._by_cli: dict[str, str] = {}
        self._by_mnf: dict[str, list[str]] = {}
        self._by_class: dict[str, list[str]] = {}
        self._manufacturers: dict[str, str] | None = None
        self.extend(products)

    def __len__(self) -> int:
        return len(self.products)

    def __contains__(self, code) -> bool:
        return code in self.products

    def __iter__(self) -> Iterator[str]:
        return iter(self.products)

    def __getitem__(self, code: str) -> EtmProduct:
        return self.products[code]

    def get(self, code: str) -> EtmProduct | None:
        return self.products.get(code)

    def values(self):
        return self.products.values()

    def extend(self, products: Iterable[EtmProduct]):
        """Add or replace many products (the fast path for 100,000)."""
        catalogue, by_cli, by_mnf, by_class = (self.products, self._by_cli, self._by_mnf,
                                               self._by_class)
        for product in products:
            if product.stores and type(next(iter(product.stores))) is not int:
                product = replace(product, stores={int(k): v for k, v in product.stores.items()})
            code = product.etm_code
            if code in catalogue:
                self.remove(code)
            catalogue[code] = product
            if product.cli_code:
                by_cli[product.cli_code] = code
            if product.article:
                key = product.article.casefold()
                if key in by_mnf:
                    by_mnf[key].append(code)
                else:
                    by_mnf[key] = [code]
            if product.class_code in by_class:
                by_class[product.class_code].append(code)
            else:
                by_class[product.class_code] = [code]
        self._manufacturers = None

    def add(self, product: EtmProduct) -> EtmProduct:
        self.extend((product,))
        return self.products[product.etm_code]

    def remove(self, code: str) -> EtmProduct | None:
        product = self.products.pop(code, None)
        if product is None:
            return None
        if self._by_cli.get(product.cli_code) == code:
            del self._by_cli[product.cli_code]
        for key, index in ((product.article.casefold(), self._by_mnf),
                           (product.class_code, self._by_class)):
            codes = index.get(key)
            if codes and code in codes:
                codes.remove(code)
                if not codes:
                    del index[key]
        self._manufacturers = None
        return product

    def lookup(self, code: str, code_type: str, mnf: str = "") -> EtmProduct | None:
        """By ETM code (``etm``, exact), client code (``cli``) or manufacturer article (``mnf``,
        case-insensitive, narrowed to manufacturer code ``mnf`` when given)."""
        if code_type == "etm":
            return self.products.get(code)
        if code_type == "cli":
            etm_code = self._by_cli.get(code)
            return self.products.get(etm_code) if etm_code else None
        for etm_code in self._by_mnf.get(code.casefold(), ()):
            product = self.products.get(etm_code)
            if product and (not mnf or product.brand_code == mnf):
                return product
        return None

    def same_class(self, product: EtmProduct, limit: int = 3) -> list[EtmProduct]:
        """A few other products of the product's class (for ``relatedProducts``)."""
        others = (self.products.get(code)
                  for code in self._by_class.get(product.class_code, ())[: limit + 1]
                  if code != product.etm_code)
        return [other for other in others if other is not None][:limit]

    def manufacturers(self) -> dict[str, str]:
        """Manufacturer code → name for every brand in the catalogue (cached)."""
        if self._manufacturers is None:
            self._manufacturers = {p.brand_code: p.brand for p in self.products.values()}
        return self._manufacturers


# ETM's catalogue classes: two digits per level (section, group, subgroup, class).
CLASS_NAMES = {
    "10": "Низковольтное оборудование",
    "1010": "Модульное оборудование",
    "101010": "Автоматические выключатели модульные",
    "10101010": "Автоматические выключатели до 63А",
    "101020": "Устройства защитного отключения",
    "10102010": "Выключатели дифференциального тока",
    "101030": "Дифференциальные автоматы",
    "10103010": "Автоматические выключатели дифференциального тока",
    "1020": "Пускорегулирующая аппаратура",
    "102010": "Контакторы",
    "10201010": "Контакторы до 100А",
    "1030": "Щиты и корпуса",
    "103010": "Щиты пластиковые",
    "10301010": "Щиты распределительные пластиковые",
    "20": "Изделия для электромонтажа",
    "2010": "Кабеленесущие системы",
    "201012": "Перфорированные лотки",
    "20101210": "Лотки перфорированные оцинкованные",
    "201014": "Лестничные лотки",
    "20101420": "Оцинкованные лотки(метод Сендзимира)",
    "2020": "Трубы и кабель-каналы",
    "202010": "Трубы гофрированные",
    "20201010": "Трубы гофрированные ПВХ",
    "202020": "Кабель-каналы",
    "20202010": "Кабель-каналы пластиковые",
    "2030": "Монтажные изделия",
    "203010": "Изоляционные материалы",
    "20301010": "Изолента ПВХ",
    "203020": "Стяжки и хомуты",
    "20302010": "Хомуты-стяжки нейлоновые",
    "203030": "Наконечники и гильзы",
    "20303010": "Наконечники кольцевые",
    "2040": "Коробки",
    "204010": "Коробки распаячные",
    "20401010": "Коробки распаячные для открытой проводки",
    "30": "Кабельно-проводниковая продукция",
    "3010": "Силовые кабели",
    "301010": "Кабели ВВГ",
    "30101010": "Кабели ВВГнг(А)-LS",
    "301020": "Кабели гибкие",
    "30102010": "Кабели КГ",
    "3020": "Провода",
    "302010": "Провода установочные",
    "30201010": "Провода ПуВ (ПВ1)",
    "3030": "Кабели связи",
    "303010": "Кабели витая пара",
    "30301010": "Кабели UTP",
    "40": "Светотехника",
    "4010": "Лампы",
    "401010": "Лампы светодиодные",
    "40101010": "Лампы светодиодные грушевидные",
    "4020": "Светильники",
    "402010": "Светильники светодиодные",
    "40201010": "Светильники светодиодные ДПО/ДВО",
    "50": "Электроустановочные изделия",
    "5010": "Розетки",
    "501010": "Розетки скрытой установки",
    "50101010": "Розетки СП 1-местные",
    "5020": "Выключатели",
    "502010": "Выключатели скрытой установки",
    "50201010": "Выключатели СП 1-клавишные",
}

# brand → ETM manufacturer code (gdsMnfCode), used by demo and synthetic catalogues alike.
BRANDS = {
    "IEK": "107",
    "Schneider Electric": "271",
    "ABB": "19",
    "DKC": "138",
    "КМ-Профиль": "1209",
    "Legrand": "112",
    "EKF": "1466",
    "Navigator": "1637",
    "Rexant": "1356",
    "Камкабель": "1725",
}

_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "h", "c", "ch", "sh", "sch", "", "y", "", "e", "ju", "ja"], strict=True))


def slugify(text: str) -> str:
    """ETM-style "ЧПУ": transliterated, lower case, words joined by underscores."""
    out = []
    for char in text.lower():
        if char in _TRANSLIT:
            out.append(_TRANSLIT[char])
        elif char.isascii() and char.isalnum():
            out.append(char)
        else:
            out.append("_")
    return "_".join(part for part in "".join(out).split("_") if part)


def class_tree(class_code: str, class_name: str = "") -> list[dict]:
    """``gdsClassTree``: one node per two-digit level of the class code."""
    tree = []
    for end in range(2, len(class_code) + 1, 2):
        code = class_code[:end]
        name = CLASS_NAMES.get(code) or (class_name if code == class_code else f"Класс {code}")
        tree.append({"code": code, "name": name, "url": slugify(name)})
    return tree


# Synthetic catalogue: (name pattern, unit, class, brands, article prefix, image file,
# base price, {parameter: choices}); the name pattern takes the parameters.
_FAMILIES = (
    ("Выключатель автоматический {p}P {a}А 4,5кА х-ка {c}", "шт", "10101010",
     ("IEK", "EKF", "Schneider Electric", "ABB"), "MCB", "mcb.jpg", 180.0,
     {"p": ("1", "2", "3"), "a": ("6", "10", "16", "25", "32", "40"), "c": ("B", "C")},
     ("Количество полюсов", "Номинальный ток, А", "Характеристика срабатывания")),
    ("Выключатель дифференциального тока (УЗО) {p}п {a}А {m}мА тип AC", "шт", "10102010",
     ("IEK", "EKF", "ABB"), "RCD", "rcd.jpg", 1400.0,
     {"p": ("2", "4"), "a": ("16", "25", "40", "63"), "m": ("10", "30", "100")},
     ("Количество полюсов", "Номинальный ток, А", "Ток утечки, мА")),
    ("Кабель ВВГнг(А)-LS {n}х{s} ок(N,PE) 0.66кВ (м)", "м", "30101010",
     ("Камкабель",), "VVG", "vvg.jpg", 95.0,
     {"n": ("2", "3", "4", "5"), "s": ("1.5", "2.5", "4", "6", "10")},
     ("Количество жил", "Сечение жилы, мм2")),
    ("Провод ПуВ 1х{s} {k} (м)", "м", "30201010", ("Камкабель", "Rexant"), "PUV", "puv.jpg", 18.0,
     {"s": ("0.75", "1.5", "2.5", "4", "6"), "k": ("бел.", "сер.", "желт.-зел.", "син.")},
     ("Сечение жилы, мм2", "Цвет")),
    ("Лоток перфорированный {w}х{h}х3000мм {t}мм", "м", "20101210", ("КМ-Профиль", "DKC"), "LP",
     "lp.jpg", 420.0, {"w": ("50", "100", "200", "300"), "h": ("50", "80", "100"),
                       "t": ("0.7", "1.0")},
     ("Ширина, мм", "Высота, мм", "Толщина материала изделия")),
    ("Лампа светодиодная {w}Вт A60 грушевидная {k}К E27 230В", "шт", "40101010",
     ("Navigator", "IEK", "EKF"), "LED", "led.jpg", 85.0,
     {"w": ("7", "10", "12", "15", "20"), "k": ("2700", "4000", "6500")},
     ("Мощность, Вт", "Цветовая температура, К")),
    ("Розетка 1-м СП 16А IP20 с заземл. {k}", "шт", "50101010", ("Legrand", "Schneider Electric"),
     "SOC", "socket.jpg", 260.0, {"k": ("бел.", "беж.", "антрацит", "алюм.")}, ("Цвет",)),
    ("Хомут-стяжка кабельная нейлоновая {l}x{w}мм {k} (100шт/уп)", "упак", "20302010",
     ("Rexant", "IEK", "EKF"), "TIE", "ties.jpg", 60.0,
     {"l": ("100", "150", "200", "300"), "w": ("2.5", "3.6", "4.8"), "k": ("бел.", "черн.")},
     ("Длина, мм", "Ширина, мм", "Цвет")),
    ("Коробка распаячная {a}х{a}х{d}мм IP{i}", "шт", "20401010", ("IEK", "DKC", "EKF"), "BOX",
     "box.jpg", 110.0, {"a": ("80", "100", "150"), "d": ("40", "50", "70"), "i": ("44", "55")},
     ("Длина, мм", "Глубина, мм", "Степень защиты")),
    ("Светильник светодиодный ДПО {w}Вт {k}К IP{i}", "шт", "40201010", ("Navigator", "IEK"),
     "DPO", "dpo.jpg", 950.0, {"w": ("18", "36", "40", "50"), "k": ("4000", "6500"),
                               "i": ("20", "40", "65")},
     ("Мощность, Вт", "Цветовая температура, К", "Степень защиты")),
)

_STOCK_LEVELS = (0, 0, 1, 3, 5, 10, 12, 25, 40, 77, 100, 150, 279, 500, 1200)  # 13 non-zero
_DELIVERY_DAYS = (1, 1, 2, 3, 3, 5, 7, 14)


def _variants(family) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every name/characteristics combination of a family, built once and shared."""
    pattern, _unit, class_code, *_rest, params, char_names = family
    combos = [{}]
    for key, choices in params.items():
        combos = [{**combo, key: choice} for combo in combos for choice in choices]
    class_name = CLASS_NAMES[class_code]
    out = []
    for combo in combos:
        values = [combo[key] for key in dict.fromkeys(params)]
        chars = [("Тип изделия", class_name)] + list(zip(char_names, values, strict=False))
        out.append((pattern.format(**combo), chars))
    return out


_VARIANTS: list | None = None


def generate_catalogue(n: int, seed: int = 0, stores=DEFAULT_STORES) -> dict[str, EtmProduct]:
    """``n`` deterministic synthetic products: ETM codes ``str(1_000_000 + i)``, client codes
    ``CLI-%06d``, unique manufacturer articles; about 10 % out of stock everywhere, 10 % in
    one store only."""
    global _VARIANTS
    if _VARIANTS is None:
        _VARIANTS = [_variants(family) for family in _FAMILIES]
    rand = random.Random(seed).random  # int(rand() * n) is several times faster than randrange
    store_codes = [store.code for store in stores]
    n_stores, n_levels, n_days = len(store_codes), len(_STOCK_LEVELS), len(_DELIVERY_DAYS)
    catalogue = {}
    for i in range(n):
        index = i % len(_FAMILIES)
        _p, unit, class_code, brands, prefix, image, base, _params, _names = _FAMILIES[index]
        variants = _VARIANTS[index]
        name, chars = variants[int(rand() * len(variants))]
        brand = brands[int(rand() * len(brands))]
        brand_code = BRANDS[brand]
        price = round(base * (0.6 + 0.8 * rand()), 2)
        roll = rand()
        if roll < 0.1:
            stock = {}
        elif roll < 0.2:
            stock = {store_codes[int(rand() * n_stores)]: _STOCK_LEVELS[2 + int(rand() * 13)]}
        else:
            stock = {code: _STOCK_LEVELS[int(rand() * n_levels)] for code in store_codes}
        etm_code = str(1_000_000 + i)
        catalogue[etm_code] = EtmProduct(
            etm_code, f"CLI-{i:06d}", f"{name} {brand}", brand, brand_code,
            f"{prefix}{brand_code}-{i:06d}", unit, price, round(price * 1.2, 2),
            round(price * 1.65, 2), float(round(price * 1.6)), stock,
            _DELIVERY_DAYS[int(rand() * n_days)], chars, class_code, CLASS_NAMES[class_code],
            f"/ipro/{brand_code}/{image}",
        )
    return catalogue
