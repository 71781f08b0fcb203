"""Sale orders sent to the fulfilment warehouse (IMSKLAD add_order / update_order), DESIGN §4.2.

Sent once: the ``supplier.order`` row and its key (the order's name, IMSKLAD's "our id") exist
before the first request. After a lost answer the row stays ``sending`` and the next attempt
asks update_order with the same payload: the id back means the order exists (adopted), "not
found" means it was never created (sent again). A create IMSKLAD already holds is adopted too.
The flow is the one every order and document shares, ``supplier.order._send_exactly_once``
(``ImskladProtocol``, models/imsklad_picking.py); MoySklad's side of "Send" on sale orders is
models/moysklad_document_records.py.

What the payload carries, and the decisions where the document is silent:

- ``guid``: a uuid4 fixed on the ``supplier.order`` row when the row is made (before the first
  request), never changed; retries send the same one. update_order's table has no guid, so it
  only travels with add_order.
- ``delivery_type`` / ``courier``: from the order's delivery method (``delivery.carrier``'s IMSKLAD
  fields, see models/imsklad_carrier.py); a method without them sends neither (the warehouse
  decides). ``pickup_point``: the order's own field, required when the method delivers to a
  pickup point.
- Dates: the document gives a delivery window (``delivery_date_from``/``_to``); Odoo has one
  promised date (``commitment_date``). The window is that date's whole day at the warehouse
  (Moscow time, the client's ``service_utc_offset``): from 00:00:00 to 23:59:59. No commitment
  date → no window. ``shipment_date`` is the earliest scheduled date of the order's open
  deliveries (the day the warehouse is to hand it to the courier).
- Money: the document does not define the order total; IMSKLAD reads it as goods (price ×
  quantity) + ``delivery`` − ``discount``, the rest to collect being that minus ``total_paid``.
  So a line with a discount is sent at its unit price before the discount (taxes included) and
  what the discounts take off goes, summed, into ``discount``; lines with a negative price
  (Odoo's global discount and coupon lines) are not goods: they add to ``discount`` too. With that
  rule goods + delivery − discount equals the order's total. ``delivery`` is the delivery lines'
  total; ``total_paid`` what the customer paid on posted invoices less paid refunds, read afresh
  at every send.
- ``tags``: the names of the order's tags, comma-joined (a comma inside a name becomes a space).
- ``address_lat``/``address_lng``: the delivery address's geolocation (``partner_latitude`` /
  ``partner_longitude``, filled by base_geolocalize) when the partner has one.
- ``phone2``: the delivery contact's mobile when it differs from the phone sent.

What the warehouse holds is kept on the row (``imsklad_accepted``: the last accepted data and
per line our good id, quantity and price). When update_order answers the "order in assembly,
goods not saved" warning, the lines that differ from it are flagged "not updated at the
warehouse" and the order says so in plain words; the next accepted update clears the flags.
"""

import logging
import uuid
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..api.imsklad import ImskladAddress, ImskladLine, ImskladOrder
from ..api.imsklad_payloads import order_data
from .chatter import post_note
from .error_messages import describe_error
from .imsklad_carrier import courier_codes
from .imsklad_picking import ImskladProtocol

_logger = logging.getLogger(__name__)
# The warehouse's time zone, hours east of UTC: the client's ``service_utc_offset`` (Moscow).
IMSKLAD_UTC_OFFSET = 3


class SaleOrder(models.Model):
    _inherit = "sale.order"

    supplier_backend_id = fields.Many2one(
        "supplier.backend", compute="_compute_supplier_backend", string="Warehouse connection"
    )
    supplier_can_send = fields.Boolean(
        string="Can be sent to the warehouse", compute="_compute_supplier_backend"
    )
    supplier_order_ids = fields.One2many("supplier.order", "sale_id", string="Warehouse orders")
    supplier_state = fields.Selection(
        related="supplier_order_ids.state", string="Warehouse exchange"
    )
    supplier_status_code = fields.Integer(string="Warehouse status code", readonly=True, copy=False)
    supplier_status = fields.Char(string="Warehouse status", readonly=True, copy=False, index=True)
    supplier_warning = fields.Char(string="Warehouse warning", readonly=True, copy=False)
    supplier_paid_amount = fields.Monetary(
        string="Paid at the warehouse", readonly=True, copy=False,
        help="What the warehouse (or its courier) reports it collected for this order.",
    )
    supplier_paid_at = fields.Datetime(string="Warehouse payment date", readonly=True, copy=False)
    imsklad_pickup_point = fields.Char(
        string="Pickup point", copy=False,
        help="The code of the courier's pickup point the customer collects the order from.",
    )
    imsklad_pickup_point_required = fields.Boolean(
        related="carrier_id.imsklad_pickup_point_required", string="Needs a pickup point"
    )

    @api.depends("warehouse_id", "company_id")
    def _compute_supplier_backend(self):
        Backend = self.env["supplier.backend"]
        for order in self:
            backend = Backend._imsklad_for_warehouse(order.warehouse_id, order.company_id)
            order.supplier_backend_id = backend
            order.supplier_can_send = bool(backend)

    def action_supplier_send(self):
        """Send the confirmed order to the warehouse, or its changes when it is there already."""
        self.ensure_one()
        self.env["supplier.backend"]._check_right("user")
        self.check_access("write")
        backend = self.supplier_backend_id
        if not backend:
            raise UserError(self.env._(
                "No warehouse connection operates the warehouse %s.", self.warehouse_id.display_name
            ))
        backend._check_right("user")
        if self.state != "sale":
            raise UserError(self.env._("Confirm the sale order before sending it to the warehouse."))
        backend = backend.sudo()
        backend._check_operation("push_sale")
        order = self._supplier_order_row(backend)
        message = self.sudo()._supplier_send(backend, order)
        post_note(self, message)
        refused = order.warning or order.last_error  # a refused update leaves the row "sent"
        kind = "success" if order.state == "sent" and not refused else "warning"
        return self.env["product.product"]._supplier_notification(message, kind)

    def action_confirm(self):
        # Confirming is the sale order's own right (checked first, as Odoo's confirm does); the
        # automatic send below is the connection's policy, set by a connector manager.
        self.check_access("write")
        result = super().action_confirm()
        # As superuser: a salesman without connector rights confirms orders of the warehouse too.
        for order in self.sudo().filtered(lambda o: o.supplier_backend_id.imsklad_send_on_confirm):
            order.with_env(self.env)._supplier_send_automatically(order.supplier_backend_id)
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        for order in self:
            row = order.sudo().supplier_order_ids.filtered(lambda o: o.state == "sent")[:1]
            if row:
                order._supplier_send_automatically(row.backend_id)
        return result

    def _supplier_send_automatically(self, backend):
        """Send (or update) without a button: the connection's policy, never blocking the
        confirmation or cancellation that triggered it; the outcome is posted on the order."""
        try:
            with self.env.cr.savepoint():
                order = self._supplier_order_row(backend)
                message = self.sudo()._supplier_send(backend, order)
        except Exception as exc:  # noqa: BLE001 — posted on the order, never blocks it
            _logger.exception("Sending %s to the warehouse failed", self.name)
            message = describe_error(self.env, exc)
        post_note(self, message)

    def _supplier_order_row(self, backend):
        SupplierOrder = self.env["supplier.order"].sudo()
        order = SupplierOrder.search([("backend_id", "=", backend.id), ("key", "=", self.name)])
        if not order:
            return SupplierOrder.create({
                "backend_id": backend.id, "sale_id": self.id, "key": self.name,
                "location_code": backend.imsklad_location_id.code,
                "imsklad_guid": str(uuid.uuid4()),
            })
        if not order.imsklad_guid and order.state != "sent":
            # A row made before GUIDs were sent: fixed now, before its next (first) add_order.
            order.imsklad_guid = str(uuid.uuid4())
        return order

    def _supplier_send(self, backend, order):
        """Send or update through ``supplier.order._send_exactly_once``; the outcome in plain
        words (also kept on the supplier order)."""
        try:
            payload = self._imsklad_payload(backend, guid=order.imsklad_guid)
        except UserError as exc:
            return order._refuse_input(exc.args[0])
        adapter = backend._adapter()
        snapshot = self._imsklad_snapshot(payload, backend, adapter)
        outcome = order._send_exactly_once(
            ImskladProtocol(adapter.add_order, adapter.update_order), payload
        )
        if outcome.result is not None:
            self._supplier_accepted(order, outcome.result, snapshot)
        if outcome.how == "updated":
            if order.warning:
                return self.env._(
                    "%(order)s: changes sent to the warehouse, with a warning: %(warning)s",
                    order=self.name, warning=order.warning,
                )
            return self.env._("%s: changes sent to the warehouse.", self.name)
        if outcome.how == "adopted":
            return self.env._(
                "%(order)s: found at the warehouse as order %(id)s (not sent again).",
                order=self.name, id=order.external_id,
            )
        if outcome.how == "unknown":
            return self.env._(
                "%s: no answer from the warehouse; press Send again to check and finish.", self.name
            )
        if outcome.how == "failed":
            return f"{self.name}: {order.last_error}"
        return self.env._("%(order)s: sent to the warehouse as order %(id)s.",
                          order=self.name, id=order.external_id)

    def _supplier_accepted(self, order, result, snapshot):
        """Keep what the warehouse now holds; on the "goods not saved" warning, flag the lines
        that differ from what it held before and say so on the order."""
        warning = False
        accepted = snapshot
        changed = self.env["sale.order.line"]
        if result.has_warning:
            held = (order.imsklad_accepted or {}).get("lines")
            # The customer and delivery details were saved, the goods were not.
            accepted = {"data": snapshot["data"], "lines": held}
            if held is None:
                warning = self.env._(
                    "The warehouse is already assembling this order: changes to its goods were "
                    "not saved there; the customer and delivery details were. Call the "
                    "warehouse if the goods must change."
                )
            else:
                changed, words = self._imsklad_changed_lines(held, snapshot["lines"])
                if words:
                    warning = self.env._(
                        "The warehouse is already assembling this order: these changes to its "
                        "goods were not saved there: %(lines)s. The customer and delivery "
                        "details were. Call the warehouse if the goods must change.",
                        lines="; ".join(words),
                    )
                else:
                    warning = self.env._(
                        "The warehouse is already assembling this order: its goods can no "
                        "longer change there (none had changed). The customer and delivery "
                        "details were saved."
                    )
        flagged = self.order_line.filtered("imsklad_not_updated")
        (flagged - changed).write({"imsklad_not_updated": False})
        (changed - flagged).write({"imsklad_not_updated": True})
        order.write({"warning": warning, "last_error": False, "imsklad_accepted": accepted})
        self.supplier_warning = warning

    def _imsklad_changed_lines(self, held, sent):
        """(lines, words): the order lines whose goods differ from what the warehouse holds
        (``held``), and each difference in words, removed lines included."""
        changed_ids = []
        words = []
        for line_id, (good, quantity, price, name) in sent.items():
            before = held.get(line_id)
            if before is None:
                changed_ids.append(int(line_id))
                words.append(self.env._("%(name)s: new line, %(qty)s × %(price)s",
                                        name=name, qty=quantity, price=price))
            elif [before[0], before[1], before[2]] != [good, quantity, price]:
                changed_ids.append(int(line_id))
                words.append(self.env._(
                    "%(name)s: %(old_qty)s × %(old_price)s → %(qty)s × %(price)s",
                    name=name, old_qty=before[1], old_price=before[2], qty=quantity, price=price,
                ))
        for line_id, (_good, quantity, _price, name) in held.items():
            if line_id not in sent:
                words.append(self.env._("%(name)s: line removed (%(qty)s at the warehouse)",
                                        name=name, qty=quantity))
        return self.env["sale.order.line"].browse(changed_ids), words

    def _imsklad_snapshot(self, payload, backend, adapter):
        """What the warehouse will hold once ``payload`` is accepted: its data (as sent, without
        the goods) and per order line [our good id, quantity, price, product name]."""
        data, _item = order_data(payload, storage_id=backend.imsklad_storage_id or 1,
                                 utc_offset=adapter.client.service_utc_offset)
        goods = data.pop("goods")
        data.pop("storage_id", None)
        lines = {
            str(line.id): [str(good["id"]), good["quantity"], good["price"],
                           line.product_id.display_name]
            for line, good in zip(self._imsklad_goods_lines(), goods, strict=True)
        }
        return {"data": data, "lines": lines}

    def _imsklad_goods_lines(self):
        """The lines sent as goods: products with a quantity, not delivery, not discounts."""
        return self.order_line.filtered(
            lambda line: line.product_id and not line.display_type and not line.is_delivery
            and line.product_uom_qty > 0 and line.price_unit >= 0
        )

    def _imsklad_payload(self, backend, guid=None):
        """The ImskladOrder of this sale order; its goods pushed first when needed."""
        lines = self._imsklad_goods_lines()
        if not lines:
            raise UserError(self.env._("%s has no product to send.", self.name))
        delivery_type, courier = self._imsklad_delivery_method()
        if self.imsklad_pickup_point_required and not (self.imsklad_pickup_point or "").strip():
            raise UserError(self.env._(
                "%(order)s: the delivery method %(carrier)s delivers to a pickup point: enter "
                "the pickup point's code on the order before sending it.",
                order=self.name, carrier=self.carrier_id.name,
            ))
        bindings = self._imsklad_bindings(backend, lines.product_id)
        missing = bindings.filtered(lambda b: not b.external_id)
        if missing:
            raise UserError(self.env._(
                "These products could not be sent to the warehouse: %(products)s. %(reason)s",
                products=", ".join(missing.product_id.mapped("display_name")),
                reason="; ".join(filter(None, missing.mapped("push_message"))),
            ))
        by_product = {binding.product_id: binding for binding in bindings}
        partner = self.partner_shipping_id or self.partner_id
        delivery = sum(self.order_line.filtered("is_delivery").mapped("price_total"))
        goods, discount = self._imsklad_goods(lines, by_product)
        date_from, date_to = self._imsklad_delivery_window()
        phone = partner.phone or partner.mobile or None
        latitude = partner.partner_latitude if "partner_latitude" in partner._fields else 0.0
        longitude = partner.partner_longitude if "partner_longitude" in partner._fields else 0.0
        tags = [tag.name.replace(",", " ").strip() for tag in self.tag_ids]
        return ImskladOrder(
            id=self.name,
            guid=guid or None,
            name=partner.name or self.partner_id.name,
            email=partner.email or None,
            phone=phone,
            phone2=partner.mobile if partner.mobile and phone and partner.mobile != phone
            else None,
            post_code=partner.zip or None,
            address=", ".join(filter(None, [partner.zip, partner.city, partner.street,
                                            partner.street2])) or None,
            address_lat=latitude if latitude or longitude else None,
            address_lng=longitude if latitude or longitude else None,
            address_obj=ImskladAddress(city=partner.city or None, street=partner.street or None,
                                       room=partner.street2 or None),
            comment=self.client_order_ref or None,
            tags=",".join(filter(None, tags)) or None,
            is_canceled=True if self.state == "cancel" else None,
            discount=discount,
            delivery=delivery,
            total_paid=self._imsklad_paid(),
            delivery_type=delivery_type,
            courier=courier,
            delivery_date_from=date_from,
            delivery_date_to=date_to,
            shipment_date=self._imsklad_shipment_date(),
            pickup_point=(self.imsklad_pickup_point or "").strip() or None,
            goods=goods,
        )

    def _imsklad_goods(self, lines, by_product):
        """(goods, discount): a discounted line at its unit price before the discount, taxes
        included, what discounts take off (and negative lines) summed into ``discount``."""
        goods = []
        discount = 0.0
        for line in lines:
            price = line.price_reduce_taxinc
            if line.discount:
                taxes = line.tax_id.compute_all(
                    line.price_unit, line.currency_id, 1.0, product=line.product_id,
                    partner=self.partner_shipping_id,
                )
                price = round(taxes["total_included"], 2)
                discount += price * line.product_uom_qty - line.price_total
            goods.append(ImskladLine(id=by_product[line.product_id].external_code,
                                     quantity=line.product_uom_qty, price=price))
        negative = self.order_line.filtered(
            lambda line: not line.display_type and not line.is_delivery and line.price_unit < 0
        )
        discount -= sum(negative.mapped("price_total"))
        return goods, round(discount, 2)

    def _imsklad_delivery_method(self):
        """(delivery type, courier) of the order's delivery method, checked against the
        document's table; (None, None) when the method names no IMSKLAD type."""
        carrier = self.carrier_id
        if not carrier.imsklad_delivery_type:
            return None, None
        courier = carrier.imsklad_courier
        if courier and courier not in courier_codes(carrier.imsklad_delivery_type):
            carrier._check_imsklad_courier()  # raises the ValidationError in plain words
        return int(carrier.imsklad_delivery_type), int(courier) if courier else None

    def _imsklad_delivery_window(self):
        """The commitment date's whole day at the warehouse, as naive UTC datetimes."""
        if not self.commitment_date:
            return None, None
        offset = timedelta(hours=IMSKLAD_UTC_OFFSET)
        local_day = (self.commitment_date + offset).date()
        start = datetime(local_day.year, local_day.month, local_day.day) - offset
        return start, start + timedelta(days=1, seconds=-1)

    def _imsklad_shipment_date(self):
        pickings = self.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state not in ("done", "cancel")
        )
        return min(pickings.mapped("scheduled_date")) if pickings else None

    def _imsklad_paid(self):
        """What the customer paid: posted invoices' paid part less paid refunds (never < 0)."""
        moves = self.invoice_ids.filtered(
            lambda move: move.state == "posted" and move.move_type in ("out_invoice", "out_refund")
        )
        paid = sum((move.amount_total - move.amount_residual)
                   * (-1 if move.move_type == "out_refund" else 1) for move in moves)
        return max(0.0, paid)

    def _imsklad_bindings(self, backend, products):
        """The products' bindings, created and pushed when needed (unchanged: no request)."""
        return backend._imsklad_pushed_bindings(products)


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    imsklad_not_updated = fields.Boolean(
        string="Not updated at the warehouse", readonly=True, copy=False,
        help="The warehouse was already assembling the order when this line changed: the "
        "change was not saved there.",
    )


class SupplierOrderImsklad(models.Model):
    _inherit = "supplier.order"

    imsklad_guid = fields.Char(
        string="GUID", readonly=True, copy=False, index=True,
        help="Sent with the order to IMSKLAD, which returns it with its calls; never changes.",
    )
    imsklad_accepted = fields.Json(
        string="Held by the warehouse", readonly=True, copy=False,
        help="The order's data and lines as the warehouse last accepted them.",
    )
