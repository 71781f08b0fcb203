"""18.0.1.3.0: MoySklad connections pushing products before the push schedule existed get their
"Push products" line from the migration (migrations/18.0.1.3.0/post-migrate.py)."""

import importlib.util
import os

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged


def load_migration(version):
    path = os.path.join(get_module_path("supplier_connector"), "migrations", version,
                        "post-migrate.py")
    spec = importlib.util.spec_from_file_location(f"supplier_connector_migration_{version}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestMoySkladPushScheduleMigration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = load_migration("18.0.1.3.0")
        vendor = cls.env["res.partner"].create({"name": "MoySklad vendor", "is_company": True})
        Backend = cls.env["supplier.backend"]
        values = {"service": "moysklad", "partner_id": vendor.id}
        cls.pushing = Backend.create({**values, "name": "Pushing, no line",
                                      "moysklad_products_direction": "push"})
        cls.archived = Backend.create({**values, "name": "Archived, pushing, no line",
                                       "moysklad_products_direction": "push"})
        cls.switched_off = Backend.create({**values, "name": "Pushing, line switched off",
                                           "moysklad_products_direction": "push"})
        cls.pulling = Backend.create({**values, "name": "Pulling"})
        # As in a database of 18.0.1.2.0: the first two never got their line.
        cls.line(cls.pushing | cls.archived).unlink()
        cls.archived.action_archive()
        cls.line(cls.switched_off).write({"enabled": False, "interval_number": 2,
                                          "interval_type": "hours"})

    @classmethod
    def line(cls, backends):
        return cls.env["supplier.backend.schedule"].with_context(active_test=False).search([
            ("backend_id", "in", backends.ids), ("operation", "=", "push_products"),
        ])

    def test_missing_push_line_added_once(self):
        self.assertFalse(self.line(self.pushing | self.archived))
        self.migration.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()
        for backend in (self.pushing, self.archived):
            line = self.line(backend)
            self.assertEqual(
                (len(line), line.enabled, line.interval_number, line.interval_type),
                (1, True, 30, "minutes"), backend.name,
            )
        # A line an administrator changed is left as it was; a pulling connection gets none.
        kept = self.line(self.switched_off)
        self.assertEqual((len(kept), kept.enabled, kept.interval_number, kept.interval_type),
                         (1, False, 2, "hours"))
        self.assertFalse(self.line(self.pulling))
        # Run again (a second upgrade): nothing more.
        before = self.line(self.pushing | self.archived | self.switched_off)
        added = self.migration.add_missing_push_schedules(self.env)
        self.assertFalse(added)
        self.assertEqual(self.line(self.pushing | self.archived | self.switched_off), before)

    def test_fresh_install_does_nothing(self):
        self.migration.migrate(self.env.cr, None)
        self.assertFalse(self.line(self.pushing | self.archived))
