"""Supplier prices in the company currency, wherever suppliers are compared (DESIGN §3).

ETM and MoySklad quote in roubles, Shate-M in Belarusian roubles: a price compared or summed
across connections is converted to the company currency with Odoo's rates (``res.currency``
``_get_conversion_rate``, the rate ``_convert`` uses) and shown with that currency's symbol.
A mapping's or an offer's own price keeps the supplier's currency (and its symbol); the
converted price is a column beside it.

Decisions where the issue is silent:

- **Which rate**: today's, for what is on offer now (a mapping's and an offer's price, the
  product's "Best supplier price"); the rate of the day of the change for the price history
  (``supplier.price.history.new_price_company``, stored, so a chart shows what each price was
  worth when it was quoted and does not move with later rates).
- **Which company**: a mapping's and an offer's own (its connection's); the product's best
  price is in the current company's currency (the company the user works in).
- **One rate look-up per currency and day**, not one per price: ``_convert`` reads the rate
  table on every call, and a product list computes the best price of 80 products at once.
  Rounding is the company currency's, as ``_convert`` rounds.
"""

from odoo import api, fields, models

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG


class CompanyCurrencyConverter:
    """Converts amounts to ``company``'s currency, one rate look-up per (currency, day)."""

    def __init__(self, company, date=None):
        self.env = company.env
        self.company = company
        self.currency = company.currency_id
        self.date = date or fields.Date.context_today(company)
        self._rates = {}

    def rate(self, currency, date=None):
        """Company-currency units for one unit of ``currency`` on ``date`` (default today)."""
        if not currency or currency == self.currency:
            return 1.0
        key = (currency.id, date or self.date)
        if key not in self._rates:
            self._rates[key] = self.env["res.currency"]._get_conversion_rate(
                currency, self.currency, self.company, key[1]
            )
        return self._rates[key]

    def convert(self, amount, currency, date=None):
        """``amount`` in ``currency`` → the company currency, rounded as ``_convert`` does."""
        if not amount:
            return 0.0
        return self.currency.round(amount * self.rate(currency, date))


def converters():
    """company id → converter (one per company, built when first asked)."""
    cache = {}

    def get(company):
        if company.id not in cache:
            cache[company.id] = CompanyCurrencyConverter(company)
        return cache[company.id]

    return get


class SupplierProductCompanyPrice(models.Model):
    _inherit = "supplier.product"

    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company currency")
    price_company = fields.Monetary(
        string="Converted price", currency_field="company_currency_id",
        compute="_compute_price_company",
        help="The price without VAT converted to the company currency at today's rate, to "
        "compare suppliers that quote in different currencies.",
    )

    @api.depends("price", "currency_id", "company_id")
    def _compute_price_company(self):
        get = converters()
        for binding in self:
            company = binding.company_id or self.env.company
            binding.price_company = get(company).convert(binding.price, binding.currency_id)


class SupplierOfferCompanyPrice(models.Model):
    _inherit = "supplier.offer"

    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company currency")
    price_company = fields.Monetary(
        string="Converted price", currency_field="company_currency_id",
        compute="_compute_price_company",
        help="The offer's price converted to the company currency at today's rate, to compare "
        "suppliers that quote in different currencies.",
    )

    @api.depends("price", "currency_id", "company_id")
    def _compute_price_company(self):
        get = converters()
        for offer in self:
            company = offer.company_id or self.env.company
            offer.price_company = get(company).convert(offer.price, offer.currency_id)


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _supplier_demo_clear_journal_entries(self, company_ids):
        """Demo data only (demo/supplier_demo.xml, which says why): delete the journal
        entries of ``company_ids`` so that their currency may change, as Odoo clears a demo
        database's entries before it loads another chart of accounts."""
        moves = self.env["account.move"].sudo().with_context(active_test=False).search(
            [("company_id", "child_of", company_ids)]
        )
        moves.with_context(**{MODULE_UNINSTALL_FLAG: True}).unlink()
        return len(moves)
