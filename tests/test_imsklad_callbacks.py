import json
from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .imsklad_common import ImskladMixin
from .rights_common import JsonRpc, RightsUsers


def unix(moment):
    """Unix timestamp of a naive UTC datetime."""
    return int((moment - datetime(1970, 1, 1)).total_seconds())


@tagged("post_install", "-at_install")
class TestImskladCallbacks(ImskladMixin, RightsUsers, JsonRpc, HttpCase):
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
        # A salesperson who may send to the warehouse, and one who may not.
        cls.seller = new_test_user(
            cls.env, "sc_imsk_cb_seller", password=cls.password_of("sc_imsk_cb_seller"),
            groups="sales_team.group_sale_salesman,supplier_connector.group_supplier_user",
        )
        cls.seller_plain = new_test_user(
            cls.env, "sc_imsk_cb_noconn", password=cls.password_of("sc_imsk_cb_noconn"),
            groups="sales_team.group_sale_salesman",
        )

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

    def confirmed_order(self, user=None):
        order = self.env["sale.order"].create({
            "partner_id": self.customer.id,
            "warehouse_id": self.warehouse.id,
            "user_id": (user or self.seller).id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1,
                                   "price_unit": 120.0}) for product in self.products[:2]],
        })
        order.action_confirm()
        return order

    def sent_order(self):
        order = self.confirmed_order()
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
        # Signed by OdooBot, not by the public user the route runs as.
        self.assertEqual(order.message_ids[0].author_id, self.env.ref("base.partner_root"))
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

    def test_update_order_applied_or_posted_once(self):
        order = self.sent_order()
        picking = order.picking_ids
        self.emulator.orders[order.name].goods[0]["quantity"] = 3
        self.env.flush_all()
        call = self.emulator.callback_update_order(
            order.name, url=self.url, key=self.key, track="TRK-1", pickup_point="PVZ-9",
            delivery_date_from=unix(datetime(2026, 12, 5, 7, 0)),
            delivery_date_to=unix(datetime(2026, 12, 5, 15, 0)),
            shipment_date=unix(datetime(2026, 12, 4, 9, 0)), comment="Call before coming",
            address="Kazan, Kremlin 1", name="Anna S.",
        )
        self.env.invalidate_all()
        self.assertEqual((call.status, call.answer), (200, {"result": "ok", "id": order.name}))
        event = self.events()
        self.assertEqual((event.kind, event.state), ("order.update_order", "done"))
        # Delivery details applied.
        self.assertEqual(order.commitment_date, datetime(2026, 12, 5, 15, 0))
        self.assertEqual(picking.scheduled_date, datetime(2026, 12, 4, 9, 0))
        self.assertEqual(order.imsklad_pickup_point, "PVZ-9")
        self.assertEqual(picking.carrier_tracking_ref, "TRK-1")
        self.assertEqual(order.supplier_order_ids.tracking_ref, "TRK-1")
        self.assertIn("Warehouse, customer's comment: Call before coming", picking.note)
        # The rest posted for a person, old → new, and not applied.
        self.assertEqual(order.partner_shipping_id.name, "Anna Smirnova")
        self.assertEqual(order.order_line[0].product_uom_qty, 1)
        body = order.message_ids[0].body
        price = round(order.order_line[0].price_reduce_taxinc, 2)  # 120 and the demo tax
        for words in ("tracking number — → TRK-1", "pickup point — → PVZ-9",
                      "customer Anna Smirnova → Anna S.",
                      "address 420111, Kazan, Baumana 5 → Kazan, Kremlin 1",
                      f"[SHOP-0] Shop good 0: 1 × {price} → 3 × {price}"):
            self.assertIn(words, body)
        # The same call again: the same answer, no second effect.
        notes = len(order.message_ids)
        note = picking.note
        self.env.flush_all()
        again = self.emulator.callback_update_order(order.name, url=self.url, key=self.key)
        self.env.invalidate_all()
        self.assertEqual(again.answer, call.answer)
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(len(order.message_ids), notes)
        self.assertEqual(picking.note, note)
        # A later change: only what changed this time is posted.
        self.env.flush_all()
        self.emulator.callback_update_order(order.name, url=self.url, key=self.key,
                                            phone="+7 999 000 00 00")
        self.env.invalidate_all()
        self.assertEqual(len(order.message_ids), notes + 1)
        body = order.message_ids[0].body
        self.assertIn("phone — → +7 999 000 00 00", body)
        for words in ("Kremlin", "TRK-1", "Shop good 0", "commitment"):
            self.assertNotIn(words, body)

    def test_export_requests_recorded_once(self):
        order = self.sent_order()
        other = self.sent_order()
        status, answer = self.post("order", "send_to_cdek", [order.name])
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        activity = order.activity_ids
        self.assertEqual((activity.summary, activity.user_id), ("Export to CDEK", self.seller))
        self.assertIn("export this order to CDEK", order.message_ids[0].body)
        # Repeated, or asked again in another call: still one activity.
        self.assertEqual(self.post("order", "send_to_cdek", [order.name]), (200, {"result": "ok"}))
        self.post("order", "send_to_cdek", [{"id": other.name}, {"id": order.name}])
        self.assertEqual(len(order.activity_ids), 1)
        self.assertEqual(other.activity_ids.summary, "Export to CDEK")
        self.post("order", "send_to_boxberry", {"orders": [order.name]})
        self.post("order", "send_act_to_boxberry", [order.name])
        self.assertEqual(sorted(order.activity_ids.mapped("summary")),
                         ["BoxBerry shipping act", "Export to BoxBerry", "Export to CDEK"])
        self.assertIn("BoxBerry shipping act", order.message_ids[0].body)
        # An order whose id the warehouse no longer matches is found by the GUID we sent.
        guid = other.supplier_order_ids.imsklad_guid
        self.assertEqual(self.emulator.orders[other.name].guid, guid)
        self.post("order", "send_to_boxberry", [{"id": "S-RENAMED", "guid": guid}])
        self.assertIn("Export to BoxBerry", other.activity_ids.mapped("summary"))
        # All unknown: code 2 naming them; some unknown: ok, named on the event.
        status, answer = self.post("order", "send_to_boxberry", ["S-NOPE", "S-GONE"])
        self.assertEqual((status, answer["code"]), (200, 2))
        self.assertIn("S-NOPE, S-GONE", answer["error"])
        status, answer = self.post("order", "send_act_to_boxberry", [other.name, "S-GONE"])
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        event = self.events().filtered(lambda e: e.reference == f"{other.name},S-GONE")
        self.assertEqual(event.state, "done")
        self.assertIn("S-GONE", event.error)
        self.assertIn("BoxBerry shipping act", other.activity_ids.mapped("summary"))

    def test_send_rights_over_json_rpc(self):
        order = self.confirmed_order(user=self.seller_plain)
        outcome = self.call_kw(self.seller_plain, "sale.order", "action_supplier_send",
                               [order.ids])
        self.assertRefused(outcome)
        self.assertFalse(self.emulator.requests, "nothing reached the warehouse")
        self.assertFalse(order.supplier_order_ids)
        mine = self.confirmed_order(user=self.seller)
        result, error = self.call_kw(self.seller, "sale.order", "action_supplier_send",
                                     [mine.ids])
        self.assertFalse(error, error and error["message"])
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertEqual(mine.supplier_order_ids.state, "sent")
        self.assertIn(mine.name, self.emulator.orders)

    def test_set_pay_posted_and_event_retry_rights(self):
        order = self.sent_order()
        status, answer = self.post("order", "set_pay", {"id": order.name, "amount": 240})
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        self.assertIn("240", order.message_ids[0].body)
        self.assertEqual(order.supplier_paid_amount, 240)
        self.assertTrue(order.supplier_paid_at)
        event = self.events()
        self.assertEqual(event.state, "done")
        plain = self.env["res.users"].create({"name": "Plain", "login": "sc_imsk_cb_plain"})
        with self.assertRaises(AccessError):
            event.with_user(plain).action_retry()
