"""Purchase orders sent to a supplier (Shate-M): lines, their status, what the buyer sees.

Decisions where the issue is silent:

- **Expected arrival**: when the supplier's answer gives a line a delivery date, it becomes the
  line's ``date_planned`` (Odoo's "Expected Arrival", the receipt's scheduled date follows).
  A line without one keeps Odoo's date.
- **Refused line**: the supplier refused it when sending (the whole order, or this line's offer)
  or its status later says so (``REFUSED_STATUSES``: Shate-M 60 "refused by supplier", 180
  "cancelled"). ``supplier_refused`` marks it red in the lines, and the order gets one
  "supplier refused" activity for its buyer (the order's Buyer, else whoever sent it). While
  that activity is open no second one is created: refreshing the status, or another refused
  line, does not add activities. The refusal text is on the line (``supplier_message``: the
  line's own reason, else the order's); the order's chatter note names each refused line once
  (not again in the "not sent" list), and the "Supplier orders" tab keeps the order's reason.
  When some lines have their own reason, the other lines of that order say "Not ordered: the
  supplier refused the order because of another line" (not the order's reason, which read as
  if they were at fault), and the order's reason names each of the supplier's reasons once
  (Shate-M repeats them in its errors and its descriptions).
- **Supplier location**: the location each line was ordered from is written on the line when
  it is sent (the one chosen, else the offer the connection's rule picked), and is read-only
  afterwards.
- **Lines added later**: a line added to the purchase order after its location's supplier
  order went out is sent in a follow-up order (key ``PO/location/2``, …), with the same
  look-up before sending; before, it stayed "to send" for ever.
- **Currencies**: as Odoo does with vendor prices, a purchase order is in the vendor's
  purchase currency (``property_purchase_currency_id``, the demo's Shate-M: BYN), else in the
  company's; the line's unit price is the vendor price (``product.supplierinfo``, in the
  supplier's currency) converted by Odoo to the order's currency. What is sent is the
  supplier's own offer (its price id), so the supplier charges its price in its currency: the
  line shows it as "Supplier price" (the offer's price and currency) when the order is in
  another currency, and a price change the supplier reports names that currency.
- **Quantity above the supplier's stock**: the line's offer (its chosen location's, else the
  best one) has less than the line asks. This warns and does not block: suppliers usually
  accept back-orders, and the supplier itself refuses what it cannot take (then the line is
  refused as above). The warning is on the line (``supplier_stock_warning``, a column) and
  listed on the form above the lines (``supplier_stock_warning``); "Send to supplier" then
  asks to confirm, and the note written after sending lists those lines again, with the stock
  of the fresh offers the send fetched first.
"""

from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.float_utils import float_compare

from ..api.errors import ApiError, OutcomeUnknown
from ..services import ADAPTERS
from .chatter import post_note
from .error_messages import describe_error
from .sync_run import SyncRun

# Status codes that mean the supplier will not deliver the line, per service (FIELD-NOTES).
REFUSED_STATUSES = {"shate": {"60", "180"}}


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    supplier_location_id = fields.Many2one(
        "supplier.location",
        string="Supplier location",
        help="Order this line from this location; empty: the offer chosen by the connection's rule.",
    )
    supplier_order_id = fields.Many2one("supplier.order", readonly=True, copy=False)
    supplier_item_id = fields.Char(string="Supplier line", readonly=True, copy=False)
    supplier_status_code = fields.Char(readonly=True, copy=False)
    supplier_status = fields.Char(string="Supplier status", readonly=True, copy=False)
    supplier_status_final = fields.Boolean(readonly=True, copy=False)
    supplier_status_history = fields.Text(readonly=True, copy=False)
    supplier_message = fields.Char(readonly=True, copy=False)
    supplier_refused = fields.Boolean(
        string="Refused by supplier", readonly=True, copy=False,
        help="The supplier refused this line: it will not be delivered as ordered.",
    )
    supplier_stock_warning = fields.Char(
        string="Stock warning", compute="_compute_supplier_stock_warning",
        help="The line asks for more than the supplier's stock at its location (from the last "
        "offers). Sending is allowed: the supplier may accept a back-order or refuse the line.",
    )
    supplier_price_currency_id = fields.Many2one(
        "res.currency", string="Supplier currency", compute="_compute_supplier_price"
    )
    supplier_price = fields.Monetary(
        string="Supplier price", currency_field="supplier_price_currency_id",
        compute="_compute_supplier_price",
        help="The supplier's price of the offer this line is ordered from, in the supplier's "
        "currency: what the supplier charges. The unit price is in the order's currency "
        "(converted by Odoo from the vendor price when the two differ).",
    )

    @api.depends("product_id", "supplier_location_id", "order_id.partner_id")
    def _compute_supplier_price(self):
        """One search of the mappings per connection, none per line (as the stock warning)."""
        self.supplier_price = False
        self.supplier_price_currency_id = False
        lines = self.filtered(
            lambda line: line.product_id and not line.display_type
            and line.order_id.supplier_backend_id
        )
        for backend, backend_lines in lines.grouped(
            lambda line: line.order_id.supplier_backend_id
        ).items():
            bindings = self.env["supplier.product"].sudo().search(
                [("backend_id", "=", backend.id), ("product_id", "in", backend_lines.product_id.ids)]
            )
            by_product = {binding.product_id.id: binding for binding in bindings}
            for line in backend_lines:
                binding = by_product.get(line.product_id.id)
                offer = line._supplier_offer(binding)
                if offer and offer.price:
                    line.supplier_price = offer.price
                    line.supplier_price_currency_id = offer.currency_id
                elif binding and binding.price:
                    line.supplier_price = binding.price
                    line.supplier_price_currency_id = binding.currency_id

    @api.depends("product_id", "product_qty", "supplier_location_id", "supplier_item_id",
                 "order_id.partner_id")
    def _compute_supplier_stock_warning(self):
        """One search of the mappings per connection, none per line."""
        self.supplier_stock_warning = False
        # A refused line shows the supplier's reason instead (it says the same, with authority).
        pending = self.filtered(
            lambda line: line.product_id and not line.display_type and not line.supplier_item_id
            and not line.supplier_refused and line.product_qty > 0
            and line.order_id.supplier_backend_id
        )
        for backend, lines in pending.grouped(lambda line: line.order_id.supplier_backend_id).items():
            bindings = self.env["supplier.product"].sudo().search(
                [("backend_id", "=", backend.id), ("product_id", "in", lines.product_id.ids)]
            )
            by_product = {binding.product_id.id: binding for binding in bindings}
            for line in lines:
                offer = line._supplier_offer(by_product.get(line.product_id.id))
                line.supplier_stock_warning = line._supplier_stock_text(offer, short=True)

    def _supplier_offer(self, binding):
        """The offer this line would be ordered from (its location's, else the best one)."""
        if not binding:
            return self.env["supplier.offer"]
        offers = binding.offer_ids.filtered("external_offer_id")
        if self.supplier_location_id:
            return offers.filtered(lambda o: o.location_id == self.supplier_location_id)[:1]
        return offers.filtered(lambda o: o.is_best and o.quantity > 0)[:1]

    def _supplier_stock_text(self, offer, short=False):
        """The warning of a quantity above ``offer``'s stock; ``short`` for the line's column."""
        if not offer or float_compare(
            self.product_qty, offer.quantity, precision_rounding=self.product_uom.rounding or 0.01
        ) <= 0:
            return False
        if short:
            return self.env._("only %(stock)s in stock", stock=format(offer.quantity, "g"))
        return self.env._(
            "%(asked)s asked, %(stock)s in stock at %(location)s",
            asked=format(self.product_qty, "g"), stock=format(offer.quantity, "g"),
            location=offer.location_id.display_name or offer.location_code,
        )


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    supplier_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_supplier_backend", string="Supplier connection"
    )
    supplier_order_ids = fields.One2many("supplier.order", "purchase_id", string="Supplier orders")
    supplier_lines_to_send = fields.Integer(
        compute="_compute_supplier_lines_to_send",
        help="Lines not at the supplier yet: 'Send to supplier' is offered while there are some.",
    )
    supplier_stock_warning = fields.Text(
        string="Above the supplier's stock", compute="_compute_supplier_stock_warning",
        help="Lines not sent yet that ask for more than the supplier's stock at their location.",
    )
    supplier_other_currency = fields.Boolean(
        compute="_compute_supplier_other_currency",
        help="The supplier quotes in another currency than the order's: the lines show the "
        "supplier's price beside the unit price.",
    )

    supplier_line_notes = fields.Boolean(
        string="Lines have supplier notes", compute="_compute_supplier_line_notes",
        help="Some line has a supplier note (a refusal, no offer, not mapped): the lines show the "
        "column only then, so the order fits a laptop screen otherwise.",
    )

    @api.depends("order_line.supplier_message")
    def _compute_supplier_line_notes(self):
        for order in self:
            order.supplier_line_notes = any(order.order_line.mapped("supplier_message"))

    @api.depends("currency_id", "order_line.supplier_price_currency_id")
    def _compute_supplier_other_currency(self):
        for order in self:
            currencies = order.order_line.supplier_price_currency_id
            order.supplier_other_currency = bool(currencies - order.currency_id)

    @api.depends("order_line.supplier_stock_warning")
    def _compute_supplier_stock_warning(self):
        for order in self:
            warned = order.order_line.filtered("supplier_stock_warning")
            if not warned:
                order.supplier_stock_warning = False
                continue
            bindings = self.env["supplier.product"].sudo().search([
                ("backend_id", "=", order.supplier_backend_id.id),
                ("product_id", "in", warned.product_id.ids),
            ])
            by_product = {binding.product_id.id: binding for binding in bindings}
            order.supplier_stock_warning = "\n".join(
                f"{line.product_id.display_name}: "
                f"{line._supplier_stock_text(line._supplier_offer(by_product.get(line.product_id.id)))}"
                for line in warned
            )

    @api.depends("order_line.supplier_item_id", "order_line.product_qty")
    def _compute_supplier_lines_to_send(self):
        for order in self:
            order.supplier_lines_to_send = len(order._supplier_lines_to_send())

    def _supplier_lines_to_send(self):
        return self.order_line.filtered(
            lambda line: line.product_id and not line.display_type and line.product_qty > 0
            and not line.supplier_item_id and line.supplier_order_id.state != "sent"
        )

    @api.depends("partner_id", "company_id")
    def _compute_supplier_backend(self):
        services = [s for s, adapter in ADAPTERS.items() if "push_purchase" in adapter.operations]
        backends = self.env["supplier.backend"].sudo().search([("service", "in", services)])
        by_partner = {(b.partner_id.commercial_partner_id, b.company_id): b for b in reversed(backends)}
        for order in self:
            key = (order.partner_id.commercial_partner_id, order.company_id)
            order.supplier_backend_id = by_partner.get(key, False)

    # -- send -------------------------------------------------------------------------------
    def action_supplier_send(self):
        """Send the confirmed order's lines to the supplier, one supplier order per location.

        Fresh offers first (price ids go stale), then per location: lines already in a sent
        order are not sent again, an order a previous attempt may have created is looked up by
        its key and adopted, only then is it sent; lines added after their location's order went
        out go in a follow-up order (``_supplier_order_for``). Lines above the supplier's stock
        are sent as back-orders (see the module docstring).
        """
        self.env["supplier.backend"]._check_right("user")
        self.ensure_one()
        self.check_access("write")
        self.supplier_backend_id._check_right("user")
        backend = self._supplier_backend_for_send()
        lines = self._supplier_lines_to_send()
        if not lines:
            raise UserError(self.env._("Every line of %s was already sent.", self.name))
        bindings = self.env["supplier.product"].sudo().search(
            [("backend_id", "=", backend.id), ("product_id", "in", lines.product_id.ids)]
        )
        self.env["supplier.sync.engine"]._run_offers(backend, trigger="manual", bindings=bindings)
        plan = self._supplier_plan(lines, bindings)
        # Read before sending (the offers the lines go out with); told only for lines sent.
        above_stock = [
            (line, warning)
            for location_pairs in plan.values() for line, offer in location_pairs
            if (warning := line._supplier_stock_text(offer))
        ]
        adapter = backend._adapter()
        outcomes = [self._supplier_send_location(adapter, backend, location, pairs)
                    for location, pairs in plan.items()]
        backend._save_adapter_state(adapter)
        outcomes += [
            self.env._("%(product)s: %(warning)s (sent as a back-order).",
                       product=line.product_id.display_name, warning=warning)
            for line, warning in above_stock if line.supplier_item_id
        ]
        # Refused lines were named with their order's outcome: not again here.
        not_sent = lines.filtered(
            lambda line: line.supplier_message and not line.supplier_item_id
            and not line.supplier_refused
        )
        outcomes += [
            self.env._("%(product)s: not sent. %(reason)s",
                       product=line.product_id.display_name, reason=line.supplier_message)
            for line in not_sent
        ]
        outcomes = list(filter(None, outcomes)) or [self.env._("Nothing could be sent.")]
        summary = "\n".join(outcomes)
        # One paragraph per outcome on the chatter (a plain text note loses its line breaks).
        post_note(self, Markup("<br/>").join(outcomes))
        failed = self.supplier_order_ids.filtered(lambda o: o.state != "sent")
        kind = "warning" if failed or lines.filtered("supplier_message") else "success"
        return self.env["product.product"]._supplier_notification(summary, kind)

    def _supplier_backend_for_send(self):
        if self.state not in ("purchase", "done"):
            raise UserError(self.env._("Confirm the purchase order before sending it."))
        backend = self.supplier_backend_id
        if not backend:
            raise UserError(self.env._("No supplier connection takes orders for this vendor."))
        backend._check_operation("push_purchase")
        backend._check_ready_to_order()
        return backend.sudo()

    def _supplier_plan(self, lines, bindings):
        """location code → [(line, offer)]; lines that cannot be ordered get a message."""
        by_product = {binding.product_id: binding for binding in bindings}
        plan = defaultdict(list)
        for line in lines:
            binding = by_product.get(line.product_id)
            if not binding:
                line.supplier_message = self.env._("Not mapped to this supplier.")
                continue
            offers = binding.offer_ids.filtered(lambda o: o.quantity > 0 and o.external_offer_id)
            chosen = line.supplier_location_id
            by_location = {offer.location_id: offer for offer in offers}
            offer = by_location.get(chosen) if chosen else offers.filtered("is_best")[:1]
            if not offer:
                line.supplier_message = (
                    self.env._("No offer in stock at %(location)s.", location=chosen.display_name)
                    if chosen else self.env._("No offer in stock at the allowed locations.")
                )
                continue
            line.write({"supplier_message": False, "supplier_refused": False})
            plan[offer.location_code].append((line, offer))
        return plan

    def _supplier_send_location(self, adapter, backend, location, pairs):
        order = self._supplier_order_for(backend, location)
        key = order.key
        since = (self.date_approve or self.create_date) - timedelta(days=1)
        try:
            found = adapter.find_sent_order(key, since)
            if found:
                self._supplier_apply_order(adapter, order, found, pairs, [])
                return self.env._("%(key)s: found at the supplier as order %(id)s (not sent again).",
                                  key=key, id=found.id)
            result = adapter.send_order(
                key, [(offer.external_offer_id, line.product_qty) for line, offer in pairs],
                accept_terms=True, accept_personal_data=True,
            )
        except OutcomeUnknown as exc:
            order.write({"state": "sending", "last_error": describe_error(self.env, exc)})
            return self.env._("%(key)s: no answer; press Send again to check and finish.", key=key)
        except ApiError as exc:
            order.write({"state": "error", "last_error": describe_error(self.env, exc)})
            return f"{key}: {order.last_error}"
        if not result.created:
            self._supplier_refused(order, result, pairs)
            return f"{key}: {self._supplier_refusal_summary(order, pairs)}"
        self._supplier_apply_order(adapter, order, result.orders[0], pairs, result.warnings)
        return self.env._("%(key)s: sent as order %(id)s.", key=key, id=order.external_id)

    def _supplier_order_for(self, backend, location):
        """The supplier order these lines go in: the location's one not sent yet (a previous
        attempt's, whose key is looked up before sending again), else a new one. Lines added
        after the location's order went out get a follow-up order, key ``PO/location/2``…"""
        SupplierOrder = self.env["supplier.order"].sudo()
        base = f"{self.name}/{location}"
        existing = SupplierOrder.search([
            ("backend_id", "=", backend.id), "|", ("key", "=", base), ("key", "=like", f"{base}/%"),
        ])
        pending = existing.filtered(lambda o: o.state != "sent")[:1]
        if pending:
            return pending
        return SupplierOrder.create({
            "backend_id": backend.id, "purchase_id": self.id, "location_code": location,
            "key": f"{base}/{len(existing) + 1}" if existing else base,
        })

    def _supplier_apply_order(self, adapter, order, supplier_order, pairs, warnings):
        statuses = self._supplier_statuses(order.backend_id)
        by_article = defaultdict(list)
        for line, offer in pairs:
            by_article[offer.binding_id.external_id].append((line, offer))
        for item in supplier_order.items:
            article_id = str(item.article.id) if item.article else ""
            candidates = by_article.get(article_id) or []
            if not candidates:
                continue
            line, offer = candidates.pop(0)
            code = str(item.status_code) if item.status_code is not None else ""
            refused = code in REFUSED_STATUSES.get(order.backend_id.service, ())
            extra = {"date_planned": item.delivery_date} if item.delivery_date else {}
            if offer.location_id and not line.supplier_location_id:
                extra["supplier_location_id"] = offer.location_id.id
            line.write({
                **extra,
                "supplier_refused": refused,
                "supplier_order_id": order.id,
                "supplier_item_id": str(item.id),
                "supplier_status_code": code,
                "supplier_status": statuses.get(code, (code, False))[0],
                "supplier_status_final": statuses.get(code, (code, False))[1],
                "supplier_message": "; ".join(
                    self._supplier_warning(adapter, warning, offer.currency_id)
                    for warning in item.warnings
                ) or False,
            })
        # A line the answer does not list is still in this order: never sent again.
        for candidates in by_article.values():
            for line, _offer in candidates:
                line.write({"supplier_order_id": order.id, "supplier_message": self.env._(
                    "Sent in order %(id)s, not listed in the supplier's answer.",
                    id=supplier_order.id,
                )})
        order.write({
            "state": "sent", "external_id": str(supplier_order.id),
            "sent_at": fields.Datetime.now(),
            "last_error": "; ".join(warnings) or False,
        })
        refused = order.line_ids.filtered("supplier_refused")
        if refused:
            self._supplier_refusal_activity(refused)

    def _supplier_warning(self, adapter, warning, currency=None):
        """A warning in plain words: a price change becomes "Price changed from X to Y", in
        the supplier's currency (the offer's), which may not be the order's."""
        change = adapter.price_change(warning)
        if not change:
            return warning
        if currency:
            return self.env._(
                "Price changed from %(old).2f to %(new).2f %(currency)s.",
                old=change[0], new=change[1], currency=currency.name,
            )
        return self.env._("Price changed from %(old).2f to %(new).2f.", old=change[0], new=change[1])

    def _supplier_refused(self, order, result, pairs):
        """Nothing was created: each line says why (its own errors, else the order's)."""
        # Shate-M repeats its reason in errors and in the descriptions: each reason once.
        reasons = list(dict.fromkeys(result.errors + list(result.error_descriptions.values())))
        order_reason = self.env._(
            "The supplier refused the order: %(reasons)s",
            reasons="; ".join(reasons) or result.error_code or "?",
        )
        line_errors = {error.price_id: error for error in result.price_item_errors}
        for line, offer in pairs:
            error = line_errors.get(offer.external_offer_id)
            if error:
                message = "; ".join(error.errors) or self.env._("Refused.")
            elif line_errors:
                # Nothing wrong with this line: the order goes whole or not at all.
                message = self._supplier_other_line_text()
            else:
                message = order_reason
            line.write({"supplier_refused": True, "supplier_message": message})
        order.write({"state": "error", "last_error": order_reason})
        self._supplier_refusal_activity(self.env["purchase.order.line"].concat(
            *(line for line, _offer in pairs)
        ))

    def _supplier_other_line_text(self):
        return self.env._("Not ordered: the supplier refused the order because of another line.")

    def _supplier_refusal_summary(self, order, pairs):
        """The refusal once: the order's reason when no line has its own, else each line's."""
        own = [
            self.env._("%(product)s: %(reason)s",
                       product=line.product_id.display_name, reason=line.supplier_message)
            for line, _offer in pairs
            if line.supplier_message not in (order.last_error, self._supplier_other_line_text())
        ]
        if not own:
            return order.last_error
        return self.env._("The supplier refused: %(lines)s", lines="; ".join(own))

    @api.model
    def _supplier_refusal_activity(self, lines):
        """One open "refused by the supplier" activity per order, for its buyer.

        While one is open, more refused lines (another send, a status refresh) add none: the
        buyer sees them in red on the order the activity leads to.
        """
        activity_type = self.env.ref("mail.mail_activity_data_warning", raise_if_not_found=False) \
            or self.env.ref("mail.mail_activity_data_todo")
        orders = lines.order_id.sudo()
        open_ids = set(self.env["mail.activity"].sudo().search([
            ("res_model", "=", "purchase.order"), ("res_id", "in", orders.ids),
            ("activity_type_id", "=", activity_type.id),
            ("summary", "=", self._supplier_refusal_summary_title()),
        ]).mapped("res_id"))
        model_id = self.env["ir.model"]._get_id("purchase.order")
        today = fields.Date.context_today(self)
        values = []
        for order in orders.filtered(lambda o: o.id not in open_ids):
            user = order.user_id if order.user_id.active and not order.user_id.share \
                else self.env.user
            names = ", ".join(
                (lines & order.order_line).filtered("supplier_refused").product_id.mapped("display_name")
            )
            values.append({
                "res_model_id": model_id, "res_id": order.id,
                "activity_type_id": activity_type.id, "user_id": user.id,
                "date_deadline": today,
                "summary": self._supplier_refusal_summary_title(),
                "note": self.env._(
                    "Refused by the supplier: %(lines)s. Order these elsewhere or change the lines.",
                    lines=names,
                ),
            })
        if values:
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(values)

    @api.model
    def _supplier_refusal_summary_title(self):
        return self.env._("Lines refused by the supplier")

    @api.model
    def _supplier_statuses(self, backend):
        return {
            ref.code: (ref.name, ref.is_final)
            for ref in backend.reference_ids.filtered(lambda r: r.kind == "status")
        }

    # -- status -----------------------------------------------------------------------------
    def action_supplier_refresh_status(self):
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        self.supplier_order_ids.backend_id._check_right("user")
        logs = self.env["supplier.sync.log"]
        for backend in self.supplier_order_ids.backend_id:
            logs |= self._supplier_refresh_status(backend, "manual", self.sudo().supplier_order_ids)
        return logs[:1]._notification() if logs else True

    @api.model
    def _supplier_refresh_status(self, backend, trigger, orders=None):
        """Pull the status of every sent line not final yet; a change posts on the order."""
        backend = backend.sudo()
        orders = (orders or self.env["supplier.order"].sudo().search(
            [("backend_id", "=", backend.id)]
        )).filtered(lambda o: o.state == "sent" and o.external_id
                    and not all(o.line_ids.mapped("supplier_status_final")))
        run = SyncRun(self.env, backend, "pull_order_status", trigger)
        adapter = backend._adapter()
        statuses = self._supplier_statuses(backend)
        try:
            found = adapter.orders_by_id([int(o.external_id) for o in orders]) if orders else {}
            for order in orders:
                supplier_order = found.get(int(order.external_id))
                items = {str(i.id): i for i in supplier_order.items} if supplier_order else {}
                for line in order.line_ids.filtered("supplier_item_id"):
                    run.add(processed=1)
                    item = items.get(line.supplier_item_id)
                    code = str(item.status_code) if item and item.status_code is not None else ""
                    if not item or code == line.supplier_status_code:
                        run.add(unchanged=1)
                        continue
                    self._supplier_record_status(adapter, line, code, statuses)
                    run.add(updated=1)
        except ApiError as exc:
            run.stop(exc)
        return run.finish(adapter)

    @api.model
    def _supplier_record_status(self, adapter, line, code, statuses):
        name, final = statuses.get(code, (code, False))
        history = adapter.item_history(int(line.supplier_item_id))
        old = line.supplier_status or line.supplier_status_code
        refused = code in REFUSED_STATUSES.get(line.supplier_order_id.backend_id.service, ())
        line.write({
            "supplier_refused": refused,
            "supplier_status_code": code,
            "supplier_status": name,
            "supplier_status_final": final,
            "supplier_status_history": "\n".join(
                f"{fields.Datetime.to_string(change.changed_at) if change.changed_at else ''} "
                f"{statuses.get(str(change.status_code), (change.status_code,))[0]}"
                for change in history
            ),
        })
        post_note(line.order_id, self.env._(
            "%(product)s: supplier status %(old)s → %(new)s",
            product=line.product_id.display_name, old=old or "—", new=name,
        ))
        if refused:
            self._supplier_refusal_activity(line)
