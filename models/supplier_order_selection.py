""""Send to supplier" and "Refresh supplier status" for a selection of sale orders, purchase
orders or transfers (issue 11): the list's Action menu (views/supplier_order_actions.xml).

Each record goes through the same button the form has (``action_supplier_send``,
``action_supplier_refresh_status``: MoySklad, IMSKLAD, Shate-M, whichever take it), so a record
sent from a list is sent exactly as from its form, with the same note on its chatter.

Decisions where the issue is silent:

- Rights first, for the whole selection: connector user rights, then the right to change (send)
  or read (refresh) every selected record. Then each record on its own, in a savepoint: a
  record refused (a ``UserError``, an unexpected error) rolls back only its own writes, gets the
  reason on its chatter, and the others go on. No commit: what went out stays in the one
  transaction of the call, as with the form's button.
- A record a button answers with a warning (the service refused it, a line was not sent) is
  "refused" too, its writes kept (the refusal is recorded on its rows, the key stays for the
  next attempt: never a second order).
- Skipped, with the reason, without a request: not confirmed (not validated for MoySklad's
  shipments and receipts, draft or cancelled transfers), no connection takes it, or already
  sent: every connection that takes it holds it (for Shate-M: no line left to send). Changes
  to an order already sent go from its form's button, which sends the changes; a selection
  sends what was not sent. For a refresh: never sent ("not sent yet"), or sent only where the
  status comes by itself (IMSKLAD's calls: "the warehouse reports its status itself", not
  "not sent yet", which read as if the order had not gone).
- One notification sums it up: "3 sent, 1 refused, 2 skipped", then the refused and the skipped
  records with their reasons, one line each kind.
"""

import logging

from odoo import models
from odoo.exceptions import UserError

from .chatter import post_note
from .error_messages import describe_error

_logger = logging.getLogger(__name__)


class SupplierOrderSelection(models.AbstractModel):
    """The two list actions, shared by sale orders, purchase orders and transfers.

    Each model says why one of its records is skipped: ``_supplier_send_skip_reason`` (below
    the mixin, per model) and ``_supplier_refresh_skip_reason``; False when it goes.
    """

    _name = "supplier.order.selection.mixin"
    _description = "Sent to suppliers from a list"

    def action_supplier_send_selection(self):
        """Send every selected record that has something to send; one summary."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        return self._supplier_for_each(
            "action_supplier_send", "_supplier_send_skip_reason",
            self.env._("Send to supplier"), self.env._("%s sent"),
        )

    def action_supplier_refresh_selection(self):
        """Read the supplier's status of every selected record that was sent; one summary."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        return self._supplier_for_each(
            "action_supplier_refresh_status", "_supplier_refresh_skip_reason",
            self.env._("Refresh supplier status"), self.env._("%s refreshed"),
        )

    def _supplier_for_each(self, method, skip_reason, title, done_text):
        done = 0
        refused, skipped = [], []
        for record in self:
            reason = getattr(record, skip_reason)()
            if reason:
                skipped.append((record, reason))
                continue
            try:
                with self.env.cr.savepoint():
                    action = getattr(record, method)()
            except Exception as exc:  # noqa: BLE001 — one record never stops the others
                if isinstance(exc, UserError):
                    reason = exc.args[0]
                else:
                    _logger.exception("%s of %s failed", method, record.display_name)
                    reason = describe_error(self.env, exc, log=False)
                post_note(record, reason)
                refused.append((record, reason))
                continue
            params = (action.get("params") if isinstance(action, dict) else None) or {}
            if params.get("type") in ("warning", "danger"):
                refused.append((record, record._supplier_outcome_text(params.get("message"))))
            else:
                done += 1
        parts = [done_text % done]
        kind = "success" if done else "info"
        if refused:
            kind = "warning"
            parts.append(self.env._("%(count)s refused: %(records)s", count=len(refused),
                                    records=self._supplier_reasons(refused)))
        if skipped:
            parts.append(self.env._("%(count)s skipped: %(records)s", count=len(skipped),
                                    records=self._supplier_reasons(skipped)))
        action = self.env["product.product"]._supplier_notification("\n".join(parts), kind)
        action["params"]["title"] = title
        return action

    @staticmethod
    def _supplier_reasons(pairs):
        return "; ".join(f"{record.display_name} — {reason}" for record, reason in pairs)

    def _supplier_outcome_text(self, message):
        """A button's message on one line, without the record's name it starts with; a line
        that ends without a stop gets one, so two lines do not run into one sentence."""
        lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
        text = " ".join(
            line if index == len(lines) - 1 or line.endswith((".", ":", ";", "!", "?"))
            else line + "."
            for index, line in enumerate(lines)
        )
        prefix = f"{self.display_name}: "
        return text[len(prefix):] if text.startswith(prefix) else text

    def _supplier_pending(self, rows):
        """Whether ``rows`` (one connection's rows of this record) leave something to send."""
        return not rows or any(row.state != "sent" for row in rows)

    def _supplier_sent_reason(self, sides):
        """The common end of the skip reasons: ``sides`` [(connection takes it, something left
        to send there)]."""
        taking = [pending for takes, pending in sides if takes]
        if not taking:
            return self.env._("no connection takes it")
        if not any(taking):
            return self.env._("already sent")
        return False

    def _supplier_refresh_skip_reason(self):
        record = self.sudo()
        if record.moysklad_order_ids.filtered(lambda r: r.state == "sent" and r.external_id):
            return False
        # Sent to the IMSKLAD warehouse: sent indeed, its status comes by its own calls.
        if record.supplier_order_ids.filtered(lambda r: r.state == "sent"):
            return self.env._("the warehouse reports its status itself")
        return self.env._("not sent yet")


class SaleOrderSelection(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "supplier.order.selection.mixin"]

    def _supplier_send_skip_reason(self):
        if self.state != "sale":
            return self.env._("not confirmed")
        record = self.sudo()
        return self._supplier_sent_reason([
            (record.moysklad_backend_id, self._supplier_pending(record.moysklad_order_ids)),
            (record.supplier_backend_id, self._supplier_pending(record.supplier_order_ids)),
        ])


class PurchaseOrderSelection(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "supplier.order.selection.mixin"]

    def _supplier_send_skip_reason(self):
        if self.state not in ("purchase", "done"):
            return self.env._("not confirmed")
        record = self.sudo()
        return self._supplier_sent_reason([
            (record.moysklad_backend_id, self._supplier_pending(record.moysklad_order_ids)),
            (record.supplier_backend_id, bool(record._supplier_lines_to_send())),
        ])

    def _supplier_refresh_skip_reason(self):
        rows = self.sudo().supplier_order_ids.filtered(lambda r: r.state == "sent" and r.external_id)
        return False if rows else super()._supplier_refresh_skip_reason()


class StockPickingSelection(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "supplier.order.selection.mixin"]

    def _supplier_send_skip_reason(self):
        if self.state in ("draft", "cancel"):
            return self.env._("draft or cancelled")
        record = self.sudo()
        if record.moysklad_backend_id and self.state != "done":
            return self.env._("not validated")
        return self._supplier_sent_reason([
            (record.moysklad_backend_id, self._supplier_pending(record.moysklad_order_ids)),
            (record.imsklad_can_send, self._supplier_pending(record.supplier_order_ids)),
        ])
