import dataclasses
from collections import Counter, defaultdict, namedtuple
from datetime import timedelta

from odoo import fields
from odoo.tools.float_utils import float_compare

from .bulk import bulk_write
from .error_messages import describe_item

# A store as the writer needs it: plain values, so nothing is re-read after the engine drops
# the ORM cache between batches.
Store = namedtuple("Store", "id use_for_stock")

# Binding fields whose change makes a product count as "updated" rather than "unchanged".
COMPARED = ("price", "price_with_vat", "price_tariff", "price_retail", "qty_available",
            "delivery_days", "sync_state")

# What makes an offer the same offer from one pull to the next (never rewritten in place).
OFFER_IDENTITY = frozenset({"binding_id", "location_id", "location_code", "external_offer_id"})

# A product that failed is asked again after 1 h, then 2 h, 4 h... at most a day later.
RETRY_FIRST = timedelta(hours=1)
RETRY_MAX = timedelta(days=1)


def next_retry(now, failures):
    """When a product that has failed ``failures`` times in a row may be asked again."""
    return now + min(RETRY_FIRST * 2 ** min(max(failures - 1, 0), 16), RETRY_MAX)


def failure_values(binding, now):
    """Bookkeeping of one more failure in a row (``last_sync`` stays the last success)."""
    failures = binding.failure_count + 1
    return {"last_attempt": now, "failure_count": failures, "retry_after": next_retry(now, failures)}


class OfferWriter:
    """Applies a batch of pull results to Odoo in a constant number of queries.

    Bindings get their prices and stock (one bulk UPDATE), offers are updated in place (one
    UPDATE; an INSERT or DELETE only for offers that appeared or vanished), stores the service reports for the first time are created, and vendor
    prices (``product.supplierinfo`` of the connection's partner) are updated or created in bulk
    so purchase orders pick them up natively. A price that changed leaves a
    ``supplier.price.history`` row (one ``create`` per batch, none when nothing changed), with
    ``log``, the run's log, when the caller gives it.
    """

    def __init__(self, backend, log=None):
        self.env = backend.env
        self.backend = backend
        self.log = log
        self.locations = {
            loc.code: Store(loc.id, loc.use_for_stock) for loc in backend.location_ids
        }
        self._currencies = {}

    def apply(self, bindings, results):
        """Write ``results`` (ItemResult list) for ``bindings``; returns (counts, failed lines).

        All or nothing (a savepoint): when it raises, nothing of the batch was written and the
        same results can be applied again (they are not modified).
        """
        known_locations = dict(self.locations)
        try:
            with self.env.cr.savepoint():
                return self._apply(bindings, [dataclasses.replace(r) for r in results])
        except Exception:
            self.locations = known_locations  # stores created in the savepoint are gone
            raise

    def fail(self, bindings, code, message):
        """``bindings`` failed for a reason of their whole request: same reason on each, one
        more failure in a row. Returns (counts, failed lines) as ``apply`` does."""
        now = fields.Datetime.now()
        with self.env.cr.savepoint():
            bulk_write(bindings.browse(), {
                binding.id: dict(failure_values(binding, now), sync_state="error",
                                 sync_message=message)
                for binding in bindings
            })
        counts = Counter(processed=len(bindings), failed=len(bindings))
        return counts, [(code, message, binding) for binding in bindings]

    def _apply(self, bindings, results):
        now = fields.Datetime.now()
        by_id = {binding.id: binding for binding in bindings}
        counts = Counter()
        lines = []
        binding_vals = {}
        replaced_offers = []
        offer_vals = []
        priced = []
        history = []
        History = self.env["supplier.price.history"]
        self._create_new_locations(results)
        self._reject_taken_external_ids(bindings, results)
        for result in results:
            binding = by_id[result.binding_id]
            counts["processed"] += 1
            if result.state == "ok":
                included = [
                    offer for offer in result.offers or ()
                    if self.locations[offer.location_code].use_for_stock
                ]
                best = self._choose_best(included) if result.price is None else None
                if best:
                    result.price, result.currency = best.price, best.currency
                    result.delivery_days, result.min_qty = best.delivery_days, best.min_qty
                vals = self._ok_values(result, now)
                if result.offers is not None:
                    vals["qty_available"] = sum(offer.quantity for offer in included)
                    replaced_offers.append(binding.id)
                    offer_vals += [
                        self._offer_values(binding, offer, now, offer is best) for offer in included
                    ]
                counts["updated" if self._changed(binding, vals) else "unchanged"] += 1
                priced.append((binding, result))
                change = History._changes(binding, vals)
                if change:
                    history.append(change)
            else:
                code = result.error_code or result.state
                message = describe_item(
                    self.env, code, {"code": binding.external_code}, result.message
                )
                vals = dict(failure_values(binding, now), sync_state=result.state,
                            sync_message=message)
                counts["not_found" if result.state == "not_found" else "failed"] += 1
                lines.append((code, message, binding))
            binding_vals[binding.id] = vals
        bulk_write(bindings.browse(), binding_vals)
        History._record(self.backend, history, self.log)
        if replaced_offers:
            self._replace_offers(replaced_offers, offer_vals)
        self._write_vendor_prices(priced)
        return counts, lines

    def _replace_offers(self, binding_ids, offer_vals):
        """The bindings' offers become ``offer_vals``: an offer the service still quotes (same
        binding, store and offer id) is updated in place, in one statement, so offer ids stay
        stable and a steady pull inserts nothing; new ones are created, vanished ones deleted."""
        Offer = self.env["supplier.offer"].sudo()
        existing = defaultdict(list)
        for offer in Offer.search_fetch(
            [("binding_id", "in", binding_ids)],
            ["binding_id", "location_id", "external_offer_id"], order="id",
        ):
            key = (offer.binding_id.id, offer.location_id.id, offer.external_offer_id or False)
            existing[key].append(offer.id)
        updates, creates = {}, []
        for vals in offer_vals:
            key = (vals["binding_id"], vals["location_id"], vals["external_offer_id"])
            if existing.get(key):
                updates[existing[key].pop(0)] = {
                    name: value for name, value in vals.items() if name not in OFFER_IDENTITY
                }
            else:
                creates.append(vals)
        vanished = [offer_id for ids in existing.values() for offer_id in ids]
        if vanished:
            Offer.browse(vanished).unlink()
        bulk_write(Offer, updates)
        if creates:
            Offer.create(creates)

    def _reject_taken_external_ids(self, bindings, results):
        """An id the service resolved that another mapping already holds: an error on this item
        (the same supplier article would otherwise be bought for two products)."""
        wanted = {r.binding_id: r.external_id for r in results if r.state == "ok" and r.external_id}
        if not wanted:
            return
        holders = {
            b.external_id: b for b in self.env["supplier.product"].sudo().search([
                ("backend_id", "=", self.backend.id),
                ("external_id", "in", list(set(wanted.values()))),
            ])
        }
        seen = {}
        for result in results:
            external_id = wanted.get(result.binding_id)
            holder = holders.get(external_id)
            if not external_id:
                continue
            if holder and holder.id != result.binding_id:
                other = holder.product_id.display_name
            elif seen.setdefault(external_id, result.binding_id) != result.binding_id:
                other = bindings.browse(seen[external_id]).product_id.display_name
            else:
                continue
            result.state, result.error_code, result.message = "error", "duplicate", other
            result.external_id = ""

    def _choose_best(self, offers):
        """The offer that becomes the vendor price, by the connection's rule (in stock only)."""
        candidates = [o for o in offers if o.price is not None and o.quantity > 0]
        if not candidates:
            return None
        never = float("inf")

        def cheapest(offer):
            return (offer.price, offer.delivery_days if offer.delivery_days is not None else never)

        def fastest(offer):
            return (offer.delivery_days if offer.delivery_days is not None else never, offer.price)

        rule = self.backend.offer_choice or "cheapest"
        if rule == "cheapest_within":
            limit = self.backend.offer_max_days or 0
            within = [o for o in candidates
                      if o.delivery_days is not None and o.delivery_days <= limit]
            return min(within, key=cheapest) if within else min(candidates, key=fastest)
        return min(candidates, key=fastest if rule == "fastest" else cheapest)

    def _ok_values(self, result, now):
        vals = {"sync_state": "ok", "last_attempt": now, "failure_count": 0, "retry_after": False}
        if result.price is not None:
            # No price (e.g. no offer in stock at the allowed locations): keep the last one.
            vals.update({
                "price": result.price,
                "price_with_vat": result.price_with_vat or 0.0,
                "price_tariff": result.price_tariff or 0.0,
                "price_retail": result.price_retail or 0.0,
                "currency_id": self._currency(result.currency),
            })
        vals.update({
            "sync_message": (
                describe_item(self.env, result.error_code, {}, result.message)
                if result.error_code else False
            ),
            "last_sync": now,
        })
        if result.offers is not None:
            vals["delivery_days"] = result.delivery_days or 0
            vals["delivery_label"] = result.delivery_label or False
        if result.unit:
            vals["unit_name"] = result.unit
        if result.external_id:
            vals["external_id"] = result.external_id
        return vals

    def _offer_values(self, binding, offer, now, is_best=False):
        return {
            "is_best": is_best,
            "delivery_date": offer.delivery_date or False,
            "shipping_date": offer.shipping_date or False,
            "quantity_type": offer.quantity_type or False,
            "multiplicity": offer.multiplicity or 0.0,
            "min_qty": offer.min_qty or 0.0,
            "max_qty": offer.max_qty or 0.0,
            "probability": offer.probability or 0.0,
            "return_allowed": offer.return_allowed,
            "warning": offer.warning or False,
            "is_analog": offer.is_analog,
            "binding_id": binding.id,
            "location_id": self.locations[offer.location_code].id,
            "location_code": offer.location_code,
            "quantity": offer.quantity,
            "price": offer.price if offer.price is not None else False,
            "currency_id": self._currency(offer.currency) if offer.price is not None else False,
            "delivery_days": offer.delivery_days or 0,
            "delivery_label": offer.delivery_label or False,
            "stock_date": offer.stock_date or False,
            "external_offer_id": offer.external_offer_id or False,
            "fetched_at": now,
        }

    @staticmethod
    def _changed(binding, vals):
        for name in COMPARED:
            if name not in vals:
                continue
            old, new = binding[name], vals[name]
            if isinstance(new, float):
                if float_compare(old or 0.0, new, precision_digits=4):
                    return True
            elif old != new:
                return True
        return False

    def _create_new_locations(self, results):
        new = {}
        for result in results:
            for offer in result.offers or ():
                if offer.location_code not in self.locations:
                    new.setdefault(offer.location_code, {
                        "backend_id": self.backend.id,
                        "code": offer.location_code,
                        "name": offer.location_name or offer.location_code,
                        "location_type": offer.location_type or False,
                    })
        if new:
            for location in self.env["supplier.location"].sudo().create(list(new.values())):
                self.locations[location.code] = Store(location.id, location.use_for_stock)

    def _currency(self, code):
        if not code:
            return self.backend.currency_id.id or self.env.company.currency_id.id
        if code not in self._currencies:
            currency = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", code)], limit=1
            )
            self._currencies[code] = currency.id or self.backend.currency_id.id
        return self._currencies[code]

    def _write_vendor_prices(self, priced):
        """Vendor price = price without VAT, on the connection partner's supplierinfo."""
        partner = self.backend.partner_id
        priced = [(binding, result) for binding, result in priced if result.price]
        if not partner or not priced:
            return
        Supplierinfo = self.env["product.supplierinfo"].sudo()
        products = self.env["product.product"].browse({b.product_id.id for b, _r in priced})
        existing = Supplierinfo.search([
            ("partner_id", "=", partner.id),
            ("product_tmpl_id", "in", products.product_tmpl_id.ids),
            ("company_id", "in", [self.backend.company_id.id, False]),
        ], order="sequence, min_qty, id")
        by_variant, by_template = {}, {}
        for info in existing:
            if info.product_id:
                by_variant.setdefault(info.product_id.id, info)
            else:
                by_template.setdefault(info.product_tmpl_id.id, info)
        updates, creates = {}, []
        for binding, result in priced:
            product = binding.product_id
            info = by_variant.get(product.id)
            if not info and len(product.product_tmpl_id.product_variant_ids) == 1:
                info = by_template.get(product.product_tmpl_id.id)
            vals = {
                "price": result.price,
                "currency_id": self._currency(result.currency),
                "product_code": binding.external_code,
            }
            if result.delivery_days is not None:
                vals["delay"] = result.delivery_days
            if result.min_qty:
                vals["min_qty"] = result.min_qty
            if not info:
                creates.append(dict(
                    vals,
                    partner_id=partner.id,
                    product_id=product.id,
                    product_tmpl_id=product.product_tmpl_id.id,
                    company_id=self.backend.company_id.id,
                ))
            elif self._info_differs(info, vals):
                updates[info.id] = vals
        bulk_write(Supplierinfo, updates)
        Supplierinfo.create(creates)

    @staticmethod
    def _info_differs(info, vals):
        return any(
            (info[name].id if name == "currency_id" else info[name]) != value
            for name, value in vals.items()
        )
