"""Issue 11: enrichment and price moves leave a note on the product's chatter."""

from odoo.tests import tagged

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestChatterTraces(EtmCase):
    product_count = 3

    def notes(self, product, text):
        return self.env["mail.message"].search([
            ("model", "=", "product.template"), ("res_id", "=", product.product_tmpl_id.id),
            ("body", "ilike", text),
        ])

    def test_enrich_posts_what_changed_once_and_nothing_when_unchanged(self):
        product = self.products[0]
        product.name = old_name = "Named by the buyer"
        card = self.catalogue[self.codes[0]]
        product.action_supplier_enrich()
        notes = self.notes(product, "Enriched from")
        self.assertEqual(len(notes), 1)
        body = str(notes.body)
        self.assertIn(self.backend.name, body)
        self.assertIn(f"{old_name} → {card.name}", body)
        self.assertIn("Image updated", body)
        self.assertFalse(self.notes(self.products[1], "Enriched from"), "only the product enriched")
        # A second run finds everything as it is: no note, counted unchanged.
        product.action_supplier_enrich()
        self.assertEqual(len(self.notes(product, "Enriched from")), 1)
        log = self.last_log("enrich")
        self.assertEqual((log.updated, log.unchanged), (0, 1))
        # One detail changes at the supplier: the note says only that.
        self.emulator.update_product(self.codes[0], name="Renamed at the supplier")
        product.action_supplier_enrich()
        notes = self.notes(product, "Enriched from")
        self.assertEqual(len(notes), 2)
        self.assertIn(f"{card.name} → Renamed at the supplier", str(notes[0].body))
        self.assertNotIn("Image updated", str(notes[0].body))

    def test_price_move_above_the_threshold_posts_one_note_per_product(self):
        self.backend.price_alert_percent = 10.0
        self.backend.action_sync_offers()
        self.assertFalse(self.notes(self.products[0], "Price moved"), "a first price is no move")
        binding = self.binding_of(self.codes[0])
        old = binding.price
        # A small move is in the history, not on the chatter.
        self.emulator.set_price(self.codes[0], price=round(old * 1.05, 2))
        self.backend.action_sync_offers()
        self.assertFalse(self.notes(self.products[0], "Price moved"))
        # A large one is told: which connection, old → new.
        small = binding.price
        self.emulator.set_price(self.codes[0], price=round(small * 1.25, 2))
        self.emulator.set_price(self.codes[1], price=round(self.binding_of(self.codes[1]).price * 1.5, 2))
        self.backend.action_sync_offers()
        notes = self.notes(self.products[0], "Price moved")
        self.assertEqual(len(notes), 1)
        body = str(notes.body)
        self.assertIn(self.backend.name, body)
        self.assertIn(f"{small:.2f} → {round(small * 1.25, 2):.2f}", body)
        self.assertIn("+25.0 %", body)
        self.assertEqual(len(self.notes(self.products[1], "Price moved")), 1)
        self.assertFalse(self.notes(self.products[2], "Price moved"), "its price did not move")
        # An unchanged run posts nothing more.
        self.backend.action_sync_offers()
        self.assertEqual(len(self.notes(self.products[0], "Price moved")), 1)
