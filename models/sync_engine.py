import logging

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import split_every

from ..services.base import BatchResult, ItemRef
from .error_messages import describe_error, error_code
from .offer_writer import OfferWriter
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)


class SupplierSyncEngine(models.AbstractModel):
    """The generic pull loop, written once for every service.

    Due bindings, stalest first → API-sized batches → the service adapter → results applied in
    bulk. One bad item is recorded and the batch goes on; a failed batch is rolled back to its
    savepoint and the run goes on; a connection-level error (login, service down, rate limit)
    stops the run cleanly and the next run resumes with what was not refreshed.
    """

    _name = "supplier.sync.engine"
    _description = "Supplier sync engine"

    @api.model
    def _run_scheduled(self, backend, operation):
        if operation == "sync_offers":
            return self._run_offers(backend, trigger="cron")
        if operation == "import_catalogue":
            return self.env["supplier.catalogue.importer"]._import(backend, trigger="cron")
        if operation == "pull_order_status":
            return self.env["purchase.order"]._supplier_refresh_status(backend, "cron")
        raise UserError(self.env._("Unknown operation %(operation)s.", operation=operation))

    @api.model
    def _run_offers(self, backend, trigger="manual", bindings=None):
        """Pull prices and stock for ``bindings`` (default: all bindings of ``backend``)."""
        backend = backend.sudo()
        Binding = self.env["supplier.product"].sudo()
        domain = [("backend_id", "=", backend.id)]
        if bindings is not None:
            domain.append(("id", "in", bindings.ids))
        # Stalest first: when a run cannot cover everything (limit, rate limit, crash), the
        # next one starts where the data is oldest, i.e. where this one stopped.
        ids = Binding.search(domain, order="last_sync asc nulls first, id").ids
        limit = backend.max_items_per_run if trigger == "cron" else 0
        left_for_later = max(len(ids) - limit, 0) if limit else 0
        ids = ids[: limit or None]

        run = SyncRun(self.env, backend, "sync_offers", trigger)
        adapter = backend._adapter()
        writer = OfferWriter(backend)
        done = 0
        for chunk in split_every(max(backend.batch_size, 1), ids):
            batch_bindings = Binding.browse(chunk)
            items = [
                ItemRef(binding.id, binding.external_code, binding.external_id or "",
                        binding.external_brand or "")
                for binding in batch_bindings
            ]
            batch = self._call_adapter(adapter.pull_offers, items)
            if batch.results:
                self._apply_safely(writer, batch_bindings, batch.results, run)
            done += len(batch.results)
            if batch.fatal is not None:
                run.stop(batch.fatal)
                break
            run.checkpoint(adapter, remaining=len(ids) - done + left_for_later)
            # Forget the batch's records: memory stays flat however large the catalogue.
            self.env.invalidate_all()
        return run.finish(adapter, remaining=len(ids) - done + left_for_later)

    @api.model
    def _call_adapter(self, method, items):
        try:
            return method(items)
        except Exception as exc:  # noqa: BLE001 — an adapter bug must not kill the whole cron
            if error_code(exc) == "internal":
                _logger.exception("Supplier adapter failed")
            return BatchResult(fatal=exc)

    @api.model
    def _apply_safely(self, writer, bindings, results, run):
        try:
            with self.env.cr.savepoint():
                counts, lines = writer.apply(bindings, results)
        except Exception as exc:  # noqa: BLE001 — isolate the batch, record why, go on
            _logger.exception("Applying a supplier batch failed")
            message = describe_error(self.env, exc)
            handled = {result.binding_id for result in results}
            for binding in bindings.filtered(lambda b: b.id in handled):
                run.item_failed("internal", message, binding)
            run.add(processed=len(handled), failed=len(handled))
            return
        run.add(**counts)
        for code, message, binding in lines:
            run.item_failed(code, message, binding)
