"""The inbox of incoming calls (IMSKLAD callbacks, later MoySklad webhooks), DESIGN §3 and §4.3.

Every authenticated call is stored once per dedupe key, processed in the model (not in the
controller), and answered again from here when it is repeated. Events whose processing failed are
retried by a cron and shown to the administrator.
"""

import json
import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

EVENT_STATES = [
    ("received", "Received"),
    ("done", "Done"),
    ("error", "Error"),
    ("ignored", "For a person"),
]
MAX_ATTEMPTS = 5


class SupplierEvent(models.Model):
    _name = "supplier.event"
    _description = "Incoming supplier call"
    _order = "id desc"
    _rec_name = "kind"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True,
        readonly=True,
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    kind = fields.Char(required=True, readonly=True, index=True, help="e.g. order.set_status")
    reference = fields.Char(string="External reference", readonly=True, index=True)
    dedupe_key = fields.Char(string="Call fingerprint", required=True, readonly=True)
    payload = fields.Json(readonly=True, help="The call's data as received, without the key.")
    answer = fields.Json(readonly=True, help="What Odoo answered the service.")
    payload_text = fields.Text(string="Payload (JSON)", compute="_compute_texts")
    answer_text = fields.Text(string="Answer (JSON)", compute="_compute_texts")
    state = fields.Selection(EVENT_STATES, default="received", required=True, readonly=True,
                             index=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    received_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    processed_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("dedupe_unique", "UNIQUE(backend_id, dedupe_key)", "An incoming call is stored once."),
    ]

    @api.depends("payload", "answer")
    def _compute_texts(self):
        for event in self:
            event.payload_text = json.dumps(event.payload, ensure_ascii=False, indent=2)
            event.answer_text = json.dumps(event.answer, ensure_ascii=False, indent=2)

    def action_retry(self):
        """Process these events again (managers)."""
        self.env["supplier.backend"]._check_right("manager")
        self.backend_id._check_right("manager")
        self.sudo().filtered(lambda e: e.state in ("error", "received"))._process()
        return True

    @api.model
    def _cron_retry_errors(self):
        events = self.sudo().search([
            ("state", "in", ("error", "received")),
            ("attempts", "<", MAX_ATTEMPTS),
            ("backend_id.active", "=", True),
        ], limit=500)
        events._process()

    def _process(self):
        """Process each event once, in its own savepoint; services add their kinds."""
        for event in self:
            event.attempts += 1
            try:
                with self.env.cr.savepoint():
                    state, answer, error = event._process_one()
            except Exception as exc:  # noqa: BLE001 — recorded on the event, retried by the cron
                _logger.exception("Processing the incoming call %s failed", event.id)
                state, answer, error = "error", event._internal_error_answer(), (
                    f"{type(exc).__name__}: {exc}"
                )
            event.write({
                "state": state, "answer": answer, "error": error or False,
                "processed_at": fields.Datetime.now(),
            })

    def _process_one(self):
        """(state, answer, error) for this event; overridden per service."""
        return "ignored", None, self.env._("No processing is known for this call.")

    def _internal_error_answer(self):
        return None


class SupplierBackendRefusedCalls(models.Model):
    """Calls refused for a wrong key are not stored (they may come from anyone): the connection
    only counts them, so an administrator sees a service calling with an outdated key."""

    _inherit = "supplier.backend"

    callback_refused_count = fields.Integer(
        string="Refused calls", readonly=True, copy=False,
        help="Calls to this connection's address refused because their key was wrong.",
    )
    callback_refused_at = fields.Datetime(string="Last refused call", readonly=True, copy=False)

    def _count_refused_call(self):
        """One more refused call (one UPDATE, no ORM write: nothing else of the call is kept)."""
        self.ensure_one()
        self.env.cr.execute(SQL(
            "UPDATE supplier_backend SET callback_refused_count = "
            "COALESCE(callback_refused_count, 0) + 1, callback_refused_at = now() at time zone "
            "'UTC' WHERE id = %s",
            self.id,
        ))
        self.invalidate_recordset(["callback_refused_count", "callback_refused_at"])
