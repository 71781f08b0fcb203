"""The real MoySkladClient (api/moysklad*.py) against the MoySklad emulator over HTTP: token
issue and reuse, renewal after a revocation, reference data, pages of the assortment and of
products with a delta, bulk pushes with syncId and per-item errors, stock reports, images both
ways, webhooks, documents, typed errors, and the 45-units window paced by the rate headers."""

import base64
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from api.base import SessionState, utcnow
from api.errors import LoginBlocked
from api.moysklad import MoySkladClient
from api.moysklad_documents_data import MsDocumentDraft, MsPosition
from api.moysklad_errors import (
    BadFilter,
    MoySkladAlreadyExists,
    MoySkladAuthError,
    MoySkladNotFound,
    NoApiAccess,
    PlanRequired,
)
from api.moysklad_partners_data import MsCounterpartyDraft
from api.moysklad_payloads import MsProductDraft, MsSalePrice
from emulators.moysklad import MoyskladEmulator
from emulators.moysklad_demo import (
    DEMO_APP_TOKEN,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    MAIN_STORE_ID,
    NORTH_STORE_ID,
    ORGANIZATION_ID,
    SALE_PRICE_ID,
    fixed_id,
)
from emulators.server import make_png

MUG = fixed_id("product-DEMO-001")
PLATE = fixed_id("product-DEMO-002")
SUPPLIER = fixed_id("counterparty-supplier")


@pytest.fixture
def emu():
    with MoyskladEmulator(limits_enabled=False) as emulator:
        yield emulator


def client_for(emu, **options):
    options.setdefault("login", DEMO_LOGIN)
    options.setdefault("password", DEMO_PASSWORD)
    if options.get("login"):
        options.setdefault("session_state", SessionState())
    return MoySkladClient(base_url=emu.api_url, timeout=10, **options)


def href(emu, kind, id_):
    return f"{emu.api_url}/entity/{kind}/{id_}"


def test_one_token_reused_across_clients_and_renewed_once(emu):
    state = SessionState()
    first = client_for(emu, session_state=state)
    assert first.get_product(MUG).code == "DEMO-001"
    assert emu.auth.issued_count == 1 and state.token
    second = client_for(emu, session_state=state)  # the next run, same stored token
    assert second.get_product(PLATE).code == "DEMO-002"
    assert emu.auth.issued_count == 1
    assert len(emu.requests_for("token")) == 1
    emu.auth.revoke(login=DEMO_LOGIN)
    assert second.get_product(MUG).name == "Кружка керамическая 350 мл"
    assert emu.auth.issued_count == 2
    pasted = client_for(emu, login="", password="", token=DEMO_APP_TOKEN, token_kind="application")
    assert pasted.get_product(MUG).id == MUG
    assert emu.auth.issued_count == 2


def test_reference_data(emu):
    reference = client_for(emu).reference()
    assert [o.id for o in reference.organizations] == [ORGANIZATION_ID]
    assert {s.id for s in reference.stores} == {MAIN_STORE_ID, NORTH_STORE_ID}
    assert [p.name for p in reference.price_types] == ["Цена продажи", "Оптовая"]
    assert {c.iso_code for c in reference.currencies} == {"RUB", "USD"}
    assert reference.default_currency.iso_code == "RUB"


def test_assortment_pages_and_product_delta(emu):
    client = client_for(emu)
    pages = list(client.iter_assortment(limit=10))
    items = [item for page in pages for item in page.items]
    skipped = [row for page in pages for row in page.skipped]
    assert len(items) == 33 and len(pages) == 4
    assert [s.kind for s in skipped] == ["service"]
    variants = [i for i in items if i.kind == "variant"]
    assert {v.parent_id for v in variants} == {fixed_id("product-DEMO-007")}
    mug = next(i for i in items if i.id == MUG)
    assert mug.sale_prices[0].amount == Decimal("450.00")  # 45000 kopecks
    assert mug.sale_prices[0].price_type_name == "Цена продажи"
    assert mug.buy_price.amount == Decimal("170.00")
    assert any(i.archived for i in items)  # the archived robe is asked for too
    time.sleep(1.1)  # the demo was loaded in an earlier second than the watermark
    since = utcnow()
    client.put_json(f"entity/product/{PLATE}", {"description": "изменено"})
    delta = [i for page in client.iter_products(updated_since=since) for i in page.items]
    assert [i.id for i in delta] == [PLATE]
    assert len(emu.requests_for("assortment")) == 4


def test_bulk_push_with_sync_id_and_item_errors(emu):
    client = client_for(emu)
    sale = MsSalePrice(price_type_href=f"{emu.api_url}/context/companysettings/pricetype/"
                                       f"{SALE_PRICE_ID}", amount=Decimal("123.45"))
    drafts = [MsProductDraft(name="Новинка 1", code="PUSH-1", sync_id=fixed_id("push-1"),
                             sale_prices=[sale], key="a"),
              MsProductDraft(name="Дубль", code="DEMO-002", sync_id=fixed_id("push-2"), key="b"),
              MsProductDraft(href=href(emu, "product", MUG), description="обновлено", key="c")]
    results = [r for batch in client.push_products(drafts) for r in batch]
    by_key = {r.key: r for r in results}
    assert by_key["a"].ok and by_key["c"].ok and not by_key["b"].ok
    assert isinstance(by_key["b"].error, MoySkladAlreadyExists)
    assert by_key["b"].error.service_code == 3006
    stored = emu.db["product"][by_key["a"].id]
    assert stored["salePrices"][0][0] == 12345  # kopecks
    assert emu.db["product"][MUG]["description"] == "обновлено"
    again = [r for batch in client.push_products(drafts[:1]) for r in batch]
    assert again[0].id == by_key["a"].id
    assert len(emu.db["product"]) == 31


def test_stock_reports(emu):
    client = client_for(emu)
    merged, reports = client.stock_by_store()
    # zero lines are left out of each report: nothing in transit for the mug
    assert merged[(MUG, MAIN_STORE_ID)] == {"stock": Decimal(64), "reserve": Decimal(1)}
    assert merged[(fixed_id("product-DEMO-005"), MAIN_STORE_ID)] == {
        "stock": Decimal(5), "inTransit": Decimal(2)}
    assert len(emu.requests_for("stock.bystore")) == 3
    emu.set_stock(PLATE, NORTH_STORE_ID, stock=9)
    report = client.stock(changed_since=utcnow() - timedelta(seconds=2))
    assert {(r.assortment_id, r.store_id): r.quantity for r in report.rows}[
        (PLATE, NORTH_STORE_ID)] == 9
    report = client.stock(by_store=False, assortment_ids=[MUG])
    assert [(r.assortment_id, r.quantity) for r in report.rows] == [(MUG, 74)]


def test_images_both_ways(emu):
    client = client_for(emu)
    png = make_png(6, 6)
    client.add_image(PLATE, "plate.png", png)
    images = client.list_images(PLATE)
    assert [i.filename for i in images] == ["demo-002.png", "plate.png"]
    assert client.download_image(images[1], max_bytes=100_000) == png
    assert len(emu.requests_for("download")) == 1 and len(emu.requests_for("file")) == 1
    sent = emu.requests_for("images.add")[0].json()
    assert base64.b64decode(sent["content"]) == png


def test_errors_are_typed(emu):
    client = client_for(emu)
    with pytest.raises(MoySkladNotFound) as missing:
        client.get_product(fixed_id("none"))
    assert missing.value.service_code == 1021
    with pytest.raises(BadFilter) as bad_filter:
        list(client.iter_products(filter="colour=red"))
    assert bad_filter.value.service_code == 1034
    wrong = client_for(emu, password="wrong")
    with pytest.raises(MoySkladAuthError) as refused:
        wrong.get_product(MUG)
    assert refused.value.service_code == 1056
    assert emu.auth.issued_count == 1  # the right client's token only


def test_a_rejected_login_is_not_repeated(emu):
    wrong = client_for(emu, password="wrong")
    with pytest.raises(MoySkladAuthError):
        wrong.get_product(MUG)
    with pytest.raises(LoginBlocked):
        wrong.get_product(MUG)
    assert len(emu.requests_for("token")) == 1  # the second attempt never left the client


def test_lockout_reaches_the_client_as_no_api_access():
    with MoyskladEmulator(lockout_threshold=2) as emu:
        client = client_for(emu)
        for _ in range(3):
            with pytest.raises(MoySkladNotFound):
                client.get_product(fixed_id("none"))
        with pytest.raises(NoApiAccess) as locked:
            client.get_product(MUG)
        assert locked.value.service_code == 1061


def test_webhooks_and_documents(emu):
    client = client_for(emu)
    hook = client.create_webhook("http://127.0.0.1:9/hook", "UPDATE", "product")
    assert [h.id for h in client.list_webhooks()] == [hook.id]
    client.delete_webhook(hook.id)
    assert client.list_webhooks() == []
    emu.configure(paid_plan=False)
    with pytest.raises(PlanRequired) as free:
        client.create_webhook("http://127.0.0.1:9/hook", "UPDATE", "product")
    assert free.value.service_code == 30006
    states = client.document_states("customerorder")
    new = next(s for s in states if s.name == "Новый")
    draft = MsDocumentDraft(
        kind="customerorder", sync_id=fixed_id("client-order"), name="SO-1",
        organization_href=f"{emu.api_url}/entity/organization/{ORGANIZATION_ID}",
        agent_href=href(emu, "counterparty", SUPPLIER), state_href=new.href,
        positions=[MsPosition(assortment_href=href(emu, "product", MUG), quantity=Decimal(2),
                              price=Decimal("450.00"))])
    order = client.create_document(draft)
    again = client.create_document(draft)
    assert again.id == order.id and order.sum == Decimal("900.00")
    assert len(emu.db["customerorder"]) == 1
    assert client.find_by_sync_id("customerorder", fixed_id("client-order")).id == order.id
    results = [r for batch in client.push_counterparties([MsCounterpartyDraft(
        name="ООО Тест", inn="7701234567", sync_id=fixed_id("client-cp"))]) for r in batch]
    assert results[0].ok and emu.db["counterparty"][results[0].id]["inn"] == "7701234567"


def test_client_paces_itself_by_the_rate_headers():
    with MoyskladEmulator() as emu:  # limits on: 45 units / 3 s, 3 units per user request
        client = client_for(emu)
        started = time.monotonic()
        for _ in range(25):
            client.get_product(MUG)
        elapsed = time.monotonic() - started
        usage = client.usage()
        statuses = emu.status_counts()
    assert statuses == {200: 26}  # the token and 25 products, not one 429
    assert usage["rate_limited"] == 0
    assert usage["units"] >= 25 * 3
    assert elapsed >= 1.5  # 78 units cannot pass in less than 2 windows' worth of 3 s
    print(f"\n25 user requests (+1 token) in {elapsed:.2f} s; usage {usage['units']} units, "
          f"waited {usage['waited_seconds']} s")


def test_pull_of_a_synthetic_catalogue_within_the_limits():
    with MoyskladEmulator(5000, record_limit=100) as emu:  # limits on
        client = client_for(emu)
        started = time.monotonic()
        products = sum(len(page.items) for page in client.iter_assortment())
        merged, _reports = client.stock_by_store()
        elapsed = time.monotonic() - started
        counts = emu.counts()
        statuses = emu.status_counts()
    assert products == 5000
    assert counts["assortment"] == 5 and counts["stock.bystore"] == 3
    assert 429 not in statuses
    # the generator's stock: main store (n*7)%50 with reserve (n*3)%5 for every product,
    # north store (n*11)%30 with n%4 in transit for every third; all-zero rows are not reported
    main = sum(1 for n in range(1, 5001) if (n * 7) % 50 or (n * 3) % 5)
    north = sum(1 for n in range(3, 5001, 3) if (n * 11) % 30 or n % 4)
    assert len(merged) == main + north == 6483
    print(f"\n5,000 products and 3 stock reports with the limits on: {elapsed:.2f} s, "
          f"{sum(counts.values())} requests")


def test_stock_webhook_report_url_is_read_by_the_client(emu):
    client = client_for(emu)
    hook = client.create_stock_webhook("http://127.0.0.1:9/stock")
    assert hook.id
    emu.set_stock(MUG, MAIN_STORE_ID, stock=55)
    emu.flush_webhooks(10)
    body = emu.deliveries[-1]["body"]  # nobody listens on port 9: the body is in the log
    assert body["reportType"] == "bystore"
    report = client.stock_report_from_url(body["reportUrl"])
    assert {(r.assortment_id, r.store_id): r.quantity for r in report.rows}[
        (MUG, MAIN_STORE_ID)] == 55
