from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .imsklad_common import ImskladCase


@tagged("post_install", "-at_install")
class TestImskladSaleOrders(ImskladCase):
    """Sale orders of the IMSKLAD warehouse: sent once, changes by update, never twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({
            "name": "Ivan Petrov", "email": "ivan@example.com", "phone": "+7 900 000 00 00",
            "city": "Moscow", "street": "Tverskaya 1", "zip": "125009",
        })
        cls.salesman = new_test_user(
            cls.env, "sc_imsk_sales",
            groups="sales_team.group_sale_salesman,supplier_connector.group_supplier_user",
        )
        cls.plain = new_test_user(cls.env, "sc_imsk_plain", groups="base.group_user")

    def make_order(self, qty=2, user=None):
        order = self.env["sale.order"].create({
            "partner_id": self.customer.id,
            "warehouse_id": self.warehouse.id,
            "user_id": (user or self.env.user).id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": qty,
                                   "price_unit": 150.0}) for product in self.products[:2]],
        })
        order.action_confirm()
        return order

    def test_send_once_then_changes_by_update(self):
        order = self.make_order()
        self.assertEqual(order.supplier_backend_id, self.backend)
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.actions(), ["add_good", "add_good", "add_order"],
                         "the missing goods first, then the order")
        sent = self.emulator.orders[order.name]
        self.assertEqual([line["id"] for line in sent.goods], ["SHOP-0", "SHOP-1"])
        self.assertEqual(sent.fields["name"], "Ivan Petrov")
        self.assertEqual(sent.fields["email"], "ivan@example.com")
        row = order.supplier_order_ids
        self.assertEqual((row.state, row.key), ("sent", order.name))
        self.assertEqual(row.external_id, str(sent.system_id))
        self.assertIn("sent to the warehouse", order.message_ids[0].body)
        # Pressed again: the changes go by update_order, never a second order.
        self.emulator.reset()
        order.action_supplier_send()
        self.assertEqual(self.actions(), ["update_order"])
        self.assertEqual(len(self.emulator.orders), 1)

    def test_update_in_assembly_warns_in_plain_words(self):
        order = self.make_order()
        order.action_supplier_send()
        self.emulator.set_order_status(order.name, 3)
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("already assembling", order.supplier_warning)
        self.assertIn("already assembling", order.supplier_order_ids.warning)

    def test_lost_answer_is_adopted_not_resent(self):
        self.backend.action_push_products()
        order = self.make_order()
        self.emulator.reset()
        # add_order carried out, its answer lost.
        self.emulator.set_fault("fatal_error", count=1, processed=True)
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "warning")
        row = order.supplier_order_ids
        self.assertEqual(row.state, "sending")
        self.assertIn("no answer", order.message_ids[0].body)
        self.emulator.clear_faults()
        self.emulator.reset()
        order.action_supplier_send()
        self.assertEqual(self.actions(), ["update_order"], "looked up, not sent again")
        self.assertEqual(row.state, "sent")
        self.assertEqual(row.external_id, str(self.emulator.orders[order.name].system_id))
        self.assertEqual(len(self.emulator.orders), 1)

    def test_lost_request_is_sent_again(self):
        self.backend.action_push_products()
        order = self.make_order()
        self.emulator.set_fault("fatal_error", count=1)  # not carried out
        order.action_supplier_send()
        self.assertEqual(order.supplier_order_ids.state, "sending")
        self.assertFalse(self.emulator.orders)
        self.emulator.clear_faults()
        self.emulator.reset()
        order.action_supplier_send()
        self.assertEqual(self.actions(), ["update_order", "add_order"])
        self.assertEqual(order.supplier_order_ids.state, "sent")
        self.assertEqual(len(self.emulator.orders), 1)

    def test_sales_user_sends_but_cannot_read_keys(self):
        order = self.make_order(user=self.salesman)
        action = order.with_user(self.salesman).action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(len(self.emulator.orders), 1)
        backend = self.backend.with_user(self.salesman)
        for secret in ("api_key", "imsklad_callback_key", "imsklad_callback_token",
                       "imsklad_callback_url"):
            with self.assertRaises(AccessError):
                backend.read([secret])
        with self.assertRaises(AccessError):
            backend.action_imsklad_regenerate_callback_key()
        with self.assertRaises(AccessError):
            backend.action_push_products()

    def test_plain_user_refused(self):
        order = self.make_order()
        with self.assertRaises(AccessError):
            order.with_user(self.plain).action_supplier_send()
        self.assertFalse(self.emulator.requests)

    def test_confirmation_sends_when_the_connection_says_so(self):
        self.backend.imsklad_send_on_confirm = True
        order = self.make_order()
        self.assertEqual(order.supplier_order_ids.state, "sent")
        self.assertIn(order.name, self.emulator.orders)
        # A warehouse that does not answer never blocks a confirmation.
        self.emulator.set_fault("fatal_error", count=None)
        other = self.make_order()
        self.assertEqual(other.state, "sale")
        self.assertEqual(other.supplier_order_ids.state, "sending")

    def test_cancel_goes_to_the_warehouse(self):
        order = self.make_order()
        order.action_supplier_send()
        self.emulator.reset()
        order._action_cancel()
        self.assertEqual(self.actions(), ["update_order"])
        self.assertEqual(self.emulator.orders[order.name].status, 10)

    def test_stock_comparison_rights(self):
        self.backend.action_push_products()
        self.emulator.set_stock("SHOP-0", stock=4, reserved=0)
        with self.assertRaises(AccessError):
            self.backend.with_user(self.plain).action_imsklad_compare_stock()
        action = self.backend.with_user(self.salesman).action_imsklad_compare_stock()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids), 1)
        with self.assertRaises(AccessError):
            wizard.with_user(self.salesman).action_apply()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.salesman).action_pull_billing()

    def test_salesman_without_connector_rights_confirms_and_reads(self):
        self.backend.imsklad_send_on_confirm = True
        seller = new_test_user(self.env, "sc_imsk_seller", groups="sales_team.group_sale_salesman")
        order = self.env["sale.order"].with_user(seller).create({
            "partner_id": self.customer.id,
            "warehouse_id": self.warehouse.id,
            "order_line": [(0, 0, {"product_id": self.products[0].id, "product_uom_qty": 1})],
        })
        order.action_confirm()
        self.assertEqual(order.sudo().supplier_order_ids.state, "sent")
        values = order.web_read({name: {} for name in (
            "supplier_can_send", "supplier_status", "supplier_warning", "supplier_state")})
        self.assertTrue(values[0]["supplier_can_send"])
        self.assertEqual(values[0]["supplier_state"], "sent")
        with self.assertRaises(AccessError):
            order.action_supplier_send()
