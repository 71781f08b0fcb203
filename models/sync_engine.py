import logging
from collections import deque

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import split_every

from ..services.base import BatchResult, ItemRef
from .error_messages import describe_error, error_code
from .offer_writer import OfferWriter
from .run_lock import exclusive_run
from .sync_run import CONCURRENT_UPDATE_ERRORS, SyncRun

_logger = logging.getLogger(__name__)


class BatchQueue:
    """The batches a run still has to ask: fresh ones (stalest first) and halves of failed ones.

    Halves are asked breadth-first (both halves of a batch before the halves of a half), and
    right after a failure a fresh batch goes first while there is one. A poisoned item is thus
    narrowed down between successes, while a service that is down fails fresh, unrelated
    batches in a row: the evidence that stops the run.
    """

    def __init__(self, ids, size):
        self.fresh = deque(list(chunk) for chunk in split_every(max(size, 1), ids))
        self.halves = deque()
        self.after_failure = False

    def __bool__(self):
        return bool(self.fresh or self.halves)

    def pop(self):
        if self.halves and not (self.after_failure and self.fresh):
            return self.halves.popleft()
        return self.fresh.popleft()

    def split(self, ids):
        middle = len(ids) // 2
        self.halves.extend((ids[:middle], ids[middle:]))

    def take_halves(self):
        """The ids waiting in halves (of failed batches), removed from the queue."""
        ids = [binding_id for half in self.halves for binding_id in half]
        self.halves.clear()
        return ids


class SupplierSyncEngine(models.AbstractModel):
    """The generic pull loop, written once for every service.

    Due bindings, stalest first → API-sized batches → the service adapter → results applied in
    bulk, with a cron commit after each batch (``SyncRun.checkpoint``).

    **How a run fails** (DESIGN §4.1). Adapters return ``BatchResult(results, fatal=exc)``; the
    results already obtained are always applied, and the engine alone classifies ``fatal`` by
    its error code (``_stops_the_run``):

    ============================================  =============================================
    what failed                                   what happens
    ============================================  =============================================
    one item (unknown code, ambiguous article,    the item gets the reason; the batch goes on
    a line the service rejected)
    the batch: ``rejected`` (400), ``bad_response`` the batch is split in halves, asked again
    (garbage), ``unavailable`` (5xx / timeouts    until the item at fault is alone (an adapter
    after the retries), ``not_found``, any other  with ``splits_batches = False``: its
    code, an unexpected exception in the adapter  unanswered items fail with the reason); the
    (``internal``)                                run goes on with the next batch
    the run: ``auth``, ``login_blocked``,         the run stops cleanly, says why and how far
    ``session``, ``rate_limited``; and            it got; what was not asked is left for the
    ``MAX_FAILED_BATCHES_IN_A_ROW`` failed        next run (service down: the items of the
    requests in a row ("the service is down")     failed requests fail with the reason)
    ============================================  =============================================

    A database error raised in an adapter is not the service's fault: it is raised again (the
    transaction may be aborted), as is any error while writing that is not a concurrent update.

    **Failed items** get ``last_attempt``, one more ``failure_count`` and ``retry_after`` (1 h,
    2 h, 4 h… at most a day; ``offer_writer.next_retry``), written in the same bulk step as the
    offers; a success resets them and sets ``last_sync`` (the last success). Scheduled runs skip
    items whose ``retry_after`` is ahead and ask failed items after the others; "Sync now" of a
    connection asks them all, failures last; a product Sync (explicit bindings) asks them now.

    **One run at a time** (``run_lock``): a scheduled run holds the lock of (connection,
    operation) for its lifetime (taken by the schedule's ``_run_once``, which skips the
    operation when another run holds it); "Sync now" takes it too and is told "already
    running" otherwise. **A product Sync** (``product.product.action_supplier_sync``, a few
    explicit bindings, also before a purchase order is sent) takes no lock, so it works while a
    scheduled run is under way, and never marks that run's log interrupted (only a run that can
    hold the lock may). Should both write the same products at once, PostgreSQL refuses one of
    them (serialization failure, lock not available): in a cron the batch is written product
    by product and the conflicting ones are counted as skipped ("updated by another run at the
    same time"), the run goes on; in a button the error propagates and Odoo retries the whole
    request, which then sees the other run's values.
    """

    _name = "supplier.sync.engine"
    _description = "Supplier sync engine"

    # Error codes (api/errors.py) that stop a run; every other failure of a batch is isolated.
    RUN_LEVEL_ERRORS = frozenset({"auth", "login_blocked", "session", "rate_limited"})
    # Failed requests in a row, no success between them, that mean "the service is down".
    MAX_FAILED_BATCHES_IN_A_ROW = 3

    @api.model
    def _stops_the_run(self, exc):
        """The one classification of a batch's ``fatal`` error: True = run-level. A client may
        also mark its own errors ``run_level`` (MoySklad: no API access, plan, circuit open)."""
        return error_code(exc) in self.RUN_LEVEL_ERRORS or getattr(exc, "run_level", False) is True

    @api.model
    def _run_scheduled(self, backend, operation):
        """One scheduled run; the caller (``_run_once``) holds the operation's lock.

        Found by name as the buttons are (``supplier.backend._dispatch``): the service's own
        ``_scheduled_<service>_<operation>``, else the generic ``_scheduled_<operation>`` — so no
        service's code can take, or refuse, another service's runs.
        """
        run = getattr(self, f"_scheduled_{backend.service}_{operation}", None) or getattr(
            self, f"_scheduled_{operation}", None
        )
        if run is None:
            raise UserError(self.env._("Unknown operation %(operation)s.", operation=operation))
        return run(backend)

    @api.model
    def _scheduled_sync_offers(self, backend):
        return self._run_offers(backend, trigger="cron")

    @api.model
    def _scheduled_import_catalogue(self, backend):
        return self.env["supplier.catalogue.importer"]._import(backend, trigger="cron")

    @api.model
    def _scheduled_pull_order_status(self, backend):
        return self.env["purchase.order"]._supplier_refresh_status(backend, "cron")

    @api.model
    def _run_offers(self, backend, trigger="manual", bindings=None):
        """Pull prices and stock for ``bindings`` (default: all bindings of ``backend``).

        A whole-connection run from a button takes the operation's lock ("already running"
        otherwise); a cron run has it from the scheduler; a product Sync takes none.
        """
        if bindings is None and trigger != "cron":
            with exclusive_run(self.env, backend, "sync_offers"):
                return self._pull_offers(backend, trigger, None)
        return self._pull_offers(backend, trigger, bindings)

    @api.model
    def _due_bindings(self, backend, trigger, bindings):
        """Ids to ask, in order, and how many due ones are left for a later run."""
        domain = [("backend_id", "=", backend.id)]
        if bindings is not None:
            domain.append(("id", "in", bindings.ids))
        elif trigger == "cron":
            domain += ["|", ("retry_after", "=", False), ("retry_after", "<=", fields.Datetime.now())]
        # Stalest first: when a run cannot cover everything (limit, rate limit, crash), the
        # next one starts where the data is oldest, i.e. where this one stopped. Products that
        # failed come after the others, so they never starve them.
        ids = self.env["supplier.product"].sudo().search(
            domain, order="failure_count asc nulls first, last_sync asc nulls first, id"
        ).ids
        limit = backend.max_items_per_run if trigger == "cron" and bindings is None else 0
        if limit and len(ids) > limit:
            return ids[:limit], len(ids) - limit
        return ids, 0

    @api.model
    def _pull_offers(self, backend, trigger, bindings):
        backend = backend.sudo()
        Binding = self.env["supplier.product"].sudo()
        ids, left_for_later = self._due_bindings(backend, trigger, bindings)
        run = SyncRun(self.env, backend, "sync_offers", trigger, total=len(ids))
        adapter = backend._adapter()
        run.requests_split = adapter.splits_batches
        writer = OfferWriter(backend, log=run.log)
        queue = BatchQueue(ids, backend.batch_size)
        failed_in_a_row = 0

        def remaining():
            return len(ids) - run.counts["processed"] + left_for_later

        while queue:
            chunk = queue.pop()
            batch_bindings = Binding.browse(chunk)
            items = [
                ItemRef(binding.id, binding.external_code, binding.external_id or "",
                        binding.external_brand or "")
                for binding in batch_bindings
            ]
            batch = self._call_adapter(adapter.pull_offers, items)
            asked = set(chunk)
            results = [result for result in batch.results if result.binding_id in asked]
            if results:
                self._apply(writer, batch_bindings, results, run)
            if batch.fatal is None:
                failed_in_a_row = 0
                queue.after_failure = False
            elif self._stops_the_run(batch.fatal):
                run.stop(batch.fatal)
                break
            else:
                failed_in_a_row += 1
                queue.after_failure = True
                answered = {result.binding_id for result in results}
                unanswered = [binding_id for binding_id in chunk if binding_id not in answered]
                reason = self._reason(batch.fatal)
                if failed_in_a_row >= self.MAX_FAILED_BATCHES_IN_A_ROW:
                    # The service is down: the items of the failed requests fail (they are
                    # asked again after their delay), the others are left for the next run.
                    self._fail(writer, Binding.browse(unanswered + queue.take_halves()),
                               batch.fatal, reason, run)
                    run.stop(batch.fatal, self.env._(
                        "The run stopped after %(count)s failed requests in a row: the service "
                        "seems to be down. %(reason)s",
                        count=failed_in_a_row, reason=reason,
                    ))
                    break
                run.request_failed(reason)
                if len(unanswered) > 1 and adapter.splits_batches:
                    queue.split(unanswered)
                elif unanswered:
                    self._fail(writer, Binding.browse(unanswered), batch.fatal, reason, run)
            run.checkpoint(adapter, remaining=remaining())
            # Forget the batch's records: memory stays flat however large the catalogue.
            self.env.invalidate_all()
        return run.finish(adapter, remaining=remaining())

    @api.model
    def _reason(self, exc):
        """The plain-words reason of a failed request (unexpected errors were logged already)."""
        return describe_error(self.env, exc, log=False)

    @api.model
    def _call_adapter(self, method, items):
        try:
            return method(items)
        except psycopg2.Error:
            raise  # the database's error, not the service's: the transaction may be aborted
        except Exception as exc:  # noqa: BLE001 — an adapter bug fails its batch, not the run
            if error_code(exc) == "internal":
                _logger.exception("Supplier adapter failed")
            return BatchResult(fatal=exc)

    @api.model
    def _apply(self, writer, bindings, results, run):
        try:
            counts, lines = writer.apply(bindings, results)
        except CONCURRENT_UPDATE_ERRORS:
            if run.trigger != "cron":
                raise  # a request: Odoo rolls it back and retries it (see the class docstring)
            counts, lines = self._apply_one_by_one(writer, bindings, results, run)
        except psycopg2.Error:
            raise
        except Exception as exc:  # noqa: BLE001 — isolate the batch, record why, go on
            _logger.exception("Applying a supplier batch failed")
            handled = bindings.browse([result.binding_id for result in results])
            self._fail(writer, handled, exc, describe_error(self.env, exc, log=False), run)
            return
        run.add(**counts)
        for code, message, binding in lines:
            run.item_failed(code, message, binding)

    @api.model
    def _apply_one_by_one(self, writer, bindings, results, run):
        """After a concurrent update refused the batch (cron): each product on its own, those
        another run is writing at the same time are skipped."""
        total, lines = {}, []
        for result in results:
            try:
                counts, one_lines = writer.apply(bindings.browse(result.binding_id), [result])
            except CONCURRENT_UPDATE_ERRORS:
                counts, one_lines = {"processed": 1, "skipped": 1}, []
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
            lines += one_lines
        return total, lines

    @api.model
    def _fail(self, writer, bindings, exc, reason, run):
        """``bindings`` failed with their request: the reason on each, and their retry delay."""
        if not bindings:
            return
        code = error_code(exc)
        try:
            counts, lines = writer.fail(bindings, code, reason)
        except CONCURRENT_UPDATE_ERRORS:
            if run.trigger != "cron":
                raise
            counts, lines = {"processed": len(bindings), "skipped": len(bindings)}, []
        except psycopg2.Error:
            raise
        except Exception:  # noqa: BLE001 — still say which items failed and why
            _logger.exception("Recording failed supplier items failed")
            counts = {"processed": len(bindings), "failed": len(bindings)}
            lines = [(code, reason, binding) for binding in bindings]
        run.add(**counts)
        for line_code, message, binding in lines:
            run.item_failed(line_code, message, binding)
