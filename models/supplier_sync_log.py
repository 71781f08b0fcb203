from collections import Counter

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from .notification import notification
from .supplier_backend_schedule import OPERATIONS

LOG_OPERATIONS = OPERATIONS + [("map_products", "Map products"), ("enrich", "Enrich products"),
                               ("test", "Test connection"), ("push_purchase", "Send orders")]


class SupplierSyncLog(models.Model):
    """One run of one operation on one connection: what it did, what failed and why."""

    _name = "supplier.sync.log"
    _description = "Supplier sync log"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    operation = fields.Selection(LOG_OPERATIONS, required=True)
    trigger = fields.Selection(
        [("cron", "Scheduled"), ("manual", "Button"), ("webhook", "Webhook")],
        default="manual",
        required=True,
    )
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    start = fields.Datetime(default=fields.Datetime.now, readonly=True)
    end = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "Partly failed"), ("failed", "Failed")],
        default="running",
        required=True,
        index=True,
    )
    processed = fields.Integer(readonly=True)
    created = fields.Integer(readonly=True)
    updated = fields.Integer(readonly=True)
    unchanged = fields.Integer(readonly=True)
    failed = fields.Integer(readonly=True)
    not_found = fields.Integer(readonly=True)
    skipped = fields.Integer(
        readonly=True, help="Items another run was updating at the same time (left to it)."
    )
    remaining = fields.Integer(readonly=True, help="Items left for the next run.")
    resume_at = fields.Datetime(
        readonly=True, help="When the service's request limit lets the remaining items through."
    )
    request_count = fields.Integer(string="HTTP requests", readonly=True)
    request_details = fields.Char(string="Requests per endpoint", readonly=True)
    message = fields.Text(readonly=True)
    reason = fields.Char(
        string="Why", compute="_compute_reason",
        help="What the run said, on one line; for a failed run without a message, the most "
        "frequent reason of its failed items.",
    )
    line_ids = fields.One2many("supplier.sync.log.line", "log_id", string="Failed items")

    def _compute_name(self):
        operations = dict(self._fields["operation"]._description_selection(self.env))
        for log in self:
            log.name = f"{log.backend_id.name} · {operations.get(log.operation, '')} #{log.id}"

    @api.depends("message", "state", "line_ids.message")
    def _compute_reason(self):
        for log in self:
            text = " ".join(line.strip() for line in (log.message or "").splitlines() if line.strip())
            if not text and log.state in ("failed", "partial") and log.line_ids:
                reasons = Counter(log.line_ids.mapped("message"))
                reason, count = reasons.most_common(1)[0]
                text = self.env._(
                    "%(count)s of %(total)s failed items: %(reason)s",
                    count=count, total=len(log.line_ids), reason=reason or "",
                )
            log.reason = text

    @api.model
    def _record_crash(self, backend, operation):
        """The log of a scheduled run that died on an unexpected error (shown, never silent):
        its own log when a commit had kept it (still "running"), else a new one. Called by the
        holder of the operation's lock, so a running log of it is this run's or a dead one's."""
        message = self.env._("The run stopped on an unexpected error; see the server log.")
        running = self.search([
            ("backend_id", "=", backend.id), ("operation", "=", operation),
            ("state", "=", "running"),
        ], limit=1)
        if running:
            running.write({
                "state": "failed",
                "end": fields.Datetime.now(),
                "message": "\n".join(filter(None, [running.message, message])),
            })
            return running
        return self.create({
            "backend_id": backend.id,
            "operation": operation,
            "trigger": "cron",
            "state": "failed",
            "end": fields.Datetime.now(),
            "message": message,
        })

    @api.model
    def _cron_clean_old_logs(self):
        days = int(
            self.env["ir.config_parameter"].sudo().get_param("supplier_connector.log_retention_days", 30)
        )
        limit = fields.Datetime.now() - relativedelta(days=max(days, 1))
        old = self.search([("start", "<", limit), ("state", "!=", "running")])
        old.unlink()
        return len(old)

    def _summary(self):
        self.ensure_one()
        parts = [
            self.env._("%(count)s processed", count=self.processed),
            self.env._("%(count)s updated", count=self.updated),
            self.env._("%(count)s unchanged", count=self.unchanged),
        ]
        if self.created:
            parts.append(self.env._("%(count)s created", count=self.created))
        if self.not_found:
            parts.append(self.env._("%(count)s not found", count=self.not_found))
        if self.failed:
            parts.append(self.env._("%(count)s failed", count=self.failed))
        if self.skipped:
            parts.append(self.env._("%(count)s skipped", count=self.skipped))
        if self.remaining:
            parts.append(self.env._("%(count)s left for the next run", count=self.remaining))
        text = ", ".join(parts) + "."
        if self.message:
            text += " " + self.message
        return text

    def _notification(self):
        self.ensure_one()
        kind = {"done": "success", "partial": "warning", "failed": "danger"}.get(self.state, "info")
        return notification(self.name, self._summary(), kind, sticky=self.state != "done")

    def _action_open(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "supplier_connector.action_supplier_sync_log"
        )
        action["domain"] = [("id", "in", self.ids)]
        return action


class SupplierSyncLogLine(models.Model):
    """One item that failed in a run: which record, the error code, the reason in plain words."""

    _name = "supplier.sync.log.line"
    _description = "Supplier sync log line"
    _order = "id"

    log_id = fields.Many2one("supplier.sync.log", required=True, ondelete="cascade", index=True)
    # Lines follow their log's company (multi-company rule in security/).
    company_id = fields.Many2one(
        related="log_id.company_id", store=True, index=True, precompute=True
    )
    binding_id = fields.Many2one("supplier.product", string="Mapping", ondelete="set null")
    product_id = fields.Many2one("product.product", ondelete="set null")
    reference = fields.Char(help="The code or id the service was asked with.")
    error_code = fields.Char(string="Code")
    message = fields.Char(string="Reason")
