"""What a product says to UDOMA: its nomenclature item, built for a whole chunk at once.

- ``sourceSystemId``: the mapping's code (stable: the internal reference when the mapping was
  made by "Push all saleable products", else what the administrator typed).
- ``name``: the product's name with its variant values (no internal reference); short
  description: the sales description; description: the product's description as plain text;
  vendor code: the internal reference; barcode: the product's.
- Unit (``okeiCode``): the UoM's "UDOMA unit" when set, else recognised: the Units of the unit
  category (796), kg (166), 100 g (163), litre (112); UDOMA knows no other unit, so anything
  else is sent as pieces (796) and the mapping and the log say so (set the UoM's UDOMA unit to
  778 for packs).
- Alcohol / tobacco: the product's own flag, or its category's (or a parent category's).
- ``deleted``: the product (or its template) is archived; a product whose mapping was deleted,
  or that was deleted itself, is sent once as deleted (``supplier.udoma.removed``).
"""

import hashlib
import json
from dataclasses import asdict

from odoo import fields, models
from odoo.tools import html2plaintext

from ..api.udoma_data import OKEI_CODES, OKEI_PIECE, UdomaNomenclature
from .backend_udoma import GroupTree

OKEI_SELECTION = [(str(code), f"{code} ({label})") for code, label in OKEI_CODES.items()]


class UomUdoma(models.Model):
    _inherit = "uom.uom"

    udoma_okei_code = fields.Selection(
        OKEI_SELECTION, string="UDOMA unit",
        help="The unit UDOMA shows (OKEI code). Empty: recognised from the unit itself (Units, "
        "kg, 100 g, litre), anything else is sent as pieces.",
    )


class ProductCategoryUdoma(models.Model):
    _inherit = "product.category"

    udoma_alcohol = fields.Boolean(string="Alcohol (UDOMA)", help="Products of this category and its sub-categories are alcohol.")
    udoma_tobacco = fields.Boolean(string="Tobacco (UDOMA)", help="Products of this category and its sub-categories are tobacco.")


class ProductTemplateUdoma(models.Model):
    _inherit = "product.template"

    udoma_alcohol = fields.Boolean(string="Alcohol (UDOMA)")
    udoma_tobacco = fields.Boolean(string="Tobacco (UDOMA)")


class SupplierUdomaRemoved(models.Model):
    """A mapped product that no longer exists (its mapping or the product was deleted): sent
    once to UDOMA as deleted, then forgotten."""

    _name = "supplier.udoma.removed"
    _description = "UDOMA product to delete"

    backend_id = fields.Many2one("supplier.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    code = fields.Char(required=True)
    name = fields.Char(required=True)
    group_code = fields.Char(help="v1: the product's UDOMA group when it was removed.")


class SupplierProductUdoma(models.Model):
    _inherit = "supplier.product"

    def unlink(self):
        self._udoma_remember_removed()
        return super().unlink()

    def _udoma_remember_removed(self):
        pushed = self.sudo().filtered(
            lambda b: b.backend_id.service == "udoma" and b.last_push
        )
        if not pushed:
            return
        trees = {}
        vals_list = []
        for binding in pushed:
            backend = binding.backend_id
            if backend.id not in trees:
                trees[backend.id] = GroupTree(backend) if backend.udoma_api_version == "v1" else None
            product = binding.product_id.with_context(active_test=False)
            group = trees[backend.id].group_of(product.categ_id) if trees[backend.id] else None
            vals_list.append({
                "backend_id": backend.id, "code": binding.external_code,
                "name": product.name or binding.external_code,
                "group_code": group.code if group else False,
            })
        self.env["supplier.udoma.removed"].sudo().create(vals_list)


class ProductProductUdoma(models.Model):
    _inherit = "product.product"

    def unlink(self):
        # Mappings go with the product in the database (ON DELETE CASCADE), without their unlink.
        self.env["supplier.product"].sudo().search(
            [("product_id", "in", self.ids)]
        )._udoma_remember_removed()
        return super().unlink()


def okei_of(uom, refs):
    """(okei code, recognised?) of a UoM; ``refs``: ids of the well-known units."""
    if uom.udoma_okei_code:
        return int(uom.udoma_okei_code), True
    if uom.id in refs:
        return refs[uom.id], True
    return OKEI_PIECE, False


def okei_refs(env):
    refs = {}
    for xmlid, code in (("uom.product_uom_unit", 796), ("uom.product_uom_kgm", 166),
                        ("uom.product_uom_litre", 112)):
        uom = env.ref(xmlid, raise_if_not_found=False)
        if uom:
            refs[uom.id] = code
    kg = env.ref("uom.product_uom_kgm", raise_if_not_found=False)
    if kg:
        for uom in env["uom.uom"].sudo().search([("category_id", "=", kg.category_id.id)]):
            if abs(uom.factor_inv * kg.factor - 0.1) < 1e-9:  # 100 g
                refs[uom.id] = 163
    return refs


def item_hash(item, version):
    data = dict(asdict(item), version=version)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class NomenclatureBuilder:
    """Builds the items of a chunk of mappings; ``problems[binding id]`` says why one cannot
    be sent, ``warnings[binding id]`` what was sent differently from Odoo."""

    def __init__(self, env, backend, group_tree=None):
        self.env = env
        self.backend = backend
        self.version = backend.udoma_api_version or "v2"
        self.tree = group_tree
        self.refs = okei_refs(env)
        self.problems = {}
        self.warnings = {}
        Category = env["product.category"].sudo()
        self.alcohol_categories = set(Category.search([("udoma_alcohol", "=", True)]).ids)
        self.tobacco_categories = set(Category.search([("udoma_tobacco", "=", True)]).ids)

    @staticmethod
    def _flagged(category, flagged):
        """True when the category or one of its parents is in ``flagged``."""
        if not flagged or not category:
            return False
        return any(int(part) in flagged for part in (category.parent_path or "").split("/") if part)

    def items(self, bindings):
        """[(binding, item)] for the bindings that can be sent."""
        result = []
        for binding in bindings.with_context(active_test=False, display_default_code=False):
            item = self.item(binding)
            if item is not None:
                result.append((binding, item))
        return result

    def removed_item(self, removed):
        """The item of a product that no longer exists, sent once as deleted."""
        return UdomaNomenclature(
            source_id=removed.code, name=removed.name,
            group_source_id=(removed.group_code or None) if self.version == "v1" else None,
            deleted=True,
        )

    def item(self, binding):
        env = self.env
        product = binding.product_id
        template = product.product_tmpl_id
        category = product.categ_id
        group_code = None
        if self.version == "v1":
            group = self.tree.group_of(category) if self.tree else None
            if not group:
                self.problems[binding.id] = env._(
                    "The category %s has no UDOMA group (Groups tab of the connection): UDOMA v1 "
                    "needs one for every product.", category.display_name,
                )
                return None
            if self.tree.has_subgroups(group):
                self.problems[binding.id] = env._(
                    "The UDOMA group %(group)s of the category %(category)s has sub-groups "
                    "(%(subgroups)s): UDOMA takes either products or sub-groups in a group, "
                    "never both. Map the category to a group of its own.",
                    group=group.code, category=category.display_name,
                    subgroups=", ".join(self.tree.subgroups(group).mapped("code")),
                )
                return None
            group_code = group.code
        okei, recognised = okei_of(product.uom_id, self.refs)
        if not recognised:
            self.warnings[binding.id] = env._(
                "UDOMA has no unit %s: sent as pieces (796). Set the unit's UDOMA unit if it is "
                "one of UDOMA's.", product.uom_id.name,
            )
        description = html2plaintext(template.description or "").strip() if template.description else ""
        return UdomaNomenclature(
            source_id=binding.external_code,
            name=product.display_name or product.name,
            group_source_id=group_code,
            short_description=(product.description_sale or "").strip() or None,
            description=description or None,
            vendor_code=(product.default_code or "").strip() or None,
            barcode=(product.barcode or "").strip() or None,
            okei_code=okei,
            alcohol=bool(template.udoma_alcohol or self._flagged(category, self.alcohol_categories)),
            tobacco=bool(template.udoma_tobacco or self._flagged(category, self.tobacco_categories)),
            deleted=not (product.active and template.active),
        )
