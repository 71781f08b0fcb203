"""IMSKLAD fulfilment warehouse settings of a connection (the service's own fields, DESIGN §6)."""

import secrets

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..services.imsklad import DEFAULT_LOCATION_CODE
from .chatter import post_note
from .error_messages import describe_error
from .supplier_backend_checks import is_http_url
from .supplier_backend_credential import credential_field

CALLBACK_ROUTE = "/supplier_connector/imsklad"


class SupplierBackendCredentialImsklad(models.Model):
    _inherit = "supplier.backend.credential"

    # The callback side: the token in the URL names the connection, the key in the body proves
    # the call comes from IMSKLAD. Both generated, both secret.
    imsklad_callback_token = fields.Char(index=True)
    imsklad_callback_key = fields.Char()
    # Signs the product image URLs given to IMSKLAD (models/imsklad_goods.py).
    imsklad_image_secret = fields.Char(string="Image link secret")


class SupplierBackendImsklad(models.Model):
    _inherit = "supplier.backend"

    service = fields.Selection(
        selection_add=[("imsklad", "IMSKLAD")], ondelete={"imsklad": "cascade"}
    )
    imsklad_storage_id = fields.Integer(
        string="Storage ID", default=1, help="IMSKLAD's storage id (1 for now, says IMSKLAD)."
    )
    imsklad_location_id = fields.Many2one(
        "supplier.location",
        string="IMSKLAD location",
        domain="[('backend_id', '=', id)]",
        help="The warehouse location whose stock the connection pulls.",
    )
    imsklad_warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Odoo warehouse",
        related="imsklad_location_id.warehouse_id",
        readonly=False,
        help="The Odoo warehouse IMSKLAD operates: its sale orders, the purchase orders it "
        "receives and its other receipts and deliveries are the ones sent to IMSKLAD.",
    )
    imsklad_validate_on_ship = fields.Boolean(
        string="Validate deliveries when shipped",
        help="When IMSKLAD reports an order shipped (status 9), validate its delivery in Odoo "
        "with the quantities ordered.",
    )
    imsklad_send_on_confirm = fields.Boolean(
        string="Send orders on confirmation",
        help="Confirmed sale orders of the warehouse, and purchase orders it receives (as "
        "supplier pre-orders), go to IMSKLAD at once; a problem is posted on the order and never "
        "blocks its confirmation.",
    )
    imsklad_push_all_storable = fields.Boolean(
        string="Push all storable products",
        help="Push products: also bind and push every storable product not mapped yet.",
    )
    imsklad_publish_images = fields.Boolean(
        string="Publish product images",
        help="Send IMSKLAD a link to each pushed product's image. The link is public (anyone "
        "who has it can see that one image) and unguessable; it stops working when this is "
        "switched off.",
    )
    imsklad_public_url = fields.Char(
        string="Public URL of Odoo",
        help="The address IMSKLAD reaches this Odoo at, for the callback URL and the image "
        "links. Empty: the Web Base URL of the system parameters.",
    )
    imsklad_size_attribute_id = fields.Many2one(
        "product.attribute",
        string="Size attribute",
        help="The product attribute whose value is sent as the good's size (e.g. Size).",
    )
    imsklad_colour_attribute_id = fields.Many2one(
        "product.attribute",
        string="Colour attribute",
        help="The product attribute whose value is sent as the good's colour, through the "
        "IMSKLAD colours tab.",
    )
    imsklad_colour_map_ids = fields.One2many(
        "supplier.imsklad.colour.map", "backend_id", string="IMSKLAD colours"
    )
    imsklad_callback_token = credential_field("imsklad_callback_token")
    imsklad_callback_key = credential_field(
        "imsklad_callback_key", string="Callback key",
        help="The key IMSKLAD sends with its calls (the ENDPOINT key of its settings); calls "
        "with another key are refused.",
    )
    imsklad_image_secret = credential_field("imsklad_image_secret", string="Image link secret")
    imsklad_callback_url = fields.Char(
        string="Callback URL",
        compute="_compute_imsklad_callback_url",
        groups="base.group_system",
        help="Paste this address and the callback key into IMSKLAD's settings.",
    )

    def _number_rules(self):
        return dict(super()._number_rules(), imsklad_storage_id=True)

    @api.depends("imsklad_callback_token", "imsklad_public_url")
    def _compute_imsklad_callback_url(self):
        for backend in self:
            token = backend.imsklad_callback_token
            backend.imsklad_callback_url = (
                f"{backend._imsklad_public_base()}{CALLBACK_ROUTE}/{token}" if token else False
            )

    def _imsklad_public_base(self):
        """Where IMSKLAD reaches this Odoo, without a trailing slash: the connection's public
        URL, else the Web Base URL."""
        self.ensure_one()
        base = self.imsklad_public_url or self.env["ir.config_parameter"].sudo().get_param(
            "web.base.url", ""
        )
        return (base or "").strip().rstrip("/")

    @api.constrains("imsklad_public_url")
    def _check_imsklad_public_url(self):
        for backend in self.filtered("imsklad_public_url"):
            if not is_http_url(backend.imsklad_public_url.strip()):
                raise ValidationError(self.env._(
                    "The public URL of Odoo must be a full web address starting with http:// "
                    "or https://, e.g. https://erp.example.com."
                ))

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = [vals.pop("imsklad_warehouse_id", False) for vals in vals_list]
        backends = super().create(vals_list)
        for backend, warehouse in zip(backends, warehouses, strict=True):
            if backend.service != "imsklad":
                continue
            backend._imsklad_ensure_location()
            if warehouse:
                backend.imsklad_location_id.warehouse_id = warehouse
            backend.sudo()._imsklad_new_callback_secrets(keep=True)
        return backends

    def _imsklad_ensure_location(self):
        self.ensure_one()
        if self.imsklad_location_id:
            return self.imsklad_location_id
        Location = self.env["supplier.location"].sudo()
        location = Location.search(
            [("backend_id", "=", self.id), ("code", "=", DEFAULT_LOCATION_CODE)]
        ) or Location.create({
            "backend_id": self.id, "code": DEFAULT_LOCATION_CODE,
            "name": self.env._("IMSKLAD warehouse"), "location_type": "fulfilment",
        })
        self.sudo().imsklad_location_id = location
        return location

    def _imsklad_new_callback_secrets(self, keep=False):
        """New callback token and key; ``keep``: only those not set yet."""
        for backend in self:
            if not (keep and backend.imsklad_callback_token):
                backend.imsklad_callback_token = secrets.token_urlsafe(24)
            if not (keep and backend.imsklad_callback_key):
                backend.imsklad_callback_key = secrets.token_urlsafe(32)
            if not backend.imsklad_image_secret:
                backend.imsklad_image_secret = secrets.token_urlsafe(32)

    def action_imsklad_regenerate_callback_key(self):
        """New callback URL and key: the old ones stop working at once (system administrators)."""
        self._check_right("manager")
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(self.env._(
                "Only administrators (Settings access) can regenerate the callback key."
            ))
        self.sudo()._imsklad_new_callback_secrets()
        for backend in self:
            post_note(backend, self.env._(
                "A new callback URL and key were generated: paste them into IMSKLAD's settings."
            ))
        return True

    def _imsklad_test_connection(self):
        adapter = self._adapter()
        try:
            adapter.test_connection([])
        except Exception as exc:  # noqa: BLE001 — any failure is shown, never raised at the user
            message = self.env._("Connection test failed: %s", describe_error(self.env, exc))
            post_note(self, message)
            return self._notify(message, "danger", sticky=True)
        self._imsklad_ensure_location()
        message = self.env._("Connection test succeeded: IMSKLAD accepted the API key.")
        post_note(self, message)
        return self._notify(message, "success")

    @api.model
    def _imsklad_for_warehouse(self, warehouse, company):
        """The active IMSKLAD connection operating ``warehouse`` (sudo), or an empty recordset."""
        if not warehouse:
            return self.browse()
        return self.sudo().search([
            ("service", "=", "imsklad"),
            ("company_id", "=", company.id),
            ("imsklad_location_id.warehouse_id", "=", warehouse.id),
        ], limit=1)
