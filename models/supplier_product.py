from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression

from ..services import get_adapter
from .error_messages import describe_code_problem


class SupplierProduct(models.Model):
    """The binding of one Odoo product to one connection, with what the service last said."""

    _name = "supplier.product"
    _inherit = "supplier.binding.mixin"
    _description = "Supplier product mapping"
    _order = "backend_id, last_sync asc nulls first, id"

    product_id = fields.Many2one(
        "product.product", required=True, ondelete="cascade", index=True, check_company=True
    )
    product_tmpl_id = fields.Many2one(
        related="product_id.product_tmpl_id", store=True, index=True, string="Product template"
    )
    external_code = fields.Char(
        string="Supplier code", required=True,
        help="The code the service is asked by (e.g. the ETM code, client code or article).",
    )
    external_id = fields.Char(string="Supplier ID", help="The service's own id, once known.")
    external_brand = fields.Char(string="Brand")
    external_name = fields.Char(string="Name at the supplier")

    currency_id = fields.Many2one("res.currency")
    price = fields.Monetary(string="Price (excl. VAT)", readonly=True)
    price_with_vat = fields.Monetary(string="Price incl. VAT", readonly=True)
    price_tariff = fields.Monetary(string="Manufacturer tariff", readonly=True)
    price_retail = fields.Monetary(string="Retail price", readonly=True)
    qty_available = fields.Float(string="Supplier stock", readonly=True, digits="Product Unit of Measure")
    delivery_days = fields.Integer(readonly=True)
    delivery_label = fields.Char(string="Delivery", readonly=True)
    unit_name = fields.Char(string="Supplier unit", readonly=True)

    last_sync = fields.Datetime(index=True)  # the order of the stalest-first queue
    # Failures: scheduled runs ask a product that failed again only after a growing delay, so
    # that it never sits at the head of the stalest-first queue (see the sync engine).
    last_attempt = fields.Datetime(readonly=True, copy=False, help="Last time it was asked.")
    failure_count = fields.Integer(
        string="Failures in a row", default=0, readonly=True, copy=False,
        help="Syncs of this product that failed in a row; a success resets it.",
    )
    retry_after = fields.Datetime(
        string="Next retry", readonly=True, copy=False, index=True,
        help="After failures, scheduled runs ask this product again from this time on (the "
        "delay doubles with each failure, at most a day). A Sync of the product itself asks "
        "it at once.",
    )
    is_stale = fields.Boolean(
        string="Stale",
        compute="_compute_is_stale",
        search="_search_is_stale",
        help="Not refreshed successfully for longer than the connection's 'Stale after hours'.",
    )
    offer_ids = fields.One2many("supplier.offer", "binding_id", string="Offers", readonly=True)

    _sql_constraints = [
        ("product_unique", "UNIQUE(backend_id, product_id)",
         "A product is mapped at most once per connection."),
        ("external_id_unique", "UNIQUE(backend_id, external_id)",
         "This supplier ID is already mapped to another product on this connection."),
    ]

    @api.constrains("external_code", "backend_id")
    def _check_external_code(self):
        for binding in self:
            if not (binding.external_code or "").strip():
                raise ValidationError(self.env._("The supplier code cannot be empty."))
            # A code the service cannot be asked safely (ETM: a comma splits it in two and
            # answers another article's price) is refused here, not sent and misread later.
            problem = get_adapter(binding.backend_id.sudo()).code_problem(binding.external_code)
            if problem:
                raise ValidationError(self.env._(
                    "The supplier code %(code)s cannot be used on %(connection)s: %(reason)s",
                    code=binding.external_code,
                    connection=binding.backend_id.display_name,
                    reason=describe_code_problem(self.env, problem),
                ))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("external_code"):
                vals["external_code"] = vals["external_code"].strip()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("external_code"):
            vals["external_code"] = vals["external_code"].strip()
            # A new code means the old answers no longer apply.
            vals.setdefault("sync_state", "new")
            vals.setdefault("external_id", False)
        if "external_code" in vals or "external_brand" in vals:
            # A corrected mapping is asked at the next run, not after the failures' delay.
            vals.setdefault("failure_count", 0)
            vals.setdefault("retry_after", False)
        return super().write(vals)

    @api.depends("last_sync", "backend_id.stale_after_hours")
    def _compute_is_stale(self):
        now = fields.Datetime.now()
        for binding in self:
            hours = binding.backend_id.stale_after_hours or 24
            binding.is_stale = not binding.last_sync or binding.last_sync < now - timedelta(hours=hours)

    def _search_is_stale(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(self.env._("Unsupported search on 'Stale'."))
        # One condition per threshold: each connection has its own "stale after hours".
        now = fields.Datetime.now()
        thresholds = self.env["supplier.backend"].sudo().with_context(active_test=False)._read_group(
            [], ["stale_after_hours"], ["id:array_agg"]
        )
        stale = expression.OR([
            [
                ("backend_id", "in", backend_ids),
                "|", ("last_sync", "=", False),
                ("last_sync", "<", now - timedelta(hours=hours or 24)),
            ]
            for hours, backend_ids in thresholds
        ]) if thresholds else expression.FALSE_DOMAIN
        if (operator == "=") == value:
            return stale
        return ["!", *expression.normalize_domain(stale)]

    def _compute_display_name(self):
        for binding in self:
            binding.display_name = f"{binding.backend_id.name} / {binding.external_code}"

    def action_sync(self):
        """Refresh these bindings now (the Sync button on a mapping)."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        return self.product_id.action_supplier_sync()

    def action_enrich(self):
        """Fill the product from the supplier's product card (managers who may edit it)."""
        self.env["supplier.backend"]._check_right("manager")
        self.check_access("write")
        self.backend_id._check_right("manager")
        self.product_id.check_access("write")
        log = self.env["supplier.product.enricher"]._enrich(self)
        return log._notification()
