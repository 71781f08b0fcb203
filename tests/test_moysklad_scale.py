import logging
import time
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged

from odoo.addons.supplier_connector.emulators.moysklad import MoyskladEmulator
from odoo.addons.supplier_connector.emulators.moysklad_demo import DEMO_LOGIN, DEMO_PASSWORD

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestMoySkladScale(TransactionCase):
    """2,500 synthetic products: three pages of up to 1,000; the same SQL for every full page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["supplier.backend"].search([]).action_archive()
        cls.env.ref("base.RUB").active = True
        cls.backend = cls.env["supplier.backend"].create({
            "name": "MoySklad scale", "service": "moysklad", "login": DEMO_LOGIN,
            "password": DEMO_PASSWORD, "max_retries": 2, "rate_limit": 0,
            "api_url": "http://127.0.0.1:9/api/remap/1.2", "catalogue_create_products": True,
            "partner_id": cls.env["res.partner"].create({"name": "MS scale vendor"}).id,
        })

    def setUp(self):
        super().setUp()
        self.emulator = MoyskladEmulator(2500, clock=lambda: time.time() - 3600).start()
        self.addCleanup(self.emulator.stop)
        self.backend.api_url = self.emulator.api_url

    def test_constant_sql_per_page(self):
        self.backend.action_test_connection()
        Pull = type(self.env["supplier.moysklad.pull"])
        original = Pull._apply_page
        pages = []

        def counted(model, backend, context, items, run):
            before = model.env.cr.sql_log_count
            started = time.perf_counter()
            result = original(model, backend, context, items, run)
            pages.append((len(items), model.env.cr.sql_log_count - before,
                          time.perf_counter() - started))
            return result

        with patch.object(Pull, "_apply_page", counted):
            self.backend.action_import_catalogue()
            first = [page[:2] for page in pages]
            log = self.env["supplier.sync.log"].search(
                [("backend_id", "=", self.backend.id)], limit=1)
            self.assertEqual(log.created, 2500, log.message)
            self.backend.action_moysklad_full_pass()
            pages.clear()
            self.backend.action_import_catalogue()
        log = self.env["supplier.sync.log"].search([("backend_id", "=", self.backend.id)], limit=1)
        self.assertEqual(log.unchanged, 2500, log.message)
        sizes = [size for size, _queries, _seconds in pages]
        self.assertEqual(sizes, [1000, 1000, 500])
        queries = [count for _size, count, _seconds in pages]
        # An unchanged page costs the same few queries whatever its size (the first one also
        # fills the run's small caches: the currencies of the vendor prices, precisions).
        self.assertEqual(queries[1], queries[2])
        self.assertLessEqual(queries[0] - queries[1], 2)
        # Unchanged rows: one read of what Odoo has and one UPDATE of the last sync per page,
        # no ORM read, no offer writer (measured: 10 for the first page, then 9).
        self.assertLess(queries[0], 13)
        # Creating products: Odoo's product creation costs a few queries per template (its
        # variants); measured about 3.1 per product, bounded here.
        self.assertLess(first[1][1] / 1000, 5)
        per_product_ms = 1000 * sum(s for _n, _q, s in pages) / 2500
        _logger.info("MoySklad pull figures: creating pages (rows, queries) %s; unchanged pages "
                     "%s queries; %.3f ms per unchanged product", first, queries, per_product_ms)

    def test_failing_later_page_stops_the_run_after_the_pages_before_it(self):
        # Pages are fetched ahead in threads; the third one (offset 2,000) keeps failing: the
        # run applies the two pages before it, in order, then stops on that page's error in
        # plain words, with no watermark saved (the next run reads everything again).
        self.backend.action_test_connection()
        self.emulator.set_fault("http_5xx", count=None, match=r"offset=2000")
        self.backend.action_import_catalogue()
        log = self.env["supplier.sync.log"].search([("backend_id", "=", self.backend.id)], limit=1)
        self.assertEqual(log.state, "partial")
        self.assertEqual((log.processed, log.created, log.failed), (2000, 2000, 0))
        self.assertIn("did not answer (time-outs or server errors, retried)", log.message)
        self.assertFalse(self.backend.moysklad_watermark)
        created = self.env["supplier.product"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(created), 2000)
        # The pages before the failing one, whole: the first 2,000 products in MoySklad's order.
        with self.emulator.lock:
            ids = [i for kind in ("product", "variant") for i in self.emulator.db.get(kind, {})]
        first_ids = sorted(ids)[:2000]
        self.assertEqual(sorted(created.mapped("external_id")), first_ids)
        offsets = [request.query.get("offset", "0") for request in self.emulator.requests
                   if request.path.endswith("/entity/assortment")]
        # Page 3 asked with its retries (max_retries 2), nothing past the list's end.
        self.assertEqual(sorted(set(offsets)), ["0", "1000", "2000"])
        self.assertEqual(offsets.count("2000"), 3)
