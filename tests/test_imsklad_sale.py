import json
from datetime import datetime

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .imsklad_common import ImskladCase


def unix(moment):
    """Unix timestamp of a naive UTC datetime."""
    return int((moment - datetime(1970, 1, 1)).total_seconds())


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

    def test_update_refused_after_shipping_is_not_a_success(self):
        order = self.make_order()
        order.action_supplier_send()
        self.emulator.set_order_status(order.name, 9)
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "warning", action["params"]["message"])
        self.assertIn("left the warehouse", order.supplier_order_ids.last_error)
        self.assertEqual(order.supplier_order_ids.state, "sent", "the order is still there")

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


@tagged("post_install", "-at_install")
class TestImskladOrderPayload(ImskladCase):
    """What add_order carries from Odoo, exactly as the emulator received it; the delivery
    method's mapping; the GUID; the lines the warehouse did not update."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({
            "name": "Ivan Petrov", "email": "ivan@example.com", "phone": "+7 900 000 00 00",
            "mobile": "+7 911 111 11 11", "city": "Moscow", "street": "Minskaya 18",
            "street2": "flat 2", "zip": "123321",
            "partner_latitude": 55.741688, "partner_longitude": 37.48384,
        })
        shipping = cls.env["product.product"].create({
            "name": "CDEK delivery", "type": "service", "taxes_id": [(5, 0, 0)],
            "list_price": 0.0,
        })
        cls.carrier = cls.env["delivery.carrier"].create({
            "name": "CDEK to a pickup point", "product_id": shipping.id,
            "delivery_type": "fixed", "fixed_price": 300.0,
            "imsklad_delivery_type": "16", "imsklad_courier": "7",
            "imsklad_pickup_point_required": True,
        })
        cls.tags = cls.env["crm.tag"].create([{"name": "call"}, {"name": "nosms"}])

    def make_order(self, **values):
        order = self.env["sale.order"].create({
            "partner_id": self.customer.id,
            "warehouse_id": self.warehouse.id,
            "order_line": [
                (0, 0, {"product_id": self.products[0].id, "product_uom_qty": 2,
                        "price_unit": 150.0, "discount": 10.0, "tax_id": [(5, 0, 0)]}),
                (0, 0, {"product_id": self.products[1].id, "product_uom_qty": 1,
                        "price_unit": 200.0, "tax_id": [(5, 0, 0)]}),
            ],
            **values,
        })
        return order

    def sent(self, action):
        """The ``data`` of every request of ``action`` the emulator received, in order."""
        bodies = [json.loads(request.body) for request in self.emulator.requests]
        return [body["data"] for body in bodies if body.get("action") == action]

    def sent_data(self, action):
        return self.sent(action)[-1]

    def test_payload_has_every_field(self):
        order = self.make_order(
            tag_ids=[(6, 0, self.tags.ids)],
            commitment_date=datetime(2026, 12, 1, 10, 0),  # 13:00 in Moscow
        )
        # A global discount line (negative price) is a discount, not a good.
        self.env["sale.order.line"].create({
            "order_id": order.id, "product_id": self.products[2].id, "product_uom_qty": 1,
            "price_unit": -20.0, "tax_id": [(5, 0, 0)],
        })
        order.set_delivery_line(self.carrier, 300.0)
        order.action_confirm()
        order.picking_ids.scheduled_date = datetime(2026, 11, 30, 8, 0)
        # Paid 100 on a posted invoice.
        invoice = order._create_invoices()
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids,
        ).create({"amount": 100.0}).action_create_payments()
        self.assertEqual(invoice.amount_residual, invoice.amount_total - 100.0)
        # The carrier delivers to a pickup point: refused in plain words until there is one.
        order.action_supplier_send()
        self.assertIn("pickup point", order.supplier_order_ids.last_error)
        self.assertNotIn("add_order", self.actions())
        order.imsklad_pickup_point = "PVZ-77"
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        row = order.supplier_order_ids
        self.assertRegex(row.imsklad_guid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        data = self.sent_data("add_order")
        day_start = unix(datetime(2026, 11, 30, 21, 0))  # 1 December, 00:00 in Moscow
        self.assertEqual(data, {
            "id": order.name,
            "storage_id": 1,
            "name": "Ivan Petrov",
            "discount": 50.0,  # 10 % of 2 × 150 and the −20 line
            "delivery": 300.0,
            "total_paid": 100.0,
            "guid": row.imsklad_guid,
            "tags": "call,nosms",
            "email": "ivan@example.com",
            "phone": "+7 900 000 00 00",
            "phone2": "+7 911 111 11 11",
            "post_code": "123321",
            "address": "123321, Moscow, Minskaya 18, flat 2",
            "address_lat": 55.741688,
            "address_lng": 37.48384,
            "delivery_type": 16,
            "courier": 7,
            "delivery_date_from": day_start,
            "delivery_date_to": day_start + 86399,
            "shipment_date": unix(datetime(2026, 11, 30, 8, 0)),
            "pickup_point": "PVZ-77",
            "address_obj": {"city": "Moscow", "street": "Minskaya 18", "room": "flat 2"},
            "goods": [{"id": "SHOP-0", "quantity": 2, "price": 150.0},
                      {"id": "SHOP-1", "quantity": 1, "price": 200.0}],
        })
        # Goods + delivery − discount is the order's total.
        self.assertEqual(300.0 + 200.0 + 300.0 - 50.0, order.amount_total)
        stored = self.emulator.orders[order.name]
        self.assertEqual((stored.guid, stored.fields["courier"]), (row.imsklad_guid, 7))

    def test_delivery_method_mapping_is_checked(self):
        with self.assertRaisesRegex(ValidationError, "does not serve the delivery type"):
            self.carrier.write({"imsklad_delivery_type": "62", "imsklad_courier": "7"})
        with self.assertRaisesRegex(ValidationError, "choose the IMSKLAD delivery type"):
            self.carrier.write({"imsklad_delivery_type": False, "imsklad_courier": "32"})
        self.carrier.write({"imsklad_delivery_type": "4", "imsklad_courier": "42"})
        self.assertEqual(self.carrier.imsklad_courier, "42")
        # The form proposes the only courier of a type.
        form_carrier = self.env["delivery.carrier"].new({"imsklad_delivery_type": "62"})
        form_carrier._onchange_imsklad_delivery_type()
        self.assertEqual(form_carrier.imsklad_courier, "32")
        # A mapping that got past the form (an import, SQL) stops the send, in plain words.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE delivery_carrier SET imsklad_delivery_type = '62', imsklad_courier = '7' "
            "WHERE id = %s", [self.carrier.id])
        self.carrier.invalidate_recordset()
        order = self.make_order(imsklad_pickup_point="PVZ-1")
        order.set_delivery_line(self.carrier, 300.0)
        order.action_confirm()
        order.action_supplier_send()
        self.assertIn("does not serve the delivery type BoxBerry (62)",
                      order.supplier_order_ids.last_error)
        self.assertIn("does not serve", order.message_ids[0].body)
        self.assertNotIn("add_order", self.actions())

    def test_guid_stable_across_retries_and_updates(self):
        self.backend.action_push_products()
        order = self.make_order()
        order.action_confirm()
        self.emulator.set_fault("fatal_error", count=1)  # not carried out
        order.action_supplier_send()
        row = order.supplier_order_ids
        guid = row.imsklad_guid
        self.assertEqual(row.state, "sending")
        self.assertTrue(guid)
        self.emulator.clear_faults()
        order.action_supplier_send()
        self.assertEqual(row.state, "sent")
        self.assertEqual(row.imsklad_guid, guid)
        adds = [data["guid"] for data in self.sent("add_order")]
        self.assertEqual(adds, [guid, guid], "the retry sent the same GUID")
        self.assertEqual(self.emulator.orders[order.name].guid, guid)
        order.order_line[1].product_uom_qty = 2
        order.action_supplier_send()
        self.assertEqual(self.actions()[-1], "update_order")
        self.assertNotIn("guid", self.sent_data("update_order"), "update_order has no guid")
        self.assertEqual(row.imsklad_guid, guid)
        self.assertEqual(self.emulator.orders[order.name].guid, guid)

    def test_lines_not_updated_in_assembly_are_flagged_then_cleared(self):
        order = self.make_order()
        order.action_confirm()
        order.action_supplier_send()
        first, second = order.order_line
        self.emulator.set_order_status(order.name, 3)
        first.write({"product_uom_qty": 3, "price_unit": 150.0, "discount": 10.0})
        self.customer.phone = "+7 900 555 55 55"
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual((first.imsklad_not_updated, second.imsklad_not_updated), (True, False))
        self.assertIn("[SHOP-0] Shop good 0: 2 × 150.0 → 3 × 150.0", order.supplier_warning)
        self.assertNotIn("Shop good 1", order.supplier_warning)
        stored = self.emulator.orders[order.name]
        self.assertEqual(stored.goods[0]["quantity"], 2, "the warehouse kept its goods")
        self.assertEqual(stored.fields["phone"], "+7 900 555 55 55", "and took the phone")
        # Still in assembly, one more change: both lines flagged against what it holds.
        second.write({"price_unit": 210.0})
        order.action_supplier_send()
        self.assertEqual((first.imsklad_not_updated, second.imsklad_not_updated), (True, True))
        # Back to "new" at the warehouse: the next update is accepted and the flags go.
        self.emulator.set_order_status(order.name, 0)
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertFalse(order.order_line.filtered("imsklad_not_updated"))
        self.assertFalse(order.supplier_warning)
        self.assertEqual([line["quantity"] for line in stored.goods], [3, 1])
        self.assertEqual(order.supplier_order_ids.imsklad_accepted["lines"][str(first.id)][1], 3)
