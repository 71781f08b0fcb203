from odoo import fields, models

ORDER_STATES = [
    ("to_send", "To send"),
    ("sending", "Outcome unknown"),
    ("sent", "Sent"),
    ("error", "Error"),
]


class SupplierOrder(models.Model):
    """One order at the supplier for (part of) a purchase order.

    Shate-M takes one location per order, so a purchase order becomes one supplier order per
    location. ``key`` (purchase order / location) is sent as the order's comment: it is how a
    retry finds an order that a timed-out attempt did create, so a retry never orders twice.
    """

    _name = "supplier.order"
    _description = "Supplier order"
    _order = "id desc"
    _rec_name = "key"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    purchase_id = fields.Many2one(
        "purchase.order", string="Purchase order", required=True, ondelete="cascade", index=True
    )
    key = fields.Char(required=True, readonly=True, help="Sent as the order comment.")
    location_code = fields.Char(string="Location", readonly=True)
    external_id = fields.Char(string="Supplier order", readonly=True, copy=False, index=True)
    state = fields.Selection(ORDER_STATES, default="to_send", required=True, readonly=True)
    sent_at = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    line_ids = fields.One2many("purchase.order.line", "supplier_order_id", string="Lines")

    _sql_constraints = [
        ("key_unique", "UNIQUE(backend_id, key)", "One supplier order per purchase order and location."),
    ]


class SupplierOrderSale(models.Model):
    """A sale order sent to a fulfilment warehouse (IMSKLAD) is a supplier order too: one row
    per sale order, its key (the order's name, IMSKLAD's "our id") set before the first send."""

    _inherit = "supplier.order"

    purchase_id = fields.Many2one(required=False)
    sale_id = fields.Many2one(
        "sale.order", string="Sale order", ondelete="cascade", index=True, readonly=True
    )
    status_code = fields.Char(string="Status code", readonly=True, copy=False)
    status_label = fields.Char(string="Status", readonly=True, copy=False)
    tracking_ref = fields.Char(string="Tracking number", readonly=True, copy=False)
    payload_hash = fields.Char(readonly=True, copy=False)
    warning = fields.Char(readonly=True, copy=False, help="What the warehouse warned about.")
