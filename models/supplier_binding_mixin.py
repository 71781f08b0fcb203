"""What every binding of an Odoo record to a connection has (DESIGN §3, §6: OCA ``external.binding``).

``supplier.product`` and ``supplier.partner`` inherit it and add their own record, their own
labels and constraints (a model redefining a field here keeps these attributes and adds its own).
The fields keep the names and columns they had before the mixin existed: no migration.

Decisions: the push fields (``last_push``, ``push_hash``) stay with each model (their labels
differ); ``supplier.partner`` adds its "Several matches" state with ``selection_add``, before
"Error" as it always stood.
"""

from odoo import fields, models

SYNC_STATES = [
    ("new", "New"),
    ("ok", "Up to date"),
    ("not_found", "Not found"),
    ("error", "Error"),
]


class SupplierBindingMixin(models.AbstractModel):
    _name = "supplier.binding.mixin"
    _description = "Supplier binding"
    _rec_name = "external_code"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True
    )
    service = fields.Selection(related="backend_id.service")
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    external_id = fields.Char(copy=False, index=True)
    external_code = fields.Char(index=True)
    external_name = fields.Char()
    sync_state = fields.Selection(SYNC_STATES, default="new", required=True, readonly=True, index=True)
    sync_message = fields.Char(readonly=True)
    last_sync = fields.Datetime(readonly=True, copy=False, help="Last success.")
