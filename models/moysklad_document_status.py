"""Order states coming back from MoySklad (issue 9): pulled by the "Order status" schedule or the
connection's button (``action_pull_orders``), per order by "Refresh status", and by webhook
(customerorder / purchaseorder UPDATE, models/moysklad_document_events.py).

Decisions:
- The pull reads the orders changed since the last pull (``updated>=`` MoySklad's own time of the
  newest order read, kept on the connection only when the whole pull succeeded), one page of up
  to 1,000 per request, and matches them to the sent rows by id; other orders of the account
  are ignored. The first pull of a connection reads every order of the kinds sent.
- A state is named from the metadata (loaded when a state id is not known yet). A change is
  written on the row (``status_code`` / ``status_label``), shown on the Odoo record and posted
  in its chatter ("MoySklad state: A → B"); the same state again changes nothing.
- The action the administrator gave the state runs then, once per change: "done" validates the
  record's open transfers with their full quantities; "cancel" cancels the Odoo order. A failing
  action is posted on the record and never stops the pull.
"""

import logging

from odoo import api, fields, models

from ..api.errors import ApiError, NotFound
from .backend_moysklad_documents import ORDER_KINDS
from .chatter import post_note
from .error_messages import describe_error
from .run_lock import exclusive_run
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)

RECORD_LINKS = ("moysklad_sale_id", "moysklad_purchase_id", "moysklad_picking_id")


class SupplierMoySkladDocumentStatus(models.AbstractModel):
    _inherit = "supplier.moysklad.documents"

    @api.model
    def _pull_states(self, backend, trigger):
        """Pull the state of the sent orders of ``backend`` (sudo); the sync log."""
        if trigger == "cron":
            return self._pull_states_locked(backend, trigger)
        with exclusive_run(self.env, backend, "pull_order_status"):
            return self._pull_states_locked(backend, trigger)

    @api.model
    def _pull_states_locked(self, backend, trigger):
        run = SyncRun(self.env, backend, "pull_order_status", trigger)
        adapter = backend._adapter()
        client = adapter.client
        rows = self.env["supplier.order"].sudo().search([
            ("backend_id", "=", backend.id), ("moysklad_kind", "in", ORDER_KINDS),
            ("state", "=", "sent"), ("external_id", "!=", False),
        ])
        by_id = {(row.moysklad_kind, row.external_id): row for row in rows}
        watermark = backend.moysklad_orders_watermark or None
        newest = watermark
        try:
            for kind in ORDER_KINDS:
                if not any(row.moysklad_kind == kind for row in rows):
                    continue
                for page in client.iter_documents(kind, updated_since=watermark):
                    for document in page.items:
                        if document.updated and (newest is None or document.updated > newest):
                            newest = document.updated
                        row = by_id.get((kind, document.id))
                        if not row:
                            continue
                        run.add(processed=1)
                        if self._record_state(row, document, client):
                            run.add(updated=1)
                        else:
                            run.add(unchanged=1)
                    run.checkpoint(adapter, remaining=0)
        except ApiError as exc:
            run.stop(exc)
        else:
            if newest != watermark:
                backend.moysklad_orders_watermark = newest
        return run.finish(adapter)

    @api.model
    def _refresh_rows(self, rows):
        """Read the documents of ``rows`` one by one (the Refresh status button); messages."""
        messages = []
        for backend, backend_rows in rows.filtered(
            lambda r: r.state == "sent" and r.external_id
        ).grouped("backend_id").items():
            adapter = backend._adapter()
            client = adapter.client
            try:
                for row in backend_rows:
                    document = client.get_document(row.moysklad_kind, row.external_id)
                    changed = self._record_state(row, document, client)
                    number = row.external_name or row.external_id
                    if not row.status_label:
                        messages.append(self.env._(
                            "%s: the order has no state at MoySklad yet.", number
                        ))
                        continue
                    messages.append(self.env._(
                        "%(number)s: MoySklad state %(state)s%(changed)s.",
                        number=number, state=row.status_label,
                        changed=self.env._(" (changed)") if changed else "",
                    ))
            except NotFound:
                messages.append(self.env._(
                    "%s is no longer at MoySklad (deleted there).", row.external_name or row.key
                ))
            except ApiError as exc:
                messages.append(describe_error(self.env, exc))
            backend._save_adapter_state(adapter)
        return messages

    @api.model
    def _record_state(self, row, document, client):
        """Write the document's state on ``row`` when it changed; post it and run its action.
        True when it changed."""
        if not document.state_id or document.state_id == row.status_code:
            return False
        backend = row.backend_id
        states = backend._moysklad_states()
        if document.state_id not in states:
            backend._moysklad_load_states(client, (row.moysklad_kind,))
            states = backend._moysklad_states()
        state = states.get(document.state_id)
        name = (state.name if state else document.state_name) or document.state_id
        old = row.status_label
        row.write({"status_code": document.state_id, "status_label": name,
                   "status_changed_at": fields.Datetime.now(),
                   "external_name": document.name or row.external_name})
        record = self._record_of(row)
        if record:
            post_note(record, self.env._(
                "MoySklad state of %(number)s: %(old)s → %(new)s",
                number=row.external_name or row.external_id, old=old or "—", new=name,
            ))
            if state and state.ms_state_action in ("done", "cancel"):
                self._state_action(record, state)
        return True

    @staticmethod
    def _record_of(row):
        for link in RECORD_LINKS:
            if row[link]:
                return row[link]
        return None

    @api.model
    def _state_action(self, record, state):
        """Run the action the administrator gave ``state`` on ``record`` (sudo); posted."""
        try:
            with self.env.cr.savepoint():
                if state.ms_state_action == "done":
                    done = self._validate_transfers(record)
                    message = self.env._(
                        "MoySklad state \"%(state)s\": transfers validated: %(names)s.",
                        state=state.name, names=", ".join(done.mapped("name")) or "—",
                    )
                else:
                    if record.state == "cancel":
                        return
                    if record._name == "sale.order":
                        record.sudo()._action_cancel()
                    elif record._name == "purchase.order":
                        record.sudo().button_cancel()
                    else:
                        record.sudo().action_cancel()
                    message = self.env._(
                        "MoySklad state \"%(state)s\": cancelled in Odoo.", state=state.name
                    )
        except Exception as exc:  # noqa: BLE001 — posted on the record, never stops the pull
            _logger.info("MoySklad state action on %s failed: %s", record, type(exc).__name__)
            message = self.env._(
                "MoySklad state \"%(state)s\": the action in Odoo failed: %(reason)s",
                state=state.name, reason=describe_error(self.env, exc),
            )
        post_note(record, message)

    @api.model
    def _validate_transfers(self, record):
        """Validate the open transfers of ``record`` with their full quantities; them."""
        pickings = record.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel", "draft")
        ) if record._name != "stock.picking" else record.sudo()
        pickings = pickings.filtered(lambda p: p.state not in ("done", "cancel"))
        for picking in pickings:
            for move in picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel")):
                move.quantity = move.product_uom_qty
                move.picked = True
            picking._action_done()
        return pickings
