"""The stock comparison a person reviews (models/imsklad_stock_compare.py fills it): IMSKLAD's
on-hand figure next to Odoo's, and the inventory adjustment to IMSKLAD's figures for the ticked
lines, with a reason."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class ImskladStockCompare(models.TransientModel):
    _name = "supplier.imsklad.stock.compare"
    _description = "IMSKLAD stock comparison"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, readonly=True
    )
    reason = fields.Char(
        required=True, default=lambda self: self.env._("IMSKLAD stock count"),
        help="Shown on the inventory moves.",
    )
    line_ids = fields.One2many("supplier.imsklad.stock.compare.line", "compare_id", string="Lines")

    def action_apply(self):
        """Set Odoo's on-hand quantities to IMSKLAD's for the ticked lines."""
        self.ensure_one()
        self.backend_id._check_right("manager")
        if not self.env.user.has_group("stock.group_stock_manager"):
            raise AccessError(self.env._(
                "Only inventory administrators can apply inventory adjustments."
            ))
        location = self.backend_id.sudo().imsklad_warehouse_id.lot_stock_id
        lines = self.line_ids.filtered("apply")
        if not lines:
            raise UserError(self.env._("Tick the lines to apply."))
        Quant = self.env["stock.quant"].with_context(inventory_mode=True)
        quants = Quant.browse()
        for line in lines:
            quants |= Quant.create({
                "product_id": line.product_id.id, "location_id": location.id,
                "inventory_quantity": line.imsklad_qty,
            })
        quants.with_context(inventory_name=self.reason)._apply_inventory()
        return {"type": "ir.actions.act_window_close"}


class ImskladStockCompareLine(models.TransientModel):
    _name = "supplier.imsklad.stock.compare.line"
    _description = "IMSKLAD stock comparison line"

    compare_id = fields.Many2one("supplier.imsklad.stock.compare", required=True,
                                 ondelete="cascade")
    binding_id = fields.Many2one("supplier.product", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    imsklad_qty = fields.Float(string="IMSKLAD on hand", readonly=True)
    imsklad_reserved = fields.Float(string="IMSKLAD reserved", readonly=True)
    odoo_qty = fields.Float(string="Odoo on hand", readonly=True)
    difference = fields.Float(
        compute="_compute_difference",
        help="IMSKLAD on hand minus Odoo on hand: what applying adds to Odoo's quantity.",
    )
    apply = fields.Boolean(
        default=True, help="Set Odoo's on-hand quantity to IMSKLAD's for this product.",
    )

    @api.depends("imsklad_qty", "odoo_qty")
    def _compute_difference(self):
        for line in self:
            line.difference = line.imsklad_qty - line.odoo_qty
