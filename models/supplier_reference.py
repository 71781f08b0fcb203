from odoo import fields, models

REFERENCE_KINDS = [
    ("agreement", "Agreement"),
    ("delivery_address", "Delivery address"),
    ("status", "Order status"),
]


class SupplierReference(models.Model):
    """A value of a service's reference list (agreements, delivery addresses, status codes).

    Loaded by "Test connection" so the administrator picks from lists instead of typing codes.
    """

    _name = "supplier.reference"
    _description = "Supplier reference value"
    _order = "backend_id, kind, code"

    backend_id = fields.Many2one("supplier.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    kind = fields.Selection(REFERENCE_KINDS, required=True)
    code = fields.Char(required=True)
    name = fields.Char(required=True)
    is_final = fields.Boolean(help="For order statuses: the line will not change any more.")
    needs_contact = fields.Boolean(
        string="Needs buyer's name and phone",
        help="For agreements: orders on it must carry the buyer's name and phone "
        "(Shate-M: cash, card-acquiring and shop agreements).",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(backend_id, kind, code)", "A code is unique per list."),
    ]
