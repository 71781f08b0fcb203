"""One run of one operation: its log record, its counters, and the only commit in the addon."""

import logging
import threading
import time
from datetime import timedelta

from odoo import fields

from .error_messages import describe_error, error_code

_logger = logging.getLogger(__name__)


def running_tests():
    return getattr(threading.current_thread(), "testing", False)


def commit_progress(env, done=None, remaining=None):
    """The one place the addon commits: between batches of a cron, never in tests.

    ``done``/``remaining`` feed Odoo's cron progress (``ir.cron._notify_progress``) for the
    outer loop of a scheduled job.
    """
    if running_tests():
        return
    if done is not None:
        env["ir.cron"]._notify_progress(done=done, remaining=remaining or 0)
    env.cr.commit()


class SyncRun:
    """Counts what a run does and keeps its ``supplier.sync.log`` up to date.

    In a cron, ``checkpoint`` commits after every batch (never in tests): a crash then loses at
    most one batch, and the next run resumes with the stalest records, i.e. those not done yet.
    Buttons run inside the user's transaction and do not commit.
    """

    def __init__(self, env, backend, operation, trigger):
        self.env = env
        self.backend = backend
        self.trigger = trigger
        Log = env["supplier.sync.log"].sudo()
        # A run that was killed (server restart, out of memory) left its log "running".
        Log.search(
            [("backend_id", "=", backend.id), ("operation", "=", operation), ("state", "=", "running")]
        ).write({
            "state": "failed",
            "end": fields.Datetime.now(),
            "message": env._("Interrupted: the server stopped during this run."),
        })
        self.log = Log.create({"backend_id": backend.id, "operation": operation, "trigger": trigger})
        self._started = time.monotonic()
        self.counts = dict.fromkeys(
            ("processed", "created", "updated", "unchanged", "failed", "not_found"), 0
        )
        self.lines = []
        self.messages = []
        self.fatal = None

    def add(self, **increments):
        for key, value in increments.items():
            self.counts[key] += value

    def item_failed(self, code, message, binding=None, reference=""):
        self.lines.append({
            "binding_id": binding.id if binding else False,
            "product_id": binding.product_id.id if binding else False,
            "reference": reference or (binding.external_code if binding else ""),
            "error_code": code,
            "message": message,
        })

    def stop(self, exc):
        """A connection-level error: the run stops here, what was done is kept."""
        self.fatal = exc
        self.messages.append(describe_error(self.env, exc))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            self.log.resume_at = fields.Datetime.now() + timedelta(seconds=retry_after)
        _logger.warning(
            "Supplier connection %s: %s stopped: %s", self.backend.id, self.log.operation,
            error_code(exc),
        )

    def note(self, message):
        self.messages.append(message)

    def checkpoint(self, adapter, remaining):
        """After a batch: save counters, the session and the cron's progress; commit in crons."""
        self._flush(adapter, remaining)
        if self.trigger == "cron":
            commit_progress(self.env)

    def finish(self, adapter, remaining=0):
        if self.fatal is not None:
            state = "failed" if not self.counts["processed"] else "partial"
        elif self.counts["failed"]:
            state = "partial"
        else:
            state = "done"
        for window in adapter.budget_usage() if adapter is not None else ():
            self.note(self.env._(
                "Price requests used: %(used)s of %(limit)s (%(label)s).",
                used=window["used"], limit=window["limit"], label=window["label"],
            ))
        self._flush(adapter, remaining, {"state": state, "end": fields.Datetime.now()})
        return self.log

    def _flush(self, adapter, remaining, extra=None):
        if adapter is not None:
            self.backend._save_adapter_state(adapter)
            stats = adapter.request_stats()
        else:
            stats = {}
        vals = dict(
            self.counts,
            duration=time.monotonic() - self._started,
            remaining=remaining,
            request_count=sum(stats.values()),
            request_details=", ".join(f"{k}: {v}" for k, v in sorted(stats.items())),
            message="\n".join(self.messages) or False,
            **(extra or {}),
        )
        if self.lines:
            vals["line_ids"] = [(0, 0, line) for line in self.lines]
            self.lines = []
        self.log.write(vals)
