"""Shared fixture: an IMSKLAD connection to a fresh emulator, its warehouse, four bound products."""

from odoo.tests import TransactionCase

from odoo.addons.supplier_connector.emulators.imsklad import ImskladEmulator
from odoo.addons.supplier_connector.emulators.imsklad_demo import DEMO_KEY


class ImskladMixin:
    @classmethod
    def setup_imsklad(cls):
        cls.env["supplier.backend"].search([]).action_archive()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.backend = cls.env["supplier.backend"].create({
            "name": "IMSKLAD test",
            "service": "imsklad",
            "api_key": DEMO_KEY,
            "rate_limit": 0,
            "max_retries": 0,
            "api_url": "http://127.0.0.1:9",
            "imsklad_warehouse_id": cls.warehouse.id,
        })
        cls.products = cls.env["product.product"].create([
            {"name": f"Shop good {n}", "default_code": f"SHOP-{n}", "is_storable": True,
             "list_price": 100.0 + n, "standard_price": 50.0 + n, "weight": 0.25}
            for n in range(4)
        ])
        cls.bindings = cls.env["supplier.product"].create([
            {"backend_id": cls.backend.id, "product_id": product.id,
             "external_code": product.default_code}
            for product in cls.products
        ])

    def start_imsklad(self, **options):
        emulator = ImskladEmulator(goods=options.pop("goods", []), **options).start()
        self.addCleanup(emulator.stop)
        self.backend.api_url = emulator.api_url
        return emulator

    def actions(self):
        return [request.label for request in self.emulator.requests]

    def last_log(self, operation):
        return self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id), ("operation", "=", operation)], limit=1
        )


class ImskladCase(ImskladMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_imsklad()

    def setUp(self):
        super().setUp()
        self.emulator = self.start_imsklad()
