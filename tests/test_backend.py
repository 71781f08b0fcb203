from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import PASSWORD, CaptureLogs, EtmCase


@tagged("post_install", "-at_install")
class TestBackend(EtmCase):
    product_count = 3

    def test_defaults_for_a_new_etm_connection(self):
        backend = self.env["supplier.backend"].create({"name": "New ETM", "service": "etm"})
        self.assertEqual(backend.api_url, "https://ipro.etm.ru/api/v1")
        self.assertEqual(backend.batch_size, 50)
        self.assertEqual(backend.currency_id, self.rub)
        self.assertEqual(
            sorted(backend.schedule_ids.mapped("operation")), ["import_catalogue", "sync_offers"]
        )

    def test_pull_orders_is_refused_where_the_service_has_none(self):
        """ETM pulls no orders: refused, naming the service; in a selection with a service that
        does, the whole selection is refused before anything runs (never half done)."""
        with self.assertRaisesRegex(UserError, "ETM iPro does not support this operation"):
            self.backend.action_pull_orders()
        udoma = self.env["supplier.backend"].create(
            {"name": "UDOMA", "service": "udoma", "api_url": "http://127.0.0.1:9/api"})
        with self.assertRaisesRegex(UserError, r"ETM iPro does not support this operation \(connection"):
            (udoma | self.backend).action_pull_orders()
        self.assertFalse(self.env["supplier.sync.log"].search([("backend_id", "=", udoma.id)]))

    def test_test_connection_success_says_what_worked(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Logged in", action["params"]["message"])
        self.assertIn("3 of 3 sample codes found", action["params"]["message"])
        self.assertTrue(self.backend.sudo().session_token)
        self.assertIn("Connection test succeeded", self.backend.message_ids[0].body)
        action = self.backend.action_test_connection()
        self.assertIn("still valid", action["params"]["message"])
        self.assertEqual(self.emulator.counts()["login"], 1)

    def test_test_connection_failure_says_why_without_the_password(self):
        self.backend.sudo().password = PASSWORD + "-wrong"
        with CaptureLogs() as logs:
            action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("rejected the login or password", action["params"]["message"])
        self.assertIn("Неверный логин или пароль", action["params"]["message"])
        for text in (action["params"]["message"], self.backend.message_ids[0].body, logs.text):
            self.assertNotIn(PASSWORD, text)

    def test_unreachable_service(self):
        self.backend.write({"api_url": "http://127.0.0.1:9/api/v1", "max_retries": 0})
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("did not answer", action["params"]["message"])

    def test_smart_buttons(self):
        self.assertEqual(self.backend.product_count, 3)
        self.backend.action_sync_offers()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.log_count, 1)
        self.assertEqual(self.backend.last_sync_state, "done")
        action = self.backend.action_open_products()
        self.assertEqual(self.env["supplier.product"].search(action["domain"]), self.bindings)
        action = self.backend.action_open_logs()
        self.assertEqual(len(self.env["supplier.sync.log"].search(action["domain"])), 1)
