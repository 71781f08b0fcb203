"""Every change of a binding's price, and the alerts on large moves (DESIGN §3).

Decisions where the issue is silent:

- **What is a change**: the price without VAT (``supplier.product.price``) or its currency
  differs from what the binding had (4 decimals). The first price a binding ever gets is kept
  too (old price 0), so the chart starts at the first known price; it is never an alert.
- **Written** by the offer writer in the same bulk step as the prices: one ``create`` of the
  batch's changes, nothing at all when no price changed. A row keeps its run (``log_id``,
  emptied when old logs are cleaned) so "which run" is answered while the log exists.
- **Alert**: a change whose size, relative to the old price in the same currency, is above the
  connection's "Price alert (%)" (``supplier.backend.price_alert_percent``; 0 = no alerts).
  One activity per change: a later run with the same price writes no row, hence no activity.
  It goes to the product's Responsible (Inventory tab, in the connection's company) when that
  user is an active internal user, else to the connection's "Price alerts to" user, else to
  the administrator (``base.user_admin``). A price that falls to 0 (the supplier quotes none)
  is kept but is no alert: it is no move of the price. No e-mail per activity (Odoo's "assigned to you"
  mail is skipped): a supplier repricing its catalogue would otherwise send hundreds.
- **Chatter**: a move above the threshold (the same rows that get an activity) also leaves a
  note on the product's chatter: which connection, old → new price, the change in %. Moves
  under the threshold are not posted: they are in the product's price chart and history, and
  a supplier repricing its catalogue by a few percent must not post a message per product.
  One note per product per batch (a product with several bindings of the connection gets one
  note listing them), all posted with one ``_message_log_batch`` (one ``create`` of messages,
  no notification, no follower look-up per product). Threshold 0 posts nothing.
- **Currencies**: a row keeps the supplier's currency (``currency_id``, and
  ``old_currency_id`` for the old price). When a supplier switches currency, the move is
  measured against the old price converted to the new currency at the day's rate (a switch at
  the same value is no move). The **chart** compares suppliers that quote in different
  currencies (ETM in RUB, Shate-M in BYN): it plots ``new_price_company``, the new price in the
  company currency at the rate of the day of the change, stored with the row. Stored rather
  than converted when read, so a chart shows what each price was worth when it was quoted
  (a later rate does not redraw the past) and Odoo's graph and pivot can average it in SQL;
  rather than grouped by currency, so that one chart puts every supplier on one scale.
- **"Moved by more than X %"** in lists and filters reads the connection's *current*
  threshold (``above_threshold``), so lowering it lists the earlier moves too.
- **"Price moved recently"** on products: a change (not a first price) in the last
  ``RECENT_DAYS`` days.
"""

from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools.float_utils import float_compare, float_is_zero

from .company_currency import converters

RECENT_DAYS = 7


def percent_change(old, new):
    """Signed change from ``old`` to ``new`` in percent; 0 when there was no old price."""
    if float_is_zero(old or 0.0, precision_digits=4):
        return 0.0
    return (new - old) / abs(old) * 100.0


class SupplierPriceHistory(models.Model):
    """One change of one binding's price: old and new, currency, when, by which run."""

    _name = "supplier.price.history"
    _description = "Supplier price change"
    _order = "date desc, id desc"
    _rec_name = "binding_id"

    binding_id = fields.Many2one(
        "supplier.product", string="Mapping", required=True, ondelete="cascade", index=True
    )
    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, precompute=True
    )
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade", index=True)
    product_tmpl_id = fields.Many2one(
        related="product_id.product_tmpl_id", store=True, index=True, precompute=True,
        string="Product template",
    )
    currency_id = fields.Many2one("res.currency", required=True)
    old_currency_id = fields.Many2one(
        "res.currency", string="Old currency",
        help="The currency of the old price, when the supplier switched currency.",
    )
    old_price = fields.Monetary(currency_field="old_currency_id", aggregator="avg")
    new_price = fields.Monetary(string="Price", aggregator="avg")
    company_currency_id = fields.Many2one(
        "res.currency", string="Company currency",
        compute="_compute_new_price_company", store=True, precompute=True,
    )
    new_price_company = fields.Monetary(
        string="Converted price", currency_field="company_currency_id", aggregator="avg",
        compute="_compute_new_price_company", store=True, precompute=True,
        help="The new price in the company currency, at the rate of the day of the change: "
        "the chart compares suppliers that quote in different currencies with it.",
    )
    change_percent = fields.Float(
        string="Change (%)", digits=(16, 2), aggregator="avg",
        help="Relative to the old price (converted at the day's rate when the supplier "
        "changed currency); 0 for a first price.",
    )
    is_first = fields.Boolean(string="First price", help="The first price this mapping received.")
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    log_id = fields.Many2one("supplier.sync.log", string="Run", ondelete="set null", index=True)
    alert_sent = fields.Boolean(
        string="Alert", readonly=True,
        help="The move was above the connection's threshold: an activity was posted.",
    )
    above_threshold = fields.Boolean(
        string="Moved more than the threshold",
        compute="_compute_above_threshold",
        search="_search_above_threshold",
        help="The move is larger than the connection's current 'Price alert (%)'.",
    )

    @api.depends("new_price", "currency_id", "date", "company_id")
    def _compute_new_price_company(self):
        """Stored at the change, with that day's rate (see the module docstring)."""
        get = converters()
        for row in self:
            company = row.company_id or row.backend_id.company_id or self.env.company
            converter = get(company)
            day = fields.Date.to_date(row.date) if row.date else converter.date
            row.company_currency_id = converter.currency
            row.new_price_company = converter.convert(row.new_price, row.currency_id, day)

    @api.depends("change_percent", "backend_id.price_alert_percent")
    def _compute_above_threshold(self):
        for row in self:
            threshold = row.backend_id.price_alert_percent
            row.above_threshold = (
                bool(threshold) and abs(row.change_percent) > threshold
                and not float_is_zero(row.new_price, precision_digits=4)
            )

    def _search_above_threshold(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(self.env._("Unsupported search on 'Moved more than the threshold'."))
        # One condition per threshold in use: each connection has its own.
        groups = self.env["supplier.backend"].sudo().with_context(active_test=False)._read_group(
            [("price_alert_percent", ">", 0)], ["price_alert_percent"], ["id:array_agg"]
        )
        above = expression.OR([
            [("backend_id", "in", backend_ids), ("new_price", "!=", 0), "|",
             ("change_percent", ">", threshold), ("change_percent", "<", -threshold)]
            for threshold, backend_ids in groups
        ]) if groups else expression.FALSE_DOMAIN
        if (operator == "=") == value:
            return above
        return ["!", *expression.normalize_domain(above)]

    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.backend_id.name} · {row.product_id.display_name}"

    # -- writing (the offer writer) -----------------------------------------------------------
    @api.model
    def _changes(self, binding, vals):
        """The history row of ``binding`` taking ``vals`` (offer writer values), or None."""
        if "price" not in vals:
            return None
        new_price = vals["price"] or 0.0
        currency_id = vals.get("currency_id") or binding.currency_id.id
        old_currency_id = binding.currency_id.id
        first = not binding.last_sync and float_is_zero(binding.price, precision_digits=4)
        if first and float_is_zero(new_price, precision_digits=4):
            return None
        same_currency = not old_currency_id or old_currency_id == currency_id
        if same_currency and not first and not float_compare(
            binding.price, new_price, precision_digits=4
        ):
            return None
        old_price = binding.price
        if not same_currency and not first:
            # The move is measured in the new currency: the old price at today's rate.
            old_price = binding.currency_id._convert(
                binding.price, self.env["res.currency"].browse(currency_id),
                binding.backend_id.company_id, fields.Date.context_today(self), round=False,
            )
        return {
            "binding_id": binding.id,
            "backend_id": binding.backend_id.id,
            "product_id": binding.product_id.id,
            "currency_id": currency_id,
            "old_currency_id": old_currency_id or currency_id,
            "old_price": 0.0 if first else binding.price,
            "new_price": new_price,
            "change_percent": 0.0 if first else percent_change(old_price, new_price),
            "is_first": first,
        }

    @api.model
    def _record(self, backend, rows, log=None):
        """Create the batch's rows in one ``create``; post the alerts of those above the
        connection's threshold. Returns the rows created."""
        if not rows:
            return self.browse()
        now = fields.Datetime.now()
        threshold = backend.price_alert_percent
        for row in rows:
            row["date"] = now
            row["log_id"] = log.id if log else False
            row["alert_sent"] = (
                bool(threshold) and abs(row["change_percent"]) > threshold
                and not float_is_zero(row["new_price"], precision_digits=4)
            )
        history = self.sudo().create(rows)
        alerts = history.filtered("alert_sent")
        if alerts:
            alerts._post_alerts(backend)
            alerts._post_chatter(backend)
        return history

    def _post_chatter(self, backend):
        """One note per product on its chatter, in one batch (see the module docstring)."""
        lines = {}
        for row in self:
            sign = "+" if row.change_percent > 0 else ""
            lines.setdefault(row.product_tmpl_id.id, []).append(self.env._(
                "%(code)s: %(old)s → %(new)s %(currency)s (%(change)s %%)",
                code=row.binding_id.external_code or row.product_id.display_name,
                old=format(row.old_price, ".2f"), new=format(row.new_price, ".2f"),
                currency=row.currency_id.name, change=sign + format(row.change_percent, ".1f"),
            ))
        title = self.env._(
            "Price moved at %(connection)s (alert above %(threshold)s %%):",
            connection=backend.name, threshold=format(backend.price_alert_percent, "g"),
        )
        bodies = {
            template_id: Markup("<p>%s</p><ul>%s</ul>") % (
                title, Markup("").join(Markup("<li>%s</li>") % text for text in texts)
            )
            for template_id, texts in lines.items()
        }
        self.env["product.template"].sudo().browse(list(bodies))._message_log_batch(bodies)

    def _post_alerts(self, backend):
        """One activity per row, on the product, for its buyer (see the module docstring)."""
        activity_type = self.env.ref(
            "supplier_connector.mail_activity_type_price_moved", raise_if_not_found=False
        ) or self.env.ref("mail.mail_activity_data_todo")
        fallback = backend.price_alert_user_id or self.env.ref(
            "base.user_admin", raise_if_not_found=False
        )
        templates = self.product_tmpl_id.with_company(backend.company_id)
        model_id = self.env["ir.model"]._get_id("product.template")
        today = fields.Date.context_today(self)
        values = []
        for row in self:
            template = templates.browse(row.product_tmpl_id.id)
            user = template.responsible_id
            if not user or not user.active or user.share:
                user = fallback
            sign = "+" if row.change_percent > 0 else ""
            values.append({
                "res_model_id": model_id,
                "res_id": template.id,
                "activity_type_id": activity_type.id,
                "user_id": user.id if user else False,
                "date_deadline": today,
                "summary": self.env._(
                    "%(connection)s: price moved by %(change)s %%",
                    connection=backend.name, change=sign + format(row.change_percent, ".1f"),
                ),
                "note": self.env._(
                    "%(connection)s (%(code)s): price %(old)s → %(new)s %(currency)s "
                    "(%(change)s %%, alert above %(threshold)s %%).",
                    connection=backend.name,
                    code=row.binding_id.external_code,
                    old=format(row.old_price, ".2f"),
                    new=format(row.new_price, ".2f"),
                    currency=row.currency_id.name,
                    change=sign + format(row.change_percent, ".1f"),
                    threshold=format(backend.price_alert_percent, "g"),
                ),
            })
        # No assignment e-mail per activity (a supplier repricing its catalogue would send
        # hundreds): the buyer finds them in the activity menu and on the product.
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(values)

    # -- reading ------------------------------------------------------------------------------
    @api.model
    def _recent_move_domain(self):
        """History rows that are a real move (not a first price) of the last ``RECENT_DAYS``."""
        since = fields.Datetime.now() - timedelta(days=RECENT_DAYS)
        return [("is_first", "=", False), ("date", ">=", since)]

    @api.model
    def _action_open(self, domain, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "supplier_connector.action_supplier_price_history"
        )
        action["domain"] = domain
        action["context"] = dict(context or {})
        return action
