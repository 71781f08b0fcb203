"""Users of every kind, and JSON-RPC calls made as them, for the tests of who may do what."""

import json

from odoo.tests import new_test_user


class RightsUsers:
    """Mixin for a case class: one user per kind of caller the methods must tell apart.

    Logins double as passwords (``password_of``), so the HTTP tests can log in as each of them.
    """

    @classmethod
    def create_rights_users(cls):
        env = cls.env
        cls.other_company = env["res.company"].create({"name": "Other company"})

        def user(login, groups, **values):
            return new_test_user(env, login, groups=groups, password=cls.password_of(login), **values)

        # No supplier connector group at all.
        cls.plain = user("sc_plain", "base.group_user")
        # Reads offers and runs syncs.
        cls.connector_user = user("sc_user", "base.group_user,supplier_connector.group_supplier_user")
        # Configures connections and mappings; no Settings access, no right to edit products.
        cls.manager = user(
            "sc_manager", "base.group_user,supplier_connector.group_supplier_manager"
        )
        # A manager who may also edit products and purchase orders.
        cls.purchase_manager = user(
            "sc_purchase_manager",
            "base.group_user,supplier_connector.group_supplier_manager,"
            "purchase.group_purchase_manager",
        )
        # Settings access: holds the credentials.
        cls.admin = user(
            "sc_admin", "base.group_user,base.group_system,supplier_connector.group_supplier_manager"
        )
        # A manager and a purchase manager of another company only.
        cls.foreign_manager = user(
            "sc_foreign_manager",
            "base.group_user,supplier_connector.group_supplier_manager,"
            "purchase.group_purchase_manager",
            company_id=cls.other_company.id, company_ids=[(6, 0, cls.other_company.ids)],
        )

    @staticmethod
    def password_of(login):
        return f"{login}-Pa55word"


class JsonRpc:
    """Mixin for an ``HttpCase``: call model methods over HTTP as a logged-in user."""

    def call_kw(self, user, model, method, args, kwargs=None):
        """``/web/dataset/call_kw`` as ``user`` (what the web client sends for a button).

        Returns ``(result, error)``; ``error`` is the JSON-RPC error's data (name, message).
        """
        return self._json_rpc("/web/dataset/call_kw", user, {
            "model": model, "method": method, "args": args, "kwargs": kwargs or {},
        })

    def execute_kw(self, user, model, method, args, kwargs=None):
        """``/jsonrpc`` ``object.execute_kw`` (the external API: no web session at all)."""
        return self._json_rpc("/jsonrpc", None, {
            "service": "object",
            "method": "execute_kw",
            "args": [self.env.cr.dbname, user.id, self.password_of(user.login), model, method,
                     args, kwargs or {}],
        })

    def _json_rpc(self, route, user, params):
        self.env.flush_all()
        if user is not None:
            self.authenticate(user.login, self.password_of(user.login))
        response = self.url_open(
            route,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        # What the server did is in the shared test transaction: read it fresh.
        self.env.invalidate_all()
        return body.get("result"), (body.get("error") or {}).get("data")

    def assertRefused(self, outcome, text=None):
        result, error = outcome
        self.assertFalse(result)
        self.assertTrue(error, "the call was not refused")
        self.assertEqual(error["name"], "odoo.exceptions.AccessError", error.get("message"))
        if text:
            self.assertIn(text, error["message"])


# Who is refused and who is let through, per level of an entry point.
REFUSED = {
    "user": ("plain", "foreign_manager"),
    "manager": ("plain", "connector_user", "foreign_manager"),
    # Managers who may also edit the products the supplier's card overwrites.
    "editor": ("plain", "connector_user", "manager", "foreign_manager"),
}
ALLOWED = {"user": "connector_user", "manager": "manager", "editor": "purchase_manager"}


class EntryPoints:
    """Every public method of the ETM fixtures (tests/common.py EtmCase), with its level."""

    def entry_points(self):
        backend, binding = self.backend, self.bindings[0]
        product = self.products[0]
        return [
            ("supplier.backend", "action_test_connection", backend, "manager"),
            ("supplier.backend", "action_sync_offers", backend, "user"),
            ("supplier.backend", "action_map_products", backend, "manager"),
            ("supplier.backend", "action_import_catalogue", backend, "manager"),
            ("supplier.backend", "action_reset_session", backend, "manager"),
            ("supplier.backend", "action_open_products", backend, "user"),
            ("supplier.backend", "action_open_logs", backend, "user"),
            ("supplier.product", "action_sync", binding, "user"),
            ("supplier.product", "action_enrich", binding, "editor"),
            ("product.product", "action_supplier_sync", product, "user"),
            ("product.product", "action_supplier_enrich", product, "editor"),
            ("product.template", "action_supplier_sync", product.product_tmpl_id, "user"),
            ("product.template", "action_supplier_enrich", product.product_tmpl_id, "editor"),
        ]

    @classmethod
    def prepare_entry_points(cls):
        # The first product belongs to the connection's company, so that another company's
        # users are refused it by the product's own multi-company rule too.
        cls.products[0].product_tmpl_id.company_id = cls.backend.company_id
