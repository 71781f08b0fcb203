"""Stock documents of the IMSKLAD warehouse (add_doc / update_doc) and returns to vendors (a
supplier pre-order of type 1), sent from the picking. Every pre-order, document and sale order
is sent by the one exactly-once flow, ``supplier.order._send_exactly_once`` (DESIGN §4.2): the
row and its key exist before the first request, a lost answer leaves it ``sending`` and the
next attempt asks the update with the same payload (``ImskladProtocol.find``: the id back:
adopted; "not found": sent again), "already exists" is adopted too.

Decisions where the document is silent:

- Which pickings: those whose operation type belongs to the warehouse IMSKLAD operates. A receipt
  of a purchase order goes with the order's pre-order (models/imsklad_purchase.py: its button
  here sends the purchase order's); a delivery of a sale order goes with the sale order
  (models/sale.py). An outgoing picking of a purchase order (a return to the vendor, Odoo's
  return wizard links it to the order) is a pre-order of type 1, "collect these goods and return
  them to the supplier", with the vendor as supplier. Any other receipt (type 0) or delivery
  (type 1) — manual transfers, write-offs made as deliveries — is a stock document. Internal
  transfers and scrap orders (no picking) stay in Odoo: the warehouse's stock does not change.
- Ids: the picking's name is our id (``key``) and the document's code; the date is the
  picking's scheduled date. Lines: its moves by product (quantities in the product's unit,
  whole numbers only, as IMSKLAD counts pieces), the price the move's unit price or else the
  product's cost.
- Nothing changed since the warehouse accepted the document (same payload hash): pressing the
  button again sends nothing and says so.
- Cancelling: neither update_preorder nor update_doc has a cancel flag, and both need at least
  one line: a cancelled picking (or purchase order) already at the warehouse is not sent; a note
  asks a person to have the warehouse cancel it, and the row keeps the warning.
- The warehouse's document status (callbacks doc.*, models/imsklad_doc_events.py) is kept on the
  row and shown on the picking ("Warehouse status"); for a purchase order's receipt the status
  of the order's pre-order.
"""

import hashlib
import json
import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.errors import NotFound
from ..api.imsklad import ImskladDoc, ImskladLine, ImskladPreorder
from ..api.imsklad_payloads import doc_data, preorder_data
from .chatter import post_note

_logger = logging.getLogger(__name__)

DOC_KINDS = [("preorder", "Supplier pre-order"), ("doc", "Stock document")]
SEND_KINDS = [
    ("purchase", "Receipt of a purchase order"),
    ("return", "Return to the vendor"),
    ("doc_in", "Receipt"),
    ("doc_out", "Delivery or write-off"),
    ("sale", "Delivery of a sale order"),
]
OWN_DOCUMENT_KINDS = ("return", "doc_in", "doc_out")


def payload_digest(payload, backend):
    """Hash of what update_preorder/update_doc would send: unchanged → nothing to send."""
    build = preorder_data if isinstance(payload, ImskladPreorder) else doc_data
    data, _item = build(payload, storage_id=backend.imsklad_storage_id or 1, update=True)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ImskladProtocol:
    """How ``supplier.order._send_exactly_once`` talks to IMSKLAD: ``add`` creates, ``update``
    changes; after a lost answer the update with the same payload finds it (the id back) or
    says "not found" (never created: sent again). ``digest``: None to always send."""

    def __init__(self, add, update, digest=None):
        self._add, self._update, self._digest = add, update, digest

    def digest(self, payload):
        return self._digest(payload) if self._digest else None

    # Not an Odoo model: the send protocol's create has no super to call.
    def create(self, row, payload):  # pylint: disable=method-required-super
        return self._add(payload)

    def update(self, row, payload):
        return self._update(payload)

    def find(self, row, payload):
        try:
            return self._update(payload)
        except NotFound:
            return None

    @staticmethod
    def external_id(result):
        return str(result.system_id or "")


class SupplierOrderDocument(models.Model):
    """A pre-order or stock document at the warehouse: the row of a purchase order (its receipt
    announced) or of a picking (a return to the vendor, a receipt or a delivery)."""

    _inherit = "supplier.order"

    # Not purchase_id: that one is the Shate-M order of the purchase order, whose flow reads
    # every row of it (send summary, status pulls); a pre-order is another kind of row.
    imsklad_purchase_id = fields.Many2one(
        "purchase.order", string="Pre-order of", ondelete="cascade", index="btree_not_null",
        readonly=True,
    )
    picking_id = fields.Many2one(
        "stock.picking", string="Transfer", ondelete="cascade", index="btree_not_null",
        readonly=True,
    )
    doc_kind = fields.Selection(DOC_KINDS, string="Document kind", readonly=True)
    doc_type = fields.Selection(
        [("0", "Incoming"), ("1", "Outgoing")], string="Direction", readonly=True
    )

    def _imsklad_send_document(self, payload):
        """Send ``payload`` (ImskladPreorder or ImskladDoc) for this row exactly once, or its
        changes (``supplier.order._send_exactly_once``); the outcome in plain words (also kept
        on the row)."""
        self.ensure_one()
        adapter = self.backend_id._adapter()
        if self.doc_kind == "preorder":
            add, update = adapter.add_preorder, adapter.update_preorder
        else:
            add, update = adapter.add_doc, adapter.update_doc
        protocol = ImskladProtocol(add, update,
                                   digest=lambda data: payload_digest(data, self.backend_id))
        outcome = self._send_exactly_once(protocol, payload)
        if outcome.how in ("created", "updated", "adopted"):
            self.warning = False
        if outcome.how == "unchanged":
            return self.env._("%s: nothing changed since the warehouse accepted it.", self.key)
        if outcome.how == "updated":
            return self.env._("%s: changes sent to the warehouse.", self.key)
        if outcome.how == "adopted":
            return self.env._("%(key)s: found at the warehouse as document %(id)s (not sent "
                              "again).", key=self.key, id=self.external_id)
        if outcome.how == "unknown":
            return self.env._("%s: no answer from the warehouse; press the button again to check "
                              "and finish.", self.key)
        if outcome.how == "failed":
            return f"{self.key}: {self.last_error}"
        return self.env._("%(key)s: sent to the warehouse as document %(id)s.",
                          key=self.key, id=self.external_id)

    def _imsklad_cancelled_note(self, record):
        """The document was cancelled in Odoo but IMSKLAD has no call to cancel it."""
        warning = self.env._(
            "Cancelled in Odoo, but IMSKLAD's API cannot cancel %(kind)s %(key)s (document "
            "%(id)s): ask the warehouse to cancel it.",
            kind=dict(self._fields["doc_kind"]._description_selection(self.env))[self.doc_kind]
            .lower(), key=self.key, id=self.external_id,
        )
        self.warning = warning
        post_note(record, warning)


class SupplierBackendDocuments(models.Model):
    _inherit = "supplier.backend"

    imsklad_validate_documents = fields.Boolean(
        string="Validate transfers when posted",
        help="When IMSKLAD reports a pre-order or document posted, validate the Odoo receipt "
        "or delivery with the quantities the warehouse counted (the rest stays in a backorder).",
    )

    def _imsklad_pushed_bindings(self, products):
        """The products' bindings to this connection, created and pushed when needed (unchanged
        goods: no request). Shared by sale orders, pre-orders and documents."""
        self.ensure_one()
        Goods = self.env["supplier.imsklad.goods"]
        bindings, _notes = Goods._bind_products(self, products)
        Goods._push(self, trigger="manual", bindings=bindings)
        return bindings

    def _imsklad_document_lines(self, quantities, what):
        """ImskladLines from ``quantities`` [(product, quantity in its unit, unit price)]: lines
        of one product merged, goods pushed first; UserError in plain words when a product cannot
        go (not pushed, not a whole quantity) or there is no line at all."""
        totals = defaultdict(lambda: [0.0, 0.0])
        for product, quantity, price in quantities:
            if quantity > 0:
                totals[product][0] += quantity
                totals[product][1] += quantity * price
        if not totals:
            raise UserError(self.env._("%s has no product to send to the warehouse.", what))
        fractional = [product.display_name for product, (qty, _amount) in totals.items()
                      if not float(round(qty, 6)).is_integer()]
        if fractional:
            raise UserError(self.env._(
                "%(what)s: the warehouse counts whole pieces; these quantities are not whole: "
                "%(products)s.", what=what, products=", ".join(fractional),
            ))
        products = self.env["product.product"].union(*totals)
        bindings = self._imsklad_pushed_bindings(products)
        missing = bindings.filtered(lambda b: not b.external_id)
        if missing:
            raise UserError(self.env._(
                "These products could not be sent to the warehouse: %(products)s. %(reason)s",
                products=", ".join(missing.product_id.mapped("display_name")),
                reason="; ".join(filter(None, missing.mapped("push_message"))),
            ))
        code = {binding.product_id: binding.external_code for binding in bindings}
        return [ImskladLine(id=code[product], quantity=round(qty), price=amount / qty)
                for product, (qty, amount) in totals.items()]


class StockPickingImsklad(models.Model):
    _inherit = "stock.picking"

    imsklad_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_imsklad_send", string="Warehouse connection"
    )
    imsklad_send_kind = fields.Selection(
        SEND_KINDS, compute="_compute_imsklad_send", string="At the warehouse as"
    )
    imsklad_can_send = fields.Boolean(
        string="Can be sent to the warehouse", compute="_compute_imsklad_send"
    )
    supplier_order_ids = fields.One2many("supplier.order", "picking_id", string="Warehouse documents")
    supplier_state = fields.Selection(
        related="supplier_order_ids.state", string="Warehouse exchange"
    )
    supplier_status = fields.Char(
        string="Warehouse status", readonly=True, copy=False, index="btree_not_null",
        help="The status IMSKLAD reports for this transfer's document or pre-order.",
    )

    @api.depends("picking_type_id", "company_id", "purchase_id", "sale_id", "state")
    def _compute_imsklad_send(self):
        Backend = self.env["supplier.backend"]
        for picking in self:
            backend = Backend._imsklad_for_warehouse(picking.picking_type_id.warehouse_id,
                                                     picking.company_id)
            kind = picking._imsklad_kind() if backend else False
            picking.imsklad_backend_id = backend
            picking.imsklad_send_kind = kind or False
            picking.imsklad_can_send = (kind in OWN_DOCUMENT_KINDS
                                        and picking.state not in ("draft", "cancel"))

    def _imsklad_kind(self):
        code = self.picking_type_id.code
        if self.sale_id:
            return "sale"
        if code == "incoming":
            return "purchase" if self.purchase_id else "doc_in"
        if code == "outgoing":
            return "return" if self.purchase_id else "doc_out"
        return False

    def action_supplier_send(self):
        """Send this receipt, delivery or return to the warehouse, or its changes."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.imsklad_backend_id
        if not backend:
            raise UserError(self.env._(
                "No warehouse connection operates the warehouse of %s.", self.display_name
            ))
        backend._check_right("user")
        kind = self.imsklad_send_kind
        if kind == "purchase":
            return self.purchase_id.action_imsklad_announce()
        if kind not in OWN_DOCUMENT_KINDS:
            raise UserError(self.env._(
                "%s is not sent by itself: internal transfers stay in Odoo, and deliveries of "
                "sale orders go with their order (Send to warehouse).", self.display_name,
            ))
        if self.state in ("draft", "cancel"):
            raise UserError(self.env._(
                "Mark %s as to do before sending it to the warehouse.", self.display_name
            ))
        backend = backend.sudo()
        backend._check_operation("push_documents")
        row = self._imsklad_row(backend)
        message = self.sudo()._imsklad_send(row)
        post_note(self, message)
        kind = "success" if row.state == "sent" and not row.last_error else "warning"
        return self.env["product.product"]._supplier_notification(message, kind)

    def _imsklad_row(self, backend):
        SupplierOrder = self.env["supplier.order"].sudo()
        row = SupplierOrder.search([("backend_id", "=", backend.id), ("key", "=", self.name)])
        if row:
            return row
        preorder = self.imsklad_send_kind == "return"
        return SupplierOrder.create({
            "backend_id": backend.id, "picking_id": self.id, "key": self.name,
            "location_code": backend.imsklad_location_id.code,
            "doc_kind": "preorder" if preorder else "doc",
            "doc_type": "0" if self.imsklad_send_kind == "doc_in" else "1",
        })

    def _imsklad_send(self, row):
        try:
            payload = self._imsklad_payload(row)
        except UserError as exc:
            return row._refuse_input(exc.args[0])
        return row._imsklad_send_document(payload)

    def _imsklad_payload(self, row):
        backend = row.backend_id
        moves = self.move_ids.filtered(
            lambda m: m.state != "cancel" and m.product_id.is_storable
        )
        lines = backend._imsklad_document_lines([
            (move.product_id,
             move.product_uom._compute_quantity(move.product_uom_qty, move.product_id.uom_id),
             move.price_unit or move.product_id.standard_price)
            for move in moves
        ], self.name)
        values = {"id": row.key, "type": int(row.doc_type), "goods": lines, "code": self.name,
                  "date": self.scheduled_date}
        if row.doc_kind == "doc":
            return ImskladDoc(**values)
        vendor = self.partner_id.commercial_partner_id or self.purchase_id.partner_id
        return ImskladPreorder(supplier_name=vendor.name or None, **values)

    def action_cancel(self):
        # The transfer's own right first (as Odoo's cancel does through its writes): the note
        # below reads the warehouse rows as superuser.
        self.check_access("write")
        result = super().action_cancel()
        for picking in self:
            row = picking.sudo().supplier_order_ids.filtered(lambda o: o.state == "sent")[:1]
            if row:
                row._imsklad_cancelled_note(picking)
        return result
