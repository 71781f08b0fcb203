"""IMSKLAD goods: what the emulator receives (weight, dimensions, size, colour, image link), the
colour mapping, the push wizard's scopes, the public image route and who may do what."""

import base64
import io
import json

from PIL import Image

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .imsklad_common import ImskladCase, ImskladMixin
from .rights_common import JsonRpc, RightsUsers


def image_bytes(colour, fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, fmt)
    return base64.b64encode(buffer.getvalue())


class GoodsFixtures:
    @classmethod
    def setup_attributes(cls):
        Attribute = cls.env["product.attribute"]
        # A size makes no variants here: it is read from the template's line.
        cls.size = Attribute.create({"name": "Size", "create_variant": "no_variant", "value_ids": [
            (0, 0, {"name": "S"}), (0, 0, {"name": "XL"}),
        ]})
        cls.colour = Attribute.create({"name": "Colour", "display_type": "color", "value_ids": [
            (0, 0, {"name": "Красный"}), (0, 0, {"name": "Plaid"}),
            (0, 0, {"name": "Dark-Blue"}), (0, 0, {"name": "Чёрный"}),
            (0, 0, {"name": "Steel", "html_color": "#c0c0c0"}),
            (0, 0, {"name": "Pinkish", "html_color": "#FF00FF"}),
        ]})
        cls.values = {value.name: value for value in (cls.size | cls.colour).value_ids}

    def sent(self):
        """The good ids the emulator received, per action."""
        sent = {}
        for request in self.emulator.requests:
            body = json.loads(request.body)
            sent.setdefault(body["action"], []).append(str(body["data"]["id"]))
        return sent


@tagged("post_install", "-at_install")
class TestImskladGoods(GoodsFixtures, ImskladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_attributes()
        cls.shirt = cls.env["product.template"].create({
            "name": "Shirt", "is_storable": True, "list_price": 900, "standard_price": 300,
            "product_length": 300, "product_width": 200, "product_height": 15.4,
            "attribute_line_ids": [
                (0, 0, {"attribute_id": cls.size.id, "value_ids": [(6, 0, cls.values["XL"].ids)]}),
                (0, 0, {"attribute_id": cls.colour.id, "value_ids": [
                    (6, 0, (cls.values["Красный"] | cls.values["Plaid"]).ids)]}),
            ],
        })
        for variant in cls.shirt.product_variant_ids:
            colour = variant.product_template_attribute_value_ids.filtered(
                lambda v: v.attribute_id == cls.colour).name
            variant.write({"default_code": f"SHIRT-{colour}", "weight": 0.4})

    def push_shirts(self):
        bindings, _notes = self.env["supplier.imsklad.goods"]._bind_products(
            self.backend, self.shirt.product_variant_ids
        )
        self.backend.action_push_products()
        return {binding.external_code: binding for binding in bindings}

    def test_payload_fields_received_by_the_emulator(self):
        self.backend.write({
            "imsklad_size_attribute_id": self.size.id,
            "imsklad_colour_attribute_id": self.colour.id,
        })
        bindings = self.push_shirts()
        red = self.emulator.goods["SHIRT-Красный"].fields
        self.assertEqual(
            {key: red.get(key) for key in ("weight", "length", "width", "height", "size", "color")},
            {"weight": 400, "length": 300, "width": 200, "height": 15, "size": "XL", "color": 9},
        )
        self.assertNotIn("image", red, "images are published only when the connection says so")
        plaid = self.emulator.goods["SHIRT-Plaid"].fields
        self.assertNotIn("color", plaid)
        self.assertEqual(plaid["size"], "XL")
        self.assertFalse(bindings["SHIRT-Красный"].push_message)
        self.assertIn("Plaid", bindings["SHIRT-Plaid"].push_message)
        self.assertIn("without a colour", bindings["SHIRT-Plaid"].push_message)
        log = self.last_log("push_products")
        self.assertEqual(log.state, "done", "an unmapped colour does not stop the push")
        self.assertIn("Plaid", log.message)
        # The colour gets an IMSKLAD colour: that good alone is sent again, with it.
        self.backend.imsklad_colour_map_ids.filtered(
            lambda line: line.attribute_value_id == self.values["Plaid"]
        ).colour = "17"
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.sent(), {"update_good": ["SHIRT-Plaid"]})
        self.assertEqual(self.emulator.goods["SHIRT-Plaid"].fields["color"], 17)
        self.assertFalse(bindings["SHIRT-Plaid"].push_message)

    def test_weight_and_dimensions_follow_odoo_units(self):
        self.push_shirts()
        self.assertEqual(self.emulator.goods["SHOP-1"].fields["weight"], 250)
        self.assertNotIn("length", self.emulator.goods["SHOP-1"].fields, "no dimension: not sent")
        Param = self.env["ir.config_parameter"]
        Param.set_param("product.weight_in_lbs", "1")
        Param.set_param("product.volume_in_cubic_feet", "1")
        self.shirt.write({"product_length": 1, "product_width": 0.5, "product_height": 0})
        self.shirt.product_variant_ids.weight = 1
        self.products.weight = 0.25  # now 0.25 lb
        self.emulator.reset()
        self.backend.action_push_products()
        fields = self.emulator.goods["SHIRT-Plaid"].fields
        self.assertEqual((fields["weight"], fields["length"], fields["width"]), (454, 305, 152))
        self.assertNotIn("height", fields)
        self.assertEqual(self.emulator.goods["SHOP-1"].fields["weight"], 113)

    def test_colour_suggestions(self):
        self.backend.imsklad_colour_attribute_id = self.colour
        lines = {line.attribute_value_id.name: line for line in self.backend.imsklad_colour_map_ids}
        self.assertEqual(
            {name: line.colour for name, line in lines.items()},
            {"Красный": "9", "Plaid": False, "Dark-Blue": "27", "Чёрный": "4", "Steel": "15",
             "Pinkish": False},  # #FF00FF is two table colours: no guess
        )
        self.assertTrue(lines["Steel"].suggested)
        lines["Plaid"].colour = "17"
        self.assertFalse(lines["Plaid"].suggested)
        self.assertEqual(lines["Plaid"].colour_id, 17)
        # A new value: added by the button, once.
        navy = self.env["product.attribute.value"].create(
            {"name": "Navy", "attribute_id": self.colour.id}
        )
        action = self.backend.action_imsklad_suggest_colours()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        added = self.backend.imsklad_colour_map_ids.filtered(
            lambda line: line.attribute_value_id == navy)
        self.assertEqual(added.colour, "27")
        action = self.backend.action_imsklad_suggest_colours()
        self.assertIn("already", action["params"]["message"])
        self.assertEqual(len(self.backend.imsklad_colour_map_ids), 7)
        # Another attribute: the former one's lines go, the new one's values come.
        self.backend.imsklad_colour_attribute_id = self.size
        self.assertEqual(
            sorted(self.backend.imsklad_colour_map_ids.attribute_value_id.mapped("name")),
            ["S", "XL"],
        )
        self.assertFalse(any(self.backend.imsklad_colour_map_ids.mapped("colour")))

    def test_shared_ids_are_not_sent(self):
        product = self.env["product.product"].create({"name": "Twin", "is_storable": True})
        twin = self.env["supplier.product"].create({
            "backend_id": self.backend.id, "product_id": product.id, "external_code": "SHOP-3",
        })
        self.backend.action_push_products()
        self.assertEqual(sorted(self.emulator.goods), ["SHOP-0", "SHOP-1", "SHOP-2"])
        self.assertIn("Several products", twin.push_message)
        self.assertEqual(len(self.last_log("push_products").line_ids), 2)
        self.assertEqual(self.last_log("push_products").state, "partial")


@tagged("post_install", "-at_install")
class TestImskladPushWizard(ImskladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.backend.imsklad_warehouse_id = env["stock.warehouse"].create(
            {"name": "IMSKLAD fulfilment", "code": "IMSF"}
        )
        Category = env["product.category"]
        cls.parent = Category.create({"name": "Clothes"})
        cls.child = Category.create({"name": "Coats", "parent_id": cls.parent.id})
        other = Category.create({"name": "Tools"})
        other_warehouse = env["stock.warehouse"].create({"name": "Own store", "code": "OWN"})

        def product(code, category, storable=True, **values):
            return env["product.product"].create(dict(
                {"name": code, "default_code": code, "categ_id": category.id,
                 "is_storable": storable, "list_price": 10}, **values
            ))

        cls.coat = product("COAT", cls.child)
        cls.hat = product("HAT", cls.parent)
        cls.bag = product("BAG", cls.parent, storable=False)  # a consumable: not sent
        cls.mapped_bag = product("MAPPED-BAG", cls.child, storable=False)
        env["supplier.product"].create({"backend_id": cls.backend.id,
                                        "product_id": cls.mapped_bag.id,
                                        "external_code": "MAPPED-BAG"})
        cls.hammer = product("HAMMER", other)
        cls.stored = product("STORED", other)
        cls.stored_elsewhere = product("ELSEWHERE", other)
        cls.sold_out = product("SOLD-OUT", other)
        cls.no_reference = product("", other, name="No reference")
        Quant = env["stock.quant"]
        stock = cls.backend.imsklad_warehouse_id.lot_stock_id
        Quant._update_available_quantity(cls.stored, stock, 5)
        Quant._update_available_quantity(cls.sold_out, stock, 2)
        Quant._update_available_quantity(cls.sold_out, stock, -2)
        Quant._update_available_quantity(cls.stored_elsewhere, other_warehouse.lot_stock_id, 5)

    def push(self, scope, category=None):
        wizard = self.env["supplier.imsklad.push.wizard"].create({
            "backend_id": self.backend.id, "scope": scope,
            "category_id": category.id if category else False,
        })
        counts = (wizard.product_count, wizard.new_count)
        wizard.action_push()
        return counts

    def sent_ids(self):
        return sorted(self.emulator.goods)

    def test_mapped_products_only(self):
        self.assertEqual(self.push("bound"), (5, 0))
        self.assertEqual(self.sent_ids(), ["MAPPED-BAG", "SHOP-0", "SHOP-1", "SHOP-2", "SHOP-3"])

    def test_category_with_children(self):
        self.assertEqual(self.push("category", self.parent), (3, 2))
        self.assertEqual(self.sent_ids(), ["COAT", "HAT", "MAPPED-BAG"])
        binding = self.coat.supplier_binding_ids
        self.assertEqual((binding.backend_id, binding.external_code), (self.backend, "COAT"))
        self.assertEqual(binding.external_id, str(self.emulator.goods["COAT"].system_id))
        # Again: nothing changed, nothing sent, nothing mapped twice.
        self.emulator.reset()
        self.assertEqual(self.push("category", self.parent), (3, 0))
        self.assertEqual(self.emulator.requests, [])
        self.assertEqual(self.last_log("push_products").unchanged, 3)

    def test_products_stored_in_the_warehouse(self):
        self.assertEqual(self.push("warehouse"), (1, 1))
        self.assertEqual(self.sent_ids(), ["STORED"])

    def test_all_storable_products(self):
        storable = self.env["product.product"].search([
            ("is_storable", "=", True),
            ("company_id", "in", [self.backend.company_id.id, False]),
        ])
        self.push("storable")
        bindings = self.backend.binding_ids.filtered(lambda b: b.product_id in storable)
        self.assertEqual(bindings.product_id, storable)
        self.assertEqual(self.sent_ids(), sorted(bindings.mapped("external_code")))
        self.assertNotIn("BAG", self.sent_ids())
        self.assertIn(f"ODOO-{self.no_reference.id}", self.sent_ids())

    def test_taken_internal_reference_gets_a_generated_id(self):
        self.hat.default_code = "SHOP-1"  # the reference of a mapped product
        self.push("category", self.parent)
        generated = f"ODOO-{self.hat.id}"
        self.assertEqual(self.hat.supplier_binding_ids.external_code, generated)
        self.assertEqual(self.sent_ids(), sorted(["COAT", generated, "MAPPED-BAG"]))
        self.assertEqual(self.emulator.goods[generated].fields["name"], "HAT")
        self.assertEqual(self.bindings[1].external_code, "SHOP-1")
        self.assertIn("SHOP-1", self.last_log("push_products").message)

    def test_push_button_keeps_working(self):
        action = self.backend.action_imsklad_open_push_wizard()
        self.assertEqual(action["context"]["default_scope"], "bound")
        self.backend.imsklad_push_all_storable = True
        action = self.backend.action_imsklad_open_push_wizard()
        self.assertEqual(action["context"]["default_scope"], "storable")
        self.backend.action_push_products()
        self.assertIn("HAMMER", self.sent_ids())

    def test_who_may_push_and_map_colours(self):
        user = new_test_user(self.env, "imsklad_user",
                             groups="base.group_user,supplier_connector.group_supplier_user")
        manager = new_test_user(self.env, "imsklad_manager",
                                groups="base.group_user,supplier_connector.group_supplier_manager")
        colour = self.env["product.attribute"].create(
            {"name": "Colour", "value_ids": [(0, 0, {"name": "Red"})]}
        )
        self.backend.imsklad_colour_attribute_id = colour
        backend = self.backend.with_user(user)
        with self.assertRaises(AccessError):
            backend.action_imsklad_open_push_wizard()
        with self.assertRaises(AccessError):
            backend.action_imsklad_suggest_colours()
        with self.assertRaises(AccessError):
            self.env["supplier.imsklad.push.wizard"].with_user(user).create(
                {"backend_id": self.backend.id, "scope": "storable"}
            )
        with self.assertRaises(AccessError):
            self.backend.imsklad_colour_map_ids.with_user(user).colour = "4"
        with self.assertRaises(AccessError):
            self.env["supplier.imsklad.colour.map"].with_user(user).create({
                "backend_id": self.backend.id, "attribute_value_id": colour.value_ids.id,
            })
        wizard = self.env["supplier.imsklad.push.wizard"].with_user(manager).create(
            {"backend_id": self.backend.id, "scope": "bound"}
        )
        with self.assertRaises(AccessError):
            wizard.with_user(user).action_push()
        self.assertEqual(self.emulator.requests, [])
        self.assertEqual(self.backend.imsklad_colour_map_ids.colour, "9")
        wizard.action_push()
        self.assertEqual(len(self.emulator.goods), 5)


@tagged("post_install", "-at_install")
class TestImskladImages(GoodsFixtures, RightsUsers, JsonRpc, ImskladMixin, HttpCase):
    """The image links through Odoo's HTTP layer, and the rights over JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_imsklad()
        cls.create_rights_users()
        cls.backend.imsklad_publish_images = True
        cls.products[0].image_1920 = image_bytes((255, 0, 0))
        cls.products[1].image_1920 = image_bytes((0, 0, 255), "JPEG")

    def setUp(self):
        super().setUp()
        self.emulator = self.start_imsklad()
        self.backend.imsklad_public_url = self.base_url()

    def image_url(self, code):
        return self.emulator.goods[code].fields.get("image")

    def get(self, url):
        self.env.flush_all()
        return self.url_open(url, allow_redirects=False)

    def test_image_links(self):
        self.backend.action_push_products()
        red, blue = self.image_url("SHOP-0"), self.image_url("SHOP-1")
        self.assertTrue(red.startswith(f"{self.base_url()}/supplier_connector/imsklad/image/"))
        self.assertTrue(red.endswith(".png"), red)
        self.assertIsNone(self.image_url("SHOP-2"), "no image, no link")
        response = self.get(red)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, base64.b64decode(self.products[0].image_1920))
        self.assertEqual(response.headers["Content-Type"], "image/png")
        self.assertIn("immutable", response.headers["Cache-Control"])
        self.assertIn("public", response.headers["Cache-Control"])
        response = self.get(blue)
        self.assertEqual(response.content, base64.b64decode(self.products[1].image_1920))
        self.assertEqual(response.headers["Content-Type"], "image/jpeg")
        # Anything else: 404.
        binding_red, binding_blue = self.bindings[0], self.bindings[1]
        name = red.rsplit("/", 1)[1]
        version, signature = name.split(".")[0].split("-")
        base = f"{self.base_url()}/supplier_connector/imsklad/image"
        for url in (
            f"{base}/{binding_red.id}/{version}-{'0' * 32}.png",  # wrong signature
            f"{base}/{binding_blue.id}/{name}",  # another product's signature
            f"{base}/{self.bindings[2].id}/{name}",
            f"{base}/{binding_red.id}/{'a' * 16}-{signature}.png",  # another version
            f"{base}/{binding_red.id}",
            f"{base}/999999/{name}",
        ):
            with self.subTest(url=url):
                self.assertEqual(self.get(url).status_code, 404)
        # Nothing changed: no request.
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(self.emulator.requests, [])
        # A new image: a new link, sent by update_good; the old link shows the new image, briefly.
        self.products[0].image_1920 = image_bytes((0, 255, 0))
        self.backend.action_push_products()
        self.assertEqual(self.sent(), {"update_good": ["SHOP-0"]})
        green = self.image_url("SHOP-0")
        self.assertNotEqual(green, red)
        new_bytes = base64.b64decode(self.products[0].image_1920)
        self.assertEqual(self.get(green).content, new_bytes)
        response = self.get(red)
        self.assertEqual(response.content, new_bytes)
        self.assertNotIn("immutable", response.headers["Cache-Control"])
        # Publishing off: every link answers 404, and the goods go without them.
        self.backend.imsklad_publish_images = False
        self.assertEqual(self.get(green).status_code, 404)
        self.assertEqual(self.get(blue).status_code, 404)
        self.emulator.reset()
        self.backend.action_push_products()
        self.assertEqual(sorted(self.sent()["update_good"]), ["SHOP-0", "SHOP-1"])
        self.assertIsNone(self.image_url("SHOP-0"))

    def test_public_url_setting(self):
        self.backend.imsklad_public_url = "https://erp.example.com/"
        self.backend.action_push_products()
        self.assertTrue(self.image_url("SHOP-0").startswith(
            "https://erp.example.com/supplier_connector/imsklad/image/"))
        self.assertTrue(self.backend.imsklad_callback_url.startswith(
            "https://erp.example.com/supplier_connector/imsklad/"))

    def test_rights_over_rpc(self):
        self.setup_attributes()
        self.backend.imsklad_colour_attribute_id = self.colour
        line = self.backend.imsklad_colour_map_ids.filtered("colour")[:1]
        colour = line.colour
        for who in ("plain", "connector_user", "foreign_manager"):
            user = getattr(self, who)
            with self.subTest(user=who):
                for method in ("action_imsklad_open_push_wizard", "action_imsklad_suggest_colours"):
                    self.assertRefused(self.call_kw(user, "supplier.backend", method,
                                                    [self.backend.ids]))
                self.assertRefused(self.call_kw(user, "supplier.imsklad.push.wizard", "create", [
                    {"backend_id": self.backend.id, "scope": "storable"}]))
                self.assertRefused(self.call_kw(user, "supplier.imsklad.colour.map", "write", [
                    line.ids, {"colour": "4"}]))
        self.assertFalse(self.emulator.requests)
        self.assertEqual(line.colour, colour)
        result, error = self.call_kw(self.manager, "supplier.imsklad.push.wizard", "create", [
            {"backend_id": self.backend.id, "scope": "bound"}])
        self.assertFalse(error, error and error["message"])
        wizard_id = result if isinstance(result, int) else result[0]
        self.assertRefused(self.call_kw(self.connector_user, "supplier.imsklad.push.wizard",
                                        "action_push", [[wizard_id]]))
        result, error = self.call_kw(self.manager, "supplier.imsklad.push.wizard", "action_push",
                                     [[wizard_id]])
        self.assertFalse(error, error and error["message"])
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        self.assertEqual(len(self.emulator.goods), 4)
        result, error = self.call_kw(self.manager, "supplier.imsklad.colour.map", "write", [
            line.ids, {"colour": "4"}])
        self.assertFalse(error, error and error["message"])
        self.assertEqual(line.colour, "4")
