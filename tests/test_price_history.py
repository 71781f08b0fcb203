"""Issue 11: price history and alerts, the product filters, who may read them."""

from datetime import timedelta
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.sql_db import Cursor
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import EtmCase
from .rights_common import JsonRpc, RightsUsers


class PriceHistoryCase(EtmCase):
    product_count = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.price_alert_percent = 10.0
        cls.History = cls.env["supplier.price.history"]
        cls.activity_type = cls.env.ref("supplier_connector.mail_activity_type_price_moved")

    def history(self, binding=None):
        domain = [("backend_id", "=", self.backend.id)]
        if binding:
            domain.append(("binding_id", "=", binding.id))
        return self.History.search(domain, order="id")

    def alerts(self, product=None):
        domain = [("activity_type_id", "=", self.activity_type.id),
                  ("res_model", "=", "product.template")]
        if product:
            domain.append(("res_id", "=", product.product_tmpl_id.id))
        return self.env["mail.activity"].search(domain, order="id")


@tagged("post_install", "-at_install")
class TestPriceHistory(PriceHistoryCase):
    def test_a_price_change_writes_one_row_and_an_unchanged_run_none(self):
        self.backend.action_sync_offers()
        first_log = self.last_log()
        first = self.history()
        # The first price of each mapping starts its chart; it is no move and no alert.
        self.assertEqual(len(first), 4)
        self.assertEqual(set(first.mapped("is_first")), {True})
        self.assertEqual(first.log_id, first_log)
        self.assertEqual(first.mapped("old_price"), [0.0] * 4)
        self.assertFalse(self.alerts())

        self.backend.action_sync_offers()
        self.assertEqual(self.history(), first, "an unchanged run writes no row")

        code = self.codes[1]
        binding = self.binding_of(code)
        old = binding.price
        self.emulator.set_price(code, price=round(old * 1.05, 2))
        self.backend.action_sync_offers()
        run = self.last_log()
        new_rows = self.history() - first
        self.assertEqual(len(new_rows), 1)
        self.assertEqual(new_rows.binding_id, binding)
        self.assertEqual(new_rows.product_id, binding.product_id)
        self.assertAlmostEqual(new_rows.old_price, old, places=2)
        self.assertAlmostEqual(new_rows.new_price, round(old * 1.05, 2), places=2)
        self.assertEqual(new_rows.currency_id, self.rub)
        self.assertEqual(new_rows.old_currency_id, self.rub)
        self.assertEqual(new_rows.log_id, run)
        self.assertFalse(new_rows.is_first)
        self.assertAlmostEqual(new_rows.change_percent, 5.0, delta=0.01)
        # 5 % is under the connection's 10 %: kept, not alerted.
        self.assertFalse(new_rows.alert_sent)
        self.assertFalse(self.alerts())
        # The product's chart has both points: the first price and the move.
        self.assertEqual(binding.product_id.product_tmpl_id.supplier_price_change_count, 2)

        self.backend.action_sync_offers()
        self.assertEqual(self.history() - first, new_rows, "the same price again: no row")

    def history_inserts(self, run):
        """The INSERT statements into the history table while ``run()`` runs."""
        seen = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            text = getattr(query, "code", query)
            if isinstance(text, str) and 'INSERT INTO "supplier_price_history"' in text:
                seen.append(text)
            return execute(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", spy):
            run()
        return seen

    def test_history_costs_one_insert_per_batch_and_nothing_when_unchanged(self):
        self.backend.batch_size = 2
        self.assertEqual(len(self.history_inserts(self.backend.action_sync_offers)), 2)
        self.assertEqual(self.history_inserts(self.backend.action_sync_offers), [])
        for code in self.codes:
            self.emulator.set_price(code, price=round(self.binding_of(code).price * 1.02, 2))
        before = self.history()
        self.assertEqual(len(self.history_inserts(self.backend.action_sync_offers)), 2)
        self.assertEqual(len(self.history() - before), 4, "4 changes in 2 batches, one INSERT each")

    def test_a_move_above_the_threshold_posts_one_activity_once(self):
        buyer = new_test_user(self.env, "sc_buyer", groups="base.group_user,purchase.group_purchase_user")
        self.backend.action_sync_offers()
        code = self.codes[0]
        binding = self.binding_of(code)
        template = binding.product_id.product_tmpl_id
        template.with_company(self.backend.company_id).responsible_id = buyer
        old = binding.price
        self.emulator.set_price(code, price=round(old * 1.5, 2))
        self.backend.action_sync_offers()
        activity = self.alerts(binding.product_id)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, buyer)
        self.assertIn("+50.0 %", activity.summary)
        self.assertIn(self.backend.name, activity.summary)
        self.assertIn(code, str(activity.note))
        row = self.history(binding).filtered(lambda r: not r.is_first)
        self.assertTrue(row.alert_sent)
        self.assertTrue(row.above_threshold)

        # The next runs see the same price: no second activity.
        self.backend.action_sync_offers()
        self.backend.action_sync_offers()
        self.assertEqual(self.alerts(), activity)

        # A new move is a new alert; a product without an active responsible goes to the
        # connection's "Price alerts to" user.
        watcher = new_test_user(self.env, "sc_watcher", groups="base.group_user")
        self.backend.price_alert_user_id = watcher
        other = self.binding_of(self.codes[2])
        other.product_id.product_tmpl_id.with_company(self.backend.company_id).responsible_id = (
            self.env.ref("base.user_root")  # OdooBot: archived, never a buyer
        )
        self.emulator.set_price(code, price=round(old, 2))
        self.emulator.set_price(self.codes[2], price=round(other.price * 0.8, 2))
        self.backend.action_sync_offers()
        new = self.alerts() - activity
        self.assertEqual(len(new), 2)
        self.assertEqual(new.filtered(lambda a: a.res_id == template.id).user_id, buyer)
        drop = new.filtered(lambda a: a.res_id == other.product_id.product_tmpl_id.id)
        self.assertEqual(drop.user_id, watcher)
        self.assertIn("-20.0 %", drop.summary)

    def test_no_threshold_no_alert_and_the_list_follows_the_current_threshold(self):
        self.backend.price_alert_percent = 0
        self.backend.action_sync_offers()
        small, large = self.binding_of(self.codes[0]), self.binding_of(self.codes[1])
        self.emulator.set_price(self.codes[0], price=round(small.price * 1.06, 2))
        self.emulator.set_price(self.codes[1], price=round(large.price * 1.30, 2))
        self.backend.action_sync_offers()
        self.assertFalse(self.alerts())
        moves = self.history().filtered(lambda r: not r.is_first)
        self.assertEqual(moves.binding_id, small | large)
        above = [("backend_id", "=", self.backend.id), ("above_threshold", "=", True)]
        self.assertFalse(self.History.search(above))
        self.backend.price_alert_percent = 20
        self.assertEqual(self.History.search(above).binding_id, large)
        self.backend.price_alert_percent = 5
        self.assertEqual(self.History.search(above).binding_id, small | large)
        # A price that falls to 0 (none quoted) is kept, but is no move and no alert.
        self.backend.price_alert_percent = 10
        self.emulator.set_price(self.codes[2], price=0.0, price_with_vat=0.0)
        self.backend.action_sync_offers()
        dropped = self.history(self.binding_of(self.codes[2]))[-1:]
        self.assertEqual((dropped.new_price, dropped.change_percent), (0.0, -100.0))
        self.assertFalse(dropped.alert_sent)
        self.assertFalse(dropped.above_threshold)
        self.assertNotIn(dropped, self.History.search(above))
        self.assertFalse(self.alerts())
        self.backend.price_alert_percent = 5
        moves |= dropped
        # The connection's "Price changes" button opens its moves.
        action = self.backend.action_open_price_history()
        self.assertEqual(self.History.search(action["domain"] + [("is_first", "=", False)]), moves)
        self.assertEqual(self.backend.price_change_count, 3)

    def test_the_menu_action_lists_moves_above_the_threshold(self):
        action = self.env.ref("supplier_connector.action_price_moves_above_threshold")
        context = safe_eval(action.context)
        self.assertEqual(context.get("search_default_above_threshold"), 1)
        arch = self.env["supplier.price.history"].get_views([(False, "search")])["views"]["search"]["arch"]
        node = etree.fromstring(arch).xpath("//filter[@name='above_threshold']")[0]
        self.assertEqual(safe_eval(node.get("domain")), [("above_threshold", "=", True)])


@tagged("post_install", "-at_install")
class TestProductSupplierFilters(PriceHistoryCase):
    product_count = 5

    def filter_domain(self, model, name):
        arch = self.env[model].get_views([(False, "search")])["views"]["search"]["arch"]
        nodes = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")
        self.assertEqual(len(nodes), 1, f"{model} has the filter {name}")
        return safe_eval(nodes[0].get("domain"))

    def found(self, model, name):
        mine = self.products if model == "product.product" else self.products.product_tmpl_id
        return self.env[model].search([("id", "in", mine.ids)] + self.filter_domain(model, name))

    def test_filters_return_the_right_products(self):
        unmapped = self.env["product.product"].create({"name": "Not mapped anywhere"})
        self.emulator.remove_product(self.codes[1])
        self.backend.action_sync_offers()
        p = self.products
        # 0: price moved; 1: not found (never synced, so stale too); 2: error; 3: stale;
        # 4: fine.
        self.emulator.set_price(self.codes[0], price=round(self.binding_of(self.codes[0]).price * 2, 2))
        self.backend.action_sync_offers()
        self.binding_of(self.codes[2]).write({"sync_state": "error", "sync_message": "Boom"})
        self.binding_of(self.codes[3]).last_sync = fields.Datetime.now() - timedelta(hours=30)
        self.env.flush_all()
        for model, records in (("product.product", p), ("product.template", p.product_tmpl_id)):
            with self.subTest(model=model):
                self.assertEqual(self.found(model, "supplier_mapped"), records)
                self.assertEqual(self.found(model, "supplier_not_found"), records[1])
                self.assertEqual(self.found(model, "supplier_sync_error"), records[2])
                self.assertEqual(self.found(model, "supplier_stale"), records[1] | records[3])
                self.assertEqual(self.found(model, "supplier_price_moved"), records[0])
                self.assertNotIn(unmapped.id, self.env[model].search(
                    self.filter_domain(model, "supplier_mapped")).ids)
        # Stale follows the connection's hours: 48 h makes 30 h fresh.
        self.backend.stale_after_hours = 48
        self.assertEqual(self.found("product.product", "supplier_stale"), p[1])
        # An archived connection's mappings no longer count.
        self.backend.action_archive()
        self.assertFalse(self.found("product.product", "supplier_mapped"))
        self.assertEqual(p.mapped("supplier_price_moved"), [True, False, False, False, False])

    def test_an_old_move_is_not_recent(self):
        self.backend.action_sync_offers()
        code = self.codes[0]
        self.emulator.set_price(code, price=round(self.binding_of(code).price * 2, 2))
        self.backend.action_sync_offers()
        self.assertEqual(self.found("product.product", "supplier_price_moved"), self.products[0])
        self.history().write({"date": fields.Datetime.now() - timedelta(days=8)})
        self.assertFalse(self.found("product.product", "supplier_price_moved"))
        self.assertFalse(self.products[0].supplier_price_moved)


@tagged("post_install", "-at_install")
class TestPriceHistoryRights(RightsUsers, JsonRpc, HttpCase, PriceHistoryCase):
    product_count = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.buyer = new_test_user(
            cls.env, "sc_buyer", groups="base.group_user,purchase.group_purchase_user",
            password=cls.password_of("sc_buyer"),
        )
        cls.row = cls.env["supplier.price.history"].create({
            "binding_id": cls.bindings[0].id, "backend_id": cls.backend.id,
            "product_id": cls.products[0].id, "currency_id": cls.env.ref("base.RUB").id,
            "old_price": 100.0, "new_price": 150.0, "change_percent": 50.0,
        })

    def test_a_buyer_reads_the_history_and_a_plain_user_cannot(self):
        History = self.env["supplier.price.history"]
        self.assertEqual(History.with_user(self.buyer).search([("id", "=", self.row.id)]), self.row)
        self.assertEqual(History.with_user(self.connector_user).search([("id", "=", self.row.id)]), self.row)
        self.assertEqual(
            self.products[0].product_tmpl_id.with_user(self.buyer).supplier_price_change_count, 1
        )
        with self.assertRaises(AccessError):
            History.with_user(self.plain).search([])
        with self.assertRaises(AccessError):
            self.products[0].product_tmpl_id.with_user(self.plain).read(["supplier_price_change_count"])
        with self.assertRaises(AccessError):
            self.backend.with_user(self.plain).write({"price_alert_percent": 50})
        with self.assertRaises(AccessError):
            self.backend.with_user(self.connector_user).write({"price_alert_percent": 50})
        self.backend.with_user(self.manager).write({"price_alert_percent": 50})
        self.assertEqual(self.backend.price_alert_percent, 50)

    def test_over_json_rpc(self):
        model = "supplier.price.history"
        result, error = self.call_kw(
            self.buyer, model, "search_read", [[("id", "=", self.row.id)], ["new_price"]]
        )
        self.assertFalse(error, error and error["message"])
        self.assertEqual([row["new_price"] for row in result], [150.0])
        self.assertRefused(self.call_kw(self.plain, model, "search_read", [[], ["new_price"]]))
        self.assertRefused(self.execute_kw(self.plain, model, "search_read", [[], ["new_price"]]))
        self.assertRefused(self.call_kw(self.buyer, model, "write",
                                        [self.row.ids, {"new_price": 1.0}]))
        self.assertRefused(self.call_kw(self.plain, "supplier.backend", "write",
                                        [self.backend.ids, {"price_alert_percent": 1}]))
        self.assertRefused(self.call_kw(self.connector_user, "supplier.backend", "write",
                                        [self.backend.ids, {"price_alert_percent": 1}]))
        self.assertRefused(self.call_kw(self.plain, "supplier.backend", "action_open_price_history",
                                        [self.backend.ids]))
        self.assertEqual(self.backend.price_alert_percent, 10.0)
        self.assertEqual(self.row.new_price, 150.0)


# In the browser: the "Price history" button of the product's supplier tab opens a chart, one
# series per supplier, filtered on the product. (Skipped where websocket-client is missing.)
CHART_CHECK = """
(async function () {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    async function find(selector, text) {
        for (let i = 0; i < 200; i++) {
            const nodes = [...document.querySelectorAll(selector)].filter(
                (node) => !text || node.textContent.includes(text)
            );
            if (nodes.length) {
                return nodes[0];
            }
            await sleep(100);
        }
        throw new Error(`not found: ${selector} ${text || ""}`);
    }
    try {
        (await find(".o_notebook .nav-link", "Supplier offers")).click();
        (await find(".o_notebook button", "Price history")).click();
        const canvas = await find(".o_graph_renderer canvas");
        await sleep(300);
        const chart = window.Chart && window.Chart.getChart(canvas);
        if (!chart) {
            throw new Error("no chart drawn");
        }
        const series = chart.data.datasets.map(
            (dataset) => `${dataset.label}:${Math.max(...dataset.data)}`
        ).sort().join("|");
        if (series !== "%(expected)s") {
            throw new Error(`series ${series}`);
        }
        await find(".o_searchview_facet", "%(product)s");
        console.log("test successful");
    } catch (error) {
        console.error(error.message);
    }
})();
"""


@tagged("post_install", "-at_install")
class TestPriceChartInBrowser(HttpCase):
    def test_the_variant_form_charts_the_variant(self):
        for model, key in (("product.template", "product_tmpl_id"), ("product.product", "product_id")):
            arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
            buttons = etree.fromstring(arch).xpath(
                "//button[contains(@class, 'o_supplier_price_history')]"
            )
            self.assertEqual(len(buttons), 2, model)
            for button in buttons:
                self.assertEqual(safe_eval(button.get("context"), {"id": 7}),
                                 {f"search_default_{key}": 7}, model)

    def test_the_product_button_opens_each_suppliers_prices(self):
        backends = self.env["supplier.backend"].create([
            {"name": "Chart ETM", "service": "etm"},
            {"name": "Chart Shate", "service": "shate"},
        ])
        product = self.env["product.product"].create({"name": "Chart cable"})
        rub = self.env.ref("base.RUB")
        now = fields.Datetime.now()
        rows = []
        for backend, prices in zip(backends, ([100.0, 120.0], [110.0, 90.0, 95.0]), strict=True):
            binding = self.env["supplier.product"].create({
                "backend_id": backend.id, "product_id": product.id, "external_code": "4711",
            })
            old = 0.0
            for days_ago, price in zip(range(len(prices), 0, -1), prices, strict=False):
                rows.append({
                    "binding_id": binding.id, "backend_id": backend.id, "product_id": product.id,
                    "currency_id": rub.id, "old_price": old, "new_price": price,
                    "is_first": not old, "date": now - timedelta(days=days_ago * 2),
                })
                old = price
        self.env["supplier.price.history"].create(rows)
        code = CHART_CHECK % {"expected": "Chart ETM:120|Chart Shate:110", "product": "Chart cable"}
        self.browser_js(
            f"/odoo/action-product.product_template_action/{product.product_tmpl_id.id}",
            code, login="admin", timeout=90,
        )
