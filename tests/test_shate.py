import json
import time
from datetime import timedelta

from odoo.tests import tagged

from odoo.addons.supplier_connector.emulators.shate_demo import (
    DEMO_AMBIGUOUS_CODE,
    DEMO_UNKNOWN_KEY,
)

from .common import ShateCase


@tagged("post_install", "-at_install")
class TestShate(ShateCase):
    """Shate-M through its emulator: references, article ids, offers, best offer, price limits."""

    def test_defaults(self):
        self.assertEqual(self.backend.batch_size, 20)
        self.assertEqual((self.backend.price_limit_15min, self.backend.price_limit_day), (2000, 120000))

    def test_test_connection_loads_the_lists_to_choose_from(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        refs = self.backend.reference_ids
        agreements = refs.filtered(lambda r: r.kind == "agreement")
        self.assertIn("SAGR1", agreements.mapped("code"))
        self.assertEqual(len(refs.filtered(lambda r: r.kind == "delivery_address")), 2)
        statuses = refs.filtered(lambda r: r.kind == "status")
        self.assertTrue(statuses.filtered(lambda r: r.code == "180").is_final)
        self.assertGreaterEqual(len(self.backend.location_ids), 4)
        self.assertIn("Loaded", action["params"]["message"])
        # Testing again updates the lists, it does not duplicate them.
        self.backend.action_test_connection()
        self.assertEqual(self.backend.reference_ids, refs)

    def test_pull_resolves_article_ids_and_picks_the_cheapest_offer(self):
        self.backend.action_test_connection()
        self.backend.shate_agreement_id = self.backend.reference_ids.filtered(
            lambda r: r.code == "SAGR1"
        )
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "done", log.message)
        for binding, article in zip(self.bindings, self.articles, strict=True):
            self.assertEqual(binding.sync_state, "ok", binding.sync_message)
            self.assertEqual(binding.external_id, str(article.id))
            offers = binding.offer_ids
            self.assertTrue(offers)
            self.assertTrue(all(offers.mapped("external_offer_id")), "every offer has its priceId")
            in_stock = offers.filtered(lambda o: o.quantity > 0)
            best = min(in_stock, key=lambda o: (o.price, o.delivery_days))
            self.assertEqual(offers.filtered("is_best"), best)
            self.assertAlmostEqual(binding.price, best.price, places=2)
            self.assertEqual(binding.qty_available, sum(offers.mapped("quantity")))
            info = binding.product_id.seller_ids.filtered(lambda s: s.partner_id == self.vendor)
            self.assertAlmostEqual(info.price, best.price, places=2)
            self.assertEqual(info.currency_id, best.currency_id)
            self.assertEqual(info.delay, best.delivery_days)
        self.assertIn("Price requests used", log.message)
        # The token and the article ids are reused: no login, no article search next time.
        self.emulator.reset()
        self.backend.action_sync_offers()
        labels = {request.label for request in self.emulator.requests}
        self.assertEqual(labels, {"prices"})

    def test_fastest_and_within_days_rules(self):
        self.backend.offer_choice = "fastest"
        self.backend.action_sync_offers()
        for binding in self.bindings:
            in_stock = binding.offer_ids.filtered(lambda o: o.quantity > 0)
            fastest = min(in_stock, key=lambda o: (o.delivery_days, o.price))
            self.assertAlmostEqual(binding.price, fastest.price, places=2)
        self.backend.write({"offer_choice": "cheapest_within", "offer_max_days": 0})
        self.backend.action_sync_offers()
        for binding in self.bindings:
            in_stock = binding.offer_ids.filtered(lambda o: o.quantity > 0)
            same_day = in_stock.filtered(lambda o: o.delivery_days <= 0)
            expected = (min(same_day, key=lambda o: o.price) if same_day
                        else min(in_stock, key=lambda o: (o.delivery_days, o.price)))
            self.assertAlmostEqual(binding.price, expected.price, places=2)

    def test_disallowed_location_is_never_the_vendor_price(self):
        self.backend.action_sync_offers()
        cheapest = self.bindings[0].offer_ids.filtered("is_best")
        excluded = cheapest.location_code
        cheapest.location_id.use_for_stock = False
        self.backend.action_sync_offers()
        binding = self.bindings[0]
        self.assertNotIn(excluded, binding.offer_ids.mapped("location_code"))
        self.assertTrue(binding.offer_ids.filtered(lambda o: o.quantity > 0))
        self.assertNotEqual(binding.offer_ids.filtered("is_best").location_code, excluded)

    def test_ambiguous_and_unknown_articles_are_explained(self):
        Binding = self.env["supplier.product"]
        ambiguous = Binding.create({
            "backend_id": self.backend.id, "external_code": DEMO_AMBIGUOUS_CODE,
            "product_id": self.env["product.product"].create({"name": "Oil filter"}).id,
        })
        unknown = Binding.create({
            "backend_id": self.backend.id, "external_code": DEMO_UNKNOWN_KEY[0],
            "external_brand": DEMO_UNKNOWN_KEY[1],
            "product_id": self.env["product.product"].create({"name": "Unknown filter"}).id,
        })
        self.backend.action_sync_offers()
        self.assertEqual(ambiguous.sync_state, "error")
        self.assertIn("KNECHT", ambiguous.sync_message)
        self.assertIn("MAHLE", ambiguous.sync_message)
        self.assertEqual(unknown.sync_state, "not_found")
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 8, "the batch goes on")
        log = self.last_log()
        self.assertEqual((log.failed, log.not_found), (1, 1))
        # With the brand set, the article is found, but another product already holds it: an
        # error on this mapping only, never a second mapping of the same article.
        ambiguous.external_brand = "MAHLE"
        self.backend.action_sync_offers()
        self.assertEqual(ambiguous.sync_state, "error")
        self.assertIn("already mapped", ambiguous.sync_message)
        self.assertFalse(ambiguous.external_id)
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 8)
        # Freed by the other mapping, it maps.
        holder = self.bindings.filtered(lambda b: b.external_brand == "MAHLE"
                                        and b.external_code == DEMO_AMBIGUOUS_CODE)
        holder.unlink()
        self.backend.action_sync_offers()
        self.assertEqual(ambiguous.sync_state, "ok")

    def test_client_side_limit_stops_cleanly_and_the_next_run_resumes(self):
        self.backend.write({"price_limit_15min": 5, "batch_size": 4})
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        self.assertEqual((log.processed, log.remaining), (4, 4))
        self.assertIn("limit", log.message)
        self.assertIn("Price requests used: 4 of 5", log.message)
        first = self.bindings.filtered(lambda b: b.sync_state == "ok")
        self.assertEqual(len(first), 4)
        self.assertTrue(log.resume_at)
        # The scheduler comes back when the limit frees, not an hour later.
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "sync_offers")
        schedule.next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(schedule.next_call, schedule.last_log_id.resume_at)
        self.assertLess(schedule.next_call, schedule.last_call + timedelta(minutes=16))
        # The limit is kept between runs: an immediate re-run asks nothing.
        self.emulator.reset()
        self.backend.action_sync_offers()
        self.assertFalse([r for r in self.emulator.requests if r.label == "prices"])
        # A new window (the saved budget forgotten) continues with the stalest products.
        self.backend.sudo().price_budget_state = False
        self.backend.action_sync_offers()
        self.assertEqual(self.bindings.filtered(lambda b: b.sync_state == "ok"), self.bindings)

    def test_server_429_stops_the_run_without_losing_data(self):
        self.backend.write({"price_limit_15min": 0, "price_limit_day": 0, "batch_size": 4})
        # At the start of the emulator's 15-minute window, so its Retry-After is ~15 minutes.
        window_start = (time.time() // 900) * 900 + 1
        emulator = self.start_emulator(price_requests_per_15min=4, clock=lambda: window_start)
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        self.assertEqual(log.processed, 4)
        self.assertIn("limit", log.message)
        self.assertTrue(any(r.label == "prices" for r in emulator.requests))
        self.assertEqual(len(self.bindings.filtered(lambda b: b.sync_state == "new")), 4)

    def test_enrich_from_shate(self):
        article = self.articles[0]
        self.products[0].action_supplier_enrich()
        template = self.products[0].product_tmpl_id
        self.assertEqual(template.name, article.name)
        self.assertEqual(template.manufacturer_name, article.trademark)
        self.assertEqual(template.manufacturer_article, article.code)
        for name, value in article.characteristics:
            self.assertIn(name, str(template.description))
            self.assertIn(value, str(template.description))
        if article.contents:
            self.assertTrue(template.image_1920)

    def test_wrong_api_key_is_reported(self):
        self.backend.sudo().api_key = "{00000000-0000-0000-0000-000000000000}"
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("rejected the login", action["params"]["message"])
        self.assertNotIn("00000000-0000", action["params"]["message"])

    def test_auto_map_by_reference_and_brand(self):
        self.bindings.unlink()
        # Demo products carry the same references: keep this test about its own products.
        self.env["product.product"].search([
            ("default_code", "in", self.products.mapped("default_code")),
            ("id", "not in", self.products.ids),
        ]).write({"default_code": False})
        oc105_mahle = self.env["product.product"].create({
            "name": "OC 105 from MAHLE", "default_code": DEMO_AMBIGUOUS_CODE,
            "manufacturer_name": "MAHLE",
        })
        self.backend.action_map_products()
        bindings = self.env["supplier.product"].search([("backend_id", "=", self.backend.id)])
        mapped = {b.product_id: b for b in bindings}
        for product, article in zip(self.products, self.articles, strict=True):
            if article.code == DEMO_AMBIGUOUS_CODE:
                continue  # the same code as oc105_mahle: ambiguous in Odoo, left for a person
            self.assertEqual(mapped[product].external_code, article.code)
            self.assertEqual(mapped[product].external_brand, article.trademark)
        self.assertNotIn(oc105_mahle, mapped)
        log = self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id), ("operation", "=", "map_products")], limit=1
        )
        # Listed to be mapped by hand, not counted as failed (issue 11).
        self.assertTrue(log.line_ids.filtered(lambda line: line.error_code == "ambiguous"))
        self.assertEqual(log.failed, 0)
        # Once the duplicates are gone, the brand decides between KNECHT and MAHLE.
        (self.products.filtered(lambda p: p.default_code == DEMO_AMBIGUOUS_CODE)).write(
            {"default_code": False}
        )
        self.backend.action_map_products()
        binding = self.env["supplier.product"].search([("product_id", "=", oc105_mahle.id)])
        self.assertEqual((binding.external_code, binding.external_brand),
                         (DEMO_AMBIGUOUS_CODE, "MAHLE"))

    def test_minimum_quantity_reaches_the_vendor_price(self):
        article = next(a for a in self.catalogue.values()
                       if a.offers and all(o.minimum > 1 for o in a.offers))
        product = self.env["product.product"].create({"name": article.name})
        binding = self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": product.id,
            "external_code": article.code, "external_brand": article.trademark,
        })
        self.backend.action_sync_offers()
        best = binding.offer_ids.filtered("is_best")
        self.assertGreater(best.min_qty, 1)
        self.assertEqual(best.multiplicity, best.min_qty)
        info = product.seller_ids.filtered(lambda s: s.partner_id == self.vendor)
        self.assertEqual(info.min_qty, best.min_qty)

    def test_codes_without_brand_are_looked_up_by_code_and_never_block_the_catalogue(self):
        # Before: one mapping without a brand made POST articles/search answer 400 (the
        # document requires tradeMarkName there) and no product of the catalogue was synced.
        brandless = self.bindings[0]
        brandless.external_brand = False
        self.backend.action_sync_offers()
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 8)
        self.assertTrue(brandless.external_id, "its article id was found by code alone")
        gets = [r for r in self.emulator.requests if r.label == "articles_search"]
        self.assertEqual(len(gets), 1)
        self.assertEqual(gets[0].query.get("searchString") or gets[0].query.get("searchstring"),
                         brandless.external_code)
        for post in (r for r in self.emulator.requests if r.label == "articles_search_keys"):
            for key in json.loads(post.body)["keys"]:
                self.assertTrue(key.get("tradeMarkName"), f"a key without a brand was sent: {key}")
