"""Shared fixture: a UDOMA connection (v2) with two shops, to a fresh emulator started in-process."""

import json
import math

from odoo.tests import TransactionCase

from odoo.addons.supplier_connector.emulators.udoma import UdomaEmulator
from odoo.addons.supplier_connector.emulators.udoma_demo import DEMO_KEY


class UdomaMixin:
    @classmethod
    def setup_udoma(cls, version="v2", batch_size=2):
        env = cls.env
        env["supplier.backend"].search([]).action_archive()
        cls.company = env.company
        cls.warehouse = env["stock.warehouse"].search([("company_id", "=", cls.company.id)], limit=1)
        cls.warehouse2 = env["stock.warehouse"].create({"name": "UDOMA second", "code": "UD2"})
        cls.pricelist = env["product.pricelist"].create({"name": "UDOMA retail"})
        cls.pricelist2 = env["product.pricelist"].create({
            "name": "UDOMA 80 %",
            "item_ids": [(0, 0, {"compute_price": "percentage", "percent_price": 20.0,
                                 "applied_on": "3_global"})],
        })
        cls.discount = env["product.pricelist"].create({
            "name": "UDOMA sale",
            "item_ids": [(0, 0, {"compute_price": "percentage", "percent_price": 10.0,
                                 "applied_on": "3_global"})],
        })
        cls.marketplace = env["res.partner"].create({"name": "UDOMA marketplace", "is_company": True})
        cls.backend = env["supplier.backend"].create({
            "name": "UDOMA test",
            "service": "udoma",
            "api_key": DEMO_KEY,
            "udoma_api_version": version,
            "partner_id": cls.marketplace.id,
            "rate_limit": 0,
            "max_retries": 0,
            "batch_size": batch_size,
            "api_url": "http://127.0.0.1:9/api/online/integration",
        })
        cls.shop1, cls.shop2 = env["supplier.location"].create([
            {"backend_id": cls.backend.id, "code": "s001", "name": "Lenina",
             "warehouse_id": cls.warehouse.id, "pricelist_id": cls.pricelist.id, "sequence": 1},
            {"backend_id": cls.backend.id, "code": "s002", "name": "Mira",
             "warehouse_id": cls.warehouse2.id, "pricelist_id": cls.pricelist2.id, "sequence": 2},
        ])
        cls.products = env["product.product"].create([
            {"name": f"Market good {n}", "default_code": f"UD-{n}", "is_storable": True,
             "list_price": 100.0 + n, "barcode": f"460000000000{n}", "sale_ok": True}
            for n in range(1, 5)
        ])
        cls.bindings = env["supplier.product"].create([
            {"backend_id": cls.backend.id, "product_id": product.id,
             "external_code": product.default_code}
            for product in cls.products
        ])

    def start_udoma(self, **options):
        emulator = UdomaEmulator(**options).start()
        self.addCleanup(emulator.stop)
        self.backend.api_url = emulator.api_url
        return emulator

    def sent(self, method):
        """JSON bodies of the requests received for ``method`` ("import-nomenclature"...)."""
        return [json.loads(r.body) for r in self.emulator.requests if r.path.endswith("/" + method)]

    def last_log(self, operation):
        return self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id), ("operation", "=", operation)], limit=1
        )

    @staticmethod
    def chunks(count, size):
        return math.ceil(count / size)


class UdomaCase(UdomaMixin, TransactionCase):
    version = "v2"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_udoma(cls.version)

    def setUp(self):
        super().setUp()
        self.emulator = self.start_udoma()
