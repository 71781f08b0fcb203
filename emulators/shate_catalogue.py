"""Catalogue and account model of the Shate-M Plus emulator: articles with their offers,
trademarks, locations, agreements, delivery addresses, order item status codes, and the
synthetic catalogues of the benchmarks."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "DEFAULT_ADDRESSES",
    "DEFAULT_AGREEMENTS",
    "DEFAULT_LOCATIONS",
    "STATUS_CODES",
    "TRADEMARKS",
    "ShateAddress",
    "ShateAgreement",
    "ShateArticle",
    "ShateCatalogue",
    "ShateLocation",
    "ShateOffer",
    "ShateTrademark",
    "generate_catalogue",
    "normalize_code",
]

_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalize_code(code: str) -> str:
    """An article code as the search compares it: without spaces or special characters,
    case-insensitive ("W 712/75" == "w71275" == "W-712.75")."""
    return _NOT_ALNUM.sub("", str(code)).casefold()


@dataclass(frozen=True, slots=True)
class ShateTrademark:
    name: str
    country: str = ""
    description: str = ""
    url: str = ""
    catalog_url: str = ""
    extended_warranty: bool = False


@dataclass(frozen=True, slots=True)
class ShateLocation:
    """A warehouse (``GET /locations``); ``own`` is False for suppliers' warehouses, whose
    goods are shipped through an own one (offer ``locationCode`` ≠ ``locationCodeReal``)."""

    code: str
    name: str
    city: str
    own: bool = True
    lead_days: int = 0  # days from an order to shipping, for availableDateTimes


@dataclass(frozen=True, slots=True)
class ShateAgreement:
    """A customer agreement (``GET /customer/agreements``) plus the emulator's rules for it:
    ``price_factor`` (its prices relative to the catalogue's) and ``prepayment_stock_only``
    (100 % prepayment: goods not in the company's own stock cannot be ordered)."""

    code: str
    group: str
    description: str
    location_code: str
    currency: str
    is_active: bool = True
    is_enabled_pickup: bool = True
    is_enabled_delivery: bool = True
    price_factor: float = 1.0
    prepayment_stock_only: bool = False


@dataclass(frozen=True, slots=True)
class ShateAddress:
    """A delivery address; ``extra_days`` is added to the shipping date for the delivery date."""

    code: str
    city: str
    address: str
    zone_code: str
    extra_days: int = 0


@dataclass(frozen=True, slots=True)
class ShateOffer:
    """One offer of an article. ``location_code`` ships it, ``location_code_real`` holds it (the
    key of the offer within its article). ``price`` is in the catalogue currency (agreements
    scale it); ``available_type`` is ``Equal`` (exactly ``available``) or ``More`` (more than
    it). ``shipping_days``: days until it leaves the warehouse. ``version`` changes whenever the
    offer does, which makes every priceId issued for it stale."""

    location_code: str
    location_code_real: str
    price: float
    available: int
    available_type: str = "Equal"
    multiplicity: int = 1
    minimum: int = 1
    maximum: int | None = None
    shipping_days: int = 0
    type: str = "Internal"
    rating: int | None = None  # supply probability, % (third-party offers only)
    is_sale: bool = False
    comment: str = ""
    is_return_allowed: bool = True
    warning_text: str = ""
    recommended_price: float | None = None
    is_import: bool = True
    is_free: bool = True
    version: int = 0


@dataclass(slots=True)
class ShateArticle:
    """One article: ``id`` is Shate's internal identifier (articleId), ``code`` the catalogue
    number as the brand prints it. ``analogs`` are other article ids. ``contents`` are content
    ids (64 hex characters) of its images."""

    id: int
    code: str
    trademark: str
    name: str
    description: str = ""
    unit: str = "ШТ"
    offers: tuple[ShateOffer, ...] = ()
    analogs: tuple[int, ...] = ()
    characteristics: tuple[tuple[str, str], ...] = ()
    originals: tuple[tuple[tuple[str, ...], str], ...] = ()
    # (make, model, modification, engine code, begin yyyymm, end yyyymm, kW, hp, cylinders, cm³)
    applicability: tuple[tuple[str, ...], ...] = ()
    extended_description: str = ""
    contents: tuple[str, ...] = ()

    def offer(self, location_code_real: str) -> ShateOffer | None:
        for offer in self.offers:
            if offer.location_code_real == location_code_real:
                return offer
        return None


class ShateCatalogue:
    """Articles by id plus the indexes the search uses: by normalised code, and by (normalised
    code, trademark). Not locked: the emulator holds its lock while changing it."""

    def __init__(self, articles: Iterable[ShateArticle] = (),
                 trademarks: Iterable[ShateTrademark] | None = None):
        self.articles: dict[int, ShateArticle] = {}
        self._by_code: dict[str, list[int]] = {}
        self.trademarks: dict[str, ShateTrademark] = {}
        for trademark in (TRADEMARKS.values() if trademarks is None else trademarks):
            self.trademarks[trademark.name.casefold()] = trademark
        self.extend(articles)

    def __len__(self) -> int:
        return len(self.articles)

    def __contains__(self, article_id) -> bool:
        return article_id in self.articles

    def __iter__(self) -> Iterator[int]:
        return iter(self.articles)

    def __getitem__(self, article_id: int) -> ShateArticle:
        return self.articles[article_id]

    def get(self, article_id) -> ShateArticle | None:
        return self.articles.get(article_id)

    def values(self):
        return self.articles.values()

    def extend(self, articles: Iterable[ShateArticle]):
        by_code, store, trademarks = self._by_code, self.articles, self.trademarks
        for article in articles:
            if article.id in store:
                self.remove(article.id)
            store[article.id] = article
            key = normalize_code(article.code)
            if key in by_code:
                by_code[key].append(article.id)
            else:
                by_code[key] = [article.id]
            if article.trademark.casefold() not in trademarks:
                trademarks[article.trademark.casefold()] = ShateTrademark(article.trademark)

    def add(self, article: ShateArticle) -> ShateArticle:
        self.extend((article,))
        return article

    def remove(self, article_id: int) -> ShateArticle | None:
        article = self.articles.pop(article_id, None)
        if article is not None:
            ids = self._by_code.get(normalize_code(article.code), [])
            if article_id in ids:
                ids.remove(article_id)
            if not ids:
                self._by_code.pop(normalize_code(article.code), None)
        return article

    def search(self, code: str, trademarks: Iterable[str] = ()) -> list[ShateArticle]:
        """Articles whose code matches ``code`` (normalised), narrowed to ``trademarks``."""
        wanted = {name.casefold() for name in trademarks if name}
        found = (self.articles[i] for i in self._by_code.get(normalize_code(code), ()))
        return [a for a in found if not wanted or a.trademark.casefold() in wanted]

    def by_key(self, code: str, trademark: str) -> ShateArticle | None:
        matches = self.search(code, (trademark,)) if trademark else []
        return matches[0] if matches else None

    def trademark(self, name: str) -> ShateTrademark | None:
        return self.trademarks.get(str(name).casefold())


# -- account data -----------------------------------------------------------------------------
TRADEMARKS = {t.name: t for t in (
    ShateTrademark("MANN-FILTER", "Германия",
                   "MANN-FILTER — торговая марка MANN+HUMMEL: фильтры для легковых и грузовых "
                   "автомобилей.", "https://www.mann-filter.com",
                   "https://catalog.mann-filter.com", True),
    ShateTrademark("BOSCH", "Германия",
                   "Robert Bosch GmbH — тормозные системы, системы зажигания, фильтры, "
                   "стеклоочистители.", "https://www.bosch.com", "https://www.boschaftermarket.com",
                   True),
    ShateTrademark("SACHS", "Германия",
                   "SACHS (ZF Friedrichshafen AG) — сцепление и амортизаторы.",
                   "https://www.sachs.de", "https://aftermarket.zf.com"),
    ShateTrademark("TRW", "Германия",
                   "TRW (ZF Aftermarket) — тормозные системы и рулевое управление.",
                   "https://www.trwaftermarket.com", "https://aftermarket.zf.com"),
    ShateTrademark("FEBI BILSTEIN", "Германия",
                   "febi bilstein — запчасти для легковых и грузовых автомобилей.",
                   "https://www.febi.com", "https://partsfinder.bilsteingroup.com"),
    ShateTrademark("LEMFORDER", "Германия",
                   "LEMFÖRDER (ZF Aftermarket) — детали подвески и рулевого управления.",
                   "https://www.lemfoerder.com", "https://aftermarket.zf.com"),
    ShateTrademark("NGK", "Япония", "NGK Spark Plug Co. — свечи зажигания и лямбда-зонды.",
                   "https://www.ngk.de", "https://www.ngk.de/ru/katalog"),
    ShateTrademark("KYB", "Япония", "KYB Corporation — амортизаторы и пружины подвески.",
                   "https://www.kyb-europe.com", "https://www.kyb-europe.com/catalogue"),
    ShateTrademark("MAHLE", "Германия",
                   "MAHLE GmbH — фильтры, детали двигателя, термоменеджмент.",
                   "https://www.mahle.com", "https://catalog.mahle-aftermarket.com"),
    ShateTrademark("KNECHT", "Германия",
                   "Торговая марка KNECHT принадлежит концерну MAHLE.", "http://www.mahle.com",
                   "http://www.mahle.com"),
    ShateTrademark("GATES", "США", "Gates Corporation — приводные ремни и комплекты ГРМ.",
                   "https://www.gates.com", "https://www.gatesautocat.com"),
)}

DEFAULT_LOCATIONS = (
    ShateLocation("SHATE-01", "Склад Минск, ул. Тимирязева", "Минск", True, 0),
    ShateLocation("SHATE-S01", "Центральный склад Привольный", "Привольный", True, 1),
    ShateLocation("SHATE-02", "Склад Гомель", "Гомель", True, 2),
    ShateLocation("SHATE-03", "Склад Брест", "Брест", True, 2),
    ShateLocation("SUP-EU1", "Склад поставщика (Европа)", "Варшава", False, 7),
    ShateLocation("SUP-RU1", "Склад поставщика (Москва)", "Москва", False, 4),
)

DEFAULT_AGREEMENTS = (
    ShateAgreement("SAGR1", "БЕЗНАЛ", "Договор поставки № 112470 (безналичный расчёт)",
                   "SHATE-01", "BYN"),
    ShateAgreement("SAGR2", "НАЛ", "Физ. лицо", "SHATE-01", "BYN", is_enabled_delivery=False,
                   price_factor=1.05, prepayment_stock_only=True),
    ShateAgreement("SAGR3", "БЕЗНАЛ", "Договор поставки № 112471 (валютный)", "SHATE-S01",
                   "USD", is_active=False, price_factor=0.31),
)

DEFAULT_ADDRESSES = (
    ShateAddress("Д1", "Минск", "ул. Мира, д. 2А", "MINSK01", 0),
    ShateAddress("Д2", "Брест", "ул. Советская, д. 15, склад 3", "BREST01", 1),
)

# code → (name, description, isFinal); the codes of the field notes keep their meaning.
STATUS_CODES = {
    0: ("Новый", "Строка заказа принята, ожидает обработки", False),
    10: ("Ожидает подтверждения", "Строка ожидает подтверждения менеджером", False),
    20: ("Ожидает оплаты", "По договору требуется предоплата", False),
    30: ("В работе", "Заказ успешно обработан", False),
    40: ("Заказано у поставщика", "Товар заказан у стороннего поставщика", False),
    50: ("Подтверждено поставщиком", "Поставщик подтвердил поставку", False),
    60: ("Отказ поставщика", "Поставщик отказал в поставке", True),
    70: ("В пути", "Товар в пути на склад отгрузки", False),
    80: ("Поступило на склад", "Товар поступил на склад отгрузки", False),
    90: ("Готово к выдаче", "Товар собран и ожидает самовывоза", False),
    100: ("Отгружено", "Товар отгружен со склада", False),
    110: ("В доставке", "Товар передан в доставку", False),
    120: ("Возврат в обработке", "Оформлен возврат, товар ожидает приёмки", False),
    130: ("Возвращено", "Возврат принят", True),
    140: ("Доставлено", "Товар доставлен клиенту", True),
    150: ("Выдано", "Товар выдан клиенту (самовывоз)", True),
    160: ("Снято менеджером", "Строка снята менеджером", True),
    180: ("Отменено", "Строка заказа отменена", True),
}


# -- synthetic catalogues ----------------------------------------------------------------------
# (name, unit, base price BYN, ((brand, code pattern), ...)): the pattern takes the running
# number ``n``; the brand is chosen by the article's position.
_FAMILIES = (
    ("Фильтр масляный", "ШТ", 18.0, (("MANN-FILTER", "W {n}/1"), ("MAHLE", "OC {n}"),
                                     ("BOSCH", "0 451 {n}"), ("KNECHT", "OX {n}D"))),
    ("Фильтр воздушный", "ШТ", 26.0, (("MANN-FILTER", "C {n}"), ("MAHLE", "LX {n}"),
                                      ("BOSCH", "F 026 4{n}"))),
    ("Фильтр салонный", "ШТ", 24.0, (("MANN-FILTER", "CU {n}"), ("MAHLE", "LA {n}"),
                                     ("FEBI BILSTEIN", "{n}"))),
    ("Колодки тормозные дисковые передние", "КОМПЛ", 85.0,
     (("TRW", "GDB{n}"), ("BOSCH", "0 986 4{n}"))),
    ("Диск тормозной передний", "ШТ", 95.0, (("TRW", "DF{n}"), ("BOSCH", "0 986 5{n}"))),
    ("Свеча зажигания", "ШТ", 9.5, (("NGK", "BKR{n}E"), ("BOSCH", "0 242 {n}"))),
    ("Амортизатор передний газомасляный", "ШТ", 160.0, (("KYB", "K{n}"), ("SACHS", "S{n}"))),
    ("Опора шаровая", "ШТ", 48.0, (("LEMFORDER", "{n} 01"), ("TRW", "JBJ{n}"))),
    ("Тяга стабилизатора", "ШТ", 32.0, (("LEMFORDER", "{n} 02"), ("FEBI BILSTEIN", "{n}"))),
    ("Ремень поликлиновой", "ШТ", 28.0, (("GATES", "6PK{n}"), ("BOSCH", "1 987 {n}"))),
    ("Комплект ремня ГРМ", "КОМПЛ", 210.0, (("GATES", "K0{n}XS"),)),
    ("Комплект сцепления", "КОМПЛ", 420.0, (("SACHS", "3000 {n}"),)),
)
_STOCK = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 100)
_OWN = ("SHATE-01", "SHATE-S01", "SHATE-02", "SHATE-03")


def generate_catalogue(n: int, seed: int = 0) -> dict[int, ShateArticle]:
    """``n`` deterministic synthetic articles with 1–4 offers each: ids ``3_000_000 + i``,
    article codes unique (also once normalised) and real-looking for their trademark, analogs
    between neighbours of the same family; one article in ten has only a supplier's offer
    (``SUP-EU1`` shipped through ``SHATE-S01``), the others 1–3 own offers and sometimes one."""
    rand = random.Random(seed).random
    catalogue: dict[int, ShateArticle] = {}
    seen: set[str] = set()
    n_families, n_stock, n_own_locations = len(_FAMILIES), len(_STOCK), len(_OWN)
    for i in range(n):
        name, unit, base, brands = _FAMILIES[i % n_families]
        brand, pattern = brands[(i // n_families) % len(brands)]
        code = pattern.format(n=1000 + i)
        key = normalize_code(code)
        if key in seen:
            code = f"{code}-{i}"
            key = normalize_code(code)
        seen.add(key)
        price = round(base * (0.7 + 0.6 * rand()), 2)
        pack = 4 if brand == "NGK" else 1
        roll = rand()
        n_own = 0 if roll < 0.1 else 1 + int(rand() * 3)
        first = int(rand() * n_own_locations)
        offers = [
            ShateOffer(location, location, round(price * (1 + 0.03 * k), 2),
                       _STOCK[int(rand() * n_stock)] * pack, "Equal", pack, pack, None,
                       0 if location == "SHATE-01" else 1 + k)
            for k, location in ((k, _OWN[(first + k) % n_own_locations]) for k in range(n_own))
        ]
        if n_own == 0 or roll > 0.6:
            offers.append(ShateOffer(
                "SHATE-S01", "SUP-EU1", round(price * 0.92, 2), 10 * pack, "More", pack, pack,
                50 * pack, 7 + int(rand() * 7), "External", 60 + int(rand() * 40),
                is_return_allowed=rand() > 0.3))
        analogs = tuple(3_000_000 + j for j in (i - n_families, i + n_families) if 0 <= j < n)
        article_id = 3_000_000 + i
        catalogue[article_id] = ShateArticle(
            article_id, code, brand, name, f"{name} {brand}", unit, tuple(offers), analogs,
            (("Тип детали", name), ("Производитель", brand)))
    return catalogue
