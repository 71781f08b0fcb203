"""MoySklad connection settings and buttons for counterparties ↔ partners (part 2).

Decisions:
- The direction of partners is one selection: MoySklad is the master, Odoo is the master, both
  (per field, the side changed most recently wins) or off (the default: nothing is pulled or
  pushed unasked; documents still create the counterparty they need).
- Scheduled runs use the connection's schedule line "Partners", created (hourly, enabled)
  when a direction other than off is first chosen; an administrator can change or disable it
  on the schedule. A connection with partners off has no such line.
- ``_moysklad_counterparty_metas`` is for code (the documents push): it works whatever the
  direction, since a document needs its agent.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError


class SupplierBackendMoySkladPartners(models.Model):
    _inherit = "supplier.backend"

    moysklad_partners_direction = fields.Selection(
        [("pull", "MoySklad is the master"), ("push", "Odoo is the master"),
         ("both", "Both (most recent change wins)"), ("off", "Off")],
        string="Partners", default="off", required=True,
        help="Counterparties and partners: names, requisites, addresses, contacts, bank "
        "accounts, tags and archiving. Both: per field, the side changed most recently wins; "
        "the log lists such conflicts.",
    )
    moysklad_partners_watermark = fields.Datetime(
        string="Counterparties changed since", readonly=True, copy=False,
        help="The next partner sync reads only the counterparties changed since then. Empty: "
        "all of them.",
    )
    supplier_partner_count = fields.Integer(compute="_compute_supplier_partner_count")

    def _compute_supplier_partner_count(self):
        counts = dict(self.env["supplier.partner"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
        )) if self.ids else {}
        for backend in self:
            backend.supplier_partner_count = counts.get(backend, 0)

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._ensure_partner_schedule()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if vals.get("moysklad_partners_direction") not in (None, "off"):
            self._ensure_partner_schedule()
        return result

    def _ensure_partner_schedule(self):
        """The "Partners" schedule line of MoySklad connections whose partners are synced."""
        wanted = self.filtered(lambda b: b.service == "moysklad"
                               and b.moysklad_partners_direction != "off"
                               and "sync_partners" not in b.schedule_ids.mapped("operation"))
        self.env["supplier.backend.schedule"].sudo().create([
            {"backend_id": backend.id, "operation": "sync_partners", "interval_number": 1,
             "interval_type": "hours", "enabled": True}
            for backend in wanted
        ])

    def action_sync_partners(self):
        """Sync counterparties and partners both ways as each connection's direction says."""
        self._check_right("user")
        logs = self.env["supplier.sync.log"]
        for backend in self:
            if backend.service != "moysklad":
                raise UserError(self.env._(
                    "Partner sync is available for MoySklad connections only (%(connection)s "
                    "is not one).", connection=backend.display_name))
            if backend.moysklad_partners_direction == "off":
                raise UserError(self.env._(
                    "Partner sync is off on the connection %(connection)s: choose a direction "
                    "for partners on its MoySklad tab first.", connection=backend.display_name))
            backend.partner_id.check_access("read")
            logs |= self.env["supplier.moysklad.partners"]._sync_partners(backend, "manual")
        if len(logs) == 1:
            return logs._notification()
        return logs._action_open()

    def action_moysklad_partners_full_pass(self):
        """Forget the counterparty watermark: the next partner sync reads them all again."""
        self._check_right("manager")
        self.sudo().write({"moysklad_partners_watermark": False})
        return self._notify(self.env._(
            "The next partner sync reads every counterparty again."), "success")

    def action_open_supplier_partners(self):
        self._check_right("user")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Counterparty mappings"),
            "res_model": "supplier.partner",
            "view_mode": "list,form",
            "domain": [("backend_id", "=", self.id)],
            "context": {"default_backend_id": self.id},
        }

    def _moysklad_counterparty_metas(self, partners):
        """{partner id: meta dict of its counterparty} for ``partners`` (res.partner).

        Each partner stands for its commercial entity. Mapped partners give their meta without
        a request; the others are looked up at MoySklad (external code, INN + KPP, e-mail,
        phone) and mapped, or created in one bulk request with a syncId fixed before it leaves
        (a lost answer, sent again, is the same counterparty). A partner that matches several
        counterparties, or whose INN is not valid, is left out of the answer: the reason is on
        its mapping (``supplier.partner`` ``sync_state``/``sync_message``) and its chatter.
        Errors of the whole request (ApiError) reach the caller. For code that checked rights.
        """
        self.ensure_one()
        if self.service != "moysklad":
            raise UserError(self.env._("This is not a MoySklad connection."))
        return self.env["supplier.moysklad.partners"]._counterparty_metas(self, partners)


class SupplierLogOperationsPartners(models.Model):
    _inherit = "supplier.sync.log"

    operation = fields.Selection(
        selection_add=[("sync_partners", "Partners")], ondelete={"sync_partners": "cascade"}
    )


class SupplierSchedulePartners(models.Model):
    _inherit = "supplier.backend.schedule"

    operation = fields.Selection(
        selection_add=[("sync_partners", "Partners")], ondelete={"sync_partners": "cascade"}
    )


class SupplierSyncEnginePartners(models.AbstractModel):
    _inherit = "supplier.sync.engine"

    @api.model
    def _scheduled_moysklad_sync_partners(self, backend):
        return self.env["supplier.moysklad.partners"]._sync_partners(backend, trigger="cron")
