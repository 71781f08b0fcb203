"""Sale orders sent to the fulfilment warehouse (IMSKLAD add_order / update_order), DESIGN §4.2.

Sent once: the ``supplier.order`` row and its key (the order's name, IMSKLAD's "our id") exist
before the first request. After a lost answer the row stays ``sending`` and the next attempt
asks update_order with the same payload: the id back means the order exists (adopted), "not
found" means it was never created (sent again). A create IMSKLAD already holds is adopted too.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.errors import AlreadyExists, ApiError, NotFound, OutcomeUnknown
from ..api.imsklad import ImskladAddress, ImskladLine, ImskladOrder
from .chatter import post_note
from .error_messages import describe_error

_logger = logging.getLogger(__name__)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    supplier_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_supplier_backend", string="Warehouse connection"
    )
    supplier_can_send = fields.Boolean(compute="_compute_supplier_backend")
    supplier_order_ids = fields.One2many("supplier.order", "sale_id", string="Warehouse orders")
    supplier_state = fields.Selection(
        related="supplier_order_ids.state", string="Warehouse exchange"
    )
    supplier_status_code = fields.Integer(string="Warehouse status code", readonly=True, copy=False)
    supplier_status = fields.Char(string="Warehouse status", readonly=True, copy=False, index=True)
    supplier_warning = fields.Char(string="Warehouse warning", readonly=True, copy=False)

    @api.depends("warehouse_id", "company_id")
    def _compute_supplier_backend(self):
        Backend = self.env["supplier.backend"]
        for order in self:
            backend = Backend._imsklad_for_warehouse(order.warehouse_id, order.company_id)
            order.supplier_backend_id = backend
            order.supplier_can_send = bool(backend)

    def action_supplier_send(self):
        """Send the confirmed order to the warehouse, or its changes when it is there already."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.supplier_backend_id
        if not backend:
            raise UserError(self.env._(
                "No warehouse connection operates the warehouse %s.", self.warehouse_id.display_name
            ))
        backend._check_right("user")
        if self.state != "sale":
            raise UserError(self.env._("Confirm the sale order before sending it to the warehouse."))
        backend = backend.sudo()
        backend._check_operation("push_sale")
        order = self._supplier_order_row(backend)
        message = self.sudo()._supplier_send(backend, order)
        post_note(self, message)
        kind = "success" if order.state == "sent" and not order.warning else "warning"
        return self.env["product.product"]._supplier_notification(message, kind)

    def action_confirm(self):
        # Confirming is the sale order's own right (checked first, as Odoo's confirm does); the
        # automatic send below is the connection's policy, set by a connector manager.
        self.check_access("write")
        result = super().action_confirm()
        # As superuser: a salesman without connector rights confirms orders of the warehouse too.
        for order in self.sudo().filtered(lambda o: o.supplier_backend_id.imsklad_send_on_confirm):
            order.with_env(self.env)._supplier_send_automatically(order.supplier_backend_id)
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        for order in self:
            row = order.sudo().supplier_order_ids.filtered(lambda o: o.state == "sent")[:1]
            if row:
                order._supplier_send_automatically(row.backend_id)
        return result

    def _supplier_send_automatically(self, backend):
        """Send (or update) without a button: the connection's policy, never blocking the
        confirmation or cancellation that triggered it; the outcome is posted on the order."""
        try:
            with self.env.cr.savepoint():
                order = self._supplier_order_row(backend)
                message = self.sudo()._supplier_send(backend, order)
        except Exception as exc:  # noqa: BLE001 — posted on the order, never blocks it
            _logger.exception("Sending %s to the warehouse failed", self.name)
            message = describe_error(self.env, exc)
        post_note(self, message)

    def _supplier_order_row(self, backend):
        SupplierOrder = self.env["supplier.order"].sudo()
        order = SupplierOrder.search([("backend_id", "=", backend.id), ("key", "=", self.name)])
        return order or SupplierOrder.create({
            "backend_id": backend.id, "sale_id": self.id, "key": self.name,
            "location_code": backend.imsklad_location_id.code,
        })

    def _supplier_send(self, backend, order):
        """Send or update; the outcome in plain words (also kept on the supplier order)."""
        _ = self.env._
        try:
            payload = self._imsklad_payload(backend)
        except UserError as exc:
            order.write({"state": order.state if order.state in ("sent", "sending") else "error",
                         "last_error": exc.args[0]})
            return exc.args[0]
        adapter = backend._adapter()
        try:
            if order.state == "sent":
                result = adapter.update_order(payload)
                self._supplier_record_warning(order, result)
                return (_("%(order)s: changes sent to the warehouse, with a warning: %(warning)s",
                          order=self.name, warning=order.warning)
                        if order.warning else _("%s: changes sent to the warehouse.", self.name))
            if order.state == "sending":
                try:
                    result = adapter.update_order(payload)
                except NotFound:
                    result = None
                if result is not None:
                    self._supplier_sent(order, result)
                    return _("%(order)s: found at the warehouse as order %(id)s (not sent again).",
                             order=self.name, id=order.external_id)
            try:
                result = adapter.add_order(payload)
            except AlreadyExists:
                result = adapter.update_order(payload)
                self._supplier_sent(order, result)
                return _("%(order)s: found at the warehouse as order %(id)s (not sent again).",
                         order=self.name, id=order.external_id)
        except OutcomeUnknown as exc:
            order.write({"state": "sending", "last_error": describe_error(self.env, exc)})
            return _("%s: no answer from the warehouse; press Send again to check and finish.",
                     self.name)
        except ApiError as exc:
            if order.state != "sent":
                order.state = "error"
            order.last_error = describe_error(self.env, exc)
            return f"{self.name}: {order.last_error}"
        self._supplier_sent(order, result)
        return _("%(order)s: sent to the warehouse as order %(id)s.",
                 order=self.name, id=order.external_id)

    def _supplier_sent(self, order, result):
        order.write({
            "state": "sent", "external_id": str(result.system_id or order.external_id or ""),
            "sent_at": fields.Datetime.now(), "last_error": False,
        })
        self._supplier_record_warning(order, result)

    def _supplier_record_warning(self, order, result):
        warning = False
        if result.has_warning:
            warning = self.env._(
                "The warehouse is already assembling this order: the changed lines were not "
                "saved there. Call the warehouse if they must change."
            )
        order.write({"warning": warning, "last_error": False})
        self.supplier_warning = warning

    def _imsklad_payload(self, backend):
        """The ImskladOrder of this sale order; its goods pushed first when needed."""
        lines = self.order_line.filtered(
            lambda line: line.product_id and not line.display_type and not line.is_delivery
            and line.product_uom_qty > 0
        )
        if not lines:
            raise UserError(self.env._("%s has no product to send.", self.name))
        bindings = self._imsklad_bindings(backend, lines.product_id)
        missing = bindings.filtered(lambda b: not b.external_id)
        if missing:
            raise UserError(self.env._(
                "These products could not be sent to the warehouse: %(products)s. %(reason)s",
                products=", ".join(missing.product_id.mapped("display_name")),
                reason="; ".join(filter(None, missing.mapped("push_message"))),
            ))
        by_product = {binding.product_id: binding for binding in bindings}
        partner = self.partner_shipping_id or self.partner_id
        delivery = sum(self.order_line.filtered("is_delivery").mapped("price_total"))
        return ImskladOrder(
            id=self.name,
            name=partner.name or self.partner_id.name,
            email=partner.email or None,
            phone=partner.phone or partner.mobile or None,
            post_code=partner.zip or None,
            address=", ".join(filter(None, [partner.zip, partner.city, partner.street,
                                            partner.street2])) or None,
            address_obj=ImskladAddress(city=partner.city or None, street=partner.street or None,
                                       room=partner.street2 or None),
            comment=self.client_order_ref or None,
            is_canceled=True if self.state == "cancel" else None,
            delivery=delivery,
            total_paid=self._imsklad_paid(),
            goods=[ImskladLine(
                id=by_product[line.product_id].external_code,
                quantity=line.product_uom_qty,
                price=line.price_reduce_taxinc,
            ) for line in lines],
        )

    def _imsklad_paid(self):
        invoices = self.invoice_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_invoice"
        )
        return sum(move.amount_total - move.amount_residual for move in invoices)

    def _imsklad_bindings(self, backend, products):
        """The products' bindings, created and pushed when needed (unchanged: no request)."""
        return backend._imsklad_pushed_bindings(products)
