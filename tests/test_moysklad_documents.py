"""Orders and documents sent to MoySklad and their states coming back (issue 9), through the
emulator: what MoySklad holds is read from the emulator's own records."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.supplier_connector.emulators.moysklad_demo import (
    MAIN_STORE_ID,
    ORGANIZATION_ID,
    USD_ID,
)

from .moysklad_common import MoySkladCase
from .rights_common import JsonRpc, RightsUsers


class MoySkladDocumentsBase(RightsUsers, MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.salesman = new_test_user(
            cls.env, "sc_ms_salesman", password=cls.password_of("sc_ms_salesman"),
            groups="sales_team.group_sale_salesman,supplier_connector.group_supplier_user",
        )
        cls.backend.write({
            "moysklad_products_direction": "push",
            "moysklad_send_sale_orders": True,
            "moysklad_send_purchase_orders": True,
            "moysklad_send_transfers": True,
        })
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.tax = cls.env["account.tax"].create({
            "name": "VAT 20 %", "amount": 20.0, "amount_type": "percent", "type_tax_use": "sale",
            "company_id": cls.company.id,
        })
        cls.purchase_tax = cls.tax.copy({"name": "VAT 20 % (purchase)", "type_tax_use": "purchase"})
        cls.products = cls.env["product.product"].create([
            {"name": f"Order good {n}", "default_code": f"ORD-{n}", "is_storable": True,
             "list_price": 100.0 + n, "standard_price": 50.0 + n}
            for n in range(2)
        ])
        cls.customer = cls.env["res.partner"].create({
            "name": "ООО Покупатель", "is_company": True, "email": "buyer@example.com",
        })
        cls.vendor_partner = cls.env["res.partner"].create({
            "name": "ООО Поставщик", "is_company": True, "email": "vendor@example.com",
        })

    def setUp(self):
        super().setUp()
        self.test_connection()
        self.backend.location_ids.filtered(lambda loc: loc.code == MAIN_STORE_ID).warehouse_id = (
            self.warehouse
        )
        self.backend.action_moysklad_load_states()

    # -- helpers ---------------------------------------------------------------------------------
    def make_sale(self, user=None):
        order = self.env["sale.order"].with_user(user or self.env.user).create({
            "partner_id": self.customer.id,
            "warehouse_id": self.warehouse.id,
            "order_line": [
                (0, 0, {"product_id": self.products[0].id, "product_uom_qty": 3,
                        "price_unit": 120.5, "discount": 10.0, "tax_id": [(6, 0, self.tax.ids)]}),
                (0, 0, {"product_id": self.products[1].id, "product_uom_qty": 1,
                        "price_unit": 80.0, "tax_id": [(5, 0, 0)]}),
            ],
        })
        order.action_confirm()
        return order

    def make_purchase(self):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor_partner.id,
            "order_line": [(0, 0, {"product_id": self.products[0].id, "product_qty": 5,
                                   "price_unit": 60.0, "taxes_id": [(6, 0, self.purchase_tax.ids)]})],
        })
        order.button_confirm()
        return order

    def documents(self, kind):
        with self.emulator.lock:
            return [dict(record) for record in self.emulator.db[kind].values()]

    def document(self, kind, document_id):
        with self.emulator.lock:
            return dict(self.emulator.db[kind][document_id])

    def set_state(self, kind, document_id, name):
        with self.emulator.lock:
            self.emulator.update(kind, document_id, {
                "state": {"meta": self.emulator._state_meta(kind, name)},
            })

    def state_ref(self, kind, name):
        return self.backend.moysklad_state_ids.filtered(
            lambda s: s.ms_document_kind == kind and s.name == name
        )

    def posts(self, kind):
        return [r for r in self.emulator.requests
                if r.method == "POST" and r.path.endswith(f"/entity/{kind}")]

    def validate(self, picking):
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")


@tagged("post_install", "-at_install")
class TestMoySkladDocuments(MoySkladDocumentsBase):
    def test_sale_order_sent_with_every_field_then_updated(self):
        order = self.make_sale()
        action = order.action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        row = order.moysklad_order_ids
        self.assertEqual(row.state, "sent")
        [document] = self.documents("customerorder")
        self.assertEqual(row.external_id, document["id"])
        self.assertEqual(order.moysklad_number, document["name"])
        self.assertEqual(document["name"], order.name)
        self.assertEqual(document["externalCode"], order.name)
        self.assertEqual(document["syncId"], row.key, "the key fixed before the send is the syncId")
        self.assertEqual(document["organization"].id, ORGANIZATION_ID)
        self.assertEqual(document["store"].id, MAIN_STORE_ID)
        self.assertEqual(document["agent"].type, "counterparty")
        partner_binding = self.env["supplier.partner"].search([
            ("backend_id", "=", self.backend.id), ("partner_id", "=", self.customer.id),
        ])
        self.assertEqual(document["agent"].id, partner_binding.external_id)
        self.assertIn(USD_ID, json.dumps(document["rate"]))
        self.assertTrue(document["vatEnabled"])
        self.assertFalse(document["vatIncluded"])
        first, second = document["positions"]
        bindings = self.env["supplier.product"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(bindings), 2, "the products were pushed first")
        by_product = {b.product_id: b.external_id for b in bindings}
        self.assertEqual(first["assortment"].id, by_product[self.products[0]])
        self.assertEqual(first["quantity"], 3)
        self.assertEqual(first["price"], 12050, "price in kopecks, before the discount")
        self.assertEqual(first["discount"], 10)
        self.assertEqual(first["vat"], 20)
        self.assertEqual(second["assortment"].id, by_product[self.products[1]])
        self.assertEqual((second["price"], second["vat"]), (8000, 0))
        self.assertIn("sent to MoySklad", order.message_ids[0].body)
        # Unchanged: nothing is sent again.
        requests = len(self.emulator.requests)
        order.action_supplier_send()
        self.assertFalse([r for r in self.emulator.requests[requests:]
                          if r.method in ("POST", "PUT") and "customerorder" in r.path])
        self.assertIn("nothing changed", order.message_ids[0].body)
        # Changed: the document is updated in place (PUT), not created again.
        order.order_line[0].product_uom_qty = 7
        order.action_supplier_send()
        puts = [r for r in self.emulator.requests if r.method == "PUT" and "customerorder" in r.path]
        self.assertEqual(len(puts), 1)
        self.assertNotIn("syncId", json.loads(puts[0].body))
        [document] = self.documents("customerorder")
        self.assertEqual(document["positions"][0]["quantity"], 7)
        self.assertEqual(row.state, "sent")

    def test_lost_answer_never_makes_a_second_document(self):
        order = self.make_sale()
        # MoySklad creates the order but its answer is lost (cut in half).
        self.emulator.set_fault("malformed_json", count=1, match="customerorder")
        order.action_supplier_send()
        row = order.moysklad_order_ids
        self.assertEqual(row.state, "sending")
        self.assertIn("no answer", order.message_ids[0].body)
        self.assertEqual(len(self.documents("customerorder")), 1)
        posts = len(self.posts("customerorder"))
        order.action_supplier_send()
        self.assertEqual(len(self.posts("customerorder")), posts, "looked up, not sent again")
        self.assertTrue([r for r in self.emulator.requests
                         if r.method == "GET" and r.path.endswith("/entity/customerorder")
                         and row.key in r.query.get("filter", "")])
        [document] = self.documents("customerorder")
        self.assertEqual(row.state, "sent")
        self.assertEqual(row.external_id, document["id"])
        self.assertIn("not sent again", order.message_ids[0].body)

    def test_lost_answers_of_every_other_kind(self):
        """purchaseorder, supply and demand: created, answer lost, found by syncId, never twice."""

        def send_losing_the_answer(record, kind):
            self.emulator.set_fault("malformed_json", count=1, match=f"/entity/{kind}")
            record.action_supplier_send()
            self.assertEqual(record.moysklad_order_ids.state, "sending")
            self.emulator.clear_faults()
            posts = len(self.posts(kind))
            record.action_supplier_send()
            self.assertEqual(len(self.posts(kind)), posts, f"{kind}: looked up, not sent again")
            [document] = self.documents(kind)
            self.assertEqual(record.moysklad_order_ids.state, "sent")
            self.assertEqual(record.moysklad_order_ids.external_id, document["id"])
            return document

        purchase = self.make_purchase()
        ordered = send_losing_the_answer(purchase, "purchaseorder")
        self.validate(purchase.picking_ids)
        supply = send_losing_the_answer(purchase.picking_ids, "supply")
        self.assertEqual(supply["purchaseOrder"].id, ordered["id"])
        sale = self.make_sale()
        sale.action_supplier_send()
        self.validate(sale.picking_ids)
        demand = send_losing_the_answer(sale.picking_ids, "demand")
        self.assertEqual(demand["customerOrder"].id, self.documents("customerorder")[0]["id"])

    def test_purchase_order_and_its_receipt(self):
        order = self.make_purchase()
        order.action_supplier_send()
        row = order.moysklad_order_ids
        self.assertEqual(row.state, "sent", row.last_error)
        [document] = self.documents("purchaseorder")
        self.assertEqual(document["name"], order.name)
        self.assertEqual(document["syncId"], row.key)
        self.assertEqual(document["agent"].type, "counterparty")
        self.assertEqual(document["positions"][0]["price"], 6000)
        self.assertEqual(document["positions"][0]["quantity"], 5)
        self.assertEqual(document["positions"][0]["vat"], 20)
        receipt = order.picking_ids
        with self.assertRaises(UserError):
            receipt.action_supplier_send()  # not validated yet
        self.validate(receipt)
        receipt.action_supplier_send()
        self.assertEqual(receipt.moysklad_order_ids.state, "sent", receipt.moysklad_order_ids.last_error)
        [supply] = self.documents("supply")
        self.assertEqual(supply["purchaseOrder"].id, document["id"], "linked to its order")
        self.assertEqual(supply["store"].id, MAIN_STORE_ID)
        self.assertEqual(supply["name"], receipt.name)
        self.assertEqual(supply["positions"][0]["quantity"], 5)
        self.assertEqual(supply["positions"][0]["price"], 6000)

    def test_delivery_is_a_demand_of_its_customer_order(self):
        order = self.make_sale()
        order.action_supplier_send()
        [customer_order] = self.documents("customerorder")
        delivery = order.picking_ids
        self.validate(delivery)
        delivery.action_supplier_send()
        [demand] = self.documents("demand")
        self.assertEqual(demand["customerOrder"].id, customer_order["id"])
        self.assertEqual(demand["store"].id, MAIN_STORE_ID)
        self.assertEqual(demand["syncId"], delivery.moysklad_order_ids.key)
        self.assertEqual(sorted(p["quantity"] for p in demand["positions"]), [1, 3])
        self.assertEqual(sorted(p["price"] for p in demand["positions"]), [8000, 12050])

    def test_cancellation_sets_the_mapped_state(self):
        order = self.make_sale()
        order.action_supplier_send()
        [document] = self.documents("customerorder")
        # No state chosen: nothing sent, a note says so.
        order._action_cancel()
        self.assertIn("no state is chosen", order.message_ids[0].body)
        order.action_draft()
        order.action_confirm()
        cancelled = self.state_ref("customerorder", "Отменен")
        self.backend.moysklad_sale_cancel_state_id = cancelled
        order._action_cancel()
        self.assertEqual(self.document("customerorder", document["id"])["state"].id, cancelled.code)
        self.assertEqual(order.moysklad_status, "Отменен")
        self.assertIn("Отменен", order.message_ids[0].body)

    def test_states_pulled_with_a_chatter_line_and_their_action(self):
        order = self.make_sale()
        order.action_supplier_send()
        [document] = self.documents("customerorder")
        self.set_state("customerorder", document["id"], "Подтвержден")
        log = self.backend.action_pull_orders() and self.last_log("pull_order_status")
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.updated, 1)
        self.assertEqual(order.moysklad_status, "Подтвержден")
        self.assertIn("Подтвержден", order.message_ids[0].body)
        # The same state again: nothing changes, no second line.
        notes = len(order.message_ids)
        log = self.backend.action_pull_orders() and self.last_log("pull_order_status")
        self.assertEqual(log.updated, 0)
        self.assertEqual(len(order.message_ids), notes)
        # "Shipped" is mapped to validating the open transfers.
        self.state_ref("customerorder", "Отгружен").ms_state_action = "done"
        self.set_state("customerorder", document["id"], "Отгружен")
        self.env["supplier.backend.schedule"].search([
            ("backend_id", "=", self.backend.id), ("operation", "=", "pull_order_status"),
        ])._run_once(self.env["supplier.sync.engine"])
        self.assertEqual(order.moysklad_status, "Отгружен")
        self.assertEqual(order.picking_ids.state, "done")
        self.assertIn("transfers validated", order.message_ids[0].body)

    def test_refresh_status_of_one_order(self):
        order = self.make_purchase()
        order.action_supplier_send()
        [document] = self.documents("purchaseorder")
        self.set_state("purchaseorder", document["id"], "Получен")
        order.action_supplier_refresh_status()
        self.assertEqual(order.moysklad_status, "Получен")
        self.assertIn("Получен", order.message_ids[0].body)

    def test_refresh_of_an_order_without_a_state_says_so(self):
        order = self.make_purchase()
        order.action_supplier_send()
        action = order.action_supplier_refresh_status()
        self.assertFalse(order.moysklad_status)
        self.assertIn("no state at MoySklad yet", action["params"]["message"])
        self.assertNotIn("—", action["params"]["message"])

    def test_salesperson_sends_but_never_reads_the_token(self):
        self.backend.api_key = "secret-token-0123456789"
        order = self.make_sale(user=self.salesman)
        action = order.with_user(self.salesman).action_supplier_send()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(order.moysklad_order_ids.state, "sent")
        backend = self.backend.with_user(self.salesman)
        for secret in ("api_key", "password", "session_token"):
            with self.assertRaises(AccessError):
                backend.read([secret])
        texts = " ".join(order.message_ids.mapped("body") + [action["params"]["message"]]
                         + self.env["supplier.sync.log"].search([]).mapped(lambda log: log.message or ""))
        self.assertNotIn("secret-token", texts)
        # Without connector rights: refused before anything is sent.
        seller = new_test_user(self.env, "sc_ms_seller", groups="sales_team.group_sale_salesman")
        other = self.make_sale()
        # They still open their orders: what the form shows of MoySklad reads without error.
        order.with_context(mail_auto_subscribe_no_notify=True).user_id = seller
        [values] = order.with_user(seller).read(
            ["moysklad_can_send", "moysklad_exchange", "moysklad_number", "moysklad_status"]
        )
        self.assertEqual(values["moysklad_exchange"], "sent")
        self.assertTrue(values["moysklad_can_send"])
        requests = len(self.emulator.requests)
        with self.assertRaises(AccessError):
            other.with_user(seller).action_supplier_send()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.plain).action_pull_orders()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.connector_user).action_moysklad_load_states()
        self.assertEqual(len(self.emulator.requests), requests)


@tagged("post_install", "-at_install")
class TestMoySkladDocumentHooks(JsonRpc, MoySkladDocumentsBase, HttpCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())

    def test_state_change_comes_back_by_webhook(self):
        self.backend.action_moysklad_register_webhooks()
        with self.emulator.lock:
            hooks = {(h["action"], h["entityType"]) for h in self.emulator.db["webhook"].values()}
        self.assertIn(("UPDATE", "customerorder"), hooks)
        self.assertIn(("UPDATE", "purchaseorder"), hooks)
        order = self.make_sale()
        order.action_supplier_send()
        [document] = self.documents("customerorder")
        self.set_state("customerorder", document["id"], "Собран")
        delivery = self.emulator.fire("customerorder", document["id"], "UPDATE")[-1]
        self.assertTrue(delivery["delivered"])
        events = self.env["supplier.event"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(events), 1)
        events._process()
        self.assertEqual(events.state, "done", events.error)
        self.assertEqual(order.moysklad_status, "Собран")
        self.assertIn("Собран", order.message_ids[0].body)
        log = self.last_log("pull_order_status")
        self.assertEqual((log.trigger, log.updated), ("webhook", 1))

    def test_refused_over_rpc(self):
        order = self.make_sale()
        for user, model, method, ids in (
            (self.plain, "sale.order", "action_supplier_send", order.ids),
            (self.plain, "sale.order", "action_supplier_refresh_status", order.ids),
            (self.plain, "supplier.backend", "action_pull_orders", self.backend.ids),
            (self.connector_user, "supplier.backend", "action_moysklad_load_states",
             self.backend.ids),
            (self.foreign_manager, "supplier.backend", "action_pull_orders", self.backend.ids),
        ):
            with self.subTest(user=user.login, method=method):
                self.assertRefused(self.call_kw(user, model, method, [ids]))
        self.assertFalse(order.moysklad_order_ids)
        self.assertFalse(self.documents("customerorder"))
