"""ETM codes on the way to the service: unsafe ones never sent, client codes learn their ETM code."""

from odoo.tests import tagged

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestEtmCodes(EtmCase):
    product_count = 3

    def price_paths(self):
        return [r.raw_path for r in self.emulator.requests if r.label == "price"]

    def test_a_stored_unsafe_code_is_never_sent_and_says_why(self):
        # A mapping saved before codes were checked (the constraint refuses it now).
        bad = self.binding_of(self.codes[0])
        self.env.cr.execute(
            "UPDATE supplier_product SET external_code = %s WHERE id = %s",
            (f"{self.codes[0]},{self.codes[1]}", bad.id),
        )
        bad.invalidate_recordset()
        self.backend.action_sync_offers()
        self.assertEqual(bad.sync_state, "error")
        self.assertIn("comma", bad.sync_message)
        self.assertIn("Fix it on the mapping", bad.sync_message)
        for path in self.price_paths():
            self.assertNotIn("%2C".join(self.codes[:2]), path.replace("%2c", "%2C"))
        # The others were priced as usual, each with its own price.
        for code in self.codes[1:]:
            binding = self.binding_of(code)
            self.assertEqual(binding.sync_state, "ok")
            self.assertAlmostEqual(binding.price, self.catalogue[code].price, places=2)

    def test_client_codes_keep_the_etm_code_they_learn(self):
        self.backend.etm_code_type = "cli"
        for code, binding in zip(self.codes, self.bindings, strict=True):
            binding.write({"external_code": self.catalogue[code].cli_code})
        self.backend.action_sync_offers()
        for code, binding in zip(self.codes, self.bindings, strict=True):
            self.assertEqual(binding.sync_state, "ok", binding.sync_message)
            self.assertEqual(binding.external_id, str(self.catalogue[code].etm_code))
            self.assertAlmostEqual(binding.price, self.catalogue[code].price, places=2)
        # The next run matches rows by the stored ETM code: no product card asked again.
        cards = len([r for r in self.emulator.requests if r.label == "goods"])
        self.backend.action_sync_offers()
        self.assertEqual(len([r for r in self.emulator.requests if r.label == "goods"]), cards)
