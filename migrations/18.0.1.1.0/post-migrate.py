"""18.0.1.1.0: the credentials move from supplier_backend to supplier_backend_credential."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["supplier.backend.credential"]._move_legacy_columns()
    # Checks now made in Python before the write, with a message the user can act on.
    cr.execute("ALTER TABLE supplier_backend DROP CONSTRAINT IF EXISTS supplier_backend_batch_size_positive")
    cr.execute(
        "ALTER TABLE supplier_backend_schedule "
        "DROP CONSTRAINT IF EXISTS supplier_backend_schedule_interval_positive"
    )
