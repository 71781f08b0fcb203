"""Who may do what, through the ORM: every public method checks its caller (DESIGN §6)."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import EtmCase, ShateCase
from .rights_common import ALLOWED, REFUSED, EntryPoints, RightsUsers


@tagged("post_install", "-at_install")
class TestRights(RightsUsers, EntryPoints, EtmCase):
    product_count = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.prepare_entry_points()

    def test_every_entry_point_refuses_who_may_not_call_it(self):
        blocked_until = fields.Datetime.now() + timedelta(hours=1)
        self.backend.login_blocked_until = blocked_until
        names = self.products.mapped("name")
        logs = self.env["supplier.sync.log"].search_count([])
        for model, method, records, level in self.entry_points():
            for who in REFUSED[level]:
                with self.subTest(method=f"{model}.{method}", user=who):
                    user = getattr(self, who)
                    with self.assertRaises(AccessError):
                        getattr(records.with_user(user), method)()
                    self.assertFalse(self.emulator.requests, "nothing may reach the supplier")
                    self.assertEqual(self.env["supplier.sync.log"].search_count([]), logs)
                    self.assertEqual(self.backend.login_blocked_until, blocked_until)
                    self.assertEqual(self.products.mapped("name"), names)

    def test_every_entry_point_lets_its_callers_through(self):
        for model, method, records, level in self.entry_points():
            with self.subTest(method=f"{model}.{method}"):
                result = getattr(records.with_user(getattr(self, ALLOWED[level])), method)()
                self.assertTrue(result)

    def test_connector_user_syncs_manager_tests_and_maps(self):
        action = self.backend.with_user(self.connector_user).action_sync_offers()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        action = self.backend.with_user(self.manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.backend.with_user(self.manager).action_map_products()
        self.assertEqual(self.last_log("map_products").user_id, self.manager)

    def test_manager_resets_a_lockout_of_their_company(self):
        self.backend.login_blocked_until = fields.Datetime.now() + timedelta(hours=1)
        self.backend.with_user(self.manager).action_reset_session()
        self.assertFalse(self.backend.login_blocked_until)

    def test_enrich_needs_a_manager_who_may_edit_the_product(self):
        card = self.catalogue[self.codes[0]]
        self.products[0].name = "Before enrich"
        with self.assertRaises(AccessError):
            self.bindings[0].with_user(self.manager).action_enrich()
        self.assertEqual(self.products[0].name, "Before enrich")
        self.bindings[0].with_user(self.purchase_manager).action_enrich()
        self.assertEqual(self.products[0].name, card.name)

    def test_catalogue_import_that_creates_products_needs_product_rights(self):
        self.backend.catalogue_create_products = True
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).action_import_catalogue()
        self.assertFalse(self.emulator.requests)
        self.backend.with_user(self.purchase_manager).action_import_catalogue()
        self.assertTrue(self.emulator.requests)

    # -- issue item 1: where the credentials go ------------------------------------------------
    def test_manager_cannot_send_the_credentials_elsewhere(self):
        rogue = self.start_emulator()  # would accept the login: a request would show there
        backend = self.backend.with_user(self.manager)
        for vals in ({"api_url": rogue.api_url}, {"trusted_hosts": "127.0.0.1, evil.example.com"},
                     {"service": "shate"}):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "Only administrators"):
                backend.write(vals)
        self.assertEqual(self.backend.api_url, self.emulator.api_url)
        action = backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertFalse(rogue.requests, "the credentials never reached the other server")
        self.assertTrue(self.emulator.requests)
        # Writing the same address again, or another setting, is not a change of destination.
        backend.write({"api_url": self.emulator.api_url, "timeout": 20})
        # An administrator, who sees the credentials, may point them elsewhere.
        self.backend.with_user(self.admin).write({"api_url": rogue.api_url})
        self.backend.with_user(self.admin).action_test_connection()
        self.assertTrue(rogue.requests)

    def test_manager_sets_the_address_of_a_connection_without_credentials(self):
        backend = self.env["supplier.backend"].with_user(self.manager).create({
            "name": "Manager's ETM", "service": "etm", "api_url": "https://itest2.etm.ru/api/v1",
        })
        self.assertEqual(backend.api_url, "https://itest2.etm.ru/api/v1")
        backend.write({"api_url": "http://127.0.0.1:8801/api/v1", "trusted_hosts": "etm.ru"})
        backend.sudo().password = "typed by an administrator"
        with self.assertRaises(AccessError):
            backend.write({"api_url": "https://itest2.etm.ru/api/v1"})

    # -- issue item 4: log lines follow their log's company -------------------------------------
    def test_log_lines_of_another_company_are_invisible(self):
        log = self.env["supplier.sync.log"].create({
            "backend_id": self.backend.id, "operation": "sync_offers",
            "line_ids": [(0, 0, {"reference": "1234567", "message": "Confidential product"})],
        })
        line = log.line_ids
        self.assertEqual(line.company_id, self.backend.company_id)
        foreign_user = self.foreign_manager
        Line = self.env["supplier.sync.log.line"].with_user(foreign_user)
        self.assertFalse(Line.search([]))
        with self.assertRaises(AccessError):
            line.with_user(foreign_user).read(["message", "reference", "product_id"])
        self.assertEqual(line.with_user(self.connector_user).message, "Confidential product")


@tagged("post_install", "-at_install")
class TestShateRights(RightsUsers, ShateCase):
    """Test connection and purchase orders on Shate-M, as the users who press the buttons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    # -- issue item 5: the chatter never decides ------------------------------------------------
    def test_manager_without_email_tests_the_connection(self):
        self.manager.partner_id.email = False
        action = self.backend.with_user(self.manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertTrue(self.backend.reference_ids.filtered(lambda r: r.kind == "agreement"))
        self.assertTrue(self.backend.location_ids)
        note = self.backend.message_ids[0]
        self.assertIn("Connection test succeeded", note.body)
        self.assertEqual(note.author_id, self.manager.partner_id)

    def test_a_failing_chatter_does_not_undo_the_test(self):
        Backend = type(self.env["supplier.backend"])
        with patch.object(Backend, "message_post", side_effect=UserError("mail is down")):
            action = self.backend.with_user(self.manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertTrue(self.backend.reference_ids)

    def test_connector_user_cannot_test_the_connection(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.connector_user).action_test_connection()
        self.assertFalse(self.emulator.requests, "the credentials were not sent")
        self.assertFalse(self.backend.reference_ids)


@tagged("post_install", "-at_install")
class TestPurchaseRights(RightsUsers, ShateCase):
    """Send to supplier and Refresh supplier status, refused and allowed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    def setUp(self):
        super().setUp()
        self.ready_to_order()
        self.po = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.products[0].id, "product_qty": 1})],
        })
        self.po.button_confirm()
        self.emulator.reset()

    def test_send_and_refresh_are_refused_to_who_may_not_order(self):
        for who in ("plain", "connector_user", "foreign_manager"):
            for method in ("action_supplier_send", "action_supplier_refresh_status"):
                with self.subTest(user=who, method=method), self.assertRaises(AccessError):
                    getattr(self.po.with_user(getattr(self, who)), method)()
        self.assertFalse(self.emulator.requests)
        self.assertFalse(self.po.supplier_order_ids)

    def test_purchase_manager_sends_and_refreshes(self):
        self.purchase_manager.partner_id.email = False
        action = self.po.with_user(self.purchase_manager).action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.po.supplier_order_ids.state, "sent")
        self.assertEqual(len(self.emulator.placed_orders()), 1)
        self.assertIn("sent as order", self.po.message_ids[0].body)
        self.po.with_user(self.purchase_manager).action_supplier_refresh_status()
