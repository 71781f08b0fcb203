"""Issue 11: the Overview's figures and their lists, runs under way, auto-mapping counts, Test
connection's chatter, offers as a buyer reads them, and who may read the figures."""

import time
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..models.sync_run import SyncRun
from .common import EtmCase, ShateCase
from .rights_common import JsonRpc, RightsUsers

FIGURES = ("products_ok", "products_stale", "products_not_found", "products_failing",
           "orders_waiting", "orders_refused")


class DashboardFixture:
    """Eight mappings, two in each product state, and supplier orders in every state."""

    product_count = 8

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = fields.Datetime.now()
        b = cls.bindings
        old = now - timedelta(hours=cls.backend.stale_after_hours + 5)
        rows = [
            ("ok", now), ("ok", now - timedelta(hours=1)),  # up to date
            ("ok", old), ("new", False),  # stale: too old, never answered
            ("not_found", old), ("not_found", now),  # not found, however old
            ("error", now), ("error", False),  # failing
        ]
        for binding, (state, when) in zip(b, rows, strict=True):
            binding.write({"sync_state": state, "last_sync": when})
        cls.expected_products = {
            "ok": b[0] | b[1], "stale": b[2] | b[3], "not_found": b[4] | b[5], "failing": b[6] | b[7],
        }
        Order = cls.env["supplier.order"]
        cls.orders = Order.create([
            {"backend_id": cls.backend.id, "key": f"DASH-{state}-{i}", "state": state}
            for i, state in enumerate(("to_send", "sending", "error", "error", "error", "sent"))
        ])
        # Another connection's records never count here.
        cls.other = cls.env["supplier.backend"].create({"name": "Other ETM", "service": "etm"})
        cls.env["supplier.product"].create({
            "backend_id": cls.other.id, "product_id": cls.products[0].id, "external_code": "1",
        })
        Order.create({"backend_id": cls.other.id, "key": "OTHER-1", "state": "error"})


@tagged("post_install", "-at_install")
class TestDashboard(DashboardFixture, EtmCase):

    def test_figures_match_the_records(self):
        backend = self.backend
        self.assertEqual([backend[name] for name in FIGURES], [2, 2, 2, 2, 2, 3])
        self.assertEqual(sum(backend[name] for name in FIGURES[:4]), backend.product_count)
        self.assertEqual([self.other[name] for name in FIGURES], [0, 1, 0, 0, 0, 1])

    def test_each_figure_opens_its_records(self):
        for figure, expected in self.expected_products.items():
            with self.subTest(figure=figure):
                action = getattr(self.backend, f"action_dashboard_products_{figure}")()
                self.assertEqual(action["res_model"], "supplier.product")
                self.assertEqual(self.env["supplier.product"].search(action["domain"]), expected)
        orders = {
            "waiting": self.orders.filtered(lambda o: o.state in ("to_send", "sending")),
            "refused": self.orders.filtered(lambda o: o.state == "error"),
        }
        for figure, expected in orders.items():
            with self.subTest(figure=figure):
                action = getattr(self.backend, f"action_dashboard_orders_{figure}")()
                self.assertEqual(action["res_model"], "supplier.order")
                self.assertEqual(self.env["supplier.order"].search(action["domain"]), expected)
                self.assertEqual(len(expected), self.backend[f"orders_{figure}"])

    def test_figures_are_counted_in_bulk(self):
        more = self.env["supplier.backend"].create([
            {"name": f"More {i}", "service": "etm"} for i in range(3)
        ])
        # Each with a last sync and a run under way, as in a live database.
        self.env["supplier.sync.log"].create([
            {"backend_id": backend.id, "operation": "sync_offers", "state": state, "total": 3}
            for backend in self.backend | self.other | more for state in ("done", "running")
        ])

        def queries(backends):
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            backends.mapped("products_ok")
            backends.mapped("orders_refused")
            backends.mapped("next_run_at")
            backends.mapped("last_run_log_id")
            backends.mapped("running_estimated_end")
            backends.mapped("product_count")
            return self.cr.sql_log_count - before

        queries(self.backend)  # warm the caches that are not the figures'
        # Grouped queries: as many for five connections as for one.
        self.assertEqual(queries(self.backend | self.other | more), queries(self.backend))

    def test_next_run_is_the_earliest_enabled_schedule(self):
        soon = fields.Datetime.now() + timedelta(minutes=7)
        schedules = self.backend.schedule_ids
        schedules.write({"next_call": soon + timedelta(days=1), "enabled": True})
        schedules[0].next_call = soon
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.next_run_at, soon)
        schedules[0].enabled = False
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.next_run_at, soon + timedelta(days=1))
        schedules.write({"enabled": False})
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.next_run_at)
        self.assertFalse(self.backend.budget_label, "ETM keeps no request budget")

    def test_last_run_is_the_last_sync_not_a_mapping(self):
        self.assertFalse(self.backend.last_run_log_id)
        self.backend.action_sync_offers()
        sync_log = self.last_log()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.last_run_log_id, sync_log)
        state = sync_log.state
        self.assertEqual(self.backend.last_sync_state, state)
        # Two products share a code: auto-mapping lists them, the last sync is unchanged.
        code = list(self.catalogue)[20]
        self.env["product.product"].create([
            {"name": "Twin A", "default_code": code}, {"name": "Twin B", "barcode": code},
        ])
        self.backend.action_map_products()
        mapping = self.last_log("map_products")
        self.assertEqual(
            len(mapping.line_ids.filtered(lambda line: line.error_code == "ambiguous")), 2
        )
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.last_run_log_id, sync_log)
        self.assertEqual(self.backend.last_sync_state, state)
        action = self.backend.action_open_last_run()
        self.assertEqual((action["res_model"], action["res_id"]), ("supplier.sync.log", sync_log.id))

    def test_dashboard_menu_comes_first(self):
        for root in ("menu_supplier_root_stock", "menu_supplier_root_purchase"):
            menu = self.env.ref(f"supplier_connector.{root}")
            first = menu.child_id.sorted("sequence")[0]
            self.assertEqual(first.name, "Overview")
            self.assertEqual(first.action, self.env.ref("supplier_connector.action_supplier_dashboard"))


@tagged("post_install", "-at_install")
class TestRunProgress(EtmCase):
    product_count = 5

    def test_a_checkpoint_shows_done_total_and_an_estimated_end(self):
        run = SyncRun(self.env, self.backend, "sync_offers", "cron", total=10)
        log = run.log
        self.assertEqual(self.backend.running_log_id, log, "the connection shows its run")
        self.assertEqual(log.progress_label, "0 of 10")
        self.assertFalse(log.estimated_end, "nothing done yet: no estimate")
        run.add(processed=4)
        run._started = time.monotonic() - 40  # the first four took 40 s
        run.checkpoint(None, remaining=6)
        log.invalidate_recordset()
        self.assertEqual(log.state, "running")
        self.assertEqual((log.processed, log.total), (4, 10))
        self.assertEqual(log.progress_label, "4 of 10")
        self.assertAlmostEqual(log.progress, 40.0)
        # Ten items at 10 s each: about 100 s after the start.
        expected = log.start + timedelta(seconds=100)
        self.assertLess(abs((log.estimated_end - expected).total_seconds()), 2)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.running_estimated_end, log.estimated_end)
        self.assertEqual(self.backend.running_progress_label, "4 of 10")
        run.add(processed=6)
        run.finish(None)
        self.backend.invalidate_recordset()
        self.assertFalse(log.estimated_end, "a finished run has no estimate")
        self.assertFalse(self.backend.running_log_id)
        self.assertEqual(log.progress_label, "10 of 10")

    def test_sync_now_states_its_total_and_background_runs_are_queued(self):
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual((log.total, log.processed), (5, 5))
        self.assertFalse(log.estimated_end)
        # More products than the form lets a web request wait for: queued, and shown so.
        action = self.backend.with_context(sync_in_background_over=2).action_sync_offers()
        self.assertIn("background", action["params"]["message"])
        self.backend.invalidate_recordset()
        self.assertTrue(self.backend.run_queued)
        self.assertFalse(self.backend.running_log_id)


@tagged("post_install", "-at_install")
class TestAutoMappingCounts(EtmCase):
    product_count = 0

    def test_ambiguous_is_listed_not_failed_and_a_stopped_run_fails_what_it_did_not_ask(self):
        codes = list(self.catalogue)
        Product = self.env["product.product"]
        Product.create([
            {"name": "Twin A", "default_code": codes[3]}, {"name": "Twin B", "barcode": codes[3]},
            {"name": "Mappable", "default_code": codes[4]},
        ])
        self.backend.action_map_products()
        log = self.last_log("map_products")
        ambiguous = log.line_ids.filtered(lambda line: line.error_code == "ambiguous")
        self.assertEqual(len(ambiguous), 2)
        self.assertEqual(log.failed, 0, "an ambiguous product is not also counted as failed")
        self.assertEqual(log.state, "done")
        self.assertIn("Ambiguous, to map by hand: 2", log.message)
        self.assertEqual(
            log.created + log.not_found + len(ambiguous) + log.failed, log.processed,
            "each product is counted once",
        )
        # The service is down: what could not be asked is failed, not "not found".
        Product.create({"name": "Asked later", "default_code": codes[5]})
        self.backend.write({"api_url": "http://127.0.0.1:9/api/v1", "max_retries": 0})
        self.backend.action_map_products()
        log = self.last_log("map_products")
        self.assertIn(log.state, ("partial", "failed"))
        self.assertGreaterEqual(log.failed, 1)
        self.assertEqual(log.created + log.not_found + 2 + log.failed, log.processed)
        self.assertFalse(self.backend.last_run_log_id, "no sync ran: mapping runs are not syncs")


@tagged("post_install", "-at_install")
class TestTestConnectionChatter(EtmCase):
    product_count = 2

    def notes(self):
        return self.backend.message_ids.filtered(lambda m: "Connection test" in (m.body or ""))

    def test_notes_on_failure_and_change_and_the_chatter_reloads(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        follow = action["params"]["next"]
        self.assertEqual(follow["tag"], "supplier_connector.reload_thread")
        self.assertEqual(follow["params"]["model"], "supplier.backend")
        self.assertEqual(follow["params"]["id"], self.backend.id)
        self.assertEqual(follow["params"]["next"], {"type": "ir.actions.act_window_close"})
        self.assertEqual(len(self.notes()), 1, "the first success is noted")
        self.assertEqual(self.backend.last_test_state, "ok")
        self.backend.action_test_connection()
        self.assertEqual(len(self.notes()), 1, "a success again is no news")
        self.backend.sudo().password = "wrong"
        self.backend.action_reset_session()
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(action["params"]["next"]["tag"], "supplier_connector.reload_thread")
        self.backend.action_test_connection()
        self.assertEqual(len(self.notes()), 3, "every failure is noted")
        self.assertEqual(self.backend.last_test_state, "failed")


@tagged("post_install", "-at_install")
class TestOfferLabels(EtmCase):
    product_count = 1

    def offer(self, **values):
        location = self.env["supplier.location"].create({
            "backend_id": self.backend.id, "code": values.pop("code", "11"),
            "name": "Central", "location_type": values.pop("kind", "rc"),
        })
        return self.env["supplier.offer"].create(
            dict({"binding_id": self.bindings.id, "location_id": location.id}, **values)
        )

    def test_store_types_and_delivery_read_as_words(self):
        offer = self.offer(delivery_label="складе производителя", delivery_days=3)
        self.assertEqual(offer.location_type_label, "Regional centre")
        self.assertEqual(offer.delivery_text, "At the складе производителя: delivery in 3 days")
        names = {
            "crs": "Distribution warehouse", "op": "Sales office", "Internal": "Supplier's own stock",
            "External": "Partner's stock", "odd": "odd",
        }
        for i, (kind, name) in enumerate(names.items()):
            with self.subTest(kind=kind):
                self.assertEqual(self.offer(code=f"x{i}", kind=kind).location_type_label, name)
        self.assertEqual(self.offer(code="m", delivery_label="Stock: 5").delivery_text, "Stock: 5")
        self.assertEqual(self.offer(code="d", delivery_days=2).delivery_text, "Delivery in 2 days")
        self.assertEqual(self.offer(code="d1", delivery_days=1).delivery_text, "Delivery in 1 day")
        self.bindings.write({"delivery_label": "складе производителя", "delivery_days": 14})
        self.assertEqual(
            self.bindings.delivery_text, "At the складе производителя: delivery in 14 days"
        )
        self.assertFalse(self.offer(code="e").delivery_text)

    def test_views_show_zero_prices_empty_and_tell_offers_apart(self):
        for xmlid in ("supplier_offer_view_list", "supplier_product_view_form"):
            arch = self.env.ref(f"supplier_connector.{xmlid}").arch
            with self.subTest(view=xmlid):
                self.assertIn('name="price" invisible="not price"', arch)
                for name in ("external_offer_id", "delivery_date", "delivery_text",
                             "location_type_label"):
                    self.assertIn(f'name="{name}"', arch)


@tagged("post_install", "-at_install")
class TestDashboardBudget(ShateCase):

    def test_requests_left_come_from_the_saved_budget(self):
        self.assertEqual(self.backend.budget_left, 2000)
        self.assertIn("2,000 of 2,000 per 15 minutes", self.backend.budget_label)
        self.backend.action_sync_offers()
        self.backend.invalidate_recordset()
        self.assertLess(self.backend.budget_left, 2000)


@tagged("post_install", "-at_install")
class TestDashboardRightsOverRpc(RightsUsers, JsonRpc, DashboardFixture, HttpCase, EtmCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    def test_figures_are_read_only_by_connector_users_of_the_company(self):
        args = [self.backend.ids, list(FIGURES)]
        for who in ("plain", "foreign_manager"):
            with self.subTest(user=who):
                self.assertRefused(self.call_kw(getattr(self, who), "supplier.backend", "read", args))
                self.assertRefused(self.call_kw(
                    getattr(self, who), "supplier.backend", "action_dashboard_products_failing",
                    [self.backend.ids],
                ))
        result, error = self.call_kw(self.connector_user, "supplier.backend", "read", args)
        self.assertFalse(error, error and error["message"])
        self.assertEqual([result[0][name] for name in FIGURES], [2, 2, 2, 2, 2, 3])
        result, error = self.call_kw(
            self.connector_user, "supplier.backend", "action_dashboard_orders_refused",
            [self.backend.ids],
        )
        self.assertFalse(error, error and error["message"])
        self.assertEqual(len(self.env["supplier.order"].search(result["domain"])), 3)
