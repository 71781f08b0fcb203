"""Product dimensions (length, width, height): Odoo 18 community has weight and volume only.

They are kept on the template, in Odoo's length unit for products (millimetres, or feet when
the database measures volumes in cubic feet: ``product.volume_in_cubic_feet``), like the
dimensions of a package type. IMSKLAD takes millimetres; models/imsklad_goods.py converts.
"""

from odoo import api, fields, models


class ProductTemplateDimensions(models.Model):
    _inherit = "product.template"

    product_length = fields.Float(
        string="Length", help="Length × width × height of one unit, in the unit shown."
    )
    product_width = fields.Float(string="Width")
    product_height = fields.Float(string="Height")
    dimension_uom_name = fields.Char(
        string="Dimension unit of measure label", compute="_compute_dimension_uom_name"
    )

    @api.depends("type")
    def _compute_dimension_uom_name(self):
        self.dimension_uom_name = self._get_length_uom_name_from_ir_config_parameter()
