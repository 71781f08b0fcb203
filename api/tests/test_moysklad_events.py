"""What MoySklad posts to our webhook URL: entity events and stock reports, garbage refused."""

import json
from datetime import datetime

import pytest

from api.moysklad_events import parse_delivery

REQUEST_ID = "640569eb-522d-427a-b07e-fa757c5d4217"
PRODUCT_HREF = "https://api.moysklad.ru/api/remap/1.2/entity/product/75c896d0-db16-11eb-c0a8-800d00000002"
# The documentation's example, plus an event with an unknown action and one without meta.
ENTITY_BODY = {
    "auditContext": {"meta": {"type": "audit", "href": "https://api.moysklad.ru/api/remap/1.2/"
                              "audit/75fe3b73-db16-11eb-c0a8-800d00000004"},
                     "moment": "2021-07-21 15:51:16", "uid": "test@test"},
    "events": [
        {"meta": {"type": "product", "href": PRODUCT_HREF}, "updatedFields": ["name",
         "description"], "action": "UPDATE", "accountId": "9171a53c-b719-11eb-c0a8-800d00000001"},
        {"meta": {"type": "product", "href": PRODUCT_HREF}, "action": "EXPLODE"},
        {"action": "DELETE"},
    ],
}  # fmt: skip
STOCK_BODY = {
    "accountId": "f71cb8b6-f7b5-11ec-ac12-000f000000eb", "stockType": "stock",
    "reportType": "all",
    "reportUrl": "https://api.moysklad.ru/api/remap/1.2/report/stock/all/current?"
                 "changedSince=2022-09-24 19:14:32",
}  # fmt: skip


def test_entity_events():
    delivery = parse_delivery(json.dumps(ENTITY_BODY).encode(), REQUEST_ID)
    assert delivery.request_id == REQUEST_ID
    [event] = delivery.events
    assert (event.entity_type, event.id, event.action) == (
        "product", "75c896d0-db16-11eb-c0a8-800d00000002", "UPDATE")  # fmt: skip
    assert event.updated_fields == ["name", "description"]
    assert delivery.ignored == 2
    assert delivery.audit_uid == "test@test"
    assert delivery.audit_moment == datetime(2021, 7, 21, 12, 51, 16)
    assert delivery.account_ids == {"9171a53c-b719-11eb-c0a8-800d00000001"}
    assert delivery.stock is None


def test_stock_event():
    delivery = parse_delivery(STOCK_BODY)
    assert delivery.events == []
    assert delivery.stock.report_type == "all"
    assert delivery.stock.report_url.endswith("changedSince=2022-09-24 19:14:32")


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe", b"not json", b"[1, 2]", b'{"events": {}}', b'{"hello": 1}',
     b'{"reportUrl": ""}', b"x" * (5 * 1024 * 1024 + 1)],
)
def test_garbage_is_refused(body):
    with pytest.raises(ValueError):
        parse_delivery(body)
