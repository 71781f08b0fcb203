"""MoySklad lists and queries: pages streamed lazily over nextHref, limits and expand, filters
escaped, Moscow time both ways, kopecks both ways, assortment rows that are not products."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import responses
from moysklad_client_helpers import (
    BASE,
    BUNDLE_ID,
    PRODUCT_ID,
    PRODUCT_ID_2,
    SERVICE_ID,
    VARIANT_ID,
    FakeTime,
    list_answer,
    make_client,
    product_row,
    query_of,
)

from api.errors import BadResponse
from api.moysklad_data import from_kopecks, parse_product, to_kopecks
from api.moysklad_query import Filter, list_params, parse_moscow, to_moscow_text

ASSORTMENT_URL = f"{BASE}/entity/assortment"


@pytest.fixture
def fake():
    return FakeTime()


# -- Moscow time and filters ---------------------------------------------------------------------
def test_moscow_time_from_naive_utc_aware_and_date():
    assert to_moscow_text(datetime(2025, 12, 31, 21, 0, 0)) == "2026-01-01 00:00:00"
    aware = datetime(2026, 1, 1, 10, 30, tzinfo=timezone(timedelta(hours=5)))
    assert to_moscow_text(aware) == "2026-01-01 08:30:00"
    assert to_moscow_text(date(2026, 1, 1)) == "2026-01-01 00:00:00"
    assert to_moscow_text(datetime(2026, 7, 1, 0, 0), seconds=False) == "2026-07-01 03:00"


def test_moscow_text_parsed_to_naive_utc():
    assert parse_moscow("2019-01-24 16:55:24.567") == datetime(2019, 1, 24, 13, 55, 24, 567000)
    assert parse_moscow("2017-05-12 10:47:11") == datetime(2017, 5, 12, 7, 47, 11)
    assert parse_moscow("2017-05-12 10:47") == datetime(2017, 5, 12, 7, 47)
    assert parse_moscow("not a date") is None
    assert parse_moscow("2017-13-12 10:47:11") is None
    assert parse_moscow(None) is None


def test_filter_escapes_semicolons_and_joins_conditions():
    built = (Filter().eq("externalCode", "a;b").updated_since(datetime(2025, 12, 31, 21, 0))
             .any_of("type", ["product", "variant"]).eq("archived", False))  # fmt: skip
    assert str(built) == (
        "externalCode=a\\;b;updated>=2026-01-01 00:00:00;type=product;type=variant;archived=false"
    )


@pytest.mark.parametrize(
    ("field", "operator", "value"),
    [
        ("name", "=", "ends with backslash\\"),
        ("name", "=", "line\nbreak"),
        ("name;drop", "=", "x"),
        ("name", "===", "x"),
        ("", "=", "x"),
    ],
)
def test_filter_refuses_what_could_break_out(field, operator, value):
    with pytest.raises(ValueError):
        Filter().add(field, operator, value)


def test_filter_accepts_attribute_urls_and_empty_values():
    attribute = f"{BASE}/entity/product/metadata/attributes/b83c12e7-42bf-11ec-0a80-08bb00000161"
    assert str(Filter().eq(attribute, "color").eq("code", None)) == f"{attribute}=color;code="


def test_list_params_clamp_limit_and_expand():
    assert list_params(limit=5000) == {"limit": 1000}
    assert list_params(limit=1000, expand=["images", "uom"]) == {"expand": "images,uom",
                                                                 "limit": 100}  # fmt: skip
    params = list_params(filter={"code": ["1", "2"]}, search="дрель", order=["name", "code,desc"])
    assert params == {"limit": 1000, "filter": "code=1;code=2", "search": "дрель",
                      "order": "name;code,desc"}  # fmt: skip


def test_filter_sent_url_encoded_and_read_back(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/product", json=list_answer([]))
    client = make_client(fake)
    list(client.iter_products(updated_since=datetime(2026, 1, 1, 0, 0),
                              filter=Filter().eq("code", "x;y&z")))  # fmt: skip
    query = query_of(mocked.calls[0])
    assert query["filter"] == (
        "updated>=2026-01-01 03:00:00;archived=true;archived=false;code=x\\;y&z"
    )
    assert query["limit"] == "1000"
    assert "%3B" in mocked.calls[0].request.url  # ';' encoded in the query string


# -- kopecks -------------------------------------------------------------------------------------
def test_kopecks_both_ways():
    assert from_kopecks(1500.0) == Decimal("15.00")
    assert from_kopecks(123456) == Decimal("1234.56")
    assert from_kopecks(1234.5) == Decimal("12.345")
    assert from_kopecks(None) is None
    assert from_kopecks("abc") is None
    assert from_kopecks(True) is None
    assert to_kopecks(Decimal("15")) == 1500
    assert to_kopecks("1234.565") == 123457  # half-up
    assert to_kopecks(0.1) == 10  # no float artefacts
    assert to_kopecks(Decimal("-0.005")) == -1
    with pytest.raises(ValueError):
        to_kopecks(None)
    with pytest.raises(ValueError):
        to_kopecks("NaN")


def test_product_row_parsed_with_prices_in_roubles():
    product = parse_product(product_row())
    assert product.id == PRODUCT_ID and product.kind == "product"
    assert product.sale_prices[0].amount == Decimal("15.00")
    assert product.sale_prices[0].price_type_name == "Цена продажи"
    assert product.sale_prices[0].currency_id == "10772c12-36e7-11e7-8a7f-40d000000097"
    assert product.buy_price.amount == Decimal("7.00")
    assert product.min_price.amount == Decimal("5.00")
    assert product.barcodes == [("ean13", "2000000000015")]
    assert product.updated == datetime(2017, 5, 12, 7, 47, 11)
    assert product.images_count == 2
    assert product.weight == Decimal("0.25")
    assert product.uom_id == "19f1edc0-fc42-4001-94cb-c9ec9c62ec10"


# -- pages ---------------------------------------------------------------------------------------
def _assortment_pages():
    second = f"{ASSORTMENT_URL}?limit=2&offset=2"
    third = f"{ASSORTMENT_URL}?limit=2&offset=4"
    variant = product_row(VARIANT_ID, "variant", name="product2 (blue)",
                          characteristics=[{"name": "color", "value": "blue"}],
                          product={"meta": {"href": f"{BASE}/entity/product/{PRODUCT_ID_2}",
                                            "type": "product"}})  # fmt: skip
    return [
        (None, list_answer([product_row(), product_row(SERVICE_ID, "service", name="service")],
                           href="entity/assortment", size=5, limit=2, next_href=second)),
        (second, list_answer([product_row(BUNDLE_ID, "bundle"), variant],
                             href="entity/assortment", size=5, limit=2, offset=2,
                             next_href=third)),
        (third, list_answer([product_row(PRODUCT_ID_2, name="product2")],
                            href="entity/assortment", size=5, limit=2, offset=4)),
    ]  # fmt: skip


def test_pages_follow_next_href_and_skip_non_products(fake, mocked):
    for url, answer in _assortment_pages():
        mocked.add(responses.GET, url or ASSORTMENT_URL, json=answer,
                   match=[responses.matchers.query_string_matcher(url.split("?", 1)[1])]
                   if url else [])  # fmt: skip
    client = make_client(fake)

    pages = list(client.iter_assortment(updated_since=datetime(2026, 1, 1), limit=2))

    assert [page.offset for page in pages] == [0, 2, 4]
    assert [[item.id for item in page.items] for page in pages] == [
        [PRODUCT_ID], [VARIANT_ID], [PRODUCT_ID_2]]  # fmt: skip
    skipped = [s for page in pages for s in page.skipped]
    assert [(s.id, s.kind) for s in skipped] == [(SERVICE_ID, "service"), (BUNDLE_ID, "bundle")]
    assert skipped[0].reason == "a service, not a product or variant"
    variant = pages[1].items[0]
    assert variant.parent_id == PRODUCT_ID_2
    assert variant.characteristics == [("color", "blue")]
    first = mocked.calls[0].request
    assert first.headers["X-Lognex-Remap-Beta-Feature"] == "assortmentWithoutStock"
    assert query_of(mocked.calls[0])["filter"].startswith("updated>=2026-01-01 03:00:00")
    assert query_of(mocked.calls[0])["order"] == "id"  # stable pages while objects change
    assert mocked.calls[1].request.url == _assortment_pages()[1][0]


def test_pages_are_fetched_lazily(fake, mocked):
    for url, answer in _assortment_pages():
        mocked.add(responses.GET, url or ASSORTMENT_URL, json=answer)
    client = make_client(fake)

    pages = client.iter_assortment(limit=2)
    assert len(mocked.calls) == 0
    next(pages)
    assert len(mocked.calls) == 1
    next(pages)
    assert len(mocked.calls) == 2


def test_size_without_next_href_continues_by_offset(fake, mocked):
    url = f"{BASE}/entity/product"
    mocked.add(responses.GET, url, json=list_answer([product_row()], size=2, limit=1),
               match=[responses.matchers.query_param_matcher({"limit": "1", "filter":
                      "archived=true;archived=false", "order": "id"})])  # fmt: skip
    mocked.add(responses.GET, url, json=list_answer([product_row(PRODUCT_ID_2)], size=2, limit=1,
                                                    offset=1))  # fmt: skip
    client = make_client(fake)
    items = [item.id for page in client.iter_products(limit=1) for item in page.items]
    assert items == [PRODUCT_ID, PRODUCT_ID_2]
    assert query_of(mocked.calls[1])["offset"] == "1"


def test_next_href_outside_the_api_is_not_followed(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/product",
               json=list_answer([product_row()], size=5,
                                next_href="https://evil.example.com/api/remap/1.2/entity/product"))  # fmt: skip
    client = make_client(fake)
    pages = client.iter_products()
    next(pages)
    with pytest.raises(BadResponse):
        next(pages)
    assert len(mocked.calls) == 1


def test_list_without_rows_is_bad_response(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/product", json={"meta": {}})
    client = make_client(fake)
    with pytest.raises(BadResponse):
        list(client.iter_products())


def test_reference_lists(fake, mocked):
    store = {"meta": {"href": f"{BASE}/entity/store/s1", "type": "store"}, "id": "s1",
             "name": "Основной склад", "externalCode": "STORE1", "archived": False}  # fmt: skip
    organization = {"meta": {"href": f"{BASE}/entity/organization/o1", "type": "organization"},
                    "id": "o1", "name": "ООО Ромашка", "inn": "7736207543",
                    "companyType": "legal"}  # fmt: skip
    rub = {"meta": {"href": f"{BASE}/entity/currency/c1", "type": "currency"}, "id": "c1",
           "name": "руб", "isoCode": "rub", "code": "643", "rate": 1, "default": True}  # fmt: skip
    price_types = [{"meta": {"href": f"{BASE}/context/companysettings/pricetype/p1",
                             "type": "pricetype"}, "id": "p1", "name": "Цена продажи",
                    "externalCode": "cbcf"}]  # fmt: skip
    mocked.add(responses.GET, f"{BASE}/context/companysettings",
               json={"currency": rub, "priceTypes": price_types})  # fmt: skip
    mocked.add(responses.GET, f"{BASE}/entity/organization", json=list_answer([organization]))
    mocked.add(responses.GET, f"{BASE}/entity/store", json=list_answer([store]))
    mocked.add(responses.GET, f"{BASE}/entity/currency", json=list_answer([rub]))
    mocked.add(responses.GET, f"{BASE}/context/companysettings/pricetype", json=price_types)
    client = make_client(fake)

    reference = client.reference()

    assert [o.inn for o in reference.organizations] == ["7736207543"]
    assert [(s.id, s.name, s.external_code) for s in reference.stores] == [
        ("s1", "Основной склад", "STORE1")]  # fmt: skip
    assert [(p.id, p.name) for p in reference.price_types] == [("p1", "Цена продажи")]
    assert reference.default_currency.iso_code == "RUB"
    assert reference.currencies[0].default is True
    # companysettings with a bare currency reference: completed from the currency list
    mocked.replace(responses.GET, f"{BASE}/context/companysettings",
                   json={"currency": {"meta": rub["meta"]}, "priceTypes": price_types})
    assert client.reference().default_currency.iso_code == "RUB"
    assert [(p.id, p.href) for p in client.price_types()] == [
        ("p1", f"{BASE}/context/companysettings/pricetype/p1")]  # fmt: skip


def test_next_href_with_explicit_default_port_is_followed(fake, mocked):
    second = "https://api.moysklad.ru:443/api/remap/1.2/entity/product?limit=1&offset=1"
    mocked.add(responses.GET, f"{BASE}/entity/product",
               json=list_answer([product_row()], size=2, limit=1, next_href=second),
               match=[responses.matchers.query_param_matcher(
                   {"limit": "1", "filter": "archived=true;archived=false", "order": "id"})])  # fmt: skip
    mocked.add(responses.GET, second.split("?", 1)[0],
               json=list_answer([product_row(PRODUCT_ID_2)], size=2, limit=1, offset=1))  # fmt: skip
    client = make_client(fake)
    ids = [item.id for page in client.iter_products(limit=1) for item in page.items]
    assert ids == [PRODUCT_ID, PRODUCT_ID_2]
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer " + client.session_state.token


def test_folders_units_variants_and_malformed_rows(fake, mocked):
    folder = {"meta": {"href": f"{BASE}/entity/productfolder/f1", "type": "productfolder"},
              "id": "f1", "name": "Посуда", "pathName": "Дом",
              "productFolder": {"meta": {"href": f"{BASE}/entity/productfolder/f0",
                                         "type": "productfolder"}}}  # fmt: skip
    uom = {"meta": {"href": f"{BASE}/entity/uom/u1", "type": "uom"}, "id": "u1", "name": "шт",
           "code": "796"}  # fmt: skip
    variant = product_row(VARIANT_ID, "variant", characteristics=[{"name": "size", "value": 42}])
    mocked.add(responses.GET, f"{BASE}/entity/productfolder", json=list_answer([folder]))
    mocked.add(responses.GET, f"{BASE}/entity/uom", json=list_answer([uom]))
    mocked.add(responses.GET, f"{BASE}/entity/variant",
               json=list_answer([variant, {"name": "no id"}, "garbage"]))  # fmt: skip
    client = make_client(fake)

    [folder_item] = client.iter_folders(updated_since=datetime(2026, 1, 1))
    assert (folder_item.name, folder_item.parent_id, folder_item.path_name) == (
        "Посуда", "f0", "Дом")  # fmt: skip
    assert [(u.id, u.name, u.code) for u in client.list_uoms()] == [("u1", "шт", "796")]
    [page] = list(client.iter_variants())
    assert [(v.id, v.kind, v.characteristics) for v in page.items] == [
        (VARIANT_ID, "variant", [("size", "42")])]  # fmt: skip
    assert [s.reason for s in page.skipped] == ["malformed row without an id"] * 2
