"""IMSKLAD colours: the values of the connection's colour attribute mapped to IMSKLAD's colour
table (api/imsklad_data.py COLOURS), editable by the administrator.

Suggestions: when the colour attribute is chosen (and on "Suggest colours"), every value of the
attribute without a line gets one, pre-filled when its name is a colour name of the table in
Russian (case, 'ё' and hyphens ignored) or in English (the table below), else when its HTML colour
is exactly one table colour's RGB. A value whose line has no IMSKLAD colour, or no line at all, is
pushed without a colour and the product's push problem says so (models/imsklad_goods.py).
"""

from odoo import api, fields, models

from ..api.imsklad_data import COLOURS

COLOUR_SELECTION = [(str(colour), name) for colour, (name, _rgb) in COLOURS.items()]

# English names of the table's colours (the document gives Russian names only).
ENGLISH_COLOURS = {
    "white": 1, "black": 4, "blue": 5, "yellow": 6, "orange": 7, "green": 8, "red": 9,
    "brown": 10, "light blue": 11, "sky blue": 11, "cyan": 11, "grey": 13, "gray": 13,
    "transparent": 14, "clear": 14, "silver": 15, "purple": 16, "violet": 16,
    "multicolour": 17, "multicolor": 17, "multicoloured": 17, "multicolored": 17,
    "turquoise": 18, "gold": 19, "golden": 19, "beige": 20, "magenta": 21, "burgundy": 22,
    "maroon": 22, "olive": 23, "fuchsia": 24, "mint": 25, "dark green": 26, "dark blue": 27,
    "navy": 27, "navy blue": 27, "pink": 28, "bright pink": 29, "hot pink": 29,
    "light pink": 30, "dark brown": 31, "light green": 32, "coral": 33, "bronze": 34,
    "lilac": 35, "khaki": 36, "mustard": 37, "light grey": 38, "light gray": 38, "lime": 39,
    "pale blue": 40, "bright green": 42,
}


def _normalised(name):
    words = (name or "").casefold().replace("ё", "е").replace("-", " ").replace("_", " ")
    return " ".join(words.split())


_BY_NAME = {
    **{_normalised(name): colour for colour, (name, _rgb) in COLOURS.items()},
    **{_normalised(name): colour for name, colour in ENGLISH_COLOURS.items()},
}


def _by_rgb():
    found = {}
    for colour, (_name, rgb) in COLOURS.items():
        if rgb.startswith("#"):
            found.setdefault(rgb.casefold(), []).append(colour)
    # Two colours share #FF00FF and #800000: no suggestion for those.
    return {rgb: colours[0] for rgb, colours in found.items() if len(colours) == 1}


_BY_RGB = _by_rgb()


def suggested_colour(value):
    """The IMSKLAD colour id suggested for an attribute value (by name, then RGB), or None."""
    colour = _BY_NAME.get(_normalised(value.name))
    if colour is None and value.html_color:
        colour = _BY_RGB.get(value.html_color.strip().casefold())
    return colour


class SupplierImskladColourMap(models.Model):
    _name = "supplier.imsklad.colour.map"
    _description = "IMSKLAD colour mapping"
    _order = "backend_id, attribute_value_id"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    attribute_id = fields.Many2one(related="attribute_value_id.attribute_id")
    attribute_value_id = fields.Many2one(
        "product.attribute.value", string="Colour in Odoo", required=True, ondelete="cascade",
        domain="[('attribute_id', '=', parent.imsklad_colour_attribute_id)]",
    )
    colour = fields.Selection(
        COLOUR_SELECTION, string="IMSKLAD colour",
        help="Empty: products of this colour are sent without a colour.",
    )
    colour_id = fields.Integer(string="IMSKLAD colour ID", compute="_compute_colour_id")
    suggested = fields.Boolean(
        readonly=True, help="Pre-filled by the colour's name; check it and change it if needed."
    )

    _sql_constraints = [
        ("value_unique", "UNIQUE(backend_id, attribute_value_id)",
         "A colour is mapped once per connection."),
    ]

    @api.depends("colour")
    def _compute_colour_id(self):
        for line in self:
            line.colour_id = int(line.colour) if line.colour else 0

    def write(self, vals):
        if "colour" in vals:
            vals.setdefault("suggested", False)
        return super().write(vals)


class SupplierBackendImskladColours(models.Model):
    _inherit = "supplier.backend"

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.filtered("imsklad_colour_attribute_id").sudo()._imsklad_suggest_colours()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if "imsklad_colour_attribute_id" in vals:
            # Another attribute: the lines of the former one mean nothing any more.
            backends = self.sudo()
            backends.imsklad_colour_map_ids.filtered(
                lambda line: line.attribute_id != line.backend_id.imsklad_colour_attribute_id
            ).unlink()
            backends._imsklad_suggest_colours()
        return result

    def action_imsklad_suggest_colours(self):
        """Add a line for every value of the colour attribute not mapped yet, pre-filled with
        the IMSKLAD colour of the same name where there is one."""
        self._check_right("manager")
        added = self.sudo()._imsklad_suggest_colours()
        unmatched = added.filtered(lambda line: not line.colour)
        return self._notify(
            self.env._(
                "%(count)s colours added, %(unmatched)s of them without a suggestion: choose "
                "their IMSKLAD colour in the list.",
                count=len(added), unmatched=len(unmatched),
            ) if added else self.env._("Every value of the colour attribute is in the list already."),
            "success" if added and not unmatched else "info",
        )

    def _imsklad_suggest_colours(self):
        """The new mapping lines (one per unmapped value of the colour attribute)."""
        Map = self.env["supplier.imsklad.colour.map"]
        vals_list = []
        for backend in self.filtered("imsklad_colour_attribute_id"):
            mapped = backend.imsklad_colour_map_ids.attribute_value_id
            for value in backend.imsklad_colour_attribute_id.value_ids - mapped:
                colour = suggested_colour(value)
                vals_list.append({
                    "backend_id": backend.id, "attribute_value_id": value.id,
                    "colour": str(colour) if colour else False, "suggested": bool(colour),
                })
        return Map.create(vals_list)
