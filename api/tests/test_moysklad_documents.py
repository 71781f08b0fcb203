"""MoySklad part 2 primitives: counterparties with accounts and contact persons (bulk, lists),
orders and documents created and updated with a syncId, lookup by syncId, states."""

import json
from datetime import datetime
from decimal import Decimal

import pytest
import requests
import responses
from moysklad_client_helpers import (
    BASE,
    PRODUCT_ID,
    STORE_ID,
    FakeTime,
    body_of,
    error_body,
    list_answer,
    make_client,
    query_of,
)

from api.errors import BadResponse, OutcomeUnknown
from api.moysklad_documents_data import MsDocumentDraft, MsPosition
from api.moysklad_partners_data import MsAccount, MsCounterpartyDraft

AGENT_ID = "7944ef04-f831-11e5-7a69-971500188b19"
ORG_ID = "f976ed28-2e58-11e6-8a84-bae500000001"
ORDER_ID = "5a9d2b73-2e59-11e6-8a84-bae500000100"
SYNC = "2d6e8f7c-0c3b-4b9a-9c77-5e4f3a2b1c33"
STATE_ID = "fb56c504-2e58-11e6-8a84-bae500000069"
AGENT_HREF = f"{BASE}/entity/counterparty/{AGENT_ID}"
ORG_HREF = f"{BASE}/entity/organization/{ORG_ID}"
STORE_HREF = f"{BASE}/entity/store/{STORE_ID}"
PRODUCT_HREF = f"{BASE}/entity/product/{PRODUCT_ID}"


@pytest.fixture
def fake():
    return FakeTime()


def counterparty_row(**fields):
    row = {
        "meta": {"href": AGENT_HREF, "type": "counterparty"},
        "id": AGENT_ID, "name": "ООО Поставщик", "companyType": "legal",
        "legalTitle": "Общество с ограниченной ответственностью «Поставщик»",
        "inn": "7736207543", "kpp": "773601001", "email": "info@supplier.example",
        "updated": "2026-11-27 10:00:00", "archived": False, "tags": ["поставщики"],
        "actualAddressFull": {"postalCode": "125009", "city": "Москва", "street": "Тверская",
                              "house": "1"},
        "accounts": {"meta": {"href": f"{AGENT_HREF}/accounts", "type": "account", "size": 1},
                     "rows": [{"id": "a1", "accountNumber": "40702810000000000001",
                               "bankName": "ПАО Банк", "bic": "044525225",
                               "correspondentAccount": "30101810400000000225",
                               "isDefault": True}]},
        "contactpersons": {"meta": {"href": f"{AGENT_HREF}/contactpersons", "size": 1},
                           "rows": [{"id": "c1", "name": "Иван Петров", "position": "Менеджер",
                                     "phone": "+7 495 000-00-00", "email": "ivan@example.com",
                                     "externalCode": "odoo-42"}]},
    }  # fmt: skip
    row.update(fields)
    return row


def order_row(kind="customerorder", **fields):
    row = {
        "meta": {"href": f"{BASE}/entity/{kind}/{ORDER_ID}", "type": kind},
        "id": ORDER_ID, "name": "S00042", "externalCode": "S00042", "syncId": SYNC,
        "moment": "2026-11-28 15:00:00", "updated": "2026-11-28 15:00:01", "sum": 123456.0,
        "applicable": True,
        "state": {"meta": {"href": f"{BASE}/entity/{kind}/metadata/states/{STATE_ID}",
                           "type": "state"}},
        "organization": {"meta": {"href": ORG_HREF, "type": "organization"}},
        "agent": {"meta": {"href": AGENT_HREF, "type": "counterparty"}},
        "positions": {"meta": {"href": f"{BASE}/entity/{kind}/{ORDER_ID}/positions", "size": 1}},
    }  # fmt: skip
    row.update(fields)
    return row


def order_draft(**fields):
    values = {
        "kind": "customerorder", "sync_id": SYNC, "name": "S00042", "external_code": "S00042",
        "moment": datetime(2026, 11, 28, 12, 0), "organization_href": ORG_HREF,
        "agent_href": AGENT_HREF, "store_href": STORE_HREF,
        "positions": [MsPosition(PRODUCT_HREF, Decimal("2"), Decimal("617.28"),
                                 discount=Decimal("5"), vat=20)],
    }  # fmt: skip
    values.update(fields)
    return MsDocumentDraft(**values)


# -- counterparties ------------------------------------------------------------------------------
def test_counterparty_draft_json():
    draft = MsCounterpartyDraft(
        name="ООО Поставщик", sync_id=SYNC, company_type="legal", inn="7736207543",
        kpp="773601001", tags=["поставщики", " "],
        actual_address={"postal_code": "125009", "city": "Москва", "street": "Тверская",
                        "house": "1", "country_href": f"{BASE}/entity/country/c643"},
        legal_address="125009, Москва, Тверская, 1",
        accounts=[MsAccount("40702810000000000001", bic="044525225", is_default=True)],
        contacts=[{"name": "Иван Петров", "email": "ivan@example.com",
                   "external_code": "odoo-42"}],
    )  # fmt: skip
    body = draft.to_json()
    assert body["syncId"] == SYNC and body["companyType"] == "legal"
    assert body["tags"] == ["поставщики"]
    assert body["actualAddressFull"] == {
        "postalCode": "125009", "city": "Москва", "street": "Тверская", "house": "1",
        "country": {"meta": {"href": f"{BASE}/entity/country/c643", "type": "country",
                             "mediaType": "application/json"}}}  # fmt: skip
    assert "actualAddress" not in body
    assert body["legalAddress"] == "125009, Москва, Тверская, 1"
    assert body["accounts"] == [{"accountNumber": "40702810000000000001", "isDefault": True,
                                 "bic": "044525225"}]  # fmt: skip
    assert body["contactpersons"] == [{"name": "Иван Петров", "email": "ivan@example.com",
                                       "externalCode": "odoo-42"}]  # fmt: skip
    update = MsCounterpartyDraft(href=AGENT_HREF, sync_id=SYNC, email="new@example.com")
    assert update.to_json() == {"meta": {"href": AGENT_HREF, "type": "counterparty",
                                         "mediaType": "application/json"},
                                "email": "new@example.com"}  # fmt: skip
    with pytest.raises(ValueError):
        MsCounterpartyDraft(name="x", company_type="company").to_json()


def test_counterparties_listed_with_details_in_pages_of_100(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/counterparty",
               json=list_answer([counterparty_row()], href="entity/counterparty", limit=100))  # fmt: skip
    client = make_client(fake)

    [page] = list(client.iter_counterparties(updated_since=datetime(2026, 11, 27),
                                             with_details=True))  # fmt: skip

    query = query_of(mocked.calls[0])
    assert query["expand"] == "accounts,contactpersons" and query["limit"] == "100"
    assert query["filter"] == "updated>=2026-11-27 03:00:00;archived=true;archived=false"
    [partner] = page.items
    assert (partner.inn, partner.kpp, partner.company_type) == ("7736207543", "773601001", "legal")
    assert partner.actual_address_full == {"postal_code": "125009", "city": "Москва",
                                           "street": "Тверская", "house": "1"}  # fmt: skip
    assert [(a.account_number, a.bic, a.is_default) for a in partner.accounts] == [
        ("40702810000000000001", "044525225", True)]  # fmt: skip
    assert [(c.name, c.external_code) for c in partner.contacts] == [("Иван Петров", "odoo-42")]
    assert partner.updated == datetime(2026, 11, 27, 7, 0)


def test_counterparty_collections_without_expand(fake, mocked):
    mocked.add(responses.GET, f"{AGENT_HREF}/accounts", json=list_answer(
        [{"id": "a1", "accountNumber": "40702810000000000001"}]))  # fmt: skip
    mocked.add(responses.GET, f"{AGENT_HREF}/contactpersons", json=list_answer(
        [{"id": "c1", "name": "Иван Петров"}]))  # fmt: skip
    client = make_client(fake)
    assert [a.account_number for a in client.list_accounts(AGENT_ID)] == ["40702810000000000001"]
    assert [c.name for c in client.list_contacts(AGENT_ID)] == ["Иван Петров"]


def test_push_counterparties_bulk_with_item_errors(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/counterparty", status=400, json=[
        counterparty_row(syncId=SYNC), error_body(3000, "поле 'name' не может быть пустым")])  # fmt: skip
    client = make_client(fake)
    [results] = list(client.push_counterparties([
        MsCounterpartyDraft(name="ООО Поставщик", sync_id=SYNC, key=1),
        {"name": " ", "syncId": "3e7f9a8d-1d4c-4cab-8d88-6f5a4b3c2d44"}]))  # fmt: skip
    assert results[0].ok and results[0].item.inn == "7736207543" and results[0].key == 1
    assert not results[1].ok and results[1].error.service_code == 3000


# -- documents -----------------------------------------------------------------------------------
def test_order_created_with_sync_id_positions_in_kopecks(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/customerorder", json=order_row())
    client = make_client(fake)

    document = client.create_document(order_draft())

    body = body_of(mocked.calls[0])
    assert body["syncId"] == SYNC
    assert body["moment"] == "2026-11-28 15:00:00"
    assert body["organization"]["meta"]["href"] == ORG_HREF
    assert body["agent"]["meta"] == {"href": AGENT_HREF, "type": "counterparty",
                                     "mediaType": "application/json"}  # fmt: skip
    assert body["positions"] == [{"quantity": 2.0, "price": 61728, "discount": 5.0, "vat": 20,
                                  "assortment": {"meta": {"href": PRODUCT_HREF,
                                                          "type": "product",
                                                          "mediaType": "application/json"}}}]  # fmt: skip
    assert document.id == ORDER_ID and document.sum == Decimal("1234.56")
    assert document.state_id == STATE_ID
    assert document.moment == datetime(2026, 11, 28, 12, 0)


def test_order_creation_with_sync_id_is_resent_after_a_lost_answer(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/customerorder",
               body=requests.ReadTimeout("timed out"))  # fmt: skip
    mocked.add(responses.POST, f"{BASE}/entity/customerorder", json=order_row())
    client = make_client(fake)
    assert client.create_document(order_draft()).id == ORDER_ID
    assert len(mocked.calls) == 2
    assert mocked.calls[0].request.body == mocked.calls[1].request.body


def test_order_without_sync_id_is_sent_once(fake, mocked):
    mocked.add(responses.POST, f"{BASE}/entity/customerorder", status=504)
    client = make_client(fake)
    with pytest.raises(OutcomeUnknown):
        client.create_document(order_draft(sync_id=""))
    assert len(mocked.calls) == 1


def test_demand_linked_to_its_order_and_required_fields(fake, mocked):
    draft = order_draft(kind="demand", linked_href=f"{BASE}/entity/customerorder/{ORDER_ID}")
    body = draft.to_json()
    assert body["customerOrder"]["meta"]["type"] == "customerorder"
    assert body["store"]["meta"]["href"] == STORE_HREF
    with pytest.raises(ValueError, match="store"):
        order_draft(kind="supply", store_href=None).to_json()
    with pytest.raises(ValueError, match="agent"):
        order_draft(agent_href=None).to_json()
    with pytest.raises(ValueError):
        order_draft(kind="customerorder", linked_href=ORG_HREF).to_json()
    with pytest.raises(ValueError):
        order_draft(positions=[MsPosition(PRODUCT_HREF, Decimal("0"), Decimal("1"))]).to_json()


def test_update_document_puts_only_given_fields(fake, mocked):
    href = f"{BASE}/entity/purchaseorder/{ORDER_ID}"
    mocked.add(responses.PUT, href, json=order_row("purchaseorder"))
    client = make_client(fake)
    draft = MsDocumentDraft(kind="purchaseorder", href=href, sync_id=SYNC,
                            state_href=f"{BASE}/entity/purchaseorder/metadata/states/{STATE_ID}")  # fmt: skip
    document = client.update_document(draft)
    assert body_of(mocked.calls[0]) == {"state": {"meta": {
        "href": f"{BASE}/entity/purchaseorder/metadata/states/{STATE_ID}", "type": "state",
        "mediaType": "application/json"}}}  # fmt: skip
    assert document.kind == "purchaseorder"


def test_find_by_sync_id(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/supply", json=list_answer([order_row("supply")]))
    mocked.add(responses.GET, f"{BASE}/entity/demand", json=list_answer([]))
    client = make_client(fake)
    assert client.find_by_sync_id("supply", SYNC).id == ORDER_ID
    assert query_of(mocked.calls[0])["filter"] == f"syncId={SYNC}"
    assert client.find_by_sync_id("demand", SYNC) is None


def test_document_states_from_metadata(fake, mocked):
    mocked.add(responses.GET, f"{BASE}/entity/customerorder/metadata", json={"states": [
        {"meta": {"href": f"{BASE}/entity/customerorder/metadata/states/{STATE_ID}",
                  "type": "state"}, "id": STATE_ID, "name": "Новый", "color": 15106326,
         "stateType": "Regular", "entityType": "customerorder"},
        {"id": "s2", "name": "Отгружен", "stateType": "Successful"}]})  # fmt: skip
    mocked.add(responses.GET, f"{BASE}/entity/demand/metadata", json={"attributes": []})
    client = make_client(fake)
    states = client.document_states("customerorder")
    assert [(s.id, s.name, s.state_type) for s in states] == [
        (STATE_ID, "Новый", "Regular"), ("s2", "Отгружен", "Successful")]  # fmt: skip
    with pytest.raises(BadResponse):
        client.document_states("demand")
    with pytest.raises(ValueError):
        client.document_states("invoiceout")


def test_push_documents_and_status_pull(fake, mocked):
    def echo(request):
        return 200, {}, json.dumps([order_row(name=item["name"]) for item in json.loads(
            request.body)])  # fmt: skip

    mocked.add_callback(responses.POST, f"{BASE}/entity/customerorder", callback=echo)
    mocked.add(responses.GET, f"{BASE}/entity/customerorder", json=list_answer([order_row()]))
    client = make_client(fake)
    [results] = list(client.push_documents("customerorder", [order_draft(key="so-42")]))
    assert results[0].ok and results[0].item.name == "S00042" and results[0].key == "so-42"
    [page] = list(client.iter_documents("customerorder", updated_since=datetime(2026, 11, 28)))
    assert page.items[0].state_id == STATE_ID
    assert query_of(mocked.calls[1])["filter"] == "updated>=2026-11-28 03:00:00"
