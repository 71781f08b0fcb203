"""The connection's price alert: the threshold, who hears of it, the history behind it.

A new connection takes its threshold from the Settings default
(``supplier_connector.price_alert_percent``, models/res_config_settings.py). Managers change it
on the connection (the connection's own write right; supplier_backend ACL).
"""

from odoo import fields, models

PRICE_ALERT_PARAM = "supplier_connector.price_alert_percent"
DEFAULT_PRICE_ALERT_PERCENT = 10.0


def default_price_alert_percent(env):
    value = env["ir.config_parameter"].sudo().get_param(PRICE_ALERT_PARAM)
    try:
        return float(value) if value not in (None, False, "") else DEFAULT_PRICE_ALERT_PERCENT
    except ValueError:
        return DEFAULT_PRICE_ALERT_PERCENT


class SupplierBackend(models.Model):
    _inherit = "supplier.backend"

    price_alert_percent = fields.Float(
        string="Price alert (%)",
        digits=(16, 2),
        default=lambda self: default_price_alert_percent(self.env),
        help="When a product's price at this supplier moves by more than this percentage in "
        "one change, an activity is posted for the product's responsible buyer (once per "
        "change). 0 = no alerts.",
    )
    price_alert_user_id = fields.Many2one(
        "res.users",
        string="Price alerts to",
        domain=[("share", "=", False)],
        help="Who gets price alerts of products that have no responsible user (Inventory tab "
        "of the product). Empty: the administrator.",
    )
    price_change_count = fields.Integer(compute="_compute_price_change_count")

    def _number_rules(self):
        return dict(super()._number_rules(), price_alert_percent=False)

    def _compute_price_change_count(self):
        counts = dict(self.env["supplier.price.history"]._read_group(
            [("backend_id", "in", self.ids), ("is_first", "=", False)],
            ["backend_id"], ["__count"],
        ))
        for backend in self:
            backend.price_change_count = counts.get(backend, 0)

    def action_open_price_history(self):
        """The price changes of this connection's products (list and chart)."""
        self._check_right("user")
        self.ensure_one()
        return self.env["supplier.price.history"]._action_open(
            [("backend_id", "=", self.id)], {"search_default_moves": 1}
        )
