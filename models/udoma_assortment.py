"""Prices and stock per UDOMA shop (``import-assortment``), DESIGN §4.2.

- For each shop with a warehouse and a pricelist: every mapped product UDOMA has accepted
  (pushed, not archived). ``remains`` = the free quantity in the shop's warehouse (on hand minus
  reserved over its internal locations, never negative), in the product's unit; ``price`` = the
  shop pricelist's price for one unit; ``salePrice`` = the discount pricelist's price, sent only
  when it is lower (UDOMA computes the percent). Amounts are the pricelists' own, sent as the
  price the buyer pays (UDOMA prices in roubles, taxes included: use rouble pricelists whose
  prices include the taxes; pulled orders assume the same, see models/udoma_orders.py).
- Read per chunk, never per product: one grouped read of the quants and one price computation
  per pricelist for the whole chunk.
- Only changed rows after the shop's first full push: each accepted row's fingerprint is kept
  per (mapping, shop) in ``supplier.udoma.assortment``. "Turn off what is not sent"
  (``turnOffMissingAssortment``) on full pushes only, the shop's rows then in one request.
- A shop UDOMA does not know (``shop.not.found.by.source.system.id``) is named in the log and
  skipped; the other shops go on. A refused key stops the run.
"""

import hashlib
import json

from odoo import api, fields, models
from odoo.tools import split_every

from ..api.errors import ApiError
from ..api.udoma_data import UdomaAssortmentRow
from .backend_udoma import udoma_error
from .bulk import bulk_write
from .run_lock import exclusive_run
from .sync_run import SyncRun
from .udoma_push import stops_run


class SupplierUdomaAssortment(models.Model):
    """What UDOMA last accepted for one product in one shop."""

    _name = "supplier.udoma.assortment"
    _description = "UDOMA shop assortment row"

    binding_id = fields.Many2one("supplier.product", required=True, ondelete="cascade", index=True)
    shop_id = fields.Many2one("supplier.location", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="shop_id.company_id", store=True)
    push_hash = fields.Char(readonly=True)
    last_push = fields.Datetime(readonly=True)
    remains = fields.Float(readonly=True, digits="Product Unit of Measure")
    price = fields.Float(readonly=True)
    sale_price = fields.Float(readonly=True)

    _sql_constraints = [
        ("row_unique", "UNIQUE(binding_id, shop_id)", "One row per product and shop."),
    ]


class SupplierBackendUdomaAssortment(models.Model):
    _inherit = "supplier.backend"

    def action_push_assortment(self):
        """Send the changed prices and stock of every shop now."""
        self._check_right("manager")
        return self._udoma_push_assortment(full=False)

    def action_udoma_push_assortment_full(self):
        """Send the prices and stock of every product to every shop, changed or not."""
        self._check_right("manager")
        return self._udoma_push_assortment(full=True)

    def _udoma_push_assortment(self, full):
        logs = self.env["supplier.sync.log"]
        for backend in self:
            backend._check_operation("push_assortment")
            with exclusive_run(self.env, backend, "push_assortment"):
                logs |= self.env["supplier.udoma.assortment.push"]._push(backend, "manual", full)
        if len(logs) == 1:
            return logs._notification()
        return logs._action_open()


def row_hash(row):
    data = [row.source_id, row.remains, row.price, row.sale_price]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


class SupplierUdomaAssortmentPush(models.AbstractModel):
    _name = "supplier.udoma.assortment.push"
    _description = "UDOMA prices and stock push"

    @api.model
    def _push(self, backend, trigger="manual", full=False):
        backend = backend.sudo()
        run = SyncRun(self.env, backend, "push_assortment", trigger)
        adapter = backend._adapter()
        shops = backend._udoma_shops()
        if not shops:
            run.note(self.env._("The connection has no shops: add them on its Shops tab."))
        Binding = self.env["supplier.product"].sudo()
        ids = Binding.search([
            ("backend_id", "=", backend.id), ("last_push", "!=", False),
            ("product_id.active", "=", True),
        ], order="id").ids
        for shop in shops:
            if not (shop.warehouse_id and shop.pricelist_id):
                run.add(failed=1)
                run.item_failed("shop_incomplete", self.env._(
                    "The shop %s has no warehouse or no pricelist: choose them on the "
                    "connection's Shops tab.", shop.display_name,
                ), reference=shop.code)
                continue
            stop = self._push_shop(backend, shop, ids, run, adapter,
                                   full or not shop.udoma_assortment_pushed)
            if stop:
                break
        return run.finish(adapter)

    @api.model
    def _push_shop(self, backend, shop, ids, run, adapter, full):
        """Push one shop; True when the run must stop."""
        Binding = self.env["supplier.product"].sudo()
        turn_off = full and backend.udoma_turn_off_missing
        chunk = max(backend.batch_size or 1, 1)
        pending = []
        for id_chunk in split_every(chunk, ids):
            bindings = Binding.browse(id_chunk)
            pending += self._due_rows(shop, bindings, full, run)
            if turn_off:
                continue  # one request for the whole shop, below
            if pending:
                outcome = self._send(backend, shop, pending, run, adapter, False)
                pending = []
                if outcome:
                    return outcome == "stop"
            run.checkpoint(adapter, remaining=0)
            self.env.invalidate_all()
        if pending or (turn_off and ids):
            outcome = self._send(backend, shop, pending, run, adapter, turn_off)
            if outcome:
                return outcome == "stop"
        if full:
            shop.udoma_assortment_pushed = True
        run.checkpoint(adapter, remaining=0)
        return False

    @api.model
    def _due_rows(self, shop, bindings, full, run):
        """[(binding id, row, digest)] of the rows that changed (all of them when ``full``)."""
        products = bindings.product_id
        free = self._free_quantities(shop.warehouse_id, products)
        prices = shop.pricelist_id._get_products_price(products, 1.0)
        discounts = (shop.udoma_discount_pricelist_id._get_products_price(products, 1.0)
                     if shop.udoma_discount_pricelist_id else {})
        known = {
            row["binding_id"][0]: row["push_hash"]
            for row in self.env["supplier.udoma.assortment"].sudo().search_read(
                [("shop_id", "=", shop.id), ("binding_id", "in", bindings.ids)],
                ["binding_id", "push_hash"],
            )
        }
        due = []
        for binding in bindings:
            product_id = binding.product_id.id
            price = round(prices.get(product_id, 0.0), 2)
            sale_price = round(discounts[product_id], 2) if product_id in discounts else None
            row = UdomaAssortmentRow(
                source_id=binding.external_code,
                remains=round(max(free.get(product_id, 0.0), 0.0), 3),
                price=price,
                sale_price=sale_price if sale_price is not None and sale_price < price else None,
            )
            digest = row_hash(row)
            if not full and known.get(binding.id) == digest:
                run.add(processed=1, unchanged=1)
                continue
            due.append((binding.id, row, digest))
        return due

    @api.model
    def _free_quantities(self, warehouse, products):
        """{product id: on hand − reserved} over the warehouse's internal locations (one read)."""
        groups = self.env["stock.quant"].sudo()._read_group(
            [("product_id", "in", products.ids),
             ("location_id", "child_of", warehouse.view_location_id.id),
             ("location_id.usage", "=", "internal")],
            ["product_id"], ["quantity:sum", "reserved_quantity:sum"],
        )
        return {product.id: quantity - reserved for product, quantity, reserved in groups}

    @api.model
    def _send(self, backend, shop, rows, run, adapter, turn_off):
        """Send one shop's rows; '' when done, 'shop' when the shop is skipped, 'stop' when the
        run must stop."""
        try:
            result = adapter.import_assortment(
                shop.code, [row for _id, row, _digest in rows], turn_off_missing=turn_off,
            )
        except ApiError as exc:
            if stops_run(exc):
                run.stop(exc, udoma_error(self.env, exc))
                return "stop"
            if exc.code == "shop_not_found":
                message = self.env._(
                    "UDOMA has no shop bound to the id %(code)s (shop %(shop)s): bind it in "
                    "UDOMA's integration settings, or correct the shop's id on the connection's "
                    "Shops tab. Its prices and stock were not sent.",
                    code=shop.code, shop=shop.name or shop.code,
                )
            else:
                message = self.env._("Shop %(shop)s: %(reason)s", shop=shop.display_name,
                                     reason=udoma_error(self.env, exc))
            run.add(processed=len(rows), failed=len(rows))
            run.item_failed(exc.code, message, reference=shop.code)
            return "shop"
        for note in result.notes:
            if note not in run.messages:
                run.note(note)
        run.add(processed=len(rows))
        refused = {error.index: error for error in result.errors}
        Row = self.env["supplier.udoma.assortment"].sudo()
        existing = {
            row["binding_id"][0]: row["id"] for row in Row.search_read(
                [("shop_id", "=", shop.id), ("binding_id", "in", [r[0] for r in rows])],
                ["binding_id"],
            )
        }
        now = fields.Datetime.now()
        updates, creates = {}, []
        for index, (binding_id, row, digest) in enumerate(rows):
            if index in refused:
                binding = self.env["supplier.product"].sudo().browse(binding_id)
                run.add(failed=1)
                run.item_failed(refused[index].code, self.env._(
                    "Shop %(shop)s: UDOMA refused the price and stock: %(reason)s",
                    shop=shop.display_name, reason=refused[index].message,
                ), binding)
                continue
            vals = {"push_hash": digest, "last_push": now, "remains": row.remains,
                    "price": row.price, "sale_price": row.sale_price or 0.0}
            if binding_id in existing:
                updates[existing[binding_id]] = vals
            else:
                creates.append(dict(vals, binding_id=binding_id, shop_id=shop.id))
        bulk_write(Row, updates)
        Row.create(creates)
        run.add(updated=len(updates), created=len(creates))
        return ""
