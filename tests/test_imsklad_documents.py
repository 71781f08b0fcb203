import json
from datetime import timezone

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.supplier_connector.emulators.imsklad import ImskladEmulator
from odoo.addons.supplier_connector.emulators.imsklad_demo import DEMO_KEY

from .common import ShateCase
from .imsklad_common import ImskladCase, ImskladMixin


def timestamp(value):
    return int(value.replace(tzinfo=timezone.utc).timestamp())


class DocumentsMixin:
    @classmethod
    def setup_documents(cls):
        cls.vendor = cls.env["res.partner"].create({
            "name": "Textile Mill", "is_company": True, "supplier_rank": 1,
            "city": "Ivanovo", "street": "Fabrichnaya 7", "zip": "153000",
            "phone": "+7 493 000 00 00", "email": "mill@example.com",
        })

    def make_po(self, lines, confirm=True, **values):
        po = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "picking_type_id": self.warehouse.in_type_id.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_qty": qty,
                                   "price_unit": price}) for product, qty, price in lines],
            **values,
        })
        if confirm:
            po.button_confirm()
        return po

    def make_picking(self, kind, lines, confirm=True):
        picking_type = self.warehouse.in_type_id if kind == "in" else self.warehouse.out_type_id
        picking = self.env["stock.picking"].create({
            "picking_type_id": picking_type.id,
            "location_id": picking_type.default_location_src_id.id
            or self.env.ref("stock.stock_location_suppliers").id,
            "location_dest_id": picking_type.default_location_dest_id.id
            or self.env.ref("stock.stock_location_customers").id,
            "move_ids": [(0, 0, {
                "name": product.name, "product_id": product.id, "product_uom_qty": qty,
                "product_uom": product.uom_id.id,
                "location_id": picking_type.default_location_src_id.id
                or self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": picking_type.default_location_dest_id.id
                or self.env.ref("stock.stock_location_customers").id,
            }) for product, qty in lines],
        })
        if confirm:
            picking.action_confirm()
        return picking

    def receive(self, picking, quantities=None):
        for move in picking.move_ids:
            move.write({"quantity": (quantities or {}).get(move.product_id, move.product_uom_qty),
                        "picked": True})
        picking.with_context(skip_backorder=True, skip_sms=True,
                             skip_immediate=True).button_validate()  # fmt: skip


@tagged("post_install", "-at_install")
class TestImskladPreorders(DocumentsMixin, ImskladCase):
    """Purchase orders announced as supplier pre-orders, returns, stock documents: sent once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_documents()
        cls.buyer = new_test_user(
            cls.env, "sc_imsk_buyer",
            groups="purchase.group_purchase_user,stock.group_stock_user,"
            "supplier_connector.group_supplier_user",
        )
        cls.plain = new_test_user(
            cls.env, "sc_imsk_doc_plain",
            groups="purchase.group_purchase_user,stock.group_stock_user",
        )

    def test_preorder_sent_once_with_its_payload_then_changes_by_update(self):
        p0, p1 = self.products[:2]
        po = self.make_po([(p0, 5, 60.0), (p1, 2, 70.0), (p0, 1, 66.0)], partner_ref="INV-77",
                          imsklad_need_pickup=True)
        self.assertEqual(po.imsklad_backend_id, self.backend)
        self.assertFalse(self.emulator.requests, "not sent on confirmation unless asked")
        action = po.action_imsklad_announce()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.actions(), ["add_good", "add_good", "add_preorder"],
                         "the missing goods first, then the pre-order")
        stored = self.emulator.document(po.name, "preorder")
        self.assertEqual(stored.type, 0)
        self.assertEqual(stored.fields["code"], "INV-77")
        self.assertEqual(stored.fields["supplier_name"], "Textile Mill")
        self.assertEqual(stored.fields["need_pickup"], 1)
        self.assertEqual(stored.fields["pickup_address"], "153000, Ivanovo, Fabrichnaya 7")
        self.assertIn("+7 493 000 00 00", stored.fields["pickup_contacts"])
        self.assertIn("mill@example.com", stored.fields["pickup_contacts"])
        self.assertEqual(stored.fields["date"], timestamp(po.date_planned))
        self.assertEqual(stored.goods, [
            {"id": "SHOP-0", "quantity": 6, "price": 61.0},  # two lines merged: (300+66)/6
            {"id": "SHOP-1", "quantity": 2, "price": 70.0},
        ])
        row = po.imsklad_preorder_ids
        self.assertEqual((row.state, row.key, row.doc_kind, row.doc_type),
                         ("sent", po.name, "preorder", "0"))
        self.assertEqual(row.external_id, str(stored.system_id))
        self.assertFalse(po.supplier_order_ids, "the supplier-order flow's rows are untouched")
        self.assertIn("sent to the warehouse as document", po.message_ids[0].body)
        # Pressed again without a change: nothing is sent.
        self.emulator.reset()
        po.action_imsklad_announce()
        self.assertEqual(self.actions(), [])
        self.assertIn("nothing changed", po.message_ids[0].body)
        # A changed order goes by update_preorder, never as a second pre-order.
        po.order_line[1].product_qty = 4
        po.action_imsklad_announce()
        self.assertEqual(self.actions(), ["update_preorder"])
        self.assertEqual(len(self.emulator.documents), 1)
        self.assertEqual(self.emulator.document(po.name).goods[1]["quantity"], 4)
        self.assertEqual(row.state, "sent")

    def test_lost_answer_is_adopted_not_duplicated(self):
        self.backend.action_push_products()
        po = self.make_po([(self.products[0], 3, 50.0)])
        self.emulator.reset()
        self.emulator.set_fault("fatal_error", count=1, processed=True)
        action = po.action_imsklad_announce()
        self.assertEqual(action["params"]["type"], "warning")
        row = po.imsklad_preorder_ids
        self.assertEqual(row.state, "sending")
        self.assertIn("no answer", po.message_ids[0].body)
        self.assertEqual(len(self.emulator.documents), 1, "the warehouse did create it")
        self.emulator.clear_faults()
        self.emulator.reset()
        po.action_imsklad_announce()
        self.assertEqual(self.actions(), ["update_preorder"], "looked up, not sent again")
        self.assertEqual(row.state, "sent")
        self.assertEqual(row.external_id, str(self.emulator.document(po.name).system_id))
        self.assertEqual(len(self.emulator.documents), 1)

    def test_sent_on_confirmation_never_blocking_and_cancel_noted(self):
        self.backend.imsklad_send_on_confirm = True
        po = self.make_po([(self.products[0], 2, 50.0)])
        self.assertEqual(po.imsklad_preorder_ids.state, "sent")
        self.assertEqual(self.emulator.document(po.name, "preorder").goods[0]["quantity"], 2)
        self.assertIn("sent to the warehouse", po.message_ids[0].body)
        # The warehouse down: the order is confirmed anyway, the problem posted on it.
        self.backend.api_url = "http://127.0.0.1:9"
        other = self.make_po([(self.products[0], 1, 50.0)])
        self.assertEqual(other.state, "purchase")
        self.assertIn(other.imsklad_preorder_ids.state, ("sending", "error"))
        self.assertTrue(other.imsklad_preorder_ids.last_error)
        self.assertIn(other.name, other.message_ids[0].body)
        # Cancelling cannot be sent (no cancel in update_preorder): a person is asked.
        po.button_cancel()
        self.assertIn("ask the warehouse to cancel", po.message_ids[0].body)
        self.assertIn("ask the warehouse to cancel", po.imsklad_preorder_ids.warning)

    def test_bad_quantity_refused_in_plain_words_nothing_sent(self):
        self.backend.action_push_products()
        self.emulator.reset()
        po = self.make_po([(self.products[0], 1.5, 50.0)])
        action = po.action_imsklad_announce()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("whole pieces", po.message_ids[0].body)
        self.assertEqual(po.imsklad_preorder_ids.state, "error")
        self.assertEqual(self.actions(), [])
        draft = self.make_po([(self.products[0], 1, 50.0)], confirm=False)
        with self.assertRaises(UserError):
            draft.action_imsklad_announce()
        # Quantities go in the product's unit: a dozen is 12 pieces at a twelfth of the price.
        dozens = self.make_po([(self.products[0], 1, 120.0)], confirm=False)
        dozens.order_line.product_uom = self.env.ref("uom.product_uom_dozen")
        dozens.order_line.price_unit = 120.0
        dozens.button_confirm()
        dozens.action_imsklad_announce()
        self.assertEqual(self.emulator.document(dozens.name, "preorder").goods,
                         [{"id": "SHOP-0", "quantity": 12, "price": 10.0}])

    def test_return_to_vendor_is_a_preorder_of_type_1(self):
        po = self.make_po([(self.products[0], 4, 50.0), (self.products[1], 1, 80.0)])
        po.action_imsklad_announce()
        receipt = po.picking_ids
        self.assertEqual(receipt.imsklad_send_kind, "purchase")
        self.assertFalse(receipt.imsklad_can_send, "announced from its purchase order")
        self.receive(receipt)
        wizard = self.env["stock.return.picking"].with_context(
            active_id=receipt.id, active_ids=receipt.ids, active_model="stock.picking"
        ).create({})
        wizard.product_return_moves.filtered(
            lambda line: line.product_id == self.products[0]).quantity = 3
        wizard.product_return_moves.filtered(
            lambda line: line.product_id == self.products[1]).unlink()
        back = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.assertEqual((back.imsklad_send_kind, back.imsklad_can_send), ("return", True))
        self.emulator.reset()
        back.action_supplier_send()
        self.assertEqual(self.actions(), ["add_preorder"])
        stored = self.emulator.document(back.name, "preorder")
        self.assertEqual(stored.type, 1)
        self.assertEqual(stored.fields["supplier_name"], "Textile Mill")
        self.assertEqual([(g["id"], g["quantity"]) for g in stored.goods], [("SHOP-0", 3)])
        self.assertEqual((back.supplier_order_ids.doc_kind, back.supplier_order_ids.doc_type,
                          back.supplier_state), ("preorder", "1", "sent"))  # fmt: skip

    def test_manual_receipt_and_delivery_are_documents(self):
        p0, p1 = self.products[:2]
        receipt = self.make_picking("in", [(p0, 10), (p1, 3)])
        self.assertEqual((receipt.imsklad_send_kind, receipt.imsklad_can_send), ("doc_in", True))
        receipt.action_supplier_send()
        self.assertEqual(self.actions(), ["add_good", "add_good", "add_doc"])
        stored = self.emulator.document(receipt.name, "doc")
        self.assertEqual((stored.type, stored.fields["code"]), (0, receipt.name))
        self.assertEqual([(g["id"], g["quantity"]) for g in stored.goods],
                         [("SHOP-0", 10), ("SHOP-1", 3)])
        self.assertEqual(stored.goods[0]["price"], p0.standard_price)
        self.assertEqual(receipt.supplier_state, "sent")
        # A change goes by update_doc.
        self.emulator.reset()
        receipt.move_ids.filtered(lambda m: m.product_id == p1).product_uom_qty = 5
        receipt.action_supplier_send()
        self.assertEqual(self.actions(), ["update_doc"])
        self.assertEqual(self.emulator.document(receipt.name, "doc").goods[1]["quantity"], 5)
        # A write-off made as a delivery without a sale order: an outgoing document.
        write_off = self.make_picking("out", [(p0, 2)])
        self.assertEqual(write_off.imsklad_send_kind, "doc_out")
        self.emulator.reset()
        write_off.action_supplier_send()
        self.assertEqual(self.actions(), ["add_doc"])
        self.assertEqual(self.emulator.document(write_off.name, "doc").type, 1)
        self.assertEqual(len(self.emulator.documents), 2)
        # An internal transfer, a draft: not sent.
        internal = self.env["stock.picking"].create({
            "picking_type_id": self.warehouse.int_type_id.id,
            "location_id": self.warehouse.lot_stock_id.id,
            "location_dest_id": self.warehouse.lot_stock_id.id,
        })
        self.assertFalse(internal.imsklad_can_send)
        with self.assertRaises(UserError):
            internal.action_supplier_send()
        draft = self.make_picking("in", [(p0, 1)], confirm=False)
        self.assertFalse(draft.imsklad_can_send)
        with self.assertRaises(UserError):
            draft.action_supplier_send()

    def test_rights(self):
        po = self.make_po([(self.products[0], 2, 50.0)])
        receipt = self.make_picking("in", [(self.products[1], 1)])
        with self.assertRaises(AccessError):
            po.with_user(self.plain).action_imsklad_announce()
        with self.assertRaises(AccessError):
            receipt.with_user(self.plain).action_supplier_send()
        self.assertFalse(self.emulator.requests)
        po.with_user(self.buyer).action_imsklad_announce()
        receipt.with_user(self.buyer).action_supplier_send()
        self.assertEqual(po.imsklad_preorder_ids.state, "sent")
        self.assertEqual(receipt.supplier_order_ids.state, "sent")
        self.assertEqual(len(self.emulator.documents), 2)
        # A buyer without connector rights confirms with automatic sending on: it goes.
        self.backend.imsklad_send_on_confirm = True
        other = self.make_po([(self.products[0], 1, 50.0)], confirm=False).with_user(self.plain)
        other.button_confirm()
        self.assertEqual(other.sudo().imsklad_preorder_ids.state, "sent")


@tagged("post_install", "-at_install")
class TestImskladShatePurchase(DocumentsMixin, ShateCase):
    """A Shate-M purchase order received in the IMSKLAD warehouse: both buttons work."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.imsklad = cls.env["supplier.backend"].create({
            "name": "IMSKLAD beside Shate", "service": "imsklad", "api_key": "k",
            "rate_limit": 0, "max_retries": 0, "imsklad_warehouse_id": cls.warehouse.id,
        })
        cls.products[:2].write({"is_storable": True})

    def test_both_sends_on_one_order(self):
        warehouse_emulator = ImskladEmulator(goods=[]).start()
        self.addCleanup(warehouse_emulator.stop)
        self.imsklad.write({"api_url": warehouse_emulator.api_url, "api_key": DEMO_KEY})
        self.backend.write({"order_accept_terms": True, "order_accept_personal_data": True})
        self.backend.action_test_connection()
        refs = self.backend.reference_ids
        self.backend.write({
            "shate_agreement_id": refs.filtered(lambda r: r.code == "SAGR1").id,
            "shate_delivery_address_id": refs.filtered(
                lambda r: r.kind == "delivery_address")[:1].id,
        })
        self.backend.action_sync_offers()
        self.vendor = self.backend.partner_id
        po = self.make_po([(self.products[0], 2, 10.0), (self.products[1], 1, 10.0)])
        self.assertEqual((po.supplier_backend_id, po.imsklad_backend_id),
                         (self.backend, self.imsklad))
        po.action_imsklad_announce()
        action = po.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(set(po.supplier_order_ids.mapped("state")), {"sent"})
        self.assertEqual(po.supplier_order_ids.backend_id, self.backend)
        self.assertEqual(po.imsklad_preorder_ids.state, "sent")
        self.assertEqual(len(warehouse_emulator.documents), 1)
        self.assertEqual(len(self.emulator.placed_orders()), len(po.supplier_order_ids))
        po.action_supplier_refresh_status()
        self.assertFalse(self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.imsklad.id), ("operation", "=", "pull_order_status")]
        ), "the pre-order is no supplier order to pull a status for")


@tagged("post_install", "-at_install")
class TestImskladDocumentCallbacks(DocumentsMixin, ImskladMixin, HttpCase):
    """doc.add_doc / update_doc / set_status through Odoo's HTTP layer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_imsklad()
        cls.setup_documents()

    def setUp(self):
        super().setUp()
        self.emulator = self.start_imsklad()
        self.url = self.base_url() + f"/supplier_connector/imsklad/{self.backend.imsklad_callback_token}"
        self.key = self.backend.imsklad_callback_key

    def post(self, action, data):
        body = {"key": self.key, "type": "doc", "action": action, "data": data}
        response = self.url_open(self.url, data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
        return response.status_code, response.json()

    def events(self):
        return self.env["supplier.event"].search([("backend_id", "=", self.backend.id)])

    def callback(self, method, *args, **kwargs):
        self.env.flush_all()
        call = getattr(self.emulator, method)(*args, url=self.url, key=self.key, **kwargs)
        self.env.invalidate_all()
        self.assertEqual(call.status, 200, call.error or call.answer)
        return call

    def test_preorder_received_counted_and_validated_once(self):
        self.backend.imsklad_validate_documents = True
        p0, p1 = self.products[:2]
        po = self.make_po([(p0, 5, 60.0), (p1, 2, 70.0)])
        po.action_imsklad_announce()
        receipt = po.picking_ids
        call = self.callback("callback_document", po.name, quantities={"SHOP-0": 3})
        self.assertEqual(call.answer, {"result": "ok"})
        self.assertEqual(receipt.state, "done", "posted: validated with the counted quantities")
        done = {m.product_id: m.quantity for m in receipt.move_ids}
        self.assertEqual((done[p0], done[p1]), (3, 2))
        self.assertEqual(receipt.supplier_status, "Posted")
        self.assertEqual(po.imsklad_status, "Posted")
        backorder = receipt.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 2, "the 2 not counted still expected")
        note = receipt.message_ids[0].body
        self.assertIn("→ Posted", note)
        self.assertIn("3", note)
        self.assertIn(backorder.name, note)
        event = self.events()
        self.assertEqual((event.kind, event.state, event.reference), ("doc.add_doc", "done", po.name))
        # The same call again: the same answer, no second effect.
        notes = len(receipt.message_ids)
        self.env.flush_all()
        again = self.emulator.send_callback("doc", "add_doc", call.body["data"], self.url, self.key)
        self.env.invalidate_all()
        self.assertEqual(again.answer, {"result": "ok"})
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(len(receipt.message_ids), notes)
        self.assertEqual(len(receipt.backorder_ids), 1)
        self.assertEqual(backorder.state, "assigned")

    def test_document_counted_then_posted_without_validation(self):
        p0, p1 = self.products[:2]
        receipt = self.make_picking("in", [(p0, 10), (p1, 3)])
        receipt.action_supplier_send()
        binding = self.bindings.filtered(lambda b: b.product_id == p1)
        # The warehouse counted: goods by our id and by its own id.
        status, answer = self.post("update_doc", {
            "id": receipt.name, "system_id": int(receipt.supplier_order_ids.external_id),
            "type": 0, "old_status": 0, "new_status": 0,
            "goods": [{"id": "SHOP-0", "quantity": 9, "price": 50},
                      {"id": int(binding.external_id), "quantity": 3, "price": 51},
                      {"id": "NOT-OURS", "quantity": 1, "price": 1}],
        })
        self.assertEqual((status, answer), (200, {"result": "ok"}))
        done = {m.product_id: (m.quantity, m.picked) for m in receipt.move_ids}
        self.assertEqual((done[p0], done[p1]), ((9, True), (3, True)))
        self.assertIn("NOT-OURS", receipt.message_ids[0].body)
        self.assertIn("NOT-OURS", self.events().error)
        self.assertEqual(receipt.supplier_status, "New")
        # Posted, but the connection does not validate: status shown, the picking left open.
        call = self.callback("callback_doc_status", receipt.name, 1, kind="doc")
        self.assertEqual(call.answer, {"result": "ok"})
        self.assertEqual(receipt.supplier_status, "Posted")
        self.assertEqual(receipt.supplier_order_ids.status_label, "Posted")
        self.assertEqual(receipt.state, "assigned")
        self.assertIn("Posted", receipt.message_ids[0].body)
        self.assertEqual(len(self.events()), 2)

    def test_set_status_posted_validates_and_cancelled_is_posted(self):
        self.backend.imsklad_validate_documents = True
        p0 = self.products[0]
        write_off = self.make_picking("out", [(p0, 2)])
        self.env["stock.quant"]._update_available_quantity(p0, self.warehouse.lot_stock_id, 5)
        write_off.action_assign()
        write_off.action_supplier_send()
        self.callback("callback_doc_status", write_off.name, 1, kind="doc")
        self.assertEqual(write_off.state, "done", "posted: validated as sent")
        self.assertEqual(write_off.move_ids.quantity, 2)
        cancelled = self.make_picking("in", [(p0, 4)])
        cancelled.action_supplier_send()
        self.callback("callback_doc_status", cancelled.name, 2, kind="doc")
        self.assertEqual(cancelled.supplier_status, "Cancelled")
        self.assertEqual(cancelled.state, "assigned", "a person decides about the Odoo transfer")
        self.assertIn("cancelled this document", cancelled.message_ids[0].body)

    def test_unknown_document_kept_for_a_person(self):
        data = {"id": "", "system_id": 987654, "code": "WH-RECEIPT-5", "type": 0,
                "goods": [{"id": "SHOP-0", "quantity": 1, "price": 10}]}
        status, answer = self.post("add_doc", data)
        self.assertEqual((status, answer["code"]), (200, 2))
        event = self.events()
        self.assertEqual((event.kind, event.state), ("doc.add_doc", "ignored"))
        self.assertIn("WH-RECEIPT-5", event.error)
        self.assertIn("kept for a person", event.error)
        status, again = self.post("add_doc", data)
        self.assertEqual(again, answer)
        self.assertEqual(len(self.events()), 1)
