"""The catalogue pushed to UDOMA (``import-nomenclature``), DESIGN §4.2.

- Full push the first time (and on demand: "Push all products"), afterwards only the mappings
  whose item changed: each accepted item's fingerprint is kept on its mapping (``push_hash``),
  so an unchanged catalogue sends no request. A full push and a delta push are the same code.
- "Turn off what is not sent" (``turnOffMissingNomenclature``) is sent on full pushes only:
  on a delta it would hide everything that did not change.
- v1 sends each item once with its group; v2 sends the chunk to every shop (a new shop gets the
  whole catalogue at the next push, see models/backend_udoma.py).
- Before sending, what UDOMA would refuse for the whole request is found in Odoo and refused
  per product, the rest still sent: two mappings with one code (``nomenclature.doubles``), two
  products with one barcode (``nomenclature.barcode.doubles``), v1 products without a group or
  in a group that has sub-groups.
- Mappings are read in chunks (one read per model per chunk) and sent in requests of the
  connection's batch size; the client maps a refused request's errors to its items and sends
  the others again, so one bad item never fails the chunk.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from ..api.errors import ApiError
from .backend_udoma import GroupTree, udoma_error
from .bulk import bulk_write
from .run_lock import exclusive_run
from .sync_run import SyncRun
from .udoma_catalogue import NomenclatureBuilder, item_hash

READ_CHUNK = 1000
# Failed requests in a row (after the client's retries) that stop the run: the service is down.
FAILED_IN_A_ROW = 3


def stops_run(exc):
    return bool(getattr(exc, "run_level", False)) or exc.code in (
        "auth", "login_blocked", "api_key_refused", "rate_limited",
    )


class SupplierBackendUdomaPush(models.Model):
    _inherit = "supplier.backend"

    def _udoma_push_products(self, full=None):
        """The "Push products" button's UDOMA run; ``full``: every mapped product."""
        with exclusive_run(self.env, self, "push_products"):
            return self.env["supplier.udoma.push"]._push(self, "manual", full=full)

    def action_udoma_push_products_full(self):
        """Send every mapped product, changed or not (and turn off the others when asked)."""
        self._check_right("manager")
        if any(backend.service != "udoma" for backend in self):
            raise UserError(self.env._("This is not a UDOMA connection."))
        self._check_operation("push_products")
        return self._button_result([backend._udoma_push_products(full=True) for backend in self])


class SupplierUdomaPush(models.AbstractModel):
    _name = "supplier.udoma.push"
    _description = "UDOMA catalogue push"

    @api.model
    def _push(self, backend, trigger="manual", full=None):
        backend = backend.sudo()
        # Texts in the connection's language, whoever pushes (the payload's hash depends on it).
        self = self.with_context(lang=backend._content_lang())
        full = bool(full) or not backend.udoma_nomenclature_pushed
        run = SyncRun(self.env, backend, "push_products", trigger)
        adapter = backend._adapter()
        version = backend.udoma_api_version or "v2"
        shops = [shop.code for shop in backend._udoma_shops()] if version == "v2" else [None]
        if not shops:
            run.note(self.env._("UDOMA v2 receives products per shop: add the shops on the "
                                "connection's Shops tab first."))
            return run.finish(adapter)
        if backend.udoma_push_all_saleable:
            self._bind_saleable(backend)
        state = {
            "run": run, "adapter": adapter, "backend": backend, "shops": shops, "full": full,
            "turn_off": full and backend.udoma_turn_off_missing, "failed_in_a_row": 0,
            "stopped": False, "warned": 0, "unknown_shops": set(),
        }
        Binding = self.env["supplier.product"].sudo()
        ids = Binding.search([("backend_id", "=", backend.id)], order="id").ids
        shared_codes, shared_barcodes = self._duplicates(backend)
        builder = NomenclatureBuilder(
            self.env, backend, GroupTree(backend) if version == "v1" else None
        )
        chunk = max(backend.batch_size or 1, 1)
        pending = []
        for id_chunk in split_every(READ_CHUNK, ids):
            bindings = Binding.browse(id_chunk)
            for binding, item in builder.items(bindings):
                problem = self._problem(binding, item, shared_codes, shared_barcodes)
                if problem:
                    run.add(processed=1)
                    self._item_failed(run, binding, problem[0], problem[1])
                    continue
                digest = item_hash(item, version)
                if not full and binding.push_hash == digest:
                    run.add(processed=1, unchanged=1)
                    continue
                pending.append((binding.id, item, digest, builder.warnings.get(binding.id)))
            for binding in bindings.filtered(lambda b: b.id in builder.problems):
                run.add(processed=1)
                self._item_failed(run, binding, "not_sendable", builder.problems.pop(binding.id))
            while not state["turn_off"] and len(pending) >= chunk and not state["stopped"]:
                self._send(state, pending[:chunk])
                pending = pending[chunk:]
            if state["stopped"]:
                break
            run.checkpoint(adapter, remaining=0)
            self.env.invalidate_all()
        removed = self.env["supplier.udoma.removed"].sudo().search([("backend_id", "=", backend.id)])
        if not state["stopped"]:
            pending += [(-r.id, builder.removed_item(r), None, None) for r in removed]
            step = max(len(pending), 1) if state["turn_off"] else chunk
            for start in range(0, len(pending), step):
                self._send(state, pending[start:start + step])
                if state["stopped"]:
                    break
        if state["warned"]:
            run.note(self.env._(
                "%s products were sent with the unit 'pieces' (796): UDOMA has no unit of "
                "theirs; see their mappings.", state["warned"],
            ))
        # Items that failed have no fingerprint: the next (delta) push sends them again.
        if full and not state["stopped"]:
            backend.udoma_nomenclature_pushed = True
        return run.finish(adapter)

    @api.model
    def _bind_saleable(self, backend):
        Binding = self.env["supplier.product"].sudo()
        bound = Binding.search([("backend_id", "=", backend.id)]).product_id
        products = self.env["product.product"].sudo().search([
            ("sale_ok", "=", True), ("id", "not in", bound.ids),
            ("company_id", "in", [backend.company_id.id, False]),
        ])
        taken = set(Binding.search([("backend_id", "=", backend.id)]).mapped("external_code"))
        vals_list = []
        for product in products:
            code = (product.default_code or "").strip() or f"odoo-{product.id}"
            if code in taken:
                code = f"odoo-{product.id}"
            taken.add(code)
            vals_list.append({"backend_id": backend.id, "product_id": product.id,
                              "external_code": code})
        Binding.create(vals_list)

    @api.model
    def _duplicates(self, backend):
        """(codes of several mappings, barcodes of several products) among the connection's
        products that are not archived: UDOMA refuses a request that has them twice."""
        cr = self.env.cr
        cr.execute(SQL(
            """SELECT b.external_code FROM supplier_product b
                 JOIN product_product p ON p.id = b.product_id
                WHERE b.backend_id = %s AND p.active
             GROUP BY b.external_code HAVING count(*) > 1""", backend.id,
        ))
        codes = {row[0] for row in cr.fetchall()}
        cr.execute(SQL(
            """SELECT p.barcode FROM supplier_product b
                 JOIN product_product p ON p.id = b.product_id
                WHERE b.backend_id = %s AND p.active AND coalesce(p.barcode, '') != ''
             GROUP BY p.barcode HAVING count(*) > 1""", backend.id,
        ))
        return codes, {row[0] for row in cr.fetchall()}

    @api.model
    def _problem(self, binding, item, shared_codes, shared_barcodes):
        if item.deleted:
            return None
        if item.source_id in shared_codes:
            return "duplicate_id", self.env._(
                "Several products of the connection have the code %s: UDOMA refuses items with "
                "the same id. Give each product its own code on its mapping.", item.source_id,
            )
        if item.barcode and item.barcode in shared_barcodes:
            return "duplicate_barcode", self.env._(
                "Several products of the connection have the barcode %s: UDOMA refuses items "
                "with the same barcode. Correct the barcode of one of them.", item.barcode,
            )
        return None

    @api.model
    def _item_failed(self, run, binding, code, message):
        bulk_write(self.env["supplier.product"].sudo(), {binding.id: {"push_message": message}})
        run.add(failed=1)
        run.item_failed(code, message, binding)

    @api.model
    def _send(self, state, rows):
        """Send ``rows`` [(binding id or -removed id, item, digest, warning)] to every shop."""
        if not rows:
            return
        run, adapter = state["run"], state["adapter"]
        items = [row[1] for row in rows]
        refused = {}  # index → message
        for shop in state["shops"]:
            if shop in state["unknown_shops"]:
                continue
            try:
                result = adapter.import_nomenclature(
                    items, shop_source_id=shop, turn_off_missing=state["turn_off"],
                )
            except ApiError as exc:
                if stops_run(exc):
                    run.stop(exc, udoma_error(self.env, exc))
                    state["stopped"] = True
                    return
                reason = udoma_error(self.env, exc)
                if exc.code == "shop_not_found":
                    # Said once; the shop is left out for the rest of the run, and the products
                    # keep no fingerprint, so the next push sends them again.
                    state["unknown_shops"].add(shop)
                    run.note(self._shop_not_found(state["backend"], shop, exc))
                    continue
                run.request_failed(reason)
                state["failed_in_a_row"] += 1
                for index in range(len(rows)):
                    refused.setdefault(index, reason)
                if state["failed_in_a_row"] >= FAILED_IN_A_ROW:
                    run.stop(exc, reason)
                    state["stopped"] = True
                    break
                continue
            state["failed_in_a_row"] = 0
            for note in result.notes:
                if note not in run.messages:
                    run.note(note)
            for error in result.errors:
                refused.setdefault(error.index, describe_item_error(self.env, error))
        state["warned"] += self._apply(run, rows, refused, held=bool(state["unknown_shops"]))

    @api.model
    def _shop_not_found(self, backend, code, exc):
        shop = backend.location_ids.filtered(lambda s: s.code == code)[:1]
        return self.env._(
            "UDOMA has no shop bound to the id %(code)s (shop %(shop)s): bind it in UDOMA's "
            "integration settings, or correct the shop's id on the connection's Shops tab. "
            "The products were not sent to it; the next push sends them again.",
            code=code, shop=shop.name or code,
        )

    @api.model
    def _apply(self, run, rows, refused, held=False):
        """Record what UDOMA accepted and refused; how many accepted items carry a warning."""
        Binding = self.env["supplier.product"].sudo()
        now = fields.Datetime.now()
        done, failed_msgs, removed_done = {}, {}, []
        run.add(processed=len(rows))
        for index, (record_id, _item, digest, warning) in enumerate(rows):
            if index in refused:
                if record_id > 0:
                    failed_msgs[record_id] = refused[index]
                else:
                    run.add(failed=1)
                    run.item_failed("rejected", refused[index], reference=_item.source_id)
                continue
            if held:  # a shop did not get it: not pushed yet
                run.add(failed=1)
                continue
            if record_id < 0:
                removed_done.append(-record_id)
                run.add(updated=1)
                continue
            done[record_id] = {"push_hash": digest, "last_push": now,
                               "push_message": warning or False}
        first = set(Binding.browse(list(done)).filtered(lambda b: not b.last_push).ids)
        bulk_write(Binding, done)
        run.add(created=len(first), updated=len(done) - len(first))
        for binding in Binding.browse(list(failed_msgs)):
            self._item_failed(run, binding, "rejected", failed_msgs[binding.id])
        self.env["supplier.udoma.removed"].sudo().browse(removed_done).unlink()
        return sum(1 for vals in done.values() if vals["push_message"])


def describe_item_error(env, error):
    words = {
        "duplicate_id": env._("UDOMA refused the item: another item has the same id."),
        "duplicate_barcode": env._("UDOMA refused the item: another item has the same barcode."),
        "group_not_found": env._(
            "UDOMA does not know the item's group: create it in UDOMA or correct the category's "
            "group on the connection."
        ),
        "group_has_subgroups": env._(
            "The item's group has sub-groups in UDOMA: a group holds either products or "
            "sub-groups, never both."
        ),
        "invalid": env._("The item lacks a field UDOMA requires (name or id)."),
    }
    sentence = words.get(error.code, env._("UDOMA refused the item."))
    if error.message and error.code not in words:
        sentence += " " + env._("The service said: %(detail)s", detail=error.message)
    return sentence
