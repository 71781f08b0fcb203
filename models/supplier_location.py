from odoo import fields, models


class SupplierLocation(models.Model):
    """A store / warehouse / location of a service, found in its answers.

    Locations appear by themselves the first time a service reports stock there. The
    administrator unticks "Use for stock" to ignore one: its offers are no longer kept and its
    quantity no longer counts in the product's supplier stock.
    """

    _name = "supplier.location"
    _description = "Supplier store"
    _order = "backend_id, sequence, code"

    backend_id = fields.Many2one("supplier.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    code = fields.Char(required=True)
    name = fields.Char()
    location_type = fields.Char(
        string="Type", help="As the service calls it, e.g. ETM: rc, crs (distribution), op (office)."
    )
    sequence = fields.Integer(default=10)
    use_for_stock = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(backend_id, code)", "A store code is unique per connection."),
    ]

    def _compute_display_name(self):
        for location in self:
            location.display_name = f"[{location.code}] {location.name or ''}".strip()


class SupplierLocationWarehouse(models.Model):
    """Shops and warehouses Odoo pushes to (IMSKLAD storage, UDOMA shops) take their stock from
    an Odoo warehouse (DESIGN §3)."""

    _inherit = "supplier.location"

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Odoo warehouse",
        check_company=True,
        help="The Odoo warehouse this location stands for (pushes: its stock and its orders).",
    )
