import base64
import json
import threading
import time

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.supplier_connector.emulators.moysklad_demo import MAIN_STORE_ID, fixed_id
from odoo.addons.supplier_connector.emulators.moysklad_store import Ref
from odoo.addons.supplier_connector.emulators.server import make_png

from .moysklad_common import MoySkladCase, product_id
from .rights_common import RightsUsers


@tagged("post_install", "-at_install")
class TestMoySkladWebhooks(MoySkladCase, RightsUsers, HttpCase):
    """MoySklad webhooks: registered at the emulator, delivered by it through Odoo's HTTP layer,
    stored once per requestId, and pulling only the products they name."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())

    # -- helpers ---------------------------------------------------------------------------------
    def hooks_at_moysklad(self):
        with self.emulator.lock:
            entity = {(h["action"], h["entityType"]) for h in self.emulator.db["webhook"].values()
                      if h["url"] == self.backend.moysklad_webhook_url}
            stock = [h for h in self.emulator.db["webhookstock"].values()
                     if h["url"] == self.backend.moysklad_webhook_url]
        return entity, stock

    def events(self):
        return self.env["supplier.event"].search([("backend_id", "=", self.backend.id)])

    def post(self, body, request_id, url=None):
        url = url or self.backend.moysklad_webhook_url
        started = time.monotonic()
        response = self.url_open(f"{url}?requestId={request_id}", data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
        return response.status_code, time.monotonic() - started

    def cron_triggers(self):
        cron = self.env.ref("supplier_connector.ir_cron_retry_supplier_events")
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def pulled(self):
        """Catalogue and stock pulled ready for webhooks (DEMO-001 … bound)."""
        self.test_connection()
        self.assertEqual(self.import_catalogue().state, "done")
        self.assertEqual(self.sync_stock().state, "done")
        self.backend.action_moysklad_register_webhooks()
        self.advance_clock()

    # -- registration ----------------------------------------------------------------------------
    def test_register_adopt_and_remove(self):
        self.backend.action_moysklad_register_webhooks()
        url = self.backend.moysklad_webhook_url
        self.assertTrue(url.startswith(
            f"{self.base_url()}/supplier_connector/moysklad/{self.backend.id}."
        ))
        entity, stock = self.hooks_at_moysklad()
        self.assertEqual(entity, {(action, kind) for kind in ("product", "variant")
                                  for action in ("CREATE", "UPDATE", "DELETE")})
        self.assertEqual(len(stock), 1)
        self.assertEqual(stock[0]["reportType"], "bystore")
        self.assertEqual(self.backend.moysklad_webhook_count, 7)
        self.assertIn("7 created, 0 already there", self.backend.moysklad_webhook_status)
        # Again: the seven are adopted, none created twice.
        posts_before = len([r for r in self.requests("entity/webhook") if r.method == "POST"])
        self.backend.action_moysklad_register_webhooks()
        self.assertEqual(len([r for r in self.requests("entity/webhook") if r.method == "POST"]),
                         posts_before)
        self.assertIn("0 created, 7 already there", self.backend.moysklad_webhook_status)
        self.assertEqual(len(self.hooks_at_moysklad()[1]), 1)
        # A webhook another Odoo made with another URL is left alone by Remove.
        with self.emulator.lock:
            self.emulator.db["webhook"]["other"] = {
                "id": "other", "url": "https://elsewhere.example.com/hook", "action": "UPDATE",
                "entityType": "product", "enabled": True,
            }
        self.backend.action_moysklad_remove_webhooks()
        self.assertEqual(self.hooks_at_moysklad(), (set(), []))
        # Odoo's own writes carry the prefix of its webhook URLs once webhooks are registered
        # (MoySklad then does not call back about them), and none before.
        quiet = "X-Lognex-WebHook-DisableByPrefix"
        hook_writes = [r for r in self.requests("entity/webhook") if r.method != "GET"]
        self.assertEqual(hook_writes[0].header(quiet), "", "the first registration: none yet")
        deletes = [r for r in hook_writes if r.method == "DELETE"]
        self.assertTrue(deletes)
        self.assertEqual({r.header(quiet) for r in deletes},
                         {f"{self.base_url()}/supplier_connector/moysklad/"})
        with self.emulator.lock:
            self.assertEqual(list(self.emulator.db["webhook"]), ["other"])
        self.assertEqual(self.backend.moysklad_webhook_count, 0)
        self.assertIn("removed at MoySklad: 7", self.backend.moysklad_webhook_status)

    def test_push_only_connection_registers_only_what_it_pulls(self):
        """Odoo the master of products and prices, stock off: no change at MoySklad is pulled, so
        only the DELETE webhooks (they mark the mapping for the next push) are registered; those
        of a connection registered while it pulled are removed by the next registration."""
        self.backend.write({"moysklad_products_direction": "push",
                            "moysklad_prices_direction": "push", "moysklad_stock_direction": "off"})
        self.backend.action_moysklad_register_webhooks()
        self.assertEqual(self.hooks_at_moysklad(), ({("DELETE", "product"), ("DELETE", "variant")}, []))
        self.assertEqual(self.backend.moysklad_webhook_count, 2)
        self.assertIn("Pulled at once when they change at MoySklad: nothing",
                      self.backend.moysklad_webhook_status)
        # Stock pulled again: its webhook only.
        self.backend.moysklad_stock_direction = "pull"
        self.backend.action_moysklad_register_webhooks()
        entity, stock = self.hooks_at_moysklad()
        self.assertEqual((len(entity), len(stock)), (2, 1))
        # Everything pulled: all seven; then push-only again: back to the two DELETE webhooks.
        self.backend.write({"moysklad_products_direction": "pull",
                            "moysklad_prices_direction": "pull"})
        self.backend.action_moysklad_register_webhooks()
        self.assertEqual(len(self.hooks_at_moysklad()[0]), 6)
        self.backend.write({"moysklad_products_direction": "push",
                            "moysklad_prices_direction": "push", "moysklad_stock_direction": "off"})
        self.backend.action_moysklad_register_webhooks()
        self.assertEqual(self.hooks_at_moysklad(), ({("DELETE", "product"), ("DELETE", "variant")}, []))
        self.assertIn("0 created, 2 already there, 5 removed", self.backend.moysklad_webhook_status)
        self.assertEqual(self.backend.moysklad_webhook_count, 2)

    def test_free_plan_30006_in_plain_words(self):
        self.emulator.paid_plan = False
        action = self.backend.action_moysklad_register_webhooks()
        self.assertEqual(action["params"]["type"], "warning")
        status = self.backend.moysklad_webhook_status
        self.assertIn("Webhooks not registered", status)
        self.assertIn("plan of this account does not allow webhooks", status)
        self.assertIn("MoySklad error 30006", status)
        self.assertIn("scheduled runs", status)
        self.assertEqual(self.hooks_at_moysklad(), (set(), []))
        self.assertEqual(self.backend.moysklad_webhook_count, 0)
        self.assertIn("does not allow webhooks", self.backend.message_ids[0].body)
        # Nothing else is affected: the connection and the catalogue pull still work.
        self.test_connection()
        log = self.import_catalogue()
        self.assertEqual(log.state, "done", log.message)

    def test_rights_to_register(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.connector_user).action_moysklad_register_webhooks()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.connector_user).action_moysklad_remove_webhooks()
        self.assertEqual(self.hooks_at_moysklad(), (set(), []))
        # A manager without Settings access may; the secret stays out of their reach.
        self.backend.with_user(self.manager).action_moysklad_register_webhooks()
        self.assertEqual(len(self.hooks_at_moysklad()[0]), 6)
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).read(["moysklad_webhook_secret"])

    # -- deliveries ------------------------------------------------------------------------------
    def test_product_change_delivered_pulls_that_product_only(self):
        self.pulled()
        self.update_product("DEMO-005", {"name": "Набор ножей 6 предметов"})
        self.update_product("DEMO-006", {"name": "Not announced by a webhook"})
        name_006 = self.binding("DEMO-006").product_id.name
        triggers = self.cron_triggers()
        deliveries = self.emulator.fire("product", product_id("DEMO-005"), "UPDATE")
        delivery = deliveries[-1]
        # Answered 204 at the first attempt (the emulator gives up after 1.5 s).
        self.assertTrue(delivery["delivered"])
        self.assertEqual([a["status"] for a in delivery["attempts"]], [204])
        event = self.events()
        self.assertEqual(len(event), 1)
        self.assertEqual((event.kind, event.state), ("moysklad.entity", "received"))
        self.assertEqual(event.dedupe_key, f"ms:{delivery['requestId']}")
        self.assertEqual(self.cron_triggers(), triggers + 1)
        # Not pulled in the request: the product is unchanged until the event is processed.
        self.assertNotEqual(self.binding("DEMO-005").product_id.name, "Набор ножей 6 предметов")
        before = len(self.emulator.requests)
        self.env["supplier.event"]._cron_retry_errors()
        self.assertEqual(event.state, "done", event.error)
        asked = self.emulator.requests[before:]
        self.assertIn(f"entity/product/{product_id('DEMO-005')}", {r.path.split("/api/remap/1.2/")[-1] for r in asked})
        self.assertFalse([r for r in asked if "entity/assortment" in r.path])
        stock = [r for r in asked if "report/stock/bystore/current" in r.path]
        self.assertEqual({r.query["stockType"] for r in stock}, {"inTransit", "reserve", "stock"})
        self.assertTrue(all(
            r.query["filter"] == f"assortmentId={product_id('DEMO-005')}" for r in stock
        ))
        self.assertEqual(self.binding("DEMO-005").product_id.name, "Набор ножей 6 предметов")
        self.assertEqual(self.binding("DEMO-006").product_id.name, name_006)
        logs = self.env["supplier.sync.log"].search([
            ("backend_id", "=", self.backend.id), ("trigger", "=", "webhook"),
        ])
        self.assertEqual(set(logs.mapped("operation")), {"import_catalogue", "sync_offers"})
        catalogue = logs.filtered(lambda log: log.operation == "import_catalogue")
        self.assertEqual((catalogue.processed, catalogue.updated), (1, 1))
        # The same requestId again (MoySklad repeating a call): 204, no second event, no pull.
        before = len(self.emulator.requests)
        status, seconds = self.post(delivery["body"], delivery["requestId"])
        self.assertEqual(status, 204)
        self.assertLess(seconds, 1.5)
        self.assertEqual(self.events(), event)
        self.env["supplier.event"]._cron_retry_errors()
        self.assertEqual(len(self.emulator.requests), before)
        self.assertEqual(event.attempts, 1)

    def test_stock_change_delivered_pulls_its_stock(self):
        self.pulled()
        self.assertEqual(self.binding("DEMO-001").qty_available, 73)
        self.emulator.set_stock(product_id("DEMO-001"), MAIN_STORE_ID, stock=80)
        self.assertTrue(self.emulator.flush_webhooks())
        event = self.events()
        self.assertEqual((event.kind, event.state), ("moysklad.stock", "received"))
        qty_002 = self.binding("DEMO-002").qty_available
        self.env["supplier.event"]._cron_retry_errors()
        self.assertEqual(event.state, "done", event.error)
        # Main store: 80 in stock, 1 reserved → 79 free; north: 10.
        self.assertEqual(self.binding("DEMO-001").qty_available, 89)
        self.assertEqual(self.binding("DEMO-002").qty_available, qty_002)

    def test_wrong_token_refused_and_counted(self):
        self.backend.action_moysklad_register_webhooks()
        body = {"auditContext": {"uid": "admin@demo", "moment": "2026-01-01 10:00:00"},
                "events": [{"meta": {"type": "product", "href": "https://api.moysklad.ru/api/"
                                     f"remap/1.2/entity/product/{product_id('DEMO-001')}"},
                            "action": "UPDATE", "accountId": "acc"}]}
        base = f"{self.base_url()}/supplier_connector/moysklad"
        for _attempt in range(2):
            self.assertEqual(self.post(body, "r-1", url=f"{base}/{self.backend.id}.wrong")[0], 403)
        self.assertEqual(self.backend.callback_refused_count, 2)
        self.assertTrue(self.backend.callback_refused_at)
        # A URL naming no connection: refused, counted nowhere.
        self.assertEqual(self.post(body, "r-2", url=f"{base}/999999.wrong")[0], 403)
        self.assertEqual(self.post(body, "r-3", url=f"{base}/nothing")[0], 403)
        self.assertEqual(self.backend.callback_refused_count, 2)
        self.assertFalse(self.events())
        # The right URL without a requestId, or with a body that is no webhook: 400, nothing kept.
        url = self.backend.moysklad_webhook_url
        response = self.url_open(url, data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.post({"hello": 1}, "r-4")[0], 400)
        self.assertFalse(self.events())
        status, _seconds = self.post(body, "r-5")
        self.assertEqual(status, 204)
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(self.backend.callback_refused_count, 2)

    # -- deletions, repeats at the same instant, variants ---------------------------------------
    def process_events(self):
        self.env["supplier.event"]._cron_retry_errors()
        event = self.events()[:1]
        self.assertEqual(event.state, "done", event.error)
        return event

    def delete_at_moysklad(self, ms_id, kind="product"):
        with self.emulator.lock:
            self.emulator.delete(kind, ms_id)
        delivery = self.emulator.fire(kind, ms_id, "DELETE")[-1]
        self.assertEqual([a["status"] for a in delivery["attempts"]], [204])
        self.assertEqual(self.events()[:1].reference, f"{kind} DELETE")

    def test_product_deleted_at_moysklad_marks_its_mapping(self):
        self.pulled()
        owned = self.binding("DEMO-005")
        product = owned.product_id
        self.assertTrue(owned.offer_ids)
        self.assertTrue(product.active)
        self.delete_at_moysklad(product_id("DEMO-005"))
        before = len(self.emulator.requests)
        self.process_events()
        self.assertEqual(len(self.emulator.requests), before, "nothing is asked of MoySklad")
        self.assertEqual(owned.sync_state, "not_found")
        self.assertIn("Deleted in MoySklad", owned.sync_message)
        self.assertIn("archived", owned.sync_message)
        self.assertFalse(owned.external_id)
        self.assertEqual(owned.qty_available, 0)
        self.assertFalse(owned.offer_ids)
        # MoySklad is the master of products and the connection creates them: archived.
        self.assertFalse(product.active)
        self.assertIn("Deleted in MoySklad", product.product_tmpl_id.message_ids[0].body)
        log = self.env["supplier.sync.log"].search([
            ("backend_id", "=", self.backend.id), ("trigger", "=", "webhook"),
        ], limit=1)
        self.assertEqual((log.operation, log.state, log.not_found), ("import_catalogue", "done", 1))
        # A connection that does not create products does not own them: only the mapping says so.
        self.backend.catalogue_create_products = False
        matched = self.binding("DEMO-006")
        self.delete_at_moysklad(product_id("DEMO-006"))
        self.process_events()
        self.assertEqual(matched.sync_state, "not_found")
        self.assertIn("Deleted in MoySklad", matched.sync_message)
        self.assertNotIn("archived", matched.sync_message)
        self.assertTrue(matched.product_id.active)
        # The next pulls go on without them.
        self.backend.action_moysklad_full_pass()
        self.assertEqual(self.import_catalogue().state, "done")
        self.assertEqual((owned.sync_state, matched.sync_state), ("not_found", "not_found"))

    def test_pushed_product_deleted_at_moysklad_is_created_again(self):
        self.test_connection()
        self.backend.write({"moysklad_products_direction": "push",
                            "moysklad_prices_direction": "push"})
        product = self.env["product.product"].create({
            "name": "Odoo lamp", "default_code": "LAMP-1", "list_price": 25.0,
            "image_1920": base64.b64encode(make_png(8, 8, (250, 200, 10))),
        })
        binding = self.env["supplier.product"].create(
            {"backend_id": self.backend.id, "product_id": product.id, "external_code": "LAMP-1"}
        )
        self.backend.action_push_products()
        self.backend.action_moysklad_register_webhooks()
        old_id, old_sync_id = binding.external_id, binding.moysklad_sync_id
        self.assertTrue(old_id)
        self.delete_at_moysklad(old_id)
        self.process_events()
        self.assertEqual(binding.sync_state, "not_found")
        self.assertIn("the next push creates it there again", binding.sync_message)
        self.assertFalse(binding.external_id)
        self.assertFalse(binding.push_hash)
        self.assertTrue(binding.moysklad_sync_id)
        self.assertNotEqual(binding.moysklad_sync_id, old_sync_id)
        self.assertTrue(product.active, "Odoo is the master: the product is not archived")
        self.backend.action_push_products()
        log = self.last_log("push_products")
        self.assertEqual((log.state, log.created), ("done", 1), log.message)
        self.assertTrue(binding.external_id)
        self.assertNotEqual(binding.external_id, old_id)
        self.assertEqual(binding.sync_state, "ok")
        with self.emulator.lock:
            created = self.emulator.db["product"][binding.external_id]
            self.assertEqual(created["name"], "Odoo lamp")
            # Its image went with the deleted product: uploaded again.
            self.assertEqual(len(created.get("_images", ())), 1)

    def test_same_request_id_twice_at_the_same_instant(self):
        self.backend.action_moysklad_register_webhooks()
        body = {"auditContext": {"uid": "admin@demo", "moment": "2026-01-01 10:00:00"},
                "events": [{"meta": {"type": "product", "href": "https://api.moysklad.ru/api/"
                                     f"remap/1.2/entity/product/{product_id('DEMO-001')}"},
                            "action": "UPDATE", "accountId": "acc"}]}
        start = threading.Barrier(2)
        statuses = []

        def deliver():
            start.wait()
            statuses.append(self.post(body, "same-instant")[0])

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(statuses, [204, 204])
        self.assertEqual(len(self.events()), 1)
        # The insert itself is the check: the second one inserts nothing and fails nothing.
        Event = self.env["supplier.event"]
        self.assertFalse(Event._moysklad_insert_once(
            self.backend, "moysklad.entity", "product UPDATE", "ms:same-instant", body,
        ))
        self.assertTrue(Event._moysklad_insert_once(
            self.backend, "moysklad.entity", "product UPDATE", "ms:another", body,
        ))
        event = self.events().filtered(lambda e: e.dedupe_key == "ms:another")
        self.assertEqual((event.state, event.kind, event.payload, event.company_id),
                         ("received", "moysklad.entity", body, self.backend.company_id))

    def test_variant_events_pull_the_variant(self):
        self.pulled()
        variant_m = fixed_id("variant-DEMO-007-M")
        binding = self.env["supplier.product"].search([
            ("backend_id", "=", self.backend.id), ("external_id", "=", variant_m),
        ])
        self.assertEqual(binding.moysklad_kind, "variant")
        with self.emulator.lock:
            self.emulator.update("variant", variant_m, {"name": "Футболка хлопковая M, белая"})
        before = len(self.emulator.requests)
        self.emulator.fire("variant", variant_m, "UPDATE")
        self.assertEqual(self.events()[:1].reference, "variant UPDATE")
        self.process_events()
        asked = {r.path.split("/api/remap/1.2/")[-1] for r in self.emulator.requests[before:]}
        self.assertIn(f"entity/variant/{variant_m}", asked)
        self.assertFalse([path for path in asked if "assortment" in path])
        self.assertEqual(binding.product_id.name, "Футболка хлопковая M, белая")
        # A new variant at MoySklad: created in Odoo (the connection creates products).
        variant_s = fixed_id("variant-DEMO-007-S")
        with self.emulator.lock:
            self.emulator._new_record("variant", variant_s, {
                "code": "DEMO-007-S", "externalCode": "ext-DEMO-007-S",
                "product": Ref("product", product_id("DEMO-007")),
                "characteristics": [{"id": fixed_id("characteristic-size"), "name": "Размер",
                                     "value": "S"}],
            })
        self.emulator.fire("variant", variant_s, "CREATE")
        self.assertEqual(self.events()[:1].reference, "variant CREATE")
        self.process_events()
        created = self.env["supplier.product"].search([
            ("backend_id", "=", self.backend.id), ("external_id", "=", variant_s),
        ])
        self.assertEqual(created.moysklad_kind, "variant")
        self.assertEqual(created.product_id.default_code, "DEMO-007-S")
        self.assertEqual(created.external_code, "ext-DEMO-007-S")
