"""IMSKLAD billing (``action_pull_billing``, daily): the balance on the connection and the
operations (assembly, top-up, delivery, other) linked to the sale orders they belong to.

Each pull asks from the last operation's date (a day back, so late entries are not missed; 30 days
the first time) to now; operations are kept once by IMSKLAD's id.
"""

from datetime import timedelta

from odoo import api, fields, models

from ..api.errors import ApiError
from .sync_run import SyncRun

FIRST_PULL_DAYS = 30


class SupplierBillingOperation(models.Model):
    _name = "supplier.billing.operation"
    _description = "Warehouse billing operation"
    _order = "date desc, id desc"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    external_id = fields.Char(string="IMSKLAD ID", required=True, readonly=True)
    kind = fields.Selection(
        [("assembly", "Order assembly"), ("top_up", "Balance top-up"),
         ("delivery", "Delivery"), ("other", "Other")],
        string="Type", readonly=True,
    )
    date = fields.Datetime(readonly=True)
    amount = fields.Float(readonly=True)
    comment = fields.Char(readonly=True)
    order_ref = fields.Char(string="Order", readonly=True, help="Our order id at IMSKLAD.")
    sale_id = fields.Many2one("sale.order", string="Sale order", readonly=True, index=True)

    _sql_constraints = [
        ("external_unique", "UNIQUE(backend_id, external_id)", "An operation is kept once."),
    ]


class SupplierLogOperationsBilling(models.Model):
    _inherit = "supplier.sync.log"

    operation = fields.Selection(
        selection_add=[("pull_billing", "Billing")], ondelete={"pull_billing": "cascade"}
    )


class SupplierScheduleBilling(models.Model):
    _inherit = "supplier.backend.schedule"

    operation = fields.Selection(
        selection_add=[("pull_billing", "Billing")], ondelete={"pull_billing": "cascade"}
    )


class SupplierSyncEngineBilling(models.AbstractModel):
    _inherit = "supplier.sync.engine"

    @api.model
    def _scheduled_imsklad_pull_billing(self, backend):
        return self.env["supplier.billing.operation"]._pull(backend, trigger="cron")


class SupplierBackendBilling(models.Model):
    _inherit = "supplier.backend"

    imsklad_balance = fields.Float(
        string="Balance", readonly=True, copy=False,
        help="The account balance at IMSKLAD, as of the last billing pull.",
    )
    imsklad_balance_at = fields.Datetime(string="Balance at", readonly=True, copy=False)
    billing_count = fields.Integer(compute="_compute_billing_count")

    def _compute_billing_count(self):
        counts = dict(self.env["supplier.billing.operation"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
        ))
        for backend in self:
            backend.billing_count = counts.get(backend, 0)

    def action_pull_billing(self):
        """Pull the balance and the operations since the last pull (managers)."""
        self._check_right("manager")
        self.ensure_one()
        self._check_operation("pull_billing")
        return self.env["supplier.billing.operation"]._pull(self, trigger="manual")._notification()

    def action_open_billing(self):
        self._check_right("manager")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Billing"),
            "res_model": "supplier.billing.operation",
            "view_mode": "list",
            "domain": [("backend_id", "=", self.id)],
        }


KINDS = {0: "assembly", 1: "top_up", 2: "delivery"}


class SupplierBillingPull(models.Model):
    _inherit = "supplier.billing.operation"

    @api.model
    def _pull(self, backend, trigger="manual"):
        backend = backend.sudo()
        Operation = self.sudo()
        run = SyncRun(self.env, backend, "pull_billing", trigger)
        adapter = backend._adapter()
        now = fields.Datetime.now()
        last = Operation.search([("backend_id", "=", backend.id)], limit=1, order="date desc")
        start = (last.date - timedelta(days=1)) if last.date else now - timedelta(
            days=FIRST_PULL_DAYS)
        try:
            billing = adapter.client.get_billing(start, now)
        except ApiError as exc:
            run.stop(exc)
            return run.finish(adapter)
        known = set(Operation.search([("backend_id", "=", backend.id)]).mapped("external_id"))
        refs = {op.foreign_order_id for op in billing.operations if op.foreign_order_id}
        sales = {
            order.key: order.sale_id
            for order in self.env["supplier.order"].sudo().search(
                [("backend_id", "=", backend.id), ("key", "in", list(refs))]
            )
        }
        vals_list = []
        for op in billing.operations:
            run.add(processed=1)
            if op.id is None or str(op.id) in known:
                run.add(unchanged=1)
                continue
            vals_list.append({
                "backend_id": backend.id, "external_id": str(op.id),
                "kind": KINDS.get(op.type, "other"), "date": op.date or now,
                "amount": op.amount or 0.0, "comment": op.comment or False,
                "order_ref": op.foreign_order_id or False,
                "sale_id": sales.get(op.foreign_order_id, self.env["sale.order"]).id or False,
            })
            run.add(created=1)
        Operation.create(vals_list)
        if billing.current_balance is not None:
            backend.write({"imsklad_balance": billing.current_balance, "imsklad_balance_at": now})
        return run.finish(adapter)
