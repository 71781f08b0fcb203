"""UDOMA: marketplace orders pulled into sale orders exactly once; who may do what."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.sync_run import SyncRun
from ..models.udoma_orders import SupplierUdomaOrders
from .rights_common import JsonRpc, RightsUsers
from .udoma_common import UdomaCase, UdomaMixin


def order(order_id, shop, ticket, when, positions, payment="terminal", **extra):
    return {"orderId": order_id, "shopSourceSystemId": shop, "ticketNumber": ticket,
            "dateUtc": when, "paymentMethod": payment, **extra,
            "positions": [{"nomenclatureSourceSystemId": code, "itemsCount": qty,
                           "purchasePrice": price} for code, qty, price in positions]}


@tagged("post_install", "-at_install")
class TestUdomaOrders(UdomaCase):

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now().replace(microsecond=0)
        self.emulator.orders = []
        for data in (
            order("o-1", "s001", "00037", self.now - timedelta(hours=5),
                  [("UD-1", 2, 123.32), ("UD-2", 3, 70)]),
            order("o-2", "s002", "00021", self.now - timedelta(hours=4),
                  [("UD-2", 1, 70)], payment="cash"),
            order("o-3", "s001", "00038", self.now - timedelta(hours=2),
                  [("UD-3", 1, 450), ("UD-GONE", 2, 199.9)], deliveryCost=150),
        ):
            self.emulator.add_order(data)
        self.shop_customer = self.env["res.partner"].create({"name": "Mira shop customer"})
        self.shop2.udoma_partner_id = self.shop_customer

    def udoma_orders(self):
        return self.env["sale.order"].search(
            [("udoma_backend_id", "=", self.backend.id)], order="client_order_ref"
        )

    def pull(self, now=None):
        return self.env["supplier.udoma.orders"]._pull(self.backend, "manual", now=now)

    def test_orders_become_sale_orders(self):
        self.backend.action_pull_orders()
        log = self.last_log("pull_orders")
        orders = self.udoma_orders()
        self.assertEqual(orders.mapped("client_order_ref"), ["00021", "00037", "00038"])
        o21, o37, o38 = orders
        self.assertEqual(o37.partner_id, self.marketplace)
        self.assertEqual(o21.partner_id, self.shop_customer, "the shop's own customer")
        self.assertEqual((o37.udoma_shop_id, o37.warehouse_id), (self.shop1, self.warehouse))
        self.assertEqual(o21.warehouse_id, self.warehouse2)
        self.assertEqual(o37.date_order, self.now - timedelta(hours=5))
        self.assertEqual((o37.udoma_payment_method, o21.udoma_payment_method), ("terminal", "cash"))
        self.assertEqual(o37.udoma_order_id, "o-1")
        self.assertEqual(
            [(line.product_id, line.product_uom_qty) for line in o37.order_line],
            [(self.products[0], 2), (self.products[1], 3)],
        )
        # The price as bought is what the buyer paid, taxes included.
        self.assertTrue(o37.order_line.tax_id, "the products have sales taxes")
        self.assertAlmostEqual(o37.amount_total, 2 * 123.32 + 3 * 70, delta=0.02)
        self.assertAlmostEqual(o38.amount_total, 450 + 150, delta=0.02)
        delivery = o38.order_line.filtered("is_delivery")
        self.assertEqual((delivery.price_unit, delivery.product_id),
                         (150, self.env.ref("supplier_connector.product_udoma_delivery")))
        # The unknown product is kept on the order, in the chatter and in the log.
        note = o38.order_line.filtered(lambda line: line.display_type == "line_note")
        self.assertIn("UD-GONE", note.name)
        self.assertIn("2", note.name)
        self.assertEqual(o38.udoma_unknown_lines, "UD-GONE")
        self.assertIn("UD-GONE", o38.message_ids[0].body)
        self.assertEqual(log.line_ids.mapped("error_code"), ["unknown_products"])
        self.assertIn("UD-GONE", log.line_ids.message)
        self.assertEqual(log.created, 3)
        self.assertTrue(all(o.state == "draft" for o in orders))
        self.assertTrue(self.shop1.udoma_orders_until and self.shop2.udoma_orders_until)
        # The window asked: (now − 30 days, now], from exclusive, to inclusive.
        bodies = self.sent("export-orders")
        self.assertEqual(sorted(b["shopSourceSystemId"] for b in bodies), ["s001", "s002"])
        self.assertTrue(all(b["dateToUtc"].endswith("+00:00") for b in bodies))

    def test_same_window_twice_creates_nothing_twice(self):
        when = self.now
        self.pull(now=when)
        (self.shop1 | self.shop2).udoma_orders_until = when - timedelta(days=1)
        log = self.pull(now=when)
        self.assertEqual(len(self.udoma_orders()), 3)
        self.assertEqual((log.created, log.unchanged), (0, 3))

    def test_overlapping_windows_create_each_order_once(self):
        first = self.now - timedelta(hours=3)
        self.pull(now=first)
        self.assertEqual(self.udoma_orders().mapped("client_order_ref"), ["00021", "00037"])
        self.assertEqual(self.shop1.udoma_orders_until, first)
        self.emulator.add_order(order("o-4", "s001", "00039", self.now - timedelta(hours=1),
                                      [("UD-4", 1, 99)]))
        # The next window starts before the first one ended.
        self.shop1.udoma_orders_until = first - timedelta(hours=3)
        log = self.pull(now=self.now)
        self.assertEqual(self.udoma_orders().mapped("client_order_ref"),
                         ["00021", "00037", "00038", "00039"])
        self.assertEqual((log.created, log.unchanged), (2, 1))

    def test_crash_between_create_and_watermark_creates_nothing_twice(self):
        # Orders created, then the run died before the shops' watermarks were saved.
        run_orders = [o for o in self.env["supplier.backend"].sudo().browse(self.backend.id)
                      ._adapter().export_orders("s001", self.now - timedelta(days=1), self.now)]
        run = SyncRun(self.env, self.backend.sudo(), "pull_orders", "manual")
        self.env["supplier.udoma.orders"]._import_orders(self.backend.sudo(), self.shop1, run_orders, run)
        self.assertEqual(len(self.udoma_orders()), 2)
        self.assertFalse(self.shop1.udoma_orders_until)
        log = self.pull()
        self.assertEqual(self.udoma_orders().mapped("client_order_ref"), ["00021", "00037", "00038"])
        self.assertEqual((log.created, log.unchanged), (1, 2))

    def test_a_failed_order_keeps_the_window_open(self):
        original = SupplierUdomaOrders._create_order

        def fail_o3(self_, backend, shop, partner, data, products, delivery):
            if data.order_id == "o-3":
                raise ValueError("disk full")
            return original(self_, backend, shop, partner, data, products, delivery)

        with patch.object(SupplierUdomaOrders, "_create_order", fail_o3):
            log = self.pull(now=self.now)
        self.assertEqual(self.udoma_orders().mapped("client_order_ref"), ["00021", "00037"])
        self.assertFalse(self.shop1.udoma_orders_until, "s001's window was not fully processed")
        self.assertEqual(self.shop2.udoma_orders_until, self.now)
        self.assertIn("00038", log.line_ids.filtered(lambda line: line.error_code == "order_failed").message)
        self.pull(now=self.now)
        self.assertEqual(len(self.udoma_orders()), 3)
        self.assertEqual(self.shop1.udoma_orders_until, self.now)

    def test_orders_confirmed_automatically_when_asked(self):
        self.backend.udoma_confirm_orders = True
        self.backend.action_pull_orders()
        self.assertEqual(set(self.udoma_orders().mapped("state")), {"sale"})

    def test_orders_belong_to_the_connections_salesperson_and_team(self):
        seller = new_test_user(self.env, "sc_udoma_seller", groups="sales_team.group_sale_salesman")
        team = self.env["crm.team"].create({"name": "Marketplace"})
        self.backend.write({"udoma_user_id": seller.id, "udoma_team_id": team.id})
        # The scheduled pull runs as OdooBot: the orders are still the seller's.
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "pull_orders")
        schedule._run_once(self.env["supplier.sync.engine"])
        orders = self.udoma_orders()
        self.assertEqual(len(orders), 3)
        self.assertEqual(set(orders.mapped("user_id")), {seller})
        self.assertEqual(set(orders.mapped("team_id")), {team})
        # What the seller's "My Quotations" filter shows.
        mine = self.env["sale.order"].with_user(seller).search([("user_id", "=", seller.id)])
        self.assertEqual(mine, orders)

    def test_salesperson_defaults_to_the_creator_never_odoobot(self):
        odoobot = self.env.ref("base.user_root")
        # Made by OdooBot (the fixture): no default salesperson, and the orders get none.
        self.assertFalse(self.backend.udoma_user_id)
        self.pull()
        self.assertFalse(self.udoma_orders().user_id)
        self.assertNotIn(odoobot, self.udoma_orders().mapped("user_id"))
        # Made by a person: they are the salesperson.
        manager = new_test_user(
            self.env, "sc_udoma_admin",
            groups="base.group_system,supplier_connector.group_supplier_manager,"
            "sales_team.group_sale_manager",
        )
        backend = self.env["supplier.backend"].with_user(manager).create({
            "name": "UDOMA by a person", "service": "udoma", "partner_id": self.marketplace.id,
        })
        self.assertEqual(backend.udoma_user_id, manager)
        # Emptied again: the creator's orders still.
        backend.udoma_user_id = False
        self.assertEqual(backend.sudo()._udoma_order_owner_values(), {"user_id": manager.id})

    def test_scheduled_pull(self):
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "pull_orders")
        schedule._run_once(self.env["supplier.sync.engine"])
        self.assertEqual(len(self.udoma_orders()), 3)
        self.assertEqual(schedule.last_log_id.trigger, "cron")

    def test_regenerated_key_stops_the_pull_in_plain_words(self):
        self.emulator.regenerate_key()
        self.backend.action_pull_orders()
        log = self.last_log("pull_orders")
        self.assertEqual(log.state, "failed")
        self.assertIn("regenerated", log.message)
        self.assertEqual(len(self.sent("export-orders")), 1)
        self.assertFalse(self.shop1.udoma_orders_until)
        self.assertFalse(self.udoma_orders())

    def test_test_connection_proves_the_key(self):
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertEqual(self.sent("export-orders")[0]["shopSourceSystemId"], "s001")
        self.assertEqual([b["shopAssortment"] for b in self.sent("import-assortment")], [[], []])
        self.emulator.bind_shop("s002", bound=False)
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("Mira (s002)", result["params"]["message"])
        self.emulator.regenerate_key()
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("regenerated", result["params"]["message"])


@tagged("post_install", "-at_install")
class TestUdomaRights(UdomaCase, RightsUsers):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.salesman_user = new_test_user(
            cls.env, "sc_udoma_sales",
            groups="base.group_user,supplier_connector.group_supplier_user,"
                   "sales_team.group_sale_salesman_all_leads",
        )

    def test_buttons_refuse_who_may_not_call_them(self):
        backend = self.backend
        for who in (self.plain, self.connector_user, self.foreign_manager):
            for method in ("action_push_products", "action_push_assortment",
                           "action_udoma_push_products_full", "action_udoma_push_assortment_full"):
                with self.subTest(user=who.login, method=method), self.assertRaises(AccessError):
                    getattr(backend.with_user(who), method)()
        for who in (self.plain, self.manager, self.foreign_manager):
            with self.subTest(user=who.login), self.assertRaises(AccessError):
                backend.with_user(who).action_pull_orders()
        self.assertFalse(self.emulator.requests)
        # A connector user who may create sale orders pulls them.
        backend.with_user(self.salesman_user).action_pull_orders()
        self.assertEqual(len(self.sent("export-orders")), 2)

    def test_api_key_is_for_system_administrators_only(self):
        for who in (self.connector_user, self.manager):
            with self.subTest(user=who.login), self.assertRaises(AccessError):
                self.backend.with_user(who).read(["api_key"])
        self.assertEqual(self.backend.with_user(self.admin).api_key, self.backend.sudo().api_key)


@tagged("post_install", "-at_install")
class TestUdomaRightsOverRpc(UdomaMixin, RightsUsers, JsonRpc, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_udoma()
        cls.create_rights_users()

    def setUp(self):
        super().setUp()
        self.emulator = self.start_udoma()

    def test_json_rpc_refuses_the_buttons_and_the_key(self):
        ids = [self.backend.ids]
        for method in ("action_push_products", "action_push_assortment"):
            self.assertRefused(self.call_kw(self.connector_user, "supplier.backend", method, ids))
        self.assertRefused(self.call_kw(self.manager, "supplier.backend", "action_pull_orders", ids))
        self.assertRefused(self.call_kw(self.manager, "supplier.backend", "read",
                                        [self.backend.ids, ["api_key"]]))
        self.assertFalse(self.emulator.requests, "nothing reached UDOMA")
        result, error = self.call_kw(self.manager, "supplier.backend", "action_push_products", ids)
        self.assertFalse(error, error and error["message"])
        self.assertTrue(self.sent("import-nomenclature"))
