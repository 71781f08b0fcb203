import threading
import time
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.supplier_connector.api.moysklad import MoySkladClient
from odoo.addons.supplier_connector.emulators.moysklad_demo import (
    DEMO_LOGIN,
    MAIN_STORE_ID,
    NORTH_STORE_ID,
    ean13,
)
from odoo.addons.supplier_connector.models.moysklad_stock_spool import StockSpool
from odoo.addons.supplier_connector.services.moysklad import MoySkladAdapter

from .moysklad_common import MoySkladCase, product_id
from .rights_common import RightsUsers


@tagged("post_install", "-at_install")
class TestMoySkladConnection(MoySkladCase):
    def test_test_connection_loads_reference_data(self):
        result = self.test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        refs = self.backend.reference_ids
        self.assertEqual(
            set(refs.filtered(lambda r: r.kind == "ms_price_type").mapped("name")),
            {"Цена продажи", "Оптовая"},
        )
        self.assertEqual(self.backend.moysklad_organization_id.name, "ООО «Демо Торг»")
        rub = refs.filtered(lambda r: r.kind == "ms_currency" and r.iso_code == "RUB")
        usd = refs.filtered(lambda r: r.kind == "ms_currency" and r.iso_code == "USD")
        self.assertEqual(rub.odoo_currency_id, self.rub)
        self.assertEqual(usd.odoo_currency_id, self.usd)
        stores = {loc.code: loc for loc in self.backend.location_ids}
        self.assertEqual(set(stores), {MAIN_STORE_ID, NORTH_STORE_ID})
        self.assertEqual(stores[MAIN_STORE_ID].name, "Основной склад")
        self.assertTrue(stores[NORTH_STORE_ID].use_for_stock)
        # The first price type (MoySklad's sale price) goes to the sales price by default.
        self.assertEqual(self.reference("ms_price_type", "Цена продажи").price_target, "list_price")
        # Five reference requests and one token; a second test reuses the token.
        self.assertEqual(self.emulator.auth.issued_count, 1)
        self.test_connection()
        self.assertEqual(self.emulator.auth.issued_count, 1)
        self.assertEqual(len(self.backend.location_ids), 2, "stores are not duplicated")

    def test_missing_currency_is_named(self):
        kzt = self.env.ref("base.KZT")
        kzt.active = False
        with self.emulator.lock:
            self.emulator._new_record("currency", "0b6f2c4e-1111-4a4a-9c9c-000000000398", {
                "name": "тенге", "fullName": "Казахстанский тенге", "code": "398",
                "isoCode": "KZT", "rate": 0.2, "multiplicity": 1, "indirect": False,
                "rateUpdateType": "manual", "margin": 0.0, "system": True,
            })
        result = self.test_connection()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("Казахстанский тенге (KZT)", result["params"]["message"])
        kzt_ref = self.backend.reference_ids.filtered(lambda r: r.iso_code == "KZT")
        self.assertFalse(kzt_ref.odoo_currency_id)

    def test_bad_password_in_plain_words(self):
        self.backend.password = "wrong"
        result = self.test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("rejected the login or password", result["params"]["message"])
        self.assertNotIn("wrong", result["params"]["message"])

    def test_directions_validated(self):
        with self.assertRaises(ValidationError):
            self.backend.moysklad_stock_direction = "push"
        with self.assertRaises(ValidationError):
            self.backend.write({"moysklad_prices_direction": "push",
                                "moysklad_products_direction": "pull"})
        self.backend.write({"moysklad_prices_direction": "push",
                            "moysklad_products_direction": "push"})
        self.assertEqual(self.backend.moysklad_prices_direction, "push")

    def test_price_type_mapping_validated(self):
        self.test_connection()
        wholesale = self.reference("ms_price_type", "Оптовая")
        with self.assertRaises(ValidationError):
            wholesale.price_target = "list_price"  # the sale price has it already
        with self.assertRaises(ValidationError):
            wholesale.price_target = "pricelist"  # no pricelist chosen

    def test_request_weight_follows_the_schedule_unless_typed(self):
        self.assertFalse(self.backend.moysklad_request_weight)
        limiter = self.backend._adapter().client.limiter
        self.assertEqual(limiter.request_weight, MoySkladAdapter.documented_weight("user"),
                         "no weight typed: the documented schedule of the token kind")
        self.backend.moysklad_token_kind = "application"
        self.assertEqual(self.backend._adapter().client.limiter.request_weight, 1)
        self.backend.moysklad_request_weight = 7
        self.assertEqual(self.backend._adapter().client.limiter.request_weight, 7,
                         "a typed weight is used as it is")


@tagged("post_install", "-at_install")
class TestMoySkladPull(MoySkladCase):
    def setUp(self):
        super().setUp()
        self.test_connection()
        self.pricelist = self.env["product.pricelist"].create(
            {"name": "Wholesale", "currency_id": self.usd.id}
        )
        self.reference("ms_price_type", "Оптовая").write(
            {"price_target": "pricelist", "pricelist_id": self.pricelist.id}
        )
        self.pcs = self.env["uom.uom"].create({
            "name": "шт", "category_id": self.env.ref("uom.product_uom_categ_unit").id,
            "uom_type": "bigger", "factor_inv": 1.0, "rounding": 1.0,
        })
        self.existing = self.env["product.product"].create([
            {"name": "Mug (by code)", "default_code": "DEMO-001"},
            {"name": "Plate (by article)", "default_code": "TR-24"},
            {"name": "Teapot (by barcode)", "barcode": ean13(3)},
            {"name": "Pan (by externalCode)", "default_code": "PAN"},
        ])
        self.manual = self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": self.existing[3].id,
            "external_code": "ext-DEMO-004",
        })

    def test_pull_matches_creates_and_prices(self):
        self.update_product("DEMO-013", {"volume": 0.25})
        log = self.import_catalogue()
        self.assertEqual(log.state, "done", log.message)
        bindings = self.backend.binding_ids
        # 30 products and 3 variants; the service is left aside.
        self.assertEqual(len(bindings), 33)
        self.assertEqual(log.created, 32)  # every row but DEMO-004, whose mapping existed
        self.assertIn("service: 1", log.message)
        self.assertEqual(self.binding("DEMO-001").product_id, self.existing[0])
        self.assertEqual(self.binding("DEMO-002").product_id, self.existing[1])
        self.assertEqual(self.binding("DEMO-003").product_id, self.existing[2])
        self.assertEqual(self.manual.external_id, product_id("DEMO-004"))
        self.assertEqual(self.manual.product_id, self.existing[3])
        # Created product: name, code, barcode, unit by name, weight, volume, description.
        created = self.binding("DEMO-013").product_id
        self.assertEqual(created.name, "Блокнот А5 в клетку")
        self.assertEqual(created.default_code, "DEMO-013")
        self.assertEqual(created.barcode, ean13(13))
        self.assertEqual(created.uom_id, self.pcs)
        self.assertAlmostEqual(created.weight, 0.21)
        self.assertAlmostEqual(created.volume, 0.25)
        self.assertIn("Демонстрационный товар", created.description_sale)
        self.assertTrue(created.active)
        archived = self.env["supplier.product"].with_context(active_test=False).search([
            ("external_id", "=", product_id("DEMO-023"))]).product_id
        self.assertFalse(archived.active)
        # Matched products take MoySklad's values (MoySklad is the master of products).
        self.assertEqual(self.existing[0].name, "Кружка керамическая 350 мл")
        # Kopecks → roubles: sale price 450 RUB = 4.50 USD (company currency, 100 RUB = 1 USD).
        self.assertAlmostEqual(self.existing[0].list_price, 4.5)
        # A price in USD needs no conversion: 3000 kopecks (cents) = 30.00.
        self.assertAlmostEqual(self.binding("DEMO-030").product_id.list_price, 30.0)
        # Wholesale → the pricelist's fixed price: 390 RUB = 3.90 USD.
        item = self.env["product.pricelist.item"].search([
            ("pricelist_id", "=", self.pricelist.id), ("product_id", "=", self.existing[0].id),
        ])
        self.assertAlmostEqual(item.fixed_price, 3.9)
        # Purchase price → the vendor price of the connection's partner, in roubles.
        info = self.env["product.supplierinfo"].search([
            ("partner_id", "=", self.vendor.id), ("product_id", "=", self.existing[0].id),
        ])
        self.assertAlmostEqual(info.price, 170.0)
        self.assertEqual(info.currency_id, self.rub)
        self.assertAlmostEqual(self.binding("DEMO-001").price, 170.0)
        # Variants become products of their own.
        variant = self.env["supplier.product"].search(
            [("external_code", "=", "ext-DEMO-007-M")]).product_id
        self.assertEqual(variant.default_code, "DEMO-007-M")
        # Pages of 1,000, the assortment asked once; units in the log.
        assortment = self.requests("entity/assortment")
        self.assertEqual(len(assortment), 1)
        self.assertEqual(assortment[0].query.get("limit"), "1000")
        self.assertIn("MoySklad units used", log.request_usage)

    def test_request_limit_figures_in_the_log_not_in_the_pop_up(self):
        # Import and Sync answer with a pop-up: the run's summary, without the request limit's
        # figures (units, waits, 429s, tokens), which stay on the log for the administrator.
        for action, operation in ((self.backend.action_import_catalogue, "import_catalogue"),
                                  (self.backend.action_sync_offers, "sync_offers")):
            self.advance_clock()
            popup = action()["params"]["message"]
            log = self.last_log(operation)
            self.assertIn("processed", popup)
            for figure in ("units used", "Answers 429", "New tokens", "Waited for the limit"):
                self.assertNotIn(figure, popup)
                self.assertNotIn(figure, log.message or "")
                self.assertIn(figure, log.request_usage)
            self.assertRegex(log.request_usage, r"MoySklad units used: [1-9]\d* in [1-9]\d* requests")
            # The pop-up is still the log's summary (what the run said, its counters).
            self.assertEqual(popup, log._summary())

    def test_delta_by_watermark(self):
        first = self.import_catalogue()
        self.assertEqual(first.state, "done")
        self.assertNotIn("updated>=", self.requests("entity/assortment")[0].query.get("filter", ""))
        self.assertTrue(self.backend.moysklad_watermark)
        self.advance_clock()
        self.update_product("DEMO-005", {"name": "Набор ножей 6 предметов",
                                         "buyPrice": {"value": 222200}})
        before = len(self.requests("entity/assortment"))
        second = self.import_catalogue()
        asked = self.requests("entity/assortment")[before:]
        self.assertEqual(len(asked), 1)
        self.assertIn("updated>=", asked[0].query["filter"])
        self.assertEqual(second.processed, 1)
        self.assertEqual(second.updated, 1)
        product = self.binding("DEMO-005").product_id
        self.assertEqual(product.name, "Набор ножей 6 предметов")
        self.assertAlmostEqual(self.binding("DEMO-005").price, 2222.0)
        # Nothing else was touched.
        self.assertEqual(self.existing[0].name, "Кружка керамическая 350 мл")

    def test_full_pass_on_demand_and_no_watermark_after_failure(self):
        self.import_catalogue()
        self.backend.action_moysklad_full_pass()
        self.assertFalse(self.backend.moysklad_watermark)
        self.emulator.set_fault("http_5xx", count=3)  # more than the retries
        log = self.import_catalogue()
        self.assertEqual(log.state, "failed")
        self.assertFalse(self.backend.moysklad_watermark, "a pass that failed keeps no watermark")
        log = self.import_catalogue()
        self.assertEqual(log.state, "done")
        self.assertEqual(log.processed, 33)
        self.assertEqual(log.unchanged, 33, "reading the same rows again writes nothing")

    def test_main_image_downloaded_when_changed(self):
        log = self.import_catalogue()
        self.assertIn("Main images loaded: 2", log.message)
        self.assertTrue(self.existing[0].image_1920)
        self.assertRegex(self.binding("DEMO-001").moysklad_image_key, r"^demo-001\.png:\d+$")
        downloads = len(self.requests("/download/"))
        self.assertEqual(downloads, 2)
        # A second full pass lists the images again but downloads nothing unchanged.
        self.backend.action_moysklad_full_pass()
        log = self.import_catalogue()
        self.assertNotIn("Main images loaded", log.message or "")
        self.assertEqual(len(self.requests("/download/")), downloads)
        # Images off: not even listed.
        self.backend.moysklad_pull_images = False
        self.backend.action_moysklad_full_pass()
        listed = len(self.requests("/images"))
        self.import_catalogue()
        self.assertEqual(len(self.requests("/images")), listed)

    def test_unmapped_currency_skips_its_price(self):
        self.backend.reference_ids.filtered(lambda r: r.iso_code == "USD").odoo_currency_id = False
        log = self.import_catalogue()
        self.assertEqual(log.state, "partial")
        self.assertEqual(log.failed, 1)
        line = log.line_ids.filtered(lambda line: line.error_code == "ms_currency")
        self.assertTrue(line)
        self.assertIn("Доллар США (USD)", line[0].message)
        self.assertEqual(self.binding("DEMO-030").product_id.list_price, 1.0,
                         "the default sales price is left alone")

    def small_pages(self, limit=10):
        """The assortment in pages of ``limit`` (33 rows: 4 pages of 10, 7 of 5)."""
        original = MoySkladClient.prefetch_assortment

        def prefetch_assortment(client, **options):
            return original(client, limit=limit, **options)
        return patch.object(MoySkladClient, "prefetch_assortment", prefetch_assortment)

    def prefetch_threads(self):
        return [t for t in threading.enumerate()
                if t.name.startswith("moysklad-assortment") and t.is_alive()]

    def assortment_offsets(self):
        return [int(r.query.get("offset", "0")) for r in self.requests("entity/assortment")]

    def test_pages_prefetched_give_the_same_outcome(self):
        with self.small_pages():
            log = self.import_catalogue()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual((log.processed, log.created), (33, 32))
        # Pages asked several at a time (in any order), each once, nothing past the end.
        self.assertEqual(sorted(self.assortment_offsets()), [0, 10, 20, 30])
        self.assertFalse(self.prefetch_threads())

    def test_pages_applied_in_page_order(self):
        Pull = type(self.env["supplier.moysklad.pull"])
        original = Pull._apply_page
        applied = []

        def recording(pull, backend, context, items, run):
            applied.append([item.code for item in items])
            return original(pull, backend, context, items, run)

        with self.small_pages(5), patch.object(Pull, "_apply_page", recording):
            log = self.import_catalogue()
        self.assertEqual(log.state, "done", log.message)
        with self.emulator.lock:
            expected = [record.get("code", "") for _type, record in sorted(
                ((t, r) for t in ("product", "variant") for r in self.emulator.db[t].values()),
                key=lambda pair: pair[1]["id"])]  # fmt: skip
        self.assertEqual([code for page in applied for code in page], expected)
        self.assertEqual(sorted(self.assortment_offsets()), [0, 5, 10, 15, 20, 25, 30])

    def test_error_of_a_prefetched_page_stops_the_run_as_before(self):
        self.backend.max_retries = 0
        self.emulator.set_fault("http_5xx", count=5, after=1, match="assortment")
        with self.small_pages():
            log = self.import_catalogue()
        self.assertEqual(log.state, "partial", log.message)
        self.assertEqual(log.processed, 10, "the first page was applied before the error")
        self.assertIn("The service did not answer", log.message)
        self.assertFalse(self.backend.moysklad_watermark)
        # The pages after the first were asked together; each once (no retry), none again.
        offsets = self.assortment_offsets()
        self.assertEqual(sorted(offsets), sorted(set(offsets)))
        self.assertLessEqual(set(offsets), {0, 10, 20, 30})
        self.assertIn(10, offsets)
        self.assertFalse(self.prefetch_threads())

    def test_run_stopped_by_odoo_stops_the_prefetch(self):
        Pull = type(self.env["supplier.moysklad.pull"])
        original = Pull._apply_page

        def failing(pull, backend, context, items, run):
            original(pull, backend, context, items, run)
            raise psycopg2.errors.LockNotAvailable("the run's lock was lost")

        with self.small_pages(5), patch.object(Pull, "_apply_page", failing), \
                self.assertRaises(psycopg2.errors.LockNotAvailable):
            self.backend.action_import_catalogue()
        self.assertFalse(self.prefetch_threads())
        time.sleep(0.3)
        # The first page and at most the three asked ahead of it: nothing after the stop.
        offsets = self.assortment_offsets()
        self.assertIn(0, offsets)
        self.assertLessEqual(set(offsets), {0, 5, 10, 15})
        self.assertEqual(len(offsets), len(set(offsets)))

    def test_no_creation_when_off(self):
        self.backend.catalogue_create_products = False
        log = self.import_catalogue()
        self.assertEqual(len(self.backend.binding_ids), 4)
        self.assertEqual(log.not_found, 29)

    def test_prices_off_leave_prices(self):
        self.backend.moysklad_prices_direction = "off"
        self.import_catalogue()
        self.assertEqual(self.existing[0].list_price, 1.0)
        self.assertFalse(self.env["product.supplierinfo"].search(
            [("partner_id", "=", self.vendor.id)]))

    def test_stock_per_store_and_delta(self):
        self.import_catalogue()
        log = self.sync_stock()
        self.assertEqual(log.state, "done", log.message)
        binding = self.binding("DEMO-001")
        offers = {offer.location_id.code: offer for offer in binding.offer_ids}
        # Main store: 64 in stock, 1 reserved → 63 free; north: 10.
        self.assertEqual(offers[MAIN_STORE_ID].quantity, 63)
        self.assertIn("Reserved: 1", offers[MAIN_STORE_ID].delivery_label)
        self.assertEqual(offers[NORTH_STORE_ID].quantity, 10)
        self.assertEqual(binding.qty_available, 73)
        self.assertEqual(self.binding("DEMO-023").qty_available, 0)
        reports = self.requests("report/stock/bystore/current")
        # One report per type (a 429 waited out and retried may repeat one).
        self.assertEqual({r.query["stockType"] for r in reports}, {"inTransit", "reserve", "stock"})
        self.assertIn("units used", log.request_usage)
        # A store not used for stock no longer counts; a change is picked up by the delta.
        self.backend.location_ids.filtered(lambda loc: loc.code == NORTH_STORE_ID).use_for_stock = False
        self.advance_clock()
        self.emulator.set_stock(product_id("DEMO-001"), MAIN_STORE_ID, stock=80)
        before = len(self.requests("report/stock/bystore/current"))
        log = self.sync_stock()
        asked = self.requests("report/stock/bystore/current")[before:]
        self.assertTrue(all("changedSince" in r.query for r in asked[:3]))
        self.assertTrue(any("assortmentId=" in r.query.get("filter", "") for r in asked[3:]))
        self.assertEqual(log.processed, 1)
        self.assertEqual(binding.qty_available, 79)
        # 30 in stock, 1 reserved: untouched by the delta.
        self.assertEqual(self.binding("DEMO-002").qty_available, 29)

    def test_stock_off_asks_nothing(self):
        self.import_catalogue()
        self.backend.moysklad_stock_direction = "off"
        before = len(self.requests("report/stock/bystore/current"))
        log = self.sync_stock()
        self.assertEqual(len(self.requests("report/stock/bystore/current")), before)
        self.assertEqual(log.state, "done")
        self.assertIn("not the master of stock", log.message)
        self.assertFalse(self.binding("DEMO-001").offer_ids)

    def test_price_history_names_the_run(self):
        log = self.import_catalogue()
        history = self.env["supplier.price.history"].search(
            [("binding_id", "=", self.binding("DEMO-001").id)])
        self.assertTrue(history)
        self.assertEqual(history.mapped("log_id"), log)

    def spool_exists(self):
        self.env.cr.execute("SELECT to_regclass('supplier_moysklad_stock_spool')")
        return self.env.cr.fetchone()[0] is not None

    def test_stock_reports_read_in_batches_through_a_spool(self):
        self.import_catalogue()
        batches = []
        original_add = StockSpool.add
        original_rows = MoySkladClient.iter_stock_rows

        def add(spool, rows):
            batches.append(len(rows))
            return original_add(spool, rows)

        def small_batches(client, **options):
            return original_rows(client, **dict(options, batch=5))

        with patch.object(StockSpool, "add", add), \
                patch.object(MoySkladClient, "iter_stock_rows", small_batches):
            log = self.sync_stock()
        self.assertEqual(log.state, "done", log.message)
        self.assertGreater(len(batches), 3, "each report handed over in several batches")
        self.assertLessEqual(max(batches), 5)
        self.assertEqual(self.binding("DEMO-001").qty_available, 73)
        self.assertEqual(self.binding("DEMO-002").qty_available, 29)
        self.assertFalse(self.spool_exists(), "the temporary table is dropped after the run")

    def test_stock_report_failing_midway_writes_nothing(self):
        self.import_catalogue()
        self.sync_stock()
        self.backend.moysklad_stock_watermark = False
        self.emulator.set_stock(product_id("DEMO-001"), MAIN_STORE_ID, stock=80)
        self.backend.max_retries = 0
        self.emulator.set_fault("http_5xx", count=5, match="stockType=reserve")
        log = self.sync_stock()
        self.assertEqual(log.state, "failed", log.message)
        self.assertEqual(self.binding("DEMO-001").qty_available, 73, "offers left as they were")
        self.assertFalse(self.backend.moysklad_stock_watermark)
        self.assertFalse(self.spool_exists())

    def test_product_sync_asks_only_its_stock(self):
        self.import_catalogue()
        before = len(self.requests("report/stock/bystore/current"))
        self.existing[0].action_supplier_sync()
        asked = self.requests("report/stock/bystore/current")[before:]
        self.assertEqual({r.query["stockType"] for r in asked}, {"inTransit", "reserve", "stock"})
        self.assertTrue(all(
            r.query["filter"] == f"assortmentId={product_id('DEMO-001')}" for r in asked
        ))
        self.assertEqual(self.binding("DEMO-001").qty_available, 73)
        # A mapping never linked to a MoySklad product says so in plain words.
        unlinked = self.env["supplier.product"].create({
            "backend_id": self.backend.id, "external_code": "nowhere",
            "product_id": self.env["product.product"].create({"name": "Unlinked"}).id,
        })
        unlinked.product_id.action_supplier_sync()
        self.assertIn("import the catalogue first", unlinked.sync_message)

    def test_scheduled_runs_use_the_moysklad_pull(self):
        operations = set(self.backend.schedule_ids.mapped("operation"))
        self.assertEqual(operations, {"import_catalogue", "sync_offers"})
        engine = self.env["supplier.sync.engine"]
        log = engine._run_scheduled(self.backend, "import_catalogue")
        self.assertEqual((log.operation, log.trigger, log.state),
                         ("import_catalogue", "cron", "done"))
        self.assertEqual(len(self.backend.binding_ids), 33)
        log = engine._run_scheduled(self.backend, "sync_offers")
        self.assertEqual((log.operation, log.trigger, log.state), ("sync_offers", "cron", "done"))
        self.assertEqual(self.binding("DEMO-001").qty_available, 73)

    def test_token_reused_across_runs_and_renewed_once(self):
        self.advance_clock()  # changedSince must not be ahead of MoySklad's clock
        self.assertEqual(self.emulator.auth.issued_count, 1)  # by Test connection
        self.import_catalogue()
        self.sync_stock()
        self.assertEqual(self.emulator.auth.issued_count, 1)
        self.assertEqual(len(self.requests("security/token")), 1)
        token = self.backend.sudo().session_token
        self.assertTrue(token)
        self.emulator.auth.revoke(DEMO_LOGIN)
        log = self.sync_stock()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(self.emulator.auth.issued_count, 2)
        self.assertNotEqual(self.backend.sudo().session_token, token)
        self.assertIn("New tokens: 1", log.request_usage)

    def test_rate_limit_stops_the_run_in_plain_words(self):
        self.emulator.set_fault("rate_limit", count=5)
        log = self.import_catalogue()
        self.assertEqual(log.state, "failed")
        self.assertIn("request limit", log.message)
        self.assertFalse(self.backend.moysklad_watermark)

    def test_circuit_breaker_stops_the_run(self):
        original = MoySkladAdapter._build_client

        def build(adapter):
            client = original(adapter)
            client.limiter.breaker.max_failures = 1
            return client

        self.backend.max_retries = 3
        self.emulator.set_fault("http_5xx", count=5)
        with patch.object(MoySkladAdapter, "_build_client", build):
            log = self.import_catalogue()
        self.assertEqual(log.state, "failed")
        self.assertIn("switches the account's API off", log.message)


@tagged("post_install", "-at_install")
class TestMoySkladRights(RightsUsers, MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    def test_refused_without_rights(self):
        for user in (self.plain, self.connector_user):
            backend = self.backend.with_user(user)
            for method in ("action_test_connection", "action_import_catalogue",
                           "action_moysklad_full_pass"):
                with self.assertRaises(AccessError, msg=f"{user.login} {method}"):
                    getattr(backend, method)()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.plain).action_sync_offers()
        self.assertFalse(self.emulator.requests, "nothing was sent")

    def test_credentials_unreadable_by_a_manager(self):
        self.test_connection()
        backend = self.backend.with_user(self.manager)
        for name in ("login", "password", "api_key", "session_token"):
            with self.assertRaises(AccessError, msg=name):
                backend.read([name])
        # A manager may still run the connection (the token is used as superuser); creating
        # products needs the right to create them.
        self.backend.with_user(self.purchase_manager).action_import_catalogue()
        self.assertEqual(self.last_log("import_catalogue").state, "done")
        self.assertEqual(self.emulator.auth.issued_count, 1)


@tagged("post_install", "-at_install")
class TestMoySkladUnchangedRows(MoySkladCase):
    """A full pass over rows MoySklad did not change: one read and one UPDATE of the last sync
    per page; a row that differs from what Odoo has (at MoySklad or in Odoo) goes the full way."""

    def setUp(self):
        super().setUp()
        self.test_connection()
        self.assertEqual(self.import_catalogue().state, "done")
        self.bindings = self.backend.with_context(active_test=False).binding_ids
        self.backend.action_moysklad_full_pass()
        self.env.flush_all()
        # Yesterday's sync: the next pass must move it; the write dates show what was written.
        self.env.cr.execute(
            "UPDATE supplier_product SET last_sync = now() at time zone 'UTC' - interval '1 day',"
            " last_attempt = now() at time zone 'UTC' - interval '1 day',"
            " write_date = '2000-01-01' WHERE id = ANY(%s)", [self.bindings.ids])
        self.env.cr.execute(
            "UPDATE product_product SET write_date = '2000-01-01' WHERE id = ANY(%s)",
            [self.bindings.product_id.ids])
        self.env.invalidate_all()

    def written(self, records):
        return records.filtered(lambda r: r.write_date.year != 2000)

    def test_unchanged_rows_write_nothing_but_the_last_sync(self):
        before = fields.Datetime.now() - timedelta(hours=1)
        history = self.env["supplier.price.history"].search_count([])
        log = self.import_catalogue()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual((log.processed, log.unchanged, log.updated, log.failed), (33, 33, 0, 0))
        self.assertFalse(self.written(self.bindings), "no binding was written")
        self.assertFalse(self.written(self.bindings.product_id), "no product was written")
        for binding in self.bindings:
            self.assertGreater(binding.last_sync, before)
            self.assertGreater(binding.last_attempt, before)
            self.assertEqual(binding.sync_state, "ok")
        self.assertFalse(self.bindings.filtered("is_stale"))
        self.assertEqual(self.env["supplier.price.history"].search_count([]), history)

    def test_rows_changed_at_moysklad_or_in_odoo_take_the_full_way(self):
        mug, plate, teapot, knives = (self.binding(code) for code in (
            "DEMO-001", "DEMO-002", "DEMO-003", "DEMO-005"))
        # At MoySklad: a new purchase price and name.
        self.update_product("DEMO-005", {"name": "Набор ножей 6 предметов",
                                         "buyPrice": {"value": 222200}})
        # In Odoo: a product renamed, a vendor price removed, a binding left in error.
        mug.product_id.name = "Renamed in Odoo"
        self.env["product.supplierinfo"].search([
            ("partner_id", "=", self.vendor.id), ("product_id", "=", plate.product_id.id)]).unlink()
        self.env.cr.execute(
            "UPDATE supplier_product SET sync_state = 'error', failure_count = 2,"
            " sync_message = 'timeout' WHERE id = %s", [teapot.id])
        self.env.invalidate_all()
        old_price = knives.price
        log = self.import_catalogue()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.processed, 33)
        self.assertEqual(log.failed, 0)
        self.assertEqual(log.updated, 2, "the new price and the name put back")
        self.assertEqual(log.unchanged, 31)
        # The changed row: name, binding price and a history row of the change.
        self.assertEqual(knives.product_id.name, "Набор ножей 6 предметов")
        self.assertAlmostEqual(knives.price, 2222.0)
        change = self.env["supplier.price.history"].search([("binding_id", "=", knives.id)],
                                                            limit=1)
        self.assertAlmostEqual(change.old_price, old_price)
        self.assertAlmostEqual(change.new_price, 2222.0)
        # MoySklad is the master: the name typed in Odoo is put back, the vendor price is back.
        self.assertEqual(mug.product_id.name, "Кружка керамическая 350 мл")
        info = self.env["product.supplierinfo"].search([
            ("partner_id", "=", self.vendor.id), ("product_id", "=", plate.product_id.id)])
        self.assertEqual(len(info), 1)
        self.assertAlmostEqual(info.price, plate.price)
        # The binding in error is clean again.
        self.assertEqual((teapot.sync_state, teapot.failure_count, teapot.sync_message),
                         ("ok", 0, False))
        # Only those went through the writer: the other bindings kept their write date.
        self.assertEqual(self.written(self.bindings), knives | mug | plate | teapot)
