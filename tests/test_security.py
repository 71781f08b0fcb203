from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from .common import PASSWORD, CaptureLogs, EtmCase


@tagged("post_install", "-at_install")
class TestSecurity(EtmCase):
    product_count = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, "connector_user", groups="base.group_user,supplier_connector.group_supplier_user"
        )
        cls.manager = new_test_user(
            cls.env, "connector_manager",
            groups="base.group_user,supplier_connector.group_supplier_manager",
        )

    def test_connector_user_cannot_read_credentials(self):
        backend = self.backend.with_user(self.user)
        self.assertEqual(backend.name, "ETM test")
        for field in ("login", "password", "api_key", "session_token"):
            with self.assertRaises(AccessError):
                backend.read([field])
        with self.assertRaises(AccessError):
            backend.write({"name": "renamed"})
        # A manager configures connections but still cannot read credentials.
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).read(["password"])

    def test_connector_user_can_sync_and_read_offers(self):
        action = self.products[0].with_user(self.user).action_supplier_sync()
        self.assertEqual(action["params"]["type"], "success")
        binding = self.binding_of(self.codes[0]).with_user(self.user)
        self.assertEqual(binding.sync_state, "ok")
        self.assertTrue(binding.offer_ids.read(["quantity"]))

    def test_plain_user_cannot_sync(self):
        plain = new_test_user(self.env, "plain_user", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.products[0].with_user(plain).action_supplier_sync()

    def test_other_company_connections_are_invisible(self):
        other = self.env["res.company"].create({"name": "Other company"})
        foreign = self.env["supplier.backend"].create(
            {"name": "Foreign ETM", "service": "etm", "company_id": other.id}
        )
        visible = self.env["supplier.backend"].with_user(self.user).search([])
        self.assertIn(self.backend, visible)
        self.assertNotIn(foreign, visible)

    def test_credentials_never_appear_in_logs_or_chatter(self):
        with CaptureLogs() as logs:
            self.backend.action_test_connection()
            self.backend.action_sync_offers()
            self.emulator.expire_sessions()
            self.backend.action_sync_offers()
            self.backend.sudo().password = PASSWORD + "x"
            self.backend.action_reset_session()
            self.backend.action_sync_offers()
        token_holder = self.backend.sudo()
        self.assertTrue(logs.lines, "the HTTP client logs its requests at debug level")
        texts = [logs.text]
        texts += self.env["supplier.sync.log"].search([]).mapped("message")
        texts += self.env["supplier.sync.log.line"].search([]).mapped("message")
        texts += [str(body) for body in self.backend.message_ids.mapped("body")]
        for text in filter(None, texts):
            self.assertNotIn(PASSWORD, text)
            if token_holder.session_token:
                self.assertNotIn(token_holder.session_token, text)

    def test_neutralize_wipes_credentials_and_stops_syncs(self):
        for query in get_neutralization_queries(["supplier_connector"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        backend = self.backend.sudo()
        self.assertFalse(backend.login or backend.password or backend.session_token)
        self.env.cr.execute("SELECT count(*) FROM supplier_backend_credential")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "no credential is left in the copy")
        self.assertFalse(any(self.backend.schedule_ids.mapped("enabled")))
        cron = self.env.ref("supplier_connector.ir_cron_run_due_operations")
        self.assertFalse(cron.active)
