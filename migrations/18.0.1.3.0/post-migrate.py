"""18.0.1.3.0: MoySklad connections where Odoo was already the master of products before the push
schedule existed got no "Push products" schedule line (the line is added only when the
direction changes). Each such connection gets it now, enabled, every 30 minutes (the line a
connection gets when Odoo becomes the master, ``moysklad_push.PUSH_SCHEDULE``).

Idempotent: a connection that has the line keeps it as it is (an administrator may have switched
it off or changed its interval); connections where MoySklad is the master get none."""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def add_missing_push_schedules(env):
    """Create the missing "Push products" lines; returns the connections that got one."""
    from odoo.addons.supplier_connector.models.moysklad_push import (  # noqa: PLC0415
        PUSH_SCHEDULE,
    )

    env.cr.execute(
        "SELECT b.id FROM supplier_backend b WHERE b.service = 'moysklad' "
        "AND b.moysklad_products_direction = 'push' AND NOT EXISTS ("
        " SELECT 1 FROM supplier_backend_schedule s"
        " WHERE s.backend_id = b.id AND s.operation = 'push_products') ORDER BY b.id"
    )
    backends = env["supplier.backend"].browse([row[0] for row in env.cr.fetchall()])
    env["supplier.backend.schedule"].sudo().create([
        {"backend_id": backend.id, "operation": "push_products", "enabled": True,
         **PUSH_SCHEDULE}
        for backend in backends
    ])
    if backends:
        _logger.info("MoySklad push schedule added to %s connection(s): %s", len(backends),
                     backends.ids)
    return backends


def migrate(cr, version):
    if not version:
        return
    add_missing_push_schedules(api.Environment(cr, SUPERUSER_ID, {}))
