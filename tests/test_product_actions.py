import base64

from odoo.tests import tagged

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestProductActions(EtmCase):
    product_count = 6

    def test_product_sync_button_refreshes_only_this_product_and_says_what_changed(self):
        product = self.products[0]
        action = product.action_supplier_sync()
        binding = self.binding_of(self.codes[0])
        self.assertEqual(binding.sync_state, "ok")
        self.assertEqual(self.emulator.counts()["remains"], 1, "only this product is asked")
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(f"{self.catalogue[self.codes[0]].price:.2f}", action["params"]["message"])
        # The form is reloaded on its own record (a soft reload showed a blank one after "New").
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})
        # Second click: nothing changed, and the user is told so.
        action = product.action_supplier_sync()
        self.assertIn("Nothing changed", action["params"]["message"])

    def test_template_sync_and_server_action_on_a_selection(self):
        self.products[1].product_tmpl_id.action_supplier_sync()
        self.assertEqual(self.binding_of(self.codes[1]).sync_state, "ok")
        server_action = self.env.ref("supplier_connector.action_server_product_supplier_sync")
        selection = self.products[2:5]
        server_action.with_context(
            active_model="product.product", active_ids=selection.ids
        ).run()
        synced = self.bindings.filtered(lambda b: b.sync_state == "ok").product_id
        self.assertEqual(synced, self.products[1] | selection)

    def test_unmapped_product_gets_a_clear_warning(self):
        product = self.env["product.product"].create({"name": "Not mapped"})
        action = product.action_supplier_sync()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("not mapped", action["params"]["message"])

    def test_failure_is_shown_in_plain_words(self):
        self.backend.sudo().password = "wrong"
        action = self.products[0].action_supplier_sync()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("rejected the login", action["params"]["message"])

    def test_enrich_fills_the_product_from_the_card(self):
        product = self.products[0]
        card = self.catalogue[self.codes[0]]
        product.action_supplier_enrich()
        template = product.product_tmpl_id
        self.assertEqual(template.name, card.name)
        self.assertEqual(template.manufacturer_name, card.brand)
        self.assertEqual(template.manufacturer_article, card.article)
        for name, value in card.chars:
            self.assertIn(name, str(template.description))
            self.assertIn(value, str(template.description))
        self.assertTrue(template.image_1920)
        self.assertTrue(base64.b64decode(template.image_1920).startswith(b"\x89PNG"))
        self.assertEqual(self.emulator.counts().get("image"), 1)
        log = self.last_log("enrich")
        self.assertEqual((log.state, log.updated), ("done", 1))

    def test_enrich_refuses_images_from_untrusted_hosts(self):
        card = self.catalogue[self.codes[0]]
        self.emulator.update_product(self.codes[0], image="https://evil.example.com/x.png")
        self.products[0].action_supplier_enrich()
        template = self.products[0].product_tmpl_id
        self.assertEqual(template.name, card.name, "the rest of the card is still applied")
        self.assertFalse(template.image_1920)
        self.assertIn("not trusted", self.last_log("enrich").message)
