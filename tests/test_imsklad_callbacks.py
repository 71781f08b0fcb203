import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .imsklad_common import ImskladMixin


@tagged("post_install", "-at_install")
class TestImskladCallbacks(ImskladMixin, HttpCase):
    """IMSKLAD's calls through Odoo's HTTP layer: key first, stored once, processed once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_imsklad()
        cls.backend.imsklad_validate_on_ship = True
        cls.customer = cls.env["res.partner"].create({
            "name": "Anna Smirnova", "city": "Kazan", "street": "Baumana 5", "zip": "420111",
        })
        cls.vendor = cls.env["res.partner"].create({
            "name": "Textile Mill", "supplier_rank": 1, "email": "mill@example.com",
        })
        cls.products[0].seller_ids = [(0, 0, {"partner_id": cls.vendor.id, "price": 40})]

    def setUp(self):
        super().setUp()
        self.emulator = self.start_imsklad()
        self.url = self.base_url() + f"/supplier_connector/imsklad/{self.backend.imsklad_callback_token}"
        self.key = self.backend.imsklad_callback_key

    def post(self, type_, action, data, key=None, url=None):
        body = {"key": self.key if key is None else key, "type": type_, "action": action,
                "data": data}
        response = self.url_open(url or self.url, data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
        return response.status_code, response.json()

    def events(self):
        return self.env["supplier.event"].search([("backend_id", "=", self.backend.id)])

    def sent_order(self):
        order = self.env["sale.order"].create({
            "partner_id": self.customer.id,
            "warehouse_id": self.warehouse.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1,
                                   "price_unit": 120.0}) for product in self.products[:2]],
        })
        order.action_confirm()
        order.action_supplier_send()
        self.assertEqual(order.supplier_order_ids.state, "sent")
        return order

    def test_wrong_key_or_url_refused_nothing_stored(self):
        order = self.sent_order()
        status, answer = self.post("order", "set_status",
                                   {"id": order.name, "old_status": 0, "new_status": 2,
                                    "system_id": 1}, key="not-the-key")
        self.assertEqual((status, answer["code"]), (403, 4))
        status, answer = self.post("order", "set_status", {"id": order.name},
                                   url=self.base_url() + "/supplier_connector/imsklad/nope")
        self.assertEqual(status, 403)
        self.assertFalse(self.events())
        self.assertFalse(order.supplier_status)

    def test_set_status_applied_once(self):
        order = self.sent_order()
        row = order.supplier_order_ids
        data = {"id": order.name, "old_status": 0, "new_status": 2,
                "system_id": int(row.external_id), "guid": None}
        notes = len(order.message_ids)
        status, answer = self.post("order", "set_status", data)
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        self.assertEqual(order.supplier_status_code, 2)
        self.assertEqual(order.supplier_status, "Being picked")
        self.assertEqual(row.status_label, "Being picked")
        self.assertEqual(len(order.message_ids), notes + 1)
        self.assertIn("Being picked", order.message_ids[0].body)
        event = self.events()
        self.assertEqual((event.kind, event.state, event.reference),
                         ("order.set_status", "done", order.name))
        self.assertNotIn(self.key, json.dumps(event.payload))
        # The same call again: the same answer, no second effect.
        status, answer = self.post("order", "set_status", data)
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(len(order.message_ids), notes + 1)

    def test_walk_shipped_validates_delivery_and_sets_tracking(self):
        order = self.sent_order()
        self.env.flush_all()
        calls = self.emulator.callback_walk(order.name, url=self.url, key=self.key,
                                            statuses=(2, 9, 11))
        self.env.invalidate_all()
        self.assertEqual([call.status for call in calls], [200] * len(calls),
                         [call.answer for call in calls])
        self.assertEqual([call.answer for call in calls], [{"result": "ok"}] * len(calls))
        self.assertEqual(order.supplier_status_code, 11)
        picking = order.picking_ids
        self.assertEqual(picking.state, "done", "status 9 validated the delivery")
        self.assertEqual(picking.move_ids.mapped("quantity"), [1.0, 1.0])
        track = self.emulator.orders[order.name].track
        self.assertTrue(track)
        self.assertEqual(picking.carrier_tracking_ref, track)
        self.assertEqual(order.supplier_order_ids.tracking_ref, track)
        self.assertEqual(set(self.events().mapped("state")), {"done"})

    def test_unknown_order_and_method(self):
        status, answer = self.post("order", "set_status",
                                   {"id": "S-NOPE", "old_status": 0, "new_status": 1,
                                    "system_id": 5})
        self.assertEqual((status, answer["code"]), (200, 2))
        self.assertEqual(self.events().state, "error")
        status, answer = self.post("order", "explode", {})
        self.assertEqual(answer["code"], 3)
        self.assertEqual(len(self.events()), 1, "a malformed call is not stored")
        # The cron tries the failed event again (still unknown: still an error, one more try).
        self.env["supplier.event"]._cron_retry_errors()
        self.assertEqual(self.events().attempts, 2)

    def test_questions_answered_from_odoo(self):
        self.backend.action_push_products()
        binding = self.bindings[0]
        status, answer = self.post("good", "get_good", {"id": binding.external_id})
        self.assertEqual(status, 200)
        self.assertEqual((answer["id"], answer["name"], answer["price"]),
                         (binding.external_id, "Shop good 0", 100.0))
        self.assertEqual(answer["weight"], 250)
        status, answer = self.post("good", "get_good_suppliers", {"id": "SHOP-0"})
        self.assertEqual([s["name"] for s in answer], ["Textile Mill"])
        status, answer = self.post("supplier", "get_supplier", {"id": str(self.vendor.id)})
        self.assertEqual((answer["name"], answer["email"]), ("Textile Mill", "mill@example.com"))
        status, answer = self.post("supplier", "get_suppliers", {})
        self.assertIn(str(self.vendor.id), [s["id"] for s in answer])
        status, answer = self.post("good", "get_good", {"id": "NOPE"})
        self.assertEqual(answer["code"], 2)

    def test_other_calls_kept_for_a_person(self):
        order = self.sent_order()
        self.env.flush_all()
        call = self.emulator.callback_update_order(order.name, url=self.url, key=self.key,
                                                   address="Kazan, Kremlin 1")
        self.env.invalidate_all()
        self.assertEqual(call.status, 200)
        self.assertEqual(call.answer, {"result": "ok", "id": order.name})
        event = self.events()
        self.assertEqual((event.kind, event.state), ("order.update_order", "done"))
        self.assertIn("Kazan, Kremlin 1", order.message_ids[0].body)
        # A call Odoo does not process yet is kept for a person and acknowledged.
        status, answer = self.post("order", "send_act_to_boxberry", [order.name])
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        kept = self.events().filtered(lambda e: e.kind == "order.send_act_to_boxberry")
        self.assertEqual(kept.state, "ignored")
        self.assertTrue(kept.error)

    def test_set_pay_posted_and_event_retry_rights(self):
        order = self.sent_order()
        status, answer = self.post("order", "set_pay", {"id": order.name, "amount": 240})
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        self.assertIn("240", order.message_ids[0].body)
        event = self.events()
        self.assertEqual(event.state, "done")
        plain = self.env["res.users"].create({"name": "Plain", "login": "sc_imsk_cb_plain"})
        with self.assertRaises(AccessError):
            event.with_user(plain).action_retry()
