"""What Odoo does with IMSKLAD's calls (api/imsklad_callbacks parses them), DESIGN §4.3.

Here: order.set_status (status on the sale order and its supplier order, a note on change,
status 9 validates the delivery when the connection says so), order.update_tracks (tracking
number on the delivery), order.set_pay, order.update_order, order.send_to_cdek /
send_to_boxberry / send_act_to_boxberry, good.get_good, good.get_good_suppliers,
supplier.get_supplier, supplier.get_suppliers (answered from Odoo).
Each method is handled by ``_imsklad_<type>_<action>``, which other files may add; a method
without a handler is stored for a person (``ignored`` with the reason) and acknowledged.
Orders are found by our id, then IMSKLAD's id, then the GUID we sent.

order.update_order (the warehouse changed the order), decisions:
- Compared with what the warehouse held as far as Odoo knows (``supplier.order.imsklad_accepted``:
  the last data it accepted from us, updated with every update_order it sends), so only what the
  warehouse changed counts; a call that changes nothing does nothing, even when it is not a
  byte-for-byte repeat (those are answered from the stored event).
- Applied, being delivery details the warehouse knows best: the tracking number (supplier order
  and deliveries), the delivery window (the commitment date becomes its end, unless the current
  one lies inside it), the shipment date (scheduled date of the open deliveries), the pickup
  point, and the customer's and our comment (added to the delivery's note).
- Posted for a person, old → new, never applied: customer name, address (string, parts, post
  code, coordinates), phones, email, tags, delivery type and courier, discount, delivery cost,
  paid amount, goods (per product: quantity × price, added, removed) and cancellation. Changing
  a confirmed order's customer or lines from a call is not safe.

send_to_cdek, send_to_boxberry, send_act_to_boxberry: the export to the courier is done on our
side. Each order named gets a note and one open to-do activity for its salesperson (a request
for the same export while one is open adds nothing). Unknown orders: all unknown → code 2 naming
them; some unknown → ok, the unknown ones named on the event (as update_tracks).
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import html2plaintext

from ..api.imsklad_callback_data import (
    error_answer,
    good_answer,
    ok_answer,
    supplier_answer,
    suppliers_answer,
)
from ..api.imsklad_callbacks import CALLBACK_METHODS
from ..api.imsklad_data import ERROR_FATAL, ERROR_NOT_FOUND, STATUS_SHIPPED
from .chatter import post_note
from .imsklad_carrier import COURIER_SELECTION, DELIVERY_TYPE_SELECTION
from .imsklad_goods import good_of

# Answered from Odoo's current data each time: no effect, so a repeat is simply answered again.
QUERY_KINDS = frozenset({
    "good.get_good", "good.get_good_suppliers", "supplier.get_supplier", "supplier.get_suppliers",
})
MAX_SUPPLIERS = 1000


class UnknownObject(Exception):
    """The call names an order, good or supplier Odoo does not know: answered code 2."""


def order_status_labels(env):
    return {
        0: env._("New order, to assemble"),
        1: env._("Handed over for picking"),
        2: env._("Being picked"),
        3: env._("Picked, ready for packing"),
        4: env._("Handed over for packing"),
        5: env._("Being packed"),
        6: env._("Packed"),
        7: env._("Being handed over for shipping"),
        8: env._("Ready to ship"),
        9: env._("Shipped to the carrier, left the warehouse"),
        10: env._("Cancelled"),
        11: env._("Delivered to the customer"),
    }


class SupplierEventImsklad(models.Model):
    _inherit = "supplier.event"

    @api.model
    def _imsklad_receive(self, backend, callback):
        """Store ``callback`` (once per dedupe key), process it once, and return the answer."""
        event = self.sudo().search(
            [("backend_id", "=", backend.id), ("dedupe_key", "=", callback.dedupe_key)], limit=1
        )
        if event and event.kind not in QUERY_KINDS and event.state != "error":
            return event.answer or ok_answer()  # a repeat: the same answer, no second effect
        if not event:
            event = self.sudo().create({
                "backend_id": backend.id,
                "kind": callback.kind,
                "reference": callback.reference,
                "dedupe_key": callback.dedupe_key,
                "payload": callback.raw,
            })
        event._process()
        return event.answer or ok_answer()

    def _internal_error_answer(self):
        if self.backend_id.service != "imsklad":
            return super()._internal_error_answer()
        return error_answer(ERROR_FATAL, "Fatal server error")

    def _process_one(self):
        if self.backend_id.service != "imsklad":
            return super()._process_one()
        type_, action = self.kind.split(".", 1)
        data = CALLBACK_METHODS[(type_, action)](self.payload)
        # One handler per method: ``_imsklad_<type>_<action>`` (order.set_status and
        # doc.set_status differ); a method without one is stored for a person.
        handler = getattr(self, f"_imsklad_{type_}_{action}", None)
        if handler is None:
            return "ignored", ok_answer(), self.env._(
                "Stored for a person: calls of this kind are not processed automatically yet."
            )
        try:
            return handler(data)
        except UnknownObject as exc:
            return "error", error_answer(ERROR_NOT_FOUND, str(exc)), str(exc)

    # -- orders ----------------------------------------------------------------------------
    def _imsklad_order(self, ref):
        SupplierOrder = self.env["supplier.order"].sudo()
        domain = [("backend_id", "=", self.backend_id.id), ("sale_id", "!=", False)]
        order = SupplierOrder.search(domain + [("key", "=", ref.id)], limit=1) if ref.id else None
        if not order and ref.system_id is not None:
            order = SupplierOrder.search(domain + [("external_id", "=", str(ref.system_id))],
                                         limit=1)
        if not order and ref.guid:
            order = SupplierOrder.search(domain + [("imsklad_guid", "=", ref.guid)], limit=1)
        if not order:
            raise UnknownObject(f"Order {ref.id or ref.system_id} not found")
        return order

    def _imsklad_order_set_status(self, change):
        order = self._imsklad_order(change)
        sale = order.sale_id
        labels = order_status_labels(self.env)
        new_label = labels.get(change.new_status, str(change.new_status))
        changed = sale.supplier_status_code != change.new_status or not sale.supplier_status
        order.write({"status_code": str(change.new_status), "status_label": new_label})
        sale.write({"supplier_status_code": change.new_status, "supplier_status": new_label})
        if changed:
            post_note(sale, self.env._(
                "Warehouse status: %(old)s → %(new)s",
                old=labels.get(change.old_status, str(change.old_status)), new=new_label,
            ))
        if change.new_status == STATUS_SHIPPED and self.backend_id.imsklad_validate_on_ship:
            self._imsklad_validate_deliveries(sale)
        return "done", ok_answer(), False

    def _imsklad_validate_deliveries(self, sale):
        pickings = sale.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state not in ("done", "cancel")
        )
        for picking in pickings:
            for move in picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel")):
                move.quantity = move.product_uom_qty
                move.picked = True
            picking.with_context(
                skip_backorder=True, skip_sms=True, skip_immediate=True,
                cancel_backorder=True,
            ).button_validate()
            post_note(picking, self.env._(
                "Validated: the warehouse shipped the order with the quantities sent."
            ))

    def _imsklad_order_update_tracks(self, tracks):
        unknown = []
        for track in tracks:
            try:
                order = self._imsklad_order(track)
            except UnknownObject:
                unknown.append(track.id or str(track.system_id))
                continue
            sale = order.sale_id
            if track.track:
                order.tracking_ref = track.track
                sale.picking_ids.filtered(
                    lambda p: p.picking_type_code == "outgoing" and p.state != "cancel"
                ).write({"carrier_tracking_ref": track.track})
                post_note(sale, self.env._("Tracking number from the warehouse: %s", track.track))
            if track.error:
                post_note(sale, self.env._(
                    "The carrier refused the order: %s", track.error
                ))
        if unknown and len(unknown) == len(tracks):
            raise UnknownObject(f"Order {', '.join(unknown)} not found")
        error = self.env._("Unknown orders: %s", ", ".join(unknown)) if unknown else False
        return "done", ok_answer(), error

    def _imsklad_order_update_order(self, update):
        """The warehouse changed the order: its delivery details are applied (tracking number,
        delivery window → commitment date, shipment date → the delivery's scheduled date,
        pickup point, comments → the delivery's note); the rest (customer, address, phones,
        email, money, delivery method, goods, cancel) is posted for a person to decide, old →
        new. Compared with what the warehouse held before, which is then updated: a call that
        changes nothing does nothing."""
        order = self._imsklad_order(update)
        sale = order.sale_id
        raw = self.payload if isinstance(self.payload, dict) else {}
        held = dict(order.imsklad_accepted or {})
        before = held.get("data") or {}
        theirs = warehouse_fields(raw)
        applied = self._imsklad_apply_delivery_details(order, update.order, before, theirs)
        to_decide = self._imsklad_posted_differences(before, theirs)
        their_goods = goods_by_id(raw.get("goods") or [])
        held_goods = held.get("goods")
        if held_goods is None and held.get("lines") is not None:
            held_goods = goods_by_id(
                {"id": good, "quantity": qty, "price": price}
                for good, qty, price, _name in held["lines"].values()
            )
        to_decide += self._imsklad_goods_differences(held_goods, their_goods)
        if theirs.get("is_canceled") and not before.get("is_canceled") and sale.state != "cancel":
            to_decide.append(self.env._(
                "The warehouse marks the order cancelled: cancel it in Odoo if that is right."
            ))
        held["data"] = {**before, **{name: value for name, value in theirs.items()
                                     if value is not None}}
        held["goods"] = their_goods
        order.imsklad_accepted = held
        parts = []
        if applied:
            parts.append(self.env._("Applied: %s.", "; ".join(applied)))
        if to_decide:
            parts.append(self.env._("To check and apply by hand if right: %s.",
                                    "; ".join(to_decide)))
        if parts:
            post_note(sale, self.env._("The warehouse changed the order. %s", " ".join(parts)))
        return "done", ok_answer(update.id or order.key), False

    def _imsklad_apply_delivery_details(self, order, changed, before, theirs):
        """Apply what is safe to apply; each change in words (nothing when nothing differs)."""
        sale = order.sale_id
        words = []
        deliveries = sale.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "cancel"
        )
        open_deliveries = deliveries.filtered(lambda p: p.state != "done")
        track = (changed.track or "").strip()
        if track and track != (order.tracking_ref or ""):
            words.append(self.env._("tracking number %(old)s → %(new)s",
                                    old=order.tracking_ref or "—", new=track))
            order.tracking_ref = track
            deliveries.write({"carrier_tracking_ref": track})
        start, end = changed.delivery_date_from, changed.delivery_date_to
        current = sale.commitment_date
        window_moved = any(theirs.get(name) != normalised(name, before.get(name))
                           for name in ("delivery_date_from", "delivery_date_to"))
        if (start or end) and window_moved and not (
                current and (not start or current >= start) and (not end or current <= end)):
            new = end or start
            words.append(self.env._("commitment date %(old)s → %(new)s",
                                    old=self._imsklad_shown_datetime(current),
                                    new=self._imsklad_shown_datetime(new)))
            sale.commitment_date = new
        shipment = changed.shipment_date
        if theirs.get("shipment_date") == normalised("shipment_date", before.get("shipment_date")):
            shipment = None  # as we sent it
        moved = open_deliveries.filtered(lambda p: shipment and p.scheduled_date != shipment)
        for picking in moved:
            words.append(self.env._(
                "%(delivery)s scheduled %(old)s → %(new)s", delivery=picking.name,
                old=self._imsklad_shown_datetime(picking.scheduled_date),
                new=self._imsklad_shown_datetime(shipment),
            ))
        moved.write({"scheduled_date": shipment})
        pickup = (changed.pickup_point or "").strip()
        if pickup and pickup != (sale.imsklad_pickup_point or ""):
            words.append(self.env._("pickup point %(old)s → %(new)s",
                                    old=sale.imsklad_pickup_point or "—", new=pickup))
            sale.imsklad_pickup_point = pickup
        labels = {"comment": self.env._("customer's comment"),
                  "owner_comment": self.env._("our comment")}
        for name, label in labels.items():
            new = theirs.get(name)
            if not new or new == before.get(name):
                continue
            target = open_deliveries[:1] or deliveries[:1]
            line = self.env._("Warehouse, %(label)s: %(text)s", label=label, text=new)
            if target and line not in html2plaintext(target.note or ""):
                target.note = Markup("%s<p>%s</p>") % (target.note or Markup(), line)
            words.append(self.env._(
                "%(label)s %(old)s → %(new)s (in the note of %(delivery)s)",
                label=label, old=before.get(name) or "—", new=new, delivery=target.name or "—",
            ))
        return words

    def _imsklad_shown_datetime(self, value):
        if not value:
            return "—"
        return fields.Datetime.to_string(fields.Datetime.context_timestamp(self, value))[:16]

    def _imsklad_posted_differences(self, before, theirs):
        """The differences a person decides on, in words: field old → new."""
        labels = {
            "name": self.env._("customer"),
            "address": self.env._("address"),
            "address_obj": self.env._("address parts"),
            "post_code": self.env._("post code"),
            "address_lat": self.env._("latitude"),
            "address_lng": self.env._("longitude"),
            "phone": self.env._("phone"),
            "phone2": self.env._("second phone"),
            "email": self.env._("email"),
            "tags": self.env._("tags"),
            "delivery_type": self.env._("delivery type"),
            "courier": self.env._("courier"),
            "discount": self.env._("discount"),
            "delivery": self.env._("delivery cost"),
            "total_paid": self.env._("paid"),
        }
        words = []
        for name, label in labels.items():
            new = theirs.get(name)
            old = before.get(name)
            if new is None or normalised(name, old) == new:
                continue
            words.append(self.env._("%(field)s %(old)s → %(new)s", field=label,
                                    old=shown_value(name, normalised(name, old)),
                                    new=shown_value(name, new)))
        return words

    def _imsklad_goods_differences(self, held, theirs):
        """The warehouse's goods against what it held, in words (product names)."""
        if held == theirs or not theirs:
            return []
        held = held or {}
        bindings = self.env["supplier.product"].sudo().search([
            ("backend_id", "=", self.backend_id.id),
            ("external_code", "in", list(set(held) | set(theirs))),
        ])
        names = {binding.external_code: binding.product_id.display_name for binding in bindings}
        words = []
        for good, (quantity, price) in theirs.items():
            name = names.get(good, good)
            if good not in held:
                words.append(self.env._("%(name)s added: %(qty)s × %(price)s",
                                        name=name, qty=quantity, price=price))
            elif held[good] != [quantity, price]:
                old_quantity, old_price = held[good]
                words.append(self.env._(
                    "%(name)s: %(old_qty)s × %(old_price)s → %(qty)s × %(price)s", name=name,
                    old_qty=old_quantity, old_price=old_price, qty=quantity, price=price,
                ))
        for good, (quantity, _price) in held.items():
            if good not in theirs:
                words.append(self.env._("%(name)s removed (%(qty)s)",
                                        name=names.get(good, good), qty=quantity))
        return words

    # -- export requests (the export to the courier is done on our side) ----------------------
    def _imsklad_order_send_to_cdek(self, export):
        return self._imsklad_export_request(
            export, self.env._("Export to CDEK"),
            self.env._("The warehouse asks to export this order to CDEK."),
        )

    def _imsklad_order_send_to_boxberry(self, export):
        return self._imsklad_export_request(
            export, self.env._("Export to BoxBerry"),
            self.env._("The warehouse asks to export this order to BoxBerry."),
        )

    def _imsklad_order_send_act_to_boxberry(self, export):
        return self._imsklad_export_request(
            export, self.env._("BoxBerry shipping act"),
            self.env._("The warehouse asks to include this order in the BoxBerry shipping act."),
        )

    def _imsklad_export_request(self, export, summary, message):
        """Record the request on each order named (a note and one open activity for its
        salesperson); unknown orders: code 2 when all are, else named on the event."""
        unknown = []
        for ref in export.orders:
            try:
                order = self._imsklad_order(ref)
            except UnknownObject:
                unknown.append(ref.id or str(ref.system_id))
                continue
            sale = order.sale_id
            if sale.activity_ids.filtered(lambda a: a.summary == summary):
                continue  # asked before and still open: no second activity
            user = sale.user_id or sale.create_uid
            sale.activity_schedule(
                "mail.mail_activity_data_todo", summary=summary, note=message, user_id=user.id,
            )
            post_note(sale, message)
        if unknown and len(unknown) == len(export.orders):
            raise UnknownObject(f"Order {', '.join(unknown)} not found")
        error = self.env._("Unknown orders: %s", ", ".join(unknown)) if unknown else False
        return "done", ok_answer(), error

    def _imsklad_order_set_pay(self, payment):
        """The money the warehouse (or its courier) collected: kept on the sale order, where
        accounting can reconcile it, and posted."""
        order = self._imsklad_order(payment)
        sale = order.sale_id
        amount = payment.amount if payment.amount is not None else sale.amount_total
        sale.write({
            "supplier_paid_amount": amount,
            "supplier_paid_at": payment.paid_at or fields.Datetime.now(),
        })
        if payment.amount is not None:
            message = self.env._("The warehouse reports the payment of %(amount)s received.",
                                 amount=payment.amount)
        else:
            message = self.env._("The warehouse reports the order paid.")
        post_note(sale, message)
        return "done", ok_answer(), False

    # -- questions answered from Odoo --------------------------------------------------------
    def _imsklad_binding(self, good_id):
        binding = self.env["supplier.product"].sudo().search([
            ("backend_id", "=", self.backend_id.id), "|",
            ("external_id", "=", good_id), ("external_code", "=", good_id),
        ], limit=1)
        if not binding:
            raise UnknownObject(f"Good {good_id} not found")
        return binding

    def _imsklad_good_get_good(self, request):
        binding = self._imsklad_binding(request.id)
        return "done", good_answer(good_of(binding), object_id=request.id), False

    def _imsklad_good_get_good_suppliers(self, request):
        binding = self._imsklad_binding(request.id)
        partners = binding.product_id.seller_ids.partner_id
        return "done", suppliers_answer([supplier_of(p) for p in partners]), False

    def _imsklad_suppliers_domain(self):
        return [("supplier_rank", ">", 0),
                ("company_id", "in", [self.backend_id.company_id.id, False])]

    def _imsklad_supplier_get_supplier(self, request):
        partner_id = int(request.id) if str(request.id).isdigit() else 0
        partner = self.env["res.partner"].sudo().search(
            [("id", "=", partner_id)] + self._imsklad_suppliers_domain(), limit=1
        )
        if not partner:
            raise UnknownObject(f"Supplier {request.id} not found")
        return "done", supplier_answer(supplier_of(partner)), False

    def _imsklad_supplier_get_suppliers(self, request):
        partners = self.env["res.partner"].sudo().search(
            self._imsklad_suppliers_domain(), limit=MAX_SUPPLIERS, order="id"
        )
        return "done", suppliers_answer([supplier_of(p) for p in partners]), False


def supplier_of(partner):
    return {
        "id": str(partner.id), "name": partner.name or "", "inn": partner.vat or None,
        "phone": partner.phone or partner.mobile or None, "email": partner.email or None,
        "address": partner.contact_address.replace("\n", ", ").strip(", ") or None,
    }


# -- order.update_order: the warehouse's fields, comparable with what we sent ---------------------
_MONEY = frozenset({"discount", "delivery", "total_paid"})
_NUMBERS = frozenset({"address_lat", "address_lng"})
_INTEGERS = frozenset({"delivery_type", "courier", "is_canceled", "delivery_date_from",
                       "delivery_date_to", "shipment_date"})
_ALIASES = {"delivery_type": "delivery_type_id", "courier": "delivery_courier_id"}
COMPARED_FIELDS = (
    "name", "email", "phone", "phone2", "post_code", "address", "address_lat", "address_lng",
    "address_obj", "tags", "comment", "owner_comment", "discount", "delivery", "total_paid",
    "delivery_type", "courier", "is_canceled", "pickup_point", "delivery_date_from",
    "delivery_date_to", "shipment_date",
)


def normalised(name, value):
    """A field's value as compared: None for absent or empty, money to kopecks, ids as int,
    texts stripped, an address object as its non-empty parts."""
    if value is None or value == "" or isinstance(value, bool) and name not in _INTEGERS:
        return None
    try:
        if name in _MONEY:
            return round(float(value), 2)
        if name in _NUMBERS:
            return float(value) or None
        if name in _INTEGERS:
            return int(value)
    except (TypeError, ValueError):
        return None
    if name == "address_obj":
        if not isinstance(value, dict):
            return None
        parts = {key: str(value[key]).strip() for key in ("city", "street", "house", "room")
                 if value.get(key) not in (None, "") and str(value[key]).strip()}
        return parts or None
    if isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def warehouse_fields(data):
    """The compared fields of an update_order call's data (either spelling of type/courier)."""
    values = {}
    for name in COMPARED_FIELDS:
        alias = _ALIASES.get(name)
        value = data.get(alias) if alias and data.get(alias) is not None else data.get(name)
        values[name] = normalised(name, value)
    return values


def goods_by_id(goods):
    """{our good id: [quantity, price]} of goods lines (quantities of one good summed)."""
    result = {}
    for line in goods:
        if not isinstance(line, dict) or line.get("id") in (None, ""):
            continue
        try:
            quantity = int(float(line.get("quantity") or 0))
            price = round(float(line.get("price") or 0), 2)
        except (TypeError, ValueError):
            continue
        row = result.setdefault(str(line["id"]), [0, price])
        row[0] += quantity
        row[1] = price
    return result


def shown_value(name, value):
    if value is None:
        return "—"
    if name == "delivery_type":
        return dict(DELIVERY_TYPE_SELECTION).get(str(value), str(value))
    if name == "courier":
        return dict(COURIER_SELECTION).get(str(value), str(value))
    if name == "address_obj":
        return ", ".join(value.values())
    return str(value)
