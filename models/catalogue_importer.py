import logging
import time
from collections import defaultdict

from odoo import api, fields, models

from ..api.errors import ApiError
from .error_messages import describe_code_problem
from .run_lock import exclusive_run
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)


class SupplierCatalogueImporter(models.AbstractModel):
    """"Import catalogue": bind (and optionally create) products from the supplier's own list.

    The service prepares the file in the background (ETM: the SgGds job, which may take hours):
    the button polls for a short while, and when the file is not ready yet the job reference is
    kept on the connection and the scheduler picks it up later.

    Matching, in this order: client code = internal reference; manufacturer article (+ brand when
    the product has a manufacturer) = manufacturer article; supplier code = vendor product code
    or internal reference. An item that matches several products is reported, not guessed.
    """

    _name = "supplier.catalogue.importer"
    _description = "Supplier catalogue import"

    @api.model
    def _import(self, backend, trigger="manual"):
        """One import step. A cron run has the operation's lock from the scheduler; the button
        takes it ("already running" while a scheduled import is under way)."""
        if trigger != "cron":
            with exclusive_run(self.env, backend, "import_catalogue"):
                return self._import_step(backend.sudo(), trigger)
        return self._import_step(backend.sudo(), trigger)

    @api.model
    def _import_step(self, backend, trigger):
        run = SyncRun(self.env, backend, "import_catalogue", trigger)
        adapter = backend._adapter()
        polls = 1 if trigger == "cron" else max(backend.catalogue_poll_count, 1)
        job, items = backend.catalogue_job_ref or False, None
        try:
            for attempt in range(polls):
                items, job = adapter.fetch_catalogue(job)
                if items is not None:
                    break
                if attempt + 1 < polls:
                    time.sleep(backend.catalogue_poll_seconds)
        except ApiError as exc:
            backend.catalogue_job_ref = False
            run.stop(exc)
            return run.finish(adapter)
        backend.catalogue_job_ref = job or False
        if items is None:
            self._schedule_next_poll(backend)
            run.note(self.env._(
                "The supplier is still preparing the catalogue file; it will be imported "
                "automatically when it is ready."
            ))
            return run.finish(adapter)
        self._apply(backend, adapter, items, run)
        return run.finish(adapter)

    @api.model
    def _schedule_next_poll(self, backend):
        schedule = backend.schedule_ids.filtered(lambda s: s.operation == "import_catalogue")
        soon = fields.Datetime.add(fields.Datetime.now(), minutes=5)
        schedule.write({"next_call": soon})

    @api.model
    def _apply(self, backend, adapter, items, run):
        Binding = self.env["supplier.product"].sudo()
        existing = Binding.search([("backend_id", "=", backend.id)])
        by_external_id = {b.external_id: b for b in existing if b.external_id}
        by_code = {b.external_code: b for b in existing}
        bound_products = set(existing.product_id.ids)
        index = self._product_index(backend)
        new_bindings, new_products, ambiguous = [], [], []
        matched = set()
        for item in items:
            run.add(processed=1)
            code = adapter.catalogue_code(item)
            binding = by_external_id.get(item.external_id) or by_code.get(code)
            if binding:
                if binding.external_id != item.external_id:
                    binding.external_id = item.external_id
                    run.add(updated=1)
                else:
                    run.add(unchanged=1)
                continue
            problem = adapter.code_problem(code)
            if problem:
                run.item_failed(
                    "unsafe_code", describe_code_problem(self.env, problem),
                    reference=f"{code} {item.name}",
                )
                run.add(failed=1)
                continue
            candidates = self._match(index, item) - bound_products - matched
            if len(candidates) > 1:
                ambiguous.append(item)
                continue
            vals = {
                "backend_id": backend.id,
                "external_code": code,
                "external_id": item.external_id,
                "external_brand": item.brand or False,
                "external_name": item.name or False,
            }
            if candidates:
                product_id = candidates.pop()
                matched.add(product_id)
                new_bindings.append(dict(vals, product_id=product_id))
            elif backend.catalogue_create_products and item.name:
                new_products.append((item, vals))
            else:
                run.add(not_found=1)
        if new_products:
            products = self.env["product.product"].sudo().create([
                self._product_values(backend, item) for item, _vals in new_products
            ])
            new_bindings += [
                dict(vals, product_id=product.id)
                for product, (_item, vals) in zip(products, new_products, strict=True)
            ]
        Binding.create(new_bindings)
        run.add(created=len(new_bindings), failed=len(ambiguous))
        for item in ambiguous:
            run.item_failed(
                "ambiguous",
                self.env._("This catalogue line matches several products; map it by hand."),
                reference=f"{item.external_id} {item.name}",
            )
        run.note(self.env._(
            "Catalogue lines: %(lines)s. New mappings: %(mapped)s (new products: %(products)s).",
            lines=len(items), mapped=len(new_bindings), products=len(new_products),
        ))

    @api.model
    def _product_index(self, backend):
        index = defaultdict(lambda: defaultdict(set))
        products = self.env["product.product"].sudo().search_read(
            [("company_id", "in", [backend.company_id.id, False])],
            ["default_code", "manufacturer_article", "manufacturer_name"],
        )
        for row in products:
            if row["default_code"]:
                index["ref"][row["default_code"].strip().lower()].add(row["id"])
            if row["manufacturer_article"]:
                brand = (row["manufacturer_name"] or "").strip().lower()
                key = row["manufacturer_article"].strip().lower()
                index["article"][key].add(row["id"])
                index["article_brand"][(key, brand)].add(row["id"])
        if backend.partner_id:
            for info in self.env["product.supplierinfo"].sudo().search([
                ("partner_id", "=", backend.partner_id.id), ("product_code", "!=", False),
            ]):
                targets = info.product_id or info.product_tmpl_id.product_variant_ids
                index["vendor"][info.product_code.strip().lower()].update(targets.ids)
        return index

    @api.model
    def _match(self, index, item):
        client_code = (item.client_code or "").strip().lower()
        if client_code and index["ref"].get(client_code):
            return set(index["ref"][client_code])
        article = (item.article or "").strip().lower()
        if article:
            brand = (item.brand or "").strip().lower()
            with_brand = index["article_brand"].get((article, brand))
            if with_brand:
                return set(with_brand)
            # Products without a manufacturer recorded match by article alone.
            without_brand = index["article_brand"].get((article, ""))
            if without_brand:
                return set(without_brand)
        code = (item.external_id or "").strip().lower()
        for key in (code, "etm" + code):
            found = index["vendor"].get(key) or index["ref"].get(key)
            if found:
                return set(found)
        return set()

    @api.model
    def _product_values(self, backend, item):
        return {
            "name": item.name,
            "default_code": item.client_code or item.article or False,
            "manufacturer_name": item.brand or False,
            "manufacturer_article": item.article or False,
            "type": "consu",
            "purchase_ok": True,
            "company_id": backend.company_id.id,
        }
