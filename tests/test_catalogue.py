from odoo.tests import tagged

from .common import EtmCase


@tagged("post_install", "-at_install")
class TestCatalogueImport(EtmCase):
    product_count = 0

    def setUp(self):
        super().setUp()
        self.items = list(self.catalogue.values())
        Product = self.env["product.product"]
        self.by_client_code = Product.create(
            {"name": "Client coded", "default_code": self.items[0].cli_code}
        )
        self.by_article = Product.create({
            "name": "By article", "manufacturer_article": self.items[1].article,
            "manufacturer_name": self.items[1].brand,
        })
        vendor_coded = Product.create({"name": "By ETM code"})
        self.env["product.supplierinfo"].create({
            "partner_id": self.vendor.id, "product_tmpl_id": vendor_coded.product_tmpl_id.id,
            "product_code": self.items[2].etm_code,
        })
        self.by_etm_code = vendor_coded

    def catalogue_bindings(self):
        return self.env["supplier.product"].search([("backend_id", "=", self.backend.id)])

    def test_import_matches_by_client_code_article_and_etm_code(self):
        self.backend.action_import_catalogue()
        log = self.last_log("import_catalogue")
        self.assertEqual(log.state, "done", log.message)
        mapped = {b.product_id: b for b in self.catalogue_bindings()}
        self.assertEqual(mapped[self.by_client_code].external_id, self.items[0].etm_code)
        self.assertEqual(mapped[self.by_article].external_code, self.items[1].etm_code)
        self.assertEqual(mapped[self.by_etm_code].external_code, self.items[2].etm_code)
        self.assertEqual(len(mapped), 3)
        self.assertEqual(log.processed, len(self.items))
        self.assertEqual(log.not_found, len(self.items) - 3)
        self.assertFalse(self.backend.catalogue_job_ref)
        self.assertEqual(self.emulator.counts()["job_create"], 1)
        # Importing again creates nothing new (idempotent).
        self.backend.action_import_catalogue()
        self.assertEqual(len(self.catalogue_bindings()), 3)
        self.assertEqual(self.last_log("import_catalogue").unchanged, 3)

    def test_import_can_create_missing_products(self):
        self.backend.catalogue_create_products = True
        self.backend.action_import_catalogue()
        bindings = self.catalogue_bindings()
        self.assertEqual(len(bindings), len(self.items))
        created = bindings.filtered(lambda b: b.external_code == self.items[5].etm_code).product_id
        self.assertEqual(created.name, self.items[5].name)
        self.assertEqual(created.manufacturer_name, self.items[5].brand)
        self.assertEqual(created.default_code, self.items[5].cli_code)
        # The new mappings sync right away.
        self.backend.action_sync_offers()
        self.assertEqual(set(bindings.mapped("sync_state")), {"ok"})

    def test_file_not_ready_is_picked_up_by_the_scheduler(self):
        emulator = self.start_emulator(job_polls_until_done=4)
        self.backend.write({"api_url": emulator.api_url, "catalogue_poll_count": 1})
        self.backend.action_import_catalogue()
        self.assertTrue(self.backend.catalogue_job_ref)
        self.assertIn("still preparing", self.last_log("import_catalogue").message)
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "import_catalogue")
        self.assertFalse(schedule.enabled)
        for _poll in range(4):
            schedule.next_call = False
            self.env["supplier.backend.schedule"]._cron_run_due()
            if not self.backend.catalogue_job_ref:
                break
        self.assertFalse(self.backend.catalogue_job_ref)
        self.assertEqual(len(self.catalogue_bindings()), 3)
        self.assertEqual(emulator.counts()["job_create"], 1, "the same job is polled, not restarted")

    def test_failed_job_is_reported(self):
        emulator = self.start_emulator(job_fail=True)
        self.backend.api_url = emulator.api_url
        self.backend.action_import_catalogue()
        log = self.last_log("import_catalogue")
        self.assertEqual(log.state, "failed")
        self.assertIn("rejected", log.message)
        self.assertFalse(self.backend.catalogue_job_ref)
