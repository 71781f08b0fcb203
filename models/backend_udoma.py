"""UDOMA marketplace settings of a connection: the API version, the shops and (v1) the groups.

Decisions where the document is silent (also in the report of issue 10):
- The connection's partner is the marketplace: the customer of the sale orders pulled from
  UDOMA; a shop may name its own customer instead.
- A shop is a ``supplier.location`` of the connection: its code is the ``shopSourceSystemId``
  bound in UDOMA's integration settings; its warehouse gives the stock, its pricelist the price,
  its optional discount pricelist the sale price (``salePrice``; UDOMA computes the percent).
- v1 groups: product categories mapped to ``groupSourceSystemId``. A product goes to the group
  of its category, or of the nearest parent category that has one. A group is the parent of
  the groups mapped on its sub-categories; UDOMA refuses items in a group that has sub-groups,
  so such a mapping is refused when saved, and a product that would land in one is refused
  before sending (its message says which group and why).
- Test connection asks ``export-orders`` for an empty window (from = to = now) of the first
  shop: a read that changes nothing at UDOMA, refused with 403 when the key is wrong or was
  regenerated. ``export-orders`` answers an unknown shop with no orders, so each shop is then
  checked with an empty ``import-assortment`` (no rows, nothing turned off: nothing changes),
  and the shops UDOMA does not know are named.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..api.errors import ApiError
from .chatter import post_note
from .error_messages import describe_error


def udoma_error(env, exc):
    """UDOMA's own refusals in plain words (translated), else the shared sentence."""
    code = getattr(exc, "code", None)
    if code == "api_key_refused":
        return env._(
            "UDOMA refused the API key: it is wrong, or it was regenerated in UDOMA's integration "
            "settings (a new key makes the old one invalid). An administrator copies the current "
            "key from UDOMA to the connection's Credentials tab; nothing more is sent until then."
        )
    if code == "auth":
        return env._("UDOMA refused the request: no API key was sent. An administrator enters "
                     "it on the connection's Credentials tab.")
    if code == "invalid_json":
        return env._("UDOMA refused the request: a field it requires is missing.")
    return describe_error(env, exc)


UDOMA_OPERATIONS = [
    ("push_assortment", "Prices and stock to the marketplace"),
    ("pull_orders", "Marketplace orders"),
]


class SupplierBackendUdoma(models.Model):
    _inherit = "supplier.backend"

    service = fields.Selection(selection_add=[("udoma", "UDOMA")], ondelete={"udoma": "cascade"})
    udoma_api_version = fields.Selection(
        [("v1", "v1 (groups)"), ("v2", "v2 (per shop)")],
        string="UDOMA API version",
        default="v2",
        help="v1: products are sent once with their group (product categories mapped on the "
        "Groups tab), prices and stock of all shops in one list. v2: products are sent to each "
        "shop, without groups.",
    )
    udoma_turn_off_missing = fields.Boolean(
        string="Turn off what is not sent",
        help="On a full push, UDOMA hides the products (and zeroes the prices and stock) that "
        "the push does not contain. A full push then goes in one request per shop, since UDOMA "
        "turns off whatever is not in the request.",
    )
    udoma_confirm_orders = fields.Boolean(
        string="Confirm orders automatically",
        help="Confirm the sale orders pulled from UDOMA at once.",
    )
    udoma_push_all_saleable = fields.Boolean(
        string="Push all saleable products to UDOMA",
        help="Push products: also map and push every saleable product of the company not "
        "mapped yet (its code: the internal reference).",
    )
    udoma_delivery_product_id = fields.Many2one(
        "product.product",
        string="Delivery product",
        help="The product of the delivery line of pulled orders (UDOMA's delivery cost). "
        "Empty: the addon's 'Marketplace delivery' service.",
    )
    udoma_nomenclature_pushed = fields.Boolean(
        string="Products uploaded once", readonly=True, copy=False,
        help="The first full upload of the products is done: later pushes send what changed.",
    )
    udoma_shop_ids = fields.One2many("supplier.location", "backend_id", string="Shops")
    udoma_group_ids = fields.One2many("supplier.udoma.group", "backend_id", string="Groups")

    def _udoma_shops(self):
        """The shops of the connection, in their order."""
        self.ensure_one()
        return self.sudo().location_ids.sorted(lambda shop: (shop.sequence, shop.code))

    def _udoma_test_connection(self):
        adapter = self._adapter()
        if not adapter.has_credentials():
            return self._notify(self.env._(
                "Enter the API key on the Credentials tab first (an administrator can)."
            ), "warning", sticky=True)
        shops = self._udoma_shops()
        unknown = []
        try:
            adapter.test_connection(shops[:1].code or "")
            for shop in shops:
                try:
                    adapter.check_shop(shop.code)
                except ApiError as exc:
                    if exc.code != "shop_not_found":
                        raise
                    unknown.append(f"{shop.name or shop.code} ({shop.code})")
        except Exception as exc:  # noqa: BLE001 — any failure is shown, never raised at the user
            message = self.env._("Connection test failed: %s", udoma_error(self.env, exc))
            post_note(self, message)
            return self._notify(message, "danger", sticky=True)
        message = self.env._("Connection test succeeded: UDOMA accepted the API key.")
        kind = "success"
        if not shops:
            message += " " + self.env._(
                "Add the shops bound in UDOMA's integration settings on the Shops tab."
            )
        if unknown:
            kind = "warning"
            message += " " + self.env._(
                "UDOMA has no shop bound to these ids: %s. Bind them in UDOMA's integration "
                "settings, or correct their ids on the Shops tab.", ", ".join(unknown),
            )
        post_note(self, message)
        return self._notify(message, kind, sticky=kind != "success")


class SupplierLocationUdoma(models.Model):
    """A UDOMA shop: its ``shopSourceSystemId`` is the location's code."""

    _inherit = "supplier.location"

    pricelist_id = fields.Many2one(
        "product.pricelist", check_company=True,
        help="The price sent to the shop (the pricelist's price for one unit).",
    )
    udoma_discount_pricelist_id = fields.Many2one(
        "product.pricelist", string="Discount pricelist", check_company=True,
        help="Optional: the discounted price (UDOMA's sale price) sent when it is lower than "
        "the price; UDOMA computes the percent.",
    )
    udoma_partner_id = fields.Many2one(
        "res.partner", string="Customer", check_company=True,
        help="The customer of this shop's orders. Empty: the connection's marketplace partner.",
    )
    udoma_orders_until = fields.Datetime(
        string="Orders pulled until", copy=False,
        help="Orders up to this time (UTC) were pulled; the next pull asks from here on.",
    )
    udoma_assortment_pushed = fields.Boolean(
        string="Prices and stock uploaded once", readonly=True, copy=False,
    )
    udoma_order_count = fields.Integer(string="Orders", compute="_compute_udoma_order_count")

    def _compute_udoma_order_count(self):
        counts = dict(self.env["sale.order"].sudo()._read_group(
            [("udoma_shop_id", "in", self.ids)], ["udoma_shop_id"], ["__count"]
        )) if self.ids else {}
        for shop in self:
            shop.udoma_order_count = counts.get(shop, 0)

    @api.model_create_multi
    def create(self, vals_list):
        shops = super().create(vals_list)
        shops._udoma_shops_changed()
        return shops

    def write(self, vals):
        result = super().write(vals)
        if "code" in vals:
            self._udoma_shops_changed()
        return result

    def _udoma_shops_changed(self):
        """v2 sends products to each shop: a new or renamed shop has none yet, so the next push
        sends them all (their fingerprints are forgotten)."""
        backends = self.backend_id.filtered(
            lambda b: b.service == "udoma" and b.udoma_api_version == "v2"
        )
        if backends:
            self.env["supplier.product"].sudo().search(
                [("backend_id", "in", backends.ids), ("push_hash", "!=", False)]
            ).write({"push_hash": False})


class SupplierUdomaGroup(models.Model):
    """v1: a product category ↔ a UDOMA group (``groupSourceSystemId``)."""

    _name = "supplier.udoma.group"
    _description = "UDOMA group"
    _order = "backend_id, code"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    category_id = fields.Many2one(
        "product.category", string="Product category", required=True, ondelete="cascade"
    )
    code = fields.Char(
        string="UDOMA group ID", required=True,
        help="The group's groupSourceSystemId, as set in UDOMA.",
    )

    _sql_constraints = [
        ("category_unique", "UNIQUE(backend_id, category_id)",
         "A product category has one UDOMA group per connection."),
        ("code_unique", "UNIQUE(backend_id, code)",
         "A UDOMA group ID is mapped to one product category per connection."),
    ]

    def _compute_display_name(self):
        for group in self:
            group.display_name = f"{group.code} ({group.category_id.display_name or ''})"

    @api.constrains("category_id", "code", "backend_id")
    def _check_items_or_subgroups(self):
        for backend in self.backend_id:
            tree = GroupTree(backend)
            bound = self.env["supplier.product"].sudo().search(
                [("backend_id", "=", backend.id)]
            ).product_id.with_context(active_test=False)
            for category in bound.categ_id:
                group = tree.group_of(category)
                if group and tree.has_subgroups(group):
                    raise ValidationError(self.env._(
                        "The UDOMA group %(group)s would hold products (of the category "
                        "%(category)s) and sub-groups (%(subgroups)s) at once. UDOMA takes "
                        "either products or sub-groups in a group, never both: map the "
                        "category %(category)s to a group of its own.",
                        group=group.code, category=category.display_name,
                        subgroups=", ".join(tree.subgroups(group).mapped("code")),
                    ))


class GroupTree:
    """The v1 groups of a connection, over the category tree (one read)."""

    def __init__(self, backend):
        self.groups = backend.env["supplier.udoma.group"].sudo().search(
            [("backend_id", "=", backend.id)]
        )
        self.by_category = {group.category_id.id: group for group in self.groups}
        self.paths = {
            group.id: group.category_id.parent_path or "" for group in self.groups
        }

    def group_of(self, category):
        """The group of ``category``: its own, else its nearest parent's (empty if none)."""
        for category_id in reversed((category.parent_path or "").strip("/").split("/")):
            if category_id and int(category_id) in self.by_category:
                return self.by_category[int(category_id)]
        return self.groups.browse()

    def subgroups(self, group):
        path = self.paths[group.id]
        return self.groups.filtered(
            lambda other: other != group and self.paths[other.id].startswith(path)
        )

    def has_subgroups(self, group):
        return bool(self.subgroups(group))


class SupplierScheduleUdoma(models.Model):
    _inherit = "supplier.backend.schedule"

    operation = fields.Selection(
        selection_add=[*UDOMA_OPERATIONS, ("push_products", "Push products")],
        ondelete={"push_assortment": "cascade", "pull_orders": "cascade", "push_products": "cascade"},
    )


class SupplierLogUdoma(models.Model):
    _inherit = "supplier.sync.log"

    operation = fields.Selection(
        selection_add=UDOMA_OPERATIONS,
        ondelete={"push_assortment": "cascade", "pull_orders": "cascade"},
    )


class SupplierSyncEngineUdoma(models.AbstractModel):
    _inherit = "supplier.sync.engine"

    @api.model
    def _scheduled_udoma_push_products(self, backend):
        return self.env["supplier.udoma.push"]._push(backend, trigger="cron")

    @api.model
    def _scheduled_udoma_push_assortment(self, backend):
        return self.env["supplier.udoma.assortment.push"]._push(backend, trigger="cron")

    @api.model
    def _scheduled_udoma_pull_orders(self, backend):
        return self.env["supplier.udoma.orders"]._pull(backend, trigger="cron")
