"""What a good carries, built for a whole batch at once (DESIGN §4.2: one read per model, not
per record): units, images, attribute values and colours. The decisions are in
models/imsklad_goods.py's docstring. Plain Python, no Odoo model."""

import functools
import hashlib
import hmac
import mimetypes
import re
from collections import Counter, namedtuple

from ..api.imsklad import ImskladGood

IMAGE_ROUTE = "/supplier_connector/imsklad/image"
IMAGE_NAME = re.compile(r"([0-9a-f]{16})-([0-9a-f]{32})(?:\.[a-z0-9]{1,5})?")
VERSION_LENGTH = 16

ProductImage = namedtuple("ProductImage", "version mimetype attachment_id")


def image_signature(secret, binding_id, version):
    message = f"imsklad-image:{binding_id}:{version}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def product_images(env, products):
    """{product id: ProductImage} of the products that have an image (the variant's own, else
    the template's, as ``product.product.image_1920``): one query for any number."""
    rows = env["ir.attachment"].sudo().search_read([
        "|",
        "&", "&", ("res_model", "=", "product.product"), ("res_field", "=", "image_variant_1920"),
        ("res_id", "in", products.ids),
        "&", "&", ("res_model", "=", "product.template"), ("res_field", "=", "image_1920"),
        ("res_id", "in", products.product_tmpl_id.ids),
    ], ["res_model", "res_id", "checksum", "mimetype"])
    own = {row["res_id"]: row for row in rows if row["res_model"] == "product.product"}
    of_template = {row["res_id"]: row for row in rows if row["res_model"] == "product.template"}
    images = {}
    for product in products:
        row = own.get(product.id) or of_template.get(product.product_tmpl_id.id)
        if row and row["checksum"]:
            images[product.id] = ProductImage(
                row["checksum"][:VERSION_LENGTH], row["mimetype"] or "", row["id"]
            )
    return images


def unit_factors(env):
    """(grams per unit of product weight, millimetres per unit of product length): Odoo's
    units for products (kg or lb, mm or ft) converted with its UoM tools."""
    Template = env["product.template"]
    return (
        Template._get_weight_uom_id_from_ir_config_parameter()._compute_quantity(
            1.0, env.ref("uom.product_uom_gram"), round=False
        ),
        Template._get_length_uom_id_from_ir_config_parameter()._compute_quantity(
            1.0, env.ref("uom.product_uom_millimeter"), round=False
        ),
    )


@functools.lru_cache(maxsize=32)
def extension(mimetype):
    """The file extension the link ends with (IMSKLAD may look at it), '' when unknown."""
    found = mimetypes.guess_extension(mimetype or "") or ""
    return found if re.fullmatch(r"\.[a-z0-9]{1,5}", found) else ""


class GoodsBuilder:
    """What the goods of a batch need, read once: units, images, attribute values, colours."""

    def __init__(self, backend, bindings, units=None):
        self.backend = backend
        self.units = units
        self.bindings = bindings
        self.env = backend.env
        self.loaded = False
        # Per binding id: what could not be sent (plain words), and the unmapped colour's name.
        self.notes = {}
        self.unmapped = {}
        # Colour names of the goods sent without a colour → how many (filled by the push).
        self.uncoloured_sent = Counter()

    def load(self):
        """Read what the batch needs, once (at the first good: payload building is timed by
        the push benchmark through ``good_of``)."""
        backend, bindings, env = self.backend, self.bindings, self.env
        self.loaded = True
        self.grams_per_unit, self.mm_per_unit = self.units or unit_factors(env)
        self.image_base = ""
        self.images = {}
        if backend.imsklad_publish_images:
            base = backend._imsklad_public_base()
            if base:
                self.image_base = f"{base}{IMAGE_ROUTE}"
                self.secret = backend._imsklad_image_secret()
                self.images = product_images(env, bindings.product_id)
        self.size_attribute = backend.imsklad_size_attribute_id.id
        self.colour_attribute = backend.imsklad_colour_attribute_id.id
        self.colours = {
            line.attribute_value_id.id: int(line.colour)
            for line in backend.imsklad_colour_map_ids if line.colour
        } if self.colour_attribute else {}
        self.values = self.attribute_values(
            bindings.product_id, {self.size_attribute, self.colour_attribute} - {0}
        )

    def good(self, binding):
        """The ImskladGood of a binding of the batch; ``notes`` and ``unmapped`` say what
        could not be sent."""
        if not self.loaded:
            self.load()
        product = binding.product_id
        notes = []
        colour = unmapped = None
        value = self.attribute_value(product, self.colour_attribute)
        if value:
            colour = self.colours.get(value.id)
            if colour is None:
                unmapped = value.name
                notes.append(self.env._(
                    "The colour %s has no IMSKLAD colour on the connection: sent without a colour.",
                    value.name,
                ))
        self.notes[binding.id] = notes
        self.unmapped[binding.id] = unmapped
        size = self.attribute_value(product, self.size_attribute)
        # From the template itself: the variant's copies of its fields are computed one by one.
        template = product.product_tmpl_id
        return ImskladGood(
            id=binding.external_code,
            name=product.name or product.display_name,
            price=product.lst_price or 0.0,
            cost=product.standard_price or 0.0,
            description=product.description_sale or None,
            image=self.image_url(binding),
            weight=self.converted(product.weight, self.grams_per_unit),
            length=self.converted(template.product_length, self.mm_per_unit),
            width=self.converted(template.product_width, self.mm_per_unit),
            height=self.converted(template.product_height, self.mm_per_unit),
            color=colour,
            size=size.name if size else None,
        )

    @staticmethod
    def converted(value, factor):
        """``value`` in IMSKLAD's unit, whole; None when there is nothing to send."""
        if not value or value <= 0:
            return None
        return round(value * factor) or None

    @staticmethod
    def attribute_values(products, attribute_ids):
        """{product id: {attribute id: product.attribute.value}} for the wanted attributes: a
        variant's own value, else the only value of its template's line."""
        if not attribute_ids:
            return {}
        own = {
            value.id: (value.attribute_id.id, value.product_attribute_value_id)
            for value in products.product_template_attribute_value_ids
            if value.attribute_id.id in attribute_ids
        }
        found = {}
        for product in products:
            values = {}
            for ptav_id in product.product_template_attribute_value_ids._ids:
                if ptav_id in own:
                    attribute_id, value = own[ptav_id]
                    values[attribute_id] = value
            found[product.id] = values
        # Attributes that make no variants: the template's line, when it has one value.
        lacking = {}
        for product in products:
            if len(found[product.id]) < len(attribute_ids):
                lacking.setdefault(product.product_tmpl_id.id, []).append(product.id)
        templates = products.product_tmpl_id.browse(list(lacking))
        for line in templates.attribute_line_ids:
            if line.attribute_id.id in attribute_ids and len(line.value_ids) == 1:
                for product_id in lacking[line.product_tmpl_id.id]:
                    found[product_id].setdefault(line.attribute_id.id, line.value_ids)
        return found

    def attribute_value(self, product, attribute_id):
        values = self.values.get(product.id)
        if values is None:  # a product outside the batch the builder was made for
            values = self.attribute_values(product, {attribute_id} - {0}).get(product.id, {})
        return values.get(attribute_id)

    def image_url(self, binding):
        image = self.images.get(binding.product_id.id)
        if not image:
            return None
        signature = image_signature(self.secret, binding.id, image.version)
        return f"{self.image_base}/{binding.id}/{image.version}-{signature}{extension(image.mimetype)}"
