from odoo import fields, models

from ..api.errors import AlreadyExists, ApiError, OutcomeUnknown
from .error_messages import describe_error

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


class SendOutcome:
    """What ``supplier.order._send_exactly_once`` did: ``how`` is ``created``, ``updated``,
    ``adopted`` (found at the service after a lost answer, not sent again), ``unchanged``
    (nothing to send), ``unknown`` (no answer: press again to check) or ``failed``; ``result``
    the service's answer when there is one; ``error`` the reason in plain words."""

    __slots__ = ("error", "how", "result")

    def __init__(self, how, result=None, error=None):
        self.how, self.result, self.error = how, result, error

    @property
    def accepted(self):
        return self.how in ("created", "updated", "adopted", "unchanged")


class SupplierOrderExchange(models.Model):
    """The one exactly-once send of an order or document (DESIGN §4.2), shared by the services.

    The caller makes the row, its ``key`` fixed, before the first request; ``protocol`` says how
    one service creates, updates and finds (``create(row, payload)``, ``update(row, payload)``,
    ``find(row, payload)`` → answer or None, ``external_id(answer)``, ``digest(payload)`` → hash
    or None to always send). The flow:

    1. sent already: unchanged payload (same digest) → nothing sent; else update;
    2. a lost answer before (``sending``): ``find`` by the key; found → adopted, not sent again;
    3. else mark ``sending`` and create; "already exists" → adopted through ``update``;
    4. a lost answer (OutcomeUnknown) to a creation leaves ``sending`` (to an update: ``sent``,
       the changes go again next time); a refusal ``error`` (a row already
       sent stays sent, the reason on it); success ``sent`` with the id and the digest.
    """

    _inherit = "supplier.order"

    def _send_exactly_once(self, protocol, payload):
        self.ensure_one()
        digest = protocol.digest(payload)
        try:
            if self.state == "sent":
                if digest and digest == self.payload_hash:
                    return SendOutcome("unchanged")
                result, how = protocol.update(self, payload), "updated"
            else:
                found = protocol.find(self, payload) if self.state == "sending" else None
                if found is not None:
                    result, how = found, "adopted"
                else:
                    if self.state != "sending":
                        self.state = "sending"
                    try:
                        result, how = protocol.create(self, payload), "created"
                    except AlreadyExists:
                        result, how = protocol.update(self, payload), "adopted"
        except OutcomeUnknown as exc:
            # A lost update changes nothing that matters: the row stays sent (its hash the old
            # one), and the next press sends the changes again.
            self.write({"state": "sent" if self.state == "sent" else "sending",
                        "last_error": describe_error(self.env, exc)})
            return SendOutcome("unknown", error=self.last_error)
        except ApiError as exc:
            self.write({"state": "sent" if self.state == "sent" else "error",
                        "last_error": describe_error(self.env, exc)})
            return SendOutcome("failed", error=self.last_error)
        self.write({
            "state": "sent",
            "external_id": protocol.external_id(result) or self.external_id or False,
            "sent_at": fields.Datetime.now(), "last_error": False, "payload_hash": digest or False,
        })
        return SendOutcome(how, result=result)

    def _refuse_input(self, message):
        """Bad input (no line, a product that cannot go…): kept on the row, nothing sent."""
        self.write({"state": self.state if self.state in ("sent", "sending") else "error",
                    "last_error": message})
        return message


class SupplierOrderMoySklad(models.Model):
    """An order or stock document at MoySklad (customerorder, purchaseorder, demand, supply).

    One row per Odoo record and connection; its ``key`` is the syncId sent with the creation,
    fixed when the row is made (before the first request). Its own links (not ``sale_id``,
    ``purchase_id``, ``picking_id``), so the IMSKLAD and Shate-M flows, which read every row of
    their record, never see a MoySklad row and the other way round.
    """

    _inherit = "supplier.order"

    moysklad_kind = fields.Selection(
        [("customerorder", "Customer order"), ("purchaseorder", "Purchase order"),
         ("demand", "Shipment"), ("supply", "Receipt")],
        string="MoySklad document", readonly=True, index="btree_not_null",
    )
    moysklad_sale_id = fields.Many2one(
        "sale.order", string="Sale order (MoySklad)", ondelete="cascade",
        index="btree_not_null", readonly=True,
    )
    moysklad_purchase_id = fields.Many2one(
        "purchase.order", string="Purchase order (MoySklad)", ondelete="cascade",
        index="btree_not_null", readonly=True,
    )
    moysklad_picking_id = fields.Many2one(
        "stock.picking", string="Transfer (MoySklad)", ondelete="cascade",
        index="btree_not_null", readonly=True,
    )
    external_name = fields.Char(string="Number at the service", readonly=True, copy=False)
    status_changed_at = fields.Datetime(readonly=True, copy=False)
