"""Push products… : which products go to IMSKLAD (issue 7, Goods); opened by the connection's
``action_imsklad_open_push_wizard`` (models/imsklad_goods.py).

Scopes (the products of the connection's company, or shared ones):
- mapped products only: the connection's bindings;
- a product category with its children: its storable products and its products already mapped;
- products stored in the IMSKLAD warehouse: storable products with a positive quantity in the
  internal locations of the Odoo warehouse IMSKLAD operates;
- all storable products.
Products not mapped yet are mapped (models/imsklad_goods.py ``_bind_products``) and pushed with
the rest; unchanged ones make no request.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

SCOPES = [
    ("bound", "Mapped products only"),
    ("category", "A product category"),
    ("warehouse", "Products stored in the IMSKLAD warehouse"),
    ("storable", "All storable products"),
]


class SupplierImskladPushWizard(models.TransientModel):
    _name = "supplier.imsklad.push.wizard"
    _description = "Push products to IMSKLAD"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade",
        domain="[('service', '=', 'imsklad')]",
    )
    scope = fields.Selection(SCOPES, string="Products", required=True, default="bound")
    category_id = fields.Many2one(
        "product.category", help="With its subcategories."
    )
    product_count = fields.Integer(string="Products to send", compute="_compute_counts")
    new_count = fields.Integer(string="Of them not mapped yet", compute="_compute_counts")

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        wizards.backend_id._check_right("manager")
        return wizards

    @api.depends("backend_id", "scope", "category_id")
    def _compute_counts(self):
        for wizard in self:
            if not wizard.backend_id or (wizard.scope == "category" and not wizard.category_id):
                wizard.product_count = wizard.new_count = 0
                continue
            products = wizard._products(strict=False)
            bound = wizard.backend_id.sudo().binding_ids.product_id
            wizard.product_count = len(products)
            wizard.new_count = len(products - bound)

    def action_push(self):
        """Map the chosen products that are not mapped yet and send the new and changed ones."""
        self.env["supplier.backend"]._check_right("manager")
        self.ensure_one()
        backend = self.backend_id
        backend._check_right("manager")
        backend._check_operation("push_products")
        Goods = self.env["supplier.imsklad.goods"]
        if self.scope == "bound":
            bindings, notes = backend.sudo().binding_ids, []
        else:
            if self.scope == "category" and not self.category_id:
                raise UserError(self.env._("Choose the product category to send."))
            bindings, notes = Goods._bind_products(backend.sudo(), self._products())
        log = Goods._push(backend, trigger="manual", bindings=bindings, notes=notes)
        return log._notification()

    def _products(self, strict=True):
        """The products of the scope (sudo); ``strict``: a scope that cannot be worked out
        (no warehouse) is an error, else it has no products."""
        self.ensure_one()
        backend = self.backend_id.sudo()
        Product = self.env["product.product"].sudo()
        if self.scope == "bound":
            return backend.binding_ids.product_id
        company = [("company_id", "in", [backend.company_id.id, False])]
        if self.scope == "category":
            return Product.search(company + [
                ("categ_id", "child_of", self.category_id.id),
                "|", ("is_storable", "=", True), ("supplier_binding_ids.backend_id", "=", backend.id),
            ])
        if self.scope == "storable":
            return Product.search(company + [("is_storable", "=", True)])
        warehouse = backend.imsklad_warehouse_id
        if not warehouse:
            if not strict:
                return Product
            raise UserError(self.env._(
                "Choose the Odoo warehouse IMSKLAD operates on the connection first."
            ))
        stored = self.env["stock.quant"].sudo()._read_group(
            [("location_id", "child_of", warehouse.view_location_id.id),
             ("location_id.usage", "=", "internal")],
            ["product_id"], ["quantity:sum"], having=[("quantity:sum", ">", 0)],
        )
        ids = [product.id for product, _quantity in stored]
        return Product.search(company + [("id", "in", ids), ("is_storable", "=", True)])
