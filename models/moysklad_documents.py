"""Orders and documents sent to MoySklad (issue 9): sale order → customerorder, purchase order →
purchaseorder, validated delivery → demand, validated receipt → supply (DESIGN §4.2).

Exactly once: each record has one ``supplier.order`` row per connection whose ``key`` is the
syncId of the creation, derived from the database, the record and the connection (so even a
row lost with a rolled-back transaction gets the same one back) and stored before the first
request. The send itself is ``supplier.order._send_exactly_once``: after a lost answer the row
is ``sending`` and the next attempt asks MoySklad for the syncId (``filter=syncId=…``) and
adopts what it finds; MoySklad answers a repeated creation with the same syncId with the
document it made, so even a blind repeat would not make a second one.

What a document carries, and the decisions where the documents are silent:

- ``name`` and ``externalCode``: the Odoo record's name (SO…, P…, WH/OUT/…); ``moment``: the
  order date (sale), the confirmation date (purchase), the date done (transfers).
- ``organization``: the connection's organisation; ``store``: the store mapped to the record's
  warehouse (connection settings); ``agent``: the counterparty of the customer / vendor
  (``commercial_partner_id``), found or created through the counterparty bindings
  (``_moysklad_counterparty_metas``).
- Positions: one per order line with a product and a quantity above zero (sections, notes and
  lines with a negative price, such as Odoo's global discount lines, are not goods: they are not
  sent and the outcome says so). The assortment is the product's MoySklad product (its binding);
  a product without one is pushed first through the product push (models/moysklad_push.py),
  unless MoySklad is the master of products (then the send is refused in plain words: map or
  import the product). Quantity and price per unit of the product's own unit of measure; price
  in kopecks of the order's currency before the discount; ``discount`` the line's percent;
  ``vat`` the sum of the line's percentage taxes (whole percent), ``vatEnabled`` whether it has
  any. ``vatEnabled`` / ``vatIncluded`` of the document: whether any line has taxes, and whether
  they are included in the price.
- Currency: ``rate.currency`` is the MoySklad currency mapped to the order's currency (MoySklad
  tab); none mapped → refused in plain words.
- Transfers: the quantities done, priced as their order line (else the product's cost, without
  VAT); a demand is linked to the customer order of its sale order (``customerOrder``), a
  supply to the purchase order of its purchase order (``purchaseOrder``) when those were sent
  to the same connection. Only validated transfers are sent (MoySklad's shipment and receipt
  change its stock, so they must say what really moved).
- Changes: pressing Send again sends the whole document again (``PUT``, positions replaced) when
  its content changed since MoySklad accepted it (payload hash), else nothing.
- Cancellation: cancelling a sent order in Odoo sets the state chosen for cancellation on the
  connection (nothing is deleted at MoySklad); no state chosen → a note says so.
"""

import hashlib
import json
import logging
from dataclasses import replace
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.errors import ApiError, BadResponse, OutcomeUnknown, ServiceUnavailable
from ..api.moysklad_documents_data import MsDocumentDraft, MsPosition
from ..api.moysklad_payloads import stable_sync_id
from .chatter import post_note
from .error_messages import describe_error
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)

# Odoo model → (MoySklad kind, the row's link field, the connection setting).
ORDER_MODELS = {
    "sale.order": ("customerorder", "moysklad_sale_id", "moysklad_send_sale_orders"),
    "purchase.order": ("purchaseorder", "moysklad_purchase_id", "moysklad_send_purchase_orders"),
}


def draft_digest(draft):
    """Hash of what a draft says (its identity, meta or syncId, left out)."""
    body = replace(draft, href="", sync_id="").to_json()
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def meta_href(meta):
    """The href of what ``_moysklad_counterparty_metas`` gives (a meta, a {"meta"} or an href)."""
    if isinstance(meta, str):
        return meta
    if isinstance(meta, dict):
        inner = meta.get("meta") if isinstance(meta.get("meta"), dict) else meta
        return inner.get("href") or ""
    return ""


class MoySkladDocumentProtocol:
    """How ``supplier.order._send_exactly_once`` talks to MoySklad for one document kind."""

    def __init__(self, client, kind):
        self.client = client
        self.kind = kind

    @staticmethod
    def digest(draft):
        return draft_digest(draft)

    # Not an Odoo model: the send protocol's create has no super to call.
    def create(self, row, draft):  # pylint: disable=method-required-super
        try:
            return self.client.create_document(replace(draft, sync_id=row.key, href=""))
        except (BadResponse, ServiceUnavailable) as exc:
            # Sent with its syncId and retried: MoySklad may hold it although no answer came.
            raise OutcomeUnknown(
                f"No usable answer to the {self.kind} creation ({exc.message}); it may have been "
                "created: it is looked up by its syncId before it is sent again",
                status=exc.status,
            ) from exc

    def update(self, row, draft):
        href = f"{self.client.base_url.rstrip('/')}/entity/{self.kind}/{row.external_id}"
        return self.client.update_document(replace(draft, href=href, sync_id=""))

    def find(self, row, draft):
        return self.client.find_by_sync_id(self.kind, row.key)

    @staticmethod
    def external_id(document):
        return document.id


class SupplierMoySkladDocuments(models.AbstractModel):
    _name = "supplier.moysklad.documents"
    _description = "MoySklad orders and documents"

    # -- rows -------------------------------------------------------------------------------------
    @api.model
    def _row(self, backend, record, kind, link_field):
        """The record's row at ``backend`` (made, its key fixed, when missing)."""
        SupplierOrder = self.env["supplier.order"].sudo()
        row = SupplierOrder.search([("backend_id", "=", backend.id), (link_field, "=", record.id)],
                                   limit=1)
        if row:
            return row
        database = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return SupplierOrder.create({
            "backend_id": backend.id, link_field: record.id, "moysklad_kind": kind,
            "key": stable_sync_id(database, record._name, record.id, backend.id),
        })

    # -- sending ----------------------------------------------------------------------------------
    @api.model
    def _send(self, backend, record, kind, link_field, adapter=None):
        """Send ``record`` (sudo) to ``backend`` as ``kind`` once, or its changes; the row and
        the outcome in plain words. ``adapter``: the one a batch shares (MoySklad's request
        budget is counted per client: a client per record would overrun it and meet 429s)."""
        row = self._row(backend, record, kind, link_field)
        adapter = adapter or backend._adapter()
        client = adapter.client
        try:
            draft, skipped = self._draft(backend, adapter, record, kind)
        except UserError as exc:
            backend._save_adapter_state(adapter)
            return row, row._refuse_input(f"{record.display_name}: {exc.args[0]}")
        except ApiError as exc:
            backend._save_adapter_state(adapter)
            return row, row._refuse_input(
                f"{record.display_name}: {describe_error(self.env, exc)}"
            )
        outcome = row._send_exactly_once(MoySkladDocumentProtocol(client, kind), draft)
        if outcome.result is not None:
            self._apply_document(row, outcome.result, record)
        backend._save_adapter_state(adapter)
        message = self._outcome_message(record, row, outcome)
        if skipped:
            message += " " + self.env._(
                "Not sent (not goods: MoySklad takes no negative price): %s.", ", ".join(skipped)
            )
        return row, message

    @api.model
    def _outcome_message(self, record, row, outcome):
        name, number = record.display_name, row.external_name or row.external_id
        return {
            "created": lambda: self.env._("%(name)s: sent to MoySklad as %(number)s.",
                                          name=name, number=number),
            "updated": lambda: self.env._("%(name)s: changes sent to MoySklad (%(number)s).",
                                          name=name, number=number),
            "adopted": lambda: self.env._(
                "%(name)s: found at MoySklad as %(number)s (not sent again).",
                name=name, number=number),
            "unchanged": lambda: self.env._(
                "%(name)s: nothing changed since MoySklad accepted it (%(number)s).",
                name=name, number=number),
            "unknown": lambda: self.env._(
                "%(name)s: no answer from MoySklad; press Send again to check and finish (it is "
                "looked up first, never sent twice).", name=name),
            "failed": lambda: f"{name}: {outcome.error}",
        }[outcome.how]()

    @api.model
    def _apply_document(self, row, document, record):
        """Number and state of the document MoySklad answered onto the row (no chatter: the
        state a new document starts with is not a change)."""
        vals = {"external_name": document.name or row.external_name}
        if document.state_id and document.state_id != row.status_code:
            states = row.backend_id._moysklad_states()
            state = states.get(document.state_id)
            vals.update(status_code=document.state_id,
                        status_label=(state.name if state else document.state_name) or False,
                        status_changed_at=fields.Datetime.now())
        row.write(vals)

    # -- drafts -----------------------------------------------------------------------------------
    @api.model
    def _draft(self, backend, adapter, record, kind):
        """(MsDocumentDraft, names of lines not sent) for ``record``; UserError in plain words
        when it cannot go."""
        base = adapter.client.base_url.rstrip("/")
        organization = backend.moysklad_organization_id
        if not organization:
            raise UserError(self.env._(
                "Choose the organisation of the connection %s (MoySklad tab) first.",
                backend.display_name,
            ))
        builder = getattr(self, f"_{kind}_lines")
        values, lines, skipped = builder(record)
        if not lines:
            raise UserError(self.env._("There is no product to send."))
        warehouse = values.pop("warehouse")
        store = backend._moysklad_store_for(warehouse)
        if kind in ("demand", "supply") and not store:
            raise UserError(self.env._(
                "No MoySklad store is mapped to the warehouse %(warehouse)s: choose its Odoo "
                "warehouse on a store of the connection %(connection)s.",
                warehouse=warehouse.display_name or "?", connection=backend.display_name,
            ))
        currency = values.pop("currency")
        ms_currency = backend.with_context(active_test=False).reference_ids.filtered(
            lambda r: r.kind == "ms_currency" and r.odoo_currency_id == currency
        )[:1]
        if not ms_currency:
            raise UserError(self.env._(
                "No MoySklad currency is mapped to %(currency)s: map it on the MoySklad tab of "
                "the connection %(connection)s.",
                currency=currency.name, connection=backend.display_name,
            ))
        partner = values.pop("partner")
        agents = backend._moysklad_counterparty_metas(partner)
        agent_href = meta_href(agents.get(partner.id))
        if not agent_href:
            raise UserError(self.env._(
                "%s could not be sent to MoySklad as a counterparty: see its MoySklad mapping.",
                partner.display_name,
            ))
        assortment = self._assortment(backend, adapter, [line["product"] for line in lines])
        positions = []
        for line in lines:
            href, ms_type = assortment[line["product"].id]
            positions.append(MsPosition(
                assortment_href=href, assortment_type=ms_type,
                quantity=Decimal(str(round(line["quantity"], 6))),
                price=Decimal(str(round(line["price"], 6))),
                discount=Decimal(str(round(line.get("discount") or 0.0, 4))),
                vat=line["vat"], vat_enabled=line["vat_enabled"],
            ))
        taxes = [line for line in lines if line["vat_enabled"]]
        draft = MsDocumentDraft(
            kind=kind,
            name=record.name,
            external_code=record.name,
            moment=values.pop("moment"),
            organization_href=f"{base}/entity/organization/{organization.code}",
            agent_href=agent_href,
            store_href=f"{base}/entity/store/{store}" if store else None,
            linked_href=self._linked_href(base, values.pop("linked", None), backend),
            description=values.pop("description", None) or None,
            vat_enabled=bool(taxes),
            vat_included=bool(taxes) and all(line["vat_included"] for line in taxes),
            positions=positions,
            extra={"rate": {"currency": {"meta": {
                "href": f"{base}/entity/currency/{ms_currency.code}", "type": "currency",
                "mediaType": "application/json",
            }}}},
        )
        return draft, skipped

    @staticmethod
    def _tax_values(taxes):
        percent = [tax for tax in taxes.flatten_taxes_hierarchy() if tax.amount_type == "percent"]
        return {
            "vat": int(round(sum(tax.amount for tax in percent))),
            "vat_enabled": bool(percent),
            "vat_included": all(tax.price_include for tax in percent),
        }

    def _order_line_values(self, line, quantity, uom, price, discount, taxes):
        """A position's values in the product's own unit."""
        product = line.product_id
        qty = uom._compute_quantity(quantity, product.uom_id)
        return dict(product=product, quantity=qty, price=price * quantity / qty if qty else price,
                    discount=discount, **self._tax_values(taxes))

    @api.model
    def _customerorder_lines(self, order):
        lines, skipped = [], []
        for line in order.order_line:
            if line.display_type or not line.product_id or line.product_uom_qty <= 0:
                continue
            if line.price_unit < 0:
                skipped.append(line.name.splitlines()[0] if line.name else line.product_id.name)
                continue
            lines.append(self._order_line_values(line, line.product_uom_qty, line.product_uom,
                                                 line.price_unit, line.discount, line.tax_id))
        values = {"partner": order.partner_id.commercial_partner_id, "moment": order.date_order,
                  "warehouse": order.warehouse_id, "currency": order.currency_id,
                  "description": order.client_order_ref}
        return values, lines, skipped

    @api.model
    def _purchaseorder_lines(self, order):
        lines, skipped = [], []
        for line in order.order_line:
            if line.display_type or not line.product_id or line.product_qty <= 0:
                continue
            if line.price_unit < 0:
                skipped.append(line.name.splitlines()[0] if line.name else line.product_id.name)
                continue
            lines.append(self._order_line_values(line, line.product_qty, line.product_uom,
                                                 line.price_unit, line.discount, line.taxes_id))
        values = {"partner": order.partner_id.commercial_partner_id,
                  "moment": order.date_approve or order.date_order,
                  "warehouse": order.picking_type_id.warehouse_id, "currency": order.currency_id,
                  "description": order.partner_ref}
        return values, lines, skipped

    @api.model
    def _demand_lines(self, picking):
        return self._transfer_lines(picking, "sale_line_id", picking.sale_id, "moysklad_sale_id")

    @api.model
    def _supply_lines(self, picking):
        return self._transfer_lines(picking, "purchase_line_id", picking.purchase_id,
                                    "moysklad_purchase_id")

    @api.model
    def _transfer_lines(self, picking, line_field, order, link_field):
        lines = []
        empty = self.env["account.tax"]
        for move in picking.move_ids.filtered(lambda m: m.state == "done" and m.quantity > 0):
            product = move.product_id
            qty = move.product_uom._compute_quantity(move.quantity, product.uom_id)
            order_line = move[line_field]
            if order_line:
                taxes = order_line.tax_id if line_field == "sale_line_id" else order_line.taxes_id
                ordered = order_line.product_uom._compute_quantity(1.0, product.uom_id)
                lines.append(dict(product=product, quantity=qty,
                                  price=order_line.price_unit / ordered if ordered else 0.0,
                                  discount=order_line.discount, **self._tax_values(taxes)))
            else:
                lines.append(dict(product=product, quantity=qty, price=product.standard_price,
                                  discount=0.0, **self._tax_values(empty)))
        linked = self.env["supplier.order"]
        if order:
            linked = self.env["supplier.order"].sudo().search([
                (link_field, "=", order.id), ("state", "=", "sent"),
            ])
        values = {
            "partner": (picking.partner_id or order.partner_id).commercial_partner_id,
            "moment": picking.date_done or fields.Datetime.now(),
            "warehouse": picking.picking_type_id.warehouse_id,
            "currency": order.currency_id or picking.company_id.currency_id,
            "description": picking.origin,
            "linked": linked,
        }
        return values, lines, []

    @staticmethod
    def _linked_href(base, rows, backend):
        """The href of the order a demand or supply is linked to (its row sent to ``backend``),
        or None."""
        row = rows.filtered(lambda r: r.backend_id == backend)[:1] if rows else None
        if not row or not row.external_id:
            return None
        return f"{base}/entity/{row.moysklad_kind}/{row.external_id}"

    # -- products ---------------------------------------------------------------------------------
    @api.model
    def _assortment(self, backend, adapter, products):
        """{product id: (href, type)} of ``products`` at MoySklad; products without a MoySklad
        product are pushed first (the product push, one bulk request)."""
        Binding = self.env["supplier.product"].sudo()
        products = self.env["product.product"].union(*products)
        bindings = Binding.search([("backend_id", "=", backend.id),
                                   ("product_id", "in", products.ids)])
        by_product = {b.product_id.id: b for b in bindings if b.external_id}
        missing = products.filtered(lambda p: p.id not in by_product)
        if missing:
            if backend.moysklad_products_direction == "pull":
                raise UserError(self.env._(
                    "These products are not in MoySklad and MoySklad is the master of products "
                    "on this connection: import or map them first: %s.",
                    ", ".join(missing.mapped("display_name")),
                ))
            pushed = self._push_products(backend, adapter, missing)
            by_product.update({b.product_id.id: b for b in pushed if b.external_id})
            failed = pushed.filtered(lambda b: not b.external_id)
            if failed:
                raise UserError(self.env._(
                    "These products could not be created at MoySklad: %(products)s. %(reason)s",
                    products=", ".join(failed.product_id.mapped("display_name")),
                    reason="; ".join(filter(None, failed.mapped("push_message"))),
                ))
        base = adapter.client.base_url.rstrip("/")
        result = {}
        for product_id, binding in by_product.items():
            ms_type = binding.moysklad_kind or "product"
            result[product_id] = (f"{base}/entity/{ms_type}/{binding.external_id}", ms_type)
        return result

    @api.model
    def _push_products(self, backend, adapter, products):
        """Bind ``products`` and push them with the product push; their bindings."""
        Binding = self.env["supplier.product"].sudo()
        bound = Binding.search([("backend_id", "=", backend.id),
                                ("product_id", "in", products.ids)])
        new = products - bound.product_id
        bound |= Binding.create([
            {"backend_id": backend.id, "product_id": product.id, "moysklad_kind": "product",
             "external_code": (product.default_code or "").strip() or f"odoo-{product.id}"}
            for product in new
        ])
        Push = self.env["supplier.moysklad.push"]
        run = SyncRun(self.env, backend, "push_products", "manual")
        run.note(self.env._("Products of an order or document, pushed before it."))
        context = Push._push_context(backend, adapter)
        Push._push_chunk(backend, adapter, context, bound, run)
        run.finish(adapter)
        if run.fatal is not None:
            raise run.fatal
        bound.invalidate_recordset()
        return bound

    # -- cancellation ----------------------------------------------------------------------------
    @api.model
    def _cancel(self, record, link_field, state_field):
        """Set the cancellation state on the sent document(s) of ``record``; a note says what
        happened."""
        rows = self.env["supplier.order"].sudo().search([(link_field, "=", record.id)])
        for row in rows.filtered(lambda r: r.state == "sent" and r.external_id):
            backend = row.backend_id
            state = backend[state_field]
            if not state:
                post_note(record, self.env._(
                    "Cancelled in Odoo; %(number)s stays as it is at MoySklad: no state is chosen "
                    "for cancelled orders on the connection %(connection)s.",
                    number=row.external_name or row.external_id, connection=backend.display_name,
                ))
                continue
            if row.status_code == state.code:
                continue
            adapter = backend._adapter()
            client = adapter.client
            base = client.base_url.rstrip("/")
            try:
                document = client.update_document(MsDocumentDraft(
                    kind=row.moysklad_kind,
                    href=f"{base}/entity/{row.moysklad_kind}/{row.external_id}",
                    state_href=f"{base}/entity/{row.moysklad_kind}/metadata/states/{state.code}",
                ))
            except ApiError as exc:
                backend._save_adapter_state(adapter)
                row.last_error = describe_error(self.env, exc)
                post_note(record, self.env._(
                    "Cancelled in Odoo, but MoySklad was not told: %(reason)s",
                    reason=row.last_error,
                ))
                continue
            backend._save_adapter_state(adapter)
            self._apply_document(row, document, record)
            post_note(record, self.env._(
                "Cancelled in Odoo: %(number)s set to \"%(state)s\" at MoySklad.",
                number=row.external_name or row.external_id, state=state.name,
            ))
