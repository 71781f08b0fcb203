"""MoySklad settings of a connection (the service's own fields, DESIGN §6).

Decisions:
- The pasted token is the connection's ``api_key`` (a credential: system administrators only);
  the token obtained with login + password is its ``session_token``.
- Direction per kind of data: products, prices and stock are each pulled (MoySklad is the
  master), pushed (Odoo is the master) or off. One selection per kind, so a field never has two
  masters; prices can be pushed only with the products (they travel in the product), and
  pulled prices are never sent back. Stock cannot be pushed: MoySklad computes stock from its
  documents (stock documents are part 2).
- What the directions make meaningless is hidden and refused (``_moysklad_refusal``): "Import
  catalogue" when MoySklad is the master of neither products nor prices (with Odoo the master
  of products and MoySklad of prices the catalogue pass is how prices come, so it stays), "Push
  products" unless Odoo is the master of products.
- Reference data (organisations, price types, currencies) are ``supplier.reference`` rows;
  stores are ``supplier.location`` rows whose code is the MoySklad store id.
- The watermark of the catalogue pass is saved only when a pass read every page; the stock
  watermark likewise (MoySklad's ``changedSince`` reaches 24 h back at most: older, the whole
  report is read).
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .chatter import post_note
from .error_messages import describe_error

DIRECTIONS = [
    ("pull", "MoySklad is the master"),
    ("push", "Odoo is the master"),
    ("off", "Off"),
]


class SupplierBackendMoySklad(models.Model):
    _inherit = "supplier.backend"

    service = fields.Selection(
        selection_add=[("moysklad", "MoySklad")], ondelete={"moysklad": "cascade"}
    )
    moysklad_token_kind = fields.Selection(
        [("user", "User (login and password, or a user's token)"),
         ("application", "Application (a solution's token)")],
        string="Token kind", default="user",
        help="Requests made with a user's login, password or token cost more units of "
        "MoySklad's limit (45 units per 3 seconds) than those of an application token.",
    )
    moysklad_request_weight = fields.Integer(
        string="Units per request",
        help="Units of MoySklad's limit one request costs (stock reports cost 5). 0: MoySklad's "
        "published schedule for the token kind, read in Moscow time when each request leaves "
        "(a user's token 3 units, 4 from 1 December 2026; an application token 1). Type a "
        "number only when MoySklad changes the schedule.",
    )
    moysklad_products_direction = fields.Selection(
        DIRECTIONS, string="Products", default="pull", required=True,
        help="Names, codes, barcodes, units, weights, descriptions, archiving.",
    )
    moysklad_prices_direction = fields.Selection(
        DIRECTIONS, string="Prices", default="pull", required=True,
        help="Sale prices (by the price types' mapping) and the purchase price.",
    )
    moysklad_stock_direction = fields.Selection(
        DIRECTIONS, string="Stock", default="pull", required=True,
        help="Stock, reserve and in transit per store.",
    )
    moysklad_organization_id = fields.Many2one(
        "supplier.reference", string="Organisation",
        domain="[('backend_id', '=', id), ('kind', '=', 'ms_organization')]",
        help="Loaded by Test connection.",
    )
    moysklad_buy_price_to_vendor = fields.Boolean(
        string="Purchase price as vendor price", default=True,
        help="MoySklad's purchase price becomes the vendor price of the connection's vendor.",
    )
    moysklad_pull_images = fields.Boolean(
        string="Pull main images", default=True,
        help="When MoySklad is the master of products: the main image of each changed product "
        "with images is downloaded when it changed (one more request per such product).",
    )
    moysklad_watermark = fields.Datetime(
        string="Products changed since", readonly=True, copy=False,
        help="The next catalogue pull asks only what changed since then. Empty: a full pass.",
    )
    moysklad_stock_watermark = fields.Datetime(
        string="Stock changed since", readonly=True, copy=False,
    )
    moysklad_price_type_ids = fields.One2many(
        "supplier.reference", "backend_id", string="Price types",
        domain=[("kind", "=", "ms_price_type")],
    )
    moysklad_currency_ids = fields.One2many(
        "supplier.reference", "backend_id", string="Currencies",
        domain=[("kind", "=", "ms_currency")],
    )

    def _number_rules(self):
        return dict(super()._number_rules(), moysklad_request_weight=False)

    @api.constrains("moysklad_products_direction", "moysklad_prices_direction",
                    "moysklad_stock_direction", "service")
    def _check_moysklad_directions(self):
        for backend in self.filtered(lambda b: b.service == "moysklad"):
            if backend.moysklad_stock_direction == "push":
                raise ValidationError(self.env._(
                    "Odoo cannot be the master of MoySklad stock: MoySklad computes stock from "
                    "its own documents. Choose 'MoySklad is the master' or 'Off' for stock."
                ))
            if (backend.moysklad_prices_direction == "push"
                    and backend.moysklad_products_direction != "push"):
                raise ValidationError(self.env._(
                    "Prices are sent inside the products: Odoo can be the master of prices only "
                    "when it is the master of products too."
                ))

    # -- buttons ----------------------------------------------------------------------------------
    def _moysklad_test_connection(self):
        adapter = self._adapter()
        if not adapter.has_credentials():
            return self._notify(self.env._(
                "Enter the login and password, or paste a token, on the Credentials tab first "
                "(an administrator can)."
            ), "warning", sticky=True)
        try:
            probe = adapter.test_connection([])
        except Exception as exc:  # noqa: BLE001 — any failure is shown, never raised at the user
            self._save_adapter_state(adapter)
            message = self.env._("Connection test failed: %s", describe_error(self.env, exc))
            post_note(self, message)
            return self._notify(message, "danger", sticky=True)
        self._save_adapter_state(adapter)
        missing = self._moysklad_store_reference(probe["reference"])
        reference = probe["reference"]
        parts = [
            self.env._("Connection test succeeded."),
            self.env._("The saved token is still valid.") if probe["session_reused"]
            else self.env._("Logged in."),
            self.env._(
                "Loaded %(organizations)s organisations, %(stores)s stores, %(price_types)s "
                "price types and %(currencies)s currencies: map the price types and currencies "
                "on the MoySklad tab, choose the stores on the Stores tab.",
                organizations=len(reference.organizations), stores=len(reference.stores),
                price_types=len(reference.price_types), currencies=len(reference.currencies),
            ),
        ]
        if missing:
            parts.append(self.env._(
                "These MoySklad currencies have no active currency in Odoo: %(currencies)s. "
                "Activate them in Odoo (Accounting settings, Currencies) or choose one by hand; "
                "prices in them are skipped until then.", currencies=", ".join(missing),
            ))
        message = " ".join(parts)
        post_note(self, message)
        return self._notify(message, "warning" if missing else "success", sticky=bool(missing))

    def _moysklad_store_reference(self, reference):
        """Reference rows and stores from ``MsReference``; returns the currencies not found in
        Odoo (named in plain words)."""
        self.ensure_one()
        Currency = self.env["res.currency"].sudo()
        isos = [c.iso_code for c in reference.currencies if c.iso_code]
        odoo = {c.name: c for c in Currency.search([("name", "in", isos)])}
        rows = {
            "ms_organization": [(o.id, o.name or o.legal_title or o.id, {}) for o in reference.organizations],
            "ms_price_type": [(p.id, p.name or p.id, {}) for p in reference.price_types],
            "ms_currency": [
                (c.id, c.full_name or c.name or c.iso_code or c.id, {"iso": c.iso_code})
                for c in reference.currencies
            ],
        }
        Reference = self.env["supplier.reference"].sudo()
        existing = {
            (r.kind, r.code): r for r in self.with_context(active_test=False).reference_ids
        }
        missing = []
        creates = []
        for kind, items in rows.items():
            for code, name, extra in items:
                vals = {"name": name, "active": True}
                iso = extra.get("iso")
                row = existing.get((kind, code))
                if kind == "ms_currency":
                    vals["iso_code"] = iso or False
                    currency = odoo.get(iso)
                    if currency and currency.active and not (row and row.odoo_currency_id):
                        vals["odoo_currency_id"] = currency.id
                    if not (row and row.odoo_currency_id) and not (currency and currency.active):
                        missing.append(f"{name} ({iso or '?'})")
                if row:
                    row.write(vals)
                else:
                    creates.append(dict(vals, backend_id=self.id, kind=kind, code=code))
        Reference.create(creates)
        if not self.moysklad_organization_id and reference.organizations:
            self.sudo().moysklad_organization_id = self.reference_ids.filtered(
                lambda r: r.kind == "ms_organization"
            )[:1]
        if reference.price_types and not self.reference_ids.filtered(
            lambda r: r.kind == "ms_price_type" and r.price_target != "off"
        ):
            # The first price type is MoySklad's default sale price: the product's sales price.
            self.reference_ids.filtered(
                lambda r: r.kind == "ms_price_type" and r.code == reference.price_types[0].id
            ).write({"price_target": "list_price"})
        known = {loc.code: loc for loc in self.location_ids}
        new_locations = []
        for store in reference.stores:
            location = known.get(store.id)
            name = store.name or store.code or store.id
            if location:
                if location.name != name:
                    location.sudo().name = name
            else:
                new_locations.append({
                    "backend_id": self.id, "code": store.id, "name": name,
                    "location_type": "store", "use_for_stock": not store.archived,
                })
        self.env["supplier.location"].sudo().create(new_locations)
        return missing

    # -- buttons dispatched by service (models/supplier_backend.py ``_dispatch``) -------------------
    @api.depends("moysklad_products_direction", "moysklad_prices_direction")
    def _compute_capabilities(self):
        return super()._compute_capabilities()

    def _moysklad_refusal(self, operation):
        """What the directions make meaningless: importing the catalogue when MoySklad is the
        master of neither products nor prices (the catalogue pass would read nothing it
        keeps), pushing products when Odoo is not their master. "" otherwise."""
        if operation == "import_catalogue" and "pull" not in (
            self.moysklad_products_direction, self.moysklad_prices_direction
        ):
            return self.env._(
                "Nothing to import on the connection %(connection)s: MoySklad is the master "
                "of neither its products nor its prices. Choose 'MoySklad is the master' for "
                "products or prices on its MoySklad tab first.",
                connection=self.display_name,
            )
        if operation == "push_products" and self.moysklad_products_direction != "push":
            return self.env._(
                "Odoo is not the master of products on the connection %(connection)s: "
                "choose 'Odoo is the master' for products on its MoySklad tab first.",
                connection=self.display_name,
            )
        return ""

    def _moysklad_import_catalogue(self):
        return self.env["supplier.moysklad.pull"]._pull_catalogue(self, trigger="manual")

    def _moysklad_sync_offers(self):
        return self.env["supplier.moysklad.pull"]._pull_stock(self, trigger="manual")

    def action_moysklad_full_pass(self):
        """Forget the watermarks: the next pulls read the whole catalogue and stock again."""
        self._check_right("manager")
        self._moysklad_check_service()
        self.sudo().write({"moysklad_watermark": False, "moysklad_stock_watermark": False})
        return self._notify(self.env._(
            "The next catalogue and stock pulls read everything again (a full pass)."
        ), "success")
