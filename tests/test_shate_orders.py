import json
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ShateCase


@tagged("post_install", "-at_install")
class TestShateOrders(ShateCase):
    """Purchase orders sent to Shate-M: split by location, errors per line, never twice."""

    def setUp(self):
        super().setUp()
        self.ready_to_order()

    def location(self, code):
        return self.backend.location_ids.filtered(lambda loc: loc.code == code)

    def make_po(self, lines):
        po = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {
                "product_id": product.id, "product_qty": qty,
                "supplier_location_id": location.id if location else False,
            }) for product, qty, location in lines],
        })
        po.button_confirm()
        return po

    def test_send_splits_by_location_and_never_orders_twice(self):
        p0, p1 = self.products[0], self.products[1]
        po = self.make_po([(p0, 2, None), (p1, 1, self.location("SHATE-02"))])
        self.assertEqual(po.supplier_backend_id, self.backend)
        self.assertEqual(po.supplier_lines_to_send, 2)
        action = po.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        orders = po.supplier_order_ids
        self.assertEqual(len(orders), 2, "one supplier order per location")
        self.assertEqual(set(orders.mapped("state")), {"sent"})
        self.assertIn("SHATE-02", orders.mapped("location_code"))
        placed = self.emulator.placed_orders()
        self.assertEqual(len(placed), 2)
        self.assertEqual({str(o["id"]) for o in placed}, set(orders.mapped("external_id")))
        for line in po.order_line:
            self.assertTrue(line.supplier_item_id)
            self.assertTrue(line.supplier_status, "the status name from the loaded list")
        self.assertIn("sent as order", po.message_ids[0].body)
        # The button is gone, and a second click sends nothing: every line is at the supplier.
        self.assertEqual(po.supplier_lines_to_send, 0)
        with self.assertRaises(UserError):
            po.action_supplier_send()
        self.assertEqual(len(self.emulator.placed_orders()), 2)

    def test_lost_answer_is_reconciled_not_resent(self):
        po = self.make_po([(self.products[0], 2, None)])
        self.backend.write({"timeout": 1})
        # prices (fresh offers), orders (look-up), then the order itself answers too late.
        self.emulator.set_fault("slow", count=1, after=2, seconds=2.5)
        po.action_supplier_send()
        order = po.supplier_order_ids
        self.assertEqual(order.state, "sending")
        self.assertIn("no answer", order.last_error)
        self.assertFalse(po.order_line.supplier_item_id)
        self.emulator.clear_faults()
        po.action_supplier_send()
        self.assertEqual(order.state, "sent")
        self.assertTrue(po.order_line.supplier_item_id)
        self.assertEqual(len(self.emulator.placed_orders()), 1, "found by its key, not sent again")

    def test_refused_line_is_explained_on_the_line(self):
        article = next(a for a in self.catalogue.values()
                       if any(o.maximum for o in a.offers) and a not in self.articles)
        product = self.env["product.product"].create({"name": article.name})
        self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": product.id,
            "external_code": article.code, "external_brand": article.trademark,
        })
        maximum = max(o.maximum for o in article.offers if o.maximum)
        po = self.make_po([(product, maximum + 1, None)])
        action = po.action_supplier_send()
        self.assertEqual(action["params"]["type"], "warning")
        order = po.supplier_order_ids
        self.assertEqual(order.state, "error")
        self.assertIn("refused", order.last_error)
        self.assertTrue(po.order_line.supplier_message)
        self.assertNotIn("refused the order", po.order_line.supplier_message, "the line's own reason")
        self.assertFalse(self.emulator.placed_orders())

    def test_refused_order_says_which_line_and_each_reason_once(self):
        """One line over the supplier's maximum: that line has the reason; the other line of
        the same order says it was not ordered because of another line; the order's reason
        names each of the supplier's reasons once (Shate-M repeats them)."""
        article = next(a for a in self.catalogue.values()
                       if any(o.maximum for o in a.offers) and a not in self.articles)
        product = self.env["product.product"].create({"name": article.name})
        self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": product.id,
            "external_code": article.code, "external_brand": article.trademark,
        })
        self.backend.action_sync_offers()
        # The store of an offer with a maximum, and another product in stock there.
        limited = next(o for o in article.offers if o.maximum)
        maximum = limited.maximum
        offer = self.env["supplier.offer"].search([
            ("binding_id.product_id", "=", product.id), ("external_offer_id", "!=", False),
            ("location_code", "in", [limited.location_code, limited.location_code_real]),
        ])[:1]
        self.assertTrue(offer.location_id)
        other = self.env["supplier.offer"].search([
            ("binding_id.product_id", "in", self.products.ids), ("quantity", ">", 0),
            ("location_id", "=", offer.location_id.id), ("external_offer_id", "!=", False),
        ])[:1].binding_id.product_id
        self.assertTrue(other, "the emulator's catalogue has two articles in one store")
        po = self.make_po([(product, maximum + 1, offer.location_id),
                           (other, 1, offer.location_id)])
        action = po.action_supplier_send()
        too_many, fine = po.order_line.sorted(lambda line: line.product_id != product)
        self.assertTrue(too_many.supplier_refused and fine.supplier_refused)
        self.assertNotIn("refused the order", too_many.supplier_message)
        self.assertEqual(fine.supplier_message,
                         "Not ordered: the supplier refused the order because of another line.")
        reasons = po.supplier_order_ids.last_error.split(": ", 1)[1].split("; ")
        self.assertEqual(len(reasons), len(set(reasons)), po.supplier_order_ids.last_error)
        self.assertFalse(self.emulator.placed_orders())
        # The notification names the refused line only.
        self.assertIn(too_many.supplier_message, action["params"]["message"])
        self.assertNotIn("another line", action["params"]["message"])

    def test_price_change_warning_is_shown_on_the_line(self):
        """The price fell between the fresh offers and the order: ordered, with the warning."""
        engine_class = type(self.env["supplier.sync.engine"])
        run_offers = engine_class._run_offers
        emulator = self.emulator

        def offers_then_reprice(engine, *args, **kwargs):
            log = run_offers(engine, *args, **kwargs)
            emulator.reprice(0.95)
            return log

        po = self.make_po([(self.products[0], 2, None)])
        with patch.object(engine_class, "_run_offers", offers_then_reprice):
            po.action_supplier_send()
        line = po.order_line
        self.assertEqual(po.supplier_order_ids.state, "sent")
        self.assertTrue(line.supplier_item_id)
        old = self.bindings[0].offer_ids.filtered("is_best").price
        self.assertIn("Price changed from", line.supplier_message)
        self.assertIn(f"{old:.2f}", line.supplier_message)
        self.assertEqual(len(self.emulator.placed_orders()), 1)

    def test_unmapped_line_and_missing_consents(self):
        stranger = self.env["product.product"].create({"name": "Not at Shate"})
        po = self.make_po([(stranger, 1, None), (self.products[0], 2, None)])
        action = po.action_supplier_send()
        stranger_line = po.order_line.filtered(lambda line: line.product_id == stranger)
        self.assertIn("Not mapped", stranger_line.supplier_message)
        # The notification says which line stayed behind and why, not only what was sent.
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("Not at Shate: not sent. Not mapped", action["params"]["message"])
        self.assertEqual(len(self.emulator.placed_orders()), 1, "the other line is sent")
        self.backend.order_accept_terms = False
        po2 = self.make_po([(self.products[1], 1, None)])
        with self.assertRaises(UserError):
            po2.action_supplier_send()

    def test_status_is_pulled_and_changes_are_posted(self):
        po = self.make_po([(self.products[0], 2, None)])
        po.action_supplier_send()
        line = po.order_line
        before = line.supplier_status_code
        new_code = self.emulator.advance_status(int(line.supplier_item_id))
        self.assertNotEqual(str(new_code), before)
        po.action_supplier_refresh_status()
        self.assertEqual(line.supplier_status_code, str(new_code))
        self.assertIn(line.supplier_status, po.message_ids[0].body)
        self.assertTrue(line.supplier_status_history)
        # The scheduled pull does the same for every connection; nothing changed now.
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "pull_order_status")
        self.assertTrue(schedule.enabled)
        schedule.next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(schedule.last_log_id.state, "done")
        self.assertEqual(schedule.last_log_id.unchanged, 1)
        # No price was asked: no word of the price budget.
        self.assertNotIn("Price requests used", schedule.last_log_id.message or "")
        # A final status is not asked again.
        self.emulator.advance_status(int(line.supplier_item_id), 180)
        po.action_supplier_refresh_status()
        self.assertTrue(line.supplier_status_final)

    def test_cash_agreement_sends_the_buyers_name_and_phone(self):
        cash = self.backend.reference_ids.filtered(lambda r: r.code == "SAGR2")
        self.assertTrue(cash.needs_contact, "Test connection stores which agreements need them")
        self.assertFalse(self.backend.reference_ids.filtered(lambda r: r.code == "SAGR1").needs_contact)
        # A cash agreement: pickup only, and only goods in Shate-M's own stock (SHATE-01).
        self.backend.write({"shate_agreement_id": cash.id, "shate_delivery_address_id": False})
        own = self.env["supplier.offer"].search([
            ("binding_id", "in", self.bindings.ids), ("location_code", "=", "SHATE-01"),
            ("quantity", ">", 0),
        ], limit=1)
        self.assertTrue(own, "the demo catalogue has stock at SHATE-01")
        po = self.make_po([(own.binding_id.product_id, 1, self.location("SHATE-01"))])
        # Refused before anything is sent: the supplier would refuse the order anyway.
        with self.assertRaisesRegex(UserError, "name and phone"):
            po.action_supplier_send()
        self.assertEqual(self.emulator.placed_orders(), [])
        self.backend.write({"shate_contact_name": "Иванов Иван", "shate_contact_phone": "+375291234567"})
        action = po.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        sent = [r for r in self.emulator.requests if r.label == "order_by_price_items"]
        body = json.loads(sent[-1].body)
        self.assertEqual(body["fio"], "Иванов Иван")
        self.assertEqual(body["phone"], "+375291234567")
        self.assertEqual(len(self.emulator.placed_orders()), 1)
