import base64
import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.supplier_connector.emulators.moysklad_demo import (
    RUB_ID,
    SALE_PRICE_ID,
    USD_ID,
    WHOLESALE_PRICE_ID,
)
from odoo.addons.supplier_connector.emulators.server import make_png

from .moysklad_common import MoySkladCase
from .rights_common import RightsUsers


@tagged("post_install", "-at_install")
class TestMoySkladPush(RightsUsers, MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.backend.write({"moysklad_products_direction": "push",
                           "moysklad_prices_direction": "push"})
        cls.products = cls.env["product.product"].create([
            {"name": f"Odoo good {n}", "default_code": f"ODOO-{n}", "list_price": 10.0 + n,
             "standard_price": 4.0 + n, "weight": 1.5, "barcode": f"460000000{n:04d}"}
            for n in range(3)
        ])
        cls.bindings = cls.env["supplier.product"].create([
            {"backend_id": cls.backend.id, "product_id": product.id,
             "external_code": f"odoo-ext-{product.default_code}"}
            for product in cls.products
        ])

    def setUp(self):
        super().setUp()
        self.test_connection()

    def push(self):
        self.backend.action_push_products()
        return self.last_log("push_products")

    def posts(self):
        return [r for r in self.emulator.requests
                if r.method == "POST" and r.path.endswith("/entity/product")]

    def ms_product(self, binding):
        with self.emulator.lock:
            return self.emulator.db["product"][binding.external_id]

    def ms_images(self, binding):
        with self.emulator.lock:
            record = self.emulator.db["product"][binding.external_id]
            return [self.emulator.images[i] for i in record.get("_images", ())]

    def test_push_creates_updates_and_skips_unchanged(self):
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.created, 3)
        self.assertEqual(len(self.posts()), 1, "one bulk POST for the three products")
        body = json.loads(self.posts()[0].body)
        self.assertEqual(len(body), 3)
        self.assertTrue(all(item.get("syncId") for item in body))
        first = body[0]
        self.assertEqual(first["code"], "ODOO-0")
        self.assertEqual(first["externalCode"], "odoo-ext-ODOO-0")
        # Prices in kopecks: 10.00 USD sales price (RUB mapped? the company currency is USD).
        self.assertEqual(first["salePrices"][0]["value"], 1000)
        self.assertEqual(first["buyPrice"]["value"], 400)
        self.assertEqual(first["barcodes"], [{"ean13": "4600000000000"}])
        for binding in self.bindings:
            self.assertTrue(binding.external_id)
            self.assertTrue(binding.push_hash)
            self.assertEqual(binding.moysklad_sync_id, body[self.bindings.ids.index(binding.id)]["syncId"])
        self.assertEqual(self.ms_product(self.bindings[0])["name"], "Odoo good 0")
        # Unchanged: nothing sent.
        log = self.push()
        self.assertEqual(log.unchanged, 3)
        self.assertEqual(len(self.posts()), 1)
        # One product changed: only it is sent, as an update by meta.
        self.products[1].name = "Odoo good 1 (new)"
        log = self.push()
        self.assertEqual(log.updated, 1)
        self.assertEqual(log.unchanged, 2)
        body = json.loads(self.posts()[-1].body)
        self.assertEqual(len(body), 1)
        self.assertIn("meta", body[0])
        self.assertEqual(self.ms_product(self.bindings[1])["name"], "Odoo good 1 (new)")

    def test_lost_answer_is_not_a_second_product(self):
        # MoySklad creates the products but the answer is lost (cut in half).
        self.emulator.set_fault("malformed_json", count=1, match="syncId")
        log = self.push()
        self.assertEqual(log.state, "failed")
        self.assertFalse(any(self.bindings.mapped("external_id")))
        sync_ids = self.bindings.mapped("moysklad_sync_id")
        self.assertTrue(all(sync_ids), "the syncIds were kept before the request left")
        # The next push sends the same syncIds: MoySklad answers the products it created.
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(self.bindings.mapped("moysklad_sync_id"), sync_ids)
        with self.emulator.lock:
            names = [p["name"] for p in self.emulator.db["product"].values()]
        for product in self.products:
            self.assertEqual(names.count(product.name), 1)
        self.assertEqual(len(set(self.bindings.mapped("external_id"))), 3)

    def test_item_error_attached_to_its_product(self):
        # MoySklad refuses a code another product holds: only that product fails.
        self.products[2].default_code = "DEMO-001"
        log = self.push()
        self.assertEqual(log.state, "partial")
        self.assertEqual(log.created, 2)
        self.assertEqual(log.failed, 1)
        self.assertTrue(self.bindings[2].push_message)
        self.assertFalse(self.bindings[2].external_id)
        self.assertEqual(log.line_ids.binding_id, self.bindings[2])

    def test_image_uploaded_when_changed(self):
        self.products[0].image_1920 = base64.b64encode(make_png(16, 16, (10, 200, 10)))
        log = self.push()
        self.assertIn("Images uploaded: 1", log.message)
        uploads = [r for r in self.emulator.requests
                   if r.method == "POST" and r.path.endswith("/images")]
        self.assertEqual(len(uploads), 1)
        images = self.ms_images(self.bindings[0])
        self.assertEqual(len(images), 1)
        first_name = images[0]["filename"]
        self.assertTrue(first_name.startswith(f"odoo-{self.products[0].id}-"))
        # Unchanged: no upload.
        log = self.push()
        self.assertNotIn("Images uploaded", log.message or "")
        self.assertEqual(len([r for r in self.emulator.requests
                              if r.method == "POST" and r.path.endswith("/images")]), 1)
        # A new image replaces the one uploaded before, though the product did not change.
        self.products[0].image_1920 = base64.b64encode(make_png(16, 16, (200, 10, 10)))
        log = self.push()
        self.assertIn("Images uploaded: 1", log.message)
        images = self.ms_images(self.bindings[0])
        self.assertEqual(len(images), 1)
        self.assertNotEqual(images[0]["filename"], first_name)

    def test_push_refused_when_odoo_is_not_the_master(self):
        self.backend.write({"moysklad_prices_direction": "pull",
                            "moysklad_products_direction": "pull"})
        with self.assertRaises(UserError):
            self.backend.action_push_products()

    def test_push_rights(self):
        for user in (self.plain, self.connector_user):
            with self.assertRaises(AccessError):
                self.backend.with_user(user).action_push_products()
        self.assertFalse(self.posts())

    # -- the scheduled push --------------------------------------------------------------------
    def push_schedule(self):
        return self.backend.schedule_ids.filtered(lambda s: s.operation == "push_products")

    def run_scheduler(self):
        """One tick of the scheduler's cron, with the push line due."""
        self.push_schedule().next_call = fields.Datetime.now() - timedelta(minutes=1)
        self.env["supplier.backend.schedule"]._cron_run_due()
        return self.push_schedule().last_log_id

    def test_scheduled_push_sends_only_what_changed(self):
        schedule = self.push_schedule()
        self.assertEqual(len(schedule), 1, "a MoySklad connection has a push schedule line")
        self.assertTrue(schedule.enabled, "enabled: Odoo is the master of products")
        # Only the push runs in this test (the pulls' lines are not due).
        (self.backend.schedule_ids - schedule).write({"enabled": False})
        log = self.run_scheduler()
        self.assertEqual((log.operation, log.trigger, log.state), ("push_products", "cron", "done"),
                         log.message)
        self.assertEqual(log.created, 3)
        self.assertEqual(len(self.posts()), 1)
        self.assertTrue(all(self.bindings.mapped("external_id")))
        self.assertEqual(set(self.bindings.mapped("sync_state")), {"ok"})
        self.assertGreater(schedule.next_call, fields.Datetime.now())
        # Nothing changed: the next scheduled run sends no request at all.
        requests_before = len(self.emulator.requests)
        log = self.run_scheduler()
        self.assertEqual((log.state, log.unchanged, log.request_count), ("done", 3, 0))
        self.assertEqual(len(self.emulator.requests), requests_before)
        # A changed product: only it is sent, by its meta.
        self.products[2].list_price = 99.5
        log = self.run_scheduler()
        self.assertEqual((log.updated, log.unchanged), (1, 2))
        self.assertEqual(len(self.posts()), 2)
        body = json.loads(self.posts()[-1].body)
        self.assertEqual(len(body), 1)
        self.assertTrue(body[0]["meta"]["href"].endswith(self.bindings[2].external_id))
        self.assertEqual(body[0]["salePrices"][0]["value"], 9950)
        # The emulator keeps [kopecks, price type id, currency id] per price.
        self.assertEqual(self.ms_product(self.bindings[2])["salePrices"][0][0], 9950)
        # And then nothing again.
        requests_before = len(self.emulator.requests)
        self.assertEqual(self.run_scheduler().request_count, 0)
        self.assertEqual(len(self.emulator.requests), requests_before)

    def test_push_schedule_follows_the_direction(self):
        schedule = self.push_schedule()
        self.backend.write({"moysklad_prices_direction": "pull",
                            "moysklad_products_direction": "pull"})
        self.assertFalse(schedule.enabled)
        # Not due while disabled: the scheduler pushes nothing.
        schedule.next_call = fields.Datetime.now() - timedelta(minutes=1)
        (self.backend.schedule_ids - schedule).write({"enabled": False})
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertFalse(self.posts())
        self.assertFalse(self.last_log("push_products"))
        self.backend.moysklad_products_direction = "push"
        self.assertTrue(schedule.enabled)
        # An administrator switches it off: other writes leave it off.
        schedule.enabled = False
        self.backend.write({"moysklad_products_direction": "push", "name": "Renamed"})
        self.assertFalse(schedule.enabled)
        # A new connection pulling products has no push line; one pushing them has it, enabled.
        pulling, pushing = self.env["supplier.backend"].create([
            {"name": "MoySklad pull", "service": "moysklad", "partner_id": self.vendor.id},
            {"name": "MoySklad push", "service": "moysklad", "partner_id": self.vendor.id,
             "moysklad_products_direction": "push"},
        ])
        self.assertEqual(set(pulling.schedule_ids.mapped("operation")),
                         {"import_catalogue", "sync_offers"})
        line = pushing.schedule_ids.filtered(lambda s: s.operation == "push_products")
        self.assertEqual((len(line), line.enabled, line.interval_number, line.interval_type),
                         (1, True, 30, "minutes"))

    # -- scopes ----------------------------------------------------------------------------------
    def test_category_and_saleable_scopes(self):
        parent = self.env["product.category"].create({"name": "Pushed goods"})
        child = self.env["product.category"].create({"name": "Small", "parent_id": parent.id})
        elsewhere = self.env["product.category"].create({"name": "Not pushed"})
        in_parent, in_child, not_in = self.env["product.product"].create([
            {"name": "In the category", "categ_id": parent.id, "sale_ok": False},
            {"name": "In a subcategory", "categ_id": child.id},
            {"name": "Elsewhere, not saleable", "categ_id": elsewhere.id, "sale_ok": False},
        ])
        self.backend.moysklad_push_category_id = parent
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.created, 5)
        names = {item["name"] for item in json.loads(self.posts()[-1].body)}
        self.assertEqual(names, {"In the category", "In a subcategory", *self.products.mapped("name")})
        Binding = self.env["supplier.product"]
        bound = Binding.search([("backend_id", "=", self.backend.id)]).product_id
        self.assertIn(in_parent, bound)
        self.assertIn(in_child, bound)
        self.assertNotIn(not_in, bound)
        self.assertEqual(Binding.search([("product_id", "=", in_child.id)]).external_code,
                         f"odoo-{in_child.id}")
        # All saleable products: the not saleable one stays out, every saleable one is sent.
        # Many of Odoo's demo products have an image (one upload each, sent once, so a 429 of
        # MoySklad's window, which the push before this one used too, would stop the run):
        # the window is not what this test is about.
        self.emulator.limits_enabled = False
        self.backend.moysklad_push_all_saleable = True
        log = self.push()
        saleable = self.env["product.product"].search([
            ("sale_ok", "=", True), ("company_id", "in", [self.company.id, False]),
        ])
        bound = Binding.search([("backend_id", "=", self.backend.id)]).product_id
        self.assertFalse(saleable - bound)
        self.assertNotIn(not_in, bound)
        new = saleable - self.products - in_child
        sent = json.loads(self.posts()[-1].body)
        self.assertEqual(len(sent), len(new))
        self.assertEqual({item["name"] for item in sent}, set(new.mapped("name")))
        self.assertEqual(log.unchanged, 5)
        # Odoo's demo data has two products with one internal reference: MoySklad refuses the
        # second code, that product alone fails, with the reason on its mapping.
        codes = new.mapped("default_code")
        twice = {code for code in codes if code and codes.count(code) > 1}
        self.assertEqual(log.created + log.failed, len(new))
        self.assertEqual(log.failed, sum(codes.count(code) - 1 for code in twice), log.message)
        failed = log.line_ids.binding_id
        self.assertEqual(set(failed.product_id.mapped("default_code")), twice)
        self.assertTrue(all(failed.mapped("push_message")))
        with self.emulator.lock:
            at_moysklad = {p.get("name") for p in self.emulator.db["product"].values()}
        self.assertTrue(set((new - failed.product_id).mapped("name")) <= at_moysklad)
        self.assertNotIn("Elsewhere, not saleable", at_moysklad)

    # -- prices per price type -------------------------------------------------------------------
    def test_prices_in_kopecks_per_mapped_price_type(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].search([("currency_id", "=", eur.id)]).unlink()
        # 1 USD = 0.5 EUR: 30 EUR are 60 USD.
        self.env["res.currency.rate"].create({
            "currency_id": eur.id, "rate": 0.5, "company_id": self.company.id,
            "name": "2000-01-01",
        })
        pricelist = self.env["product.pricelist"].create({
            "name": "Wholesale in roubles", "currency_id": self.rub.id,
            "item_ids": [(0, 0, {"applied_on": "0_product_variant", "compute_price": "fixed",
                                 "product_id": self.products[0].id, "fixed_price": 777.55})],
        })
        self.reference("ms_price_type", "Оптовая").write(
            {"price_target": "pricelist", "pricelist_id": pricelist.id}
        )
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        first = json.loads(self.posts()[-1].body)[0]
        prices = {p["priceType"]["meta"]["href"].rsplit("/", 1)[1]: p
                  for p in first["salePrices"]}
        # Sales price 10.00 USD; the roubles pricelist's 777.55 RUB in roubles (RUB is mapped).
        self.assertEqual(prices[SALE_PRICE_ID]["value"], 1000)
        self.assertTrue(prices[SALE_PRICE_ID]["currency"]["meta"]["href"].endswith(USD_ID))
        self.assertEqual(prices[WHOLESALE_PRICE_ID]["value"], 77755)
        self.assertTrue(prices[WHOLESALE_PRICE_ID]["currency"]["meta"]["href"].endswith(RUB_ID))
        stored = {row[1]: row for row in self.ms_product(self.bindings[0])["salePrices"]}
        self.assertEqual(stored[WHOLESALE_PRICE_ID], [77755, WHOLESALE_PRICE_ID, RUB_ID])
        self.assertEqual(stored[SALE_PRICE_ID], [1000, SALE_PRICE_ID, USD_ID])
        # A pricelist in a currency MoySklad has not: converted to the company currency.
        pricelist.currency_id = eur
        pricelist.item_ids.fixed_price = 30.0
        self.push()
        first = json.loads(self.posts()[-1].body)[0]
        prices = {p["priceType"]["meta"]["href"].rsplit("/", 1)[1]: p
                  for p in first["salePrices"]}
        self.assertEqual(prices[WHOLESALE_PRICE_ID]["value"], 6000)
        self.assertTrue(prices[WHOLESALE_PRICE_ID]["currency"]["meta"]["href"].endswith(USD_ID))

    # -- bulk size -------------------------------------------------------------------------------
    def test_requests_of_at_most_1000_products(self):
        more = self.env["product.product"].create([
            {"name": f"Bulk good {n}", "default_code": f"BULK-{n:04d}", "list_price": 1.0}
            for n in range(998)
        ])
        self.env["supplier.product"].create([
            {"backend_id": self.backend.id, "product_id": product.id,
             "external_code": product.default_code}
            for product in more
        ])
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.created, 1001)
        self.assertEqual([len(json.loads(r.body)) for r in self.posts()], [1000, 1])
        self.assertTrue(all(len(r.body) < 20 * 1024 * 1024 for r in self.posts()))
        with self.emulator.lock:
            self.assertEqual(
                sum(1 for p in self.emulator.db["product"].values()
                    if (p.get("code") or "").startswith(("BULK-", "ODOO-"))), 1001,
            )
        log = self.push()
        self.assertEqual((log.unchanged, len(self.posts())), (1001, 2))
