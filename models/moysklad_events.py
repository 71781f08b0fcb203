"""MoySklad webhooks: registering them on the account and what Odoo does with their calls.

Issue 8 (Push, last bullet), DESIGN §4.3. A product or stock change at MoySklad makes MoySklad
``POST`` to ``/supplier_connector/moysklad/<token>?requestId=<uuid>`` (controllers/moysklad.py);
the products it names are then pulled again, and only those.

Decisions where the documents are silent:
- The URL token is ``<connection id>.<secret>``: the id names the connection, the secret (in the
  credentials table, compared in constant time) proves the caller holds the URL. So a call with
  an outdated secret is counted on its connection (``_count_refused_call``), a call naming no
  connection is refused and counted nowhere, as for IMSKLAD.
- The call is only stored (one ``supplier.event`` per ``requestId``, kind ``moysklad.entity`` or
  ``moysklad.stock``) and the event cron is triggered at once (``ir.cron._trigger``); the pull is
  not made in the request. Pulling one product costs at least four MoySklad requests (the
  product, then stock, reserve and in transit), each of which may wait for MoySklad's 45 units /
  3 s budget or a timeout, while MoySklad waits 1.5 s and then sends the same call again: only
  storing keeps the answer far below that (measured in tests/test_moysklad_webhooks.py: a new
  call 18 queries, 0.03 to 0.15 s including the first request's routing map; a repeat 5 queries,
  about 0.005 s) and a repeated ``requestId`` is answered 204 without a second event or pull.
- The event row is inserted with ``ON CONFLICT (backend_id, dedupe_key) DO NOTHING``: that
  insert is the only "seen before?" check. Two deliveries of the same ``requestId`` at the very
  same moment (two transactions, neither seeing the other's row) both get 204 and one event:
  the second insert waits for the first transaction; then PostgreSQL, under Odoo's REPEATABLE
  READ, refuses it with a serialization failure (the row it conflicts with is newer than its
  snapshot), which here means exactly "stored by the other delivery" and is answered as a
  repeat, at once. Before, the second one broke the unique key: a 500 and an error in the
  server log (letting Odoo retry the serialization failure instead would answer the same 204
  but seconds later, after MoySklad's 1.5 s, with an error in the log each time).
- Entity events: product and variant CREATE/UPDATE are pulled (catalogue fields by the
  connection's directions, as the scheduled pull, then their stock per store). Other entity
  types are acknowledged and left to the scheduled pulls. Within one delivery the last event of
  an object wins (created then deleted = deleted).
- Product and variant DELETE (nothing is asked of MoySklad, the object is gone): the mapping is
  marked "Not found" with "Deleted in MoySklad" and the moment, its stock and offers are
  cleared, and its MoySklad id is forgotten (a product created again at MoySklad with the same
  external code or code is then matched to it again by the next pull). The Odoo product is
  archived only when the connection owns the products: MoySklad is the master of products
  *and* the connection creates missing products from MoySklad; otherwise (products matched to
  an existing Odoo catalogue, or pulled without creating) the product stays as it is and only
  its mapping says it is gone. Archived, never deleted: sale orders, moves and invoices keep
  pointing at it, and un-archiving is one click. When Odoo is the master of products, the
  mapping also forgets what was pushed (payload and image) and gets a new syncId, so the next
  push (button or schedule) creates the product at MoySklad again, with its image (Odoo's
  catalogue wins; to stop pushing it, remove the mapping in Odoo). Each product concerned gets
  a note in its chatter.
- Stock events: the report MoySklad names (``reportUrl``, fetched only on the connection's
  API) gives the products whose stock changed; only their stock is pulled again, and only when
  MoySklad is the stock master.
- A processing failure (MoySklad unreachable...) leaves the event in error: the event cron
  retries it (DESIGN §4.3); the sync logs it made say why, with trigger "Webhook".
- Registering creates product and variant CREATE, UPDATE and DELETE webhooks and one stock
  webhook (by store) pointing at the connection's URL, only for what the connection pulls:
  CREATE and UPDATE when MoySklad is the master of products or prices, the stock webhook when
  it is the master of stock; DELETE always (it marks the mapping, and when Odoo is the master
  the next push creates the product again). Ours that are no longer pulled (the directions
  changed) are deleted by the next registration. The URL is built on the Web Base URL (the
  MoySklad connection has no public URL setting of its own). Webhooks already there with that
  URL are adopted (listed first; 30003 "exists already" on creation also counts as adopted); a
  connection registered before DELETE was handled gets the two DELETE webhooks when it is
  registered again. On a free plan MoySklad answers 30006: that is written in plain words on the connection (status and chatter), the
  button does not fail, and the scheduled pulls go on as before. Removing deletes the account's
  webhooks (entity and stock) whose URL is this connection's.
"""

import json
import logging
import secrets
import uuid
from collections import defaultdict

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..api.errors import AlreadyExists, ApiError, NotFound
from ..api.moysklad_errors import PlanRequired
from ..api.moysklad_events import parse_delivery
from .bulk import bulk_write
from .chatter import post_note
from .error_messages import describe_error
from .offer_writer import OfferWriter
from .supplier_backend_credential import credential_field
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)

WEBHOOK_ROUTE = "/supplier_connector/moysklad"
PRODUCT_KINDS = ("product", "variant")
PULL_ACTIONS = ("CREATE", "UPDATE")
DELETE_ACTION = "DELETE"
# (action, entity type) of the entity webhooks registered.
ENTITY_HOOKS = tuple(
    (action, kind) for kind in PRODUCT_KINDS for action in (*PULL_ACTIONS, DELETE_ACTION)
)


class SupplierBackendCredentialMoySkladHooks(models.Model):
    _inherit = "supplier.backend.credential"

    # The secret part of the webhook URL; generated, never shown to non-administrators.
    moysklad_webhook_secret = fields.Char(string="Webhook secret")


class SupplierBackendMoySkladHooks(models.Model):
    _inherit = "supplier.backend"

    moysklad_webhook_secret = credential_field("moysklad_webhook_secret", string="Webhook secret")
    moysklad_webhook_url = fields.Char(
        string="Webhook URL", compute="_compute_moysklad_webhook_url", groups="base.group_system",
        help="The address MoySklad calls when a product or its stock changes (Register webhooks "
        "sets it up at MoySklad).",
    )
    moysklad_webhook_status = fields.Text(
        string="Webhooks", readonly=True, copy=False,
        help="What MoySklad answered the last time webhooks were registered or removed.",
    )
    moysklad_webhook_count = fields.Integer(
        string="Webhooks at MoySklad", readonly=True, copy=False,
        help="Webhooks of this connection at MoySklad after the last registration or removal.",
    )

    @api.depends("moysklad_webhook_secret")
    def _compute_moysklad_webhook_url(self):
        for backend in self:
            backend.moysklad_webhook_url = (
                backend._moysklad_webhook_url() if backend.moysklad_webhook_secret else False
            )

    def _moysklad_webhook_url(self):
        """The webhook URL (the secret must exist): Web Base URL + route + id.secret."""
        self.ensure_one()
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "") or ""
        secret = self.sudo().moysklad_webhook_secret
        return f"{base.strip().rstrip('/')}{WEBHOOK_ROUTE}/{self.id}.{secret}"

    def _moysklad_webhook_prefix(self):
        """What our webhook URLs start with, once webhooks are registered (MoySklad accepted the
        address then): Odoo's own changes are sent with it so they do not come back as webhooks.
        Empty otherwise (MoySklad refuses a prefix without a full domain name)."""
        self.ensure_one()
        if not self.moysklad_webhook_count:
            return ""
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "") or ""
        return f"{base.strip().rstrip('/')}{WEBHOOK_ROUTE}/"

    def _moysklad_ensure_webhook_secret(self):
        for backend in self.sudo():
            if not backend.moysklad_webhook_secret:
                backend.moysklad_webhook_secret = secrets.token_urlsafe(24)

    def _moysklad_check_service(self):
        for backend in self:
            if backend.service != "moysklad":
                raise UserError(self.env._("This is not a MoySklad connection."))

    def _moysklad_wanted_hooks(self):
        """(entity hooks, stock hook?) this connection's directions give something to do: a
        product or variant change is pulled only when MoySklad is the master of products or
        prices, a stock change only when it is the master of stock. DELETE is always wanted:
        it marks the mapping, and when Odoo is the master the next push creates it again."""
        pulls_catalogue = "pull" in (self.moysklad_products_direction,
                                     self.moysklad_prices_direction)
        hooks = [(action, kind) for action, kind in ENTITY_HOOKS
                 if pulls_catalogue or action == DELETE_ACTION]
        return hooks, self.moysklad_stock_direction == "pull"

    def action_moysklad_register_webhooks(self):
        """Create (or adopt) the product, variant and stock webhooks at MoySklad whose changes
        this connection pulls (``_moysklad_wanted_hooks``), and delete its own that it no longer
        pulls (the directions changed since), managers only."""
        self._check_right("manager")
        self._moysklad_check_service()
        self.ensure_one()
        self._moysklad_ensure_webhook_secret()
        url = self._moysklad_webhook_url()
        adapter = self._adapter()
        client = adapter.client
        wanted, stock_wanted = self._moysklad_wanted_hooks()
        created = adopted = removed = 0
        try:
            existing = set()
            for hook in client.list_webhooks():
                key = (hook.action.upper(), hook.entity_type)
                if hook.url == url and hook.entity_type in PRODUCT_KINDS and key not in wanted:
                    client.delete_webhook(hook.id)
                    removed += 1
                elif hook.url == url:
                    existing.add(key)
            for action, kind in wanted:
                if (action, kind) in existing:
                    adopted += 1
                    continue
                try:
                    client.create_webhook(url, action, kind)
                    created += 1
                except AlreadyExists:
                    adopted += 1
            stock_hooks = [hook for hook in client.list_stock_webhooks() if hook.url == url]
            if stock_hooks and stock_wanted:
                adopted += 1
            elif stock_wanted:
                client.create_stock_webhook(url)
                created += 1
            for hook in stock_hooks if not stock_wanted else ():
                client.delete_stock_webhook(hook.id)
                removed += 1
        except ApiError as exc:
            self._save_adapter_state(adapter)
            if isinstance(exc, PlanRequired):
                message = self.env._(
                    "Webhooks not registered: the MoySklad plan of this account does not allow "
                    "webhooks (MoySklad error %(code)s); on the free plan MoySklad neither "
                    "creates nor sends them. A paid plan is needed. Products and stock are still "
                    "pulled by the scheduled runs.",
                    code=getattr(exc, "service_code", None) or 30006,
                )
            else:
                message = self.env._(
                    "Webhooks not registered: %s", describe_error(self.env, exc)
                )
            self.sudo().moysklad_webhook_status = message
            post_note(self, message)
            return self._notify(message, "warning", sticky=True)
        self._save_adapter_state(adapter)
        message = self.env._(
            "Webhooks registered at MoySklad: %(created)s created, %(adopted)s already there, "
            "%(removed)s removed. Pulled at once when they change at MoySklad: %(pulled)s; a "
            "product deleted there is marked so on its mapping.",
            created=created, adopted=adopted, removed=removed, pulled=", ".join(filter(None, [
                len(wanted) == len(ENTITY_HOOKS) and self.env._("products and variants"),
                stock_wanted and self.env._("stock"),
            ])) or self.env._("nothing (Odoo is the master)"),
        )
        self.sudo().write({
            "moysklad_webhook_status": message, "moysklad_webhook_count": created + adopted,
        })
        post_note(self, message)
        return self._notify(message, "success")

    def action_moysklad_remove_webhooks(self):
        """Delete this connection's webhooks at MoySklad (managers)."""
        self._check_right("manager")
        self._moysklad_check_service()
        self.ensure_one()
        if not self.sudo().moysklad_webhook_secret:
            return self._notify(self.env._("No webhooks were registered."), "info")
        url = self._moysklad_webhook_url()
        adapter = self._adapter()
        client = adapter.client
        removed = 0
        try:
            for hook in client.list_webhooks():
                if hook.url == url:
                    client.delete_webhook(hook.id)
                    removed += 1
            for hook in client.list_stock_webhooks():
                if hook.url == url:
                    client.delete_stock_webhook(hook.id)
                    removed += 1
        except ApiError as exc:
            self._save_adapter_state(adapter)
            message = self.env._("Webhooks not removed: %s", describe_error(self.env, exc))
            self.sudo().moysklad_webhook_status = message
            post_note(self, message)
            return self._notify(message, "warning", sticky=True)
        self._save_adapter_state(adapter)
        message = self.env._(
            "Webhooks removed at MoySklad: %(count)s. Changes are picked up by the scheduled "
            "pulls only.", count=removed,
        )
        self.sudo().write({"moysklad_webhook_status": message, "moysklad_webhook_count": 0})
        post_note(self, message)
        return self._notify(message, "success")


class SupplierEventMoySklad(models.Model):
    _inherit = "supplier.event"

    @api.model
    def _moysklad_receive(self, backend, delivery, payload):
        """Store one webhook call (once per ``requestId``) and wake the event cron; True when it
        is new. Nothing is pulled here (see the module docstring)."""
        dedupe_key = f"ms:{delivery.request_id}"
        if delivery.stock is not None:
            kind, reference = "moysklad.stock", delivery.stock.report_type
        else:
            kind = "moysklad.entity"
            reference = ", ".join(sorted({
                f"{event.entity_type} {event.action}" for event in delivery.events
            }))[:200]
        if not self._moysklad_insert_once(backend, kind, reference, dedupe_key, payload):
            return False
        self.env.ref("supplier_connector.ir_cron_retry_supplier_events").sudo()._trigger()
        return True

    @api.model
    def _moysklad_insert_once(self, backend, kind, reference, dedupe_key, payload):
        """Insert the event unless one with ``dedupe_key`` exists (committed or being committed
        by a concurrent delivery): one statement, so two deliveries at the same instant never
        break the unique key (module docstring). True when inserted.

        The columns are the ones ``create`` would fill (``company_id`` is the related stored
        field, the defaults of ``state``, ``attempts`` and ``received_at``)."""
        self.env.flush_all()
        uid = self.env.uid
        query = SQL(
            """INSERT INTO supplier_event (backend_id, company_id, kind, reference, dedupe_key,
                   payload, state, attempts, received_at, create_uid, create_date, write_uid,
                   write_date)
               VALUES (%s, %s, %s, %s, %s, %s::jsonb, 'received', 0, now() at time zone 'UTC',
                       %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
               ON CONFLICT (backend_id, dedupe_key) DO NOTHING
               RETURNING id""",
            backend.id, backend.company_id.id or None, kind, reference or None, dedupe_key,
            json.dumps(payload), uid, uid,
        )
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(query, log_exceptions=False)
                inserted = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            # Odoo's transactions are REPEATABLE READ: when the conflicting row was committed by
            # a concurrent delivery after this transaction's snapshot, PostgreSQL refuses the
            # ON CONFLICT instead of skipping it. That delivery stored the event: a repeat.
            _logger.info("MoySklad webhook %s: stored by a concurrent delivery", dedupe_key)
            return False
        if inserted:
            self.browse(inserted[0]).invalidate_recordset()
        return bool(inserted)

    def _process_one(self):
        if self.backend_id.service != "moysklad":
            return super()._process_one()
        backend = self.backend_id.sudo()
        delivery = parse_delivery(self.payload)
        Pull = self.env["supplier.moysklad.pull"]
        kinds, stock_ids = {}, set()
        if delivery.stock is not None:
            if backend.moysklad_stock_direction != "pull":
                return "done", None, False
            adapter = backend._adapter()
            report = adapter.client.stock_report_from_url(delivery.stock.report_url)
            stock_ids = {row.assortment_id for row in report.rows if row.assortment_id}
        deleted = {}
        if delivery.stock is None:
            # In order: the last event of an object wins (created then deleted = deleted).
            for event in delivery.events:
                if event.entity_type not in PRODUCT_KINDS:
                    continue
                if event.action in PULL_ACTIONS:
                    kinds[event.id] = event.entity_type
                    deleted.pop(event.id, None)
                elif event.action == DELETE_ACTION:
                    deleted[event.id] = event.entity_type
                    kinds.pop(event.id, None)
        logs = Pull._webhook_refresh(backend, kinds, stock_ids)
        if deleted:
            logs |= Pull._webhook_deleted(backend, deleted)
        failed = logs.filtered(lambda log: log.state in ("failed", "partial"))
        if failed:
            return "error", None, "\n".join(log.message or "" for log in failed)
        return "done", None, False


class SupplierMoySkladPullHooks(models.AbstractModel):
    _inherit = "supplier.moysklad.pull"

    @api.model
    def _webhook_refresh(self, backend, kinds, stock_ids):
        """Pull again the products ``kinds`` names ({MoySklad id: product|variant}) and the stock
        of those and of ``stock_ids``; the sync logs made (trigger Webhook)."""
        logs = self.env["supplier.sync.log"]
        if not kinds and not stock_ids:
            return logs
        adapter = backend._adapter()
        if kinds:
            run = SyncRun(self.env, backend, "import_catalogue", "webhook")
            context = self._catalogue_context(backend, run)
            try:
                if context["products"] and backend.catalogue_create_products:
                    context["uoms"] = self._uom_map(adapter.list_uoms())
                items = []
                for ms_id, kind in sorted(kinds.items()):
                    try:
                        items.append(adapter.client.get_product(ms_id, kind=kind))
                    except NotFound:
                        run.add(processed=1)
                        run.item_failed("ms_gone", self.env._(
                            "MoySklad no longer has the %(kind)s %(id)s its webhook named.",
                            kind=kind, id=ms_id,
                        ))
                if items:
                    self._apply_page(backend, context, items, run)
                    if context["images"]:
                        self._pull_images(backend, adapter, items, run)
            except ApiError as exc:
                run.stop(exc)
            run.note(self.env._("Webhook: only the products it named (%(count)s).",
                                count=len(kinds)))
            self._note_usage(run, adapter)
            logs |= run.finish(adapter)
        ids = sorted(set(kinds) | set(stock_ids))
        if backend.moysklad_stock_direction == "pull":
            run = SyncRun(self.env, backend, "sync_offers", "webhook")
            try:
                merged, _full = adapter.stock_by_store(assortment_ids=ids)
                per_product = defaultdict(dict)
                for (assortment_id, store_id), values in merged.items():
                    per_product[assortment_id][store_id] = values
                self._apply_stock(backend, OfferWriter(backend, log=run.log), per_product, ids, run, adapter)
            except ApiError as exc:
                run.stop(exc)
            run.note(self.env._("Webhook: stock of %(count)s products only.", count=len(ids)))
            self._note_usage(run, adapter)
            logs |= run.finish(adapter)
        return logs

    @api.model
    def _webhook_deleted(self, backend, deleted):
        """Products and variants deleted at MoySklad ({MoySklad id: product|variant}): their
        mappings marked, the products archived when the connection owns them (module
        docstring); the sync log made (trigger Webhook). Nothing is asked of MoySklad."""
        run = SyncRun(self.env, backend, "import_catalogue", "webhook")
        Binding = self.env["supplier.product"].sudo()
        bindings = Binding.search([
            ("backend_id", "=", backend.id), ("external_id", "in", list(deleted)),
        ])
        owned = (backend.moysklad_products_direction == "pull"
                 and backend.catalogue_create_products)
        pushed = backend.moysklad_products_direction == "push"
        now = fields.Datetime.now()
        moment = fields.Datetime.to_string(now)
        if pushed:
            message = self.env._("Deleted in MoySklad (%(moment)s UTC); the next push creates "
                                 "it there again.", moment=moment)
        elif owned:
            message = self.env._("Deleted in MoySklad (%(moment)s UTC); the product was "
                                 "archived.", moment=moment)
        else:
            message = self.env._("Deleted in MoySklad (%(moment)s UTC).", moment=moment)
        # The image went with the product: a product found or created again gets it again.
        values = {
            "sync_state": "not_found", "sync_message": message, "external_id": False,
            "qty_available": 0.0, "last_attempt": now, "moysklad_image_key": False,
        }
        by_binding = {}
        for binding in bindings:
            vals = dict(values)
            if pushed:
                vals.update(push_hash=False, moysklad_sync_id=str(uuid.uuid4()))
            by_binding[binding.id] = vals
        self.env["supplier.offer"].sudo().search([("binding_id", "in", bindings.ids)]).unlink()
        bulk_write(Binding, by_binding)
        products = bindings.product_id
        archived = self.env["product.product"]
        if owned:
            archived = products.filtered("active")
            archived.write({"active": False})
        for binding in bindings:
            post_note(binding.product_id.product_tmpl_id, self.env._(
                "%(connection)s: %(message)s", connection=backend.display_name,
                message=message,
            ))
        run.add(processed=len(deleted), not_found=len(bindings),
                unchanged=len(deleted) - len(bindings))
        run.note(self.env._(
            "Webhook: %(count)s products or variants deleted in MoySklad, %(mapped)s of them "
            "mapped here; products archived: %(archived)s.",
            count=len(deleted), mapped=len(bindings), archived=len(archived),
        ))
        return run.finish(None)
