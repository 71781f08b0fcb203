"""What Odoo does with IMSKLAD's calls (api/imsklad_callbacks parses them), DESIGN §4.3.

Here: order.set_status (status on the sale order and its supplier order, a note on change,
status 9 validates the delivery when the connection says so), order.update_tracks (tracking
number on the delivery), order.set_pay and order.update_order, good.get_good,
good.get_good_suppliers, supplier.get_supplier, supplier.get_suppliers (answered from Odoo).
Each method is handled by ``_imsklad_<type>_<action>``, which other files may add; a method
without a handler is stored for a person (``ignored`` with the reason) and acknowledged.
"""

from odoo import api, models

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
        """The warehouse changed the order: its delivery details are posted on the sale order
        for a person to apply (changing a confirmed order's partner or lines is not safe)."""
        order = self._imsklad_order(update)
        changed = update.order
        labels = {
            "name": self.env._("Customer"), "address": self.env._("Address"),
            "post_code": self.env._("Post code"), "phone": self.env._("Phone"),
            "phone2": self.env._("Second phone"), "email": self.env._("Email"),
            "comment": self.env._("Comment"), "pickup_point": self.env._("Pickup point"),
            "track": self.env._("Tracking number"),
        }
        lines = [f"{label}: {getattr(changed, name)}" for name, label in labels.items()
                 if getattr(changed, name, None) not in (None, "")]
        if changed.is_canceled:
            lines.append(self.env._("The warehouse marks the order cancelled."))
        post_note(order.sale_id, self.env._(
            "The warehouse changed the order; check and apply what is needed: %s",
            "; ".join(lines) or "—",
        ))
        return "done", ok_answer(update.id or order.key), False

    def _imsklad_order_set_pay(self, payment):
        order = self._imsklad_order(payment)
        if payment.amount is not None:
            message = self.env._("The warehouse reports the payment of %(amount)s received.",
                                 amount=payment.amount)
        else:
            message = self.env._("The warehouse reports the order paid.")
        post_note(order.sale_id, message)
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
