"""Counterparties ↔ partners through the MoySklad emulator (MoySklad part 2)."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.supplier_connector.api.errors import ApiError
from odoo.addons.supplier_connector.emulators.moysklad_demo import fixed_id

from .moysklad_common import MoySkladCase
from .rights_common import RightsUsers

SUPPLIER_ID = fixed_id("counterparty-supplier")
CUSTOMER_ID = fixed_id("counterparty-customer")
# Valid INNs (check digits right): a legal entity's 10 digits, a person's 12.
LEGAL_INN = "7707083893"
PERSON_INN = "500100732259"


class PartnersCase(RightsUsers, MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.Partner = cls.env["res.partner"]

    def sync(self, direction=None):
        if direction:
            self.backend.moysklad_partners_direction = direction
        self.backend.action_sync_partners()
        return self.last_log("sync_partners")

    def counterparty_posts(self):
        return [r for r in self.emulator.requests
                if r.method == "POST" and r.path.endswith("/entity/counterparty")]

    def ms(self, counterparty_id):
        with self.emulator.lock:
            return dict(self.emulator.db["counterparty"][counterparty_id])

    def ms_by_name(self, name):
        with self.emulator.lock:
            return [dict(r) for r in self.emulator.db["counterparty"].values()
                    if r.get("name") == name]

    def update_counterparty(self, counterparty_id, body):
        with self.emulator.lock:
            self.emulator.update("counterparty", counterparty_id, body)

    def binding_of(self, partner):
        return self.env["supplier.partner"].search([
            ("backend_id", "=", self.backend.id), ("partner_id", "=", partner.id)])


@tagged("post_install", "-at_install")
class TestMoySkladPartnerMetas(PartnersCase):
    def test_metas_bound_matched_and_created_once(self):
        bound = self.Partner.create({"name": "Bound Ltd", "is_company": True})
        self.env["supplier.partner"].create({
            "backend_id": self.backend.id, "partner_id": bound.id,
            "external_id": CUSTOMER_ID, "external_code": "cp-customer"})
        contact = self.Partner.create({"name": "Someone at Bound", "parent_id": bound.id})
        metas = self.backend._moysklad_counterparty_metas(contact | bound)
        self.assertFalse(self.emulator.requests, "a mapped partner costs no request")
        self.assertEqual(metas[contact.id]["href"].rsplit("/", 1)[-1], CUSTOMER_ID)
        self.assertEqual(metas[bound.id]["type"], "counterparty")
        # Matched by INN + KPP: mapped to the existing counterparty, nothing created.
        matched = self.Partner.create({"name": "Поставщик (Odoo)", "is_company": True,
                                       "vat": "7736207543", "ru_kpp": "773601001"})
        new = self.Partner.create({"name": "Brand new LLC", "is_company": True,
                                   "vat": LEGAL_INN, "email": "new@example.com"})
        metas = self.backend._moysklad_counterparty_metas(matched | new)
        self.assertEqual(metas[matched.id]["href"].rsplit("/", 1)[-1], SUPPLIER_ID)
        posts = self.counterparty_posts()
        self.assertEqual(len(posts), 1, "the unmatched partner is created in one bulk POST")
        body = json.loads(posts[0].body)
        self.assertEqual([item["name"] for item in body], ["Brand new LLC"])
        self.assertTrue(body[0]["syncId"])
        self.assertEqual(body[0]["inn"], LEGAL_INN)
        binding = self.binding_of(new)
        self.assertEqual(binding.sync_id, body[0]["syncId"])
        self.assertEqual(metas[new.id]["href"].rsplit("/", 1)[-1], binding.external_id)
        self.assertEqual(self.ms(binding.external_id)["name"], "Brand new LLC")
        # Asked again: all mapped, no request.
        before = len(self.emulator.requests)
        again = self.backend._moysklad_counterparty_metas(matched | new)
        self.assertEqual(again, {k: metas[k] for k in again})
        self.assertEqual(len(self.emulator.requests), before)

    def test_metas_lost_answer_never_creates_twice(self):
        partner = self.Partner.create({"name": "Lost Answer LLC", "is_company": True})
        self.emulator.set_fault("malformed_json", count=1, match="syncId")
        with self.assertRaises(ApiError):
            with self.env.cr.savepoint():
                self.backend._moysklad_counterparty_metas(partner)
        self.assertEqual(len(self.ms_by_name("Lost Answer LLC")), 1, "created, answer lost")
        # The mapping was rolled back with the caller's transaction: the syncId is derived from
        # the partner and the connection, so the second send is the same counterparty.
        metas = self.backend._moysklad_counterparty_metas(partner)
        found = self.ms_by_name("Lost Answer LLC")
        self.assertEqual(len(found), 1)
        self.assertEqual(metas[partner.id]["href"].rsplit("/", 1)[-1], found[0]["id"])

    def test_metas_ambiguous_partner_is_left_out(self):
        self.update_counterparty(CUSTOMER_ID, {"email": "twins@example.com"})
        self.update_counterparty(SUPPLIER_ID, {"email": "twins@example.com"})
        partner = self.Partner.create({"name": "Twins", "email": "twins@example.com"})
        metas = self.backend._moysklad_counterparty_metas(partner)
        self.assertNotIn(partner.id, metas)
        binding = self.binding_of(partner)
        self.assertEqual(binding.sync_state, "ambiguous")
        self.assertIn("ООО «Поставщик»", binding.sync_message)
        self.assertFalse(self.counterparty_posts(), "nothing created for an ambiguous partner")
        self.assertIn("not merged", partner.message_ids[:1].body)
