from odoo.tests import tagged

from .imsklad_common import ImskladCase


@tagged("post_install", "-at_install")
class TestImsklad(ImskladCase):
    """The IMSKLAD connection: key probe, goods push by hash, stock pull."""

    def test_connection_setup(self):
        backend = self.backend
        self.assertEqual(backend.imsklad_storage_id, 1)
        self.assertEqual(backend.imsklad_location_id.code, "IMSKLAD")
        self.assertEqual(backend.imsklad_warehouse_id, self.warehouse)
        self.assertTrue(backend.imsklad_callback_token)
        self.assertTrue(backend.imsklad_callback_key)
        self.assertIn(f"/supplier_connector/imsklad/{backend.imsklad_callback_token}",
                      backend.imsklad_callback_url)
        schedules = backend.schedule_ids.mapped("operation")
        self.assertEqual(sorted(schedules), ["pull_billing", "sync_offers"])
        old_key = backend.imsklad_callback_key
        backend.action_imsklad_regenerate_callback_key()
        self.assertNotEqual(backend.imsklad_callback_key, old_key)
        given = self.env["supplier.backend"].create({
            "name": "IMSKLAD given key", "service": "imsklad", "imsklad_callback_key": "given",
        })
        self.assertEqual(given.imsklad_callback_key, "given")
        self.assertTrue(given.imsklad_callback_token)

    def test_connection_ok_and_refused_key(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.actions(), ["get_stock"])
        self.backend.api_key = "wrong-key"
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("rejected", action["params"]["message"])
        self.assertNotIn("wrong-key", action["params"]["message"])

    def test_push_first_unchanged_changed(self):
        log = self.backend.action_push_products()
        self.assertEqual(log["params"]["type"], "success", log["params"]["message"])
        self.assertEqual(self.actions().count("add_good"), 4)
        self.assertEqual(len(self.emulator.goods), 4)
        for binding in self.bindings:
            good = self.emulator.goods[binding.external_code]
            self.assertEqual(binding.external_id, str(good.system_id))
            self.assertTrue(binding.push_hash)
            self.assertTrue(binding.last_push)
        self.assertEqual(self.emulator.goods["SHOP-1"].fields["weight"], 250)
        self.assertEqual(self.last_log("push_products").created, 4)
        # Nothing changed: nothing sent.
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.emulator.requests, [])
        self.assertEqual(self.last_log("push_products").unchanged, 4)
        # One product changed: one update_good.
        self.products[2].list_price = 999
        self.backend.action_push_products()
        self.assertEqual(self.actions(), ["update_good"])
        self.assertEqual(self.emulator.goods["SHOP-2"].fields["price"], 999)
        self.assertEqual(self.last_log("push_products").updated, 1)

    def test_push_adopts_already_existing_good(self):
        # Another Odoo (or a lost answer) created SHOP-0 at the warehouse already.
        from odoo.addons.supplier_connector.api.imsklad import ImskladClient
        from odoo.addons.supplier_connector.emulators.imsklad_demo import DEMO_KEY
        system_id = ImskladClient(api_key=DEMO_KEY, base_url=self.emulator.api_url).add_good(
            {"id": "SHOP-0", "name": "Old name", "price": 1, "cost": 1}
        ).system_id
        self.emulator.reset()
        self.backend.action_push_products()
        binding = self.bindings[0]
        self.assertEqual(binding.external_id, str(system_id))
        self.assertFalse(binding.push_message)
        self.assertEqual(self.emulator.goods["SHOP-0"].fields["name"], "Shop good 0")
        self.assertEqual(self.last_log("push_products").state, "done")
        self.assertEqual(len(self.emulator.goods), 4)

    def test_push_lost_answer_is_adopted_next_time(self):
        # The second add_good is carried out but its answer is lost.
        self.emulator.set_fault("fatal_error", count=1, after=1, processed=True)
        log = self.backend.action_push_products()
        self.assertEqual(log["params"]["type"], "warning", log["params"]["message"])
        failed = self.bindings.filtered("push_message")
        self.assertEqual(failed, self.bindings[1], "a lost answer is an item problem")
        self.assertFalse(failed.external_id)
        self.assertIn("no answer", failed.push_message)
        # The next push adopts what the lost answer created: never a second good.
        self.emulator.clear_faults()
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.actions(), ["add_good", "update_good"])
        self.assertEqual(failed.external_id, str(self.emulator.goods["SHOP-1"].system_id))
        self.assertFalse(failed.push_message)
        self.assertEqual(len(self.emulator.goods), 4)

    def test_stock_pull(self):
        self.backend.action_push_products()
        self.emulator.set_stock("SHOP-0", stock=10, reserved=3)
        self.emulator.set_stock("SHOP-1", stock=5, reserved=0)
        unpushed = self.env["supplier.product"].create({
            "backend_id": self.backend.id,
            "product_id": self.env["product.product"].create({"name": "New"}).id,
            "external_code": "NEW-1",
        })
        self.emulator.reset()
        self.backend.action_sync_offers()
        self.assertEqual(self.actions(), ["get_stock"], "one chunk for all pushed goods")
        first = self.bindings[0]
        self.assertEqual(first.sync_state, "ok")
        self.assertEqual(first.qty_available, 7)
        self.assertEqual(first.offer_ids.location_id, self.backend.imsklad_location_id)
        self.assertEqual(first.offer_ids.quantity, 7)
        self.assertIn("Reserved: 3", first.offer_ids.delivery_label)
        self.assertEqual(self.bindings[1].qty_available, 5)
        self.assertEqual(unpushed.sync_state, "error")
        self.assertIn("push the products first", unpushed.sync_message)
        log = self.last_log("sync_offers")
        self.assertEqual((log.processed, log.failed), (5, 1))

    def test_stock_comparison_and_adjustment(self):
        self.backend.action_push_products()
        self.emulator.set_stock("SHOP-0", stock=10, reserved=3)
        self.emulator.set_stock("SHOP-1", stock=0, reserved=0)
        action = self.backend.action_imsklad_compare_stock()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard.line_ids.product_id, self.products[0],
                         "only where Odoo (0 on hand) differs from IMSKLAD")
        line = wizard.line_ids
        self.assertEqual((line.imsklad_qty, line.imsklad_reserved, line.odoo_qty, line.difference),
                         (10, 3, 0, 10))
        wizard.reason = "Count of November"
        wizard.action_apply()
        location = self.warehouse.lot_stock_id
        self.assertEqual(self.products[0].with_context(location=location.id).qty_available, 10)
        move = self.env["stock.move"].search([("product_id", "=", self.products[0].id)], limit=1)
        self.assertEqual(move.name, "Count of November")
        again = self.backend.action_imsklad_compare_stock()
        self.assertFalse(self.env[again["res_model"]].browse(again["res_id"]).line_ids)

    def test_billing_pull(self):
        self.assertIn("pull_billing", self.backend.schedule_ids.mapped("operation"))
        self.emulator.add_billing(500.0, 1, "Top-up")
        action = self.backend.action_pull_billing()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        operations = self.env["supplier.billing.operation"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertEqual(self.backend.imsklad_balance, self.emulator.balance)
        top_up = operations.filtered(lambda op: op.comment == "Top-up")
        self.assertEqual((top_up.kind, top_up.amount), ("top_up", 500.0))
        self.assertEqual(self.backend.billing_count, len(operations))
        # Pulled again: nothing kept twice.
        self.backend.action_pull_billing()
        self.assertEqual(self.backend.billing_count, len(operations))
