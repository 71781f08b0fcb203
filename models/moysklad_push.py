"""Odoo is the master: products pushed to MoySklad in bulk (DESIGN §4.2).

- What is sent: the connection's bound products, and, when the connection says so, every
  saleable product of the company not bound yet and/or every product of a chosen category (with
  its subcategories) not bound yet (they are bound, then pushed), as MoySklad products, in
  arrays of up to 1,000 (under 20 MB) per POST.
- When: by the button, and by the scheduler (operation "Push products": a MoySklad connection
  gets its schedule line, every 30 minutes, when Odoo becomes the master of products; the line
  is disabled when Odoo stops being it and enabled again when it becomes it again; an
  administrator may switch it off or change its interval meanwhile). A
  scheduled push is the same code as the button's: what did not change sends nothing, so a
  scheduled run with nothing changed makes no request at all. The button and the scheduler
  never push the same connection at the same time (the operation's lock).
- Creation is idempotent: each binding gets a ``syncId`` (derived from the database and the
  binding, so even a lost stored one is found again) before its first send; a retry after a lost
  answer finds the product MoySklad created. Updates go by the product's href (``meta``).
- Only changed payloads are sent: a binding whose payload hash is the one MoySklad last
  accepted is skipped, so a second push of unchanged products sends no request.
- Prices, when Odoo is the master of prices: each price type mapped to the sales price gets the
  product's sales price; a price type mapped to a pricelist gets the pricelist's price for one
  unit; the purchase price is the product's cost. In kopecks (the client converts) of the
  MoySklad currency mapped to the company currency; a pricelist's price goes in the MoySklad
  currency mapped to the pricelist's currency, or, when none is, converted to the company
  currency at today's rate. Pulled prices are never sent back.
- A product MoySklad accepted is "up to date" on its mapping (a mapping marked "deleted in
  MoySklad" by a webhook is created again by the next push: Odoo is the master).
- Variants pulled from MoySklad are not pushed (they would need their characteristics).
- Images: the product's image is uploaded (base64, ``add_image``) when it changed since the
  last upload (the binding keeps the uploaded file's name and size; the name carries a hash of
  the content); the image uploaded before is then deleted at MoySklad, other images are left
  alone. An upload whose answer was lost is looked up by name and size before it is sent
  again. A product without an image in Odoo keeps its images at MoySklad.
- An item MoySklad refuses gets the reason on its mapping and a line in the log; the others go on.
"""

import base64
import hashlib
import json
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import split_every

from ..api.errors import ApiError, OutcomeUnknown
from ..api.moysklad_payloads import MsProductDraft, MsSalePrice, stable_sync_id
from .bulk import bulk_write
from .error_messages import describe_error
from .run_lock import exclusive_run
from .sync_run import SyncRun

PUSH_CHUNK = 1000
# The schedule line a MoySklad connection gets for its pushes (enabled while Odoo is the master
# of products). Unchanged products cost no request, only Odoo's time to build their payloads.
PUSH_SCHEDULE = {"interval_number": 30, "interval_type": "minutes"}


class SupplierProductMoySklad(models.Model):
    _inherit = "supplier.product"

    moysklad_sync_id = fields.Char(
        string="MoySklad syncId", readonly=True, copy=False,
        help="Sent with the first creation, so that a retry never creates the product twice.",
    )
    moysklad_image_key = fields.Char(
        string="MoySklad main image", readonly=True, copy=False,
        help="File name and size of the main image last taken from MoySklad.",
    )
    moysklad_kind = fields.Selection(
        [("product", "Product"), ("variant", "Variant")], string="MoySklad kind", readonly=True,
        copy=False,
    )


class SupplierBackendMoySkladPush(models.Model):
    _inherit = "supplier.backend"

    moysklad_push_all_saleable = fields.Boolean(
        string="Push all saleable products",
        help="Push products: also map and push every saleable product not mapped yet.",
    )
    moysklad_push_category_id = fields.Many2one(
        "product.category", string="Push the category",
        help="Push products: also map and push every product of this category (and of its "
        "subcategories) not mapped yet.",
    )

    def _moysklad_push_products(self):
        """The "Push products" button's MoySklad run (``_dispatch`` checked the direction)."""
        with exclusive_run(self.env, self, "push_products"):
            return self.env["supplier.moysklad.push"]._push(self, trigger="manual")

    # -- the push schedule ------------------------------------------------------------------------
    def _ensure_schedules(self):
        result = super()._ensure_schedules()
        self.filtered(lambda b: b.service == "moysklad")._moysklad_push_schedule()
        return result

    def write(self, vals):
        directions = {backend.id: backend.moysklad_products_direction for backend in self}
        result = super().write(vals)
        if "moysklad_products_direction" in vals or "service" in vals:
            self.filtered(
                lambda b: b.service == "moysklad"
                and directions.get(b.id) != b.moysklad_products_direction
            )._moysklad_push_schedule()
        return result

    def _moysklad_push_schedule(self):
        """The "Push products" schedule line is enabled exactly when Odoo is the master of
        products: created the first time Odoo becomes it, disabled when it stops being it
        (called when the direction changes, so a line an administrator switched off stays off
        until then). A connection that never pushed has no such line."""
        Schedule = self.env["supplier.backend.schedule"].sudo()
        creates = []
        for backend in self.sudo():
            enabled = backend.moysklad_products_direction == "push"
            schedule = backend.schedule_ids.filtered(lambda s: s.operation == "push_products")
            if not schedule and enabled:
                creates.append({"backend_id": backend.id, "operation": "push_products",
                                "enabled": True, **PUSH_SCHEDULE})
            elif schedule and schedule.enabled != enabled:
                schedule.enabled = enabled
        Schedule.create(creates)


class SupplierScheduleMoySkladPush(models.Model):
    _inherit = "supplier.backend.schedule"

    operation = fields.Selection(
        selection_add=[("push_products", "Push products")], ondelete={"push_products": "cascade"}
    )


class SupplierSyncEngineMoySkladPush(models.AbstractModel):
    _inherit = "supplier.sync.engine"

    @api.model
    def _scheduled_moysklad_push_products(self, backend):
        if backend.moysklad_products_direction != "push":
            # Only a run asked by hand gets here (the line is disabled otherwise).
            return self.env["supplier.sync.log"]
        return self.env["supplier.moysklad.push"]._push(backend, trigger="cron")


def payload_hash(payload):
    """Hash of what a product payload says (its identity, meta or syncId, left out)."""
    content = {key: value for key, value in payload.items() if key not in ("meta", "syncId")}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def barcode_pair(barcode):
    barcode = (barcode or "").strip()
    if not barcode:
        return None
    if barcode.isdigit() and len(barcode) == 13:
        return ("ean13", barcode)
    if barcode.isdigit() and len(barcode) == 8:
        return ("ean8", barcode)
    return ("code128", barcode)


class SupplierMoySkladPush(models.AbstractModel):
    _name = "supplier.moysklad.push"
    _description = "MoySklad product push"

    @api.model
    def _push(self, backend, trigger="manual"):
        backend = backend.sudo()
        # Texts in the connection's language, whoever pushes (the payload's hash depends on it).
        self = self.with_context(lang=backend._content_lang())
        self._bind_scope(backend)
        Binding = self.env["supplier.product"].sudo()
        ids = Binding.search([
            ("backend_id", "=", backend.id),
            "|", ("moysklad_kind", "=", False), ("moysklad_kind", "=", "product"),
        ], order="id").ids
        run = SyncRun(self.env, backend, "push_products", trigger)
        adapter = backend._adapter()
        context = self._push_context(backend, adapter)
        for chunk in split_every(PUSH_CHUNK, ids):
            if not self._push_chunk(backend, adapter, context, Binding.browse(chunk), run):
                break
            run.checkpoint(adapter, remaining=0)
            self.env.invalidate_all()
        if context["images"]:
            run.note(self.env._("Images uploaded: %(count)s.", count=context["images"]))
        self.env["supplier.moysklad.pull"]._note_usage(run, adapter)
        return run.finish(adapter)

    @api.model
    def _bind_scope(self, backend):
        """Map the products of the connection's scopes (all saleable, a category) not mapped
        yet; the products mapped already are pushed anyway."""
        scopes = []
        if backend.moysklad_push_all_saleable:
            scopes.append([("sale_ok", "=", True)])
        if backend.moysklad_push_category_id:
            scopes.append([("categ_id", "child_of", backend.moysklad_push_category_id.id)])
        if not scopes:
            return
        Product = self.env["product.product"].sudo()
        bound = self.env["supplier.product"].sudo().with_context(active_test=False).search_read(
            [("backend_id", "=", backend.id)], ["product_id"]
        )
        products = Product.search(expression.AND([
            expression.OR(scopes),
            [("id", "not in", [row["product_id"][0] for row in bound]),
             ("company_id", "in", [backend.company_id.id, False])],
        ]))
        self.env["supplier.product"].sudo().create([
            {"backend_id": backend.id, "product_id": product.id,
             "external_code": (product.default_code or "").strip() or f"odoo-{product.id}",
             "moysklad_kind": "product"}
            for product in products
        ])

    @api.model
    def _push_context(self, backend, adapter):
        base = adapter.client.base_url.rstrip("/")
        references = backend.with_context(active_test=False).reference_ids
        company_currency = backend.company_id.currency_id
        currency = references.filtered(
            lambda r: r.kind == "ms_currency" and r.odoo_currency_id == company_currency
        )[:1]
        prices = backend.moysklad_prices_direction == "push"
        if prices and not currency:
            raise UserError(self.env._(
                "No MoySklad currency is mapped to %(currency)s, the company currency: test the "
                "connection and map the currencies on its MoySklad tab before pushing prices.",
                currency=company_currency.name,
            ))
        price_types = [
            (f"{base}/context/companysettings/pricetype/{r.code}", r.price_target, r.pricelist_id)
            for r in references
            if r.kind == "ms_price_type" and r.price_target in ("list_price", "pricelist")
        ] if prices else []
        # The MoySklad currency of each Odoo currency mapped (a pricelist's price goes in its own).
        ms_currencies = {}
        for reference in references.filtered(
            lambda r: r.kind == "ms_currency" and r.odoo_currency_id
        ).sorted("id"):
            ms_currencies.setdefault(reference.odoo_currency_id, reference.code)
        return {
            "base": base,
            "prices": prices,
            "price_types": price_types,
            "company": backend.company_id,
            "currency_codes": ms_currencies,
            "currency_href": f"{base}/entity/currency/{currency.code}" if currency else "",
            "database": self.env["ir.config_parameter"].sudo().get_param("database.uuid", ""),
            "images": 0,
        }

    @api.model
    def _drafts(self, context, bindings):
        """MsProductDraft per binding (one read per model for the whole chunk)."""
        products = bindings.product_id.with_context(active_test=False)
        pricelist_prices = {}
        for _href, target, pricelist in context["price_types"]:
            if target == "pricelist":
                pricelist_prices[pricelist.id] = pricelist._get_products_price(products, 1.0)
        company = context["company"]
        today = fields.Date.context_today(self)
        drafts = []
        for binding in bindings:
            product = binding.product_id
            sale_prices = None
            if context["prices"]:
                sale_prices = []
                for href, target, pricelist in context["price_types"]:
                    currency_href = context["currency_href"]
                    if target == "list_price":
                        amount = product.list_price
                    else:
                        amount = pricelist_prices[pricelist.id].get(product.id, 0.0)
                        code = context["currency_codes"].get(pricelist.currency_id)
                        if code:
                            currency_href = f"{context['base']}/entity/currency/{code}"
                        else:
                            amount = pricelist.currency_id._convert(
                                amount, company.currency_id, company, today
                            )
                    sale_prices.append(MsSalePrice(
                        href, Decimal(str(round(amount, 2))), currency_href
                    ))
            barcode = barcode_pair(product.barcode)
            drafts.append(MsProductDraft(
                name=product.name,
                href=(f"{context['base']}/entity/product/{binding.external_id}"
                      if binding.external_id else ""),
                sync_id=binding.moysklad_sync_id or stable_sync_id(
                    context["database"], "supplier.product", binding.id
                ),
                code=product.default_code or None,
                external_code=binding.external_code,
                description=product.description_sale or "",
                archived=not product.active,
                barcodes=[barcode] if barcode else [],
                sale_prices=sale_prices,
                buy_price=(Decimal(str(round(product.standard_price, 2)))
                           if context["prices"] else None),
                buy_currency_href=context["currency_href"] if context["prices"] else "",
                weight=Decimal(str(product.weight)) if product.weight else None,
                volume=Decimal(str(product.volume)) if product.volume else None,
                key=binding.id,
            ))
        return drafts

    @api.model
    def _push_chunk(self, backend, adapter, context, bindings, run):
        """Push one chunk; False when a request failed (the run stops: the products of that
        request were not answered and are sent again by the next push)."""
        Binding = self.env["supplier.product"].sudo()
        due, digests, unchanged = [], {}, []
        for binding, draft in zip(bindings, self._drafts(context, bindings), strict=True):
            try:
                digest = payload_hash(draft.to_json())
            except ValueError as exc:
                self._item_failed(binding, str(exc), "rejected", run)
                continue
            if binding.external_id and binding.push_hash == digest:
                run.add(processed=1, unchanged=1)
                unchanged.append(binding.id)
                continue
            digests[binding.id] = digest
            due.append(draft)
        # The syncId is on the binding before the request leaves (a crash finds it again).
        bulk_write(Binding, {
            draft.key: {"moysklad_sync_id": draft.sync_id}
            for draft in due if not draft.href and not bindings.browse(draft.key).moysklad_sync_id
        })
        now = fields.Datetime.now()
        try:
            context["images"] += self._push_images(adapter, Binding.browse(unchanged), run)
            for results in adapter.client.push_products(due):
                done = {}
                for result in results:
                    binding = Binding.browse(result.key)
                    if result.ok:
                        done[binding.id] = {
                            "external_id": result.id, "push_hash": digests[binding.id],
                            "last_push": now, "push_message": False, "moysklad_kind": "product",
                            "sync_state": "ok", "sync_message": False,
                        }
                        run.add(processed=1, **{"created" if result.created else "updated": 1})
                    else:
                        self._item_failed(
                            binding, describe_error(self.env, result.error),
                            result.error.code, run,
                        )
                bulk_write(Binding, done)
                context["images"] += self._push_images(adapter, Binding.browse(list(done)), run)
        except ApiError as exc:
            run.stop(exc)
            return False
        return True

    @api.model
    def _image_checksums(self, products):
        """{product id: checksum of its image} from the attachments (no image read): the
        variant's own image, else its template's."""
        rows = self.env["ir.attachment"].sudo().search_read([
            "|",
            "&", ("res_model", "=", "product.product"), "&",
            ("res_field", "=", "image_variant_1920"), ("res_id", "in", products.ids),
            "&", ("res_model", "=", "product.template"), "&",
            ("res_field", "=", "image_1920"), ("res_id", "in", products.product_tmpl_id.ids),
        ], ["res_model", "res_id", "checksum"])
        variant = {r["res_id"]: r["checksum"] for r in rows if r["res_model"] == "product.product"}
        template = {r["res_id"]: r["checksum"] for r in rows if r["res_model"] == "product.template"}
        return {
            product.id: variant.get(product.id) or template.get(product.product_tmpl_id.id)
            for product in products
        }

    @api.model
    def _push_images(self, adapter, bindings, run):
        """Upload the changed images of ``bindings`` (pushed or unchanged products with a
        MoySklad id); run-level errors raise."""
        bindings = bindings.filtered("external_id")
        uploaded = 0
        if not bindings:
            return uploaded
        engine = self.env["supplier.sync.engine"]
        Binding = self.env["supplier.product"].sudo()
        checksums = self._image_checksums(bindings.product_id)
        for binding in bindings:
            checksum = checksums.get(binding.product_id.id)
            previous = binding.moysklad_image_key or ""
            if not checksum or previous.startswith(f"odoo-{binding.product_id.id}-{checksum[:12]}."):
                continue
            raw = base64.b64decode(binding.product_id.image_1920)
            extension = "jpg" if raw[:2] == b"\xff\xd8" else "png"
            filename = f"odoo-{binding.product_id.id}-{checksum[:12]}.{extension}"
            key = f"{filename}:{len(raw)}"
            try:
                images = self._upload_image(adapter, binding.external_id, filename, raw, key)
                for image in images or ():
                    if previous and f"{image.filename}:{image.size}" == previous:
                        adapter.client.delete_image(binding.external_id, image.id)
            except ApiError as exc:
                if engine._stops_the_run(exc):
                    raise
                message = self.env._("The image was not uploaded: %(reason)s",
                                     reason=describe_error(self.env, exc, log=False))
                binding.push_message = message
                run.item_failed(exc.code, message, binding)
                continue
            if images is not None:
                bulk_write(Binding, {binding.id: {"moysklad_image_key": key}})
                uploaded += 1
        return uploaded

    @api.model
    def _upload_image(self, adapter, product_id, filename, raw, key):
        """The product's images after the upload; None when the answer was lost and the image
        is not there (the next push tries again)."""
        try:
            return adapter.client.add_image(product_id, filename, raw)
        except OutcomeUnknown:
            images = adapter.client.list_images(product_id)
            if any(f"{image.filename}:{image.size}" == key for image in images):
                return images
            return None

    @api.model
    def _item_failed(self, binding, message, code, run):
        binding.push_message = message
        run.add(processed=1, failed=1)
        run.item_failed(code, message, binding)
