"""MoySklad catalogue calls: bulk product pushes (bodies, 1000 per request, syncId, per-item
errors), stock reports, images (upload body, download through the redirect) and webhooks."""

import base64
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import requests
import responses
from moysklad_client_helpers import (
    BASE,
    CURRENCY_HREF,
    NOW,
    PRICE_TYPE_HREF,
    PRODUCT_ID,
    PRODUCT_ID_2,
    STORE_ID,
    STORE_ID_2,
    TOKEN,
    FakeTime,
    body_of,
    error_body,
    list_answer,
    make_client,
    product_row,
    query_of,
)

from api.errors import AlreadyExists, BadResponse, NotFound, OutcomeUnknown, UnsafeUrl
from api.moysklad_errors import MoySkladRateLimited, MoySkladRejected, PlanRequired
from api.moysklad_payloads import (
    MsProductDraft,
    MsSalePrice,
    bulk_batches,
    dumps,
    stable_sync_id,
)

PRODUCTS_URL = f"{BASE}/entity/product"
SYNC_1 = "0b4e6c5a-8a1f-4f7e-9a55-3c2d1e0f9a11"
SYNC_2 = "1c5f7d6b-9b2a-4a8f-8b66-4d3e2f1a0b22"


@pytest.fixture
def fake():
    return FakeTime()


def echo_bulk(request):
    """Answer a bulk POST like MoySklad: each item back with an id (creations keep syncId)."""
    import json

    answer = []
    for position, item in enumerate(json.loads(request.body)):
        if "meta" in item:
            row = product_row(item["meta"]["href"].rsplit("/", 1)[-1], name=item.get("name", ""))
        else:
            new_id = str(uuid.uuid5(uuid.NAMESPACE_URL, item.get("syncId") or str(position)))
            row = product_row(new_id, name=item["name"])
            if item.get("syncId"):
                row["syncId"] = item["syncId"]
        answer.append(row)
    return 200, {}, json.dumps(answer)


# -- payloads ------------------------------------------------------------------------------------
def test_draft_for_creation_and_update():
    create = MsProductDraft(
        name="Дрель", sync_id=SYNC_1, code="D-1", article="ART-1", external_code="odoo-7",
        uom_href=f"{BASE}/entity/uom/u1", barcodes=[("ean13", "4600000000017")],
        sale_prices=[MsSalePrice(PRICE_TYPE_HREF, Decimal("1234.56"), CURRENCY_HREF)],
        buy_price=Decimal("99.99"), buy_currency_href=CURRENCY_HREF, weight=Decimal("1.5"),
    )  # fmt: skip
    body = create.to_json()
    assert body["syncId"] == SYNC_1 and "meta" not in body
    assert body["salePrices"] == [{
        "value": 123456,
        "currency": {"meta": {"href": CURRENCY_HREF, "type": "currency",
                              "mediaType": "application/json"}},
        "priceType": {"meta": {"href": PRICE_TYPE_HREF, "type": "pricetype",
                               "mediaType": "application/json"}},
    }]  # fmt: skip
    assert body["buyPrice"]["value"] == 9999
    assert body["barcodes"] == [{"ean13": "4600000000017"}]
    assert body["uom"]["meta"]["type"] == "uom"
    assert body["weight"] == 1.5

    update = MsProductDraft(href=f"{PRODUCTS_URL}/{PRODUCT_ID}", sync_id=SYNC_1,
                            sale_prices=[(PRICE_TYPE_HREF, "10")])  # fmt: skip
    body = update.to_json()
    assert body["meta"]["href"] == f"{PRODUCTS_URL}/{PRODUCT_ID}"
    assert "syncId" not in body  # error 1047: never sent on update
    assert "name" not in body
    assert body["salePrices"][0]["value"] == 1000


@pytest.mark.parametrize(
    "draft",
    [
        MsProductDraft(name=" "),
        MsProductDraft(name="x", sync_id="not-a-uuid"),
        MsProductDraft(name="x", barcodes=[("qr", "1")]),
        MsProductDraft(name="x", buy_price="abc"),
    ],
)
def test_bad_drafts_are_refused(draft):
    with pytest.raises(ValueError):
        draft.to_json()


def test_stable_sync_id():
    first = stable_sync_id("db-uuid", "product.product", 7)
    assert first == stable_sync_id("db-uuid", "product.product", 7)
    assert first != stable_sync_id("db-uuid", "product.product", 8)
    assert uuid.UUID(first).version == 5


def test_bulk_batches_by_count_and_bytes():
    payloads = [{"name": f"p{i}"} for i in range(2500)]
    batches, oversized = bulk_batches(payloads)
    assert [len(b.payloads) for b in batches] == [1000, 1000, 500]
    assert batches[1].indexes[0] == 1000
    assert oversized == []
    big = [{"name": "x" * 100} for _ in range(10)]
    item_size = len(dumps(big[0]))
    batches, _ = bulk_batches(big, max_bytes=3 * item_size + 4)
    assert [len(b.payloads) for b in batches] == [3, 3, 3, 1]
    for batch in batches:
        assert len(batch.body) <= 3 * item_size + 4
        assert batch.body == dumps(batch.payloads)
    _batches, oversized = bulk_batches([{"name": "y" * 50}, big[0]], max_bytes=item_size)
    assert oversized == [1]


# -- bulk push -----------------------------------------------------------------------------------
def test_push_products_in_requests_of_1000_with_stable_sync_ids(fake, mocked):
    mocked.add_callback(responses.POST, PRODUCTS_URL, callback=echo_bulk)
    drafts = [MsProductDraft(name=f"Товар {i}", key=i, sync_id=stable_sync_id("db", i))
              for i in range(2001)]  # fmt: skip
    client = make_client(fake)

    batches = list(client.push_products(drafts))

    assert [len(results) for results in batches] == [1000, 1000, 1]
    assert len(mocked.calls) == 3
    bodies = [body_of(call) for call in mocked.calls]
    assert [len(body) for body in bodies] == [1000, 1000, 1]
    assert bodies[0][5] == {"syncId": stable_sync_id("db", 5), "name": "Товар 5"}
    results = [result for batch in batches for result in batch]
    assert all(result.ok and result.created for result in results)
    assert [result.key for result in results] == list(range(2001))
    assert results[5].sync_id == stable_sync_id("db", 5)
    assert results[5].item.name == "Товар 5"
    assert client.usage()["per_endpoint"] == {"entity/product": 3}


def test_push_with_sync_ids_is_retried_with_the_same_body(fake, mocked):
    mocked.add(responses.POST, PRODUCTS_URL, body=requests.ConnectionError("reset"))
    mocked.add_callback(responses.POST, PRODUCTS_URL, callback=echo_bulk)
    client = make_client(fake)

    [results] = list(client.push_products([MsProductDraft(name="A", sync_id=SYNC_1)]))

    assert len(mocked.calls) == 2
    assert mocked.calls[0].request.body == mocked.calls[1].request.body
    assert body_of(mocked.calls[1]) == [{"syncId": SYNC_1, "name": "A"}]
    assert results[0].ok


def test_push_without_sync_id_lost_answer_is_outcome_unknown(fake, mocked):
    mocked.add(responses.POST, PRODUCTS_URL, status=502)
    client = make_client(fake)
    with pytest.raises(OutcomeUnknown):
        list(client.push_products([MsProductDraft(name="A")]))
    assert len(mocked.calls) == 1


def test_per_item_errors_in_a_200_answer(fake, mocked):
    answer = [
        product_row(PRODUCT_ID, syncId=SYNC_1),
        error_body(3000, "Ошибка сохранения объекта: поле 'name' не может быть пустым",
                   parameter="name"),
        product_row(PRODUCT_ID_2),
    ]  # fmt: skip
    mocked.add(responses.POST, PRODUCTS_URL, json=answer)
    drafts = [
        MsProductDraft(name="A", sync_id=SYNC_1, key="a"),
        MsProductDraft(name="B", sync_id=SYNC_2, key="b"),
        MsProductDraft(href=f"{PRODUCTS_URL}/{PRODUCT_ID_2}", name="C", key="c"),
    ]
    client = make_client(fake)

    [results] = list(client.push_products(drafts))

    assert [(r.key, r.ok, r.created) for r in results] == [
        ("a", True, True), ("b", False, True), ("c", True, False)]  # fmt: skip
    assert results[0].id == PRODUCT_ID and results[0].sync_id == SYNC_1
    error = results[1].error
    assert isinstance(error, MoySkladRejected)
    assert error.service_code == 3000 and error.parameter == "name"
    assert "required field" in error.message
    assert results[2].id == PRODUCT_ID_2


def test_per_item_errors_in_a_400_array(fake, mocked):
    mocked.add(responses.POST, PRODUCTS_URL, status=400, json=[
        error_body(3006, "нарушено ограничение уникальности параметра 'code'", "code"),
        product_row(PRODUCT_ID)])  # fmt: skip
    client = make_client(fake)
    [results] = list(client.push_products([
        MsProductDraft(name="A", sync_id=SYNC_1, code="dup"),
        MsProductDraft(name="B", sync_id=SYNC_2)]))  # fmt: skip
    assert isinstance(results[0].error, AlreadyExists)
    assert results[1].ok


def test_whole_request_error_is_raised_for_the_batch(fake, mocked):
    mocked.add(responses.POST, PRODUCTS_URL, status=413, json=error_body(1044))
    client = make_client(fake)
    with pytest.raises(MoySkladRejected) as caught:
        list(client.push_products([MsProductDraft(name="A", sync_id=SYNC_1)]))
    assert caught.value.status == 413


def test_answer_of_another_length_is_matched_by_sync_id_and_href(fake, mocked):
    mocked.add(responses.POST, PRODUCTS_URL, json=[
        product_row(PRODUCT_ID_2), product_row(PRODUCT_ID, syncId=SYNC_1)])  # fmt: skip
    client = make_client(fake)
    [results] = list(client.push_products([
        MsProductDraft(name="A", sync_id=SYNC_1),
        MsProductDraft(name="B", sync_id=SYNC_2),
        MsProductDraft(href=f"{PRODUCTS_URL}/{PRODUCT_ID_2}", name="C")]))  # fmt: skip
    assert [r.ok for r in results] == [True, False, True]
    assert results[0].id == PRODUCT_ID
    assert isinstance(results[1].error, BadResponse)
    assert results[2].id == PRODUCT_ID_2


def test_unbuildable_items_fail_locally_and_the_rest_is_sent(fake, mocked):
    mocked.add_callback(responses.POST, PRODUCTS_URL, callback=echo_bulk)
    client = make_client(fake)
    batches = list(client.push_products([MsProductDraft(name="", key="bad"),
                                         MsProductDraft(name="ok", sync_id=SYNC_1, key="ok")]))  # fmt: skip
    assert [(r.key, r.ok) for r in batches[0]] == [("bad", False)]
    assert "needs a name" in batches[0][0].error.message
    assert [(r.key, r.ok) for r in batches[1]] == [("ok", True)]
    assert body_of(mocked.calls[0]) == [{"syncId": SYNC_1, "name": "ok"}]


# -- stock ---------------------------------------------------------------------------------------
def test_stock_by_store_parsed_and_merged(fake, mocked):
    url = f"{BASE}/report/stock/bystore/current"
    answers = {
        "stock": [{"assortmentId": PRODUCT_ID, "storeId": STORE_ID, "stock": 11},
                  {"assortmentId": PRODUCT_ID, "storeId": STORE_ID_2, "stock": 46.5},
                  {"assortmentId": PRODUCT_ID_2, "storeId": STORE_ID, "stock": None},
                  {"storeId": STORE_ID, "stock": 3}],
        "reserve": [{"assortmentId": PRODUCT_ID, "storeId": STORE_ID, "reserve": 3},
                    {"assortmentId": PRODUCT_ID, "storeId": None, "reserve": 5}],
        "inTransit": [{"assortmentId": PRODUCT_ID, "storeId": STORE_ID, "inTransit": 7}],
    }  # fmt: skip
    for stock_type, rows in answers.items():
        mocked.add(responses.GET, url, json=rows,
                   match=[responses.matchers.query_param_matcher({"stockType": stock_type})])
    client = make_client(fake)

    merged, reports = client.stock_by_store()

    assert merged[(PRODUCT_ID, STORE_ID)] == {"stock": Decimal("11"), "reserve": Decimal("3"),
                                              "inTransit": Decimal("7")}  # fmt: skip
    assert merged[(PRODUCT_ID, STORE_ID_2)] == {"stock": Decimal("46.5")}
    assert merged[(PRODUCT_ID_2, STORE_ID)] == {"stock": None}  # being recalculated
    assert merged[(PRODUCT_ID, "")] == {"reserve": Decimal("5")}  # reserve without a store
    assert reports[0].skipped == 1 and reports[0].full is True
    assert client.usage()["units"] == 15  # three heavy reports


def test_stock_changed_since_in_moscow_time_and_too_old_means_full(fake, mocked):
    url = f"{BASE}/report/stock/all/current"
    mocked.add(responses.GET, url, json=[{"assortmentId": PRODUCT_ID, "quantity": 0}])
    client = make_client(fake)

    recent = client.stock(by_store=False, stock_type="quantity",
                          changed_since=NOW - timedelta(minutes=35))  # fmt: skip
    old = client.stock(by_store=False, changed_since=NOW - timedelta(hours=30), include_zero=True)
    future = client.stock(by_store=False, changed_since=NOW + timedelta(hours=1))

    assert query_of(mocked.calls[0]) == {"stockType": "quantity",
                                         "changedSince": "2026-11-28 14:25:00"}  # fmt: skip
    assert recent.full is False and recent.rows[0].quantity == Decimal("0")
    assert query_of(mocked.calls[1]) == {"stockType": "stock", "include": "zeroLines"}
    assert old.full is True and old.changed_since is None
    assert query_of(mocked.calls[2])["changedSince"] == "2026-11-28 15:00:00"
    assert future.changed_since == NOW


def test_stock_for_many_ids_in_chunks(fake, mocked):
    url = f"{BASE}/report/stock/bystore/current"
    mocked.add(responses.GET, url, json=[])
    ids = [str(uuid.UUID(int=i)) for i in range(5)]
    client = make_client(fake, stock_ids_per_request=2)
    client.stock(assortment_ids=ids, store_ids=[STORE_ID])
    filters = [query_of(call)["filter"] for call in mocked.calls]
    assert filters == [
        f"assortmentId={ids[0]},{ids[1]};storeId={STORE_ID}",
        f"assortmentId={ids[2]},{ids[3]};storeId={STORE_ID}",
        f"assortmentId={ids[4]};storeId={STORE_ID}",
    ]
    with pytest.raises(ValueError):
        client.stock(assortment_ids=["not-a-uuid"])


def test_stock_report_not_an_array_is_bad_response(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/report/stock/bystore/current", json={"rows": []})
    with pytest.raises(BadResponse):
        make_client(fake).stock()


def test_stock_report_url_from_a_webhook(fake, mocked):
    url = f"{BASE}/report/stock/bystore/current"
    mocked.add(responses.GET, url, json=[{"assortmentId": PRODUCT_ID, "storeId": STORE_ID,
                                          "stock": 2}])  # fmt: skip
    client = make_client(fake)
    report = client.stock_report_from_url(f"{url}?changedSince=2026-11-28 14:59:00")
    assert report.rows[0].quantity == Decimal("2") and report.full is False
    assert query_of(mocked.calls[0]) == {"changedSince": "2026-11-28 14:59:00"}
    for bad in ("https://evil.example.com/api/remap/1.2/report/stock/bystore/current",
                f"{BASE}/entity/product"):  # fmt: skip
        with pytest.raises(BadResponse):
            client.stock_report_from_url(bad)
    assert len(mocked.calls) == 1


# -- images --------------------------------------------------------------------------------------
IMAGE_ROW = {
    "meta": {"href": f"{PRODUCTS_URL}/{PRODUCT_ID}/images/f2728180-6afd-4d37-8a13-f3b48069bbb6",
             "type": "image",
             "downloadHref": f"{BASE}/download/f2728180-6afd-4d37-8a13-f3b48069bbb6"},
    "title": "birdimage", "filename": "birdimage.png", "size": 14052,
    "updated": "2019-01-24 16:55:24.567",
    "miniature": {"href": f"{BASE}/download/f2728180?miniature=true", "type": "image",
                  "downloadHref": "https://miniature-prod.moysklad.ru/miniature/x"},
    "tiny": {"href": "https://online.moysklad.ru/static/tinyimage/t.png", "type": "image"},
}  # fmt: skip


def test_add_image_sends_base64_with_filename_once(fake, mocked):
    url = f"{PRODUCTS_URL}/{PRODUCT_ID}/images"
    mocked.add(responses.POST, url, json=[IMAGE_ROW])
    client = make_client(fake)
    content = b"\x89PNG\r\n\x1a\n-bytes"

    images = client.add_image(PRODUCT_ID, "photo.png", content)

    assert body_of(mocked.calls[0]) == {"filename": "photo.png",
                                        "content": base64.b64encode(content).decode()}  # fmt: skip
    assert images[0].id == "f2728180-6afd-4d37-8a13-f3b48069bbb6"
    assert images[0].size == 14052 and images[0].filename == "birdimage.png"
    assert images[0].updated == datetime(2019, 1, 24, 13, 55, 24, 567000)


def test_add_image_limits_checked_before_sending(fake, mocked):
    client = make_client(fake)
    with pytest.raises(ValueError):
        client.add_image(PRODUCT_ID, "photo.png", b"x" * (10 * 1024 * 1024 + 1))
    with pytest.raises(ValueError):
        client.add_image(PRODUCT_ID, "no-extension", b"x")
    with pytest.raises(ValueError):
        client.add_image(PRODUCT_ID, "empty.png", b"")
    assert len(mocked.calls) == 0


def test_add_image_lost_answer_is_not_repeated(fake, mocked):
    mocked.add(responses.POST, f"{PRODUCTS_URL}/{PRODUCT_ID}/images", status=503)
    client = make_client(fake)
    with pytest.raises(OutcomeUnknown):
        client.add_image(PRODUCT_ID, "photo.png", b"x")
    assert len(mocked.calls) == 1


def _refused(wait_ms):
    return responses.Response(
        responses.POST, f"{PRODUCTS_URL}/{PRODUCT_ID}/images", status=429,
        json=error_body(1049, "Превышено ограничение на количество запросов в единицу времени"),
        headers={"X-Lognex-Retry-After": str(wait_ms)},
    )


def test_add_image_answered_429_waits_and_is_sent_again(fake, mocked):
    # A 429 is MoySklad refusing the upload before doing anything: sent again after
    # X-Lognex-Retry-After, as other requests, although an upload is otherwise sent once.
    mocked.add(_refused(1500))
    mocked.add(responses.POST, f"{PRODUCTS_URL}/{PRODUCT_ID}/images", json=[IMAGE_ROW])
    client = make_client(fake)

    images = client.add_image(PRODUCT_ID, "photo.png", b"\x89PNG-bytes")

    assert [image.filename for image in images] == ["birdimage.png"]
    assert len(mocked.calls) == 2
    assert body_of(mocked.calls[0]) == body_of(mocked.calls[1])
    assert 1.5 in fake.sleeps  # waited what MoySklad asked before the second send
    assert sum(fake.sleeps) < 3.5  # and not twice over (the limiter's block ends meanwhile)
    assert client.usage()["rate_limited"] == 1


def test_add_image_still_refused_after_the_retries(fake, mocked):
    for _ in range(3):
        mocked.add(_refused(1000))
    client = make_client(fake, max_retries=2)
    with pytest.raises(MoySkladRateLimited) as caught:
        client.add_image(PRODUCT_ID, "photo.png", b"x")
    assert len(mocked.calls) == 3
    assert "still refused after 2 retries" in caught.value.message
    assert caught.value.run_level is True


def test_add_image_429_with_a_long_wait_is_not_waited(fake, mocked):
    mocked.add(_refused(120_000))  # two minutes: more than the client waits at once
    client = make_client(fake)
    with pytest.raises(MoySkladRateLimited) as caught:
        client.add_image(PRODUCT_ID, "photo.png", b"x")
    assert len(mocked.calls) == 1
    assert caught.value.retry_after >= 120
    assert not [wait for wait in fake.sleeps if wait >= 60]


def test_add_image_lost_answer_after_a_429_is_not_repeated(fake, mocked):
    mocked.add(_refused(500))
    mocked.add(responses.POST, f"{PRODUCTS_URL}/{PRODUCT_ID}/images", status=503)
    client = make_client(fake)
    with pytest.raises(OutcomeUnknown):
        client.add_image(PRODUCT_ID, "photo.png", b"x")
    assert len(mocked.calls) == 2


def test_list_images_and_download_through_redirect(fake, mocked):
    mocked.add(responses.GET, f"{PRODUCTS_URL}/{PRODUCT_ID}/images",
               json=list_answer([IMAGE_ROW], href=f"entity/product/{PRODUCT_ID}/images"))  # fmt: skip
    temporary = "https://storage.moysklad.ru/tmp/f2728180.png?sig=abc"
    mocked.add(responses.GET, IMAGE_ROW["meta"]["downloadHref"], status=302,
               headers={"Location": temporary})  # fmt: skip
    mocked.add(responses.GET, temporary, body=b"PNGDATA")
    client = make_client(fake)

    [image] = client.list_images(PRODUCT_ID)
    content = client.download_image(image, max_bytes=1000)

    assert content == b"PNGDATA"
    api_call = mocked.calls[1].request
    assert api_call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert api_call.headers["Accept-Encoding"] == "gzip"
    assert "Authorization" not in mocked.calls[2].request.headers  # the token stays on the API


def test_download_redirect_to_a_foreign_host_is_refused(fake, mocked):
    mocked.add(responses.GET, IMAGE_ROW["meta"]["downloadHref"], status=302,
               headers={"Location": "https://evil.example.com/x.png"})  # fmt: skip
    client = make_client(fake)
    with pytest.raises(UnsafeUrl):
        client.download_image(IMAGE_ROW["meta"]["downloadHref"], max_bytes=1000)
    assert len(mocked.calls) == 1


# -- webhooks ------------------------------------------------------------------------------------
WEBHOOK = {"meta": {"href": f"{BASE}/entity/webhook/5d8f4e3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f",
                    "type": "webhook"},
           "id": "5d8f4e3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f", "entityType": "product",
           "url": "https://odoo.example.com/supplier/moysklad/hook", "method": "POST",
           "enabled": True, "action": "UPDATE"}  # fmt: skip


def test_webhooks_list_create_delete(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/webhook", json=list_answer([WEBHOOK]))
    mocked.add(responses.POST, f"{BASE}/entity/webhook", json=WEBHOOK)
    mocked.add(responses.DELETE, f"{BASE}/entity/webhook/{WEBHOOK['id']}", body=b"")
    client = make_client(fake)

    assert [(w.id, w.action, w.entity_type) for w in client.list_webhooks()] == [
        (WEBHOOK["id"], "UPDATE", "product")]  # fmt: skip
    created = client.create_webhook(WEBHOOK["url"], "update", "product", diff_type="FIELDS")
    client.delete_webhook(WEBHOOK["id"])

    assert created.url == WEBHOOK["url"]
    assert body_of(mocked.calls[1]) == {"url": WEBHOOK["url"], "action": "UPDATE",
                                        "entityType": "product", "diffType": "FIELDS"}  # fmt: skip
    assert mocked.calls[2].request.method == "DELETE"


def test_webhook_on_free_plan_is_plan_required_in_plain_words(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/webhook", status=403, json=error_body(
        30006, "Ваш тарифный план не позволяет создавать или обновлять веб-хуки"))  # fmt: skip
    client = make_client(fake)
    with pytest.raises(PlanRequired) as caught:
        client.create_webhook(WEBHOOK["url"], "UPDATE", "product")
    error = caught.value
    assert error.code == "plan_required" and error.service_code == 30006
    assert "paid MoySklad plan" in error.message
    assert "scheduled pulls" in error.message
    assert error.run_level is True


def test_webhook_that_exists_already(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/webhookstock", status=400,
               json=error_body(30003, "webhook с данным набором параметров уже существует"))  # fmt: skip
    client = make_client(fake)
    with pytest.raises(AlreadyExists) as caught:
        client.create_stock_webhook(WEBHOOK["url"])
    assert caught.value.service_code == 30003
    assert body_of(mocked.calls[0]) == {"url": WEBHOOK["url"], "reportType": "bystore",
                                        "stockType": "stock"}  # fmt: skip


def test_delete_of_a_missing_webhook_is_not_found(fake, mocked):
    mocked.add(responses.DELETE, f"{BASE}/entity/webhook/{WEBHOOK['id']}", status=404,
               json=error_body(1021))  # fmt: skip
    client = make_client(fake)
    with pytest.raises(NotFound) as caught:
        client.delete_webhook(WEBHOOK["id"])
    assert caught.value.code == "not_found"
    assert caught.value.service_code == 1021
