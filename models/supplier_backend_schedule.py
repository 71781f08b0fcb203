import logging
from contextlib import contextmanager

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..services import ADAPTERS
from .run_lock import RunLock
from .sync_run import commit_progress, running_tests

_logger = logging.getLogger(__name__)

OPERATIONS = [
    ("sync_offers", "Prices and stock"),
    ("import_catalogue", "Import catalogue"),
    ("pull_order_status", "Order status"),
]

class SupplierBackendSchedule(models.Model):
    """When a connection runs one operation unattended (one line per operation)."""

    _name = "supplier.backend.schedule"
    _description = "Supplier connection schedule"
    _order = "backend_id, operation"

    backend_id = fields.Many2one("supplier.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    operation = fields.Selection(OPERATIONS, required=True)
    enabled = fields.Boolean(default=True)
    interval_number = fields.Integer(string="Every", default=1, required=True)
    interval_type = fields.Selection(
        [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")],
        default="hours",
        required=True,
    )
    run_requested = fields.Boolean(
        copy=False, help="Run once as soon as possible (a button asked for it), even if disabled."
    )
    last_call = fields.Datetime(readonly=True, copy=False)
    next_call = fields.Datetime(default=fields.Datetime.now, copy=False)
    last_log_id = fields.Many2one("supplier.sync.log", readonly=True, copy=False)
    last_state = fields.Selection(related="last_log_id.state")

    _sql_constraints = [
        ("operation_unique", "UNIQUE(backend_id, operation)", "One schedule per operation."),
    ]

    # Checked in Python, not by an SQL CHECK: a CHECK fails at the INSERT, before any Python
    # check, and has PostgreSQL log the whole row.
    @api.constrains("interval_number")
    def _check_interval(self):
        if any(schedule.interval_number <= 0 for schedule in self):
            raise ValidationError(self.env._("A schedule's interval must be greater than 0."))

    @api.model
    def _default_intervals(self, service):
        adapter = ADAPTERS.get(service)
        return adapter.default_schedules if adapter else ()

    def _interval(self):
        return relativedelta(**{self.interval_type: self.interval_number})

    @api.model
    def _cron_run_due(self):
        """Run every due operation of every active connection, stalest first.

        Each one runs in its own savepoint and is committed on its own (in crons), so a
        connection that fails never blocks the others.
        """
        now = fields.Datetime.now()
        due = self.search(
            [
                ("backend_id.active", "=", True),
                "|", ("run_requested", "=", True),
                "&",
                "|", ("next_call", "=", False), ("next_call", "<=", now),
                # A catalogue the supplier is still preparing is polled even when the import
                # itself is not scheduled (it was started by the button).
                "|", ("enabled", "=", True),
                "&", ("operation", "=", "import_catalogue"),
                ("backend_id.catalogue_job_ref", "!=", False),
            ],
            order="run_requested desc, next_call asc nulls first, id",
        )
        engine = self.env["supplier.sync.engine"]
        for done, schedule in enumerate(due, start=1):
            schedule._run_once(engine)
            commit_progress(self.env, done=done, remaining=len(due) - done)
        return len(due)

    def _run_once(self, engine):
        """Run this operation once, holding its lock (one run per connection and operation).

        When another run holds the lock (a "Sync now", another worker), the operation is
        skipped: no log, nothing failed, and the schedule keeps its due time, so the next tick
        of the scheduler tries again. Returns the run's log, or None when skipped.
        """
        self.ensure_one()
        # Plain values: usable whatever state the transaction is in after a failure.
        backend_id, operation = self.backend_id.id, self.operation
        lock = RunLock(self.env.cr, backend_id, operation)
        if not lock.acquire():
            _logger.info(
                "Scheduled %s of supplier connection %s skipped: another run of it is under way",
                operation, backend_id,
            )
            return None
        try:
            started = fields.Datetime.now()
            log = self._run_guarded(engine, backend_id, operation)
            next_call = started + self._interval()
            if log.remaining and log.resume_at:
                # Stopped by a request limit: come back when it frees, not a whole interval later.
                next_call = min(next_call, log.resume_at)
            self.write({
                "last_call": started,
                "next_call": next_call,
                "last_log_id": log.id,
                "run_requested": False,
            })
            return log
        finally:
            # After _run_guarded the transaction is usable again: the lock is always released.
            lock.release()

    def _run_guarded(self, engine, backend_id, operation):
        backend = self.env["supplier.backend"].browse(backend_id)
        try:
            with self._undo_on_error():
                return engine._run_scheduled(backend, operation)
        except Exception:  # noqa: BLE001 — one connection must never block the others
            _logger.exception(
                "Scheduled %s failed for supplier connection %s", operation, backend_id
            )
            return self.env["supplier.sync.log"]._record_crash(backend, operation)

    @contextmanager
    def _undo_on_error(self):
        """Leave the transaction usable when a run fails, so that the failure can be recorded.

        In a cron the batches done were committed: a rollback drops only the broken one. In
        tests nothing is committed, and a savepoint stands in for that rollback.
        """
        if running_tests():
            with self.env.cr.savepoint():
                yield
            return
        try:
            yield
        except Exception:
            self.env.cr.rollback()
            raise
