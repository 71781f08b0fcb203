import base64

from markupsafe import Markup, escape

from odoo import api, models

from ..api.errors import ApiError, NotFound, RequestRejected
from .error_messages import describe_error, describe_item
from .sync_run import SyncRun

# Units as suppliers spell them → Odoo's standard units of measure.
UNIT_XMLIDS = {
    "шт": "uom.product_uom_unit",
    "шт.": "uom.product_uom_unit",
    "pcs": "uom.product_uom_unit",
    "м": "uom.product_uom_meter",
    "m": "uom.product_uom_meter",
    "км": "uom.product_uom_km",
    "кг": "uom.product_uom_kgm",
    "kg": "uom.product_uom_kgm",
    "г": "uom.product_uom_gram",
    "л": "uom.product_uom_litre",
}


class SupplierProductEnricher(models.AbstractModel):
    """"Enrich from supplier": name, manufacturer, article, unit, characteristics and image.

    Characteristics go to the product's internal description as a table (attributes would
    create variants). The unit is only changed while the product has no stock moves, since
    Odoo forbids changing it afterwards. Images are downloaded with a size cap from trusted
    hosts only (see the API client).

    Only what differs from the product is written. What changed is told on the product's
    chatter, from which connection: one note per product per run, all posted at the end of the
    run in one batch (``_message_log_batch``: one ``create`` of the messages, no notification).
    A product whose details are all as they were gets no note (an unchanged run posts nothing).
    Names and short values show old → new; the description and the image only say "updated".
    """

    _name = "supplier.product.enricher"
    _description = "Supplier product enrichment"

    @api.model
    def _enrich(self, bindings):
        logs = self.env["supplier.sync.log"]
        for backend, backend_bindings in bindings.sudo().grouped("backend_id").items():
            backend._check_operation("enrich")
            logs |= self._enrich_backend(backend, backend_bindings)
        return logs[:1]

    @api.model
    def _enrich_backend(self, backend, bindings):
        run = SyncRun(self.env, backend, "enrich", "manual")
        adapter = backend._adapter()
        notes = {}
        for binding in bindings:
            run.add(processed=1)
            try:
                details = adapter.product_details(
                    binding.external_code, binding.external_id, binding.external_brand
                )
            except (NotFound, RequestRejected) as exc:
                run.add(failed=1)
                run.item_failed(
                    exc.code, describe_item(self.env, exc.code, {"code": binding.external_code},
                                            exc.detail), binding
                )
                continue
            except ApiError as exc:
                run.stop(exc)
                break
            try:
                with self.env.cr.savepoint():
                    warnings, changes = self._write_details(binding.product_id, details)
            except Exception as exc:  # noqa: BLE001 — e.g. an image Odoo cannot decode
                run.add(failed=1)
                run.item_failed("internal", describe_error(self.env, exc), binding)
                continue
            binding.write({"external_name": details.name or binding.external_name,
                           "external_brand": details.manufacturer or binding.external_brand})
            if changes:
                run.add(updated=1)
                notes.setdefault(binding.product_id.product_tmpl_id.id, []).extend(changes)
            else:
                run.add(unchanged=1)
            for warning in warnings:
                run.note(f"{binding.product_id.display_name}: {warning}")
        self._post_changes(backend, notes)
        return run.finish(adapter)

    @api.model
    def _post_changes(self, backend, notes):
        """One chatter note per product: {template id: [change, …]}, posted in one batch."""
        if not notes:
            return
        title = self.env._("Enriched from %(connection)s:", connection=backend.name)
        bodies = {
            template_id: Markup("<p>%s</p><ul>%s</ul>") % (
                title, Markup("").join(Markup("<li>%s</li>") % change for change in changes)
            )
            for template_id, changes in notes.items()
        }
        self.env["product.template"].sudo().browse(list(bodies))._message_log_batch(
            bodies, author_id=self.env.user.partner_id.id
        )

    @api.model
    def _write_details(self, product, details):
        """Write what differs; return (warnings, changes in words)."""
        template = product.product_tmpl_id
        warnings = []
        vals = {}
        if details.name:
            vals["name"] = details.name
        if details.manufacturer:
            vals["manufacturer_name"] = details.manufacturer
        if details.article:
            vals["manufacturer_article"] = details.article
        if details.characteristics or details.description:
            vals["description"] = self._description_html(details)
        if details.image:
            vals["image_1920"] = base64.b64encode(details.image)
        elif details.image_error:
            warnings.append(self.env._(
                "image not loaded: %(reason)s", reason=describe_error(self.env, details.image_error)
            ))
        uom = self._uom(details.unit)
        if uom and uom != template.uom_id:
            has_moves = self.env["stock.move"].sudo().search_count(
                [("product_id", "in", template.product_variant_ids.ids)], limit=1
            )
            if has_moves:
                warnings.append(self.env._("unit not changed: the product already has stock moves"))
            else:
                vals.update(uom_id=uom.id, uom_po_id=uom.id)
        changes = self._changes(template, vals)
        vals = {name: value for name, value in vals.items() if name in changes}
        if vals:
            template.write(vals)
        return warnings, [change for change in changes.values() if change]

    @api.model
    def _changes(self, template, vals):
        """{field: the change in words} of the ``vals`` that differ from ``template``."""
        labels = {
            "name": self.env._("Name"),
            "manufacturer_name": self.env._("Manufacturer"),
            "manufacturer_article": self.env._("Manufacturer article"),
        }
        changes = {}
        for name, label in labels.items():
            if name in vals and (vals[name] or "") != (template[name] or ""):
                changes[name] = self.env._(
                    "%(field)s: %(old)s → %(new)s", field=label, old=template[name] or "—",
                    new=vals[name],
                )
        description = template._fields["description"]
        if "description" in vals and str(
            description.convert_to_cache(vals["description"], template) or ""
        ) != str(template.description or ""):
            changes["description"] = self.env._("Description and characteristics updated")
        if "image_1920" in vals and vals["image_1920"] != template.image_1920:
            changes["image_1920"] = self.env._("Image updated")
        if "uom_id" in vals and vals["uom_id"] != template.uom_id.id:
            new_uom = self.env["uom.uom"].browse(vals["uom_id"])
            changes["uom_id"] = self.env._(
                "Unit: %(old)s → %(new)s", old=template.uom_id.name, new=new_uom.name
            )
            changes["uom_po_id"] = None
        return changes

    @api.model
    def _uom(self, unit_name):
        xmlid = UNIT_XMLIDS.get((unit_name or "").strip().lower())
        return self.env.ref(xmlid, raise_if_not_found=False) if xmlid else None

    @api.model
    def _description_html(self, details):
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td></tr>") % (name, value)
            for name, value in details.characteristics
        )
        parts = []
        if details.description:
            parts.append(Markup("<p>%s</p>") % details.description)
        if details.country:
            parts.append(Markup("<p>%s: %s</p>") % (self.env._("Country"), details.country))
        if rows:
            parts.append(Markup("<table class='table table-sm'><tbody>%s</tbody></table>") % rows)
        return escape("") + Markup("").join(parts)
