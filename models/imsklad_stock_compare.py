"""Stock comparison: where Odoo's on-hand quantity in the IMSKLAD warehouse differs from what
IMSKLAD holds, and an inventory adjustment to IMSKLAD's figures — applied by a person, with a
reason, never silently.

IMSKLAD's on-hand figure is its ``stock`` (the reserve is part of it: reserved goods are still
on the shelf); Odoo's is the quantity in the warehouse's stock location and its children.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class SupplierBackendImskladStock(models.Model):
    _inherit = "supplier.backend"

    def action_imsklad_compare_stock(self):
        """Ask IMSKLAD its stock of every pushed product and list the differences."""
        self._check_right("user")
        self.ensure_one()
        backend = self.sudo()
        warehouse = backend.imsklad_warehouse_id
        if backend.service != "imsklad" or not warehouse:
            raise UserError(self.env._(
                "Choose the Odoo warehouse IMSKLAD operates on the connection first."
            ))
        bindings = backend.binding_ids.filtered("external_id")
        report = backend._adapter().client.get_stock(bindings.mapped("external_id"))
        products = bindings.product_id.with_context(location=warehouse.lot_stock_id.id)
        odoo_qty = {product.id: product.qty_available for product in products}
        lines = []
        for binding in bindings:
            stock = report.stocks.get(int(binding.external_id)) if binding.external_id.isdigit() \
                else None
            if stock is None:
                continue
            qty = odoo_qty.get(binding.product_id.id, 0.0)
            if qty != stock.stock:
                lines.append((0, 0, {
                    "binding_id": binding.id, "product_id": binding.product_id.id,
                    "imsklad_qty": stock.stock, "imsklad_reserved": stock.reserved,
                    "odoo_qty": qty,
                }))
        wizard = self.env["supplier.imsklad.stock.compare"].create({
            "backend_id": self.id, "line_ids": lines,
        })
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Stock comparison"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }


class ImskladStockCompare(models.TransientModel):
    _name = "supplier.imsklad.stock.compare"
    _description = "IMSKLAD stock comparison"

    backend_id = fields.Many2one("supplier.backend", required=True, readonly=True)
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
    difference = fields.Float(compute="_compute_difference")
    apply = fields.Boolean(default=True)

    @api.depends("imsklad_qty", "odoo_qty")
    def _compute_difference(self):
        for line in self:
            line.difference = line.imsklad_qty - line.odoo_qty
