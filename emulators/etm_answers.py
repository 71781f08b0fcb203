"""The ``data`` parts of the ETM iPro answers, built from catalogue products in the document's
shapes (pure functions: the emulator decides which one to send)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from functools import lru_cache

from .etm_catalogue import EtmProduct, EtmStore, class_tree, slugify
from .server import make_png

__all__ = [
    "login_data",
    "manufacturer_rows",
    "png_for",
    "price_row",
    "product_card",
    "remains_data",
    "report_rows",
]

_slug = lru_cache(maxsize=1024)(slugify)


def number(value: float):
    """Prices as the service prints them: 1288 for whole roubles, 679.51 otherwise."""
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def quantity(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def login_data(session: str, login: str) -> dict:
    return {
        "basket_lines": 0,
        "basket_sum": "0.00",
        "sms": "false",
        "url": "s2.etm.ru",
        "data_url": "ipro.etm.ru",
        "session": session,
        "login": login,
        "show_ipro3": True,
    }


def price_row(product: EtmProduct) -> dict:
    return {
        "gdscode": int(product.etm_code),
        "price": number(product.price),
        "pricewnds": number(product.price_with_vat),
        "price_tarif": number(product.price_tariff),
        "price_retail": number(product.price_retail),
    }


def remains_data(product: EtmProduct, stores: Iterable[EtmStore], store_name: str,
                 today: str) -> dict:
    """Remains for the account's ``stores``; ``today`` is dd/mm/YYYY."""
    rows = []
    for store in stores:
        row = {"StoreCode": store.code, "StoreType": store.type, "StoreName": store.name,
               "StoreDate": today, "StoreQuantRem": quantity(product.stores.get(store.code, 0))}
        if store.type == "op":
            row["StoreDateExpress"] = ""
        rows.append(row)
    forecast = {"InfoForecastInc": [], "InfoForecastInWay": [], "InfoForecastRequest": []}
    return {
        "RequestStoreName": store_name,
        "UnitName": product.unit,
        "gdscode": product.etm_code,
        "InfoStores": rows,
        "InfoForecast": [
            {"ForecastStoreName": f"Логистический центр {store_name}", **forecast},
            {"ForecastStoreName": "распределительный склад", **forecast},
        ],
        "InforDeliveryTime": {
            "DeliveryLabelInPres": "складе производителя",
            "DeliveryTimeInPres": str(product.delivery_days),
            "DeliveryLabelAtAbs": "складе производителя",
            "DeliveryIsNeedSpecification": "1",
            "DeliveryProductionTerm": "",
        },
    }


def _small_image(product: EtmProduct) -> str:
    image_dir, _, image_file = product.image.rpartition("/")
    return f"{image_dir}/small_{image_file}" if product.image else ""


def product_card(product: EtmProduct, stores: Iterable[EtmStore],
                 related: Iterable[EtmProduct]) -> dict:
    """Goods: the product card; ``related`` become ``relatedProducts``."""
    image_file = product.image.rpartition("/")[2]
    crs = {store.code for store in stores if store.type == "crs"}
    return {
        "gdsCode": product.etm_code,
        "gdsNameTitle": product.name,
        "pack_alt": "",
        "gdsNameInMnf": "",
        "gdsInfoClass81": f"{product.class_code} - {product.class_name}",
        "gdsNameCountry": product.country,
        "gdsMnfName": product.brand,
        "gdsMnfCode": product.brand_code,
        "gdsMnfUrl": _slug(product.brand),
        "gdsArt": product.article,
        "gdsExtArt": product.ext_article,
        "gdsUnitName": product.unit,
        "gdsInfoPacks": f"{product.min_pack} {product.unit}",
        "gdsSertifName": product.certificate,
        "gdsClassTree": class_tree(product.class_code, product.class_name),
        "gdsChars": [{"gdsCharName": name, "gdsCharVal": value} for name, value in product.chars],
        "description": product.description,
        "slang": "",
        "gdsPacks": [],
        "gdsClasses": [],
        "sale": "0",
        "gdsPrice1": f"{product.price:.2f}",
        "gdsPrice2": f"{product.price_retail:.2f}",
        "gdsPrice3": "",
        "gdsImages": [{"gdsImgSrc": _small_image(product), "gdsImgRef": product.image}]
        if product.image else [],
        "gdsVz_an": "0",
        "gdsConstr": "0",
        "qual82_img": "",
        "qual82_title": "",
        "gdsRemSt": quantity(product.total_stock),
        "gdsAvail": "",
        "gdsRemCRS": quantity(sum(q for s, q in product.stores.items() if s in crs)),
        "timeX": "1",
        "timeY": str(product.delivery_days),
        "can_basket": "z",
        "gdsRemAddSt": f"В течение {product.delivery_days} дн.",
        "not_produced": False,
        "gdsSertFiles": ["/sert/" + product.certificate.replace(" ", "%20") + ".PG1"]
        if product.certificate else [],
        "minPack": str(product.min_pack),
        "myCatalog": 0,
        "relatedProducts": [_related_row(other) for other in related],
        "gdsTechDescInt": [{"gdsTechIntSrc": f"//cdn.etm.ru/ipro/{product.brand_code}/"
                                             f"{image_file.rpartition('.')[0]}.pdf",
                            "gdsTechIntName": "Страница каталога"}] if image_file else [],
        "gdsTechDescExt": [],
    }


def _related_row(other: EtmProduct) -> dict:
    return {
        "id": f"{other.etm_code}-0-0", "gdsCode": other.etm_code, "gdsName": other.name,
        "sale": "0", "gdsPrice1": f"{other.price:.2f}", "gdsPrice2": f"{other.price_retail:.2f}",
        "gdsPrice3": "", "gdsUnitName": other.unit, "minPack": str(other.min_pack),
        "type": "class", "mnfName": other.brand, "mnfSer": "", "country": "RUS",
        "pack3": f"{other.min_pack} {other.unit}", "can_basket": "",
        "avail": "В наличии" if other.total_stock else "Под заказ",
        "gdsImgSrc": _small_image(other),
    }


def report_rows(products: Iterable[EtmProduct]) -> list[dict]:
    """The SgGds file: one row per product of the special price list."""
    return [{"id": p.etm_code, "name": p.name, "brand": p.brand, "article": p.article,
             "brand_code": p.brand_code, "cli_code": p.cli_code, "class": p.class_code}
            for p in products]


def manufacturer_rows(manufacturers: dict[str, str]) -> list[dict]:
    """R-manuf rows sorted by name; ``id`` (ETM's internal number) is derived from the code."""
    return [{"id": str(4_260_000 + int(code)) if code.isdigit() else code,
             "value": code, "label": label}
            for code, label in sorted(manufacturers.items(), key=lambda item: item[1])]


@lru_cache(maxsize=512)
def png_for(path: str) -> bytes:
    """A PNG whose colour depends on the path: 16×16, or 8×8 for ``small_`` images."""
    colour = zlib.crc32(path.encode())
    size = 8 if "/small_" in path else 16
    return make_png(size, size, (colour & 0xFF, (colour >> 8) & 0xFF, (colour >> 16) & 0xFF))
