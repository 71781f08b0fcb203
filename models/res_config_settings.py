"""The "Supplier connections" block of Odoo's Settings app.

It lists the connections with their last run and opens each in one click, creates a connection
for a chosen service, and keeps the global options as system parameters:

- ``supplier_connector.log_retention_days``: sync logs older than this are deleted by the
  daily cron (``supplier.sync.log._cron_clean_old_logs``; the parameter already existed);
- ``supplier_connector.price_alert_percent``: the "Price alert (%)" a new connection starts
  with (each connection keeps its own, changed on its form);
- ``supplier_connector.sync_offers_interval_minutes``: how often a new connection's prices and
  stock are refreshed; 0 keeps each service's own default (MoySklad 30 minutes, others hourly).

Credentials are not here: they stay on the connection form (system administrators only).
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .supplier_backend_price_alert import DEFAULT_PRICE_ALERT_PERCENT, PRICE_ALERT_PARAM

INTERVAL_PARAM = "supplier_connector.sync_offers_interval_minutes"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    supplier_log_retention_days = fields.Integer(
        string="Keep sync logs (days)",
        config_parameter="supplier_connector.log_retention_days",
        default=30,
    )
    supplier_price_alert_percent = fields.Float(
        string="Price alert (%)",
        config_parameter=PRICE_ALERT_PARAM,
        default=DEFAULT_PRICE_ALERT_PERCENT,
    )
    supplier_sync_interval_minutes = fields.Integer(
        string="Refresh prices and stock every (minutes)",
        config_parameter=INTERVAL_PARAM,
        default=0,
    )
    # A default, not a compute: the Settings form's first onchange sends defaults, and leaves
    # out a computed many2many of a new record.
    supplier_backend_ids = fields.Many2many(
        "supplier.backend", string="Connections",
        default=lambda self: self._default_supplier_backends(),
    )
    supplier_new_service = fields.Selection(
        selection="_selection_supplier_services", string="New connection for",
    )

    @api.model
    def _selection_supplier_services(self):
        return self.env["supplier.backend"]._fields["service"]._description_selection(self.env)

    @api.model
    def _default_supplier_backends(self):
        if not self.env["supplier.backend"].has_access("read"):
            return self.env["supplier.backend"]
        # Every connection is listed: a company has a handful.
        return self.env["supplier.backend"].with_context(active_test=False).search(
            [("id", "!=", False)])

    @api.constrains("supplier_log_retention_days", "supplier_price_alert_percent",
                    "supplier_sync_interval_minutes")
    def _check_supplier_numbers(self):
        for settings in self:
            if settings.supplier_log_retention_days < 1:
                raise ValidationError(
                    self.env._("Sync logs must be kept for at least 1 day.")
                )
            if settings.supplier_price_alert_percent < 0:
                raise ValidationError(self.env._("The price alert cannot be negative."))
            if settings.supplier_sync_interval_minutes < 0:
                raise ValidationError(
                    self.env._("The refresh interval cannot be negative.")
                )

    def set_values(self):
        result = super().set_values()
        if not self.supplier_price_alert_percent:
            # Odoo deletes a parameter set to 0, which would bring the default back: 0 is a
            # choice here (new connections without alerts).
            self.env["ir.config_parameter"].sudo().set_param(PRICE_ALERT_PARAM, "0")
        return result

    def action_new_supplier_connection(self):
        """Open a new connection's form for the chosen service (managers)."""
        self.env["supplier.backend"]._check_right("manager")
        self.env["supplier.backend"].check_access("create")
        self.ensure_one()
        context = {}
        if self.supplier_new_service:
            label = dict(self._selection_supplier_services()).get(self.supplier_new_service)
            context = {"default_service": self.supplier_new_service, "default_name": label}
        return {
            "type": "ir.actions.act_window",
            "res_model": "supplier.backend",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": context,
        }


class SupplierBackend(models.Model):
    _inherit = "supplier.backend"

    def action_open_connection(self):
        """The connection's form (from the Settings block's list)."""
        self._check_right("user")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "supplier.backend",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }


class SupplierBackendSchedule(models.Model):
    _inherit = "supplier.backend.schedule"

    @api.model
    def _default_intervals(self, service):
        """The service's defaults, with the Settings' price and stock interval when one is set."""
        defaults = super()._default_intervals(service)
        try:
            minutes = int(self.env["ir.config_parameter"].sudo().get_param(INTERVAL_PARAM) or 0)
        except ValueError:
            minutes = 0
        if minutes <= 0:
            return defaults
        return tuple(
            (operation, dict(values, interval_number=minutes, interval_type="minutes"))
            if operation == "sync_offers" else (operation, values)
            for operation, values in defaults
        )
