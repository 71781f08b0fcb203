"""Shared fixture: a MoySklad connection to a fresh emulator started in-process.

The emulator's clock starts an hour back, so the demo catalogue and its stock look "changed an
hour ago"; ``advance_clock()`` brings it to now, so what a test changes afterwards is newer than
a watermark taken by a run in between.
"""

import time

from odoo.tests import TransactionCase

from odoo.addons.supplier_connector.emulators.moysklad import MoyskladEmulator
from odoo.addons.supplier_connector.emulators.moysklad_demo import (
    DEMO_LOGIN,
    DEMO_PASSWORD,
    fixed_id,
)


def product_id(code):
    return fixed_id(f"product-{code}")


class MoySkladCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["supplier.backend"].search([]).action_archive()
        cls.rub = cls.env.ref("base.RUB")
        cls.usd = cls.env.ref("base.USD")
        cls.rub.active = True
        cls.company = cls.env.company
        cls.company.currency_id = cls.usd
        # 1 USD = 100 RUB today: 450 RUB are 4.50 USD.
        cls.env["res.currency.rate"].search([("currency_id", "in", (cls.rub | cls.usd).ids)]).unlink()
        cls.env["res.currency.rate"].create({
            "currency_id": cls.rub.id, "rate": 100.0, "company_id": cls.company.id,
            "name": "2000-01-01",
        })
        cls.vendor = cls.env["res.partner"].create({"name": "MoySklad vendor", "is_company": True})
        cls.backend = cls.env["supplier.backend"].create({
            "name": "MoySklad test",
            "service": "moysklad",
            "partner_id": cls.vendor.id,
            "login": DEMO_LOGIN,
            "password": DEMO_PASSWORD,
            "rate_limit": 0,
            # Runs follow each other within MoySklad's 3-second window here: a 429 is waited
            # out (X-Lognex-Retry-After) and retried, as with the default settings.
            "max_retries": 2,
            "api_url": "http://127.0.0.1:9/api/remap/1.2",
            "catalogue_create_products": True,
        })

    def setUp(self):
        super().setUp()
        self.clock_offset = -3600.0
        self.emulator = MoyskladEmulator(
            "demo", clock=lambda: time.time() + self.clock_offset
        ).start()
        self.addCleanup(self.emulator.stop)
        self.backend.api_url = self.emulator.api_url

    def advance_clock(self):
        self.clock_offset = 0.0

    def test_connection(self):
        return self.backend.action_test_connection()

    def import_catalogue(self):
        self.backend.action_import_catalogue()
        return self.last_log("import_catalogue")

    def sync_stock(self):
        self.backend.action_sync_offers()
        return self.last_log("sync_offers")

    def last_log(self, operation):
        return self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id), ("operation", "=", operation)], limit=1
        )

    def requests(self, label_part=""):
        return [r for r in self.emulator.requests if label_part in (r.path or "")]

    def binding(self, code):
        return self.env["supplier.product"].search([
            ("backend_id", "=", self.backend.id), ("external_id", "=", product_id(code)),
        ])

    def reference(self, kind, name):
        return self.backend.reference_ids.filtered(lambda r: r.kind == kind and r.name == name)

    def update_product(self, code, body):
        with self.emulator.lock:
            self.emulator.update("product", product_id(code), body)
