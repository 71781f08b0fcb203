"""UDOMA: catalogue (import-nomenclature) and per-shop prices and stock (import-assortment)."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .udoma_common import UdomaCase


@tagged("post_install", "-at_install")
class TestUdomaNomenclature(UdomaCase):

    def test_full_then_delta_push(self):
        self.backend.action_push_products()
        log = self.last_log("push_products")
        self.assertEqual(log.state, "done", log.message)
        # v2: per shop, in requests of the batch size (2): 2 chunks × 2 shops.
        bodies = self.sent("import-nomenclature")
        self.assertEqual(len(bodies), self.chunks(4, 2) * 2)
        self.assertEqual(sorted({b["shopSourceSystemId"] for b in bodies}), ["s001", "s002"])
        items = {i["sourceSystemId"]: i for b in bodies for i in b["nomenclatures"]}
        self.assertEqual(sorted(items), ["UD-1", "UD-2", "UD-3", "UD-4"])
        self.assertEqual(items["UD-1"]["name"], "Market good 1")
        self.assertEqual(items["UD-1"]["vendorCode"], "UD-1")
        self.assertEqual(items["UD-1"]["barCode"], "4600000000001")
        self.assertEqual(items["UD-1"]["okeiCode"], 796)
        self.assertFalse(items["UD-1"]["deleted"])
        self.assertTrue(all(self.bindings.mapped("push_hash")))
        self.assertTrue(self.backend.udoma_nomenclature_pushed)
        self.assertEqual(len(self.emulator.nomenclature), 4)

        # Nothing changed: no request at all.
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.sent("import-nomenclature"), [])
        self.assertEqual(self.last_log("push_products").unchanged, 4)

        # One product renamed, one archived: only those two, once per shop.
        self.products[1].name = "Market good 2 (new)"
        self.products[2].active = False
        self.backend.action_push_products()
        bodies = self.sent("import-nomenclature")
        self.assertEqual(len(bodies), 2)
        items = {i["sourceSystemId"]: i for i in bodies[0]["nomenclatures"]}
        self.assertEqual(sorted(items), ["UD-2", "UD-3"])
        self.assertEqual(items["UD-2"]["name"], "Market good 2 (new)")
        self.assertTrue(items["UD-3"]["deleted"])
        self.assertTrue(self.emulator.nomenclature["UD-3"].deleted)

    def test_texts_do_not_depend_on_who_pushes(self):
        """Names go in the connection's language: a push by a user working in Russian sends
        nothing when nothing changed (the hash would flip between languages otherwise)."""
        self.env["res.lang"]._activate_lang("ru_RU")
        self.products[0].with_context(lang="ru_RU").name = "Товар маркетплейса 1"
        self.backend.partner_id.lang = "en_US"
        self.backend.action_push_products()
        items = {i["sourceSystemId"]: i for b in self.sent("import-nomenclature")
                 for i in b["nomenclatures"]}
        self.assertEqual(items["UD-1"]["name"], "Market good 1")
        self.emulator.reset()
        self.backend.with_context(lang="ru_RU").action_push_products()
        self.assertEqual(self.sent("import-nomenclature"), [])
        self.backend.partner_id.lang = "ru_RU"
        self.backend.action_push_products()
        items = {i["sourceSystemId"]: i for b in self.sent("import-nomenclature")
                 for i in b["nomenclatures"]}
        self.assertEqual(items["UD-1"]["name"], "Товар маркетплейса 1")

    def test_removed_mapping_is_sent_as_deleted_once(self):
        self.backend.action_push_products()
        self.bindings[3].unlink()
        self.emulator.reset()
        self.backend.action_push_products()
        items = [i for b in self.sent("import-nomenclature") for i in b["nomenclatures"]]
        self.assertEqual([(i["sourceSystemId"], i["deleted"]) for i in items],
                         [("UD-4", True), ("UD-4", True)])
        self.assertFalse(self.env["supplier.udoma.removed"].search([("backend_id", "=", self.backend.id)]))
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.sent("import-nomenclature"), [])

    def test_duplicates_are_reported_per_product_and_the_rest_is_sent(self):
        fifth = self.env["product.product"].create({"name": "Fifth", "default_code": "UD-5"})
        self.env["supplier.product"].create({"backend_id": self.backend.id,
                                             "product_id": fifth.id, "external_code": "UD-5"})
        self.bindings[1].external_code = "UD-1"  # two mappings, one id
        self.env.cr.execute("UPDATE product_product SET barcode = %s WHERE id = %s",
                            ("4600000000003", self.products[3].id))  # two products, one barcode
        self.env.invalidate_all()
        self.backend.action_push_products()
        log = self.last_log("push_products")
        self.assertEqual(log.state, "partial")
        self.assertEqual(log.failed, 4)
        self.assertEqual(
            sorted(log.line_ids.mapped("error_code")),
            ["duplicate_barcode", "duplicate_barcode", "duplicate_id", "duplicate_id"],
        )
        self.assertIn("Several products of the connection have the code UD-1",
                      self.bindings[0].push_message)
        self.assertIn("barcode 4600000000003", self.bindings[3].push_message)
        sent = [i["sourceSystemId"] for b in self.sent("import-nomenclature") for i in b["nomenclatures"]]
        self.assertEqual(sent, ["UD-5", "UD-5"], "the rest is sent, to both shops")
        self.emulator.reset()
        # Corrected: sent at the next push.
        self.bindings[1].external_code = "UD-2"
        self.backend.action_push_products()
        items = {i["sourceSystemId"] for b in self.sent("import-nomenclature") for i in b["nomenclatures"]}
        self.assertEqual(items, {"UD-1", "UD-2"})
        self.assertFalse(self.bindings[0].push_message)

    def test_units_map_to_okei_codes(self):
        kg = self.env.ref("uom.product_uom_kgm")
        litre = self.env.ref("uom.product_uom_litre")
        hundred_g = self.env["uom.uom"].create({
            "name": "100 g", "category_id": kg.category_id.id, "uom_type": "smaller",
            "factor": 10.0, "rounding": 0.01,
        })
        dozen = self.env.ref("uom.product_uom_dozen")
        pack = self.env["uom.uom"].create({
            "name": "Pack of 6", "category_id": dozen.category_id.id, "uom_type": "bigger",
            "factor_inv": 6.0, "udoma_okei_code": "778",
        })
        for product, uom in zip(self.products, (kg, litre, hundred_g, dozen), strict=True):
            product.product_tmpl_id.write({"uom_id": uom.id, "uom_po_id": uom.id})
        extra = self.env["product.product"].create({"name": "Six pack", "default_code": "UD-6",
                                                    "uom_id": pack.id, "uom_po_id": pack.id})
        self.env["supplier.product"].create({"backend_id": self.backend.id,
                                             "product_id": extra.id, "external_code": "UD-6"})
        self.backend.action_push_products()
        okei = {i["sourceSystemId"]: i["okeiCode"]
                for b in self.sent("import-nomenclature") for i in b["nomenclatures"]}
        self.assertEqual(okei, {"UD-1": 166, "UD-2": 112, "UD-3": 163, "UD-4": 796, "UD-6": 778})
        self.assertIn("UDOMA has no unit Dozens", self.bindings[3].push_message)
        self.assertFalse(self.bindings[0].push_message)
        self.assertIn("sent with the unit 'pieces'", self.last_log("push_products").message)

    def test_alcohol_and_tobacco_from_product_or_category(self):
        parent = self.env["product.category"].create({"name": "Drinks", "udoma_alcohol": True})
        child = self.env["product.category"].create({"name": "Wine", "parent_id": parent.id})
        self.products[0].categ_id = child
        self.products[1].product_tmpl_id.udoma_tobacco = True
        self.backend.action_push_products()
        items = {i["sourceSystemId"]: i for b in self.sent("import-nomenclature") for i in b["nomenclatures"]}
        self.assertEqual((items["UD-1"]["alcohol"], items["UD-1"]["tobacco"]), (True, False))
        self.assertEqual((items["UD-2"]["alcohol"], items["UD-2"]["tobacco"]), (False, True))
        self.assertEqual((items["UD-3"]["alcohol"], items["UD-3"]["tobacco"]), (False, False))

    def test_unknown_shop_is_named_once_and_its_products_sent_again(self):
        self.emulator.bind_shop("s002", bound=False)
        self.backend.action_push_products()
        log = self.last_log("push_products")
        self.assertIn("no shop bound to the id s002 (shop Mira)", log.message)
        self.assertEqual(log.message.count("s002"), 1, "said once, not per product")
        self.assertFalse(log.line_ids)
        self.assertEqual(log.failed, 4)
        shops = [b["shopSourceSystemId"] for b in self.sent("import-nomenclature")]
        self.assertEqual((shops.count("s001"), shops.count("s002")), (2, 1),
                         "s002 refused the first chunk and was left out afterwards")
        self.assertFalse(any(self.bindings.mapped("push_hash")))
        self.emulator.bind_shop("s002", "Mira")
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.last_log("push_products").state, "done")
        self.assertEqual(len(self.sent("import-nomenclature")), 4)
        self.assertTrue(all(self.bindings.mapped("push_hash")))

    def test_regenerated_key_stops_the_run_in_plain_words(self):
        self.emulator.regenerate_key()
        self.backend.action_push_products()
        log = self.last_log("push_products")
        self.assertEqual(log.state, "failed")
        self.assertIn("regenerated", log.message)
        self.assertNotIn(self.backend.api_key, log.message)
        self.assertEqual(len(self.emulator.requests), 1, "the run stopped at the first refusal")
        self.assertFalse(any(self.bindings.mapped("push_hash")))


@tagged("post_install", "-at_install")
class TestUdomaGroups(UdomaCase):
    version = "v1"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Category = cls.env["product.category"]
        cls.goods = Category.create({"name": "Goods"})
        cls.clothes = Category.create({"name": "Clothes", "parent_id": cls.goods.id})
        cls.home = Category.create({"name": "Home", "parent_id": cls.goods.id})
        cls.products[:2].categ_id = cls.clothes
        cls.products[2:].categ_id = cls.home

    def map_groups(self, *pairs):
        return self.env["supplier.udoma.group"].create([
            {"backend_id": self.backend.id, "category_id": category.id, "code": code}
            for category, code in pairs
        ])

    def test_v1_items_carry_their_group(self):
        self.map_groups((self.clothes, "g-clothes"), (self.home, "g-home"))
        self.backend.action_push_products()
        bodies = self.sent("import-nomenclature")
        self.assertEqual(len(bodies), 2, "v1: once, not per shop")
        groups = {i["sourceSystemId"]: i["groupSourceSystemId"] for b in bodies for i in b["nomenclatures"]}
        self.assertEqual(groups, {"UD-1": "g-clothes", "UD-2": "g-clothes",
                                  "UD-3": "g-home", "UD-4": "g-home"})
        self.assertEqual(self.emulator.nomenclature["UD-3"].group_id, "g-home")

    def test_group_with_items_and_subgroups_is_refused_before_sending(self):
        self.products[2:].categ_id = self.clothes
        self.map_groups((self.goods, "g-goods"), (self.clothes, "g-clothes"))
        # Moved to Home, which has no group: they would go to Goods, which has the sub-group
        # Clothes.
        self.products[2:].categ_id = self.home
        log_before = self.env["supplier.sync.log"].search_count([])
        self.backend.action_push_products()
        log = self.last_log("push_products")
        self.assertEqual(log.failed, 2)
        self.assertIn("never both", self.bindings[2].push_message)
        self.assertIn("g-goods", self.bindings[2].push_message)
        sent = {i["sourceSystemId"] for b in self.sent("import-nomenclature") for i in b["nomenclatures"]}
        self.assertEqual(sent, {"UD-1", "UD-2"})
        self.assertEqual(self.env["supplier.sync.log"].search_count([]), log_before + 1)

    def test_mapping_that_breaks_the_rule_is_refused_when_saved(self):
        self.map_groups((self.goods, "g-goods"))
        with self.assertRaisesRegex(ValidationError, "either products or sub-groups"):
            self.map_groups((self.clothes, "g-clothes"))

    def test_product_without_group_is_refused_and_the_rest_sent(self):
        self.map_groups((self.clothes, "g-clothes"))
        self.backend.action_push_products()
        self.assertIn("has no UDOMA group", self.bindings[3].push_message)
        sent = {i["sourceSystemId"] for b in self.sent("import-nomenclature") for i in b["nomenclatures"]}
        self.assertEqual(sent, {"UD-1", "UD-2"})


@tagged("post_install", "-at_install")
class TestUdomaAssortment(UdomaCase):

    def setUp(self):
        super().setUp()
        Quant = self.env["stock.quant"]
        stock1, stock2 = self.warehouse.lot_stock_id, self.warehouse2.lot_stock_id
        Quant._update_available_quantity(self.products[0], stock1, 10.0)
        Quant._update_reserved_quantity(self.products[0], stock1, 3.0)
        Quant._update_available_quantity(self.products[1], stock1, 2.0)
        Quant._update_reserved_quantity(self.products[1], stock1, 2.0)
        Quant._update_available_quantity(self.products[0], stock2, 5.0)
        self.backend.action_push_products()
        self.emulator.reset()

    def rows(self, shop):
        return {
            r["nomenclatureSourceSystemId"]: r
            for b in self.sent("import-assortment") if b.get("shopSourceSystemId") == shop
            for r in b["shopAssortment"]
        }

    def test_free_stock_and_pricelist_prices_per_shop(self):
        self.shop1.udoma_discount_pricelist_id = self.discount
        self.backend.action_push_assortment()
        log = self.last_log("push_assortment")
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(len(self.sent("import-assortment")), 4, "2 chunks per shop")
        lenina, mira = self.rows("s001"), self.rows("s002")
        self.assertEqual((lenina["UD-1"]["remains"], lenina["UD-1"]["price"]), (7, 101.0))
        self.assertEqual(lenina["UD-1"]["salePrice"], 90.9)
        self.assertEqual(lenina["UD-2"]["remains"], 0, "all reserved: nothing free")
        self.assertEqual(lenina["UD-3"]["remains"], 0)
        self.assertEqual((mira["UD-1"]["remains"], mira["UD-1"]["price"]), (5, 80.8))
        self.assertNotIn("salePrice", mira["UD-1"])
        self.assertEqual(self.emulator.assortment[("s001", "UD-1")]["remains"], 7)

        # Unchanged: no request. One quant changed: one row, in its shop only.
        self.emulator.reset()
        self.backend.action_push_assortment()
        self.assertEqual(self.sent("import-assortment"), [])
        self.env["stock.quant"]._update_available_quantity(
            self.products[2], self.warehouse.lot_stock_id, 4.0)
        self.backend.action_push_assortment()
        bodies = self.sent("import-assortment")
        self.assertEqual(len(bodies), 1)
        self.assertEqual(bodies[0]["shopSourceSystemId"], "s001")
        self.assertEqual([(r["nomenclatureSourceSystemId"], r["remains"]) for r in bodies[0]["shopAssortment"]],
                         [("UD-3", 4)])

    def test_full_push_turns_off_missing_in_one_request_per_shop(self):
        self.backend.udoma_turn_off_missing = True
        self.backend.action_udoma_push_assortment_full()
        bodies = self.sent("import-assortment")
        self.assertEqual(len(bodies), 2)
        self.assertTrue(all(b["turnOffMissingAssortment"] for b in bodies))
        self.assertEqual([len(b["shopAssortment"]) for b in bodies], [4, 4])
        # A delta push never turns anything off.
        self.emulator.reset()
        self.products[0].list_price = 120.0
        self.backend.action_push_assortment()
        self.assertFalse(any(b["turnOffMissingAssortment"] for b in self.sent("import-assortment")))

    def test_unknown_shop_is_named_and_the_other_shops_go_on(self):
        self.emulator.bind_shop("s002", bound=False)
        self.backend.action_push_assortment()
        log = self.last_log("push_assortment")
        self.assertEqual(log.state, "partial")
        line = log.line_ids.filtered(lambda line: line.reference == "s002")
        self.assertIn("s002", line.message)
        self.assertIn("Mira", line.message)
        self.assertIn("integration settings", line.message)
        self.assertEqual(len(self.rows("s001")), 4)
        self.assertFalse(self.shop2.udoma_assortment_pushed)
        self.assertTrue(self.shop1.udoma_assortment_pushed)

    def test_scheduled_push_runs_the_assortment(self):
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "push_assortment")
        self.assertEqual((schedule.interval_number, schedule.interval_type), (15, "minutes"))
        schedule._run_once(self.env["supplier.sync.engine"])
        self.assertEqual(schedule.last_log_id.operation, "push_assortment")
        self.assertEqual(len(self.rows("s001")), 4)


@tagged("post_install", "-at_install")
class TestUdomaAssortmentV1(UdomaCase):
    version = "v1"

    def test_v1_rows_carry_their_shop(self):
        category = self.env["product.category"].create({"name": "Clothes UD"})
        self.products.categ_id = category
        self.env["supplier.udoma.group"].create({"backend_id": self.backend.id,
                                                 "category_id": category.id, "code": "g-clothes"})
        self.env["stock.quant"]._update_available_quantity(
            self.products[0], self.warehouse.lot_stock_id, 6.0)
        self.backend.action_push_products()
        self.backend.action_push_assortment()
        bodies = self.sent("import-assortment")
        self.assertEqual(len(bodies), 4)
        self.assertNotIn("shopSourceSystemId", bodies[0])
        rows = [r for b in bodies for r in b["shopAssortment"]]
        first = next(r for r in rows if r["shopSourceSystemId"] == "s001"
                     and r["nomenclatureSourceSystemId"] == "UD-1")
        self.assertEqual((first["remains"], first["price"]), (6, 101.0))
