"""One run of one operation: its log record, its counters, and the only commit in the addon."""

import logging
import threading
import time
from collections import Counter
from datetime import timedelta

from odoo import fields
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools.misc import formatLang

from .error_messages import describe_error, error_code
from .run_lock import RunLock

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


# Another transaction changed (or holds) the same rows: not an error of the run.
CONCURRENT_UPDATE_ERRORS = PG_CONCURRENCY_EXCEPTIONS_TO_RETRY


def window_words(env, window):
    """"per 15 minutes" / "per day" for a request budget window (``RateBudget.usage()`` row)."""
    try:
        seconds = int(float(window.get("seconds")))
    except (TypeError, ValueError):
        return str(window.get("label") or "")
    words = {900: env._("per 15 minutes"), 86400: env._("per day")}
    return words.get(seconds) or env._("per %s s", seconds)


class SyncRun:
    """Counts what a run does and keeps its ``supplier.sync.log`` up to date.

    In a cron, ``checkpoint`` commits after every batch (never in tests): a crash then loses at
    most one batch, and the next run resumes with the stalest records, i.e. those not done yet.
    Buttons run inside the user's transaction and do not commit.
    """

    def __init__(self, env, backend, operation, trigger, total=0):
        self.env = env
        self.backend = backend
        self.trigger = trigger
        Log = env["supplier.sync.log"].sudo()
        # A run that was killed (server restart, out of memory) left its log "running". That is
        # certain only while no live run holds the lock of this operation (a run that holds it
        # itself may mark them: the lock is re-entrant for its own database connection).
        if RunLock.is_free(env.cr, backend.id, operation):
            Log.search([
                ("backend_id", "=", backend.id), ("operation", "=", operation),
                ("state", "=", "running"),
            ]).write({
                "state": "failed",
                "end": fields.Datetime.now(),
                "message": env._("Interrupted: the server stopped during this run."),
            })
        # ``total``: the items the run sets out to do, for its progress (done / total).
        self.log = Log.create({
            "backend_id": backend.id, "operation": operation, "trigger": trigger, "total": total,
        })
        self._started = time.monotonic()
        self.counts = dict.fromkeys(
            ("processed", "created", "updated", "unchanged", "failed", "not_found", "skipped"), 0
        )
        self.lines = []
        self.messages = []
        self.fatal = None
        # Requests that failed without stopping the run: reason (plain words) → how many.
        self.failed_requests = Counter()
        self.requests_split = True

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

    def request_failed(self, reason):
        """A request failed and the run went on (its items were split or failed)."""
        self.failed_requests[reason] += 1

    def stop(self, exc, reason=None):
        """A run-level error: the run stops here, what was done is kept."""
        self.fatal = exc
        self.messages.append(reason or describe_error(self.env, exc))
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
        counts = self.counts
        answered = counts["processed"] - counts["failed"] - counts["skipped"]
        if self.fatal is not None or counts["failed"]:
            state = "partial" if answered > 0 else "failed"
        else:
            state = "done"
        for reason, count in self.failed_requests.items():
            if self.requests_split:
                self.note(self.env._(
                    "Failed requests: %(count)s. %(reason)s The run went on: their products were "
                    "asked again in smaller batches; those that still failed are listed below.",
                    count=count, reason=reason,
                ))
            else:
                self.note(self.env._(
                    "Failed requests: %(count)s. %(reason)s The run went on; their products are "
                    "listed below.", count=count, reason=reason,
                ))
        if counts["skipped"]:
            self.note(self.env._(
                "%(count)s products skipped: updated by another run at the same time.",
                count=counts["skipped"],
            ))
        # Only a run that asked for prices reports the budget (the adapter knows).
        windows = adapter.budget_usage() if adapter is not None else ()
        if windows:
            self.note(self.env._("Price requests used: %(windows)s.", windows=", ".join(
                self.env._(
                    "%(used)s of %(limit)s %(window)s",
                    used=formatLang(self.env, window["used"], digits=0),
                    limit=formatLang(self.env, window["limit"], digits=0),
                    window=window_words(self.env, window),
                )
                for window in windows
            )))
        self._flush(adapter, remaining, {"state": state, "end": fields.Datetime.now()})
        return self.log

    def _flush(self, adapter, remaining, extra=None):
        if adapter is not None:
            self._save_adapter_state(adapter)
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

    def _save_adapter_state(self, adapter):
        """Session and request budget onto the connection. A product Sync at the same time may
        have saved its own: in a cron that is no reason to fail (this run's state is saved at
        its next checkpoint, in a new transaction); a button lets Odoo retry the request."""
        if self.trigger != "cron":
            self.backend._save_adapter_state(adapter)
            return
        try:
            with self.env.cr.savepoint():
                self.backend._save_adapter_state(adapter)
        except CONCURRENT_UPDATE_ERRORS:
            _logger.info("Supplier connection %s: state saved by another run at the same time",
                         self.backend.id)
