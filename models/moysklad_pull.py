"""MoySklad is the master: the catalogue pass (products, variants, prices) and the stock pass.

Catalogue (``import_catalogue``): ``entity/assortment`` page by page (1,000 rows), only what
changed since the connection's watermark (``updated>=``, Moscow time; saved only when every page
was read; empty = a full pass). The pages are fetched in threads while Odoo applies the current
one (``MoySkladClient.prefetch_assortment``): once the first page told the list's size, up to
three pages are asked at once (MoySklad allows five requests in parallel) and handed to Odoo in
page order, so MoySklad's budget is spent while Odoo works and while a page travels, not after;
four pages in memory at most. Per page, a constant number of queries
looks the rows up: binding by MoySklad id → binding by externalCode → product by internal
reference = code, then = article → product by barcode. Rows matching several products are
reported, not guessed. Unmatched rows create products when the connection says so.
Products, prices and vendor prices are written only where they changed.

Stock (``sync_offers``): the short reports ``report/stock/bystore/current`` (stock, reserve,
in transit) → one offer per store and the binding total (the offer writer). With a stock
watermark younger than 24 h, the changes since then are asked first, then the full figures of
just the products that changed; otherwise the whole report, and bound products missing from it
have no stock. The reports are read as they arrive, a batch of rows at a time, into a temporary
table (``moysklad_stock_spool``): MoySklad sends each as one array without paging, in no order,
so holding them (three per run) made memory grow with the catalogue; the offers are then written
1,000 bindings at a time from that table.

Decisions:
- The watermark is the run's start less a minute (clocks of Odoo and MoySklad may differ a
  little): a row changed during a pass is read again by the next one, never lost; reading a row
  twice writes nothing the second time.
- A price in a currency that is not mapped to an Odoo currency is skipped with a line in the
  log (nothing is guessed). A sale price goes to the product's sales price converted to the
  company currency with Odoo's rates, or to a pricelist's fixed price in the pricelist's
  currency; the purchase price becomes the vendor price in its own currency.
- Variants become products of their own (no attribute mapping in part 1).
- Created products: consumable goods, bought and sold, of the connection's company; only when
  MoySklad is the master of products and the connection creates missing products. The code
  becomes the internal reference (else the article), the description the sales description,
  the first barcode not used yet the barcode, the unit the Odoo unit of the same name.
- An item with a problem (a price skipped, a value Odoo refused, several matching products)
  counts as failed in the log, with its line; the others of the page go on.
- Images: the main (first) image of a changed product with images, downloaded only when its
  file name and size differ from the last one taken (``moysklad_image_key``), capped at 10 MB,
  from the API's own host or the trusted hosts; one more request per such product.
- Product creation costs Odoo a few queries per product (templates and variants are created
  one by one inside ``product.product.create``); everything else per page is a fixed number of
  queries (tests/test_moysklad_scale.py).
- Unchanged rows (issue 8, the budget): before anything else, one query reads for the page's
  bindings (by MoySklad id) what Odoo has, as plain values: the binding (codes, name, kind,
  state, price), its product and template (name and sales description in the user's language,
  code, barcode, weight, volume, active, sales price) and the vendor price the offer writer would
  update. A row whose values Odoo already has, in a binding that is synced without a problem,
  is unchanged: no ORM read, no write, no offer writer (so no price history, which only a
  change writes); its last sync and last attempt move (a success: the binding is not stale) in
  one ``UPDATE … WHERE id = ANY(…)`` for the page, without a new write date. Odoo is compared,
  not a fingerprint of what MoySklad sent: a full pass still puts back a value changed in Odoo
  (MoySklad is the master), and a sales price converted from another currency follows the
  rates. The comparison is conservative: a price for a pricelist, a currency not mapped, a
  binding in error, two bindings of one MoySklad id go the full way, which decides as before.
  Measured, 5,000 unchanged rows (2 cores shared, load 4 to 8): Odoo's main thread 0.27-0.30
  → 0.03-0.04 s of CPU per page of 1,000; the process, with the prefetch thread reading the
  next page (HTTP, JSON, parsing: now most of what is left), 0.39 → 0.14 s; 9 queries per
  unchanged page (was 19 and more).
- MoySklad's budget (issue 8: "report the budget used, aim ≥ 90 %"), bench.moysklad, 100,000
  unchanged products, 2 cores shared with the emulator and other processes: 22.7 s (78 % of
  what 45 units / 3 s allow in that time; 12.8 s of thread waits for the budget) and 26.4 s
  (69 %; no wait: Odoo's process was the limit at 0.22 s of CPU a page, the machine 72 % busy)
  in two runs, against 0.29 s a page with one page ahead before. What a page costs Odoo's
  process: 0.16-0.22 s of CPU (JSON decoding about 0.07, parsing the rows 0.06, gunzip 0.01,
  the ORM 0.03-0.04); the emulator 0.04-0.06 s. 90 % is out of reach there for two reasons of
  the client itself, whatever Odoo does: it counts 45 units per 3.2 s (a margin, as MoySklad
  counts a request when it arrives) in 0.05 s buckets, and a request may leave only once the
  one 45 units before it left a window ago, so 101 requests of 3 units cannot end before
  6 × 3.25 s = 19.5 s: 90 % at best; and the first window's 15 requests take about 1 s to
  leave (each thread decodes its page before asking the next, the process decodes one page at
  a time), a delay every later window repeats. The client alone, no Odoo, 0.04 s of work a
  page: 21.0-21.9 s, 81-84 %; without the margin 20.0 s, 88 % (and 429s once more pages are
  asked at once): not a setting to lower for a figure.
"""

import base64
import logging
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.float_utils import float_compare, float_round

from ..api.errors import ApiError
from ..services.base import ItemResult
from ..services.moysklad import STOCK_TYPES, offer_from_stock
from .bulk import bulk_write
from .error_messages import describe_error
from .moysklad_stock_spool import StockSpool
from .offer_writer import OfferWriter
from .run_lock import exclusive_run
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)

WATERMARK_MARGIN = timedelta(minutes=1)
# Above this many changed products, the whole stock report is cheaper than per-id reports.
STOCK_DELTA_MAX_IDS = 2000
STOCK_CHUNK = 1000


def _norm(value):
    return (value or "").strip().lower()


class SupplierMoySkladPull(models.AbstractModel):
    _name = "supplier.moysklad.pull"
    _description = "MoySklad pull"

    # -- entry points (the callers checked the rights) ------------------------------------------
    @api.model
    def _pull_catalogue(self, backend, trigger="manual"):
        if trigger != "cron":
            with exclusive_run(self.env, backend, "import_catalogue"):
                return self._catalogue(backend.sudo(), trigger)
        return self._catalogue(backend.sudo(), trigger)

    @api.model
    def _pull_stock(self, backend, trigger="manual"):
        if trigger != "cron":
            with exclusive_run(self.env, backend, "sync_offers"):
                return self._stock(backend.sudo(), trigger)
        return self._stock(backend.sudo(), trigger)

    # -- catalogue --------------------------------------------------------------------------------
    @api.model
    def _catalogue(self, backend, trigger):
        run = SyncRun(self.env, backend, "import_catalogue", trigger)
        adapter = backend._adapter()
        started = fields.Datetime.now() - WATERMARK_MARGIN
        since = backend.moysklad_watermark or None
        context = self._catalogue_context(backend, run)
        skipped = Counter()
        images = 0
        try:
            if context["products"] and backend.catalogue_create_products:
                context["uoms"] = self._uom_map(adapter.list_uoms())
            # The next pages are fetched (HTTP, JSON, rows) in threads while this one is
            # applied, handed in order; leaving the block, on an error too, stops the threads
            # (no request after it).
            with adapter.client.prefetch_assortment(updated_since=since) as pages:
                for page in pages:
                    for row in page.skipped:
                        skipped[row.kind] += 1
                    if page.items:
                        self._apply_page(backend, context, page.items, run)
                        if context["images"]:
                            images += self._pull_images(backend, adapter, page.items, run)
                    run.checkpoint(adapter, remaining=0)
                    self.env.invalidate_all()
        except ApiError as exc:
            run.stop(exc)
        else:
            backend.moysklad_watermark = started
        if images:
            run.note(self.env._("Main images loaded: %(count)s.", count=images))
        if skipped:
            run.note(self.env._(
                "Left aside (not products or variants): %(kinds)s.",
                kinds=", ".join(f"{kind}: {count}" for kind, count in sorted(skipped.items())),
            ))
        run.note(self.env._("Full pass.") if since is None else self.env._(
            "Only what changed since %(moment)s (UTC).",
            moment=fields.Datetime.to_string(since),
        ))
        self._note_usage(run, adapter)
        return run.finish(adapter)

    @api.model
    def _catalogue_context(self, backend, run):
        references = backend.with_context(active_test=False).reference_ids
        price_types = {}
        for reference in references.filtered(lambda r: r.kind == "ms_price_type"):
            if reference.price_target == "list_price":
                price_types[reference.code] = ("list_price", None)
            elif reference.price_target == "pricelist" and reference.pricelist_id:
                price_types[reference.code] = ("pricelist", reference.pricelist_id)
        currencies = {
            r.code: r.odoo_currency_id for r in references
            if r.kind == "ms_currency" and r.odoo_currency_id
        }
        currency_names = {
            r.code: f"{r.name} ({r.iso_code})" if r.iso_code else r.name
            for r in references if r.kind == "ms_currency"
        }
        return {
            "products": backend.moysklad_products_direction == "pull",
            "prices": backend.moysklad_prices_direction == "pull",
            "create": backend.catalogue_create_products
            and backend.moysklad_products_direction == "pull",
            "price_types": price_types,
            "currencies": currencies,
            "currency_names": currency_names,
            "uoms": {},
            "writer": OfferWriter(backend, log=run.log),
            "buy_prices": backend.moysklad_prices_direction == "pull"
            and backend.moysklad_buy_price_to_vendor,
            "vendor_prices": backend.moysklad_prices_direction == "pull"
            and backend.moysklad_buy_price_to_vendor and bool(backend.partner_id),
            "company": backend.company_id,
            "images": backend.moysklad_products_direction == "pull"
            and backend.moysklad_pull_images,
        }

    @api.model
    def _uom_map(self, ms_uoms):
        """MoySklad uom id → Odoo uom id, by name (case-insensitive) where Odoo has it."""
        by_name = {}
        names = {_norm(uom.name) for uom in ms_uoms if uom.name}
        for lang in {self.env.lang or "en_US", "en_US"}:
            # Odoo's units are a few dozen: read once per run, matched without case.
            for row in self.env["uom.uom"].with_context(lang=lang).search_read(
                [("active", "=", True)], ["name"]
            ):
                if _norm(row["name"]) in names:
                    by_name.setdefault(_norm(row["name"]), row["id"])
        return {uom.id: by_name[_norm(uom.name)] for uom in ms_uoms if _norm(uom.name) in by_name}

    @api.model
    def _apply_page(self, backend, context, items, run):
        items = self._skip_unchanged(backend, context, items, run)
        if not items:
            return
        Binding = self.env["supplier.product"].sudo()
        ids = [item.id for item in items]
        codes = [item.external_code for item in items if item.external_code]
        bindings = Binding.with_context(active_test=False).search_fetch(
            [("backend_id", "=", backend.id), "|", ("external_id", "in", ids),
             ("external_code", "in", codes)],
            ["external_id", "external_code", "external_name", "product_id", "moysklad_kind"],
        )
        by_id = {b.external_id: b for b in bindings if b.external_id}
        by_code = {b.external_code: b for b in bindings if not b.external_id}
        bound = {}
        unbound = []
        for item in items:
            binding = by_id.get(item.id) or by_code.get(item.external_code)
            if binding and binding.external_id and binding.external_id != item.id:
                binding = None
            if binding:
                bound[item.id] = binding
            else:
                unbound.append(item)
        lines = []
        new_bindings, created = self._match_or_create(backend, context, unbound, run, lines)
        binding_updates = self._binding_updates(items, bound)
        bulk_write(Binding, binding_updates)
        bound.update(new_bindings)
        changed = {item_id for item_id, binding in bound.items() if binding.id in binding_updates}
        if context["products"]:
            changed |= self._update_products(context, items, bound, created, lines)
        if context["prices"]:
            changed |= self._apply_sale_prices(context, items, bound, lines)
        changed |= self._apply_bindings(context, items, bound, lines)
        # An item with a problem (a price skipped, a value refused) counts as failed.
        with_problem = {binding.id for _code, _message, binding, _ref in lines if binding}
        for item in items:
            if item.id in bound:
                if bound[item.id].id in with_problem:
                    outcome = "failed"
                elif item.id in new_bindings:
                    outcome = "created"
                else:
                    outcome = "updated" if item.id in changed else "unchanged"
                run.add(processed=1, **{outcome: 1})
        for code, message, binding, reference in lines:
            run.item_failed(code, message, binding, reference=reference)

    # -- unchanged rows: one read for the page, one UPDATE of the last sync -----------------------
    @api.model
    def _skip_unchanged(self, backend, context, items, run):
        """The rows of ``items`` that may change something in Odoo. The others (MoySklad sent
        what Odoo already has: binding, product, sales price, purchase price and vendor price)
        count as unchanged and only get their last sync (and last attempt) moved, in one UPDATE
        for the page; they skip the ORM reads and the offer writer. One query reads what Odoo
        has for the page. Anything not compared here (a price for a pricelist, an unmapped
        currency, a binding with a problem or never synced) goes the full way."""
        snapshot = self._page_snapshot(backend, context, [item.id for item in items])
        same, rest = [], []
        for item in items:
            row = snapshot.get(item.id)
            if row is not None and self._is_unchanged(context, item, row):
                same.append(row["id"])
            else:
                rest.append(item)
        if same:
            now = fields.Datetime.now()
            Binding = self.env["supplier.product"].sudo()
            Binding.flush_model(["last_sync", "last_attempt"])
            self.env.cr.execute(
                "UPDATE supplier_product SET last_sync = %s, last_attempt = %s WHERE id = ANY(%s)",
                [now, now, same],
            )
            Binding.browse(same).invalidate_recordset(["last_sync", "last_attempt"])
            run.add(processed=len(same), unchanged=len(same))
        return rest

    @api.model
    def _page_snapshot(self, backend, context, external_ids):
        """{MoySklad id: what Odoo has} for the page's bindings found by MoySklad id, as plain
        values read in one query (no ORM records): the binding, its product and template (names
        in the user's language, as the ORM reads them) and the vendor price the offer writer
        would update (same choice: the variant's line, else the template's when it has one
        variant; by sequence, minimum quantity, id)."""
        Binding = self.env["supplier.product"].sudo()
        Binding.flush_model()
        self.env["product.product"].flush_model()
        self.env["product.template"].flush_model()
        self.env["product.supplierinfo"].flush_model()
        partner = backend.partner_id.id if context.get("vendor_prices") else None
        self.env.cr.execute("""
            SELECT b.id, b.external_id, b.external_code, b.external_name, b.moysklad_kind,
                   b.sync_state, b.sync_message, b.failure_count, b.retry_after, b.last_sync,
                   b.price, b.price_with_vat, b.price_tariff, b.price_retail, b.currency_id,
                   pp.default_code, pp.barcode, pp.weight, pp.volume, pp.active,
                   COALESCE(pt.name->>%(lang)s, pt.name->>'en_US') AS name,
                   COALESCE(pt.description_sale->>%(lang)s, pt.description_sale->>'en_US')
                       AS description_sale,
                   pt.list_price, pt.company_id,
                   si.price AS si_price, si.currency_id AS si_currency_id,
                   si.product_code AS si_product_code
              FROM supplier_product b
              JOIN product_product pp ON pp.id = b.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              LEFT JOIN LATERAL (
                    SELECT s.price, s.currency_id, s.product_code
                      FROM product_supplierinfo s
                     WHERE %(partner)s::int IS NOT NULL AND s.partner_id = %(partner)s
                       AND s.product_tmpl_id = pp.product_tmpl_id
                       AND (s.company_id = %(company)s OR s.company_id IS NULL)
                       AND (s.product_id = pp.id OR (s.product_id IS NULL AND (
                            SELECT count(*) FROM product_product v
                             WHERE v.product_tmpl_id = pp.product_tmpl_id AND v.active) = 1))
                     ORDER BY s.product_id IS NULL, s.sequence, s.min_qty, s.id
                     LIMIT 1) si ON TRUE
             WHERE b.backend_id = %(backend)s AND b.external_id = ANY(%(ids)s)
        """, {"lang": self.env.lang or "en_US", "partner": partner,
              "company": backend.company_id.id, "backend": backend.id, "ids": external_ids})
        snapshot, twice = {}, set()
        for row in self.env.cr.dictfetchall():
            if row["external_id"] in snapshot:
                twice.add(row["external_id"])
            snapshot[row["external_id"]] = row
        for external_id in twice:  # two bindings of one MoySklad id: the full way decides
            del snapshot[external_id]
        return snapshot

    @staticmethod
    def _differs(old, new):
        """As ``_update_products`` compares a product field (floats to 1e-6)."""
        if isinstance(old, Decimal):
            old = float(old)
        return (old or False) != (new or False) and not (
            isinstance(new, float) and abs((old or 0.0) - new) < 1e-6
        )

    @api.model
    def _is_unchanged(self, context, item, row):
        """True when applying ``item`` would write nothing but the binding's last sync."""
        if (row["sync_state"] != "ok" or row["sync_message"] or row["failure_count"]
                or row["retry_after"] or not row["last_sync"]):
            return False
        if (row["external_code"] != self._external_code(item)
                or (row["external_name"] or False) != (item.name or False)
                or row["moysklad_kind"] != item.kind):
            return False
        if context["products"] and not self._product_unchanged(context, item, row):
            return False
        if context["prices"]:
            if not self._sale_price_unchanged(context, item, row):
                return False
            if not self._buy_price_unchanged(context, item, row):
                return False
        return True

    @api.model
    def _product_unchanged(self, context, item, row):
        wanted = {
            "name": item.name or row["name"],
            "default_code": item.code or item.article or row["default_code"],
            "description_sale": item.description or row["description_sale"],
            "active": not item.archived,
        }
        digits = context.get("digits")
        if digits is None:
            digits = context["digits"] = {
                name: self.env["product.product"]._fields[name].get_digits(self.env)[1]
                for name in ("weight", "volume")
            }
        for name, value in (("weight", item.weight), ("volume", item.volume)):
            if value is not None:
                wanted[name] = float_round(float(value), precision_digits=digits[name])
        barcodes = [value for _kind, value in item.barcodes]
        if barcodes and row["barcode"] not in barcodes:
            return False
        return not any(self._differs(row[name], value) for name, value in wanted.items())

    @api.model
    def _sale_price_unchanged(self, context, item, row):
        list_price = None
        for price in item.sale_prices:
            target = context["price_types"].get(price.price_type_id)
            if not target or price.amount is None:
                continue
            currency = context["currencies"].get(price.currency_id)
            if not currency or target[0] != "list_price":
                return False  # an unmapped currency (a line) or a pricelist: the full way
            list_price = (currency, float(price.amount))
        if list_price is None:
            return True
        currency, amount = list_price
        company = context["company"]
        target = context.get("company_currency")
        if target is None:
            target = context["company_currency"] = company.currency_id
        if currency == target:  # what _convert does without a rate: round in the currency
            value = float_round(amount, precision_rounding=target.rounding)
        else:
            value = currency._convert(amount, target, company, fields.Date.context_today(self))
        rounding = self._template_rounding(context, row["company_id"])
        return not float_compare(float(row["list_price"] or 0.0), value,
                                 precision_rounding=rounding)

    @api.model
    def _template_rounding(self, context, company_id):
        """The rounding of the currency of a template of ``company_id`` (as product.template
        computes that currency): the precision of its sales price comparison."""
        roundings = context.setdefault("template_roundings", {})
        if company_id not in roundings:
            main = self.env["res.company"]._get_main_company()
            company = self.env["res.company"].sudo().browse(company_id) if company_id else main
            roundings[company_id] = (company.currency_id or main.currency_id).rounding
        return roundings[company_id]

    @api.model
    def _buy_price_unchanged(self, context, item, row):
        if not context["buy_prices"]:
            return True
        price = item.buy_price
        if price is None or not price.amount:
            return True  # no price: the writer keeps the last one
        currency = context["currencies"].get(price.currency_id)
        if not currency:
            return False
        amount = float(price.amount)
        currency_ids = context.setdefault("writer_currencies", {})
        if price.currency_id not in currency_ids:
            currency_ids[price.currency_id] = context["writer"]._currency(currency.name)
        currency_id = currency_ids[price.currency_id]
        if (float(row["price"] or 0.0) != amount or row["currency_id"] != currency_id
                or any(row[name] for name in ("price_with_vat", "price_tariff", "price_retail"))):
            return False
        if not context["vendor_prices"]:
            return True
        return (row["si_price"] is not None and float(row["si_price"]) == amount
                and row["si_currency_id"] == currency_id
                and row["si_product_code"] == row["external_code"])

    @api.model
    def _binding_updates(self, items, bound):
        """{binding id: vals} for bindings whose MoySklad id, code or name changed."""
        updates = {}
        for item in items:
            binding = bound.get(item.id)
            if binding is None:
                continue
            vals = {}
            code = self._external_code(item)
            if binding.external_id != item.id:
                vals["external_id"] = item.id
            if binding.external_code != code:
                vals["external_code"] = code
            if binding.external_name != (item.name or False):
                vals["external_name"] = item.name or False
            if binding.moysklad_kind != item.kind:
                vals["moysklad_kind"] = item.kind
            if vals:
                updates[binding.id] = vals
        return updates

    @staticmethod
    def _external_code(item):
        return item.external_code or item.code or item.article or item.id

    # -- matching and creation --------------------------------------------------------------------
    @api.model
    def _match_or_create(self, backend, context, items, run, lines):
        """Bind ``items`` (no binding yet) to products; returns {MoySklad id: new binding}."""
        if not items:
            return {}, set()
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        company = [("company_id", "in", [backend.company_id.id, False])]
        refs = sorted({v.strip() for item in items for v in (item.code, item.article) if v})
        barcodes = {value for item in items for _kind, value in item.barcodes}
        by_ref, by_barcode = defaultdict(set), defaultdict(set)
        if refs:
            # "in" is exact: the upper-case form catches codes typed in lower case.
            for row in Product.search_read(
                company + ["|", ("default_code", "in", refs),
                           ("default_code", "in", [ref.upper() for ref in refs])],
                ["default_code"],
            ):
                by_ref[_norm(row["default_code"])].add(row["id"])
        if barcodes:
            for row in Product.search_read(
                company + [("barcode", "in", list(barcodes))], ["barcode"]
            ):
                by_barcode[row["barcode"]].add(row["id"])
        candidates = set().union(*by_ref.values(), *by_barcode.values())
        taken = set()
        if candidates:
            taken = {
                row["product_id"][0] for row in self.env["supplier.product"].sudo().search_read(
                    [("backend_id", "=", backend.id), ("product_id", "in", list(candidates))],
                    ["product_id"],
                )
            }
        matched, to_create, used_barcodes = {}, [], set(by_barcode)
        for item in items:
            found = self._pick(item, by_ref, by_barcode, taken)
            if found == "ambiguous":
                run.add(processed=1, failed=1)
                lines.append(("ambiguous", self.env._(
                    "This MoySklad product matches several Odoo products (same internal "
                    "reference or barcode); map it by hand."
                ), None, self._reference(item)))
            elif found:
                taken.add(found)
                matched[item.id] = (item, found)
            elif context["create"] and (item.name or item.code):
                to_create.append(item)
            else:
                run.add(processed=1, not_found=1)
        if to_create:
            vals_list = []
            for item in to_create:
                vals = self._new_product_values(backend, context, item, used_barcodes)
                vals_list.append(vals)
            products = Product.create(vals_list)
            for item, product in zip(to_create, products, strict=True):
                matched[item.id] = (item, product.id)
        Binding = self.env["supplier.product"].sudo()
        rows = list(matched.values())
        created = Binding.create([
            {
                "backend_id": backend.id,
                "product_id": product_id,
                "external_code": self._external_code(item),
                "external_id": item.id,
                "external_name": item.name or False,
                "moysklad_kind": item.kind,
            }
            for item, product_id in rows
        ])
        new_bindings = {
            item.id: binding for (item, _pid), binding in zip(rows, created, strict=True)
        }
        return new_bindings, {item.id for item in to_create}

    @staticmethod
    def _pick(item, by_ref, by_barcode, taken):
        """The one free product ``item`` matches (code, then article, then barcode), None, or
        "ambiguous"."""
        for key_set in (
            by_ref.get(_norm(item.code)) if item.code else None,
            by_ref.get(_norm(item.article)) if item.article else None,
            set().union(*(by_barcode.get(v, set()) for _k, v in item.barcodes))
            if item.barcodes else None,
        ):
            free = (key_set or set()) - taken
            if len(free) == 1:
                return free.pop()
            if len(free) > 1:
                return "ambiguous"
        return None

    @staticmethod
    def _reference(item):
        return " ".join(filter(None, [item.code or item.article or item.id, item.name]))[:250]

    @api.model
    def _new_product_values(self, backend, context, item, used_barcodes):
        barcode = next(
            (value for _kind, value in item.barcodes if value not in used_barcodes), False
        )
        if barcode:
            used_barcodes.add(barcode)
        vals = {
            "name": item.name or item.code,
            "default_code": item.code or item.article or False,
            "barcode": barcode,
            "type": "consu",
            "sale_ok": True,
            "purchase_ok": True,
            "company_id": backend.company_id.id,
            "active": not item.archived,
        }
        if item.description:
            vals["description_sale"] = item.description
        if item.weight is not None:
            vals["weight"] = float(item.weight)
        if item.volume is not None:
            vals["volume"] = float(item.volume)
        uom = context["uoms"].get(item.uom_id)
        if uom:
            vals["uom_id"] = uom
            vals["uom_po_id"] = uom
        return vals

    # -- products ---------------------------------------------------------------------------------
    @api.model
    def _update_products(self, context, items, bound, created, lines):
        """Write the changed product fields of bound (not just created) products."""
        targets = {item.id: bound[item.id] for item in items
                   if item.id in bound and item.id not in created}
        if not targets:
            return set()
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        product_ids = [binding.product_id.id for binding in targets.values()]
        current = {row["id"]: row for row in Product.search_read(
            [("id", "in", product_ids)],
            ["name", "default_code", "barcode", "weight", "volume", "description_sale", "active"],
        )}
        changed = set()
        plain = {}
        digits = {name: Product._fields[name].get_digits(self.env)[1] for name in ("weight", "volume")}
        for item in items:
            binding = targets.get(item.id)
            if binding is None:
                continue
            row = current.get(binding.product_id.id)
            if row is None:
                continue
            wanted = {
                "name": item.name or row["name"],
                "default_code": item.code or item.article or row["default_code"],
                "description_sale": item.description or row["description_sale"],
                "active": not item.archived,
            }
            for name, value in (("weight", item.weight), ("volume", item.volume)):
                if value is not None:
                    # As Odoo stores it: comparing unrounded values would write every time.
                    wanted[name] = float_round(float(value), precision_digits=digits[name])
            barcodes = [value for _kind, value in item.barcodes]
            if barcodes and row["barcode"] not in barcodes:
                wanted["barcode"] = barcodes[0]
            diff = {
                name: value for name, value in wanted.items()
                if (row[name] or False) != (value or False)
                and not (isinstance(value, float) and abs((row[name] or 0.0) - value) < 1e-6)
            }
            if not diff:
                continue
            changed.add(item.id)
            simple = {k: v for k, v in diff.items() if k in ("weight", "volume")}
            rest = {k: v for k, v in diff.items() if k not in simple}
            if simple:
                plain[row["id"]] = simple
            if rest:
                try:
                    with self.env.cr.savepoint():
                        Product.browse(row["id"]).write(rest)
                except (ValidationError, UserError, psycopg2.IntegrityError) as exc:
                    lines.append(("rejected", self.env._(
                        "The product could not be updated from MoySklad: %(reason)s",
                        reason=getattr(exc, "args", [str(exc)])[0],
                    ), binding, ""))
        if plain:
            # weight and volume are stored on the variant (the template's are computed).
            bulk_write(Product, plain)
        return changed

    # -- prices -----------------------------------------------------------------------------------
    @api.model
    def _price_currency(self, context, price, binding, lines):
        """The Odoo currency of ``price``, or None (a line in the log) when it is not mapped."""
        currency = context["currencies"].get(price.currency_id)
        if currency:
            return currency
        name = context["currency_names"].get(price.currency_id) or price.currency_id or "?"
        lines.append(("ms_currency", self.env._(
            "The MoySklad currency %(currency)s is not mapped to an Odoo currency: its price "
            "was skipped. Map it on the connection (MoySklad tab).", currency=name,
        ), binding, ""))
        return None

    @api.model
    def _apply_sale_prices(self, context, items, bound, lines):
        if not context["price_types"]:
            return set()
        company = context["company"]
        today = fields.Date.context_today(self)
        list_prices, pricelist_prices = {}, {}
        for item in items:
            binding = bound.get(item.id)
            if binding is None:
                continue
            for price in item.sale_prices:
                target = context["price_types"].get(price.price_type_id)
                if not target or price.amount is None:
                    continue
                currency = self._price_currency(context, price, binding, lines)
                if not currency:
                    continue
                kind, pricelist = target
                amount = float(price.amount)
                if kind == "list_price":
                    value = currency._convert(amount, company.currency_id, company, today)
                    list_prices[binding.product_id.id] = (item.id, value)
                else:
                    value = currency._convert(amount, pricelist.currency_id, company, today)
                    pricelist_prices[(pricelist.id, binding.product_id.id)] = (item.id, value)
        changed = set()
        if list_prices:
            Product = self.env["product.product"].sudo().with_context(active_test=False)
            templates = {}
            for product in Product.browse(list(list_prices)):
                item_id, value = list_prices[product.id]
                if product.currency_id.compare_amounts(product.list_price, value):
                    templates[product.product_tmpl_id.id] = {"list_price": value}
                    changed.add(item_id)
            bulk_write(self.env["product.template"].sudo(), templates)
        if pricelist_prices:
            changed |= self._write_pricelist_items(pricelist_prices)
        return changed

    @api.model
    def _write_pricelist_items(self, prices):
        Item = self.env["product.pricelist.item"].sudo()
        existing = {}
        for line in Item.search([
            ("pricelist_id", "in", list({key[0] for key in prices})),
            ("product_id", "in", list({key[1] for key in prices})),
            ("applied_on", "=", "0_product_variant"),
            ("compute_price", "=", "fixed"),
            ("min_quantity", "in", [0, 1]),
        ]):
            existing.setdefault((line.pricelist_id.id, line.product_id.id), line)
        updates, creates, changed = {}, [], set()
        for (pricelist_id, product_id), (item_id, value) in prices.items():
            line = existing.get((pricelist_id, product_id))
            if line is None:
                creates.append({
                    "pricelist_id": pricelist_id, "product_id": product_id,
                    "applied_on": "0_product_variant", "compute_price": "fixed",
                    "fixed_price": value,
                })
                changed.add(item_id)
            elif line.currency_id.compare_amounts(line.fixed_price, value):
                updates[line.id] = {"fixed_price": value}
                changed.add(item_id)
        bulk_write(Item, updates)
        if creates:
            products = self.env["product.product"].sudo().with_context(active_test=False).browse(
                [vals["product_id"] for vals in creates]
            )
            for vals, product in zip(creates, products, strict=True):
                vals["product_tmpl_id"] = product.product_tmpl_id.id
            Item.create(creates)
        return changed

    @api.model
    def _apply_bindings(self, context, items, bound, lines):
        """The bindings' state and last sync, the purchase price as vendor price (offer writer)."""
        writer = context["writer"]
        buy_prices = context["prices"] and writer.backend.moysklad_buy_price_to_vendor
        results, binding_ids = [], []
        before = {}
        for item in items:
            binding = bound.get(item.id)
            if binding is None:
                continue
            result = ItemResult(binding.id, external_id=item.id)
            price = item.buy_price if buy_prices else None
            if price is not None and price.amount:
                currency = self._price_currency(context, price, binding, lines)
                if currency:
                    result.price = float(price.amount)
                    result.currency = currency.name
            results.append(result)
            binding_ids.append(binding.id)
            before[binding.id] = (item.id, binding.price, binding.currency_id.id)
        if not results:
            return set()
        page_bindings = self.env["supplier.product"].sudo().browse(binding_ids)
        _counts, failed = writer.apply(page_bindings, results)
        for code, message, binding in failed:
            lines.append((code, message, binding, ""))
        changed = set()
        for binding in page_bindings:
            item_id, price, currency_id = before[binding.id]
            if abs((binding.price or 0.0) - (price or 0.0)) > 1e-6 or (
                binding.price and binding.currency_id.id != currency_id
            ):
                changed.add(item_id)
        return changed

    # -- images -----------------------------------------------------------------------------------
    @api.model
    def _pull_images(self, backend, adapter, items, run):
        """The main image of the products with images, downloaded only when it changed (its
        file name and size differ from the last one taken). A download that fails is a line in
        the log; a run-level error (credentials, rate limit) stops the run."""
        with_images = {item.id: item for item in items if item.images_count}
        loaded = 0
        if not with_images:
            return loaded
        bindings = self.env["supplier.product"].sudo().search_fetch(
            [("backend_id", "=", backend.id), ("external_id", "in", list(with_images))],
            ["external_id", "product_id", "moysklad_image_key"],
        )
        Binding = self.env["supplier.product"].sudo()
        engine = self.env["supplier.sync.engine"]
        for binding in bindings:
            item = with_images[binding.external_id]
            try:
                images = adapter.list_images(item.id, item.kind)
                if not images:
                    continue
                image = images[0]
                key = f"{image.filename}:{image.size}"
                if binding.moysklad_image_key == key:
                    continue
                content = adapter.download_image(image)
            except ApiError as exc:
                if engine._stops_the_run(exc):
                    raise
                run.item_failed(exc.code, self.env._(
                    "The main image was not loaded: %(reason)s",
                    reason=describe_error(self.env, exc, log=False),
                ), binding)
                continue
            try:
                with self.env.cr.savepoint():
                    binding.product_id.image_1920 = base64.b64encode(content)
            except (UserError, ValidationError) as exc:
                run.item_failed("bad_image", self.env._(
                    "The main image could not be read: %(reason)s", reason=exc.args[0],
                ), binding)
                continue
            bulk_write(Binding, {binding.id: {"moysklad_image_key": key}})
            loaded += 1
        return loaded

    # -- stock ------------------------------------------------------------------------------------
    @api.model
    def _stock(self, backend, trigger):
        run = SyncRun(self.env, backend, "sync_offers", trigger)
        if backend.moysklad_stock_direction != "pull":
            run.note(self.env._(
                "Stock is not pulled: on this connection MoySklad is not the master of stock."
            ))
            return run.finish(None)
        adapter = backend._adapter()
        started = fields.Datetime.now() - WATERMARK_MARGIN
        since = backend.moysklad_stock_watermark or None
        writer = OfferWriter(backend, log=run.log)
        client = adapter.client
        changed_ids = None
        try:
            with StockSpool(self.env.cr) as spool:
                if not self._spool_stock(client, spool, changed_since=since):
                    if spool.count_products() > STOCK_DELTA_MAX_IDS:
                        spool.clear()
                        self._spool_stock(client, spool)
                    else:
                        changed_ids = spool.product_ids()
                        spool.clear()
                        if changed_ids:
                            self._spool_stock(client, spool, assortment_ids=changed_ids)
                self._apply_stock(backend, writer, spool, changed_ids, run, adapter)
        except ApiError as exc:
            run.stop(exc)
        else:
            backend.moysklad_stock_watermark = started
            run.note(self.env._("Full stock report.") if changed_ids is None else self.env._(
                "Stock changed since %(moment)s (UTC): %(count)s products.",
                moment=fields.Datetime.to_string(since), count=len(changed_ids),
            ))
        self._note_usage(run, adapter)
        return run.finish(adapter)

    @api.model
    def _spool_stock(self, client, spool, **options):
        """The three short reports (stock, reserve, in transit) into ``spool`` as they are
        read; True when they are the full figures (not only the changes)."""
        full = True
        for stock_type in STOCK_TYPES:
            stream = client.iter_stock_rows(by_store=True, stock_type=stock_type, **options)
            for rows in stream:
                spool.add(rows)
            full = full and stream.full
        return full

    @api.model
    def _apply_stock(self, backend, writer, stock, changed_ids, run, adapter):
        """Offers of the bound products (all of them after a full report, else the changed),
        chunk by chunk. ``stock``: {assortment id: {store id: {type: qty}}} (a few products: a
        webhook's), or a StockSpool, from which each chunk reads its products' rows."""
        values_of = stock.values_of if isinstance(stock, StockSpool) else (lambda _ids: stock)
        Binding = self.env["supplier.product"].sudo()
        names = {loc.code: loc.name for loc in backend.location_ids}
        domain = [("backend_id", "=", backend.id), ("external_id", "!=", False)]
        last_id = 0
        chunks = (
            [changed_ids[i:i + STOCK_CHUNK] for i in range(0, len(changed_ids), STOCK_CHUNK)]
            if changed_ids is not None else None
        )
        while True:
            if chunks is not None:
                if not chunks:
                    break
                bindings = Binding.search(domain + [("external_id", "in", chunks.pop(0))])
            else:
                bindings = Binding.search(domain + [("id", ">", last_id)], order="id",
                                          limit=STOCK_CHUNK)
                if not bindings:
                    break
                last_id = bindings[-1].id
            if not bindings:
                continue
            per_product = values_of({binding.external_id for binding in bindings})
            results = [
                ItemResult(binding.id, external_id=binding.external_id, offers=[
                    offer_from_stock(store_id, names.get(store_id), values)
                    for store_id, values in sorted(per_product.get(binding.external_id, {}).items())
                ])
                for binding in bindings
            ]
            counts, lines = writer.apply(bindings, results)
            run.add(**counts)
            for code, message, binding in lines:
                run.item_failed(code, message, binding)
            run.checkpoint(adapter, remaining=0)
            self.env.invalidate_all()

    # -- log --------------------------------------------------------------------------------------
    @api.model
    def _note_usage(self, run, adapter):
        """What the run spent of MoySklad's limits, on the log's "Request limit" (shown on the
        log, not in the pop-up a button returns: the run's summary is for the user, these
        figures for the administrator)."""
        usage = adapter.usage()
        if not usage:
            return
        run.log.request_usage = self.env._(
            "MoySklad units used: %(units)s in %(requests)s requests (%(weight)s units per "
            "request, stock reports 5; MoySklad allows 45 units per 3 seconds). Waited for the "
            "limit: %(waited)s s. Answers 429: %(limited)s. New tokens: %(tokens)s.",
            units=usage["units"], requests=usage["requests"], weight=usage["request_weight"],
            waited=usage["waited_seconds"], limited=usage["rate_limited"],
            tokens=usage["tokens_issued"],
        )


class SupplierSyncLogMoySklad(models.Model):
    _inherit = "supplier.sync.log"

    request_usage = fields.Text(
        string="Request limit", readonly=True,
        help="What the run spent of the service's request limit: units, seconds waited, "
        "answers 429, new tokens. Shown here, not in the message after Sync or Import.",
    )


class SupplierSyncEngineMoySklad(models.AbstractModel):
    _inherit = "supplier.sync.engine"

    @api.model
    def _scheduled_moysklad_import_catalogue(self, backend):
        return self.env["supplier.moysklad.pull"]._pull_catalogue(backend, trigger="cron")

    @api.model
    def _scheduled_moysklad_sync_offers(self, backend):
        return self.env["supplier.moysklad.pull"]._pull_stock(backend, trigger="cron")
