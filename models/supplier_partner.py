"""The binding of one Odoo partner to one counterparty of a connection (DESIGN §3).

Same shape as ``supplier.product`` (both inherit ``supplier.binding.mixin``): unique per
(connection, partner) and per (connection, external id), a sync state and message, the last
success, and for pushes the last push and the hash of the payload the service last accepted.

Decisions:
- ``sync_id`` is fixed when the binding is created, before anything is sent, and derived from
  the database, the connection and the partner (``stable_sync_id``): even a binding rolled back
  with the transaction of a lost answer gets the same syncId again, so MoySklad answers the
  counterparty it created the first time instead of making a second one.
- ``snapshot`` keeps the values both sides agreed on at the last sync (plain JSON). When both
  sides are masters, a field that differs from it changed on that side; a field changed on
  both sides goes to the side changed last (the counterparty's ``updated`` against the
  partner's ``write_date``), and the log says which.
- ``ms_updated`` is the counterparty's ``updated`` (UTC) when last read: its bank accounts and
  contact persons are read again only when it moved.
"""

from odoo import fields, models


class SupplierPartner(models.Model):
    _name = "supplier.partner"
    _inherit = "supplier.binding.mixin"
    _description = "Supplier counterparty mapping"
    _order = "backend_id, id"

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True,
    )
    external_id = fields.Char(
        string="Counterparty ID", readonly=True,
        help="The service's own id of the counterparty, once known.",
    )
    external_code = fields.Char(
        string="External code", copy=False,
        help="The counterparty's external code at the service (matched before creating).",
    )
    external_name = fields.Char(string="Name at the service", readonly=True)
    sync_id = fields.Char(
        string="syncId", readonly=True, copy=False,
        help="Sent with the first creation, so that a retry never creates the counterparty twice.",
    )
    sync_state = fields.Selection(
        selection_add=[("ambiguous", "Several matches"), ("error",)],
        ondelete={"ambiguous": "set default"},
    )
    last_push = fields.Datetime(readonly=True, copy=False)
    push_hash = fields.Char(readonly=True, copy=False)
    ms_updated = fields.Datetime(
        string="Changed at the service", readonly=True, copy=False,
        help="When the counterparty last changed at the service, as last read (UTC).",
    )
    ms_version = fields.Char(
        readonly=True, copy=False,
        help="The counterparty's 'updated' to the millisecond: an unchanged one is skipped.",
    )
    snapshot = fields.Json(readonly=True, copy=False)

    _sql_constraints = [
        ("partner_unique", "UNIQUE(backend_id, partner_id)",
         "A partner is mapped at most once per connection."),
        ("external_id_unique", "UNIQUE(backend_id, external_id)",
         "This counterparty is already mapped to another partner on this connection."),
    ]

    def _compute_display_name(self):
        for binding in self:
            binding.display_name = (
                f"{binding.backend_id.name} / {binding.external_name or binding.external_code or binding.external_id or binding.partner_id.name}"
            )

    def action_sync(self):
        """Sync the partners of these mappings now, both ways as their connection says."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        logs = self.env["supplier.sync.log"]
        for backend in self.backend_id:
            backend._check_right("user")
            logs |= self.env["supplier.moysklad.partners"]._sync_partners(
                backend, trigger="manual", partners=self.filtered(
                    lambda b, backend=backend: b.backend_id == backend).partner_id,
            )
        return logs._notification() if len(logs) == 1 else logs._action_open()
