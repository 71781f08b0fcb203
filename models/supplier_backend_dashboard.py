"""The Overview: per connection, what needs attention, each figure one click from its list.

Decisions where the issue is silent:
- The product figures split the mappings into four groups that add up to all of them: *up to
  date* (answered, refreshed within the connection's "stale after hours"), *stale* (never
  answered yet, or answered too long ago), *not found* and *failing* (the last answer was an
  error). A product not found or failing is shown there, however old its answer.
- Orders *waiting* are supplier orders not sent yet or whose outcome is unknown (``to_send``,
  ``sending``); *refused* are those in ``error`` (refused by the supplier or not sendable).
- The *last run* is the last run that synced something (prices, catalogue, order status,
  pushes...). Test connection, auto-mapping and enrichment are not syncs: an ambiguous code in
  a mapping run must not make the connection's sync look partly failed.
- The *next run* is the earliest due time of the connection's enabled schedules (or of a
  schedule a button asked to run now).
- *Requests left* is shown for services whose adapter keeps a request budget on the connection
  (``_budget()``): the tightest window, read from the saved budget without asking the service.
- Every figure is counted for all connections at once (one grouped query per kind of figure),
  as the user reading the connections: multi-company rules apply to the figures too.
"""

from odoo import fields, models
from odoo.osv import expression
from odoo.tools.misc import formatLang

from ..services import ADAPTERS, get_adapter
from .sync_run import window_words

# Runs that are not syncs of the connection's data (they never make its last sync failed).
NOT_SYNC_OPERATIONS = ("map_products", "test", "enrich")
WAITING_ORDER_STATES = ("to_send", "sending")
REFUSED_ORDER_STATES = ("error",)


class SupplierBackendDashboard(models.Model):
    _inherit = "supplier.backend"

    last_run_log_id = fields.Many2one(
        "supplier.sync.log", string="Last sync", compute="_compute_counts"
    )
    last_run_start = fields.Datetime(string="Last sync at", compute="_compute_counts")
    running_log_id = fields.Many2one(
        "supplier.sync.log", string="Running now", compute="_compute_counts",
        help="The run of this connection under way, if any.",
    )
    # Copied from the running log by the compute (a related field on a computed many2one would
    # have every change of a log search the connections by it).
    running_progress = fields.Float(string="Progress", compute="_compute_counts")
    running_progress_label = fields.Char(string="Done", compute="_compute_counts")
    running_estimated_end = fields.Datetime(string="Estimated end", compute="_compute_counts")
    running_operation = fields.Selection(
        lambda self: self.env["supplier.sync.log"]._fields["operation"].selection,
        string="Run", compute="_compute_counts",
    )
    run_queued = fields.Boolean(
        string="Sync queued", compute="_compute_counts",
        help="A button asked the scheduler to run an operation as soon as possible.",
    )
    products_ok = fields.Integer(string="Up to date", compute="_compute_dashboard_products")
    products_stale = fields.Integer(string="Stale", compute="_compute_dashboard_products")
    products_not_found = fields.Integer(string="Not found", compute="_compute_dashboard_products")
    products_failing = fields.Integer(string="Failing", compute="_compute_dashboard_products")
    orders_waiting = fields.Integer(string="Orders waiting", compute="_compute_dashboard_orders")
    orders_refused = fields.Integer(string="Orders refused", compute="_compute_dashboard_orders")
    next_run_at = fields.Datetime(string="Next run", compute="_compute_next_run")
    budget_left = fields.Integer(string="Requests left", compute="_compute_budget")
    budget_label = fields.Char(string="Request budget", compute="_compute_budget")

    # -- figures -------------------------------------------------------------------------------
    def _compute_counts(self):
        """The smart buttons' counts and the last runs, in grouped queries for all connections
        (replaces the base compute, which read each last log's state on its own)."""
        Log = self.env["supplier.sync.log"]
        mine = [("backend_id", "in", self.ids)]
        bindings = dict(self.env["supplier.product"]._read_group(mine, ["backend_id"], ["__count"]))
        logs = dict(Log._read_group(mine, ["backend_id"], ["__count"]))
        for backend in self:
            backend.product_count = bindings.get(backend, 0)
            backend.log_count = logs.get(backend, 0)
        self._compute_last_run()

    def _compute_last_run(self):
        Log = self.env["supplier.sync.log"]
        mine = [("backend_id", "in", self.ids)]
        last = dict(Log._read_group(
            mine + [("operation", "not in", NOT_SYNC_OPERATIONS)], ["backend_id"], ["id:max"]
        ))
        running = dict(Log._read_group(
            mine + [("state", "=", "running")], ["backend_id"], ["id:max"]
        ))
        queued = {backend for [backend] in self.env["supplier.backend.schedule"]._read_group(
            mine + [("run_requested", "=", True)], ["backend_id"]
        )}
        # Read in one query each, not one per connection.
        Log.browse(list(last.values())).fetch(["state", "start"])
        Log.browse(list(running.values())).fetch(
            ["state", "operation", "processed", "total", "start", "duration"]
        )
        for backend in self:
            log = Log.browse(last.get(backend))
            backend.last_run_log_id = log
            backend.last_sync_state = log.state
            backend.last_run_start = log.start
            run = Log.browse(running.get(backend))
            backend.running_log_id = run
            backend.running_progress = run.progress
            backend.running_progress_label = run.progress_label
            backend.running_estimated_end = run.estimated_end
            backend.running_operation = run.operation
            backend.run_queued = backend in queued

    def _product_groups(self):
        """figure → domain on supplier.product (without the connection)."""
        return {
            "ok": [("sync_state", "=", "ok"), ("is_stale", "=", False)],
            "stale": ["|", ("sync_state", "=", "new"),
                      "&", ("sync_state", "=", "ok"), ("is_stale", "=", True)],
            "not_found": [("sync_state", "=", "not_found")],
            "failing": [("sync_state", "=", "error")],
        }

    def _compute_dashboard_products(self):
        Binding = self.env["supplier.product"]
        mine = [("backend_id", "in", self.ids)]
        by_state = {
            (backend, state): count for backend, state, count in Binding._read_group(
                mine, ["backend_id", "sync_state"], ["__count"]
            )
        }
        stale_ok = dict(Binding._read_group(
            mine + [("sync_state", "=", "ok"), ("is_stale", "=", True)], ["backend_id"], ["__count"]
        ))
        for backend in self:
            stale = stale_ok.get(backend, 0)
            backend.products_ok = by_state.get((backend, "ok"), 0) - stale
            backend.products_stale = by_state.get((backend, "new"), 0) + stale
            backend.products_not_found = by_state.get((backend, "not_found"), 0)
            backend.products_failing = by_state.get((backend, "error"), 0)

    def _compute_dashboard_orders(self):
        counts = {
            (backend, state): count
            for backend, state, count in self.env["supplier.order"]._read_group(
                [("backend_id", "in", self.ids),
                 ("state", "in", WAITING_ORDER_STATES + REFUSED_ORDER_STATES)],
                ["backend_id", "state"], ["__count"],
            )
        }
        for backend in self:
            backend.orders_waiting = sum(counts.get((backend, s), 0) for s in WAITING_ORDER_STATES)
            backend.orders_refused = sum(counts.get((backend, s), 0) for s in REFUSED_ORDER_STATES)

    def _compute_next_run(self):
        next_calls = dict(self.env["supplier.backend.schedule"]._read_group(
            [("backend_id", "in", self.ids), ("backend_id.active", "=", True),
             "|", ("enabled", "=", True), ("run_requested", "=", True)],
            ["backend_id"], ["next_call:min"],
        ))
        for backend in self:
            backend.next_run_at = next_calls.get(backend, False)

    def _compute_budget(self):
        for backend in self:
            budget = backend._saved_budget()
            if budget is None:
                backend.budget_left = 0
                backend.budget_label = False
                continue
            windows = budget.usage()
            backend.budget_left = min(window["remaining"] for window in windows)
            backend.budget_label = ", ".join(
                self.env._(
                    "%(left)s of %(limit)s %(window)s",
                    left=formatLang(self.env, window["remaining"], digits=0),
                    limit=formatLang(self.env, window["limit"], digits=0),
                    window=window_words(self.env, window),
                )
                for window in windows
            )

    def _saved_budget(self):
        """The request budget saved on the connection (no request is sent), or None."""
        self.ensure_one()
        if not self.id or self.service not in ADAPTERS:
            return None
        budget_of = getattr(get_adapter(self.sudo()), "_budget", None)
        return budget_of() if budget_of else None

    # -- one click from a figure to its list ------------------------------------------------------
    def _figure_action(self, figure):
        self.ensure_one()
        self.check_access("read")
        if figure in self._product_groups():
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "supplier_connector.action_supplier_product"
            )
            domain = self._product_groups()[figure]
            names = {
                "ok": self.env._("Up to date"), "stale": self.env._("Stale"),
                "not_found": self.env._("Not found"), "failing": self.env._("Failing"),
            }
            action["name"] = f"{self.name}: {names[figure]}"
        elif figure in ("orders_waiting", "orders_refused"):
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "supplier_connector.action_supplier_order_dashboard"
            )
            states = WAITING_ORDER_STATES if figure == "orders_waiting" else REFUSED_ORDER_STATES
            domain = [("state", "in", states)]
            action["name"] = f"{self.name}: " + (
                self.env._("Orders waiting") if figure == "orders_waiting"
                else self.env._("Orders refused")
            )
        else:
            raise ValueError(figure)
        action["domain"] = expression.AND([[("backend_id", "=", self.id)], domain])
        action["context"] = {}
        return action

    def action_dashboard_products_ok(self):
        self._check_right("user")
        return self._figure_action("ok")

    def action_dashboard_products_stale(self):
        self._check_right("user")
        return self._figure_action("stale")

    def action_dashboard_products_not_found(self):
        self._check_right("user")
        return self._figure_action("not_found")

    def action_dashboard_products_failing(self):
        self._check_right("user")
        return self._figure_action("failing")

    def action_dashboard_orders_waiting(self):
        self._check_right("user")
        return self._figure_action("orders_waiting")

    def action_dashboard_orders_refused(self):
        self._check_right("user")
        return self._figure_action("orders_refused")

    def action_open_last_run(self):
        """The log of the last sync, or of the run under way when there is one."""
        self._check_right("user")
        self.ensure_one()
        log = self.running_log_id or self.last_run_log_id
        if not log:
            return self.action_open_logs()
        return {
            "type": "ir.actions.act_window",
            "res_model": "supplier.sync.log",
            "res_id": log.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_refresh_progress(self):
        """Reload the form to see how far the run under way got (the button returns nothing,
        so the client reads the record again)."""
        self._check_right("user")
        self.check_access("read")
        return True
