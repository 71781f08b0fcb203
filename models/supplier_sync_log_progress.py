"""How far a run under way got: done / total and an estimated end, from its saved counters.

A scheduled run (and a "Sync now" sent to the background) saves its counters at every
checkpoint, i.e. after every batch, in its own committed transaction: the log read by the user
meanwhile shows them. The run states its ``total`` when it starts (the products it will ask);
the estimated end assumes the remaining items take as long each as those done so far
(``duration`` is the time from the start to the last checkpoint).
"""

from datetime import timedelta

from odoo import api, fields, models


class SupplierSyncLogProgress(models.Model):
    _inherit = "supplier.sync.log"

    total = fields.Integer(readonly=True, help="Items this run set out to process.")
    progress = fields.Float(
        string="Progress (%)", compute="_compute_progress", digits=(16, 0),
        help="Items processed out of the run's total.",
    )
    progress_label = fields.Char(string="Done", compute="_compute_progress")
    estimated_end = fields.Datetime(
        compute="_compute_progress",
        help="While the run is under way: when it should end at the pace of the batches done.",
    )

    @api.depends("state", "processed", "total", "start", "duration")
    def _compute_progress(self):
        for log in self:
            total, done = log.total, log.processed
            log.progress = min(100.0, 100.0 * done / total) if total else 0.0
            log.progress_label = (
                self.env._("%(done)s of %(total)s", done=done, total=total) if total else False
            )
            log.estimated_end = (
                log.start + timedelta(seconds=log.duration * total / done)
                if log.state == "running" and log.start and total and 0 < done < total
                else False
            )
