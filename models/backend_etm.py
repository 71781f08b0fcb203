from odoo import fields, models


class SupplierBackendEtm(models.Model):
    """ETM iPro settings of a connection (the service's own fields, DESIGN §6)."""

    _inherit = "supplier.backend"

    service = fields.Selection(
        selection_add=[("etm", "ETM iPro")], ondelete={"etm": "cascade"}, default="etm"
    )
    etm_code_type = fields.Selection(
        [("etm", "ETM code"), ("cli", "Client code"), ("mnf", "Manufacturer article")],
        string="Code type",
        default="etm",
        help="Which code the mapped products are asked by.",
    )
