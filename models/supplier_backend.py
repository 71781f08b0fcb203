
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.session import SessionState
from ..services import ADAPTERS, get_adapter
from .chatter import post_note
from .error_messages import describe_error
from .notification import notification


class SupplierBackend(models.Model):
    """A connection to one account of one service (ETM, Shate-M, MoySklad, IMSKLAD, UDOMA)."""

    _name = "supplier.backend"
    _description = "Supplier connection"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    # Each service adds itself with ``selection_add`` in models/backend_<service>.py.
    service = fields.Selection([], required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, tracking=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        tracking=True,
        check_company=True,
        help="The vendor in Odoo: vendor prices and purchase orders use this partner.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        default=lambda self: self.env.ref("base.RUB", raise_if_not_found=False)
        or self.env.company.currency_id,
        help="Currency the service quotes prices in when the answer does not say.",
    )
    api_url = fields.Char(
        string="API URL",
        compute="_compute_api_url",
        store=True,
        readonly=False,
        tracking=True,
        help="The service's address. Change it for a test server, a proxy or the local emulator.",
    )
    trusted_hosts = fields.Char(
        compute="_compute_trusted_hosts",
        store=True,
        readonly=False,
        help="Comma-separated hosts (and their subdomains) files and images may be downloaded "
        "from, besides the API host.",
    )

    # Credentials (login, password, api_key, session...): supplier_backend_credential.py
    login_blocked_until = fields.Datetime(
        copy=False,
        readonly=True,
        help="After the service rejected the login, no new login is tried before this time, "
        "so the supplier does not block the account.",
    )

    # Transport settings
    timeout = fields.Integer(
        string="Timeout (seconds)", default=30, help="Seconds to wait for an answer."
    )
    max_retries = fields.Integer(default=3, help="Retries after timeouts, 429 and 5xx answers.")
    rate_limit = fields.Float(
        string="Requests per second",
        default=1.0,
        help="Client-side limit. 0 means no limit.",
    )
    batch_size = fields.Integer(
        compute="_compute_batch_size",
        store=True,
        readonly=False,
        help="Items per API request (ETM: at most 50 codes per price request).",
    )
    max_items_per_run = fields.Integer(
        default=0,
        help="Stop a scheduled run after this many products (0 = all). The stalest products "
        "are refreshed first, so the next run continues where this one stopped.",
    )
    stale_after_hours = fields.Integer(
        default=24, help="Mapped products not refreshed for this long are shown as stale."
    )
    pull_stock = fields.Boolean(default=True, help="Also pull stock per store.")

    catalogue_job_ref = fields.Char(copy=False, readonly=True, string="Catalogue job")
    catalogue_poll_count = fields.Integer(
        default=6, help="How many times the button asks whether the catalogue file is ready."
    )
    catalogue_poll_seconds = fields.Integer(default=10, help="Seconds between two polls.")
    catalogue_create_products = fields.Boolean(
        string="Create missing products",
        help="When importing the catalogue, create products that match nothing in Odoo.",
    )

    # Services that sell by offer (Shate-M): how the vendor price is chosen among the offers.
    offer_choice = fields.Selection(
        [
            ("cheapest", "Cheapest"),
            ("fastest", "Fastest delivery"),
            ("cheapest_within", "Cheapest within N days"),
        ],
        string="Vendor price from",
        default="cheapest",
        help="Which offer of the allowed stores becomes the vendor price.",
    )
    offer_max_days = fields.Integer(
        string="Within days", default=3, help="For 'Cheapest within N days'."
    )

    price_budget_state = fields.Json(copy=False, readonly=True)
    reference_ids = fields.One2many("supplier.reference", "backend_id", string="Reference lists")
    # What the service can do, with the connection's settings (``_refusal``): the buttons' state.
    can_import_catalogue = fields.Boolean(compute="_compute_capabilities")
    can_push_products = fields.Boolean(string="Pushes products", compute="_compute_capabilities")
    sells_by_offer = fields.Boolean(compute="_compute_capabilities")
    has_references = fields.Boolean(compute="_compute_capabilities")
    can_map_products = fields.Boolean(string="Can map products", compute="_compute_capabilities")
    can_sync_offers = fields.Boolean(string="Pulls prices and stock", compute="_compute_capabilities")
    uses_login = fields.Boolean(string="Uses a login", compute="_compute_capabilities")

    location_ids = fields.One2many("supplier.location", "backend_id", string="Stores")
    schedule_ids = fields.One2many("supplier.backend.schedule", "backend_id")
    binding_ids = fields.One2many("supplier.product", "backend_id", string="Mapped products")
    product_count = fields.Integer(compute="_compute_counts")
    log_count = fields.Integer(compute="_compute_counts")
    last_sync_state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "Partly failed"), ("failed", "Failed")],
        string="Last run",
        compute="_compute_counts",
    )

    def _follow_service_default(self, field, default_of):
        """Set ``field`` to the service's default unless the administrator typed a value of their
        own (a value that is some service's default counts as not typed)."""
        defaults = {default_of(adapter) for adapter in ADAPTERS.values()}
        for backend in self:
            adapter = ADAPTERS.get(backend.service)
            if adapter and (not backend[field] or backend[field] in defaults):
                backend[field] = default_of(adapter)

    @api.depends("service")
    def _compute_api_url(self):
        self._follow_service_default("api_url", lambda adapter: adapter.default_url)

    @api.depends("service")
    def _compute_batch_size(self):
        self._follow_service_default("batch_size", lambda adapter: adapter.batch_size)

    @api.depends("service")
    def _compute_trusted_hosts(self):
        self._follow_service_default("trusted_hosts", lambda adapter: adapter.default_trusted_hosts)

    @api.depends("service")
    def _compute_capabilities(self):
        for backend in self:
            adapter = ADAPTERS.get(backend.service)
            backend.can_import_catalogue = not backend._refusal("import_catalogue")
            backend.can_push_products = not backend._refusal("push_products")
            backend.sells_by_offer = bool(adapter and adapter.sells_by_offer)
            backend.has_references = bool(adapter and adapter.has_references)
            backend.can_map_products = not backend._refusal("map_products")
            backend.can_sync_offers = not backend._refusal("sync_offers")
            backend.uses_login = bool(adapter and adapter.uses_login)

    def _compute_counts(self):
        bindings = dict(
            self.env["supplier.product"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        logs = {
            backend: (count, max_id)
            for backend, count, max_id in self.env["supplier.sync.log"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count", "id:max"]
            )
        }
        for backend in self:
            backend.product_count = bindings.get(backend, 0)
            count, max_id = logs.get(backend, (0, False))
            backend.log_count = count
            backend.last_sync_state = self.env["supplier.sync.log"].browse(max_id).state

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._ensure_schedules()
        return backends

    def _ensure_schedules(self):
        """Every connection gets one schedule line per scheduled operation of its service."""
        Schedule = self.env["supplier.backend.schedule"]
        vals_list = []
        for backend in self:
            present = set(backend.schedule_ids.mapped("operation"))
            for operation, interval in Schedule._default_intervals(backend.service):
                if operation not in present:
                    vals_list.append({"backend_id": backend.id, "operation": operation, **interval})
        Schedule.create(vals_list)

    # -- session cache ----------------------------------------------------------------------
    def _get_session_state(self):
        self.ensure_one()
        backend = self.sudo()
        return SessionState(
            token=backend.session_token or None,
            expires_at=backend.session_expires_at or None,
            login_blocked_until=backend.login_blocked_until or None,
            logged_in_at=backend.session_logged_in_at or None,
        )

    def _save_session_state(self, state):
        """Persist the client's session so the next run reuses it until it expires."""
        self.ensure_one()
        if state is None:
            return
        backend = self.sudo()
        vals = {
            "session_token": state.token or False,
            "session_expires_at": state.expires_at or False,
            "login_blocked_until": state.login_blocked_until or False,
            "session_logged_in_at": state.logged_in_at or False,
        }
        current = {name: backend[name] for name in vals}
        if vals != current:
            backend.write(vals)

    def _save_adapter_state(self, adapter):
        """After calls: keep the session and the request budget for the next run."""
        self._save_session_state(adapter.session_state())
        budget = adapter.budget_state()
        if budget is not None and budget != self.sudo().price_budget_state:
            self.sudo().price_budget_state = budget

    def _store_references(self, probe):
        """Reference lists and locations loaded by Test connection (kept, updated, added)."""
        Reference = self.env["supplier.reference"].sudo()
        existing = {(r.kind, r.code): r for r in self.with_context(active_test=False).reference_ids}
        for kind, rows in probe.get("references", {}).items():
            for code, name, extra in rows:
                vals = {
                    "name": name,
                    "is_final": bool(extra.get("final")),
                    "needs_contact": bool(extra.get("needs_contact")),
                    "active": True,
                }
                reference = existing.get((kind, code))
                if reference:
                    reference.write(vals)
                else:
                    Reference.create(dict(vals, backend_id=self.id, kind=kind, code=code))
        known = {loc.code: loc for loc in self.location_ids}
        new_locations = [
            {"backend_id": self.id, "code": code, "name": name}
            for code, name in probe.get("locations", []) if code not in known
        ]
        self.env["supplier.location"].sudo().create(new_locations)

    def _adapter(self):
        self.ensure_one()
        if not self.active:
            raise UserError(self.env._("The connection %s is archived.", self.name))
        return get_adapter(self.sudo())

    def _check_ready_to_order(self):
        """Raise UserError when an order cannot be sent with the connection's settings.

        Each service adds its own conditions (models/backend_<service>.py)."""
        self.ensure_one()

    def _check_operation(self, operation):
        """Raise, naming the connection and why, unless every one of these offers ``operation``."""
        for backend in self:
            refusal = backend._refusal(operation)
            if refusal:
                raise UserError(refusal)

    def _refusal(self, operation):
        """Why this connection does not offer ``operation``, in plain words, else "": its service
        must support it (adapter ``operations``) and its settings may make it meaningless
        (``_<service>_refusal``). The ``can_…`` fields and the actions read this one answer."""
        self.ensure_one()
        adapter = ADAPTERS.get(self.service)
        if not adapter or operation not in adapter.operations:
            return self.env._(
                "%(service)s does not support this operation (connection %(connection)s).",
                service=self._service_label() or self.env._("No service"),
                connection=self.display_name,
            )
        own = getattr(self, f"_{self.service}_refusal", None)
        return own(operation) if own else ""

    # -- buttons dispatched by service ------------------------------------------------------
    def _dispatch(self, operation):
        """Run the button ``operation`` on these connections, each by its own service's code.

        The public action has checked the caller's rights. Before anything runs: each service's
        extra access (``_<service>_<operation>_access``, where it has one), then every connection
        must offer the operation (``_refusal``), so a selection is refused whole, naming the
        connection, never half done. Then each runs ``_<service>_<operation>``, else the engine's
        ``_<operation>``, and returns its sync log or a notification (``_button_result``).

        By name, not through the adapter: the adapter (services/) declares what a service can do
        (``operations``) and speaks plain data, while a run is Odoo code (logs, locks, bulk
        writes, chatter) that DESIGN §2 keeps in models/; an adapter calling back into models
        would point the layers upwards. The adapter says *whether*, the service's model file
        *how*, found by name as the IMSKLAD callbacks are (models/imsklad_events.py): no
        override can take, or refuse, another service's connections.
        """
        groups = self.grouped("service")
        for service, backends in groups.items():
            access = getattr(backends, f"_{service}_{operation}_access", None)
            if access:
                access()
        self._check_operation(operation)
        results = []
        for service, backends in groups.items():
            for backend in backends:
                run = getattr(backend, f"_{service}_{operation}", None) or getattr(
                    backend, f"_{operation}"
                )
                results.append(run())
        return results

    def _button_result(self, results):
        """A button's answer for the logs and notifications of its runs: one log's notification,
        the list of several logs, or the notifications, followed by the logs' list if any."""
        logs = self.env["supplier.sync.log"].union(
            *(result for result in results if not isinstance(result, dict))
        )
        notes = [result for result in results if isinstance(result, dict)]
        if not notes:
            return logs._notification() if len(logs) == 1 else logs._action_open()
        action = notes[0]
        action["params"]["message"] = "\n".join(note["params"]["message"] for note in notes)
        if logs:
            action["params"]["next"] = logs._action_open()
        return action

    def action_push_products(self):
        """Send new and changed products to the service (each service its own way)."""
        self._check_right("manager")
        return self._button_result(self._dispatch("push_products"))

    def action_pull_orders(self):
        """Pull orders (UDOMA: marketplace orders) or their states (MoySklad).

        A pull that brought nothing new says so, "No new orders from <connection>", in its
        log and in the notification, instead of a row of zeros."""
        self._check_right("user")
        logs = self.env["supplier.sync.log"].union(*self._dispatch("pull_orders"))
        empty = logs.filtered(lambda log: log.state == "done" and not (log.created or log.updated))
        for log in empty.sudo():
            note = self.env._("No new orders from %s.", log.backend_id.display_name)
            log.message = "\n".join(filter(None, [note, log.message]))
        if len(logs) == 1 and empty:
            return logs.backend_id._notify(logs.message, "info")
        return self._button_result([logs])

    def _content_lang(self):
        """The language of texts sent to the service: the vendor's, else the company's, never
        the clicking user's, so a pushed payload (and its hash) does not depend on who pushes."""
        self.ensure_one()
        return self.partner_id.lang or self.company_id.partner_id.lang or "en_US"

    def _service_label(self):
        return dict(self._fields["service"]._description_selection(self.env)).get(self.service)

    # -- buttons ----------------------------------------------------------------------------
    last_test_state = fields.Selection(
        [("ok", "Succeeded"), ("failed", "Failed")], string="Last test", readonly=True, copy=False
    )
    last_test_at = fields.Datetime(string="Last tested", readonly=True, copy=False)

    def action_test_connection(self):
        """Log in and ask one price: say what worked, or why not, in plain words.

        Managers only: the request carries the credentials. The answer is a notification, then
        the form and its chatter are read again. The chatter gets a note when the test fails
        and when its outcome changes (the first success, a success after a failure), not on
        every success: a connection tested each morning would otherwise bury its history.
        A service with its own test (``_<service>_test_connection``) runs that one instead.
        """
        self._check_right("manager")
        self.ensure_one()
        own_test = getattr(self, f"_{self.service}_test_connection", None)
        if own_test:
            return own_test()
        adapter = self._adapter()
        if not adapter.has_credentials():
            return self._notify(self.env._(
                "Enter the credentials on the Credentials tab first (an administrator can)."
            ), "warning", sticky=True)
        samples = self.binding_ids.filtered("external_code")[:3].mapped("external_code")
        try:
            probe = adapter.test_connection(samples)
        except Exception as exc:  # noqa: BLE001 — any failure is shown, never raised at the user
            self._save_adapter_state(adapter)
            message = self.env._("Connection test failed: %s", describe_error(self.env, exc))
            self._record_test("failed", message)
            return self._notify_and_reload_chatter(message, "danger", sticky=True)
        self._save_adapter_state(adapter)
        self._store_references(probe)
        parts = [
            self.env._("Connection test succeeded."),
            self.env._("The saved session is still valid.") if probe["session_reused"]
            else self.env._("Logged in."),
        ]
        if probe.get("references"):
            parts.append(self.env._(
                "Loaded %(agreements)s agreements, %(addresses)s delivery addresses, "
                "%(locations)s locations and %(statuses)s order statuses: choose the agreement "
                "and the delivery address on the Settings tab, the locations on the Stores tab.",
                agreements=len(probe["references"].get("agreement", [])),
                addresses=len(probe["references"].get("delivery_address", [])),
                locations=len(probe.get("locations", [])),
                statuses=len(probe["references"].get("status", [])),
            ))
        elif probe["found"] is None:
            parts.append(self.env._("No products are mapped yet, so no price was asked."))
        else:
            parts.append(
                self.env._(
                    "Price request answered: %(found)s of %(total)s sample codes found.",
                    found=probe["found"],
                    total=probe["samples"],
                )
            )
        message = " ".join(parts)
        self._record_test("ok", message)
        return self._notify_and_reload_chatter(message, "success")

    def _record_test(self, outcome, message):
        """Keep the test's outcome; a note on the chatter on failure or a change of outcome."""
        if outcome == "failed" or self.last_test_state != outcome:
            post_note(self, message)
        self.sudo().write({"last_test_state": outcome, "last_test_at": fields.Datetime.now()})

    def _notify_and_reload_chatter(self, message, kind, sticky=None):
        """The notification, then the chatter's new messages and the record are read again
        (static/src/js/reload_thread.js: the form alone would not fetch new messages)."""
        action = self._notify(message, kind, sticky)
        action["params"]["next"] = {
            "type": "ir.actions.client",
            "tag": "supplier_connector.reload_thread",
            "params": {
                "model": self._name, "id": self.id, "next": action["params"]["next"],
            },
        }
        return action

    def action_sync_offers(self):
        """Pull prices and stock for every product mapped to these connections, now."""
        self._check_right("user")
        return self._button_result(self._dispatch("sync_offers"))

    def _sync_offers(self):
        """The engine's pull (ETM, Shate-M, IMSKLAD). From the form, a connection with more
        products than the context's ``sync_in_background_over`` runs in the scheduler instead:
        a web request cannot wait for thousands of remains requests at the supplier's rate limit.
        """
        background_over = self.env.context.get("sync_in_background_over")
        if background_over and self.product_count > background_over:
            self._queue_operation("sync_offers")
            return self._notify(
                self.env._(
                    "The sync of %(count)s mapped products runs in the background; follow it "
                    "in the sync logs.",
                    count=self.product_count,
                ),
                "info",
            )
        return self.env["supplier.sync.engine"]._run_offers(self, trigger="manual")

    def _queue_operation(self, operation):
        """Ask the scheduler to run ``operation`` as soon as possible, once."""
        self.schedule_ids.filtered(lambda s: s.operation == operation).sudo().write(
            {"run_requested": True}
        )
        self.env.ref("supplier_connector.ir_cron_run_due_operations").sudo()._trigger()

    def action_map_products(self):
        self._check_right("manager")
        self.ensure_one()
        self._check_operation("map_products")
        log = self.env["supplier.product.mapper"]._auto_map(self)
        return log._notification()

    def action_import_catalogue(self):
        self._check_right("manager")
        if any(self.mapped("catalogue_create_products")):
            # The import creates the products it cannot match, as superuser.
            self.env["product.product"].check_access("create")
        return self._button_result(self._dispatch("import_catalogue"))

    def _import_catalogue(self):
        return self.env["supplier.catalogue.importer"]._import(self, trigger="manual")

    def action_open_products(self):
        self._check_right("user")
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "supplier_connector.action_supplier_product"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    def action_open_logs(self):
        self._check_right("user")
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "supplier_connector.action_supplier_sync_log"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_reset_session(self):
        """Forget the cached session and the login block (after fixing the credentials).

        Managers may: it reveals and changes no credential, it only lifts a pause, and the
        worst it allows is one more login with the credentials an administrator typed.
        """
        self._check_right("manager")
        self.sudo().write(
            {
                "session_token": False,
                "session_expires_at": False,
                "session_logged_in_at": False,
                "login_blocked_until": False,
            }
        )
        return self._notify(self.env._(
            "The saved session and the login pause are cleared: the next request logs in again."
        ), "success")

    def _notify(self, message, kind="info", sticky=False):
        return notification(self.display_name, message, kind, sticky)
