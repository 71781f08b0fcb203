"""MoySkladClient against the MoySklad emulator (emulators/moysklad.py, branch ms-emu): the
two were written apart from the same official documentation, so this is where they meet.
Skipped where the emulator is not merged yet; real HTTP on localhost, real sleeps (short)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal

import pytest
import requests

from api.base import SessionState
from api.moysklad import MoySkladClient
from api.moysklad_documents_data import MsDocumentDraft, MsPosition
from api.moysklad_errors import MoySkladAuthError, PlanRequired
from api.moysklad_partners_data import MsCounterpartyDraft
from api.moysklad_payloads import MsProductDraft, stable_sync_id

emulator_module = pytest.importorskip("emulators.moysklad")
demo = pytest.importorskip("emulators.moysklad_demo")


@pytest.fixture
def emulator():
    emu = emulator_module.MoyskladEmulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def control(emu, method, path, payload=None):
    response = requests.request(method, f"{emu.base_url}/_emulator/moysklad/{path}",
                                json=payload, timeout=10)  # fmt: skip
    response.raise_for_status()
    return response.json()


def login_client(emu, state=None, **options):
    return MoySkladClient(base_url=emu.api_url, login=demo.DEMO_LOGIN,
                          password=demo.DEMO_PASSWORD, session_state=state or SessionState(),
                          **options)  # fmt: skip


def test_one_token_across_runs_and_one_renewal_after_revocation(emulator):
    first = login_client(emulator)
    first.list_stores()
    state = first.session_state
    second = login_client(emulator, state)
    second.list_stores()
    assert control(emulator, "GET", "tokens")["issued"] == 1

    control(emulator, "POST", "tokens", {"action": "revoke"})
    third = login_client(emulator, state)
    assert third.list_stores()
    assert control(emulator, "GET", "tokens")["issued"] == 2
    assert third.session_state.token != state.token or third.tokens_issued == 1


def test_pasted_token_refused_is_an_auth_error(emulator):
    client = MoySkladClient(base_url=emulator.api_url, token="0" * 40)
    with pytest.raises(MoySkladAuthError):
        client.list_stores()
    assert control(emulator, "GET", "tokens")["issued"] == 0


def test_catalogue_pull_push_stock_images(emulator):
    client = login_client(emulator)
    reference = client.reference()
    assert reference.stores and reference.price_types and reference.organizations
    pages = list(client.iter_assortment(limit=7))
    assert len(pages) > 1
    products = [item for page in pages for item in page.items]
    assert products and all(item.kind in ("product", "variant") for item in products)
    assert len({item.id for item in products}) == len(products)

    price_type = reference.price_types[0]
    drafts = [MsProductDraft(name=f"Emu {i}", sync_id=stable_sync_id("emu", i), key=i,
                             sale_prices=[(price_type.href, "123.45")]) for i in range(3)]  # fmt: skip
    first = [result for batch in client.push_products(drafts) for result in batch]
    again = [result for batch in client.push_products(drafts) for result in batch]
    assert all(result.ok for result in first + again)
    assert [r.id for r in first] == [r.id for r in again]  # syncId: no duplicates
    created = client.get_product(first[0].id)
    assert created.sale_price(price_type.id).amount == Decimal("123.45")
    [bad] = [r for batch in client.push_products([{"syncId": stable_sync_id("emu", "x")}])
             for r in batch]  # fmt: skip
    assert not bad.ok and bad.error.service_code is not None

    merged, reports = client.stock_by_store()
    assert merged and all(report.full for report in reports)

    images = client.add_image(first[0].id, "pic.png", b"\x89PNG\r\n\x1a\nemulator")
    assert client.download_image(images[-1], max_bytes=10_000) == b"\x89PNG\r\n\x1a\nemulator"
    usage = client.usage()
    assert usage["rate_limited"] == 0 and usage["failures"] == 1  # only the bad bulk item's 400


def test_webhooks_on_a_free_plan(emulator):
    emulator.configure(paid_plan=False)
    client = login_client(emulator)
    with pytest.raises(PlanRequired):
        client.create_webhook("https://odoo.example.com/hook", "UPDATE", "product")


def test_counterparty_and_order_with_sync_id(emulator):
    client = login_client(emulator)
    reference = client.reference()
    [result] = [r for batch in client.push_counterparties([MsCounterpartyDraft(
        name="ООО Эмулятор", sync_id=stable_sync_id("cp", 1), inn="7736207543",
        contacts=[{"name": "Иван"}])]) for r in batch]  # fmt: skip
    assert result.ok
    product = next(item for page in client.iter_products(limit=5) for item in page.items)
    draft = MsDocumentDraft(kind="customerorder", sync_id=stable_sync_id("so", 1), name="S1",
                            moment=datetime(2026, 11, 28, 12), agent_href=result.href,
                            organization_href=reference.organizations[0].href,
                            positions=[MsPosition(product.href, Decimal("2"), Decimal("10.5"))])  # fmt: skip
    order = client.create_document(draft)
    assert client.create_document(draft).id == order.id
    assert order.sum == Decimal("21.00")
    assert client.find_by_sync_id("customerorder", draft.sync_id).id == order.id
    states = client.document_states("customerorder")
    updated = client.update_document(MsDocumentDraft(kind="customerorder", href=order.href,
                                                     state_href=states[-1].href))  # fmt: skip
    assert updated.state_id == states[-1].id


def test_burst_within_the_budget_gets_no_429(emulator):
    client = login_client(emulator)
    for _ in range(25):
        client.list_stores()
    usage = client.usage()
    assert usage["rate_limited"] == 0
    assert usage["units"] >= 25 * usage["request_weight"]


def test_parallel_threads_stay_under_the_parallel_limit(emulator):
    client = MoySkladClient(base_url=emulator.api_url, token=demo.DEMO_APP_TOKEN,
                            token_kind="application")  # fmt: skip
    ids = [item.id for page in client.iter_products(limit=20) for item in page.items][:20]
    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda product_id: client.get_product(product_id).name, ids))
    usage = client.usage()
    assert len(names) == 20 and all(names)
    assert usage["rate_limited"] == 0  # neither 1049 nor 1073
    assert 1 <= usage["max_in_flight"] <= 5
