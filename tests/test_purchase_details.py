"""Issue 11, purchase details: expected arrival, refused lines, ordered-from, stock warnings."""

from lxml import etree

from odoo.tests import tagged

from ..api.shate_convert import to_datetime
from .common import ShateCase


@tagged("post_install", "-at_install")
class TestPurchaseDetails(ShateCase):
    def setUp(self):
        super().setUp()
        self.ready_to_order()
        self.refusal_type = self.env.ref("mail.mail_activity_data_warning")

    def make_po(self, lines):
        po = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_qty": qty})
                           for product, qty in lines],
        })
        po.button_confirm()
        return po

    def refusal_activities(self, po):
        return self.env["mail.activity"].search([
            ("res_model", "=", "purchase.order"), ("res_id", "=", po.id),
            ("activity_type_id", "=", self.refusal_type.id),
        ])

    def test_delivery_date_and_location_come_from_the_answer(self):
        po = self.make_po([(self.products[0], 1)])
        line = po.order_line
        self.assertFalse(line.supplier_location_id, "the connection's rule chooses")
        po.action_supplier_send()
        placed = self.emulator.placed_orders()
        self.assertEqual(len(placed), 1)
        delivery = to_datetime(placed[0]["orderItems"][0]["deliveryDateTime"]).replace(microsecond=0)
        self.assertEqual(line.date_planned, delivery, "the supplier's date is the expected arrival")
        order = po.supplier_order_ids
        self.assertEqual(line.supplier_location_id.code, order.location_code,
                         "the line shows where it was ordered from")
        self.assertFalse(line.supplier_refused)
        self.assertFalse(self.refusal_activities(po))

    def test_refused_line_is_marked_with_one_activity_and_one_reason(self):
        article = next(a for a in self.catalogue.values()
                       if any(o.maximum for o in a.offers) and a not in self.articles)
        product = self.env["product.product"].create({"name": "Refused part"})
        self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": product.id,
            "external_code": article.code, "external_brand": article.trademark,
        })
        maximum = max(o.maximum for o in article.offers if o.maximum)
        po = self.make_po([(product, maximum + 1)])
        po.user_id = self.env.user
        self.assertFalse(po.supplier_line_notes, "no note yet: the column stays hidden")
        po.action_supplier_send()
        line = po.order_line
        self.assertTrue(po.supplier_line_notes, "the refusal shows the Supplier note column")
        self.assertTrue(line.supplier_refused)
        self.assertTrue(line.supplier_message)
        self.assertFalse(line.supplier_stock_warning, "the supplier's reason, not the warning too")
        activity = self.refusal_activities(po)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.env.user)
        self.assertIn("Refused part", str(activity.note))
        note = str(po.message_ids[0].body)
        self.assertEqual(note.count(line.supplier_message), 1, "the refusal text once: " + note)
        self.assertNotIn("not sent", note)
        # Sending again refuses again: still one open activity.
        po.action_supplier_send()
        self.assertEqual(len(self.refusal_activities(po)), 1)
        # The line list shows refused lines in red.
        arch = etree.fromstring(po.get_views([(False, "form")])["views"]["form"]["arch"])
        line_list = arch.xpath("//field[@name='order_line']/list")[0]
        self.assertEqual(line_list.get("decoration-danger"), "supplier_refused")

    def test_status_refused_later_posts_one_activity(self):
        po = self.make_po([(self.products[0], 1), (self.products[1], 1)])
        po.action_supplier_send()
        self.assertFalse(self.refusal_activities(po))
        first, second = po.order_line
        self.emulator.advance_status(int(first.supplier_item_id), 60)
        po.action_supplier_refresh_status()
        self.assertTrue(first.supplier_refused)
        self.assertFalse(second.supplier_refused)
        self.assertEqual(len(self.refusal_activities(po)), 1)
        self.emulator.advance_status(int(second.supplier_item_id), 60)
        po.action_supplier_refresh_status()
        po.action_supplier_refresh_status()
        self.assertTrue(second.supplier_refused)
        self.assertEqual(len(self.refusal_activities(po)), 1, "not repeated on every refresh")

    def test_quantity_above_stock_warns_and_is_sent_as_back_order(self):
        article = self.articles[0]
        for offer in article.offers:
            self.emulator.set_offer(article.id, offer.location_code_real, available=3,
                                    available_type="More", maximum=None, minimum=1,
                                    multiplicity=1)
        self.backend.action_sync_offers()
        best = self.bindings[0].offer_ids.filtered("is_best")
        self.assertEqual(best.quantity, 3)
        po = self.make_po([(self.products[0], 5), (self.products[1], 1)])
        warned = po.order_line.filtered(lambda line: line.product_id == self.products[0])
        self.assertEqual(warned.supplier_stock_warning, "only 3 in stock")
        self.assertFalse((po.order_line - warned).supplier_stock_warning)
        self.assertIn(f"{self.products[0].display_name}: 5 asked, 3 in stock at",
                      po.supplier_stock_warning)
        self.assertNotIn(self.products[1].display_name, po.supplier_stock_warning)
        arch = po.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Send anyway?", arch, "the send button asks when lines exceed the stock")
        action = po.action_supplier_send()
        self.assertEqual(len(self.emulator.placed_orders()), 1, "warned, not blocked")
        self.assertTrue(warned.supplier_item_id)
        self.assertIn("sent as a back-order", action["params"]["message"])
        self.assertIn(self.products[0].display_name, str(po.message_ids[0].body))
        self.assertFalse(po.supplier_stock_warning, "sent lines warn no more")

    def test_line_added_after_sending_goes_in_a_follow_up_order(self):
        po = self.make_po([(self.products[0], 1)])
        po.action_supplier_send()
        first = po.supplier_order_ids
        po.write({"order_line": [(0, 0, {"product_id": self.products[0].id, "product_qty": 1})]})
        self.assertEqual(po.supplier_lines_to_send, 1)
        po.action_supplier_send()
        self.assertEqual(len(self.emulator.placed_orders()), 2)
        follow_up = po.supplier_order_ids - first
        self.assertEqual(follow_up.key, f"{first.key}/2")
        self.assertEqual(follow_up.state, "sent")
        self.assertTrue(all(po.order_line.mapped("supplier_item_id")))
        self.assertEqual(po.supplier_lines_to_send, 0)
