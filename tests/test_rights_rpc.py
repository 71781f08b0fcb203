"""Who may do what, through JSON-RPC: what a user the view would have stopped can still send."""

from odoo.tests import HttpCase, tagged

from .common import EtmCase, ShateCase
from .rights_common import ALLOWED, REFUSED, EntryPoints, JsonRpc, RightsUsers


@tagged("post_install", "-at_install")
class TestRightsOverRpc(RightsUsers, EntryPoints, JsonRpc, HttpCase, EtmCase):
    product_count = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.prepare_entry_points()

    def test_every_entry_point_refuses_who_may_not_call_it(self):
        names = self.products.mapped("name")
        for model, method, records, level in self.entry_points():
            for who in REFUSED[level]:
                with self.subTest(method=f"{model}.{method}", user=who):
                    self.assertRefused(self.call_kw(getattr(self, who), model, method, [records.ids]))
        self.assertFalse(self.emulator.requests, "nothing may reach the supplier")
        self.assertFalse(self.env["supplier.sync.log"].search([]))
        self.assertEqual(self.products.mapped("name"), names)

    def test_every_entry_point_lets_its_callers_through(self):
        for model, method, records, level in self.entry_points():
            with self.subTest(method=f"{model}.{method}"):
                result, error = self.call_kw(
                    getattr(self, ALLOWED[level]), model, method, [records.ids]
                )
                self.assertFalse(error, error and error["message"])
                self.assertTrue(result)

    def test_manager_cannot_send_the_credentials_elsewhere(self):
        rogue = self.start_emulator()
        change = [self.backend.ids, {"api_url": rogue.api_url}]
        self.assertRefused(self.call_kw(self.manager, "supplier.backend", "write", change),
                           "Only administrators")
        self.assertRefused(self.execute_kw(self.manager, "supplier.backend", "write", change),
                           "Only administrators")
        self.assertRefused(self.call_kw(self.manager, "supplier.backend", "write",
                                        [self.backend.ids, {"trusted_hosts": "evil.example.com"}]))
        result, error = self.call_kw(
            self.manager, "supplier.backend", "action_test_connection", [self.backend.ids]
        )
        self.assertFalse(error)
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertFalse(rogue.requests, "the credentials never reached the other server")
        self.assertTrue(self.emulator.requests)
        # An administrator may, and then the other server does get them: the proof holds.
        result, error = self.call_kw(self.admin, "supplier.backend", "write", change)
        self.assertFalse(error)
        self.call_kw(self.admin, "supplier.backend", "action_test_connection", [self.backend.ids])
        self.assertTrue(rogue.requests)

    def test_settings_are_refused_with_a_clear_message(self):
        result, error = self.call_kw(
            self.manager, "supplier.backend", "write", [self.backend.ids, {"batch_size": 0}]
        )
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertEqual(error["message"], "Batch Size must be greater than 0.")
        # A manager may not change the address of a connection with credentials at all; an
        # administrator may, to a proper one.
        result, error = self.call_kw(
            self.admin, "supplier.backend", "write", [self.backend.ids, {"api_url": "file:///x"}]
        )
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertIn("full web address", error["message"])

    def test_log_lines_of_another_company_are_invisible(self):
        log = self.env["supplier.sync.log"].create({
            "backend_id": self.backend.id, "operation": "sync_offers",
            "line_ids": [(0, 0, {"reference": "1234567", "message": "Confidential product"})],
        })
        model = "supplier.sync.log.line"
        result, error = self.call_kw(self.foreign_manager, model, "search_read", [[], ["message"]])
        self.assertEqual(result, [])
        self.assertRefused(self.call_kw(self.foreign_manager, model, "read",
                                        [log.line_ids.ids, ["message"]]))
        result, error = self.call_kw(self.connector_user, model, "read", [log.line_ids.ids, ["message"]])
        self.assertEqual(result[0]["message"], "Confidential product")


@tagged("post_install", "-at_install")
class TestShateRightsOverRpc(RightsUsers, JsonRpc, HttpCase, ShateCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    def test_manager_without_email_tests_the_connection(self):
        self.manager.partner_id.email = False
        result, error = self.call_kw(
            self.manager, "supplier.backend", "action_test_connection", [self.backend.ids]
        )
        self.assertFalse(error, error and error["message"])
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertTrue(self.backend.reference_ids.filtered(lambda r: r.kind == "agreement"))
        self.assertIn("Connection test succeeded", self.backend.message_ids[0].body)

    def test_connector_user_cannot_test_the_connection(self):
        self.assertRefused(self.call_kw(
            self.connector_user, "supplier.backend", "action_test_connection", [self.backend.ids]
        ))
        self.assertFalse(self.emulator.requests, "the credentials were not sent")

    def test_purchase_buttons_refuse_who_may_not_order(self):
        po = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": self.products[0].id, "product_qty": 1})],
        })
        po.button_confirm()
        for who in ("plain", "connector_user", "foreign_manager"):
            for method in ("action_supplier_send", "action_supplier_refresh_status"):
                with self.subTest(user=who, method=method):
                    self.assertRefused(
                        self.call_kw(getattr(self, who), "purchase.order", method, [po.ids])
                    )
        self.assertFalse(self.emulator.requests)
