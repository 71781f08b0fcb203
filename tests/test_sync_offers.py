import math

from odoo.tests import tagged

from odoo.addons.supplier_connector.emulators.etm import DEFAULT_STORES as STORES

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestSyncOffers(EtmCase):
    product_count = 12

    def test_full_pull_writes_prices_stock_offers_and_vendor_prices(self):
        log = self.backend.action_sync_offers() and self.last_log()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual((log.processed, log.updated, log.failed), (12, 12, 0))
        for code in self.codes:
            product, binding = self.catalogue[code], self.binding_of(code)
            self.assertEqual(binding.sync_state, "ok")
            self.assertAlmostEqual(binding.price, product.price, places=2)
            self.assertAlmostEqual(binding.price_with_vat, product.price_with_vat, places=2)
            self.assertAlmostEqual(binding.price_retail, product.price_retail, places=2)
            self.assertEqual(binding.currency_id, self.rub)
            self.assertEqual(binding.qty_available, product.total_stock)
            self.assertEqual(binding.delivery_days, product.delivery_days)
            self.assertEqual(
                sorted((o.location_code, o.quantity) for o in binding.offer_ids),
                sorted((str(store.code), product.stores.get(store.code, 0.0)) for store in STORES),
            )
            info = binding.product_id.seller_ids.filtered(lambda s: s.partner_id == self.vendor)
            self.assertEqual(len(info), 1)
            self.assertAlmostEqual(info.price, product.price, places=2)
            self.assertEqual(info.currency_id, self.rub)
            self.assertEqual(info.product_code, code)
            self.assertEqual(info.delay, product.delivery_days)
        # Stores are discovered with their names and types.
        store = self.backend.location_ids.filtered(lambda loc: loc.code == "207")
        self.assertEqual(store.location_type, "crs")

    def test_requests_are_batched_and_session_reused_across_runs(self):
        self.backend.batch_size = 5
        self.backend.action_sync_offers()
        counts = self.emulator.counts()
        self.assertEqual(counts.get("login"), 1)
        self.assertEqual(counts.get("price"), math.ceil(12 / 5))
        self.assertEqual(counts.get("remains"), 12)
        price_paths = [r.raw_path for r in self.emulator.requests if r.label == "price"]
        self.assertIn("%2C", price_paths[0])
        self.assertNotIn("%252C", price_paths[0])
        self.assertEqual(self.last_log().request_count, 1 + 3 + 12)
        self.emulator.reset()
        self.backend.action_sync_offers()
        self.assertNotIn("login", self.emulator.counts(), "the saved session must be reused")
        log = self.last_log()
        self.assertEqual((log.unchanged, log.updated), (12, 0))

    def test_changed_price_and_stock_are_updated_in_place(self):
        self.backend.action_sync_offers()
        code = self.codes[0]
        info = self.binding_of(code).product_id.seller_ids
        offers_before = self.bindings.offer_ids
        self.emulator.set_price(code, price=1000.0)
        self.emulator.set_stock(code, 11, 3)
        self.backend.action_sync_offers()
        binding = self.binding_of(code)
        self.assertAlmostEqual(binding.price, 1000.0)
        self.assertEqual(binding.offer_ids.filtered(lambda o: o.location_code == "11").quantity, 3)
        self.assertEqual(binding.product_id.seller_ids, info, "the vendor price is updated, not duplicated")
        self.assertAlmostEqual(info.price, 1000.0)
        log = self.last_log()
        self.assertEqual((log.updated, log.unchanged), (1, 11))
        # Offers are updated where they are, not deleted and inserted again.
        self.assertEqual(self.bindings.offer_ids, offers_before)

    def test_unknown_code_is_not_found_and_the_batch_goes_on(self):
        self.emulator.remove_product(self.codes[3])
        self.backend.action_sync_offers()
        missing = self.binding_of(self.codes[3])
        self.assertEqual(missing.sync_state, "not_found")
        self.assertIn(self.codes[3], missing.sync_message)
        self.assertEqual(self.bindings.filtered(lambda b: b.sync_state == "ok"), self.bindings - missing)
        log = self.last_log()
        self.assertEqual(log.state, "done")
        self.assertEqual((log.not_found, log.processed), (1, 12))
        self.assertEqual(log.line_ids.binding_id, missing)
        self.assertEqual(log.line_ids.error_code, "not_found")

    def test_excluded_store_is_neither_kept_nor_counted(self):
        self.backend.action_sync_offers()
        kept = self.bindings.offer_ids.filtered(lambda o: o.location_code != "11")
        self.backend.location_ids.filtered(lambda loc: loc.code == "11").use_for_stock = False
        self.backend.action_sync_offers()
        self.assertEqual(self.bindings.offer_ids, kept, "the other stores' offers stay as they were")
        for code in self.codes:
            binding, product = self.binding_of(code), self.catalogue[code]
            self.assertNotIn("11", binding.offer_ids.mapped("location_code"))
            self.assertEqual(binding.qty_available, product.total_stock - product.stores.get(11, 0))

    def test_etm_prefix_is_stripped_from_codes(self):
        binding = self.bindings[0]
        binding.external_code = "ETM" + self.codes[0]
        self.backend.action_sync_offers()
        self.assertEqual(binding.sync_state, "ok")
        self.assertAlmostEqual(binding.price, self.catalogue[self.codes[0]].price, places=2)

    def test_stock_can_be_switched_off(self):
        self.backend.pull_stock = False
        self.backend.action_sync_offers()
        self.assertNotIn("remains", self.emulator.counts())
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 12)
        self.assertFalse(self.bindings.offer_ids)

    def test_no_vendor_partner_means_no_supplierinfo(self):
        self.backend.partner_id = False
        self.backend.action_sync_offers()
        self.assertFalse(self.products.seller_ids)
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 12)

    def test_scheduled_run_is_limited_and_resumes_with_the_stalest(self):
        self.backend.write({"max_items_per_run": 5, "batch_size": 5})
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "sync_offers")
        self.assertTrue(schedule.enabled)
        self.assertEqual((schedule.interval_number, schedule.interval_type), (1, "hours"))
        Schedule = self.env["supplier.backend.schedule"]
        synced = []
        for _run in range(3):
            schedule.next_call = False
            Schedule._cron_run_due()
            synced.append(self.bindings.filtered("last_sync"))
            self.env["supplier.product"].invalidate_model()
        self.assertEqual(len(synced[0]), 5)
        self.assertEqual(len(synced[1]), 10)
        self.assertEqual(len(synced[2]), 12)
        self.assertEqual(schedule.last_log_id.trigger, "cron")
        self.assertGreater(schedule.next_call, schedule.last_call)
        first_log = self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id)], order="id", limit=1
        )
        self.assertEqual(first_log.remaining, 7)

    def test_one_failing_connection_does_not_block_the_others(self):
        broken = self.backend.copy(
            {"name": "Broken ETM", "api_url": "http://127.0.0.1:9/api/v1", "max_retries": 0}
        )
        broken.sudo().write({"login": "tester", "password": "x"})
        self.env["supplier.product"].create(
            {"backend_id": broken.id, "product_id": self.products[0].id, "external_code": "1"}
        )
        Schedule = self.env["supplier.backend.schedule"]
        (self.backend | broken).schedule_ids.write({"next_call": False})
        Schedule._cron_run_due()
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 12)
        broken_log = self.env["supplier.sync.log"].search([("backend_id", "=", broken.id)])
        self.assertEqual(broken_log.state, "failed")
        self.assertTrue(broken_log.message)

    def test_sync_now_of_a_large_catalogue_runs_in_the_scheduler(self):
        action = self.backend.with_context(sync_in_background_over=10).action_sync_offers()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("background", action["params"]["message"])
        self.assertFalse(self.emulator.counts(), "nothing is asked during the web request")
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "sync_offers")
        schedule.write({"enabled": False, "next_call": "2999-01-01 00:00:00"})
        self.assertTrue(schedule.run_requested)
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 12)
        self.assertFalse(schedule.run_requested)
        # A small catalogue is synced right away.
        action = self.backend.with_context(sync_in_background_over=100).action_sync_offers()
        self.assertEqual(action["params"]["type"], "success")

    def test_old_logs_are_cleaned(self):
        self.backend.action_sync_offers()
        log = self.last_log()
        log.start = "2000-01-01 00:00:00"
        self.env["supplier.sync.log"]._cron_clean_old_logs()
        self.assertFalse(log.exists())
