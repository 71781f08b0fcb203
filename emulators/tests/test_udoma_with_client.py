"""The real UdomaClient (api/udoma*.py) against the UDOMA emulator over HTTP: test connection,
catalogue and per-shop assortment in v1 and v2 with chunks, refusals found and mapped to items
(named by the service or not), the full upload's turn-off, key rotation mid-run, unknown shops,
orders by window (overlapping windows give the same orders), and the emulator's faults."""

from datetime import datetime, timedelta

import pytest

from api.udoma import UdomaAssortmentRow, UdomaClient, UdomaGroup, UdomaNomenclature
from api.udoma_errors import (
    ApiKeyRefused,
    ShopNotFound,
    UdomaBadResponse,
    UdomaRateLimited,
    UdomaRejected,
    UdomaUnavailable,
)
from emulators.udoma import UdomaEmulator
from emulators.udoma_demo import DEMO_KEY, DEMO_UNKNOWN_PRODUCT

NOW = datetime(2026, 11, 28, 18, 0, 0)


@pytest.fixture
def emu():
    with UdomaEmulator(now=lambda: NOW) as emulator:
        yield emulator


def client_for(emu, version="v1", **options):
    values = {"timeout": 5, "backoff": 0.01, "max_retries": 2, "now": lambda: NOW}
    return UdomaClient(emu.api_url, options.pop("api_key", DEMO_KEY), version,
                       **{**values, **options})  # fmt: skip


def catalogue(count, group="g-home", prefix="SKU"):
    return [UdomaNomenclature(f"{prefix}-{n:05d}", f"Товар {n}", group, barcode=f"460{n:010d}",
                              vendor_code=f"V{n}", okei_code=796)
            for n in range(count)]  # fmt: skip


def test_check_key_and_a_regenerated_key(emu):
    client = client_for(emu)
    assert client.check_key() is True
    assert client.check_key("s001") is True
    new_key = emu.regenerate_key()
    with pytest.raises(ApiKeyRefused, match="regenerated") as caught:
        client.check_key()
    assert caught.value.run_level is True and new_key not in str(caught.value)
    client.api_key = new_key
    assert client.check_key() is True
    assert emu.counts() == {"v1/export-orders": 4}
    assert all(not r.json()["dateFromUtc"] < r.json()["dateToUtc"]
               for r in emu.requests_for("v1/export-orders"))  # an empty window every time


def test_check_shop_tells_bound_shops_and_changes_nothing(emu):
    client = client_for(emu, "v1")
    client.import_assortment("s001", [UdomaAssortmentRow("A", 3, 10)])
    assert client.check_shop("s001") is True
    assert list(client.export_orders("s404", None, NOW)) == []  # export-orders cannot tell
    with pytest.raises(ShopNotFound) as caught:
        client.check_shop("s404")
    assert caught.value.shop_source_id == "s404"
    assert emu.assortment == {("s001", "A"): {"remains": 3, "price": 10, "salePrice": None,
                                              "salePercent": None}}


def test_wrong_url_fails_the_test_connection(emu):
    client = UdomaClient(emu.base_url + "/api/online", DEMO_KEY, timeout=5)
    with pytest.raises(UdomaRejected, match="no such address"):
        client.check_key()


def test_v1_catalogue_in_chunks_then_a_delta(emu):
    client = client_for(emu, chunk_size=400)
    result = client.import_nomenclature(catalogue(1000))
    assert result.ok and len(result.accepted) == 1000 and result.requests == 3
    assert emu.counts() == {"v1/import-nomenclature": 3}
    assert len(emu.nomenclature) == 1000
    assert emu.nomenclature["SKU-00999"].fields["vendorCode"] == "V999"
    changed = [UdomaNomenclature("SKU-00001", "Новое имя", "g-clothes", barcode="4600000000001"),
               UdomaNomenclature("SKU-00002", "Товар 2", "g-home", deleted=True)]
    assert client.import_nomenclature(changed).accepted == ["SKU-00001", "SKU-00002"]
    assert emu.nomenclature["SKU-00001"].fields["name"] == "Новое имя"
    assert emu.nomenclature["SKU-00001"].group_id == "g-clothes"
    assert emu.nomenclature["SKU-00002"].deleted is True
    assert emu.nomenclature["SKU-00003"].imports == 1  # the delta sent nothing else


def test_full_upload_switches_off_missing_items(emu):
    client = client_for(emu, chunk_size=10)
    client.import_nomenclature(catalogue(30))
    client.import_assortment("s001", [UdomaAssortmentRow(f"SKU-{n:05d}", 5, 100)
                                      for n in range(30)])  # fmt: skip
    result = client.import_nomenclature(catalogue(20), turn_off_missing=True)
    assert result.turned_off is True and result.requests == 1
    assert sum(item.turned_off for item in emu.nomenclature.values()) == 10
    assert emu.assortment[("s001", "SKU-00025")]["remains"] == 0
    assert emu.assortment[("s001", "SKU-00005")]["remains"] == 5


def test_refusals_named_by_udoma_are_mapped_to_items(emu):
    client = client_for(emu)
    client.import_nomenclature([UdomaNomenclature("OLD", "Старый", "g-home", barcode="111")])
    emu.reset()
    items = catalogue(6) + [
        UdomaNomenclature("NEW", "Новый со старым штрихкодом", "g-home", barcode="111"),
        UdomaNomenclature("GRP", "В группе с подгруппами", "g-goods"),
        UdomaNomenclature("LOST", "В неизвестной группе", "g-lost")]
    result = client.import_nomenclature(items)
    assert {(e.source_id, e.code) for e in result.errors} == {
        ("NEW", "duplicate_barcode"), ("GRP", "group_has_subgroups"),
        ("LOST", "group_not_found")}  # fmt: skip
    assert sorted(result.accepted) == [f"SKU-{n:05d}" for n in range(6)]
    assert result.requests == emu.counts()["v1/import-nomenclature"] == 4
    assert "NEW" not in emu.nomenclature and "SKU-00005" in emu.nomenclature


def test_refusals_not_named_are_found_by_halving(emu):
    emu.name_items_in_errors = False
    client = client_for(emu)
    client.import_nomenclature([UdomaNomenclature("OLD", "Старый", "g-home", barcode="111")])
    items = catalogue(15) + [UdomaNomenclature("NEW", "Дубль", "g-home", barcode="111")]
    result = client.import_nomenclature(items)
    assert [(e.index, e.source_id, e.code) for e in result.errors] == [
        (15, "NEW", "duplicate_barcode")]
    assert len(result.accepted) == 15 and len(emu.nomenclature) == 16
    assert result.requests == 1 + 2 * 4  # 16 → 8 → 4 → 2 → 1, both halves each time


def test_groups_rule_checked_before_sending(emu):
    client = client_for(emu)
    groups = [UdomaGroup(source_id, parent) for source_id, (_name, parent) in
              {"g-goods": (None, None), "g-home": (None, "g-goods")}.items()]
    result = client.import_nomenclature(
        [UdomaNomenclature("A", "A", "g-goods"), UdomaNomenclature("B", "B", "g-home")],
        groups=groups)  # fmt: skip
    assert [e.code for e in result.errors] == ["group_has_subgroups"]
    assert result.requests == 1 and list(emu.nomenclature) == ["B"]


def test_v2_catalogue_and_assortment_per_shop(emu):
    client = client_for(emu, "v2", chunk_size=50)
    for shop in ("s001", "s002"):
        result = client.import_nomenclature(catalogue(120, group=None), shop_source_id=shop)
        assert result.ok and result.requests == 3
    assert emu.nomenclature["SKU-00000"].shops == {"s001", "s002"}
    assert emu.nomenclature["SKU-00000"].group_id is None
    rows = [UdomaAssortmentRow(f"SKU-{n:05d}", n % 7, 100 + n, sale_percent=10 if n % 2 else None)
            for n in range(120)]  # fmt: skip
    assert client.import_assortment("s002", rows).requests == 3
    assert emu.assortment[("s002", "SKU-00003")] == {"remains": 3, "price": 103,
                                                     "salePrice": 92.7, "salePercent": 10}
    with pytest.raises(ShopNotFound, match="'s404'") as caught:
        client.import_assortment("s404", rows)
    assert caught.value.shop_source_id == "s404" and caught.value.partial_result.requests == 1
    result = client.import_assortment("s002", rows[:100], turn_off_missing=True)
    assert result.turned_off and result.requests == 1
    assert emu.assortment[("s002", "SKU-00110")]["remains"] == 0


def test_v1_assortment_and_unknown_shop(emu):
    client = client_for(emu)
    result = client.import_assortment("s001", [UdomaAssortmentRow("X", 2.5, 10),
                                               UdomaAssortmentRow("Y", -1, 10)])
    assert result.accepted == ["X"] and result.errors[0].code == "invalid"
    assert emu.assortment[("s001", "X")]["remains"] == 2.5
    emu.bind_shop("s002", bound=False)
    with pytest.raises(ShopNotFound) as caught:
        client.import_assortment("s002", [UdomaAssortmentRow("X", 1, 10)])
    assert "integration settings" in caught.value.message


def test_key_regenerated_half_way_stops_the_run_and_keeps_what_went(emu):
    client = client_for(emu, chunk_size=10)
    client.import_nomenclature(catalogue(10))
    emu.regenerate_key("rotated-key")
    with pytest.raises(ApiKeyRefused) as caught:
        client.import_nomenclature(catalogue(30))
    assert caught.value.partial_result.accepted == []
    client.api_key = "rotated-key"
    assert len(client.import_nomenclature(catalogue(30)).accepted) == 30


def test_orders_by_window_and_overlapping_windows(emu):
    client = client_for(emu, "v2")
    everything = client.export_orders("s001", None, NOW)
    assert [o.ticket_number for o in everything] == ["00037", "00038"]
    first, second = everything.orders
    assert first.date == NOW - timedelta(hours=5) and first.payment_method == "terminal"
    assert second.delivery_cost == 150
    assert [p.source_id for p in second.positions] == ["DEMO-MUG", DEMO_UNKNOWN_PRODUCT]
    # (watermark, now]: an order exactly at the watermark was taken by the previous window
    assert [o.ticket_number for o in client.export_orders("s001", first.date, NOW)] == ["00038"]
    assert list(client.export_orders("s001", second.date, NOW)) == []
    assert [o.ticket_number for o in client.export_orders("s001", None, second.date)] == \
        ["00037", "00038"]  # to is inclusive
    overlap = client.export_orders("s001", first.date - timedelta(hours=1), NOW)
    assert {o.order_id for o in overlap} == {o.order_id for o in everything}
    emu.add_order({"shopSourceSystemId": "s001", "orderId": "late", "ticketNumber": "00039",
                   "dateUtc": NOW + timedelta(minutes=1), "paymentMethod": "cash",
                   "positions": []})  # fmt: skip
    assert [o.order_id for o in client.export_orders("s001", NOW, NOW + timedelta(hours=1))] \
        == ["late"]  # fmt: skip
    sent = emu.requests_for("v1/export-orders")[1].json()
    assert sent == {"shopSourceSystemId": "s001", "dateFromUtc": "2026-11-28T13:00:00+00:00",
                    "dateToUtc": "2026-11-28T18:00:00+00:00"}


def test_all_shops_answer_keeps_each_orders_shop(emu):
    emu.export_all_shops = True
    orders = client_for(emu).export_orders("s001", None, NOW)
    assert {(o.ticket_number, o.shop_source_id) for o in orders} == {
        ("00037", "s001"), ("00038", "s001"), ("00021", "s002"), ("00022", "s002")}


def test_many_orders_in_one_window(emu):
    for order in UdomaEmulator.generate_orders(2000, NOW - timedelta(days=1), step_seconds=40):
        emu.add_order(order)
    export = client_for(emu).export_orders("s002", NOW - timedelta(days=1), NOW)
    assert len(export) == 1000 + 2 and export.skipped == []
    assert len({o.order_id for o in export}) == len(export)


def test_faults_retried_then_typed(emu):
    client = client_for(emu)
    emu.set_fault("http_5xx", count=2)
    assert client.import_nomenclature(catalogue(3)).accepted == [f"SKU-{n:05d}" for n in range(3)]
    assert emu.counts()["v1/import-nomenclature"] == 3
    emu.set_fault("http_5xx", count=None)
    with pytest.raises(UdomaUnavailable):
        client.export_orders("s001")
    emu.clear_faults()
    emu.set_fault("rate_limit", count=None, retry_after=0.01)
    with pytest.raises(UdomaRateLimited) as caught:
        client.import_assortment("s001", [UdomaAssortmentRow("SKU-00000", 1, 1)])
    assert caught.value.run_level is True
    emu.clear_faults()
    emu.set_fault("malformed_json", count=1)
    with pytest.raises(UdomaBadResponse):
        client.export_orders("s001")
    emu.set_fault("reset", count=3)
    with pytest.raises(UdomaUnavailable, match="Could not connect"):
        client.export_orders("s001")
    emu.set_fault("timeout", count=1, seconds=1.5)
    with pytest.raises(UdomaUnavailable, match="did not answer"):
        client_for(emu, timeout=0.3, max_retries=0).export_orders("s001")
