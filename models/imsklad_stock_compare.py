"""Stock comparison: where Odoo's on-hand quantity in the IMSKLAD warehouse differs from what
IMSKLAD holds, and an inventory adjustment to IMSKLAD's figures — applied by a person, with a
reason, never silently (the comparison itself: wizards/imsklad_stock_compare.py).

IMSKLAD's on-hand figure is its ``stock`` (the reserve is part of it: reserved goods are still
on the shelf); Odoo's is the quantity in the warehouse's stock location and its children.
"""

from odoo import models
from odoo.exceptions import UserError


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
