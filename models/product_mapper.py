from collections import defaultdict

from odoo import api, models
from odoo.tools import split_every

from ..api.errors import ApiError
from .sync_run import SyncRun


class SupplierProductMapper(models.AbstractModel):
    """"Map products automatically": bind unmapped products by the codes Odoo already has.

    For each product not yet bound to the connection, the candidate codes are, in this order:
    the vendor product code on the connection partner's vendor price, the manufacturer article
    (when the connection asks by article), the internal reference, the barcode. A code held by
    several products is ambiguous and binds none of them. The remaining codes are checked with
    the service in API-sized batches, with the product's manufacturer as brand where the service
    identifies articles by code and brand (Shate-M); a product is bound by its first code the
    service knows unambiguously, with the brand the service confirmed.

    How the log counts (issue 11): each product once. Mapped = created; not found = every code
    was asked and none is known; ambiguous = listed as a line to map by hand, not counted as
    failed (the run itself did not fail); failed = products a stopped run (the service refused
    or did not answer) could not ask. A mapping run is not a sync: the connection's last sync
    state ignores it.
    """

    _name = "supplier.product.mapper"
    _description = "Supplier product auto-mapping"

    @api.model
    def _auto_map(self, backend):
        backend = backend.sudo()
        run = SyncRun(self.env, backend, "map_products", "manual")
        adapter = backend._adapter()
        products = self._unmapped_products(backend)
        codes_by_product = self._candidate_codes(backend, adapter, products)
        holders = defaultdict(set)
        for product_id, codes in codes_by_product.items():
            for code in codes:
                holders[code].add(product_id)
        unique_codes = [code for code, owners in holders.items() if len(owners) == 1]
        brands = {
            code: products.browse(next(iter(holders[code]))).manufacturer_name or ""
            for code in unique_codes
        }
        known, asked = {}, set()
        for chunk in split_every(max(backend.batch_size, 1), unique_codes):
            try:
                known.update(adapter.check_codes(list(chunk), brands))
            except ApiError as exc:
                run.stop(exc)
                break
            asked.update(chunk)
        vals_list, ambiguous, missing, unchecked = [], [], 0, 0
        for product in products:
            codes = codes_by_product.get(product.id, [])
            chosen = next((c for c in codes if c in known and len(holders[c]) == 1), None)
            if chosen:
                vals_list.append({
                    "backend_id": backend.id, "product_id": product.id, "external_code": chosen,
                    "external_brand": known[chosen] or False,
                })
            elif any(len(holders[c]) > 1 for c in codes):
                ambiguous.append((product, [c for c in codes if len(holders[c]) > 1]))
            elif all(c in asked for c in codes):
                missing += 1
            else:
                # The run stopped before its codes were asked: it was not mapped, for now.
                unchecked += 1
        self.env["supplier.product"].sudo().create(vals_list)
        for product, codes in ambiguous:
            run.item_failed(
                "ambiguous",
                self.env._(
                    "The code %(codes)s belongs to several products; map this one by hand.",
                    codes=", ".join(codes),
                ),
                reference=product.display_name,
            )
        # An ambiguous product is listed (a line to map it by hand), not counted as failed:
        # "failed" is what the service could not check. A mapping run is no sync either: the
        # connection's last sync state ignores it (models/supplier_backend_dashboard.py).
        run.add(processed=len(products), created=len(vals_list), failed=unchecked,
                not_found=missing)
        run.note(self.env._(
            "Mapped: %(mapped)s. Ambiguous, to map by hand: %(ambiguous)s. Not found at the "
            "supplier: %(missing)s.", mapped=len(vals_list), ambiguous=len(ambiguous),
            missing=missing,
        ))
        return run.finish(adapter)

    @api.model
    def _unmapped_products(self, backend):
        bound = self.env["supplier.product"].sudo().search(
            [("backend_id", "=", backend.id)]
        ).product_id
        return self.env["product.product"].sudo().search([
            ("id", "not in", bound.ids),
            ("company_id", "in", [backend.company_id.id, False]),
            ("purchase_ok", "=", True),
        ])

    @api.model
    def _candidate_codes(self, backend, adapter, products):
        vendor_codes = {}
        if backend.partner_id:
            infos = self.env["product.supplierinfo"].sudo().search([
                ("partner_id", "=", backend.partner_id.id),
                ("product_tmpl_id", "in", products.product_tmpl_id.ids),
                ("product_code", "!=", False),
            ])
            for info in infos:
                targets = info.product_id or info.product_tmpl_id.product_variant_ids
                for product in targets:
                    vendor_codes.setdefault(product.id, info.product_code)
        by_article = adapter.asks_by_article()
        codes = {}
        for product in products:
            candidates = [
                vendor_codes.get(product.id),
                product.manufacturer_article if by_article else None,
                product.default_code,
                product.barcode,
            ]
            # A reference the service cannot be asked by (a comma in an ETM code) is no candidate.
            codes[product.id] = list(dict.fromkeys(
                c.strip() for c in candidates
                if c and c.strip() and not adapter.code_problem(c.strip())
            ))
        return codes
