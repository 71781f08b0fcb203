"""MoySklad webhooks for orders (issue 9): customerorder and purchaseorder UPDATE.

The webhook route, its authentication and the storing of calls are the product webhooks'
(controllers/moysklad.py, models/moysklad_events.py). Here:

- Processing (``supplier.event._process_one``, run by the event cron): the order events of a
  call are taken first; each names one document, which is read again (``get_document``: the
  event carries no state) and its state recorded as a pull does (chatter line on change, the
  state's action). Events of documents Odoo did not send are acknowledged and left alone. The
  rest of the call (products, stock) goes on to the product webhooks' processing unchanged.
- Registering: "Register webhooks" also creates (or adopts) the customerorder and
  purchaseorder UPDATE webhooks when the connection sends those orders; "Remove webhooks"
  already removes every webhook with the connection's URL.
"""

from contextlib import suppress

from odoo import api, models

from ..api.errors import AlreadyExists, ApiError, NotFound
from ..api.moysklad_events import parse_delivery
from .error_messages import describe_error
from .sync_run import SyncRun

ORDER_HOOKS = (("customerorder", "moysklad_send_sale_orders"),
               ("purchaseorder", "moysklad_send_purchase_orders"))


class SupplierEventMoySkladDocuments(models.Model):
    _inherit = "supplier.event"

    def _process_one(self):
        if self.backend_id.service != "moysklad":
            return super()._process_one()
        delivery = parse_delivery(self.payload)
        events = [event for event in delivery.events
                  if event.entity_type in dict(ORDER_HOOKS) and event.action == "UPDATE"]
        if not events:
            return super()._process_one()
        log = self.env["supplier.moysklad.documents"]._webhook_states(
            self.backend_id.sudo(), events
        )
        state, result, error = super()._process_one()
        if log.state in ("failed", "partial"):
            return "error", result, "\n".join(filter(None, [log.message, error or ""]))
        return state, result, error


class SupplierMoySkladDocumentHooks(models.AbstractModel):
    _inherit = "supplier.moysklad.documents"

    @api.model
    def _webhook_states(self, backend, events):
        """Record the states of the documents ``events`` name (ours only); the sync log."""
        run = SyncRun(self.env, backend, "pull_order_status", "webhook")
        adapter = backend._adapter()
        client = adapter.client
        rows = self.env["supplier.order"].sudo().search([
            ("backend_id", "=", backend.id), ("state", "=", "sent"),
            ("external_id", "in", [event.id for event in events]),
        ])
        by_id = {(row.moysklad_kind, row.external_id): row for row in rows}
        try:
            for event in events:
                row = by_id.get((event.entity_type, event.id))
                if not row:
                    continue
                run.add(processed=1)
                try:
                    document = client.get_document(event.entity_type, event.id)
                except NotFound:
                    run.add(failed=1)
                    run.item_failed("ms_gone", self.env._(
                        "MoySklad no longer has the %(kind)s %(id)s its webhook named.",
                        kind=event.entity_type, id=event.id,
                    ), reference=row.external_name or row.key)
                    continue
                if self._record_state(row, document, client):
                    run.add(updated=1)
                else:
                    run.add(unchanged=1)
        except ApiError as exc:
            run.stop(exc)
        run.note(self.env._("Webhook: only the orders it named (%(count)s).", count=len(events)))
        return run.finish(adapter)


class SupplierBackendMoySkladDocumentHooks(models.Model):
    _inherit = "supplier.backend"

    def action_moysklad_register_webhooks(self):
        self._check_right("manager")
        result = super().action_moysklad_register_webhooks()
        backend = self.sudo()
        wanted = [kind for kind, setting in ORDER_HOOKS if backend[setting]]
        if not wanted or not backend.moysklad_webhook_count:
            return result
        url = self._moysklad_webhook_url()
        adapter = self._adapter()
        client = adapter.client
        added = 0
        try:
            existing = {(hook.action.upper(), hook.entity_type)
                        for hook in client.list_webhooks() if hook.url == url}
            for kind in wanted:
                if ("UPDATE", kind) not in existing:
                    # "Exists already" (30003): adopted, as for the product webhooks.
                    with suppress(AlreadyExists):
                        client.create_webhook(url, "UPDATE", kind)
                added += 1
        except ApiError as exc:
            self._save_adapter_state(adapter)
            message = self.env._("Order webhooks not registered: %s",
                                 describe_error(self.env, exc))
            backend.moysklad_webhook_status = f"{backend.moysklad_webhook_status or ''}\n{message}"
            return self._notify(message, "warning", sticky=True)
        self._save_adapter_state(adapter)
        message = self.env._(
            "Order webhooks at MoySklad: %(count)s (a state change of an order sent from Odoo "
            "now comes back at once).", count=added,
        )
        backend.write({
            "moysklad_webhook_count": backend.moysklad_webhook_count + added,
            "moysklad_webhook_status": f"{backend.moysklad_webhook_status or ''}\n{message}",
        })
        params = result.get("params") or {}
        params["message"] = f"{params.get('message', '')}\n{message}".strip()
        return result
