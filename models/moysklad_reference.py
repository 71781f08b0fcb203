from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Where a MoySklad sale price type goes in Odoo.
PRICE_TARGETS = [
    ("off", "Not used"),
    ("list_price", "Product sales price"),
    ("pricelist", "Pricelist"),
]


class SupplierReferenceMoySklad(models.Model):
    """MoySklad's organisations, price types and currencies, loaded by Test connection.

    The administrator maps a price type to the product's sales price or to a pricelist, and a
    currency (matched by ISO code when loaded) to an Odoo currency.
    """

    _inherit = "supplier.reference"

    kind = fields.Selection(
        selection_add=[
            ("ms_organization", "Organisation"),
            ("ms_price_type", "Price type"),
            ("ms_currency", "Currency"),
        ],
        ondelete={"ms_organization": "cascade", "ms_price_type": "cascade", "ms_currency": "cascade"},
    )
    iso_code = fields.Char(string="ISO code", readonly=True)
    odoo_currency_id = fields.Many2one(
        "res.currency", string="Odoo currency",
        help="The Odoo currency of this MoySklad currency (found by ISO code when loaded).",
    )
    price_target = fields.Selection(
        PRICE_TARGETS, string="Goes to", default="off",
        help="Where this MoySklad sale price type goes when MoySklad is the master of prices.",
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        help="The pricelist whose fixed price per product this price type sets.",
    )

    @api.constrains("price_target", "pricelist_id")
    def _check_price_target(self):
        for reference in self:
            if reference.price_target == "pricelist" and not reference.pricelist_id:
                raise ValidationError(self.env._(
                    "Choose the pricelist the MoySklad price type %(name)s goes to.",
                    name=reference.name,
                ))
        # One sales price per product: two price types cannot both write it.
        for backend in self.backend_id:
            targets = backend.reference_ids.filtered(
                lambda r: r.kind == "ms_price_type" and r.price_target == "list_price"
            )
            if len(targets) > 1:
                raise ValidationError(self.env._(
                    "Only one MoySklad price type can set the product sales price (now: "
                    "%(names)s).", names=", ".join(targets.mapped("name")),
                ))
            pricelists = backend.reference_ids.filtered(
                lambda r: r.kind == "ms_price_type" and r.price_target == "pricelist"
            ).mapped("pricelist_id")
            used = backend.reference_ids.filtered(
                lambda r: r.kind == "ms_price_type" and r.price_target == "pricelist"
            )
            if len(pricelists) < len(used):
                raise ValidationError(self.env._(
                    "Two MoySklad price types cannot set the same pricelist."
                ))
