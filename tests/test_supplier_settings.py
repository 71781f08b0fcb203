"""Issue 11: the sync log says why in its list; the "Supplier connections" Settings block."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import EtmCase
from .rights_common import JsonRpc, RightsUsers


@tagged("post_install", "-at_install")
class TestSyncLogReason(EtmCase):
    product_count = 3

    def test_a_failed_run_says_why_in_the_list(self):
        self.backend.sudo().password = "wrong"
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "failed")
        self.assertIn("rejected the login", log.reason)
        self.assertNotIn("\n", log.reason)
        arch = self.env["supplier.sync.log"].get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="reason"', arch)

    def test_a_partial_run_without_message_names_its_items_reason(self):
        log = self.env["supplier.sync.log"].create({
            "backend_id": self.backend.id, "operation": "sync_offers", "state": "partial",
            "line_ids": [
                (0, 0, {"reference": "1", "message": "Unknown code"}),
                (0, 0, {"reference": "2", "message": "Unknown code"}),
                (0, 0, {"reference": "3", "message": "Refused"}),
            ],
        })
        self.assertEqual(log.reason, "2 of 3 failed items: Unknown code")


@tagged("post_install", "-at_install")
class TestSupplierSettings(EtmCase):
    product_count = 1

    def test_the_settings_block_opens_and_saves_its_options(self):
        views = self.env["res.config.settings"].get_views([(False, "form")])
        arch = views["views"]["form"]["arch"]
        for name in ("supplier_backend_ids", "supplier_log_retention_days",
                     "supplier_price_alert_percent", "supplier_sync_interval_minutes",
                     "action_new_supplier_connection"):
            self.assertIn(name, arch)
        settings = self.env["res.config.settings"].create({})
        self.assertIn(self.backend, settings.supplier_backend_ids)
        self.assertEqual(settings.supplier_log_retention_days, 30)
        settings.write({
            "supplier_log_retention_days": 90,
            "supplier_price_alert_percent": 7.5,
            "supplier_sync_interval_minutes": 20,
        })
        settings.execute()
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param("supplier_connector.log_retention_days"), "90")
        reopened = self.env["res.config.settings"].create({})
        self.assertEqual(reopened.supplier_log_retention_days, 90)
        self.assertEqual(reopened.supplier_price_alert_percent, 7.5)
        self.assertEqual(reopened.supplier_sync_interval_minutes, 20)
        # New connections take the defaults; existing ones keep theirs.
        new = self.env["supplier.backend"].create({"name": "New ETM", "service": "etm"})
        self.assertEqual(new.price_alert_percent, 7.5)
        offers = new.schedule_ids.filtered(lambda s: s.operation == "sync_offers")
        self.assertEqual((offers.interval_number, offers.interval_type), (20, "minutes"))
        catalogue = new.schedule_ids.filtered(lambda s: s.operation == "import_catalogue")
        self.assertEqual((catalogue.interval_number, catalogue.interval_type), (7, "days"))
        # The retention is the one the cleaning cron reads.
        old = self.env["supplier.sync.log"].create({
            "backend_id": self.backend.id, "operation": "sync_offers", "state": "done",
            "start": fields.Datetime.now() - timedelta(days=60),
        })
        self.env["supplier.sync.log"]._cron_clean_old_logs()
        self.assertTrue(old.exists(), "60 days is within the 90 kept")
        # 0 % is a choice (no alerts), not "back to the default".
        zero = self.env["res.config.settings"].create({"supplier_price_alert_percent": 0})
        zero.execute()
        self.assertEqual(self.env["res.config.settings"].create({}).supplier_price_alert_percent, 0)
        self.assertEqual(
            self.env["supplier.backend"].create({"name": "No alerts", "service": "etm"}).price_alert_percent, 0
        )

    def test_new_connection_and_open_buttons(self):
        settings = self.env["res.config.settings"].create({"supplier_new_service": "shate"})
        action = settings.action_new_supplier_connection()
        self.assertEqual(action["res_model"], "supplier.backend")
        self.assertEqual(action["context"]["default_service"], "shate")
        form = self.env["supplier.backend"].with_context(**action["context"]).new({})
        self.assertEqual(form.service, "shate")
        opened = self.backend.action_open_connection()
        self.assertEqual((opened["res_model"], opened["res_id"]), ("supplier.backend", self.backend.id))

    def test_the_options_refuse_nonsense(self):
        with self.assertRaises(Exception) as caught:
            self.env["res.config.settings"].create({"supplier_log_retention_days": 0})
        self.assertIn("at least 1 day", str(caught.exception))
        with self.assertRaises(Exception) as caught:
            self.backend.price_alert_percent = -1
        self.assertIn("cannot be negative", str(caught.exception))



@tagged("post_install", "-at_install")
class TestSupplierSettingsRights(RightsUsers, JsonRpc, HttpCase, EtmCase):
    product_count = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()

    def test_the_settings_block_is_for_administrators(self):
        params = self.env["ir.config_parameter"].sudo()
        before = params.get_param("supplier_connector.price_alert_percent")
        self.assertRefused(self.call_kw(self.manager, "res.config.settings", "create",
                                        [{"supplier_price_alert_percent": 1}]))
        self.assertRefused(self.call_kw(self.plain, "res.config.settings",
                                        "action_new_supplier_connection", [[]]))
        self.assertEqual(params.get_param("supplier_connector.price_alert_percent"), before)
        result, error = self.call_kw(self.admin, "res.config.settings", "create",
                                     [{"supplier_price_alert_percent": 3}])
        self.assertFalse(error, error and error["message"])
        result, error = self.call_kw(self.admin, "res.config.settings", "execute", [[result]])
        self.assertFalse(error, error and error["message"])
        self.assertEqual(params.get_param("supplier_connector.price_alert_percent"), "3.0")
