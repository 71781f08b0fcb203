"""What Odoo does with IMSKLAD's document calls: doc.add_doc, doc.update_doc, doc.set_status
(api/imsklad_callbacks parses them as DocumentEvent), DESIGN §4.3.

- Matching: by our id (the key we sent: a purchase order's name for its pre-order, a picking's
  name for a document or a return), else by IMSKLAD's id (``system_id``) among the connection's
  pre-orders and documents. A purchase order's pre-order is applied to its open receipt in the
  warehouse (the first not done; after a backorder, the backorder).
- A document Odoo does not know (the warehouse made it itself, or it was never sent from here)
  is kept for a person: the event is "For a person" with the reason, and the call is answered
  code 2 "not found", as unknown orders are.
- Goods lines name our good id (the binding's code) or IMSKLAD's id: both are looked up. Their
  quantities become the done quantities of the picking's moves of that product (spread over the
  moves in order, the last one takes the rest); goods not on the picking or unknown are listed in
  the note and the event's error, and the rest is applied. A call without goods (set_status) sets
  no quantity.
- Status 1 "posted" validates the picking when the connection says so ("Validate transfers when
  posted"): with the counted quantities, or, when none came, the quantities as sent; what was not
  counted stays in a backorder (Odoo's default). Status 2 "cancelled" is posted for a person: the
  Odoo picking is not cancelled automatically (goods may already have moved).
- The chatter says what changed (status, quantities); a repeated call is answered from the stored
  event and has no second effect (supplier.event dedupe).
"""

from odoo import models

from ..api.imsklad_callback_data import error_answer, ok_answer
from ..api.imsklad_data import ERROR_NOT_FOUND
from .chatter import post_note

DOC_POSTED = 1
DOC_CANCELLED = 2


def doc_status_labels(env):
    return {0: env._("New"), DOC_POSTED: env._("Posted"), DOC_CANCELLED: env._("Cancelled")}


class SupplierEventImskladDocuments(models.Model):
    _inherit = "supplier.event"

    def _imsklad_doc_add_doc(self, document):
        return self._imsklad_document(document)

    def _imsklad_doc_update_doc(self, document):
        return self._imsklad_document(document)

    def _imsklad_doc_set_status(self, document):
        return self._imsklad_document(document)

    # -- matching --------------------------------------------------------------------------------
    def _imsklad_document_row(self, document):
        SupplierOrder = self.env["supplier.order"].sudo()
        domain = [("backend_id", "=", self.backend_id.id), ("doc_kind", "!=", False)]
        row = SupplierOrder.search(domain + [("key", "=", document.id)], limit=1) \
            if document.id else SupplierOrder  # fmt: skip
        if not row and document.system_id is not None:
            row = SupplierOrder.search(domain + [("external_id", "=", str(document.system_id))],
                                       limit=1)  # fmt: skip
        return row

    def _imsklad_document_picking(self, row):
        if row.picking_id:
            return row.picking_id
        warehouse = self.backend_id.imsklad_warehouse_id
        receipts = row.imsklad_purchase_id.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state != "cancel"
            and (not warehouse or p.picking_type_id.warehouse_id == warehouse)
        ).sorted("id")
        return receipts.filtered(lambda p: p.state != "done")[:1] or receipts[-1:]

    # -- applying --------------------------------------------------------------------------------
    def _imsklad_document(self, document):
        row = self._imsklad_document_row(document)
        reference = document.id or str(document.system_id)
        if not row:
            message = self.env._(
                "The warehouse reports document %(ref)s (code %(code)s), which Odoo did not send: "
                "kept for a person to record it by hand.",
                ref=reference, code=document.code or "—",
            )
            return "ignored", error_answer(ERROR_NOT_FOUND, f"Document {reference} not found"), \
                message  # fmt: skip
        picking = self._imsklad_document_picking(row)
        record = picking or row.imsklad_purchase_id
        notes, problems = [], []
        if document.new_status is not None:
            labels = doc_status_labels(self.env)
            label = labels.get(document.new_status, str(document.new_status))
            if row.status_code != str(document.new_status):
                notes.append(self.env._("Warehouse status: %(old)s → %(new)s",
                               old=row.status_label or "—", new=label))
            row.write({"status_code": str(document.new_status), "status_label": label})
            if picking:
                picking.supplier_status = label
        if document.goods and picking:
            changes, problems = self._imsklad_apply_goods(picking, document.goods)
            if changes:
                notes.append(self.env._("Quantities counted by the warehouse: %s", "; ".join(changes)))
        elif document.goods:
            problems.append(self.env._("no open transfer of %s in Odoo to set the quantities on", row.key))
        if document.new_status == DOC_CANCELLED:
            notes.append(self.env._("The warehouse cancelled this document; cancel the transfer in Odoo "
                           "if the goods will not move."))
        elif document.new_status == DOC_POSTED and picking and picking.state not in (
            "done", "cancel"
        ) and self.backend_id.imsklad_validate_documents:
            notes.append(self._imsklad_validate_picking(picking))
        if problems:
            notes.append(self.env._("Not applied: %s", "; ".join(problems)))
        if notes and record:
            post_note(record, self.env._("Warehouse document %(ref)s: %(notes)s",
                                ref=row.key, notes=" ".join(notes)))
        error = "; ".join(problems) or False
        return "done", ok_answer(), error

    def _imsklad_apply_goods(self, picking, goods):
        """Set the done quantities of ``picking`` from the warehouse's lines; (changes, problems)
        in words."""
        codes = [str(line.id) for line in goods]
        bindings = self.env["supplier.product"].sudo().search([
            ("backend_id", "=", self.backend_id.id), "|",
            ("external_code", "in", codes), ("external_id", "in", codes),
        ])
        by_code = {b.external_code: b.product_id for b in bindings}
        by_code.update({b.external_id: b.product_id for b in bindings if b.external_id})
        counted, problems = {}, []
        for line in goods:
            product = by_code.get(str(line.id))
            if not product:
                problems.append(self.env._("unknown good %s", line.id))
                continue
            counted[product] = counted.get(product, 0) + (line.quantity or 0)
        if picking.state in ("done", "cancel"):
            if counted:
                states = dict(picking._fields["state"]._description_selection(self.env))
                problems.append(self.env._("%(picking)s is already %(state)s", picking=picking.name,
                                  state=states.get(picking.state, picking.state)))
            return [], problems
        changes = []
        for product, quantity in counted.items():
            moves = picking.move_ids.filtered(
                lambda m, p=product: m.product_id == p and m.state not in ("done", "cancel")
            ).sorted("id")
            if not moves:
                problems.append(self.env._("%s is not on the transfer", product.display_name))
                continue
            before = sum(moves.mapped("quantity"))
            left = product.uom_id._compute_quantity(quantity, moves[0].product_uom)
            for index, move in enumerate(moves):
                share = left if index == len(moves) - 1 else min(left, move.product_uom_qty)
                move.write({"quantity": share, "picked": True})
                left -= share
            changes.append(self.env._("%(product)s %(before)s → %(after)s (expected %(expected)s)",
                             product=product.display_name, before=_number(before),
                             after=_number(quantity),
                             expected=_number(sum(moves.mapped("product_uom_qty")))))
        return changes, problems

    def _imsklad_validate_picking(self, picking):
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        if not any(moves.mapped("picked")):
            for move in moves:
                move.write({"quantity": move.product_uom_qty, "picked": True})
        picking.with_context(skip_backorder=True, skip_sms=True, skip_immediate=True) \
            .button_validate()  # fmt: skip
        backorder = picking.backorder_ids
        if backorder:
            return self.env._("Validated with the quantities counted; the rest waits in %s.",
                              ", ".join(backorder.mapped("name")))
        return self.env._("Validated with the quantities counted.")


def _number(value):
    return int(value) if float(value).is_integer() else round(value, 3)
