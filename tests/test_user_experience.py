"""What a new user met (issue 6 §6): menus, the stale filter, defaults per service, reloads."""

from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestUserExperience(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.etm = cls.env["supplier.backend"].create(
            {"name": "ETM stale 2 h", "service": "etm", "stale_after_hours": 2}
        )
        cls.shate = cls.env["supplier.backend"].create(
            {"name": "Shate stale 48 h", "service": "shate", "stale_after_hours": 48}
        )
        products = cls.env["product.product"].create([{"name": f"Stale test {i}"} for i in range(4)])
        now = fields.Datetime.now()
        rows = [
            (cls.etm, products[0], now - timedelta(hours=3)),  # stale: over 2 h
            (cls.etm, products[1], now - timedelta(hours=1)),  # fresh
            (cls.shate, products[2], now - timedelta(hours=30)),  # fresh: under 48 h
            (cls.shate, products[3], False),  # never synced: stale
        ]
        cls.bindings = cls.env["supplier.product"].create([
            {"backend_id": backend.id, "product_id": product.id, "external_code": f"100{i}"}
            for i, (backend, product, _when) in enumerate(rows)
        ])
        for binding, (_backend, _product, when) in zip(cls.bindings, rows, strict=True):
            binding.last_sync = when

    def test_stale_follows_each_connections_hours(self):
        Binding = self.env["supplier.product"]
        mine = [("id", "in", self.bindings.ids)]
        stale = Binding.search(mine + [("is_stale", "=", True)])
        self.assertEqual(stale, self.bindings[0] | self.bindings[3])
        self.assertEqual(Binding.search(mine + [("is_stale", "=", False)]),
                         self.bindings[1] | self.bindings[2])
        self.assertEqual(Binding.search(mine + [("is_stale", "!=", True)]),
                         self.bindings[1] | self.bindings[2])
        self.assertEqual(self.bindings.mapped("is_stale"), [True, False, False, True])
        # The search view's "Stale" filter uses it, not a hard-coded day.
        arch = self.env.ref("supplier_connector.supplier_product_view_search").arch
        self.assertIn("is_stale", arch)

    def test_each_service_has_its_own_trusted_hosts(self):
        self.assertEqual(self.etm.trusted_hosts, "etm.ru")
        self.assertIn("shate-m.ru", self.shate.trusted_hosts)
        self.assertNotIn("etm.ru", self.shate.trusted_hosts)
        # Switching service follows the new default unless the hosts were customised.
        backend = self.env["supplier.backend"].create({"name": "Switch", "service": "etm"})
        backend.service = "shate"
        self.assertIn("shate-m.ru", backend.trusted_hosts)
        self.assertEqual(backend.batch_size, 20, "Shate-M's own batch size, not ETM's 50")
        backend.write({"trusted_hosts": "cdn.example.ru", "batch_size": 7})
        backend.service = "etm"
        self.assertEqual(backend.trusted_hosts, "cdn.example.ru")
        self.assertEqual(backend.batch_size, 7, "a batch size of one's own is kept")

    def test_service_capabilities_drive_the_form(self):
        self.assertTrue(self.etm.can_import_catalogue)
        self.assertFalse(self.etm.sells_by_offer)
        self.assertFalse(self.etm.has_references)
        self.assertFalse(self.shate.can_import_catalogue)
        self.assertTrue(self.shate.sells_by_offer)
        self.assertTrue(self.shate.has_references)
        self.assertTrue(self.etm.uses_login and self.etm.can_map_products)
        # IMSKLAD: one API key, no session, nothing to map by code: the form hides them.
        imsklad = self.env["supplier.backend"].create({"name": "Warehouse", "service": "imsklad"})
        self.assertFalse(imsklad.uses_login)
        self.assertFalse(imsklad.can_map_products)
        # UDOMA pulls no prices or stock: no "Sync now", no stale-after or price-alert settings.
        self.assertTrue(self.etm.can_sync_offers and imsklad.can_sync_offers)
        udoma = self.env["supplier.backend"].create({"name": "Marketplace", "service": "udoma"})
        self.assertFalse(udoma.can_sync_offers)

    def test_buyer_without_configuration_rights_reaches_offers_mappings_and_logs(self):
        buyer = new_test_user(
            self.env, "buyer_no_config",
            groups="base.group_user,purchase.group_purchase_user,stock.group_stock_user,"
            "supplier_connector.group_supplier_user",
        )
        visible = self.env["ir.ui.menu"].with_user(buyer)._visible_menu_ids()

        def reachable(menu):  # the menu and every menu above it are shown to the buyer
            return all(m.id in visible for m in self.env["ir.ui.menu"].browse(
                [int(i) for i in menu.parent_path.split("/") if i]
            ))

        actions = {
            menu.action.id for menu in self.env["ir.ui.menu"].browse(visible)
            if menu.action and reachable(menu)
        }
        for xmlid in ("action_supplier_offer", "action_supplier_product", "action_supplier_sync_log"):
            action = self.env.ref(f"supplier_connector.{xmlid}")
            self.assertIn(action.id, actions, f"{xmlid} has no menu the buyer can see")
        # The connections themselves stay under Configuration, for managers.
        config = self.env.ref("supplier_connector.menu_supplier_backend_purchase")
        self.assertFalse(reachable(config))
        # And the buyer can open what the menus lead to.
        self.env["supplier.offer"].with_user(buyer).search([], limit=1)
        self.env["supplier.sync.log"].with_user(buyer).search([], limit=1)
        self.env["supplier.product"].with_user(buyer).search([], limit=1)

    def test_button_notifications_reload_the_record_not_a_blank_form(self):
        action = self.env["supplier.sync.log"].create(
            {"backend_id": self.etm.id, "operation": "sync_offers", "trigger": "manual"}
        )._notification()
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})
        action = self.etm._notify("hello")
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})


@tagged("post_install", "-at_install")
class TestButtonsSayWhatHappened(EtmCase):
    product_count = 2

    def test_test_connection_without_credentials_asks_for_them_and_sends_nothing(self):
        self.backend.write({"login": False, "password": False})
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("Enter the credentials", action["params"]["message"])
        self.assertEqual(self.emulator.requests, [])

    def test_reset_session_confirms(self):
        self.backend.action_test_connection()
        action = self.backend.action_reset_session()
        self.assertEqual(action["params"]["type"], "success")
        self.assertFalse(self.backend.sudo().session_token)

    def test_a_product_the_supplier_does_not_know_is_not_a_green_success(self):
        self.binding_of(self.codes[0]).external_code = "99999999"
        action = self.products[0].action_supplier_sync()
        self.assertEqual(self.binding_of("99999999").sync_state, "not_found")
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("99999999", action["params"]["message"])
