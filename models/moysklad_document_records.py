"""The MoySklad side of "Send" and "Refresh status" on sale orders, purchase orders and transfers
(issue 9; the flow is models/moysklad_documents.py).

``action_supplier_send`` sends the record to every connection that takes it: the MoySklad
connection first (when one takes the record), then the connection the other services use
(IMSKLAD warehouse, Shate-M supplier) when there is one; the outcomes are shown together.
A salesperson or buyer with connector user rights may send; the connection is used as
superuser after the rights are checked, and no credential is ever read into the answer.

What the three models share lives once in ``supplier.moysklad.send.mixin``, parametrised by class
attributes (the row's link field on ``supplier.order``, the connection's setting, the MoySklad
entity, the warehouse path, the cancel state). Each model keeps its own ``moysklad_order_ids``
(its inverse differs) and the thin ``action_supplier_send`` that hands the mixin the other
services' send (``super()``: the mixin comes after the model's own classes in the MRO, so it
cannot override them itself). Transfers got "Refresh status" too (issue 11): the state of
their MoySklad shipment or receipt, as for orders.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .chatter import post_note
from .supplier_order import ORDER_STATES


class MoySkladSendMixin(models.AbstractModel):
    """What sale orders, purchase orders and transfers share for MoySklad."""

    _name = "supplier.moysklad.send.mixin"
    _description = "Sent to MoySklad"

    # The row's link to the record on supplier.order, the connection's "send these" setting,
    # the MoySklad entity, the path to the record's warehouse, the cancel state's field on the
    # connection (None: cancelling sends nothing), the states that may be sent.
    _moysklad_link = None
    _moysklad_setting = None
    _moysklad_entity = None
    _moysklad_warehouse = "warehouse_id"
    _moysklad_cancel_state = None
    _moysklad_ready_states = ()
    # The field that says whether the other services' connection takes the record too.
    _moysklad_others = "supplier_backend_id"

    moysklad_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_moysklad_backend", string="MoySklad connection"
    )
    moysklad_can_send = fields.Boolean(compute="_compute_moysklad_backend",
                                       string="Can be sent to MoySklad")
    # What the record's first row says (as a related field on the rows would); read as
    # superuser so that a salesperson without connector rights still opens the record.
    moysklad_exchange = fields.Selection(ORDER_STATES, compute="_compute_moysklad_row",
                                         compute_sudo=True, string="MoySklad exchange")
    moysklad_number = fields.Char(compute="_compute_moysklad_row", compute_sudo=True,
                                  string="MoySklad number")
    moysklad_status = fields.Char(compute="_compute_moysklad_row", compute_sudo=True,
                                  string="MoySklad state")

    @api.depends(lambda self: ("company_id", self._moysklad_warehouse, "state"))
    def _compute_moysklad_backend(self):
        Backend = self.env["supplier.backend"]
        found = {}  # one search per (company, warehouse), not per record of a list
        for record in self:
            backend = Backend.browse()
            if record._moysklad_takes():
                key = (record.company_id, record.mapped(self._moysklad_warehouse))
                if key not in found:
                    found[key] = Backend._moysklad_for(self._moysklad_setting, *key)
                backend = found[key]
            record.moysklad_backend_id = backend
            record.moysklad_can_send = bool(backend)

    @api.depends("moysklad_order_ids.state", "moysklad_order_ids.external_name",
                 "moysklad_order_ids.status_label")
    def _compute_moysklad_row(self):
        for record in self:
            row = record.moysklad_order_ids[:1]
            record.moysklad_exchange = row.state
            record.moysklad_number = row.external_name
            record.moysklad_status = row.status_label

    def _moysklad_takes(self):
        """Whether a MoySklad connection may take this record at all."""
        return True

    def _moysklad_kind(self):
        return self._moysklad_entity

    def _moysklad_not_ready(self):
        """Why the record cannot go to MoySklad yet, in plain words; False when it can."""
        if self.state in self._moysklad_ready_states:
            return False
        return self.env._("Confirm %s before sending it to MoySklad.", self.display_name)

    def _moysklad_send(self, send_others):
        """The body of ``action_supplier_send``: MoySklad first, then ``send_others`` (the
        model's other services) when their connection takes the record too."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.moysklad_backend_id
        if not backend:
            return send_others()
        not_ready = self._moysklad_not_ready()
        if not_ready:
            raise UserError(not_ready)
        backend._check_right("user")
        row, message = self.env["supplier.moysklad.documents"]._send(
            backend.sudo(), self.sudo(), self._moysklad_kind(), self._moysklad_link
        )
        post_note(self, message)
        ok = row.state == "sent" and not row.last_error
        messages = [message]
        if self[self._moysklad_others]:
            params = send_others().get("params") or {}
            messages.append(params.get("message") or "")
            ok = ok and params.get("type") == "success"
        return self.env["product.product"]._supplier_notification(
            "\n".join(filter(None, messages)), "success" if ok else "warning"
        )

    def action_supplier_refresh_status(self):
        """Read the MoySklad state of the record now."""
        self.env["supplier.backend"]._check_right("user")
        return self._moysklad_refresh_status(None)

    def _moysklad_refresh_status(self, refresh_others):
        """MoySklad's state of the record's rows, then ``refresh_others`` (the model's other
        services, None when it has none) when it was sent there too."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        rows = self.sudo().moysklad_order_ids
        if not rows:
            if refresh_others is None:
                raise UserError(self.env._("This order was not sent to MoySklad."))
            return refresh_others()
        rows.backend_id._check_right("user")
        messages = self.env["supplier.moysklad.documents"]._refresh_rows(rows.sudo())
        if refresh_others is not None and self.sudo().supplier_order_ids:
            refresh_others()
        return self.env["product.product"]._supplier_notification("\n".join(messages), "info")

    def _moysklad_cancel(self):
        for record in self:
            self.env["supplier.moysklad.documents"]._cancel(
                record, self._moysklad_link, self._moysklad_cancel_state
            )


class SaleOrderMoySklad(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "supplier.moysklad.send.mixin"]
    _moysklad_link = "moysklad_sale_id"
    _moysklad_setting = "moysklad_send_sale_orders"
    _moysklad_entity = "customerorder"
    _moysklad_cancel_state = "moysklad_sale_cancel_state_id"
    _moysklad_ready_states = ("sale",)

    moysklad_order_ids = fields.One2many(
        "supplier.order", "moysklad_sale_id", string="MoySklad customer orders"
    )

    def action_supplier_send(self):
        """Send the confirmed order to MoySklad as a customer order (or its changes), and to the
        warehouse when one operates it."""
        self.env["supplier.backend"]._check_right("user")
        return self._moysklad_send(super().action_supplier_send)

    def _action_cancel(self):
        result = super()._action_cancel()
        self._moysklad_cancel()
        return result


class PurchaseOrderMoySklad(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "supplier.moysklad.send.mixin"]
    _moysklad_link = "moysklad_purchase_id"
    _moysklad_setting = "moysklad_send_purchase_orders"
    _moysklad_entity = "purchaseorder"
    _moysklad_warehouse = "picking_type_id.warehouse_id"
    _moysklad_cancel_state = "moysklad_purchase_cancel_state_id"
    _moysklad_ready_states = ("purchase", "done")

    moysklad_order_ids = fields.One2many(
        "supplier.order", "moysklad_purchase_id", string="MoySklad purchase orders"
    )

    def action_supplier_send(self):
        """Send the confirmed order to MoySklad as a purchase order (or its changes), and to the
        supplier when its connection takes orders."""
        self.env["supplier.backend"]._check_right("user")
        return self._moysklad_send(super().action_supplier_send)

    def action_supplier_refresh_status(self):
        self.env["supplier.backend"]._check_right("user")
        return self._moysklad_refresh_status(super().action_supplier_refresh_status)

    def button_cancel(self):
        self.check_access("write")
        result = super().button_cancel()
        self._moysklad_cancel()
        return result


class StockPickingMoySklad(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "supplier.moysklad.send.mixin"]
    _moysklad_link = "moysklad_picking_id"
    _moysklad_setting = "moysklad_send_transfers"
    _moysklad_warehouse = "picking_type_id.warehouse_id"
    _moysklad_ready_states = ("done",)
    _moysklad_others = "imsklad_can_send"

    moysklad_order_ids = fields.One2many(
        "supplier.order", "moysklad_picking_id", string="MoySklad documents"
    )

    def _moysklad_takes(self):
        return self.picking_type_code in ("incoming", "outgoing")

    def _moysklad_kind(self):
        return "demand" if self.picking_type_code == "outgoing" else "supply"

    def _moysklad_not_ready(self):
        if self.state == "done":
            return False
        return self.env._(
            "Validate %s before sending it to MoySklad: MoySklad's shipments and receipts "
            "change its stock.", self.display_name,
        )

    def action_supplier_send(self):
        """Send the validated delivery or receipt to MoySklad (shipment / receipt), and to the
        warehouse when one operates it."""
        self.env["supplier.backend"]._check_right("user")
        return self._moysklad_send(super().action_supplier_send)
