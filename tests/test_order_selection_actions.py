"""Order lists' "Send to supplier" and "Refresh supplier status" for a selection (issue 11),
against the MoySklad emulator: what MoySklad holds is read from the emulator's own records."""

from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from ..models.moysklad_documents import SupplierMoySkladDocuments
from .common import ShateCase
from .imsklad_common import ImskladCase
from .rights_common import JsonRpc
from .test_moysklad_documents import MoySkladDocumentsBase

SELECTION_LOGGER = "odoo.addons.supplier_connector.models.supplier_order_selection"


class SelectionBase(MoySkladDocumentsBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        # MoySklad's demo account has no EUR: an order in EUR is refused by the send itself.
        cls.eur_pricelist = cls.env["product.pricelist"].create(
            {"name": "EUR prices", "currency_id": cls.eur.id}
        )

    def make_quotation(self, **values):
        return self.env["sale.order"].create({
            "partner_id": self.customer.id, "warehouse_id": self.warehouse.id,
            "order_line": [(0, 0, {"product_id": self.products[0].id, "product_uom_qty": 1,
                                   "price_unit": 10.0})],
            **values,
        })

    def make_purchase_in(self, **values):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor_partner.id,
            "order_line": [(0, 0, {"product_id": self.products[1].id, "product_qty": 2,
                                   "price_unit": 30.0})],
            **values,
        })
        order.button_confirm()
        return order

    def summary(self, action):
        return action["params"]["message"]

    def external_codes(self, kind):
        return sorted(document["externalCode"] for document in self.documents(kind))


@tagged("post_install", "-at_install")
class TestOrderSelectionActions(SelectionBase):
    def test_sale_orders_sent_one_refused_others_skipped(self):
        sent_before = self.make_sale()
        sent_before.action_supplier_send()
        first, second = self.make_sale(), self.make_sale()
        refused = self.make_quotation(pricelist_id=self.eur_pricelist.id)
        refused.action_confirm()
        quotation = self.make_quotation()
        selection = first | refused | quotation | second | sent_before
        posts = len(self.posts("customerorder"))
        action = selection.action_supplier_send_selection()
        # The others went although one was refused before them.
        self.assertEqual(len(self.posts("customerorder")), posts + 2)
        self.assertEqual(self.external_codes("customerorder"),
                         sorted([sent_before.name, first.name, second.name]))
        for order in (first, second):
            self.assertEqual(order.moysklad_exchange, "sent")
            self.assertIn("sent to MoySklad", order.message_ids[0].body)
        self.assertEqual(refused.moysklad_exchange, "error")
        self.assertIn("No MoySklad currency is mapped to EUR", refused.moysklad_order_ids.last_error)
        self.assertIn("No MoySklad currency is mapped to EUR", refused.message_ids[0].body)
        self.assertFalse(quotation.moysklad_order_ids)
        message = self.summary(action)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(action["params"]["title"], "Send to supplier")
        lines = message.split("\n")
        self.assertEqual(lines[0], "2 sent")
        self.assertTrue(lines[1].startswith(
            f"1 refused: {refused.name} — No MoySklad currency is mapped to EUR"), lines[1])
        self.assertEqual(
            lines[2], f"2 skipped: {quotation.name} — not confirmed; {sent_before.name} — already sent"
        )

    def test_purchase_orders_and_receipts(self):
        first, second = self.make_purchase(), self.make_purchase()
        refused = self.make_purchase_in(currency_id=self.eur.id)
        action = (first | refused | second).action_supplier_send_selection()
        self.assertEqual(self.summary(action).split("\n")[0], "2 sent")
        self.assertIn(f"1 refused: {refused.name} — No MoySklad currency", self.summary(action))
        self.assertEqual(self.external_codes("purchaseorder"), sorted([first.name, second.name]))
        self.assertEqual(refused.moysklad_exchange, "error")
        # Their receipts: one in a warehouse no MoySklad store maps, one not validated yet.
        other_warehouse = self.env["stock.warehouse"].create({"name": "Unmapped", "code": "UNM"})
        unmapped = self.make_purchase_in(picking_type_id=other_warehouse.in_type_id.id)
        waiting = self.make_purchase_in()
        for order in (first, second, unmapped):
            self.validate(order.picking_ids)
        receipts = (first | unmapped | waiting | second).picking_ids
        action = receipts.action_supplier_send_selection()
        [bad] = unmapped.picking_ids
        self.assertEqual(sorted(d["name"] for d in self.documents("supply")),
                         sorted((first | second).picking_ids.mapped("name")))
        self.assertIn("No MoySklad store is mapped to the warehouse", bad.moysklad_order_ids.last_error)
        self.assertIn("No MoySklad store is mapped", bad.message_ids[0].body)
        message = self.summary(action)
        self.assertEqual(message.split("\n")[0], "2 sent")
        self.assertIn(f"1 refused: {bad.name} — No MoySklad store is mapped", message)
        self.assertIn(f"1 skipped: {waiting.picking_ids.name} — not validated", message)

    def test_unexpected_error_rolls_back_only_that_order(self):
        first, broken, last = self.make_sale(), self.make_sale(), self.make_sale()
        original = SupplierMoySkladDocuments._draft

        def draft(self_, backend, adapter, record, kind):
            if record == broken:
                raise RuntimeError("the disk is full")
            return original(self_, backend, adapter, record, kind)

        with patch.object(SupplierMoySkladDocuments, "_draft", draft), \
                self.assertLogs(SELECTION_LOGGER, "ERROR"):
            action = (first | broken | last).action_supplier_send_selection()
        # The row made for it before the failure was rolled back with it; the others stayed.
        self.assertFalse(broken.moysklad_order_ids)
        self.assertEqual((first | last).mapped("moysklad_exchange"), ["sent", "sent"])
        self.assertEqual(self.external_codes("customerorder"), sorted([first.name, last.name]))
        self.assertIn("the disk is full", broken.message_ids[0].body)
        self.assertIn(f"1 refused: {broken.name} — Unexpected error: RuntimeError: the disk is full",
                      self.summary(action))

    def test_refresh_updates_each_order(self):
        first, second, never_sent = self.make_purchase(), self.make_purchase(), self.make_purchase()
        (first | second).action_supplier_send_selection()
        by_code = {d["externalCode"]: d["id"] for d in self.documents("purchaseorder")}
        self.set_state("purchaseorder", by_code[first.name], "Получен")
        self.set_state("purchaseorder", by_code[second.name], "Подтвержден")
        action = (first | second | never_sent).action_supplier_refresh_selection()
        self.assertEqual(first.moysklad_status, "Получен")
        self.assertEqual(second.moysklad_status, "Подтвержден")
        self.assertIn("Получен", first.message_ids[0].body)
        self.assertIn("Подтвержден", second.message_ids[0].body)
        self.assertEqual(self.summary(action),
                         f"2 refreshed\n1 skipped: {never_sent.name} — not sent yet")
        self.assertEqual(action["params"]["title"], "Refresh supplier status")
        # Sale orders and transfers the same way.
        sale = self.make_sale()
        sale.action_supplier_send()
        [document] = self.documents("customerorder")
        self.set_state("customerorder", document["id"], "Собран")
        self.validate(first.picking_ids)
        first.picking_ids.action_supplier_send()
        sale.action_supplier_refresh_selection()
        self.assertEqual(sale.moysklad_status, "Собран")
        action = first.picking_ids.action_supplier_refresh_selection()
        self.assertEqual(self.summary(action).split("\n")[0], "1 refreshed")

    def test_refused_without_connector_rights(self):
        orders = self.make_sale() | self.make_sale()
        purchase = self.make_purchase()
        requests = len(self.emulator.requests)
        for user in (self.plain, self.foreign_manager):
            for records in (orders, purchase, purchase.picking_ids):
                for method in ("action_supplier_send_selection",
                               "action_supplier_refresh_selection"):
                    with self.subTest(user=user.login, model=records._name, method=method), \
                            self.assertRaises(AccessError):
                        getattr(records.with_user(user), method)()
        self.assertEqual(len(self.emulator.requests), requests)
        self.assertFalse(orders.moysklad_order_ids | purchase.moysklad_order_ids)

    def test_list_actions_only_for_connector_users(self):
        for model in ("sale.order", "purchase.order", "stock.picking"):
            names = {
                user: {action["name"] for action in self.env["ir.actions.actions"].with_user(user)
                       .get_bindings(model)["action"]}
                for user in (self.plain, self.connector_user)
            }
            for name in ("Send to supplier", "Refresh supplier status"):
                with self.subTest(model=model, action=name):
                    self.assertIn(name, names[self.connector_user])
                    self.assertNotIn(name, names[self.plain])


@tagged("post_install", "-at_install")
class TestOrderSelectionOverRpc(JsonRpc, SelectionBase, HttpCase):
    def test_selection_over_rpc(self):
        orders = self.make_sale() | self.make_sale()
        for method in ("action_supplier_send_selection", "action_supplier_refresh_selection"):
            with self.subTest(method=method):
                self.assertRefused(self.call_kw(self.plain, "sale.order", method, [orders.ids]))
                self.assertRefused(self.execute_kw(self.plain, "sale.order", method, [orders.ids]))
        self.assertFalse(orders.moysklad_order_ids)
        self.assertFalse(self.documents("customerorder"))
        # A salesperson with connector rights sends the selection from the list.
        orders.with_context(mail_auto_subscribe_no_notify=True).user_id = self.salesman
        result, error = self.call_kw(self.salesman, "sale.order", "action_supplier_send_selection",
                                     [orders.ids])
        self.assertFalse(error)
        self.assertEqual(result["params"]["message"], "2 sent")
        self.assertEqual(self.external_codes("customerorder"), sorted(orders.mapped("name")))


@tagged("post_install", "-at_install")
class TestOrderSelectionShate(ShateCase):
    """Purchase orders sent to Shate-M from the list: one refused by the supplier."""

    def setUp(self):
        super().setUp()
        self.ready_to_order()

    def purchase(self, product, qty, confirm=True):
        order = self.env["purchase.order"].create({
            "partner_id": self.vendor.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_qty": qty})],
        })
        if confirm:
            order.button_confirm()
        return order

    def test_selection_sent_one_refused_then_refreshed(self):
        # An article whose offers have a maximum: asking more is refused by the supplier.
        article = next(a for a in self.catalogue.values()
                       if any(o.maximum for o in a.offers) and a not in self.articles)
        too_many = self.env["product.product"].create({"name": article.name})
        self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": too_many.id,
            "external_code": article.code, "external_brand": article.trademark,
        })
        maximum = max(o.maximum for o in article.offers if o.maximum)
        first = self.purchase(self.products[0], 2)
        refused = self.purchase(too_many, maximum + 1)
        last = self.purchase(self.products[1], 1)
        draft = self.purchase(self.products[2], 1, confirm=False)
        action = (first | refused | last | draft).action_supplier_send_selection()
        placed = self.emulator.placed_orders()
        self.assertEqual(len(placed), 2)
        self.assertEqual({str(o["id"]) for o in placed},
                         set((first | last).supplier_order_ids.mapped("external_id")))
        self.assertEqual(refused.supplier_order_ids.state, "error")
        self.assertTrue(refused.order_line.supplier_refused)
        self.assertIn("refused", refused.message_ids[0].body)
        message = action["params"]["message"]
        self.assertEqual(message.split("\n")[0], "2 sent")
        self.assertIn(f"1 refused: {refused.name} — {refused.supplier_order_ids.key}: ", message)
        self.assertIn(f"1 skipped: {draft.name} — not confirmed", message)
        # Sent again: nothing left to send.
        action = (first | last).action_supplier_send_selection()
        self.assertEqual(action["params"]["message"].split("\n")[0], "0 sent")
        self.assertIn("already sent", action["params"]["message"])
        self.assertEqual(len(self.emulator.placed_orders()), 2)
        # Refreshed: each order's lines get their new status.
        new_codes = {
            order: str(self.emulator.advance_status(int(order.order_line.supplier_item_id)))
            for order in (first, last)
        }
        action = (first | refused | last).action_supplier_refresh_selection()
        for order, code in new_codes.items():
            self.assertEqual(order.order_line.supplier_status_code, code)
            self.assertIn(order.order_line.supplier_status, order.message_ids[0].body)
        self.assertEqual(action["params"]["message"],
                         f"2 refreshed\n1 skipped: {refused.name} — not sent yet")


    def test_outcome_of_several_locations_reads_as_sentences(self):
        order = self.purchase(self.products[0], 1, confirm=False)
        self.assertEqual(
            order._supplier_outcome_text(
                f"{order.name}/SHATE-S01: The supplier refused: 107: Not enough stock (5)\n"
                f"{order.name}/SHATE-01: sent as order 7."
            ),
            f"{order.name}/SHATE-S01: The supplier refused: 107: Not enough stock (5). "
            f"{order.name}/SHATE-01: sent as order 7.",
        )
        self.assertEqual(order._supplier_outcome_text(f"{order.name}: nothing to send"),
                         "nothing to send")


@tagged("post_install", "-at_install")
class TestOrderSelectionImsklad(ImskladCase):
    """Sale orders sent to the IMSKLAD warehouse from the list: one without goods refused."""

    def sale(self, lines):
        order = self.env["sale.order"].create({
            "partner_id": self.env.ref("base.res_partner_2").id,
            "warehouse_id": self.warehouse.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1,
                                   "price_unit": price}) for product, price in lines],
        })
        order.action_confirm()
        return order

    def test_selection_sent_one_refused(self):
        first = self.sale([(self.products[0], 150.0)])
        # Only a discount line: no goods for the warehouse.
        refused = self.sale([(self.products[1], -20.0)])
        last = self.sale([(self.products[2], 120.0)])
        action = (first | refused | last).action_supplier_send_selection()
        self.assertEqual(sorted(self.emulator.orders), sorted([first.name, last.name]))
        self.assertEqual((first | last).supplier_order_ids.mapped("state"), ["sent", "sent"])
        self.assertEqual(refused.supplier_order_ids.state, "error")
        self.assertIn("has no product to send", refused.supplier_order_ids.last_error)
        self.assertIn("has no product to send", refused.message_ids[0].body)
        self.assertEqual(
            action["params"]["message"],
            f"2 sent\n1 refused: {refused.name} — {refused.name} has no product to send.",
        )

    def test_refresh_of_orders_the_warehouse_reports_itself(self):
        """Sent to IMSKLAD: skipped by a refresh as sent (its status comes by its calls), not
        as "not sent yet"; an order never sent still reads "not sent yet"."""
        sent = self.sale([(self.products[0], 150.0)])
        sent.action_supplier_send_selection()
        self.assertEqual(sent.supplier_order_ids.state, "sent")
        never = self.sale([(self.products[1], 90.0)])
        action = (sent | never).action_supplier_refresh_selection()
        self.assertEqual(
            action["params"]["message"],
            f"0 refreshed\n2 skipped: {sent.name} — the warehouse reports its status itself; "
            f"{never.name} — not sent yet",
        )
        self.assertEqual(action["params"]["className"], "o_supplier_notification")
