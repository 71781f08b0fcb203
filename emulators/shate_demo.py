"""The Shate-M Plus demo catalogue: 32 auto parts of well-known brands with offers in several
warehouses, analog groups, one code sold under two trademarks and one article without offers;
and the demo account's credentials."""

from __future__ import annotations

import hashlib

from .shate_catalogue import ShateArticle, ShateOffer

__all__ = [
    "DEMO_AMBIGUOUS_CODE",
    "DEMO_API_KEY",
    "DEMO_LOGIN",
    "DEMO_PASSWORD",
    "DEMO_UNKNOWN_KEY",
    "demo_catalogue",
]

DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo"
DEMO_API_KEY = "{6F9619FF-8B86-D011-B42D-00C04FC964FF}"
DEMO_AMBIGUOUS_CODE = "OC 105"  # sold as KNECHT and as MAHLE
DEMO_UNKNOWN_KEY = ("W 712/99", "MANN-FILTER")  # looks real, is not in the catalogue

_RETURN_BANNED = "Возврат запрещен. Технические жидкости возврату не подлежат"


def _own(location: str, qty: int, days: int | None = None, factor: float = 1.0, **extra):
    """An offer from an own warehouse: (location, price factor, fields)."""
    lead = {"SHATE-01": 0, "SHATE-S01": 1}.get(location, 2)
    return (location, location, factor, {"available": qty, "shipping_days": lead if days is None
                                         else days, **extra})


def _supplier(real: str, qty: int, days: int, rating: int, factor: float = 0.9, **extra):
    """A third-party offer: held at ``real``, shipped through the central warehouse."""
    fields = {"available": qty, "available_type": "More", "shipping_days": days,
              "type": "External", "rating": rating, "maximum": 50, **extra}
    return ("SHATE-S01", real, factor, fields)


# id, trademark, code, name, description, unit, price BYN, offers, characteristics
_ROWS = (
    (1248201, "MANN-FILTER", "W 712/75", "Фильтр масляный", "Замена - W 712/52. VW, AUDI, SKODA",
     "ШТ", 21.40, (_own("SHATE-01", 14), _own("SHATE-S01", 120, factor=0.98),
                   _supplier("SUP-EU1", 40, 7, 92)),
     (("Высота (мм)", "79"), ("Наружный диаметр (мм)", "76"), ("Резьба", "3/4-16 UNF"))),
    (1248202, "MAHLE", "OC 264", "Фильтр масляный", "Аналог W 712/75", "ШТ", 19.85,
     (_own("SHATE-S01", 36), _own("SHATE-02", 4)),
     (("Высота (мм)", "80"), ("Наружный диаметр (мм)", "76"))),
    (1248203, "BOSCH", "0 451 103 316", "Фильтр масляный", "P 3316", "ШТ", 17.90,
     (_own("SHATE-01", 6), _supplier("SUP-RU1", 20, 4, 88)),
     (("Высота (мм)", "79"), ("Резьба", "3/4-16 UNF"))),
    (1248204, "FEBI BILSTEIN", "22532", "Фильтр масляный", "", "ШТ", 15.30,
     (_own("SHATE-S01", 18),), (("Высота (мм)", "79"),)),
    (1248205, "BOSCH", "0 986 452 041", "Фильтр масляный", "P 2041. FORD, MAZDA, VOLVO", "ШТ",
     16.75, (_own("SHATE-01", 22), _own("SHATE-S01", 64), _own("SHATE-03", 3, factor=1.02)),
     (("Высота (мм)", "97"), ("Наружный диаметр (мм)", "76"), ("Резьба", "M22x1.5"))),
    (1248288, "KNECHT", "OC 105", "Фильтр масляный", "Замена - OC 976. BX 82-93", "ШТ", 8.50,
     (_own("SHATE-01", 5), _own("SHATE-S01", 40)),
     (("Внутренний диаметр 2 (мм)", "62,0"), ("Высота (мм)", "86"))),
    (1248289, "MAHLE", "OC 105", "Фильтр масляный", "OC 105 в упаковке MAHLE", "ШТ", 8.90,
     (_own("SHATE-S01", 12), _supplier("SUP-EU1", 30, 9, 75)),
     (("Внутренний диаметр 2 (мм)", "62,0"),)),
    (1248206, "MANN-FILTER", "HU 719/6 x", "Фильтр масляный (элемент)", "С прокладкой", "ШТ",
     23.10, (_own("SHATE-01", 9), _own("SHATE-S01", 48)),
     (("Высота (мм)", "115"), ("Внутренний диаметр (мм)", "31"))),
    (1248207, "MANN-FILTER", "C 35 154", "Фильтр воздушный", "VW GOLF V, VI 1.4-1.6", "ШТ",
     34.60, (_own("SHATE-S01", 25), _own("SHATE-02", 2)),
     (("Длина (мм)", "348"), ("Ширина (мм)", "175"), ("Высота (мм)", "58"))),
    (1248208, "MANN-FILTER", "CU 2939", "Фильтр салонный", "", "ШТ", 27.80,
     (_own("SHATE-01", 11), _own("SHATE-S01", 70)),
     (("Длина (мм)", "280"), ("Ширина (мм)", "206"), ("Высота (мм)", "35"))),
    (1248209, "MAHLE", "LA 109", "Фильтр салонный", "Аналог CU 2939", "ШТ", 25.20,
     (_supplier("SUP-EU1", 15, 8, 81),), (("Длина (мм)", "280"), ("Ширина (мм)", "206"))),
    (1248210, "MANN-FILTER", "WK 69", "Фильтр топливный", "", "ШТ", 31.45,
     (_own("SHATE-S01", 16),), (("Высота (мм)", "153"), ("Наружный диаметр (мм)", "54"))),
    (1248211, "TRW", "GDB1330", "Колодки тормозные дисковые передние", "С датчиком износа",
     "КОМПЛ", 78.90, (_own("SHATE-01", 8), _own("SHATE-S01", 30), _own("SHATE-02", 1)),
     (("Ширина (мм)", "131"), ("Высота (мм)", "56"), ("Толщина (мм)", "18"))),
    (1248212, "BOSCH", "0 986 494 524", "Колодки тормозные дисковые передние", "", "КОМПЛ",
     82.40, (_own("SHATE-S01", 14), _supplier("SUP-RU1", 12, 4, 90)),
     (("Ширина (мм)", "131"), ("Толщина (мм)", "18"))),
    (1248213, "TRW", "DF4294", "Диск тормозной передний вентилируемый", "Цена за 1 шт.", "ШТ",
     96.30, (_own("SHATE-S01", 10, multiplicity=2, minimum=2),),
     (("Диаметр (мм)", "280"), ("Толщина (мм)", "22"), ("Количество отверстий", "5"))),
    (1248214, "BOSCH", "0 986 479 251", "Диск тормозной передний вентилируемый", "", "ШТ",
     101.20, (_own("SHATE-01", 4, multiplicity=2, minimum=2),
              _supplier("SUP-EU1", 20, 10, 70, multiplicity=2, minimum=2)),
     (("Диаметр (мм)", "280"), ("Толщина (мм)", "22"))),
    (1248215, "NGK", "BKR6E", "Свеча зажигания", "Продаётся по 4 шт.", "ШТ", 9.20,
     (_own("SHATE-01", 96, multiplicity=4, minimum=4),
      _own("SHATE-S01", 400, multiplicity=4, minimum=4)),
     (("Размер ключа", "16"), ("Резьба", "M14x1.25"), ("Калильное число", "6"))),
    (1248216, "BOSCH", "0 242 236 565", "Свеча зажигания", "FR7DCX+", "ШТ", 8.70,
     (_own("SHATE-S01", 200, multiplicity=4, minimum=4),),
     (("Размер ключа", "16"), ("Резьба", "M14x1.25"))),
    (1248217, "NGK", "ZFR6F-11", "Свеча зажигания", "", "ШТ", 10.40,
     (_supplier("SUP-EU1", 40, 8, 95, multiplicity=4, minimum=4),),
     (("Зазор (мм)", "1,1"),)),
    (1248218, "KYB", "334841", "Амортизатор передний газомасляный", "Excel-G, правый", "ШТ",
     189.00, (_own("SHATE-S01", 6), _own("SHATE-02", 2), _supplier("SUP-EU1", 10, 12, 64)),
     (("Тип амортизатора", "Газомасляный"), ("Сторона установки", "Справа"))),
    (1248219, "SACHS", "313 469", "Амортизатор передний газомасляный", "", "ШТ", 176.50,
     (_own("SHATE-S01", 3, maximum=2),), (("Тип амортизатора", "Газомасляный"),)),
    (1248220, "LEMFORDER", "27093 01", "Опора шаровая", "Нижняя, слева/справа", "ШТ", 52.30,
     (_own("SHATE-01", 5), _own("SHATE-S01", 19)), (("Конус (мм)", "18"),)),
    (1248221, "TRW", "JBJ734", "Опора шаровая", "", "ШТ", 47.90,
     (_own("SHATE-S01", 7),), (("Конус (мм)", "18"),)),
    (1248222, "FEBI BILSTEIN", "19298", "Тяга стабилизатора", "Передняя", "ШТ", 29.60,
     (_own("SHATE-01", 12), _own("SHATE-03", 4)), (("Длина (мм)", "285"),)),
    (1248223, "LEMFORDER", "31123 01", "Тяга стабилизатора", "Передняя", "ШТ", 38.10,
     (_own("SHATE-S01", 9),), (("Длина (мм)", "285"),)),
    (1248224, "TRW", "JTE1026", "Наконечник рулевой тяги", "Левый", "ШТ", 41.75,
     (_own("SHATE-S01", 8), _supplier("SUP-RU1", 6, 5, 83)), (("Резьба", "M14x1.5"),)),
    (1248225, "GATES", "6PK1070", "Ремень поликлиновой", "", "ШТ", 24.90,
     (_own("SHATE-01", 17), _own("SHATE-S01", 55)), (("Длина (мм)", "1070"),
                                                      ("Количество ребер", "6"))),
    (1248226, "GATES", "K015578XS", "Комплект ремня ГРМ", "Ремень + ролики", "КОМПЛ", 268.40,
     (_own("SHATE-S01", 3), _supplier("SUP-EU1", 8, 9, 87)), (("Количество зубьев", "137"),)),
    (1248227, "SACHS", "3000 951 015", "Комплект сцепления", "Нет в наличии", "КОМПЛ", 455.00,
     (), (("Диаметр (мм)", "210"),)),
    (1248228, "BOSCH", "3 397 007 620", "Щётка стеклоочистителя бескаркасная (комплект)",
     "Aerotwin A620S, 600/475 мм", "КОМПЛ", 58.20,
     (_own("SHATE-01", 10, is_sale=True, comment="Повреждена упаковка", factor=0.85),
      _own("SHATE-S01", 42)), (("Длина (мм)", "600/475"),)),
    (1248229, "FEBI BILSTEIN", "22272", "Антифриз G12 концентрат 1,5 л", "", "ШТ", 22.60,
     (_own("SHATE-S01", 80, is_return_allowed=False, warning_text=_RETURN_BANNED),),
     (("Объем (л)", "1,5"), ("Цвет", "Красный"))),
    (1248230, "MAHLE", "OX 188D", "Фильтр масляный (элемент)", "", "ШТ", 18.30,
     (_own("SHATE-S01", 21),), (("Высота (мм)", "142"),)),
)

_ANALOG_GROUPS = (
    (1248201, 1248202, 1248203, 1248204),
    (1248288, 1248289, 1248205),
    (1248208, 1248209),
    (1248211, 1248212),
    (1248213, 1248214),
    (1248215, 1248216, 1248217),
    (1248218, 1248219),
    (1248220, 1248221),
    (1248222, 1248223),
    (1248206, 1248230),
)

_ORIGINALS = {
    1248201: ((("03C115561H", "03C115561D"), "VAG"),),
    1248205: ((("1883037", "1S4Z6731AA"), "FORD"),),
    1248211: ((("1K0698151A",), "VAG"),),
    1248215: ((("1214015",), "NGK"),),
}
_APPLICABILITY = {
    1248201: (("VW", "GOLF VI (5K1)", "VW GOLF VI (5K1) 1.4 TSI", "CAXA", "200810", "201311",
               "90", "122", "4", "1390"),
              ("SKODA", "OCTAVIA (1Z3)", "SKODA OCTAVIA (1Z3) 1.4 TSI", "CAXA", "200811",
               "201302", "90", "122", "4", "1390")),
    1248288: (("CITROEN", "JUMPER фургон (230L)", "CITROEN JUMPER Фургон (230L) 2.0",
               "RFW (XU10J2U)", "199403", "200204", "80", "109", "4", "1998"),),
    1248211: (("VW", "PASSAT (3C2)", "VW PASSAT (3C2) 2.0 TDI", "BKP", "200503", "201011",
               "103", "140", "4", "1968"),),
}


def _content_ids(article_id: int, count: int) -> tuple[str, ...]:
    return tuple(hashlib.sha256(f"shate-content:{article_id}:{k}".encode()).hexdigest().upper()
                 for k in range(count))


def _article(row) -> ShateArticle:
    article_id, trademark, code, name, description, unit, price, offers, chars = row
    analogs = tuple(other for group in _ANALOG_GROUPS if article_id in group
                    for other in group if other != article_id)
    built = tuple(ShateOffer(location, real, round(price * factor, 2), **fields)
                  for location, real, factor, fields in offers)
    return ShateArticle(
        article_id, code, trademark, name, description, unit, built, analogs, tuple(chars),
        _ORIGINALS.get(article_id, ()), _APPLICABILITY.get(article_id, ()),
        f"{name} {trademark} {code}. {description}".strip(" ."),
        _content_ids(article_id, 2 if len(chars) > 1 else 1))


def demo_catalogue() -> dict[int, ShateArticle]:
    """A fresh copy of the demo articles, by articleId."""
    return {row[0]: _article(row) for row in _ROWS}
