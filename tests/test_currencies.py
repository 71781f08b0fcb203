"""Issue 11, currencies: the demo company in roubles, suppliers compared in the company
currency, the price chart on one scale, purchase lines in the vendor's currency."""

from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import Form, TransactionCase, tagged

from .common import ShateCase

# The rates these tests set: 1 BYN = 28 RUB since yesterday, 25 RUB from ten days ago.
# "Since yesterday", so that it is the current rate whichever day "today" is (the server's UTC
# day or the user's, which differ around midnight).
BYN_TODAY = 28.0
BYN_BEFORE = 25.0


def set_rates(env, company):
    """The current and an earlier BYN rate for ``company`` (RUB, its currency, at 1).
    Returns the current BYN rate."""
    rub, byn = env.ref("base.RUB"), env.ref("base.BYN")
    yesterday = fields.Date.today() - timedelta(days=1)
    Rate = env["res.currency.rate"]
    Rate.search([("currency_id", "in", (rub | byn).ids), ("company_id", "=", company.id),
                 ("name", ">=", yesterday - timedelta(days=9))]).unlink()
    rates = Rate.create([
        {"currency_id": rub.id, "company_id": company.id, "name": yesterday - timedelta(days=9),
         "rate": 1.0},
        {"currency_id": byn.id, "company_id": company.id, "name": yesterday - timedelta(days=9),
         "rate": 1 / BYN_BEFORE},
        {"currency_id": byn.id, "company_id": company.id, "name": yesterday,
         "rate": 1 / BYN_TODAY},
    ])
    return rates[-1]


@tagged("post_install", "-at_install")
class TestDemoCompanyCurrency(TransactionCase):
    def test_the_demo_company_is_russian_in_roubles(self):
        company = self.env.ref("base.main_company")
        rub, byn = self.env.ref("base.RUB"), self.env.ref("base.BYN")
        self.assertEqual(company.currency_id, rub)
        self.assertEqual(company.country_id, self.env.ref("base.ru"))
        self.assertTrue(rub.active and byn.active)
        # The demo rates: 1 BYN is worth 27 to 30 RUB today, 1 USD 80 to 110 RUB.
        one_byn = byn._convert(1.0, rub, company, fields.Date.today(), round=False)
        self.assertTrue(27.0 <= one_byn <= 30.0, one_byn)
        one_usd = self.env.ref("base.USD")._convert(1.0, rub, company, fields.Date.today(), round=False)
        self.assertTrue(80.0 <= one_usd <= 110.0, one_usd)
        # Shate-M (Minsk) sells in BYN: its purchase orders are in BYN, as its vendor prices.
        shate = self.env.ref("supplier_connector.demo_partner_shate")
        self.assertEqual(shate.with_company(company).property_purchase_currency_id, byn)
        self.assertEqual(self.env.ref("supplier_connector.demo_backend_shate").currency_id, byn)


@tagged("post_install", "-at_install")
class TestCurrencies(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["supplier.backend"].search([]).action_archive()
        cls.company = cls.env.company
        cls.rub, cls.byn = cls.env.ref("base.RUB"), cls.env.ref("base.BYN")
        cls.current_rate = set_rates(cls.env, cls.company)
        cls.etm, cls.shate = cls.env["supplier.backend"].create([
            {"name": "Currency ETM", "service": "etm", "currency_id": cls.rub.id},
            {"name": "Currency Shate", "service": "shate", "currency_id": cls.byn.id},
        ])
        cls.product = cls.env["product.product"].create({"name": "Currency filter"})
        cls.template = cls.product.product_tmpl_id
        cls.etm_binding, cls.shate_binding = cls.env["supplier.product"].create([
            {"backend_id": backend.id, "product_id": cls.product.id, "external_code": "4711"}
            for backend in (cls.etm, cls.shate)
        ])

    def quote(self, binding, price, currency):
        binding.write({"price": price, "currency_id": currency.id})

    def test_best_price_compares_suppliers_in_the_company_currency(self):
        self.quote(self.etm_binding, 600.0, self.rub)
        self.quote(self.shate_binding, 20.0, self.byn)  # 20 BYN = 560 RUB today
        self.template.invalidate_recordset()
        self.assertEqual(self.template.supplier_best_price, 560.0)
        self.assertEqual(self.template.supplier_currency_id, self.rub)
        self.assertTrue(self.template.supplier_multi_currency)
        # Shown with its currency: a monetary field on the company currency.
        field = self.template._fields["supplier_best_price"]
        self.assertEqual((field.type, field.currency_field), ("monetary", "supplier_currency_id"))
        # Each mapping keeps its own price and currency, with the converted price beside it.
        self.assertEqual((self.shate_binding.price, self.shate_binding.currency_id), (20.0, self.byn))
        self.assertEqual(self.shate_binding.price_company, 560.0)
        self.assertEqual(self.etm_binding.price_company, 600.0)
        self.assertEqual(self.shate_binding.company_currency_id, self.rub)
        # 20 BYN in RUB is more than 600 RUB at 31 RUB per BYN: ETM is the best then.
        self.current_rate.rate = 1 / 31.0
        self.env.invalidate_all()
        self.assertEqual(self.template.supplier_best_price, 600.0)
        self.assertEqual(self.shate_binding.price_company, 620.0)
        # A product quoted in roubles only has nothing to convert.
        self.shate_binding.unlink()
        self.template.invalidate_recordset()
        self.assertFalse(self.template.supplier_multi_currency)
        self.assertEqual(self.template.supplier_best_price, 600.0)

    def test_offers_keep_their_currency_and_show_the_converted_price(self):
        offer = self.env["supplier.offer"].create({
            "binding_id": self.shate_binding.id, "location_code": "SHATE-01",
            "quantity": 3, "price": 19.26, "currency_id": self.byn.id,
        })
        self.assertEqual((offer.price, offer.currency_id), (19.26, self.byn))
        self.assertAlmostEqual(offer.price_company, 539.28, places=2)  # 19.26 × 28
        self.assertEqual(offer.company_currency_id, self.rub)
        # The product's supplier tab shows the converted column only when a supplier quotes in
        # another currency: both lists carry it, with the company currency for its symbol.
        arch = self.template.get_views([(False, "form")])["views"]["form"]["arch"]
        page = etree.fromstring(arch).xpath("//page[@name='supplier_offers']")[0]
        for name in ("supplier_binding_ids", "supplier_offer_ids"):
            columns = page.xpath(f".//field[@name='{name}']/list/field/@name")
            self.assertIn("price_company", columns, name)
            self.assertIn("company_currency_id", columns, name)

    def test_the_chart_puts_every_supplier_on_one_scale_at_the_days_rate(self):
        History = self.env["supplier.price.history"]
        now = fields.Datetime.now()
        rows = History.create([
            {"binding_id": self.etm_binding.id, "backend_id": self.etm.id,
             "product_id": self.product.id, "currency_id": self.rub.id, "new_price": 600.0,
             "is_first": True, "date": now - timedelta(days=5)},
            # Five days ago 1 BYN was 25 RUB; today it is 28.
            {"binding_id": self.shate_binding.id, "backend_id": self.shate.id,
             "product_id": self.product.id, "currency_id": self.byn.id, "new_price": 20.0,
             "is_first": True, "date": now - timedelta(days=5)},
            {"binding_id": self.shate_binding.id, "backend_id": self.shate.id,
             "product_id": self.product.id, "currency_id": self.byn.id, "old_price": 20.0,
             "new_price": 21.0, "date": now},
        ])
        self.assertEqual(rows.mapped("new_price_company"), [600.0, 500.0, 588.0])
        self.assertEqual(rows.company_currency_id, self.rub)
        # The suppliers' own prices stay as quoted.
        self.assertEqual(rows.mapped("new_price"), [600.0, 20.0, 21.0])
        # The chart and the pivot measure the converted price.
        for view_type in ("graph", "pivot"):
            arch = History.get_views([(False, view_type)])["views"][view_type]["arch"]
            measures = etree.fromstring(arch).xpath("//field[@type='measure']/@name")
            self.assertEqual(measures, ["new_price_company"], view_type)
        series = dict(History._read_group(
            [("product_id", "=", self.product.id)], ["backend_id"], ["new_price_company:max"]
        ))
        self.assertEqual(series, {self.etm: 600.0, self.shate: 588.0})
        # Stored with the day's rate: a later rate does not redraw the past.
        self.env["res.currency.rate"].create({
            "currency_id": self.byn.id, "company_id": self.company.id,
            "name": fields.Date.today() + timedelta(days=2), "rate": 1 / 40.0,
        })
        self.env.invalidate_all()
        self.assertEqual(rows.mapped("new_price_company"), [600.0, 500.0, 588.0])

    def test_a_change_of_currency_is_measured_at_the_days_rate(self):
        self.quote(self.shate_binding, 20.0, self.byn)
        self.shate_binding.last_sync = fields.Datetime.now()
        # 20 BYN were 560 RUB: 616 RUB is a 10 % rise, not a first price and not 0 %.
        change = self.env["supplier.price.history"]._changes(
            self.shate_binding, {"price": 616.0, "currency_id": self.rub.id}
        )
        self.assertEqual((change["old_price"], change["old_currency_id"]), (20.0, self.byn.id))
        self.assertEqual(change["currency_id"], self.rub.id)
        self.assertAlmostEqual(change["change_percent"], 10.0, places=4)
        # The same value in the new currency is no move.
        change = self.env["supplier.price.history"]._changes(
            self.shate_binding, {"price": 560.0, "currency_id": self.rub.id}
        )
        self.assertAlmostEqual(change["change_percent"], 0.0, places=4)


@tagged("post_install", "-at_install")
class TestPurchaseCurrencies(ShateCase):
    """A Shate-M order in BYN: the line price in the order's currency, the supplier's in BYN."""

    def setUp(self):
        super().setUp()
        self.rub, self.byn = self.env.ref("base.RUB"), self.env.ref("base.BYN")
        set_rates(self.env, self.env.company)
        self.ready_to_order()
        self.product = self.products[0]
        self.binding = self.bindings[0]
        self.offer = self.binding.offer_ids.filtered("is_best")
        self.assertEqual(self.offer.currency_id, self.byn, "the emulator's agreement is in BYN")

    def make_po(self, qty=2):
        """As a buyer does in the form: the vendor's onchange sets the order's currency."""
        with Form(self.env["purchase.order"]) as form:
            form.partner_id = self.vendor
            with form.order_line.new() as line:
                line.product_id = self.product
                line.product_qty = qty
        po = form.record
        po.button_confirm()
        return po

    def test_a_vendor_in_byn_gets_orders_in_byn_at_the_suppliers_price(self):
        self.vendor.property_purchase_currency_id = self.byn
        po = self.make_po()
        line = po.order_line
        self.assertEqual(po.currency_id, self.byn)
        self.assertEqual(line.price_unit, self.offer.price, "the vendor price, unconverted")
        self.assertEqual((line.supplier_price, line.supplier_price_currency_id),
                         (self.offer.price, self.byn))
        self.assertFalse(po.supplier_other_currency, "one currency: no second price column")
        po.action_supplier_send()
        [placed] = self.emulator.placed_orders()
        self.assertEqual(placed["currencyCode"], po.currency_id.name)
        self.assertEqual(placed["orderItems"][0]["price"], line.price_unit)
        self.assertAlmostEqual(placed["totalSum"], po.amount_untaxed, places=2)

    def test_an_order_in_roubles_converts_the_line_and_shows_the_suppliers_price(self):
        self.assertFalse(self.vendor.property_purchase_currency_id)
        po = self.make_po()
        line = po.order_line
        self.assertEqual(po.currency_id, self.rub)
        self.assertAlmostEqual(line.price_unit, self.offer.price * BYN_TODAY, places=2)
        self.assertEqual((line.supplier_price, line.supplier_price_currency_id),
                         (self.offer.price, self.byn))
        self.assertTrue(po.supplier_other_currency)
        arch = po.get_views([(False, "form")])["views"]["form"]["arch"]
        column = etree.fromstring(arch).xpath("//field[@name='order_line']/list/field[@name='supplier_price']")
        self.assertEqual(column[0].get("column_invisible"), "not parent.supplier_other_currency")
        offer_price = self.offer.price  # sending fetches fresh offers first
        po.action_supplier_send()
        # The supplier is ordered its own offer: it charges its price in BYN.
        [placed] = self.emulator.placed_orders()
        self.assertEqual(placed["currencyCode"], "BYN")
        self.assertEqual(placed["orderItems"][0]["price"], offer_price)
        self.assertEqual(line.supplier_price_currency_id, self.byn)
