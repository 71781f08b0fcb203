from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .company_currency import CompanyCurrencyConverter
from .error_messages import describe_error
from .notification import notification

# Who may read the price history (security/ir.model.access.csv): buyers and connector users.
HISTORY_READERS = "supplier_connector.group_supplier_user,purchase.group_purchase_user"


def search_price_moved(records, operator, value):
    """Products with a supplier price change (not a first price) in the last few days."""
    if operator not in ("=", "!=") or not isinstance(value, bool):
        raise ValidationError(records.env._("Unsupported search on 'Supplier price moved'."))
    moved = [("supplier_price_history_ids", "any",
              records.env["supplier.price.history"]._recent_move_domain())]
    return moved if (operator == "=") == value else ["!", *moved]


def compute_price_moved(records, field_name):
    History = records.env["supplier.price.history"]
    moved = {
        product.id for [product] in History._read_group(
            History._recent_move_domain() + [(field_name, "in", records.ids)], [field_name]
        )
    }
    for record in records:
        record.supplier_price_moved = record.id in moved


class ProductTemplate(models.Model):
    _inherit = "product.template"

    manufacturer_name = fields.Char(string="Manufacturer")
    manufacturer_article = fields.Char(string="Manufacturer article", index="btree_not_null")
    supplier_binding_ids = fields.One2many(
        "supplier.product", "product_tmpl_id", string="Supplier mappings"
    )
    supplier_offer_ids = fields.One2many(
        "supplier.offer", "product_tmpl_id", string="Supplier offers"
    )
    supplier_binding_count = fields.Integer(compute="_compute_supplier_summary")
    supplier_currency_id = fields.Many2one(
        "res.currency", compute="_compute_supplier_summary", string="Company currency"
    )
    supplier_best_price = fields.Monetary(
        compute="_compute_supplier_summary", string="Best supplier price",
        currency_field="supplier_currency_id",
        help="Lowest price without VAT among the connections this product is mapped to, each "
        "converted to the company currency at today's rate.",
    )
    supplier_multi_currency = fields.Boolean(
        compute="_compute_supplier_summary",
        help="A connection quotes this product in another currency than the company's: the "
        "supplier tab shows the converted prices beside the suppliers' own.",
    )
    supplier_qty_available = fields.Float(
        compute="_compute_supplier_summary", string="Supplier stock",
        digits="Product Unit of Measure",
    )
    supplier_price_history_ids = fields.One2many(
        "supplier.price.history", "product_tmpl_id", string="Supplier price changes",
        groups=HISTORY_READERS,
    )
    supplier_price_change_count = fields.Integer(
        compute="_compute_supplier_price_change_count", string="Price changes",
        groups=HISTORY_READERS,
    )
    supplier_price_moved = fields.Boolean(
        string="Supplier price moved recently",
        compute="_compute_supplier_price_moved", search="_search_supplier_price_moved",
        help="A supplier's price of this product changed in the last 7 days.",
        groups=HISTORY_READERS,
    )

    @api.depends("supplier_binding_ids.price", "supplier_binding_ids.currency_id",
                 "supplier_binding_ids.qty_available")
    @api.depends_context("company")
    def _compute_supplier_summary(self):
        """The best price compares suppliers: each price in the company currency (today's
        rate, one rate look-up per currency; see models/company_currency.py)."""
        converter = CompanyCurrencyConverter(self.env.company)
        for template in self:
            bindings = template.supplier_binding_ids
            prices = [
                converter.convert(binding.price, binding.currency_id)
                for binding in bindings if binding.price
            ]
            template.supplier_binding_count = len(bindings)
            template.supplier_currency_id = converter.currency
            template.supplier_best_price = min(prices) if prices else 0.0
            template.supplier_multi_currency = any(
                binding.currency_id and binding.currency_id != converter.currency
                for binding in bindings
            )
            template.supplier_qty_available = sum(bindings.mapped("qty_available"))

    def _compute_supplier_price_change_count(self):
        counts = dict(self.env["supplier.price.history"]._read_group(
            [("product_tmpl_id", "in", self.ids)], ["product_tmpl_id"], ["__count"]
        ))
        for template in self:
            template.supplier_price_change_count = counts.get(template, 0)

    def _compute_supplier_price_moved(self):
        compute_price_moved(self, "product_tmpl_id")

    def _search_supplier_price_moved(self, operator, value):
        return search_price_moved(self, operator, value)

    def action_supplier_sync(self):
        """Refresh prices and stock of these products from every connection they are mapped to."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        return self.product_variant_ids.action_supplier_sync()

    def action_supplier_enrich(self):
        self.env["supplier.backend"]._check_right("manager")
        self.check_access("write")
        return self.product_variant_ids.action_supplier_enrich()


class ProductProduct(models.Model):
    _inherit = "product.product"

    supplier_binding_ids = fields.One2many(
        "supplier.product", "product_id", string="Supplier mappings"
    )
    supplier_offer_ids = fields.One2many("supplier.offer", "product_id", string="Supplier offers")
    supplier_price_history_ids = fields.One2many(
        "supplier.price.history", "product_id", string="Supplier price changes",
        groups=HISTORY_READERS,
    )
    supplier_price_moved = fields.Boolean(
        string="Supplier price moved recently",
        compute="_compute_supplier_price_moved", search="_search_supplier_price_moved",
        help="A supplier's price of this product changed in the last 7 days.",
        groups=HISTORY_READERS,
    )

    def _compute_supplier_price_moved(self):
        compute_price_moved(self, "product_id")

    def _search_supplier_price_moved(self, operator, value):
        return search_price_moved(self, operator, value)

    def action_supplier_sync(self):
        """Refresh these products now from every active connection they are mapped to.

        Returns a notification listing what changed (price and stock per connection), then
        reloads the view so the form shows the new values.
        """
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        bindings = self.env["supplier.product"].search(
            [("product_id", "in", self.ids), ("backend_id.active", "=", True)]
        )
        if not bindings:
            return self._supplier_notification(
                self.env._("These products are not mapped to any supplier connection."), "warning"
            )
        before = {b.id: (b.price, b.qty_available, b.sync_state) for b in bindings}
        engine = self.env["supplier.sync.engine"]
        logs = self.env["supplier.sync.log"]
        for backend, backend_bindings in bindings.grouped("backend_id").items():
            logs |= engine._run_offers(backend, trigger="manual", bindings=backend_bindings)
        bindings.invalidate_recordset()
        lines = [self._describe_change(binding, before[binding.id]) for binding in bindings]
        lines = [line for line in lines if line]
        stopped = logs.filtered(lambda log: log.state in ("failed", "partial"))
        if not lines:
            lines.append(self.env._("Nothing changed: prices and stock are as they were."))
        lines += [log.message for log in stopped if log.message]
        # Not found or failed products are news the user must not miss: never green.
        unhappy = bindings.filtered(lambda binding: binding.sync_state != "ok")
        kind = "danger" if stopped and all(log.state == "failed" for log in stopped) else (
            "warning" if stopped or unhappy else "success"
        )
        return self._supplier_notification("\n".join(lines), kind)

    def _describe_change(self, binding, before):
        old_price, old_qty, _old_state = before
        prefix = f"{binding.backend_id.name} · {binding.product_id.display_name}: "
        if binding.sync_state != "ok":
            return prefix + (binding.sync_message or "")
        changes = []
        currency = binding.currency_id.name or ""
        if round(old_price, 4) != round(binding.price, 4):
            changes.append(self.env._(
                "price %(old).2f → %(new).2f %(currency)s",
                old=old_price, new=binding.price, currency=currency,
            ))
        if round(old_qty, 4) != round(binding.qty_available, 4):
            old, new = format(old_qty, "g"), format(binding.qty_available, "g")
            changes.append(self.env._("stock %(old)s → %(new)s", old=old, new=new))
        return prefix + ", ".join(changes) if changes else ""

    def action_supplier_enrich(self):
        """Fill name, manufacturer, article, characteristics and image from the supplier.

        Managers who may edit these products: the supplier's card overwrites them.
        """
        self.env["supplier.backend"]._check_right("manager")
        self.check_access("write")
        bindings = self.env["supplier.product"].search(
            [("product_id", "in", self.ids), ("backend_id.active", "=", True)]
        )
        if not bindings:
            return self._supplier_notification(
                self.env._("These products are not mapped to any supplier connection."), "warning"
            )
        bindings.backend_id._check_right("manager")
        try:
            log = self.env["supplier.product.enricher"]._enrich(bindings)
        except Exception as exc:  # noqa: BLE001 — shown to the user in plain words
            return self._supplier_notification(describe_error(self.env, exc), "danger")
        return log._notification()

    def _supplier_notification(self, message, kind):
        return notification(self.env._("Supplier sync"), message, kind)
