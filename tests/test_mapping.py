from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestMapping(EtmCase):
    product_count = 0

    def test_auto_map_by_vendor_code_reference_and_barcode(self):
        codes = list(self.catalogue)
        by_vendor = self.env["product.product"].create({"name": "Vendor coded"})
        self.env["product.supplierinfo"].create({
            "partner_id": self.vendor.id, "product_tmpl_id": by_vendor.product_tmpl_id.id,
            "product_code": codes[0],
        })
        by_ref = self.env["product.product"].create({"name": "By ref", "default_code": codes[1]})
        by_barcode = self.env["product.product"].create({"name": "By barcode", "barcode": codes[2]})
        twin_a = self.env["product.product"].create({"name": "Twin A", "default_code": codes[3]})
        twin_b = self.env["product.product"].create({"name": "Twin B", "barcode": codes[3]})
        unknown = self.env["product.product"].create({"name": "Unknown", "default_code": "NOPE-1"})
        action = self.backend.action_map_products()
        bindings = self.env["supplier.product"].search([("backend_id", "=", self.backend.id)])
        mapped = {b.product_id: b.external_code for b in bindings}
        self.assertEqual(mapped.get(by_vendor), codes[0])
        self.assertEqual(mapped.get(by_ref), codes[1])
        self.assertEqual(mapped.get(by_barcode), codes[2])
        for product in (twin_a, twin_b, unknown):
            self.assertNotIn(product, mapped)
        log = self.last_log("map_products")
        self.assertEqual(log.created, 3)
        ambiguous_refs = log.line_ids.filtered(lambda line: line.error_code == "ambiguous")
        self.assertTrue(any("Twin A" in ref for ref in ambiguous_refs.mapped("reference")))
        self.assertTrue(any("Twin B" in ref for ref in ambiguous_refs.mapped("reference")))
        # Listed to be mapped by hand, not counted as failed too (issue 11).
        self.assertEqual(log.failed, 0)
        self.assertGreaterEqual(log.not_found, 1)
        self.assertIn(f"Ambiguous, to map by hand: {len(ambiguous_refs)}", log.message)
        self.assertIn("Mapped: 3", action["params"]["message"])
        # Running it again maps nothing twice.
        self.backend.action_map_products()
        self.assertEqual(
            self.env["supplier.product"].search_count([("backend_id", "=", self.backend.id)]), 3
        )

    def test_standard_import_creates_bindings(self):
        product = self.env["product.product"].create({"name": "Imported", "default_code": "IMP-1"})
        result = self.env["supplier.product"].load(
            ["backend_id", "product_id", "external_code"],
            [[self.backend.name, product.display_name, list(self.catalogue)[5]]],
        )
        self.assertFalse(result["messages"], result["messages"])
        binding = self.env["supplier.product"].browse(result["ids"])
        self.assertEqual(binding.product_id, product)
        self.assertEqual(binding.sync_state, "new")

    def test_a_product_is_mapped_once_per_connection(self):
        product = self.env["product.product"].create({"name": "Once"})
        Binding = self.env["supplier.product"]
        Binding.create({"backend_id": self.backend.id, "product_id": product.id, "external_code": "1"})
        with self.assertRaises(IntegrityError), self.cr.savepoint(), mute_logger("odoo.sql_db"):
            Binding.create(
                {"backend_id": self.backend.id, "product_id": product.id, "external_code": "2"}
            )

    def test_codes_that_cannot_be_sent_safely_are_refused_on_the_mapping(self):
        product = self.env["product.product"].create({"name": "Comma code"})
        Binding = self.env["supplier.product"]
        # A comma is ETM's separator: "9536092,1037375" would be read as two codes and get
        # another article's price. Refused with the reason, in plain words.
        for bad, reason in (("9536092,1037375", "comma"), ("9536%2C1", "comma"),
                            ("9536\u200b092", "invisible"), ("EL-12", "digits only")):
            with self.assertRaisesRegex(ValidationError, reason), self.cr.savepoint():
                Binding.create(
                    {"backend_id": self.backend.id, "product_id": product.id, "external_code": bad}
                )
        # Client codes are free text, but a comma still splits them.
        self.backend.etm_code_type = "cli"
        binding = Binding.create(
            {"backend_id": self.backend.id, "product_id": product.id, "external_code": "EL-12"}
        )
        with self.assertRaisesRegex(ValidationError, "comma"), self.cr.savepoint():
            binding.external_code = "EL-12,EL-13"
        self.backend.etm_code_type = "etm"

    def test_auto_map_skips_references_that_cannot_be_sent(self):
        code = next(iter(self.catalogue))
        product = self.env["product.product"].create(
            {"name": "Two refs", "default_code": f"{code},999", "barcode": code}
        )
        log_action = self.backend.action_map_products()
        binding = self.env["supplier.product"].search([("product_id", "=", product.id)])
        self.assertEqual(binding.external_code, code, "the barcode, not the reference with a comma")
        self.assertTrue(log_action)
        asked = [r for r in self.emulator.requests if r.label == "price"]
        self.assertTrue(asked)
        self.assertFalse([r for r in asked if "999" in r.path], "the unsafe code was never sent")
