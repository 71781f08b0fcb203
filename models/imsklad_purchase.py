"""Purchase orders announced to the IMSKLAD warehouse as supplier pre-orders (add_preorder /
update_preorder, type 0 "the warehouse expects these goods from the supplier"), DESIGN §4.2.

A confirmed purchase order whose receipt goes to the warehouse IMSKLAD operates (its operation
type's warehouse) is announced by its own button ("Announce to warehouse"), or on confirmation
when the connection sends on confirmation (never blocking it: the outcome is posted). It is
apart from "Send to supplier" (the Shate-M order of the same purchase order): both may apply,
each with its own ``supplier.order`` row (``purchase_id`` for the supplier's order,
``imsklad_purchase_id`` for the pre-order), so neither flow reads the other's rows.

Decisions where the document is silent:

- Our id: the purchase order's name; the code: the vendor's reference when there is one (what
  the driver's papers show), else the name; the date: the expected arrival (``date_planned``).
- Lines: storable products, quantities in the product's unit (whole pieces), the price of the
  line's subtotal per piece in the order's currency (IMSKLAD has no currency field).
- Pickup: a per-order flag, "Warehouse picks up the goods" (the warehouse sends a courier to the
  vendor: IMSKLAD charges it). Set, the pre-order carries ``need_pickup`` 1, the vendor's address
  (the order's partner, else its company) on one line, and contacts: the contact's name, the
  company, phone(s), email — the document's "ФИО Менеджера, Название организации, …". A pickup
  without a vendor address is refused before sending.
- Changes (lines, date, pickup) go by pressing the button again (update_preorder; unchanged:
  nothing sent). Cancelling the order cannot be sent (no cancel in update_preorder): a note asks
  a person to have the warehouse cancel it (models/imsklad_picking.py).
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.imsklad import ImskladPreorder
from .chatter import post_note
from .error_messages import describe_error

_logger = logging.getLogger(__name__)


class PurchaseOrderImsklad(models.Model):
    _inherit = "purchase.order"

    imsklad_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_imsklad_backend", string="Warehouse connection"
    )
    imsklad_need_pickup = fields.Boolean(
        string="Warehouse picks up the goods", copy=False,
        help="The fulfilment warehouse sends a courier to collect the goods at the vendor's "
        "address (charged by the warehouse).",
    )
    imsklad_preorder_ids = fields.One2many(
        "supplier.order", "imsklad_purchase_id", string="Warehouse pre-orders"
    )
    imsklad_state = fields.Selection(
        related="imsklad_preorder_ids.state", string="Warehouse exchange"
    )
    imsklad_status = fields.Char(string="Warehouse status", related="imsklad_preorder_ids.status_label")

    @api.depends("picking_type_id", "company_id")
    def _compute_imsklad_backend(self):
        Backend = self.env["supplier.backend"]
        for order in self:
            order.imsklad_backend_id = Backend._imsklad_for_warehouse(
                order.picking_type_id.warehouse_id, order.company_id
            )

    def action_imsklad_announce(self):
        """Announce the confirmed order to the warehouse as a pre-order, or send its changes."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.imsklad_backend_id
        if not backend:
            raise UserError(self.env._(
                "No warehouse connection operates the warehouse that receives %s.", self.name
            ))
        backend._check_right("user")
        if self.state not in ("purchase", "done"):
            raise UserError(self.env._(
                "Confirm the purchase order before announcing it to the warehouse."
            ))
        backend = backend.sudo()
        backend._check_operation("push_documents")
        row = self._imsklad_row(backend)
        message = self.sudo()._imsklad_send(row)
        post_note(self, message)
        kind = "success" if row.state == "sent" and not row.last_error else "warning"
        return self.env["product.product"]._supplier_notification(message, kind)

    def button_approve(self, force=False):
        self.check_access("write")  # approving is the order's own right, checked first
        result = super().button_approve(force=force)
        # As superuser: a buyer without connector rights confirms orders of the warehouse too;
        # the automatic announcement is the connection's policy, set by a connector manager.
        for order in self.sudo().filtered(
            lambda o: o.state in ("purchase", "done") and o.imsklad_backend_id.imsklad_send_on_confirm
        ):
            order.with_env(self.env)._imsklad_send_automatically(order.imsklad_backend_id)
        return result

    def button_cancel(self):
        # The order's own right first: the note below reads the pre-order rows as superuser.
        self.check_access("write")
        result = super().button_cancel()
        for order in self:
            row = order.sudo().imsklad_preorder_ids.filtered(lambda o: o.state == "sent")[:1]
            if row:
                row._imsklad_cancelled_note(order)
        return result

    def _imsklad_send_automatically(self, backend):
        """Announce without a button, never blocking the confirmation; the outcome is posted."""
        try:
            with self.env.cr.savepoint():
                row = self._imsklad_row(backend)
                message = self.sudo()._imsklad_send(row)
        except Exception as exc:  # noqa: BLE001 — posted on the order, never blocks it
            _logger.exception("Announcing %s to the warehouse failed", self.name)
            message = describe_error(self.env, exc)
        post_note(self, message)

    def _imsklad_row(self, backend):
        SupplierOrder = self.env["supplier.order"].sudo()
        row = SupplierOrder.search([("backend_id", "=", backend.id), ("key", "=", self.name)])
        return row or SupplierOrder.create({
            "backend_id": backend.id, "imsklad_purchase_id": self.id, "key": self.name,
            "location_code": backend.imsklad_location_id.code, "doc_kind": "preorder",
            "doc_type": "0",
        })

    def _imsklad_send(self, row):
        try:
            payload = self._imsklad_payload(row)
        except UserError as exc:
            return row._refuse_input(exc.args[0])
        return row._imsklad_send_document(payload)

    def _imsklad_payload(self, row):
        """The ImskladPreorder of this order (type 0); its goods pushed first when needed."""
        lines = self.order_line.filtered(
            lambda line: line.product_id.is_storable and not line.display_type
            and line.product_qty > 0
        )
        quantities = []
        for line in lines:
            qty = line.product_uom._compute_quantity(line.product_qty, line.product_id.uom_id)
            quantities.append((line.product_id, qty, line.price_subtotal / qty))
        goods = row.backend_id._imsklad_document_lines(quantities, self.name)
        vendor = self.partner_id
        company = vendor.commercial_partner_id
        preorder = ImskladPreorder(
            id=row.key, type=0, goods=goods, code=self.partner_ref or self.name,
            date=self.date_planned, supplier_name=company.name or None,
            need_pickup=self.imsklad_need_pickup,
        )
        if self.imsklad_need_pickup:
            where = vendor if vendor.street or vendor.city else company
            address = ", ".join(filter(None, [where.zip, where.city, where.street, where.street2]))
            if not address:
                raise UserError(self.env._(
                    "%(order)s: the warehouse is to pick the goods up, but %(vendor)s has no "
                    "address. Add it to the vendor, or untick \"Warehouse picks up the goods\".",
                    order=self.name, vendor=company.display_name,
                ))
            contacts = [vendor.name if vendor != company else None, company.name,
                        vendor.phone or company.phone, vendor.mobile or None,
                        vendor.email or company.email]
            preorder.pickup_address = address
            preorder.pickup_contacts = ", ".join(filter(None, contacts))
        return preorder
