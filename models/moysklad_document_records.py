"""The MoySklad side of "Send" and "Refresh status" on sale orders, purchase orders and transfers
(issue 9; the flow is models/moysklad_documents.py).

``action_supplier_send`` sends the record to every connection that takes it: the MoySklad
connection first (when one takes the record), then the connection the other services use
(IMSKLAD warehouse, Shate-M supplier) when there is one; the outcomes are shown together.
A salesperson or buyer with connector user rights may send; the connection is used as
superuser after the rights are checked, and no credential is ever read into the answer.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .chatter import post_note


class MoySkladSendMixin(models.AbstractModel):
    """What sale orders, purchase orders and transfers share for MoySklad."""

    _name = "supplier.moysklad.send.mixin"
    _description = "Sent to MoySklad"

    def _moysklad_send_one(self, backend, kind, link_field):
        """Check rights, send, post; (ok, message)."""
        backend._check_right("user")
        row, message = self.env["supplier.moysklad.documents"]._send(
            backend.sudo(), self.sudo(), kind, link_field
        )
        post_note(self, message)
        return row.state == "sent" and not row.last_error, message

    def _moysklad_then_others(self, moysklad, others):
        """Combine the MoySklad outcome with the other connection's notification (or None)."""
        ok, message = moysklad
        messages = [message]
        if others:
            params = others.get("params") or {}
            messages.append(params.get("message") or "")
            ok = ok and params.get("type") == "success"
        return self.env["product.product"]._supplier_notification(
            "\n".join(filter(None, messages)), "success" if ok else "warning"
        )

    def _moysklad_refresh(self, rows):
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        rows.backend_id._check_right("user")
        messages = self.env["supplier.moysklad.documents"]._refresh_rows(rows.sudo())
        return messages


class SaleOrderMoySklad(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "supplier.moysklad.send.mixin"]

    moysklad_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_moysklad_backend", string="MoySklad connection"
    )
    moysklad_can_send = fields.Boolean(compute="_compute_moysklad_backend",
                                       string="Can be sent to MoySklad")
    moysklad_order_ids = fields.One2many(
        "supplier.order", "moysklad_sale_id", string="MoySklad customer orders"
    )
    moysklad_exchange = fields.Selection(related="moysklad_order_ids.state",
                                         string="MoySklad exchange")
    moysklad_number = fields.Char(related="moysklad_order_ids.external_name",
                                  string="MoySklad number")
    moysklad_status = fields.Char(related="moysklad_order_ids.status_label",
                                  string="MoySklad state")

    @api.depends("company_id", "warehouse_id")
    def _compute_moysklad_backend(self):
        Backend = self.env["supplier.backend"]
        found = {}  # one search per (company, warehouse), not per order of a list
        for order in self:
            key = (order.company_id, order.warehouse_id)
            if key not in found:
                found[key] = Backend._moysklad_for("moysklad_send_sale_orders", *key)
            order.moysklad_backend_id = found[key]
            order.moysklad_can_send = bool(order.moysklad_backend_id)

    def action_supplier_send(self):
        """Send the confirmed order to MoySklad as a customer order (or its changes), and to the
        warehouse when one operates it."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.moysklad_backend_id
        if not backend:
            return super().action_supplier_send()
        if self.state != "sale":
            raise UserError(self.env._("Confirm the sale order before sending it to MoySklad."))
        outcome = self._moysklad_send_one(backend, "customerorder", "moysklad_sale_id")
        others = super().action_supplier_send() if self.supplier_backend_id else None
        return self._moysklad_then_others(outcome, others)

    def action_supplier_refresh_status(self):
        """Read the MoySklad state of the order now."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        rows = self.sudo().moysklad_order_ids
        if not rows:
            raise UserError(self.env._("This order was not sent to MoySklad."))
        messages = self._moysklad_refresh(rows)
        return self.env["product.product"]._supplier_notification("\n".join(messages), "info")

    def _action_cancel(self):
        result = super()._action_cancel()
        for order in self:
            self.env["supplier.moysklad.documents"]._cancel(
                order, "moysklad_sale_id", "moysklad_sale_cancel_state_id"
            )
        return result


class PurchaseOrderMoySklad(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "supplier.moysklad.send.mixin"]

    moysklad_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_moysklad_backend", string="MoySklad connection"
    )
    moysklad_can_send = fields.Boolean(compute="_compute_moysklad_backend",
                                       string="Can be sent to MoySklad")
    moysklad_order_ids = fields.One2many(
        "supplier.order", "moysklad_purchase_id", string="MoySklad purchase orders"
    )
    moysklad_exchange = fields.Selection(related="moysklad_order_ids.state",
                                         string="MoySklad exchange")
    moysklad_number = fields.Char(related="moysklad_order_ids.external_name",
                                  string="MoySklad number")
    moysklad_status = fields.Char(related="moysklad_order_ids.status_label",
                                  string="MoySklad state")

    @api.depends("company_id", "picking_type_id")
    def _compute_moysklad_backend(self):
        Backend = self.env["supplier.backend"]
        found = {}
        for order in self:
            key = (order.company_id, order.picking_type_id.warehouse_id)
            if key not in found:
                found[key] = Backend._moysklad_for("moysklad_send_purchase_orders", *key)
            order.moysklad_backend_id = found[key]
            order.moysklad_can_send = bool(order.moysklad_backend_id)

    def action_supplier_send(self):
        """Send the confirmed order to MoySklad as a purchase order (or its changes), and to the
        supplier when its connection takes orders."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.moysklad_backend_id
        if not backend:
            return super().action_supplier_send()
        if self.state not in ("purchase", "done"):
            raise UserError(self.env._("Confirm the purchase order before sending it to MoySklad."))
        outcome = self._moysklad_send_one(backend, "purchaseorder", "moysklad_purchase_id")
        others = super().action_supplier_send() if self.supplier_backend_id else None
        return self._moysklad_then_others(outcome, others)

    def action_supplier_refresh_status(self):
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        rows = self.sudo().moysklad_order_ids
        if not rows:
            return super().action_supplier_refresh_status()
        messages = self._moysklad_refresh(rows)
        if self.sudo().supplier_order_ids:
            super().action_supplier_refresh_status()
        return self.env["product.product"]._supplier_notification("\n".join(messages), "info")

    def button_cancel(self):
        self.check_access("write")
        result = super().button_cancel()
        for order in self:
            self.env["supplier.moysklad.documents"]._cancel(
                order, "moysklad_purchase_id", "moysklad_purchase_cancel_state_id"
            )
        return result


class StockPickingMoySklad(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "supplier.moysklad.send.mixin"]

    moysklad_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_moysklad_backend", string="MoySklad connection"
    )
    moysklad_can_send = fields.Boolean(compute="_compute_moysklad_backend",
                                       string="Can be sent to MoySklad")
    moysklad_order_ids = fields.One2many(
        "supplier.order", "moysklad_picking_id", string="MoySklad documents"
    )
    moysklad_exchange = fields.Selection(related="moysklad_order_ids.state",
                                         string="MoySklad exchange")
    moysklad_number = fields.Char(related="moysklad_order_ids.external_name",
                                  string="MoySklad number")

    @api.depends("company_id", "picking_type_id", "state")
    def _compute_moysklad_backend(self):
        Backend = self.env["supplier.backend"]
        found = {}
        for picking in self:
            backend = Backend.browse()
            if picking.picking_type_code in ("incoming", "outgoing"):
                key = (picking.company_id, picking.picking_type_id.warehouse_id)
                if key not in found:
                    found[key] = Backend._moysklad_for("moysklad_send_transfers", *key)
                backend = found[key]
            picking.moysklad_backend_id = backend
            picking.moysklad_can_send = bool(backend)

    def _moysklad_kind(self):
        return "demand" if self.picking_type_code == "outgoing" else "supply"

    def action_supplier_send(self):
        """Send the validated delivery or receipt to MoySklad (shipment / receipt), and to the
        warehouse when one operates it."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.moysklad_backend_id
        if not backend:
            return super().action_supplier_send()
        if self.state != "done":
            raise UserError(self.env._(
                "Validate %s before sending it to MoySklad: MoySklad's shipments and receipts "
                "change its stock.", self.display_name,
            ))
        outcome = self._moysklad_send_one(backend, self._moysklad_kind(), "moysklad_picking_id")
        others = super().action_supplier_send() if self.imsklad_can_send else None
        return self._moysklad_then_others(outcome, others)
