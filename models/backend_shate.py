from odoo import api, fields, models
from odoo.exceptions import UserError


class SupplierBackendShate(models.Model):
    """Shate-M Plus settings of a connection (the service's own fields, DESIGN §6)."""

    _inherit = "supplier.backend"

    service = fields.Selection(
        selection_add=[("shate", "Shate-M Plus")], ondelete={"shate": "cascade"}
    )
    shate_agreement_id = fields.Many2one(
        "supplier.reference",
        string="Agreement",
        domain="[('backend_id', '=', id), ('kind', '=', 'agreement')]",
        help="Loaded by Test connection.",
    )
    shate_delivery_address_id = fields.Many2one(
        "supplier.reference",
        string="Delivery address",
        domain="[('backend_id', '=', id), ('kind', '=', 'delivery_address')]",
        help="Loaded by Test connection.",
    )
    shate_include_analogs = fields.Boolean(string="Include analogs")
    shate_agreement_needs_contact = fields.Boolean(related="shate_agreement_id.needs_contact")
    shate_contact_name = fields.Char(
        string="Buyer's name",
        help="Full name sent with orders on agreements that require it (cash, card, shop).",
    )
    shate_contact_phone = fields.Char(
        string="Buyer's phone",
        help="Phone sent with orders on agreements that require it (cash, card, shop).",
    )
    order_accept_terms = fields.Boolean(
        string="Accept terms of delivery",
        help="Orders are sent with the consent to the supplier's terms of delivery.",
    )
    order_accept_personal_data = fields.Boolean(
        string="Accept personal data policy",
        help="Orders are sent with the consent to the supplier's personal data policy.",
    )
    price_limit_15min = fields.Integer(
        string="Price requests per 15 minutes",
        compute="_compute_price_limits", store=True, readonly=False,
        help="Client-side limit (Shate-M: 2,000 for API accounts; 1,200 in Belarus). 0 = none.",
    )
    price_limit_day = fields.Integer(
        string="Price requests per day",
        compute="_compute_price_limits", store=True, readonly=False,
        help="Client-side limit (Shate-M: 120,000 for API accounts; 40,000 in Belarus). 0 = none.",
    )

    @api.depends("service")
    def _compute_price_limits(self):
        for backend in self:
            limited = backend.service == "shate"
            if limited and not backend.price_limit_15min:
                backend.price_limit_15min = 2000
            if limited and not backend.price_limit_day:
                backend.price_limit_day = 120000

    def _check_ready_to_order(self):
        """Refuse before anything is sent when the supplier would refuse the order."""
        super()._check_ready_to_order()
        if self.service != "shate":
            return
        if not (self.order_accept_terms and self.order_accept_personal_data):
            raise UserError(self.env._(
                "Accept the supplier's terms of delivery and personal data policy on the "
                "connection (Settings tab) before sending orders."
            ))
        if not self.shate_agreement_id.needs_contact:
            return
        if not ((self.shate_contact_name or "").strip() and (self.shate_contact_phone or "").strip()):
            raise UserError(self.env._(
                "Orders on the agreement %(agreement)s must carry the buyer's name and phone: "
                "fill them in on the connection (Settings tab).",
                agreement=self.shate_agreement_id.name,
            ))

    def _number_rules(self):
        return dict(super()._number_rules(), price_limit_15min=False, price_limit_day=False)
