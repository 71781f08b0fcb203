from odoo import fields, models


class SupplierOffer(models.Model):
    """One purchasable offer of a mapped product: a store or location, its stock, its price."""

    _name = "supplier.offer"
    _description = "Supplier offer"
    _order = "binding_id, price, delivery_days, location_code"

    binding_id = fields.Many2one("supplier.product", required=True, ondelete="cascade", index=True)
    # precompute: filled in the INSERT itself, not by a second UPDATE of every new offer.
    backend_id = fields.Many2one(
        related="binding_id.backend_id", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(related="binding_id.company_id", store=True, precompute=True)
    product_id = fields.Many2one(
        related="binding_id.product_id", store=True, index=True, precompute=True
    )
    product_tmpl_id = fields.Many2one(
        related="binding_id.product_tmpl_id", store=True, index=True, string="Product template",
        precompute=True,
    )
    location_id = fields.Many2one("supplier.location", string="Store", ondelete="cascade")
    location_code = fields.Char(string="Store code")
    location_name = fields.Char(related="location_id.name", string="Store name")
    location_type = fields.Char(related="location_id.location_type", string="Store type")
    quantity = fields.Float(digits="Product Unit of Measure")
    currency_id = fields.Many2one("res.currency")
    price = fields.Monetary()
    delivery_days = fields.Integer()
    delivery_label = fields.Char(string="Delivery")
    stock_date = fields.Date(help="Date the supplier computed this stock.")
    external_offer_id = fields.Char(string="Supplier offer ID")
    delivery_date = fields.Datetime()
    shipping_date = fields.Datetime()
    quantity_type = fields.Char(help="How the service states the quantity (exact, more than…).")
    multiplicity = fields.Float(help="Order in multiples of this quantity.")
    min_qty = fields.Float(string="Minimum quantity")
    max_qty = fields.Float(string="Maximum quantity")
    probability = fields.Float(string="Supply probability (%)")
    return_allowed = fields.Boolean()
    warning = fields.Char()
    is_analog = fields.Boolean(string="Analog")
    is_best = fields.Boolean(
        string="Vendor price", help="The offer chosen for the vendor price by the connection's rule."
    )
    fetched_at = fields.Datetime(string="Received", readonly=True)
