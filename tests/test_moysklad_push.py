import base64
import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

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
