from odoo import fields, models


class SupplierProductPush(models.Model):
    """What a push (Odoo → service) last did for a binding (DESIGN §3, §4.2)."""

    _inherit = "supplier.product"

    push_hash = fields.Char(
        string="Payload fingerprint", readonly=True, copy=False, help="Hash of the payload the service last accepted."
    )
    last_push = fields.Datetime(readonly=True, copy=False)
    push_message = fields.Char(
        string="Push problem", readonly=True, copy=False,
        help="Why the last push of this product failed, in plain words.",
    )
