"""The connection's buttons dispatched by service (models/supplier_backend.py ``_dispatch``).

A selection of connections of several services runs each by its own service's code; a service
that does not offer the action is named and nothing runs; what the connection's directions make
meaningless is hidden (``can_…``) and refused; an order pull that brings nothing says so.
"""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.supplier_connector.emulators.imsklad import ImskladEmulator
from odoo.addons.supplier_connector.emulators.imsklad_demo import DEMO_KEY as IMSKLAD_KEY
from odoo.addons.supplier_connector.emulators.udoma import UdomaEmulator
from odoo.addons.supplier_connector.emulators.udoma_demo import DEMO_KEY as UDOMA_KEY

from .moysklad_common import MoySkladCase


@tagged("post_install", "-at_install")
class TestActionDispatch(MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.moysklad = cls.backend
        cls.moysklad.write({"moysklad_products_direction": "push",
                            "moysklad_prices_direction": "push"})
        warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        Backend = cls.env["supplier.backend"]
        cls.imsklad = Backend.create({
            "name": "IMSKLAD dispatch", "service": "imsklad", "api_key": IMSKLAD_KEY,
            "rate_limit": 0, "max_retries": 0, "api_url": "http://127.0.0.1:9",
            "imsklad_warehouse_id": warehouse.id,
        })
        cls.udoma = Backend.create({
            "name": "UDOMA dispatch", "service": "udoma", "api_key": UDOMA_KEY,
            "udoma_api_version": "v2", "rate_limit": 0, "max_retries": 0,
            "partner_id": cls.env["res.partner"].create({"name": "Dispatch marketplace"}).id,
            "api_url": "http://127.0.0.1:9/api/online/integration",
        })
        cls.env["supplier.location"].create({
            "backend_id": cls.udoma.id, "code": "s001", "name": "Lenina",
            "warehouse_id": warehouse.id,
            "pricelist_id": cls.env["product.pricelist"].create({"name": "Dispatch retail"}).id,
        })
        cls.etm = Backend.create({
            "name": "ETM dispatch", "service": "etm", "api_url": "http://127.0.0.1:9/api/v1",
        })
        cls.product = cls.env["product.product"].create({
            "name": "Dispatched good", "default_code": "DISP-1", "is_storable": True,
            "list_price": 12.0, "weight": 0.5, "barcode": "4600000099991", "sale_ok": True,
        })
        cls.env["supplier.product"].create([
            {"backend_id": backend.id, "product_id": cls.product.id, "external_code": "DISP-1"}
            for backend in (cls.moysklad, cls.imsklad, cls.udoma)
        ])

    def setUp(self):
        super().setUp()
        self.imsklad_emulator = ImskladEmulator(goods=[]).start()
        self.addCleanup(self.imsklad_emulator.stop)
        self.imsklad.api_url = self.imsklad_emulator.api_url
        self.udoma_emulator = UdomaEmulator(orders=[]).start()
        self.addCleanup(self.udoma_emulator.stop)
        self.udoma.api_url = self.udoma_emulator.api_url
        self.test_connection()

    def logs(self, operation, backends):
        return self.env["supplier.sync.log"].search(
            [("operation", "=", operation), ("backend_id", "in", backends.ids)]
        )

    def udoma_calls(self, method):
        return [r for r in self.udoma_emulator.requests if r.path.endswith("/" + method)]

    # -- several services in one selection ---------------------------------------------------
    def test_push_products_of_three_services_in_one_selection(self):
        selection = self.moysklad | self.imsklad | self.udoma
        action = selection.action_push_products()
        logs = self.logs("push_products", selection)
        self.assertEqual(sorted(logs.backend_id.mapped("service")), ["imsklad", "moysklad", "udoma"])
        self.assertEqual(set(logs.mapped("state")), {"done"}, logs.mapped("message"))
        self.assertEqual(action["res_model"], "supplier.sync.log")
        self.assertEqual(self.env["supplier.sync.log"].search(action["domain"]), logs)
        # Each service got its own requests, from its own code.
        self.assertEqual([r.label for r in self.imsklad_emulator.requests], ["add_good"])
        self.assertIn("DISP-1", self.imsklad_emulator.goods)
        self.assertEqual(len(self.udoma_calls("import-nomenclature")), 1)
        posts = [r for r in self.emulator.requests
                 if r.method == "POST" and r.path.endswith("/entity/product")]
        self.assertEqual(len(posts), 1)
        self.assertEqual(logs.mapped("created"), [1, 1, 1])

    def test_a_service_without_the_action_is_named_and_nothing_runs(self):
        with self.assertRaisesRegex(
            UserError, r"ETM iPro does not support this operation \(connection ETM dispatch\)"
        ):
            (self.imsklad | self.etm).action_push_products()
        self.assertFalse(self.imsklad_emulator.requests)
        self.assertFalse(self.logs("push_products", self.imsklad))
        with self.assertRaisesRegex(UserError, "IMSKLAD does not support this operation"):
            (self.udoma | self.imsklad).action_pull_orders()
        self.assertFalse(self.udoma_emulator.requests)

    def test_sync_offers_of_two_services_in_one_selection(self):
        (self.moysklad | self.imsklad).action_sync_offers()
        ms_log = self.logs("sync_offers", self.moysklad)
        self.assertEqual(ms_log.state, "done", ms_log.message)
        self.assertTrue([r for r in self.emulator.requests if "report/stock" in r.path])
        # IMSKLAD's own rule: a product never pushed is not asked (the engine's run).
        imsklad_log = self.logs("sync_offers", self.imsklad)
        self.assertEqual(imsklad_log.line_ids.mapped("error_code"), ["not_pushed"])

    # -- pulling orders when there are none --------------------------------------------------
    def test_pull_orders_without_new_orders_says_so(self):
        action = self.udoma.action_pull_orders()
        self.assertEqual(action["params"]["message"], "No new orders from UDOMA dispatch.")
        self.assertEqual(action["params"]["type"], "info")
        self.assertEqual(len(self.udoma_calls("export-orders")), 1, "the pull was made")
        self.assertIn("No new orders from UDOMA dispatch.",
                      self.logs("pull_orders", self.udoma).message)
        # MoySklad's pull of order states, with no order sent there.
        action = self.moysklad.action_pull_orders()
        self.assertEqual(action["params"]["message"], "No new orders from MoySklad test.")
        self.assertIn("No new orders", self.logs("pull_order_status", self.moysklad).message)
        # A new marketplace order: the usual summary, no such sentence.
        self.udoma_emulator.add_order({
            "orderId": "o-9", "shopSourceSystemId": "s001", "ticketNumber": "00099",
            "dateUtc": fields.Datetime.now() - timedelta(hours=1), "paymentMethod": "cash",
            "positions": [{"nomenclatureSourceSystemId": "DISP-1", "itemsCount": 1,
                           "purchasePrice": 12}],
        })
        self.udoma.location_ids.udoma_orders_until = False
        action = self.udoma.action_pull_orders()
        self.assertIn("1 created", action["params"]["message"])
        self.assertNotIn("No new orders", action["params"]["message"])
        # Both services at once: the list of their logs.
        action = (self.udoma | self.moysklad).action_pull_orders()
        self.assertEqual(action["res_model"], "supplier.sync.log")
        self.assertEqual(len(self.env["supplier.sync.log"].search(action["domain"])), 2)

    # -- what the directions make meaningless ------------------------------------------------
    def test_push_only_moysklad_hides_and_refuses_import(self):
        backend = self.moysklad
        self.assertFalse(backend.can_import_catalogue)
        self.assertTrue(backend.can_push_products)
        with self.assertRaisesRegex(UserError, "Nothing to import on the connection MoySklad test"):
            backend.action_import_catalogue()
        self.assertFalse(self.logs("import_catalogue", backend))
        self.assertFalse([r for r in self.emulator.requests if "entity/assortment" in r.path])
        # MoySklad the master of prices: the catalogue pass brings them, so it is offered.
        backend.moysklad_prices_direction = "pull"
        self.assertTrue(backend.can_import_catalogue)
        # MoySklad the master of products: import offered, push hidden and refused.
        backend.moysklad_products_direction = "pull"
        self.assertTrue(backend.can_import_catalogue)
        self.assertFalse(backend.can_push_products)
        with self.assertRaisesRegex(UserError, "Odoo is not the master of products"):
            backend.action_push_products()
        self.assertTrue(self.imsklad.can_push_products)
        self.assertFalse(self.imsklad.can_import_catalogue or self.etm.can_push_products)
