"""Goods pushed to IMSKLAD (add_good / update_good), DESIGN §4.2.

A binding's payload is hashed; a binding whose hash is the one IMSKLAD last accepted is not sent
again, so a second push of unchanged products makes no request. "Already exists" (a lost answer,
a second Odoo) is adopted through update_good, which returns IMSKLAD's id.

What a good carries, and the decisions where the document is silent:

- Texts (name, description, size) in the language of the connection's vendor partner, else of
  the company: the payload, hence its hash, does not depend on who presses the button.
- Weight in grams from Odoo's product weight unit (kg, or lb with ``product.weight_in_lbs``);
  length, width and height (models/product_dimensions.py) in mm from Odoo's product length unit
  (mm, or ft with ``product.volume_in_cubic_feet``). Zero or empty is not sent.
- Size: the product's value of the connection's size attribute (a variant's value, or the only
  value of the template's line). Colour: the value of the colour attribute mapped through the
  connection's colour table (models/imsklad_colour.py); a value without an IMSKLAD colour is
  sent without one, and the binding's push problem and the run log say so.
- Image, only when the connection publishes images: a link to the public route of
  controllers/product_image.py, ``<public URL>/supplier_connector/imsklad/image/<binding id>/
  <version>-<signature>.<ext>``. The version is the start of the image's checksum, so the link
  changes when the image does (the payload changes, update_good sends it) and only then; the
  signature is an HMAC of the binding and the version with a secret of the connection, so links
  cannot be guessed or listed. The route serves the binding's current image, and answers 404 for
  anything else or when publishing is switched off. A link of an older image of the same binding
  still shows the current one (IMSKLAD keeps working until the next push), without the
  long-lived caching the current link has. The public URL is the connection's "Public URL of
  Odoo", else the Web Base URL. Switching publishing off sends the goods again without ``image``:
  the document has no way to remove an image at IMSKLAD, and the old links answer 404.
- Products to send are chosen by the push wizard (wizards/imsklad_push_wizard.py); products not
  bound yet are bound with our id = the internal reference, else ``ODOO-<id>``; an internal
  reference already used on the connection gets the generated id instead (two products under one
  id would be one good at IMSKLAD). Bindings that share an id anyway (mapped by hand) are not
  sent and are listed as failed.
"""

import contextlib
import hashlib
import hmac
import json
import secrets

from odoo import api, fields, models
from odoo.tools import split_every

from ..api.errors import AlreadyExists, ApiError, NotFound, OutcomeUnknown, RequestRejected
from ..api.imsklad_payloads import good_data
from .error_messages import describe_error
from .imsklad_good_builder import (
    IMAGE_NAME,
    GoodsBuilder,
    image_signature,
    product_images,
    unit_factors,
)
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

    def _imsklad_push_products(self):
        """Send new and changed products to the warehouse now; unchanged ones are not sent."""
        return self.env["supplier.imsklad.goods"]._push(self, trigger="manual")

    def action_imsklad_open_push_wizard(self):
        """Choose the products to send to the warehouse."""
        self._check_right("manager")
        self.ensure_one()
        self._check_operation("push_products")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Push products"),
            "res_model": "supplier.imsklad.push.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_backend_id": self.id,
                "default_scope": "storable" if self.imsklad_push_all_storable else "bound",
            },
        }

    def _imsklad_image_secret(self):
        """The secret the image links are signed with (made the first time it is needed)."""
        self.ensure_one()
        backend = self.sudo()
        if not backend.imsklad_image_secret:
            backend.imsklad_image_secret = secrets.token_urlsafe(32)
        return backend.imsklad_image_secret


class SupplierImskladGoods(models.AbstractModel):
    _name = "supplier.imsklad.goods"
    _description = "IMSKLAD goods push"

    @api.model
    def _bind_storable(self, backend):
        """Bind the storable products of the company not bound yet."""
        products = self.env["product.product"].sudo().search([
            ("is_storable", "=", True),
            ("company_id", "in", [backend.company_id.id, False]),
        ])
        return self._bind_products(backend, products)

    @api.model
    def _bind_products(self, backend, products):
        """(bindings of ``products``, notes): those missing are created with our id, the
        internal reference, else a generated one (also when the reference is taken)."""
        Binding = self.env["supplier.product"].sudo()
        existing = Binding.search([("backend_id", "=", backend.id), ("product_id", "in", products.ids)])
        new = products - existing.product_id
        if not new:
            return existing, []
        taken = {row["external_code"] for row in Binding.search_read(
            [("backend_id", "=", backend.id)], ["external_code"]
        )}
        vals_list, renamed = [], []
        for product in new:
            code = our_good_id(product)
            if code in taken:
                renamed.append(code)
                code, suffix = f"ODOO-{product.id}", 1
                while code in taken:
                    suffix += 1
                    code = f"ODOO-{product.id}-{suffix}"
            taken.add(code)
            vals_list.append({"backend_id": backend.id, "product_id": product.id,
                              "external_code": code})
        notes = []
        if renamed:
            notes.append(self.env._(
                "%(count)s products have an internal reference another product of the connection "
                "already has (%(references)s): they were given a generated id.",
                count=len(renamed), references=", ".join(sorted(set(renamed))[:10]),
            ))
        return existing | Binding.create(vals_list), notes

    @api.model
    def _push(self, backend, trigger="manual", bindings=None, notes=()):
        backend = backend.sudo()
        if bindings is None:
            notes = list(notes)
            if backend.imsklad_push_all_storable:
                notes += self._bind_storable(backend)[1]
            bindings = backend.binding_ids
        bindings = bindings.sudo().with_context(lang=backend._content_lang())
        run = SyncRun(self.env, backend, "push_products", trigger)
        for note in notes:
            run.note(note)
        adapter = backend._adapter()
        shared = self._shared_codes(backend)
        owners = {row["external_id"]: row["id"] for row in self.env["supplier.product"].sudo().search_read(
            [("backend_id", "=", backend.id), ("external_id", "!=", False)], ["external_id"]
        )}
        total = len(bindings)
        units = unit_factors(self.env)
        for chunk in split_every(max(backend.batch_size, 1), bindings.ids):
            batch = bindings.browse(chunk)
            builder = GoodsBuilder(backend.with_env(bindings.env), batch, units)
            stopped = not self._push_batch(adapter, batch, run, builder, shared, owners)
            if uncoloured := builder.uncoloured_sent:
                run.note(self.env._(
                    "%(count)s products were sent without a colour: give these colours an "
                    "IMSKLAD colour on the connection: %(colours)s.",
                    count=sum(uncoloured.values()), colours=", ".join(sorted(uncoloured)),
                ))
            if stopped:
                break
            run.checkpoint(adapter, remaining=total - run.counts["processed"])
        return run.finish(adapter)

    @api.model
    def _shared_codes(self, backend):
        """Our ids that several bindings of the connection use."""
        groups = self.env["supplier.product"].sudo()._read_group(
            [("backend_id", "=", backend.id)], ["external_code"], having=[("__count", ">", 1)]
        )
        return {code for (code,) in groups}

    @api.model
    def _push_batch(self, adapter, bindings, run, builder, shared=(), owners=None):
        """Push one batch; False when a connection-level error stopped the run."""
        owners = {} if owners is None else owners
        now = fields.Datetime.now()
        for binding in bindings:
            good = good_of(binding, builder)
            notes, unmapped = builder.notes[binding.id], builder.unmapped[binding.id]
            digest = payload_hash(good)
            run.add(processed=1)
            if binding.external_id and binding.push_hash == digest:
                run.add(unchanged=1)
                continue
            if binding.external_code in shared:
                self._item_failed(run, binding, "duplicate_id", self.env._(
                    "Several products of the connection have the id %s: IMSKLAD would take them "
                    "for one good. Give each its own supplier code.", binding.external_code,
                ))
                continue
            try:
                system_id, created = self._send_good(adapter, binding, good)
            except ITEM_ERRORS as exc:
                self._item_failed(run, binding, exc.code, describe_error(self.env, exc))
                continue
            except ApiError as exc:
                run.stop(exc)
                return False
            external_id = str(system_id) if system_id is not None else False
            if not external_id or owners.get(external_id, binding.id) != binding.id:
                self._item_failed(run, binding, "bad_answer", self.env._(
                    "IMSKLAD answered with the id %s, which another product of the connection "
                    "has already: not saved.", external_id,
                ) if external_id else self.env._("IMSKLAD answered without the good's id."))
                continue
            owners[external_id] = binding.id
            binding.write({
                "external_id": external_id, "push_hash": digest, "last_push": now,
                "push_message": "\n".join(notes) or False,
            })
            if unmapped:
                builder.uncoloured_sent[unmapped] += 1
            run.add(**{"created" if created else "updated": 1})
        return True

    @api.model
    def _item_failed(self, run, binding, code, message):
        binding.push_message = message
        run.add(failed=1)
        run.item_failed(code, message, binding)

    @api.model
    def _send_good(self, adapter, binding, good):
        """(IMSKLAD id, created?) after add_good or update_good."""
        if binding.external_id:
            with contextlib.suppress(NotFound):  # not found: deleted at the warehouse, add it again
                return adapter.update_good(good).system_id or binding.external_id, False
        try:
            return adapter.add_good(good).system_id, True
        except AlreadyExists as exc:
            # Ours already (a lost answer, another Odoo): adopt it with our current payload.
            result = adapter.update_good(good)
            return result.system_id or exc.existing_id, False

    @api.model
    def _image_to_serve(self, binding_id, name):
        """(attachment, current?) of the image link ``name`` of the binding, None when the link
        is not one this Odoo gave (or publishing is off): the public route's only question."""
        match = IMAGE_NAME.fullmatch(name or "")
        if not match:
            return None
        binding = self.env["supplier.product"].sudo().browse(binding_id).exists()
        backend = binding.backend_id
        if not (binding and backend.active and backend.service == "imsklad"
                and backend.imsklad_publish_images and backend.imsklad_image_secret):
            return None
        version, signature = match.groups()
        expected = image_signature(backend.imsklad_image_secret, binding.id, version)
        if not hmac.compare_digest(signature, expected):
            return None
        image = product_images(self.env, binding.product_id).get(binding.product_id.id)
        if not image:
            return None
        attachment = self.env["ir.attachment"].sudo().browse(image.attachment_id)
        return attachment, image.version == version


def our_good_id(product):
    """The id IMSKLAD knows our product by: its internal reference, else a generated one."""
    return (product.default_code or "").strip() or f"ODOO-{product.id}"


def good_of(binding, builder=None):
    """The good of one binding, as it is pushed; ``builder``: the GoodsBuilder of its batch."""
    if builder is None:
        builder = GoodsBuilder(binding.backend_id.sudo(), binding)
    return builder.good(binding)
