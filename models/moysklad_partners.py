"""Counterparties ↔ partners (``sync_partners``) and the counterparty of a document's partner.

A run, by the connection's direction:
- MoySklad is the master (``pull``) or both (``both``): the counterparties changed since the
  watermark, in pages of 1,000 (Moscow time; the watermark is saved only after a full pass).
  Each page is matched in a constant number of queries: mapping by counterparty id → external
  code (an unsent mapping's code, the partner's reference, our own ``odoo-partner-<id>``) →
  INN (+ KPP when both have one) → e-mail → phone. Several partners for one counterparty (or
  one partner for several) is *ambiguous*: listed in the log and on the partners, never merged,
  nothing created. Counterparties that match nothing become partners. Bank accounts and
  contact persons are read (pages of 100, MoySklad's limit with expand) only for the
  counterparties that changed and have some.
- Odoo is the master (``push``) or both: partners changed since their last sync (their own
  ``write_date``, their bank accounts' or contacts') and the customers and vendors not mapped
  yet. Unmapped partners are first looked up at MoySklad in the same order (up to 100 by
  filtered lists, more by reading the counterparty list once); those found are mapped, the
  others created in arrays of up to 1,000 with a syncId fixed before the first send.
- Both: per field, the side that changed since the last agreed values (the mapping's snapshot)
  wins; a field changed on both sides goes to the side changed most recently (the
  counterparty's ``updated`` against the partner's ``write_date``) and the log says so.

Decisions (the issue is silent):
- Partners pushed unasked: companies and persons without a parent that are customers or
  vendors (``customer_rank``/``supplier_rank``), of the connection's company or shared, not a
  company's own partner. Others are pushed when a document needs them or from their form.
- A partner whose INN is not valid is not sent: its mapping is in error with the reason, a note
  says it on the partner, and the log lists it. A valid counterparty is still pulled.
- Child contacts of a partner created from MoySklad or matched are the contact persons; a
  contact person removed at MoySklad archives the child contact, a bank account removed
  archives the bank account (nothing is deleted).
- The external code of a partner sent first by Odoo is its reference, else ``odoo-partner-<id>``.
- Partners created from counterparties are shared (no company), like Odoo's own contacts.
- Countries of addresses: MoySklad names them by its country list (``entity/country``, OKSM
  numeric codes), read once per run and only when a counterparty or a partner to send has a
  country; they are matched to Odoo's countries by ISO code (``api/iso3166``). The actual
  address's country is the partner's country (else the legal address's), the legal address's
  is ``ru_legal_country_id``. MoySklad without a country never clears the partner's. A country
  one side has and the other cannot hold (a MoySklad country without ISO code or missing in
  Odoo; an Odoo country missing in MoySklad's list) is not a failure: the address is kept or
  sent without it, MoySklad's own country is sent back unchanged, and the log lists the
  countries not matched and for whom (details in ``moysklad_partner_values``).
- More than 100 unmapped partners are looked up by reading the counterparty list once per run
  (pages of 1,000, kept in memory for the run) rather than by filtered lists per value.
- A value Odoo refuses (a constraint) fails that counterparty only: the page is written in bulk,
  and item by item in savepoints when the bulk write is refused.
- Measured (bench/moysklad_partners.py, 10,000 counterparties with an account and a contact
  each, emulator limits on, 2 busy cores): first pull 110 requests (10 pages + 100 pages of
  details), 0 × 429, 654 s wall / 106 s CPU, about 8,100 queries per page of 1,000 (creating
  partners, contacts and accounts), memory flat; unchanged pull 10 requests, 9 queries per page;
  first push 10 bulk POSTs + the list read once, 15.3 s wall / 5.5 s CPU, 15 queries per batch;
  unchanged push no request.
"""

import json
import logging
import re
from collections import defaultdict
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression

from ..api.errors import ApiError
from ..api.moysklad_partners_data import inn_problem
from ..api.moysklad_payloads import stable_sync_id
from .bulk import bulk_write
from .chatter import post_note
from .error_messages import describe_error
from .moysklad_partner_values import (
    COUNTRY_FIELDS,
    KEPT,
    KEYS,
    from_counterparty,
    from_partners,
    is_kept,
    partner_vals,
    snapshot_of,
    to_draft,
    values_hash,
)
from .res_partner_moysklad import describe_inn_problem
from .run_lock import exclusive_run
from .sync_run import SyncRun

_logger = logging.getLogger(__name__)

WATERMARK_MARGIN = timedelta(minutes=1)
CHUNK = 1000
# Up to this many unmapped partners are looked up by filtered lists; more: the whole list.
LOOKUP_BY_FILTER_MAX = 100
CONFLICTS_SHOWN = 50
UNMATCHED_SHOWN = 10  # names listed per country not matched
OWN_CODE = re.compile(r"^odoo-partner-(\d+)$")
ODOO_REFUSALS = (ValidationError, UserError, psycopg2.IntegrityError, psycopg2.DataError)


def _lower(value):
    return (value or "").strip().lower()


def _digits(value):
    return re.sub(r"\D", "", value or "")


class PartnerContext:
    """What a run needs everywhere: the connection, its client, the run and the direction."""

    def __init__(self, env, backend, run, adapter, direction):
        self.env = env
        self.backend = backend
        self.run = run
        self.adapter = adapter
        self.client = adapter.client
        self.direction = direction
        self.base = self.client.base_url.rstrip("/")
        self.database = env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        self.conflicts = []
        self.ambiguous = 0
        self._everything = None
        self._odoo_countries = None
        # {(side, country label): [partner or counterparty names]} of countries not matched
        self.unmatched_countries = defaultdict(list)

    def all_counterparties(self):
        """Every counterparty (without details), read once per run: the lookup of many
        unmapped partners."""
        if self._everything is None:
            self._everything = [item for page in self.client.iter_counterparties()
                                for item in page.items]
        return self._everything

    def href(self, counterparty_id):
        return f"{self.base}/entity/counterparty/{counterparty_id}"

    # -- countries ------------------------------------------------------------------------------
    def odoo_countries(self):
        """{ISO alpha-2 code: (res.country id, name)}, read once per run."""
        if self._odoo_countries is None:
            self._odoo_countries = {
                row["code"].upper(): (row["id"], row["name"])
                for row in self.env["res.country"].sudo().search_read([], ["code", "name"])
                if row["code"]}
        return self._odoo_countries

    def country_ids(self):
        return {code: country[0] for code, country in self.odoo_countries().items()}

    def country_of(self, address, reference):
        """The country of a MoySklad structured address for the values: its ISO alpha-2 code
        when Odoo has that country, "" without one, else ``?<href>`` (noted as not matched)."""
        href = (address or {}).get("country_href")
        if not href:
            return ""
        country = self.client.country_book().get(href)
        code = country.alpha2 if country else ""
        if code and code in self.odoo_countries():
            return code
        label = country.label if country else href.rsplit("/", 1)[-1]
        self.unmatched_countries[("moysklad", label)].append(reference)
        return f"?{href}"

    def counterparty_values(self, item):
        return from_counterparty(item, lambda address: self.country_of(address, item.name))

    def country_href(self, code, reference):
        """The href of MoySklad's country for an ISO code; "" (noted) when its list has none."""
        href = self.client.country_book().href_for(code)
        if not href:
            name = self.odoo_countries().get(code, (0, code))[1]
            self.unmatched_countries[("odoo", f"{name} ({code})")].append(reference)
        return href

    def country_sendable(self, code):
        return bool(self.client.country_book().href_for(code))

    def meta(self, counterparty_id):
        return {"href": self.href(counterparty_id),
                "metadataHref": f"{self.base}/entity/counterparty/metadata",
                "type": "counterparty", "mediaType": "application/json"}

    def sync_id(self, partner_id):
        return stable_sync_id(self.database, "supplier.partner", self.backend.id, partner_id)


class SupplierMoySkladPartners(models.AbstractModel):
    _name = "supplier.moysklad.partners"
    _description = "MoySklad counterparties"

    # -- entry points (the callers checked the rights) ------------------------------------------
    @api.model
    def _sync_partners(self, backend, trigger="manual", partners=None):
        if trigger != "cron":
            with exclusive_run(self.env, backend, "sync_partners"):
                return self._sync(backend.sudo(), trigger, partners)
        return self._sync(backend.sudo(), trigger, partners)

    @api.model
    def _counterparty_metas(self, backend, partners):
        """{partner id: counterparty meta} (see ``supplier.backend._moysklad_counterparty_metas``)."""
        backend = backend.sudo()
        partners = partners.sudo().with_context(active_test=False)
        commercial = {partner.id: partner.commercial_partner_id for partner in partners}
        targets = self.env["res.partner"].sudo().union(*commercial.values()) if commercial \
            else self.env["res.partner"].sudo()
        adapter = backend._adapter()
        ctx = PartnerContext(self.env, backend, None, adapter, "push")
        try:
            bindings = self._bindings_of(backend, targets)
            missing = targets - bindings.filtered("external_id").partner_id
            if missing:
                self._bind(ctx, missing)
                bindings = self._bindings_of(backend, targets)
                new = bindings.filtered(
                    lambda b: not b.external_id and b.sync_state not in ("ambiguous",)
                )
                if new:
                    self._process(ctx, [(binding, None) for binding in new], creations=True)
                    bindings = self._bindings_of(backend, targets)
        finally:
            backend._save_adapter_state(adapter)
        by_partner = {b.partner_id.id: b for b in bindings if b.external_id}
        return {
            partner_id: ctx.meta(by_partner[target.id].external_id)
            for partner_id, target in commercial.items() if target.id in by_partner
        }

    # -- the run ----------------------------------------------------------------------------------
    @api.model
    def _sync(self, backend, trigger, partners=None):
        run = SyncRun(self.env, backend, "sync_partners", trigger)
        adapter = backend._adapter()
        direction = backend.moysklad_partners_direction
        ctx = PartnerContext(self.env, backend, run, adapter, direction)
        if direction == "off":
            run.note(self.env._("Partner sync is off on this connection: nothing was done."))
            return run.finish(adapter)
        labels = dict(self.env["supplier.backend"]._fields["moysklad_partners_direction"]
                      ._description_selection(self.env))
        run.note(self.env._("Direction: %(direction)s.", direction=labels.get(direction)))
        try:
            if partners is not None:
                self._sync_some(ctx, partners.commercial_partner_id)
            else:
                if direction in ("pull", "both"):
                    self._pull(ctx)
                if direction in ("push", "both"):
                    self._push(ctx)
        except ApiError as exc:
            run.stop(exc)
        self._note_conflicts(ctx)
        self._note_countries(ctx)
        return run.finish(adapter)

    @api.model
    def _pull(self, ctx):
        backend, run = ctx.backend, ctx.run
        started = fields.Datetime.now() - WATERMARK_MARGIN
        since = backend.moysklad_partners_watermark or None
        for page in ctx.client.iter_counterparties(updated_since=since):
            if page.items:
                self._pull_page(ctx, page.items)
            run.checkpoint(ctx.adapter, remaining=0)
            self.env.invalidate_all()
        backend.moysklad_partners_watermark = started
        run.note(self.env._("Counterparties: a full pass.") if since is None else self.env._(
            "Counterparties changed since %(moment)s (UTC).",
            moment=fields.Datetime.to_string(since),
        ))

    @api.model
    def _sync_some(self, ctx, partners):
        """The Sync of chosen partners: their counterparties read again, then both ways as
        the direction says."""
        bindings = self._bindings_of(ctx.backend, partners).filtered("external_id")
        items = ctx.client.counterparty_details(bindings.mapped("external_id")) if bindings else {}
        if ctx.direction in ("pull", "both"):
            pairs = [(b, items[b.external_id]) for b in bindings if b.external_id in items]
            self._process(ctx, pairs)
        if ctx.direction in ("push", "both"):
            self._push(ctx, partners)

    # -- pull ---------------------------------------------------------------------------------------
    @api.model
    def _pull_page(self, ctx, items):
        Binding = self.env["supplier.partner"].sudo()
        bindings = Binding.search([
            ("backend_id", "=", ctx.backend.id), ("external_id", "in", [i.id for i in items]),
        ])
        by_id = {b.external_id: b for b in bindings}
        pairs = [(by_id[i.id], i) for i in items if i.id in by_id]
        unbound = [i for i in items if i.id not in by_id]
        if unbound:
            pairs += self._match_counterparties(ctx, unbound)
        todo = []
        for binding, item in pairs:
            if (binding.sync_state == "ok" and item.updated
                    and binding.ms_version == item.updated.isoformat()):
                ctx.run.add(processed=1, unchanged=1)
                continue
            todo.append((binding, item))
        self._process(ctx, todo)

    @api.model
    def _match_counterparties(self, ctx, items):
        """[(binding, item)] for the counterparties of ``items`` that match one partner or
        none (then a new partner); ambiguous ones are reported and left out."""
        backend = ctx.backend
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        Binding = self.env["supplier.partner"].sudo()
        index, kpps = self._partner_index(backend, items)
        chosen, taken, new_items, ambiguous = {}, defaultdict(list), [], []
        for item in items:
            found = self._match_one(item, index, kpps)
            if found is None:
                new_items.append(item)
            elif len(found) == 1:
                chosen[item.id] = next(iter(found))
                taken[chosen[item.id]].append(item)
            else:
                ambiguous.append((item, found))
        for partner_id, its in taken.items():
            if len(its) > 1:
                for item in its:
                    chosen.pop(item.id, None)
                    ambiguous.append((item, {partner_id}))
        for item, found in ambiguous:
            self._report_ambiguous(ctx, item, Partner.browse(sorted(found)))
        pairs = []
        by_partner = {b.partner_id.id: b for b in Binding.search([
            ("backend_id", "=", backend.id), ("partner_id", "in", list(chosen.values()))])}
        creates = []
        for item in items:
            partner_id = chosen.get(item.id)
            if partner_id is None:
                continue
            binding = by_partner.get(partner_id)
            if binding:
                bulk_write(Binding, {binding.id: {"external_id": item.id}})
                pairs.append((binding, item))
            else:
                creates.append((item, partner_id))
        new_bindings = Binding.create([
            self._binding_vals(ctx, partner_id, item) for item, partner_id in creates
        ])
        pairs += list(zip(new_bindings, [item for item, _p in creates], strict=True))
        if ctx.direction in ("pull", "both") and new_items:
            pairs += self._create_partners(ctx, new_items)
        return pairs

    @api.model
    def _partner_index(self, backend, items):
        """Unmapped partners that could match ``items``, indexed by rule and value (one
        search), and their KPPs."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        Binding = self.env["supplier.partner"].sudo()
        company_domain = [("parent_id", "=", False),
                          ("company_id", "in", [backend.company_id.id, False])]
        codes = {i.external_code for i in items if i.external_code}
        own_ids = {int(m.group(1)) for code in codes if (m := OWN_CODE.match(code))}
        inns = {i.inn for i in items if i.inn}
        emails = {_lower(i.email) for i in items if i.email}
        phones = {i.phone.strip() for i in items if i.phone and i.phone.strip()}
        domain = ["|", "|", "|", "|", ("ref", "in", list(codes)), ("id", "in", list(own_ids)),
                  ("vat", "in", list(inns)), ("email", "in", list(emails | {
                      i.email.strip() for i in items if i.email})),
                  ("phone", "in", list(phones))]
        candidates = Partner.search_fetch(company_domain + domain,
                                          ["ref", "vat", "ru_kpp", "email", "phone", "name"])
        bound_partners = set(Binding.search([
            ("backend_id", "=", backend.id), ("external_id", "!=", False),
            ("partner_id", "in", candidates.ids)]).partner_id.ids)
        unsent = {row["external_code"]: row["partner_id"][0] for row in Binding.search_read([
            ("backend_id", "=", backend.id), ("external_id", "=", False),
            ("external_code", "in", list(codes))], ["partner_id", "external_code"])}
        index = defaultdict(lambda: defaultdict(set))
        for partner in candidates:
            if partner.id in bound_partners:
                continue
            if partner.ref:
                index["code"][partner.ref].add(partner.id)
            index["code"][f"odoo-partner-{partner.id}"].add(partner.id)
            if partner.vat:
                index["inn"][partner.vat.strip()].add(partner.id)
            if partner.email:
                index["email"][_lower(partner.email)].add(partner.id)
            if partner.phone:
                index["phone"][partner.phone.strip()].add(partner.id)
        for code, partner_id in unsent.items():
            index["code"][code] = {partner_id}
        kpps = {p.id: (p.ru_kpp or "").strip() for p in candidates}
        return index, kpps

    @staticmethod
    def _match_one(item, index, kpps):
        """Partner ids matching ``item`` at the first rule that finds any, or None."""
        if item.external_code and index["code"].get(item.external_code):
            return index["code"][item.external_code]
        if item.inn and index["inn"].get(item.inn.strip()):
            found = index["inn"][item.inn.strip()]
            kpp = (item.kpp or "").strip()
            if kpp:
                same = {pid for pid in found if kpps.get(pid) == kpp}
                found = same or {pid for pid in found if not kpps.get(pid)}
            if found:
                return found
        if item.email and index["email"].get(_lower(item.email)):
            return index["email"][_lower(item.email)]
        if item.phone and index["phone"].get(item.phone.strip()):
            return index["phone"][item.phone.strip()]
        return None

    @api.model
    def _binding_vals(self, ctx, partner_id, item=None, partner=None):
        vals = {"backend_id": ctx.backend.id, "partner_id": partner_id,
                "sync_id": ctx.sync_id(partner_id)}
        if item is not None:
            vals.update(external_id=item.id, external_code=item.external_code or False,
                        external_name=item.name or False)
        elif partner is not None:
            vals["external_code"] = (partner.ref or "").strip() or f"odoo-partner-{partner_id}"
        return vals

    @api.model
    def _report_ambiguous(self, ctx, item, partners):
        names = ", ".join(partners.mapped("display_name"))
        message = self.env._(
            "The MoySklad counterparty %(counterparty)s matches several partners (%(partners)s) "
            "or shares its partner with another counterparty: it was not merged. Map it by hand "
            "(counterparty mappings) or make the INN, e-mail or phone unique.",
            counterparty=item.name or item.id, partners=names,
        )
        ctx.ambiguous += 1
        if ctx.run is not None:
            ctx.run.add(processed=1, failed=1)
            ctx.run.item_failed("ambiguous", message, reference=item.name or item.id)
        for partner in partners:
            post_note(partner, message)

    @api.model
    def _create_partners(self, ctx, items):
        """New partners (with their bindings) for counterparties that matched nothing."""
        if any(i.accounts_count and not i.accounts or i.contacts_count and not i.contacts
               for i in items):
            details = ctx.client.counterparty_details(
                [i.id for i in items if i.accounts_count or i.contacts_count])
            items = [details.get(i.id, i) for i in items]
        values = [ctx.counterparty_values(item) for item in items]
        categories = self._categories({tag for v in values for tag in v["tags"]})
        country_ids = ctx.country_ids()
        Partner = self.env["res.partner"].sudo().with_context(tracking_disable=True)
        plain_keys = [k for k in KEYS if k not in ("accounts", "contacts")]
        now = self.env.cr.now()

        def create(indexes):
            partners = Partner.create([partner_vals(values[i], plain_keys, categories,
                                                    country_ids) for i in indexes])
            self._write_collections(partners, [values[i] for i in indexes])
            self.env["supplier.partner"].sudo().create([
                dict(self._binding_vals(ctx, partner.id, items[i]), sync_state="ok",
                     last_sync=now, ms_updated=_moment(items[i].updated),
                     snapshot=snapshot_of(values[i]),
                     ms_version=items[i].updated.isoformat() if items[i].updated else False)
                for partner, i in zip(partners, indexes, strict=True)
            ])

        failed = self._isolated(list(range(len(items))), create, lambda i: create([i]))
        for index, reason in failed.items():
            item = items[index]
            message = self.env._("The counterparty %(counterparty)s was not created in Odoo: "
                                 "%(reason)s", counterparty=item.name or item.id, reason=reason)
            ctx.run.add(processed=1, failed=1)
            ctx.run.item_failed("odoo_refused", message, reference=item.name or item.id)
        ctx.run.add(processed=len(items) - len(failed), created=len(items) - len(failed))
        return []

    @api.model
    def _isolated(self, keys, bulk, one):
        """``bulk(keys)`` in a savepoint; when Odoo refuses it, ``one(key)`` for each key in a
        savepoint of its own, so that one bad item never stops the others. {key: reason} of
        the keys refused."""
        if not keys:
            return {}
        try:
            with self.env.cr.savepoint():
                bulk(keys)
            return {}
        except ODOO_REFUSALS:
            _logger.info("A bulk write of %s items was refused: item by item", len(keys))
        failed = {}
        for key in keys:
            try:
                with self.env.cr.savepoint():
                    one(key)
            except ODOO_REFUSALS as exc:
                failed[key] = self._refusal(exc)
        return failed

    def _refusal(self, exc):
        if isinstance(exc, (ValidationError, UserError)):
            return exc.args[0] if exc.args else str(exc)
        # Not the database's text: it can quote the row.
        return self.env._("the database refused the values (%(constraint)s).",
                          constraint=getattr(exc.diag, "constraint_name", None) or exc.pgcode)

    # -- push ---------------------------------------------------------------------------------------
    @api.model
    def _push_candidates(self, backend, partners=None):
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        bound = self.env["supplier.partner"].sudo().search(
            [("backend_id", "=", backend.id), ("external_id", "!=", False)]).partner_id
        if partners is not None:
            return partners - bound
        own = self.env["res.company"].sudo().search([("partner_id", "!=", False)]).partner_id
        return Partner.search([
            ("parent_id", "=", False), ("active", "=", True),
            ("company_id", "in", [backend.company_id.id, False]),
            "|", ("customer_rank", ">", 0), ("supplier_rank", ">", 0),
            ("id", "not in", (bound | own | backend.partner_id).ids),
        ], order="id")

    @api.model
    def _dirty_bindings(self, backend, partners=None):
        """Mapped partners changed since their last sync (or never synced, or in error)."""
        self.env["res.partner"].flush_model()
        self.env["res.partner.bank"].flush_model()
        self.env["supplier.partner"].flush_model()
        self.env.cr.execute("""
            SELECT b.id FROM supplier_partner b JOIN res_partner p ON p.id = b.partner_id
             WHERE b.backend_id = %s AND b.external_id IS NOT NULL
               AND (b.last_sync IS NULL OR b.sync_state != 'ok' OR p.write_date >= b.last_sync
                    OR EXISTS (SELECT 1 FROM res_partner c WHERE c.parent_id = p.id
                               AND c.write_date >= b.last_sync)
                    OR EXISTS (SELECT 1 FROM res_partner_bank k WHERE k.partner_id = p.id
                               AND k.write_date >= b.last_sync))
             ORDER BY b.id""", [backend.id])
        ids = [row[0] for row in self.env.cr.fetchall()]
        bindings = self.env["supplier.partner"].sudo().browse(ids)
        if partners is not None:
            bindings = bindings.filtered(lambda b: b.partner_id in partners)
        return bindings

    @api.model
    def _push(self, ctx, partners=None):
        Binding = self.env["supplier.partner"].sudo()
        candidates = self._push_candidates(ctx.backend, partners)
        for chunk in _chunks(candidates, CHUNK):
            self._bind(ctx, chunk)
        new = Binding.search([("backend_id", "=", ctx.backend.id), ("external_id", "=", False),
                              ("sync_state", "!=", "ambiguous")]
                             + ([("partner_id", "in", partners.ids)] if partners is not None
                                else []))  # fmt: skip
        for chunk in _chunks(new, CHUNK):
            self._process(ctx, [(binding, None) for binding in chunk], creations=True)
            ctx.run.checkpoint(ctx.adapter, remaining=0)
        dirty = self._dirty_bindings(ctx.backend, partners)
        for chunk in _chunks(dirty, CHUNK):
            self._process(ctx, [(binding, None) for binding in chunk])
            ctx.run.checkpoint(ctx.adapter, remaining=0)
            self.env.invalidate_all()

    @api.model
    def _bind(self, ctx, partners):
        """Map unmapped ``partners`` to the counterparties they match at MoySklad; those that
        match none get a mapping without id (created by the next step); ambiguous ones a
        mapping in the ambiguous state."""
        Binding = self.env["supplier.partner"].sudo()
        existing = {b.partner_id.id: b for b in self._bindings_of(ctx.backend, partners)}
        partners = partners.filtered(lambda p: not existing.get(p.id)
                                     or not existing[p.id].external_id)  # fmt: skip
        if not partners:
            return
        codes = {p.id: (existing[p.id].external_code if p.id in existing else "")
                 or (p.ref or "").strip() or f"odoo-partner-{p.id}" for p in partners}
        found = self._lookup(ctx, partners, codes)
        taken = set(Binding.search([("backend_id", "=", ctx.backend.id),
                                    ("external_id", "!=", False)]).mapped("external_id"))
        creates, pairs = [], []
        for partner in partners:
            matches = [item for item in found.get(partner.id, []) if item.id not in taken]
            binding = existing.get(partner.id)
            if len(matches) > 1 or (found.get(partner.id) and not matches):
                names = ", ".join(item.name or item.id for item in found[partner.id])
                message = self.env._(
                    "Several MoySklad counterparties match this partner, or the one it matches "
                    "is mapped to another partner (%(counterparties)s): it was not merged. Map "
                    "it by hand on its MoySklad tab.", counterparties=names)
                vals = {"sync_state": "ambiguous", "sync_message": message}
                if binding:
                    binding.write(vals)
                else:
                    creates.append(dict(self._binding_vals(ctx, partner.id, partner=partner),
                                        **vals))
                if not binding or binding.sync_message != message:
                    post_note(partner, message)
                ctx.ambiguous += 1
                if ctx.run is not None:
                    ctx.run.add(processed=1, failed=1)
                    ctx.run.item_failed("ambiguous", message, reference=partner.display_name)
                continue
            if matches:
                item = matches[0]
                taken.add(item.id)
                if binding:
                    binding.write({"external_id": item.id, "external_name": item.name,
                                   "sync_state": "new", "sync_message": False})
                    pairs.append((binding, item))
                else:
                    creates.append(self._binding_vals(ctx, partner.id, item))
                    pairs.append((partner.id, item))
            elif binding:
                if binding.sync_state == "ambiguous":
                    binding.write({"sync_state": "new", "sync_message": False})
            else:
                creates.append(self._binding_vals(ctx, partner.id, partner=partner))
        new = {b.partner_id.id: b for b in Binding.create(creates)}
        pairs = [(new[b] if isinstance(b, int) else b, item) for b, item in pairs]
        if pairs and ctx.run is not None:
            self._process(ctx, pairs)

    @api.model
    def _lookup(self, ctx, partners, codes):
        """{partner id: [MsCounterparty]} by the first rule that finds any (external code,
        INN + KPP, e-mail, phone)."""
        rules = [
            ("externalCode", lambda p: codes[p.id], lambda i: i.external_code),
            ("inn", lambda p: (p.vat or "").strip(), lambda i: i.inn),
            ("email", lambda p: (p.email or "").strip(), lambda i: i.email),
            ("phone", lambda p: (p.phone or "").strip(), lambda i: i.phone),
        ]
        if len(partners) > LOOKUP_BY_FILTER_MAX:
            everything = ctx.all_counterparties()
        result, left = {}, partners
        for field, ours, theirs in rules:
            wanted = {p.id: ours(p) for p in left if ours(p)}
            if not wanted:
                continue
            if len(partners) > LOOKUP_BY_FILTER_MAX:
                values = set(wanted.values())
                rows = [i for i in everything if theirs(i) in values
                        or (field == "email" and _lower(theirs(i)) in {_lower(v) for v in values})]
            else:
                rows = list(ctx.client.find_counterparties(field, wanted.values()))
            by_value = defaultdict(list)
            for item in rows:
                key = _lower(theirs(item)) if field == "email" else (theirs(item) or "").strip()
                by_value[key].append(item)
            for partner in left:
                value = wanted.get(partner.id)
                if not value:
                    continue
                items = by_value.get(_lower(value) if field == "email" else value, [])
                if field == "inn" and items:
                    kpp = (partner.ru_kpp or "").strip()
                    same = [i for i in items if kpp and i.kpp == kpp]
                    items = same or [i for i in items if not kpp or not i.kpp]
                if items:
                    result[partner.id] = items
            left = left.filtered(lambda p: p.id not in result)
        return result

    # -- both ways, per pair ------------------------------------------------------------------------
    @api.model
    def _process(self, ctx, pairs, creations=False):
        """Reconcile ``pairs`` [(binding, MsCounterparty or None)]: write Odoo, send MoySklad
        (creations when the binding has no id), update the bindings."""
        if not pairs:
            return
        need = [item.id for _b, item in pairs if item is not None
                and (item.accounts_count and not item.accounts
                     or item.contacts_count and not item.contacts)]
        details = ctx.client.counterparty_details(need) if need else {}
        pairs = [(b, details.get(item.id, item) if item is not None else None) for b, item in pairs]
        bindings = self.env["supplier.partner"].sudo().union(*[b for b, _i in pairs])
        odoo = from_partners(self.env, bindings.partner_id)
        now = self.env.cr.now()
        partner_writes, odoo_targets, drafts, done, outcome = {}, {}, [], {}, {}
        for binding, item in pairs:
            od = odoo[binding.partner_id.id]
            snap = binding.snapshot or {}
            ms = ctx.counterparty_values(item) if item is not None else None
            target = self._merge(ctx, binding, od, ms, snap, item)
            odoo_keys = [k for k in KEYS if target[k] != od[k] and not is_kept(target[k])]
            if odoo_keys:
                partner_writes[binding.partner_id.id] = (target, odoo_keys)
            known = ms if ms is not None else snap
            ms_keys = [k for k in KEYS if not binding.external_id
                       or self._ms_differs(ctx, k, target[k], known)]
            vals = {"last_sync": now, "sync_message": False}
            if item is not None:
                vals.update(ms_updated=_moment(item.updated), external_name=item.name or False,
                            ms_version=item.updated.isoformat() if item.updated else False)
            sending = ms_keys and (ctx.direction in ("push", "both") or creations)
            problem = inn_problem(target["inn"], target["company_type"]) if sending else None
            if problem:
                message = describe_inn_problem(self.env, problem, target["inn"])
                if binding.sync_message != message:
                    post_note(binding.partner_id, message)
                done[binding.id] = {"sync_state": "error", "sync_message": message,
                                    "last_sync": now}
                if ctx.run is not None:
                    ctx.run.add(processed=1, failed=1)
                    ctx.run.item_failed("inn", message, reference=binding.partner_id.display_name)
                continue
            if sending:
                name = binding.partner_id.display_name
                drafts.append(to_draft(
                    target, href=ctx.href(binding.external_id) if binding.external_id else "",
                    sync_id=binding.sync_id or ctx.sync_id(binding.partner_id.id),
                    external_code=None if binding.external_id else binding.external_code,
                    collections=not binding.external_id
                    or "accounts" in ms_keys or "contacts" in ms_keys,
                    key=binding.id,
                    country_href=lambda code, name=name: ctx.country_href(code, name),
                ))
                odoo_targets[binding.id] = (target, snapshot_of(target, od))
                if not binding.sync_id:
                    vals["sync_id"] = ctx.sync_id(binding.partner_id.id)
                done[binding.id] = vals
            else:
                done[binding.id] = dict(vals, sync_state="ok", snapshot=snapshot_of(target, od))
                outcome[binding.id] = "updated" if odoo_keys else "unchanged"
        refused = self._write_partners(partner_writes, ctx.country_ids)
        if refused:
            drafts = self._refused(ctx, pairs, refused, drafts, done, outcome)
        if ctx.run is not None:
            for what in outcome.values():
                ctx.run.add(processed=1, **{what: 1})
        Binding = self.env["supplier.partner"].sudo()
        # The syncIds are on the mappings before the request leaves.
        self._write_bindings(Binding, done)
        if drafts:
            self._send(ctx, drafts, odoo_targets, now)

    @api.model
    def _refused(self, ctx, pairs, refused, drafts, done, outcome):
        """Mappings of the partners Odoo refused to write: in error, not sent; the drafts left."""
        keys = set()
        for binding, _item in pairs:
            reason = refused.get(binding.partner_id.id)
            if reason is None:
                continue
            keys.add(binding.id)
            message = self.env._("Odoo refused the counterparty's values: %(reason)s",
                                 reason=reason)
            done[binding.id] = {"sync_state": "error", "sync_message": message[:250]}
            outcome[binding.id] = "failed"
            if ctx.run is not None:
                ctx.run.item_failed("odoo_refused", message,
                                    reference=binding.partner_id.display_name)
        return [draft for draft in drafts if draft.key not in keys]

    @api.model
    def _merge(self, ctx, binding, od, ms, snap, item):
        """Values both sides should have, field by field, by the direction."""
        if ms is None:  # the counterparty was not read: Odoo's side is what changed
            target = dict(od)
            for key in COUNTRY_FIELDS:  # a country MoySklad keeps and Odoo did not change
                if snap.get(KEPT + key) and od[key] == snap.get(key):
                    target[key] = snap[KEPT + key]
            return target
        target = {}
        ms_newer = None
        for key in KEYS:
            theirs, ours = ms[key], od[key]
            if theirs is None:  # not read: as last agreed, else ours
                theirs = snap.get(key, ours)
            if key in COUNTRY_FIELDS and not theirs:  # MoySklad has none: Odoo's is kept
                theirs = ours
            if ours is None:  # not synced for this partner (a foreign Tax ID)
                target[key] = None
                continue
            if ctx.direction == "pull":
                target[key] = theirs
            elif ctx.direction == "push":
                target[key] = ours
            elif theirs == ours:
                target[key] = ours
            elif key in snap and theirs == snap[key]:
                target[key] = ours
            elif key in snap and ours == snap[key]:
                target[key] = theirs
            else:
                if ms_newer is None:
                    written = binding.partner_id.write_date
                    ms_newer = bool(item.updated and (not written or item.updated >= written))
                target[key] = theirs if ms_newer else ours
                ctx.conflicts.append((binding.partner_id.display_name, key, ms_newer))
        return target

    @api.model
    def _ms_differs(self, ctx, key, value, known):
        """Whether MoySklad must be sent ``value`` for ``key`` (``known``: its values, or the
        snapshot). A country MoySklad's list has not counts as none: it cannot be sent."""
        if key not in COUNTRY_FIELDS:
            return value is not None and value != known.get(key)
        theirs = known.get(KEPT + key) or known.get(key) or ""
        if value == theirs:
            return False
        if value and not is_kept(value) and not ctx.country_sendable(value):
            return bool(theirs)
        return True

    @api.model
    def _write_bindings(self, Binding, done):
        rows = {}
        for binding_id, vals in done.items():
            vals = dict(vals)
            if "snapshot" in vals:
                vals["snapshot"] = json.dumps(vals["snapshot"], ensure_ascii=False)
            rows[binding_id] = vals
        bulk_write(Binding, rows)

    @api.model
    def _send(self, ctx, drafts, targets, now):
        Binding = self.env["supplier.partner"].sudo()
        for results in ctx.client.push_counterparties(drafts):
            done = {}
            for result in results:
                binding = Binding.browse(result.key)
                if result.ok:
                    target, snapshot = targets[binding.id]
                    done[binding.id] = {
                        "external_id": result.id, "sync_state": "ok", "sync_message": False,
                        "last_push": now, "last_sync": now, "push_hash": values_hash(target),
                        "snapshot": snapshot,
                        "ms_updated": _moment(result.item.updated) if result.item else False,
                        "ms_version": result.item.updated.isoformat()
                        if result.item and result.item.updated else False,
                        "external_name": target["name"],
                    }
                    if ctx.run is not None:
                        ctx.run.add(processed=1, **{"created" if result.created else "updated": 1})
                else:
                    message = describe_error(self.env, result.error)
                    done[binding.id] = {"sync_state": "error", "sync_message": message[:250]}
                    if ctx.run is not None:
                        ctx.run.add(processed=1, failed=1)
                        ctx.run.item_failed(result.error.code, message,
                                            reference=binding.partner_id.display_name)
            self._write_bindings(Binding, done)

    # -- Odoo writes ----------------------------------------------------------------------------
    @api.model
    def _categories(self, names):
        """{lowered name: category id}, missing categories created (one search, one create)."""
        Category = self.env["res.partner.category"].sudo()
        names = {name for name in names if name}
        found = {}
        if names:
            # =ilike is a case-insensitive equality (its wildcards are re-checked below).
            domain = expression.OR([[("name", "=ilike", name)] for name in names])
            for category in Category.search(domain):
                if _lower(category.name) in names:
                    found.setdefault(_lower(category.name), category.id)
        missing = sorted(names - set(found))
        for category in Category.create([{"name": name} for name in missing]):
            found[_lower(category.name)] = category.id
        return found

    @api.model
    def _write_partners(self, writes, country_ids):
        """``writes``: {partner id: (values, keys)}; {partner id: reason} of those refused.
        ``country_ids()``: {ISO code: res.country id}, asked only when a country is written."""
        if not writes:
            return {}
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        categories = self._categories({
            tag for values, keys in writes.values() if "tags" in keys for tag in values["tags"]})
        country_ids = country_ids() if any(
            key in COUNTRY_FIELDS for _values, keys in writes.values() for key in keys) else {}

        def write(partner_ids):
            for partner_id in partner_ids:
                values, keys = writes[partner_id]
                vals = partner_vals(values, keys, categories, country_ids)
                if vals:
                    Partner.browse(partner_id).write(vals)
            collections = [pid for pid in partner_ids
                           if "accounts" in writes[pid][1] or "contacts" in writes[pid][1]]
            if collections:
                self._write_collections(Partner.browse(collections),
                                        [writes[pid][0] for pid in collections])

        return self._isolated(list(writes), write, lambda pid: write([pid]))

    @api.model
    def _write_collections(self, partners, targets):
        """Bank accounts and child contacts of ``partners`` as ``targets`` say (None: leave)."""
        self._write_accounts({p.id: t["accounts"] for p, t in zip(partners, targets, strict=True)
                              if t["accounts"] is not None})
        self._write_contacts({p.id: t["contacts"] for p, t in zip(partners, targets, strict=True)
                              if t["contacts"] is not None})

    @api.model
    def _write_accounts(self, wanted):
        if not wanted:
            return
        Bank = self.env["res.bank"].sudo()
        Account = self.env["res.partner.bank"].sudo().with_context(active_test=False)
        bics = {row[2] for rows in wanted.values() for row in rows if row[2]}
        banks = {b.bic: b for b in Bank.search([("bic", "in", list(bics))])} if bics else {}
        new_banks = {}
        for rows in wanted.values():
            for _number, name, bic, corr in rows:
                if bic and bic not in banks and bic not in new_banks:
                    new_banks[bic] = {"name": name or bic, "bic": bic,
                                      "ru_correspondent_account": corr or False}
        for bank in Bank.create(list(new_banks.values())):
            banks[bank.bic] = bank
        existing = defaultdict(dict)
        for account in Account.search([("partner_id", "in", list(wanted))]):
            existing[account.partner_id.id][(account.acc_number or "").strip()] = account
        creates, archive = [], Account
        for partner_id, rows in wanted.items():
            keep = set()
            for number, name, bic, corr in rows:
                bank = banks.get(bic)
                if bank and (corr and bank.ru_correspondent_account != corr
                             or name and bank.name != name):
                    bank.write({"ru_correspondent_account": corr or bank.ru_correspondent_account,
                                "name": name or bank.name})
                account = existing[partner_id].get(number)
                keep.add(number)
                if account:
                    vals = {}
                    if not account.active:
                        vals["active"] = True
                    if bank and account.bank_id != bank:
                        vals["bank_id"] = bank.id
                    if vals:
                        account.write(vals)
                else:
                    creates.append({"partner_id": partner_id, "acc_number": number,
                                    "bank_id": bank.id if bank else False})
            archive |= Account.union(*[a for n, a in existing[partner_id].items()
                                       if n not in keep and a.active])
        Account.create(creates)
        archive.write({"active": False})

    @api.model
    def _write_contacts(self, wanted):
        if not wanted:
            return
        Partner = self.env["res.partner"].sudo().with_context(active_test=False,
                                                              tracking_disable=True)
        existing = defaultdict(list)
        for child in Partner.search([("parent_id", "in", list(wanted)), ("type", "=", "contact"),
                                     ("is_company", "=", False)]):
            existing[child.parent_id.id].append(child)
        creates, archive = [], Partner
        for partner_id, rows in wanted.items():
            children = list(existing[partner_id])
            for name, position, phone, email, code in rows:
                match = next((c for c in children if code and c.ref == code), None) or next(
                    (c for c in children if c.name == name and not (code and c.ref)), None)
                vals = {"name": name, "function": position or False, "phone": phone or False,
                        "email": email or False, "ref": code or False}
                if match:
                    children.remove(match)
                    changed = {k: v for k, v in vals.items() if (match[k] or False) != v}
                    if not match.active:
                        changed["active"] = True
                    if changed:
                        match.write(changed)
                else:
                    creates.append(dict(vals, parent_id=partner_id, type="contact"))
            archive |= Partner.union(*[c for c in children if c.active])
        Partner.create(creates)
        archive.write({"active": False})

    # -- helpers --------------------------------------------------------------------------------
    @api.model
    def _bindings_of(self, backend, partners):
        return self.env["supplier.partner"].sudo().search([
            ("backend_id", "=", backend.id), ("partner_id", "in", partners.ids)])

    @api.model
    def _note_conflicts(self, ctx):
        if not ctx.conflicts or ctx.run is None:
            return
        labels = {True: self.env._("MoySklad changed it later"),
                  False: self.env._("Odoo changed it later")}
        lines = [self.env._("%(partner)s, %(field)s: %(winner)s, its value was kept.",
                            partner=partner, field=key, winner=labels[ms_newer])
                 for partner, key, ms_newer in ctx.conflicts[:CONFLICTS_SHOWN]]
        ctx.run.note(self.env._(
            "Changed on both sides since the last sync (%(count)s fields); the side changed "
            "most recently won:", count=len(ctx.conflicts)) + "\n" + "\n".join(lines))


    @api.model
    def _note_countries(self, ctx):
        if not ctx.unmatched_countries or ctx.run is None:
            return
        lines = []
        for (side, label), names in sorted(ctx.unmatched_countries.items()):
            names = sorted(set(names))
            shown = ", ".join(names[:UNMATCHED_SHOWN])
            if len(names) > UNMATCHED_SHOWN:
                shown += self.env._(" and %(count)s more", count=len(names) - UNMATCHED_SHOWN)
            if side == "moysklad":
                lines.append(self.env._(
                    "MoySklad's country %(country)s matches no Odoo country (kept at MoySklad, "
                    "not set in Odoo): %(names)s", country=label, names=shown))
            else:
                lines.append(self.env._(
                    "Odoo's country %(country)s is not in MoySklad's country list (the address "
                    "was sent without it): %(names)s", country=label, names=shown))
        ctx.run.note(self.env._("Countries not matched; the partners were synced without "
                                "them:") + "\n" + "\n".join(lines))


def _moment(value):
    return value.replace(microsecond=0) if value else False


def _chunks(records, size):
    for start in range(0, len(records), size):
        yield records[start:start + size]
