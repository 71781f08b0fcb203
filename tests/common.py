"""Shared fixtures: a real ETM emulator on 127.0.0.1 per test and a connection pointing at it."""

import logging

from odoo.tests import TransactionCase

from odoo.addons.supplier_connector.emulators.etm import EtmEmulator
from odoo.addons.supplier_connector.emulators.etm_demo import demo_catalogue
from odoo.addons.supplier_connector.emulators.shate import ShateEmulator
from odoo.addons.supplier_connector.emulators.shate_demo import DEMO_API_KEY
from odoo.addons.supplier_connector.emulators.shate_demo import (
    demo_catalogue as shate_demo_catalogue,
)

PASSWORD = "Sup3r-Secret-Pwd!"


class EtmCase(TransactionCase):
    """A connection to a fresh emulator, with ``cls.products`` bound by ETM code."""

    product_count = 12

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.catalogue = demo_catalogue()
        cls.codes = list(cls.catalogue)[: cls.product_count]
        # Other connections (the demo one) must not take part in the scheduler runs tested here.
        cls.env["supplier.backend"].search([]).action_archive()
        cls.vendor = cls.env["res.partner"].create({"name": "ETM test vendor", "is_company": True})
        cls.backend = cls.env["supplier.backend"].create({
            "name": "ETM test",
            "service": "etm",
            "partner_id": cls.vendor.id,
            "login": "tester",
            "password": PASSWORD,
            "rate_limit": 0,
            "catalogue_poll_seconds": 0,
            "api_url": "http://127.0.0.1:9/api/v1",
        })
        cls.products = cls.env["product.product"].create([
            {"name": cls.catalogue[code].name, "default_code": cls.catalogue[code].article}
            for code in cls.codes
        ])
        cls.bindings = cls.env["supplier.product"].create([
            {"backend_id": cls.backend.id, "product_id": product.id, "external_code": code}
            for product, code in zip(cls.products, cls.codes, strict=True)
        ])
        cls.rub = cls.env.ref("base.RUB")

    def setUp(self):
        super().setUp()
        self.emulator = self.start_emulator()
        self.backend.api_url = self.emulator.api_url

    def start_emulator(self, **options):
        options.setdefault("users", {"tester": PASSWORD})
        emulator = EtmEmulator(catalogue=self.catalogue, **options).start()
        self.addCleanup(emulator.stop)
        return emulator

    def binding_of(self, code):
        return self.bindings.filtered(lambda b: b.external_code == code)

    def last_log(self, operation="sync_offers"):
        return self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id), ("operation", "=", operation)], limit=1
        )

    def labels(self):
        return [request.label for request in self.emulator.requests]


class ShateCase(TransactionCase):
    """A Shate-M connection to a fresh emulator, eight products bound by article and brand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["supplier.backend"].search([]).action_archive()
        cls.catalogue = shate_demo_catalogue()
        cls.articles = [a for a in cls.catalogue.values() if a.offers][:8]
        cls.vendor = cls.env["res.partner"].create({"name": "Shate-M test", "is_company": True})
        cls.backend = cls.env["supplier.backend"].create({
            "name": "Shate-M test",
            "service": "shate",
            "partner_id": cls.vendor.id,
            "api_key": DEMO_API_KEY,
            "rate_limit": 0,
            "api_url": "http://127.0.0.1:9",
        })
        cls.products = cls.env["product.product"].create([
            {"name": article.name, "default_code": article.code} for article in cls.articles
        ])
        cls.bindings = cls.env["supplier.product"].create([
            {"backend_id": cls.backend.id, "product_id": product.id,
             "external_code": article.code, "external_brand": article.trademark}
            for product, article in zip(cls.products, cls.articles, strict=True)
        ])

    def setUp(self):
        super().setUp()
        self.emulator = self.start_emulator()

    def ready_to_order(self):
        """Terms accepted, references loaded, agreement and delivery address chosen, offers
        synced: what a buyer does before the first purchase order goes to Shate-M."""
        self.backend.write({"order_accept_terms": True, "order_accept_personal_data": True})
        self.backend.action_test_connection()
        refs = self.backend.reference_ids
        self.backend.write({
            "shate_agreement_id": refs.filtered(lambda r: r.code == "SAGR1").id,
            "shate_delivery_address_id": refs.filtered(lambda r: r.kind == "delivery_address")[:1].id,
        })
        self.backend.action_sync_offers()

    def start_emulator(self, **options):
        emulator = ShateEmulator(catalogue=self.catalogue, **options).start()
        self.addCleanup(emulator.stop)
        self.backend.api_url = emulator.api_url
        return emulator

    def last_log(self):
        return self.env["supplier.sync.log"].search(
            [("backend_id", "=", self.backend.id)], limit=1
        )


class CaptureLogs(logging.Handler):
    """Collects every log record of the addon and its HTTP stack, formatted, for secret checks."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def __enter__(self):
        self.targets = [logging.getLogger(name) for name in
                        ("odoo.addons.supplier_connector", "urllib3", "requests")]
        self.levels = [logger.level for logger in self.targets]
        for logger in self.targets:
            logger.addHandler(self)
            logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        for logger, level in zip(self.targets, self.levels, strict=True):
            logger.removeHandler(self)
            logger.setLevel(level)

    @property
    def text(self):
        return "\n".join(self.lines)
