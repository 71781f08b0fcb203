"""Goods pushed to IMSKLAD (add_good / update_good), DESIGN §4.2.

A binding's payload is hashed; a binding whose hash is the one IMSKLAD last accepted is not sent
again, so a second push of unchanged products makes no request. "Already exists" (a lost answer,
a second Odoo) is adopted through update_good, which returns IMSKLAD's id.
"""

import hashlib
import json

from odoo import api, fields, models
from odoo.tools import split_every

from ..api.errors import AlreadyExists, ApiError, NotFound, OutcomeUnknown, RequestRejected
from ..api.imsklad import ImskladGood
from ..api.imsklad_payloads import good_data
from .error_messages import describe_error
from .sync_run import SyncRun

ITEM_ERRORS = (NotFound, RequestRejected, OutcomeUnknown)


def payload_hash(good):
    data, _item = good_data(good)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SupplierLogOperationsImsklad(models.Model):
    _inherit = "supplier.sync.log"

    operation = fields.Selection(
        selection_add=[("push_products", "Push products"), ("push_sale", "Send sale orders")],
        ondelete={"push_products": "cascade", "push_sale": "cascade"},
    )


class SupplierBackendImskladGoods(models.Model):
    _inherit = "supplier.backend"

    def action_push_products(self):
        """Send new and changed products to the warehouse now; unchanged ones are not sent."""
        self._check_right("manager")
        logs = self.env["supplier.sync.log"]
        for backend in self:
            backend._check_operation("push_products")
            logs |= self.env["supplier.imsklad.goods"]._push(backend, trigger="manual")
        if len(logs) == 1:
            return logs._notification()
        return logs._action_open()


class SupplierImskladGoods(models.AbstractModel):
    _name = "supplier.imsklad.goods"
    _description = "IMSKLAD goods push"

    @api.model
    def _bind_storable(self, backend):
        """Bind the storable products of the company not bound yet (our id: the internal
        reference, else a generated one)."""
        Product = self.env["product.product"].sudo()
        bound = backend.sudo().binding_ids.product_id
        products = Product.search([
            ("is_storable", "=", True),
            ("id", "not in", bound.ids),
            ("company_id", "in", [backend.company_id.id, False]),
        ])
        self.env["supplier.product"].sudo().create([
            {"backend_id": backend.id, "product_id": product.id,
             "external_code": our_good_id(product)}
            for product in products
        ])

    @api.model
    def _push(self, backend, trigger="manual", bindings=None):
        backend = backend.sudo()
        if bindings is None:
            if backend.imsklad_push_all_storable:
                self._bind_storable(backend)
            bindings = backend.binding_ids
        run = SyncRun(self.env, backend, "push_products", trigger)
        adapter = backend._adapter()
        for chunk in split_every(max(backend.batch_size, 1), bindings.ids):
            if not self._push_batch(adapter, bindings.browse(chunk), run):
                break
            run.checkpoint(adapter, remaining=0)
        return run.finish(adapter)

    @api.model
    def _push_batch(self, adapter, bindings, run):
        """Push one batch; False when a connection-level error stopped the run."""
        now = fields.Datetime.now()
        for binding in bindings:
            good = good_of(binding)
            digest = payload_hash(good)
            run.add(processed=1)
            if binding.external_id and binding.push_hash == digest:
                run.add(unchanged=1)
                continue
            try:
                system_id, created = self._send_good(adapter, binding, good)
            except ITEM_ERRORS as exc:
                message = describe_error(self.env, exc)
                binding.push_message = message
                run.add(failed=1)
                run.item_failed(exc.code, message, binding)
                continue
            except ApiError as exc:
                run.stop(exc)
                return False
            binding.write({
                "external_id": str(system_id), "push_hash": digest, "last_push": now,
                "push_message": False,
            })
            run.add(**{"created" if created else "updated": 1})
        return True

    @api.model
    def _send_good(self, adapter, binding, good):
        """(IMSKLAD id, created?) after add_good or update_good."""
        if binding.external_id:
            try:
                return adapter.update_good(good).system_id or binding.external_id, False
            except NotFound:
                pass  # deleted at the warehouse: add it again
        try:
            return adapter.add_good(good).system_id, True
        except AlreadyExists as exc:
            # Ours already (a lost answer, another Odoo): adopt it with our current payload.
            result = adapter.update_good(good)
            return result.system_id or exc.existing_id, False


def our_good_id(product):
    """The id IMSKLAD knows our product by: its internal reference, else a generated one."""
    return (product.default_code or "").strip() or f"ODOO-{product.id}"


def good_of(binding):
    product = binding.product_id
    weight = product.weight or 0.0
    return ImskladGood(
        id=binding.external_code,
        name=product.name or product.display_name,
        price=product.lst_price or 0.0,
        cost=product.standard_price or 0.0,
        description=product.description_sale or None,
        # Odoo weighs in kg by default; IMSKLAD in grams.
        weight=round(weight * 1000) if weight else None,
    )
