"""MoySklad orders and documents: the connection's settings (issue 9, orders and documents).

What a MoySklad connection sends, where to, and what MoySklad's order states mean in Odoo:

- Direction: Odoo sends (it is the master of its orders); each kind can be switched on alone:
  sale orders (customerorder), purchase orders (purchaseorder), validated deliveries and
  receipts (demand / supply, linked to their order when the order was sent).
- Organisation: the connection's organisation (MoySklad tab). Store: the MoySklad store whose
  "Odoo warehouse" is the warehouse of the order or transfer (Stores of the connection); a
  warehouse without a store sends orders without a store, and refuses a delivery or receipt in
  plain words (MoySklad needs a store for them).
- Which connection takes a record: an active MoySklad connection of the record's company with
  the kind switched on; when several do, the one whose store maps the record's warehouse, else
  the first.
- States: read from MoySklad's metadata (``entity/customerorder/metadata`` …) by "Load order
  states" and by every status pull, kept as reference rows (kind "MoySklad state") with their
  document kind. Cancelling an order in Odoo sets the state chosen here for cancellation; a
  state can carry an action in Odoo: "done" (MoySklad shipped / received it: the order's open
  transfers are validated with their full quantities) or "cancel" (the Odoo order is cancelled).
"""

from odoo import api, fields, models

from ..api.errors import ApiError
from .chatter import post_note
from .error_messages import describe_error

ORDER_KINDS = ("customerorder", "purchaseorder")
DOCUMENT_KIND_LABELS = [
    ("customerorder", "Sale order"),
    ("purchaseorder", "Purchase order"),
    ("demand", "Delivery"),
    ("supply", "Receipt"),
]
STATE_ACTIONS = [
    ("none", "Shown only"),
    ("done", "Shipped / received: validate the open transfers"),
    ("cancel", "Cancelled: cancel the Odoo order"),
]


class SupplierReferenceMoySkladState(models.Model):
    _inherit = "supplier.reference"

    kind = fields.Selection(
        selection_add=[("ms_state", "MoySklad state")], ondelete={"ms_state": "cascade"},
    )
    ms_document_kind = fields.Selection(DOCUMENT_KIND_LABELS, string="Document", readonly=True)
    ms_state_type = fields.Char(string="State type", readonly=True,
                                help="MoySklad's type: Regular, Successful, Unsuccessful.")
    ms_state_action = fields.Selection(
        STATE_ACTIONS, string="In Odoo", default="none",
        help="What Odoo does when an order reaches this state at MoySklad.",
    )


class SupplierBackendMoySkladDocuments(models.Model):
    _inherit = "supplier.backend"

    moysklad_send_sale_orders = fields.Boolean(
        string="Send sale orders",
        help="Confirmed sale orders go to MoySklad as customer orders (Send button).",
    )
    moysklad_send_purchase_orders = fields.Boolean(
        string="Send purchase orders",
        help="Confirmed purchase orders go to MoySklad as purchase orders.",
    )
    moysklad_send_transfers = fields.Boolean(
        string="Send deliveries and receipts",
        help="Validated deliveries and receipts go to MoySklad as shipments (demand) and "
        "receipts (supply), linked to their order when it was sent.",
    )
    moysklad_orders_watermark = fields.Datetime(
        string="Order states changed since", readonly=True, copy=False,
        help="The next status pull asks MoySklad only for orders changed since then (MoySklad's "
        "own clock). Empty: every order is read once.",
    )
    moysklad_state_ids = fields.One2many(
        "supplier.reference", "backend_id", string="Order states",
        domain=[("kind", "=", "ms_state")],
    )
    moysklad_sale_cancel_state_id = fields.Many2one(
        "supplier.reference", string="State of a cancelled sale order",
        domain="[('backend_id', '=', id), ('kind', '=', 'ms_state'), "
        "('ms_document_kind', '=', 'customerorder')]",
        help="Cancelling a sale order in Odoo sets this state on its customer order.",
    )
    moysklad_purchase_cancel_state_id = fields.Many2one(
        "supplier.reference", string="State of a cancelled purchase order",
        domain="[('backend_id', '=', id), ('kind', '=', 'ms_state'), "
        "('ms_document_kind', '=', 'purchaseorder')]",
        help="Cancelling a purchase order in Odoo sets this state on its purchase order.",
    )
    moysklad_document_ids = fields.One2many(
        "supplier.order", "backend_id", string="Orders and documents at MoySklad",
        domain=[("moysklad_kind", "!=", False)],
    )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._moysklad_ensure_status_schedule()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if {"moysklad_send_sale_orders", "moysklad_send_purchase_orders"} & set(vals):
            self._moysklad_ensure_status_schedule()
        return result

    def _moysklad_ensure_status_schedule(self):
        """A connection that sends orders gets the "Order status" schedule (every 30 minutes)."""
        Schedule = self.env["supplier.backend.schedule"].sudo()
        for backend in self.sudo():
            if backend.service != "moysklad" or not (
                backend.moysklad_send_sale_orders or backend.moysklad_send_purchase_orders
            ):
                continue
            if "pull_order_status" not in backend.schedule_ids.mapped("operation"):
                Schedule.create({
                    "backend_id": backend.id, "operation": "pull_order_status",
                    "interval_number": 30, "interval_type": "minutes",
                })

    # -- which connection takes a record ----------------------------------------------------------
    @api.model
    def _moysklad_for(self, setting, company, warehouse):
        """The active MoySklad connection (sudo) of ``company`` with ``setting`` on, preferring
        the one whose store maps ``warehouse``; empty when there is none."""
        backends = self.sudo().search([
            ("service", "=", "moysklad"), ("company_id", "=", company.id), (setting, "=", True),
        ], order="id")
        for backend in backends:
            if warehouse and warehouse in backend.location_ids.warehouse_id:
                return backend
        return backends[:1]

    def _moysklad_store_for(self, warehouse):
        """The MoySklad store id mapped to ``warehouse``, or ""."""
        self.ensure_one()
        location = self.location_ids.filtered(lambda loc: warehouse and loc.warehouse_id == warehouse)
        return location[:1].code or ""

    # -- states -----------------------------------------------------------------------------------
    def action_moysklad_load_states(self):
        """Read the order states from MoySklad's metadata (managers)."""
        self._check_right("manager")
        self._moysklad_check_service()
        self.ensure_one()
        adapter = self._adapter()
        try:
            count = self._moysklad_load_states(adapter.client)
        except ApiError as exc:
            self._save_adapter_state(adapter)
            message = self.env._("Order states not loaded: %s", describe_error(self.env, exc))
            post_note(self, message)
            return self._notify(message, "warning", sticky=True)
        self._save_adapter_state(adapter)
        message = self.env._(
            "Order states loaded from MoySklad: %(count)s. Choose what a cancellation sets and "
            "what a state means in Odoo on the MoySklad orders tab.", count=count,
        )
        post_note(self, message)
        return self._notify(message, "success")

    def _moysklad_load_states(self, client, kinds=ORDER_KINDS):
        """Reference rows for the states of ``kinds`` (added, renamed; none removed)."""
        self.ensure_one()
        Reference = self.env["supplier.reference"].sudo()
        existing = {r.code: r for r in self.with_context(active_test=False).reference_ids
                    if r.kind == "ms_state"}
        creates, count = [], 0
        for kind in kinds:
            for state in client.document_states(kind):
                count += 1
                row = existing.get(state.id)
                vals = {"name": state.name or state.id, "ms_state_type": state.state_type,
                        "ms_document_kind": kind, "active": True}
                if row:
                    if any(row[key] != value for key, value in vals.items()):
                        row.write(vals)
                else:
                    creates.append(dict(vals, backend_id=self.id, kind="ms_state", code=state.id))
        Reference.create(creates)
        return count

    def _moysklad_states(self):
        """{state id: reference row} of this connection."""
        self.ensure_one()
        return {r.code: r for r in self.sudo().with_context(active_test=False).reference_ids
                if r.kind == "ms_state"}

    # -- status pull ------------------------------------------------------------------------------
    def _moysklad_pull_orders(self):
        """The state of every order sent to MoySklad (the "Pull orders" button's MoySklad run)."""
        return self.env["supplier.moysklad.documents"]._pull_states(self.sudo(), "manual")


class SupplierSyncEngineMoySkladDocuments(models.AbstractModel):
    _inherit = "supplier.sync.engine"

    @api.model
    def _scheduled_moysklad_pull_order_status(self, backend):
        return self.env["supplier.moysklad.documents"]._pull_states(backend.sudo(), "cron")
