"""UDOMA marketplace orders pulled into sale orders (``export-orders``), exactly once.

- Per shop, the window (the shop's "orders pulled until", now]: ``dateFromUtc`` is exclusive,
  ``dateToUtc`` inclusive, both to the second, so an order stamped inside a second after ``now``
  falls in the next window. The first pull of a shop asks the last FIRST_PULL_DAYS days.
  The watermark moves to ``now`` only when every order of the window was processed; an order
  that could not be created keeps the window open (the next pull asks it again).
- Exactly once: the sale order itself is the binding. It carries the connection and UDOMA's
  ``orderId`` with a unique constraint on the pair. Not a ``supplier.order`` row: those are the
  orders Odoo sends to a warehouse (models/sale.py shows their exchange state on the order), a
  marketplace order comes the other way. Orders already in Odoo are looked up by id for the
  whole window in one query and skipped, so the same window pulled twice, overlapping windows,
  or a crash between the orders' creation and the watermark create nothing twice.
- An order: the shop's customer, else the connection's marketplace partner; the shop's
  warehouse; ``client_order_ref`` = the ticket number; the order date = ``dateUtc``; the payment
  method on the order; positions by ``nomenclatureSourceSystemId`` (the mapping's code) with
  the quantity and the price as bought, which the buyer paid taxes included (a line whose
  taxes are added to the price gets the price without them, so the order's total is what was
  paid); the delivery cost as a delivery line of the connection's delivery product. Positions whose product
  is unknown are kept as note lines (code, quantity, price), posted on the order's chatter and
  listed in the log: nothing is dropped, and the order can be completed by hand.
- Confirmed at once when the connection says so; a confirmation that fails leaves the order a
  quotation, with the reason on its chatter.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.errors import ApiError
from .backend_udoma import udoma_error
from .chatter import post_note
from .error_messages import describe_error
from .run_lock import exclusive_run
from .sync_run import SyncRun
from .udoma_push import stops_run

_logger = logging.getLogger(__name__)

FIRST_PULL_DAYS = 30
ORDERS_PER_CHECKPOINT = 100


class SaleOrderUdoma(models.Model):
    _inherit = "sale.order"

    udoma_backend_id = fields.Many2one(
        "supplier.backend", string="UDOMA connection", readonly=True, copy=False, index=True,
    )
    udoma_shop_id = fields.Many2one(
        "supplier.location", string="UDOMA shop", readonly=True, copy=False,
    )
    udoma_order_id = fields.Char(string="UDOMA order ID", readonly=True, copy=False)
    udoma_payment_method = fields.Selection(
        [("terminal", "Card terminal"), ("cash", "Cash"), ("other", "Other")],
        string="Marketplace payment", readonly=True, copy=False,
    )
    udoma_unknown_lines = fields.Text(
        string="Unknown marketplace products", readonly=True, copy=False,
        help="Positions of the UDOMA order whose product is not mapped in Odoo: add them by hand.",
    )

    _sql_constraints = [
        ("udoma_order_unique", "UNIQUE(udoma_backend_id, udoma_order_id)",
         "A UDOMA order is pulled once per connection."),
    ]


class SupplierBackendUdomaOrders(models.Model):
    _inherit = "supplier.backend"

    def _udoma_pull_orders_access(self):
        """Pulling marketplace orders creates sale orders: the caller must be allowed to."""
        self.env["sale.order"].check_access("create")

    def _udoma_pull_orders(self):
        """The marketplace orders of every shop since the last pull, into sale orders."""
        with exclusive_run(self.env, self, "pull_orders"):
            return self.env["supplier.udoma.orders"]._pull(self, trigger="manual")


class SupplierUdomaOrders(models.AbstractModel):
    _name = "supplier.udoma.orders"
    _description = "UDOMA order pull"

    @api.model
    def _pull(self, backend, trigger="manual", now=None):
        backend = backend.sudo()
        run = SyncRun(self.env, backend, "pull_orders", trigger)
        adapter = backend._adapter()
        now = (now or fields.Datetime.now()).replace(microsecond=0)
        shops = backend._udoma_shops()
        if not shops:
            run.note(self.env._("The connection has no shops: add them on its Shops tab."))
        for shop in shops:
            date_from = shop.udoma_orders_until or now - timedelta(days=FIRST_PULL_DAYS)
            if date_from >= now:
                continue
            try:
                export = adapter.export_orders(shop.code, date_from, now)
            except ApiError as exc:
                if stops_run(exc):
                    run.stop(exc, udoma_error(self.env, exc))
                    break
                run.add(processed=1, failed=1)
                run.item_failed(exc.code, self.env._(
                    "The orders of the shop %(shop)s were not pulled: %(reason)s",
                    shop=shop.display_name, reason=udoma_error(self.env, exc),
                ), reference=shop.code)
                continue
            for reason in getattr(export, "skipped", ()):
                run.note(self.env._("Shop %(shop)s: an order was not read: %(reason)s",
                                    shop=shop.display_name, reason=reason))
            if self._import_orders(backend, shop, list(export), run, adapter):
                shop.udoma_orders_until = now
            run.checkpoint(adapter, remaining=0)
        return run.finish(adapter)

    @api.model
    def _import_orders(self, backend, shop, orders, run, adapter=None):
        """Create the sale orders of ``orders`` not in Odoo yet; True when none failed."""
        ids = [order.order_id for order in orders]
        known = set(self.env["sale.order"].sudo().with_context(active_test=False).search(
            [("udoma_backend_id", "=", backend.id), ("udoma_order_id", "in", ids)]
        ).mapped("udoma_order_id")) if ids else set()
        new = [order for order in orders if order.order_id not in known]
        run.add(processed=len(orders) - len(new), unchanged=len(orders) - len(new))
        if not new:
            return True
        # An order belongs to the shop it names (the asked one when it names none).
        shops = {s.code: s for s in backend._udoma_shops()}
        for order in new:
            order_shop = shops.get(order.shop_source_id, shop)
            if not (order_shop.udoma_partner_id or backend.partner_id):
                run.stop(UserError(""), self.env._(
                    "Choose the marketplace partner of the connection (or the customer of the "
                    "shop %s): the orders' customer.", order_shop.display_name,
                ))
                return False
        products = self._products_by_code(backend, {
            position.source_id for order in new for position in order.positions
        })
        delivery = backend.udoma_delivery_product_id or self.env.ref(
            "supplier_connector.product_udoma_delivery", raise_if_not_found=False
        )
        complete = True
        for done, order in enumerate(new, start=1):
            if adapter is not None and done % ORDERS_PER_CHECKPOINT == 0:
                # In a cron the orders made so far are committed: a crash loses none of them,
                # and the next pull finds them by their id.
                run.checkpoint(adapter, remaining=len(new) - done)
            run.add(processed=1)
            order_shop = shops.get(order.shop_source_id, shop)
            partner = order_shop.udoma_partner_id or backend.partner_id
            try:
                with self.env.cr.savepoint():
                    sale, unknown = self._create_order(backend, order_shop, partner, order,
                                                       products, delivery)
            except Exception as exc:  # noqa: BLE001 — one bad order never stops the others
                _logger.warning("UDOMA order %s not created", order.order_id, exc_info=True)
                complete = False
                run.add(failed=1)
                run.item_failed("order_failed", self.env._(
                    "The UDOMA order %(ticket)s (%(id)s) was not created: %(reason)s",
                    ticket=order.ticket_number, id=order.order_id,
                    reason=describe_error(self.env, exc, log=False),
                ), reference=order.order_id)
                continue
            run.add(created=1)
            if unknown:
                run.add(not_found=1)
                run.item_failed("unknown_products", self.env._(
                    "Order %(order)s (UDOMA %(ticket)s): products not mapped in Odoo, kept as "
                    "notes on the order: %(codes)s",
                    order=sale.name, ticket=order.ticket_number, codes=", ".join(unknown),
                ), reference=order.order_id)
            if backend.udoma_confirm_orders:
                self._confirm(sale)
        return complete

    @api.model
    def _products_by_code(self, backend, codes):
        codes = [code for code in codes if code]
        if not codes:
            return {}
        rows = self.env["supplier.product"].sudo().search_read(
            [("backend_id", "=", backend.id), ("external_code", "in", codes)],
            ["external_code", "product_id"],
        )
        return {row["external_code"]: row["product_id"][0] for row in rows}

    @api.model
    def _create_order(self, backend, shop, partner, order, products, delivery):
        lines, unknown = [], []
        for position in order.positions:
            product_id = products.get(position.source_id)
            if product_id:
                lines.append((0, 0, {
                    "product_id": product_id,
                    "product_uom_qty": position.quantity,
                    "price_unit": position.price,
                }))
            else:
                unknown.append(position.source_id or "?")
                lines.append((0, 0, {
                    "display_type": "line_note",
                    "name": self.env._(
                        "Unknown UDOMA product %(code)s: %(quantity)s × %(price)s",
                        code=position.source_id or "?", quantity=position.quantity,
                        price=position.price,
                    ),
                }))
        for problem in getattr(order, "problems", None) or ():
            unknown.append(str(problem))
            lines.append((0, 0, {"display_type": "line_note", "name": str(problem)}))
        if order.delivery_cost:
            if delivery:
                lines.append((0, 0, {
                    "product_id": delivery.id, "product_uom_qty": 1,
                    "price_unit": order.delivery_cost, "is_delivery": True,
                    "name": self.env._("Marketplace delivery"),
                }))
            else:
                unknown.append(self.env._("delivery %s", order.delivery_cost))
        payment = order.payment_method if order.payment_method in ("terminal", "cash") else "other"
        vals = {
            "partner_id": partner.id,
            "company_id": backend.company_id.id,
            "client_order_ref": order.ticket_number,
            "udoma_backend_id": backend.id,
            "udoma_shop_id": shop.id,
            "udoma_order_id": order.order_id,
            "udoma_payment_method": payment,
            "udoma_unknown_lines": "\n".join(unknown) or False,
            "order_line": lines,
            # Never the user running the pull (OdooBot in the cron): the connection's.
            **backend._udoma_order_owner_values(),
        }
        if order.date:
            vals["date_order"] = order.date
        if shop.warehouse_id:
            vals["warehouse_id"] = shop.warehouse_id.id
        if shop.pricelist_id:
            vals["pricelist_id"] = shop.pricelist_id.id
        sale = self.env["sale.order"].sudo().with_company(backend.company_id).create(vals)
        self._prices_as_paid(sale)
        if unknown:
            # Only then: the order's UDOMA fields say the rest, and a note per order costs.
            post_note(sale, self.env._(
                "Pulled from UDOMA (shop %(shop)s, order %(ticket)s). These positions have no "
                "product in Odoo and are kept as notes: %(codes)s. Map them on the UDOMA "
                "connection (Mapped products) and add them to the order.",
                shop=shop.display_name, ticket=order.ticket_number, codes=", ".join(unknown),
            ))
        return sale, unknown

    @api.model
    def _prices_as_paid(self, sale):
        """The buyer paid the marketplace price, taxes included: on lines whose taxes are added
        to the price, the price becomes the part without them, so the total is what was paid."""
        for line in sale.order_line:
            taxes = line.tax_id
            if line.display_type or not taxes or all(taxes.mapped("price_include")):
                continue
            line.price_unit = taxes.with_context(force_price_include=True).compute_all(
                line.price_unit, sale.currency_id, 1.0, line.product_id, sale.partner_id,
            )["total_excluded"]

    @api.model
    def _confirm(self, sale):
        try:
            with self.env.cr.savepoint():
                sale.action_confirm()
        except Exception as exc:  # noqa: BLE001 — the order stays a quotation, with the reason
            _logger.info("UDOMA order %s not confirmed: %s", sale.name, type(exc).__name__)
            post_note(sale, self.env._(
                "The order was not confirmed automatically: %s",
                exc.args[0] if isinstance(exc, UserError) and exc.args
                else describe_error(self.env, exc, log=False),
            ))
