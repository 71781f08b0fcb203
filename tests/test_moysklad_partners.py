"""Counterparties ↔ partners through the MoySklad emulator (MoySklad part 2)."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.supplier_connector.api.errors import ApiError
from odoo.addons.supplier_connector.emulators.moysklad_demo import country_id, fixed_id

from .moysklad_common import MoySkladCase
from .rights_common import JsonRpc, RightsUsers

SUPPLIER_ID = fixed_id("counterparty-supplier")
CUSTOMER_ID = fixed_id("counterparty-customer")
# Valid INNs (check digits right): a legal entity's 10 digits, a person's 12.
LEGAL_INN = "7707083893"
PERSON_INN = "500100732259"  # the demo customer's
OTHER_PERSON_INN = "770123456703"


class PartnersCase(RightsUsers, MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.Partner = cls.env["res.partner"]
        # The demo's customers and vendors would be pushed too: only the tests' own are.
        cls.Partner.search(["|", ("customer_rank", ">", 0), ("supplier_rank", ">", 0)]).write(
            {"customer_rank": 0, "supplier_rank": 0})

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


@tagged("post_install", "-at_install")
class TestMoySkladPartnerPull(PartnersCase):
    def test_pull_matches_before_creating_and_fills_everything(self):
        by_inn = self.Partner.create({"name": "Поставщик в Odoo", "is_company": True,
                                      "vat": "7736207543", "ru_kpp": "773601001"})
        by_email = self.Partner.create({"name": "Смирнова", "email": "smirnova@example.ru"})
        with self.emulator.lock:
            created, _new = self.emulator.create("counterparty", {
                "name": "ООО «Новый»", "companyType": "legal", "inn": LEGAL_INN,
                "externalCode": "cp-new", "archived": True,
                "actualAddressFull": {"postalCode": "101000", "city": "Москва",
                                      "street": "ул. Мясницкая", "house": "1",
                                      "apartment": "5"}})
        partners_before = self.Partner.with_context(active_test=False).search_count([])
        log = self.sync("pull")
        self.assertEqual(log.state, "done", log.message)
        self.assertIn("MoySklad is the master", log.message)
        self.assertEqual(log.created, 1, "only the unmatched counterparty became a partner")
        self.assertEqual(
            self.Partner.with_context(active_test=False).search_count([]) - partners_before,
            1 + 1 + 0,  # the new partner and the supplier's contact person
        )
        self.assertEqual(self.binding_of(by_inn).external_id, SUPPLIER_ID)
        self.assertEqual(self.binding_of(by_email).external_id, CUSTOMER_ID)
        # Requisites and the rest, by company type.
        self.assertEqual(by_inn.name, "ООО «Поставщик»")
        self.assertEqual(by_inn._ru_company_type(), "legal")
        self.assertTrue(by_inn.is_company)
        self.assertEqual(by_inn.ru_legal_title,
                         "Общество с ограниченной ответственностью «Поставщик»")
        self.assertEqual(by_inn.company_registry, "1027700229193")
        self.assertEqual(by_inn.phone, "+74951234567")
        self.assertEqual(by_inn.ru_legal_street, "117997, Москва, ул. Вавилова, д. 19")
        self.assertEqual(by_inn.category_id.mapped("name"), ["поставщики"])
        self.assertEqual(by_email.ru_company_type, "entrepreneur")
        self.assertTrue(by_email.is_company, "an entrepreneur is a company in Odoo")
        self.assertEqual(by_email.vat, PERSON_INN)
        self.assertEqual(by_email.company_registry, "304500116000157", "the OGRNIP")
        self.assertFalse(by_email.ru_kpp)
        # Bank account with its bank (BIC, correspondent account) and the contact person.
        account = by_inn.bank_ids
        self.assertEqual(account.acc_number, "40702810500000000002")
        self.assertEqual(account.bank_id.bic, "044525593")
        self.assertEqual(account.bank_id.name, "АО «Альфа-Банк»")
        self.assertEqual(account.bank_id.ru_correspondent_account, "30101810200000000593")
        contact = by_inn.child_ids
        self.assertEqual(contact.name, "Иванов Пётр Сергеевич")
        self.assertEqual(contact.function, "Менеджер")
        self.assertEqual(contact.email, "ivanov@postavshik.example")
        self.assertEqual(contact.ref, "cp-1-1")
        # The new partner: archived, its structured address on Odoo's address fields.
        new = self.env["supplier.partner"].search([("external_id", "=", created["id"])]).partner_id
        self.assertFalse(new.active)
        self.assertEqual((new.street, new.street2, new.city, new.zip),
                         ("ул. Мясницкая, 1", "5", "Москва", "101000"))
        # Pulled only: nothing was sent.
        self.assertFalse(self.counterparty_posts())
        # Details were read in one page of 100 for the two with accounts or contacts.
        details = [r for r in self.requests("/entity/counterparty") if "expand" in (r.query or "")]
        self.assertEqual(len(details), 1)

    def test_delta_by_watermark(self):
        log = self.sync("pull")
        self.assertIn("full pass", log.message)
        self.assertTrue(self.backend.moysklad_partners_watermark)
        self.advance_clock()
        self.update_counterparty(CUSTOMER_ID, {"phone": "+70000000001"})
        before = len(self.emulator.requests)
        log = self.sync()
        lists = [r for r in self.emulator.requests[before:]
                 if r.method == "GET" and r.path.endswith("/entity/counterparty")]
        self.assertIn("updated>=", lists[0].query["filter"])
        self.assertEqual(log.updated, 1, log.message)
        self.assertEqual(log.processed, 1, "only the counterparty that changed was read")
        partner = self.env["supplier.partner"].search(
            [("external_id", "=", CUSTOMER_ID)]).partner_id
        self.assertEqual(partner.phone, "+70000000001")

    def test_bank_accounts_and_contacts_follow_moysklad(self):
        self.sync("pull")
        supplier = self.env["supplier.partner"].search(
            [("external_id", "=", SUPPLIER_ID)]).partner_id
        old_account, old_contact = supplier.bank_ids, supplier.child_ids
        self.advance_clock()
        self.update_counterparty(SUPPLIER_ID, {
            "accounts": [{"accountNumber": "40702810000000000099", "bic": "044525225",
                          "bankName": "ПАО Сбербанк",
                          "correspondentAccount": "30101810400000000225"}],
            "contactpersons": [{"name": "Иванов Пётр Сергеевич", "position": "Директор",
                                "externalCode": "cp-1-1"},
                               {"name": "Новый Контакт", "phone": "+70001112233"}]})
        log = self.sync()
        self.assertEqual(log.updated, 1, log.message)
        self.assertFalse(old_account.active, "an account removed at MoySklad is archived")
        self.assertEqual(supplier.bank_ids.acc_number, "40702810000000000099")
        self.assertEqual(supplier.bank_ids.bank_id.bic, "044525225")
        self.assertEqual(old_contact.function, "Директор", "the same contact, updated")
        self.assertTrue(old_contact.active)
        self.assertEqual(sorted(supplier.child_ids.mapped("name")),
                         ["Иванов Пётр Сергеевич", "Новый Контакт"])
        self.assertFalse(self.counterparty_posts())

    @mute_logger("odoo.sql_db")
    def test_one_refused_counterparty_never_stops_the_others(self):
        account = {"accountNumber": "40702810000000000777", "bic": "044525225"}
        with self.emulator.lock:
            bad, _new = self.emulator.create("counterparty", {
                "name": "Двойной счёт", "inn": LEGAL_INN, "accounts": [account, account]})
        log = self.sync("pull")
        self.assertEqual(log.state, "partial")
        self.assertEqual(log.created, 2, "the two demo counterparties became partners")
        self.assertEqual(log.failed, 1)
        line = log.line_ids.filtered(lambda line: line.error_code == "odoo_refused")
        self.assertIn("Двойной счёт", line.message)
        self.assertFalse(self.env["supplier.partner"].search([("external_id", "=", bad["id"])]))
        self.assertTrue(self.env["supplier.partner"].search([("external_id", "=", SUPPLIER_ID)]))

    def test_sync_of_one_mapping(self):
        self.sync("pull")
        binding = self.env["supplier.partner"].search([("external_id", "=", SUPPLIER_ID)])
        self.update_counterparty(SUPPLIER_ID, {"phone": "+70000000042"})
        self.update_counterparty(CUSTOMER_ID, {"phone": "+70000000043"})
        before = len(self.emulator.requests)
        binding.with_user(self.connector_user).action_sync()
        [get] = [r for r in self.emulator.requests[before:] if r.method == "GET"]
        self.assertIn(f"id={SUPPLIER_ID}", get.query["filter"])
        self.assertEqual(binding.partner_id.phone, "+70000000042")
        customer = self.env["supplier.partner"].search([("external_id", "=", CUSTOMER_ID)])
        self.assertNotEqual(customer.partner_id.phone, "+70000000043", "only the one asked")
        with self.assertRaises(AccessError):
            binding.with_user(self.plain).action_sync()

    def test_scheduled_run(self):
        def schedule():
            return self.backend.schedule_ids.filtered(lambda s: s.operation == "sync_partners")

        self.assertFalse(schedule(), "partners off: not scheduled")
        self.backend.moysklad_partners_direction = "pull"
        self.assertTrue(schedule().enabled, "a direction chosen: scheduled hourly")
        self.assertEqual((schedule().interval_number, schedule().interval_type), (1, "hours"))
        schedule().next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        log = self.last_log("sync_partners")
        self.assertEqual(log.trigger, "cron")
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(schedule().last_log_id, log)
        self.assertTrue(self.env["supplier.partner"].search([("external_id", "=", SUPPLIER_ID)]))

    def test_ambiguous_counterparty_is_listed_not_merged(self):
        twins = self.Partner.create([
            {"name": "Twin A", "is_company": True, "vat": PERSON_INN},
            {"name": "Twin B", "is_company": True, "vat": PERSON_INN},
        ])
        count = self.Partner.search_count([])
        log = self.sync("pull")
        self.assertEqual(log.state, "partial")
        line = log.line_ids.filtered(lambda line: line.error_code == "ambiguous")
        self.assertEqual(len(line), 1)
        self.assertIn("Twin A", line.message)
        self.assertIn("Twin B", line.message)
        self.assertFalse(self.env["supplier.partner"].search([("partner_id", "in", twins.ids)]))
        self.assertFalse(self.env["supplier.partner"].search([("external_id", "=", CUSTOMER_ID)]))
        for twin in twins:
            self.assertIn("not merged", twin.message_ids[:1].body)
        # Only the supplier's partner and its contact were created, not the customer.
        self.assertEqual(self.Partner.search_count([]) - count, 2)


@tagged("post_install", "-at_install")
class TestMoySkladPartnerPush(PartnersCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.env["res.bank"].create({
            "name": "Сбербанк", "bic": "044525225",
            "ru_correspondent_account": "30101810400000000225"})
        cls.legal = cls.Partner.create({
            "name": "Odoo Legal LLC", "is_company": True, "customer_rank": 1,
            "ru_company_type": "legal", "vat": LEGAL_INN, "ru_kpp": "770701001",
            "company_registry": "1027700132195", "ru_okpo": "00032537",
            "email": "legal@example.com", "phone": "+74950000001", "ru_fax": "+74950000002",
            "street": "ул. Ленина, 1", "city": "Москва", "zip": "101000",
            "comment": "<p>Good customer</p>",
            "category_id": [(0, 0, {"name": "VIP"})],
            "bank_ids": [(0, 0, {"acc_number": "40702810900000000001", "bank_id": cls.bank.id})],
            "child_ids": [(0, 0, {"name": "Пётр Петров", "function": "Директор",
                                  "email": "petr@example.com", "type": "contact"})],
        })
        cls.entrepreneur = cls.Partner.create({
            "name": "ИП Odoo", "is_company": True, "supplier_rank": 1,
            "ru_company_type": "entrepreneur", "vat": OTHER_PERSON_INN, "ru_kpp": "770701001",
            "company_registry": "304500116000157",
        })

    def push(self):
        return self.sync("push")

    def test_push_creates_with_sync_id_then_updates_only_changes(self):
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        posts = self.counterparty_posts()
        self.assertEqual(len(posts), 1, "one bulk POST")
        body = {item["name"]: item for item in json.loads(posts[0].body)}
        legal, person = body["Odoo Legal LLC"], body["ИП Odoo"]
        self.assertTrue(legal["syncId"] and person["syncId"])
        self.assertEqual(legal["externalCode"], f"odoo-partner-{self.legal.id}")
        # Requisites by company type.
        self.assertEqual((legal["companyType"], legal["inn"], legal["kpp"], legal["ogrn"],
                          legal["okpo"]),
                         ("legal", LEGAL_INN, "770701001", "1027700132195", "00032537"))
        self.assertNotIn("ogrnip", legal)
        self.assertEqual(person["companyType"], "entrepreneur")
        self.assertEqual(person["ogrnip"], "304500116000157")
        self.assertNotIn("kpp", person, "an entrepreneur has no KPP")
        self.assertNotIn("ogrn", person)
        self.assertEqual(legal["fax"], "+74950000002")
        self.assertEqual(legal["description"], "Good customer")
        self.assertEqual(legal["tags"], ["vip"])
        self.assertEqual(legal["actualAddressFull"]["street"], "ул. Ленина, 1")
        self.assertEqual(legal["actualAddressFull"]["postalCode"], "101000")
        self.assertEqual(legal["accounts"][0]["accountNumber"], "40702810900000000001")
        self.assertEqual(legal["accounts"][0]["bic"], "044525225")
        self.assertEqual(legal["accounts"][0]["correspondentAccount"], "30101810400000000225")
        self.assertEqual(legal["contactpersons"][0]["name"], "Пётр Петров")
        self.assertEqual(legal["contactpersons"][0]["position"], "Директор")
        binding = self.binding_of(self.legal)
        self.assertEqual(binding.sync_id, legal["syncId"])
        stored = self.ms(binding.external_id)
        self.assertEqual(stored["kpp"], "770701001")
        self.assertEqual(stored["accounts"][0]["bic"], "044525225")
        # Nothing changed: nothing sent.
        log = self.push()
        self.assertEqual(len(self.counterparty_posts()), 1, log.message)
        # One field changed: one update by meta, without the collections.
        self.legal.phone = "+74959999999"
        log = self.push()
        self.assertEqual(log.updated, 1, log.message)
        posts = self.counterparty_posts()
        self.assertEqual(len(posts), 2)
        update = json.loads(posts[-1].body)
        self.assertEqual(len(update), 1)
        self.assertIn("meta", update[0])
        self.assertNotIn("syncId", update[0])
        self.assertNotIn("accounts", update[0])
        self.assertEqual(self.ms(binding.external_id)["phone"], "+74959999999")
        # A new contact: the contact persons are sent again, as a whole.
        self.Partner.create({"name": "Анна", "parent_id": self.legal.id, "type": "contact"})
        self.push()
        update = json.loads(self.counterparty_posts()[-1].body)
        self.assertEqual(sorted(c["name"] for c in update[0]["contactpersons"]),
                         ["Анна", "Пётр Петров"])

    def test_push_lost_answer_is_not_a_second_counterparty(self):
        self.emulator.set_fault("malformed_json", count=1, match="syncId")
        log = self.push()
        self.assertEqual(log.state, "failed")
        bindings = self.binding_of(self.legal) | self.binding_of(self.entrepreneur)
        self.assertFalse(any(bindings.mapped("external_id")))
        sync_ids = bindings.mapped("sync_id")
        self.assertTrue(all(sync_ids), "the syncIds were kept before the request left")
        log = self.push()
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(bindings.mapped("sync_id"), sync_ids)
        self.assertEqual(len(self.ms_by_name("Odoo Legal LLC")), 1)
        self.assertEqual(len(self.ms_by_name("ИП Odoo")), 1)
        self.assertTrue(all(bindings.mapped("external_id")))

    def test_push_matches_existing_counterparty_before_creating(self):
        self.entrepreneur.vat = "7736207543"
        self.entrepreneur.write({"ru_company_type": "legal", "ru_kpp": "773601001"})
        self.push()
        self.assertEqual(self.binding_of(self.entrepreneur).external_id, SUPPLIER_ID)
        names = [item["name"] for post in self.counterparty_posts()
                 for item in json.loads(post.body) if "meta" not in item]
        self.assertEqual(names, ["Odoo Legal LLC"], "only the unmatched partner was created")
        # Odoo is the master: the matched counterparty took Odoo's values.
        self.assertEqual(self.ms(SUPPLIER_ID)["name"], "ИП Odoo")

    def test_invalid_inn_is_not_sent(self):
        self.legal.vat = "7707083890"
        self.assertIn("check digit", self.legal.ru_inn_problem)
        log = self.push()
        self.assertEqual(log.state, "partial")
        line = log.line_ids.filtered(lambda line: line.error_code == "inn")
        self.assertIn("7707083890", line.message)
        binding = self.binding_of(self.legal)
        self.assertEqual(binding.sync_state, "error")
        self.assertIn("check digit", binding.sync_message)
        self.assertIn("check digit", self.legal.message_ids[:1].body)
        self.assertFalse(self.ms_by_name("Odoo Legal LLC"))
        self.assertEqual(len(self.ms_by_name("ИП Odoo")), 1)
        # Length by company type.
        self.entrepreneur.vat = LEGAL_INN
        self.assertIn("does not fit the company type", self.entrepreneur.ru_inn_problem)


@tagged("post_install", "-at_install")
class TestMoySkladPartnerBoth(PartnersCase):
    def test_both_ways_most_recent_change_wins(self):
        log = self.sync("both")
        self.assertEqual(log.state, "done", log.message)
        supplier = self.env["supplier.partner"].search(
            [("external_id", "=", SUPPLIER_ID)]).partner_id
        self.assertEqual(supplier.email, "info@postavshik.example")
        # Different fields on each side: both kept.
        supplier.phone = "+71111111111"
        self.advance_clock()
        self.update_counterparty(SUPPLIER_ID, {"email": "new@postavshik.example"})
        log = self.sync()
        self.assertEqual(supplier.email, "new@postavshik.example")
        self.assertEqual(self.ms(SUPPLIER_ID)["phone"], "+71111111111")
        self.assertNotIn("Changed on both sides", log.message or "")
        # The same field on both sides: MoySklad changed it later, its value wins.
        supplier.ru_fax = "+7 odoo"
        self.update_counterparty(SUPPLIER_ID, {"fax": "+7 moysklad"})
        log = self.sync()
        self.assertEqual(supplier.ru_fax, "+7 moysklad")
        self.assertEqual(self.ms(SUPPLIER_ID)["fax"], "+7 moysklad")
        self.assertIn("Changed on both sides", log.message)
        self.assertIn("fax: MoySklad changed it later", log.message)

    def test_both_ways_odoo_newer_wins(self):
        self.sync("both")
        customer = self.env["supplier.partner"].search(
            [("external_id", "=", CUSTOMER_ID)]).partner_id
        # The emulator's clock is an hour back: its change is older than Odoo's.
        self.update_counterparty(CUSTOMER_ID, {"name": "ИП Смирнова (MoySklad)"})
        customer.name = "ИП Смирнова (Odoo)"
        self.backend.moysklad_partners_watermark = False
        log = self.sync()
        self.assertEqual(customer.name, "ИП Смирнова (Odoo)")
        self.assertEqual(self.ms(CUSTOMER_ID)["name"], "ИП Смирнова (Odoo)")
        self.assertIn("name: Odoo changed it later", log.message)


@tagged("post_install", "-at_install")
class TestMoySkladPartnerRights(PartnersCase):
    def test_rights(self):
        self.backend.moysklad_partners_direction = "pull"
        with self.assertRaises(AccessError):
            self.backend.with_user(self.plain).action_sync_partners()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.foreign_manager).action_sync_partners()
        self.assertFalse(self.emulator.requests)
        self.backend.with_user(self.connector_user).action_sync_partners()
        self.assertTrue(self.env["supplier.partner"].search([("backend_id", "=", self.backend.id)]))
        # Off: refused with a clear message.
        self.backend.moysklad_partners_direction = "off"
        with self.assertRaises(UserError):
            self.backend.with_user(self.connector_user).action_sync_partners()
        # A salesperson sees partners but never the connection's secrets.
        seller = self.env["res.users"].create({
            "name": "Seller", "login": "ms9p_seller",
            "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id,
                                  self.env.ref("supplier_connector.group_supplier_user").id])],
        })
        with self.assertRaises(AccessError):
            self.backend.with_user(seller).read(["api_key"])
        with self.assertRaises(AccessError):
            self.backend.with_user(seller).read(["password"])


@tagged("post_install", "-at_install")
class TestMoySkladPartnerRightsRpc(RightsUsers, JsonRpc, HttpCase, MoySkladCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.backend.moysklad_partners_direction = "pull"
        cls.seller = cls.env["res.users"].create({
            "name": "Seller", "login": "ms9p_rpc_seller", "password": cls.password_of("ms9p_rpc_seller"),
            "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])],
        })

    def test_partner_sync_refused_over_rpc(self):
        for who in (self.plain, self.foreign_manager, self.seller):
            with self.subTest(user=who.login):
                self.assertRefused(self.call_kw(
                    who, "supplier.backend", "action_sync_partners", [self.backend.ids]))
        self.assertRefused(self.execute_kw(
            self.plain, "supplier.backend", "action_sync_partners", [self.backend.ids]))
        self.assertRefused(self.call_kw(
            self.seller, "supplier.partner", "search_read", [[]], {"fields": ["external_id"]}))
        self.assertFalse(self.emulator.requests, "nothing reached MoySklad")
        self.assertFalse(self.last_log("sync_partners"))
        result, error = self.call_kw(
            self.connector_user, "supplier.backend", "action_sync_partners", [self.backend.ids])
        self.assertFalse(error, error and error["message"])
        self.assertTrue(self.last_log("sync_partners"))

    def test_salesperson_never_reads_the_token(self):
        self.backend.sudo().api_key = "secret-token-ms9p"
        for fields_ in (["api_key"], ["password"], ["login"]):
            result, error = self.call_kw(
                self.seller, "supplier.backend", "read", [self.backend.ids], {"fields": fields_})
            self.assertTrue(error, f"{fields_} was readable")
            self.assertNotIn("secret-token-ms9p", json.dumps(result or ""))
        # Nor through the partner form's fields.
        partner = self.env["res.partner"].create({"name": "Client"})
        result, error = self.call_kw(self.seller, "res.partner", "read", [partner.ids],
                                     {"fields": ["name", "ru_inn_problem"]})
        self.assertFalse(error, error and error["message"])
        self.assertNotIn("secret-token-ms9p", json.dumps(result))


@tagged("post_install", "-at_install")
class TestMoySkladPartnerCountries(PartnersCase):
    """Countries of addresses: MoySklad's country list read once per run, matched by ISO code."""

    def country_gets(self, since=0):
        return [r for r in self.emulator.requests[since:]
                if r.method == "GET" and r.path.endswith("/entity/country")]

    def address(self, code, **parts):
        return dict(parts, country={"meta": {
            "href": f"{self.emulator.api_url}/entity/country/{country_id(code)}",
            "type": "country", "mediaType": "application/json"}})

    def create_counterparty(self, body):
        with self.emulator.lock:
            record, _new = self.emulator.create("counterparty", body)
        return record["id"]

    def partner_of(self, counterparty_id):
        return self.env["supplier.partner"].search(
            [("external_id", "=", counterparty_id)]).partner_id.with_context(active_test=False)

    def stored_country(self, counterparty_id, field="actualAddressFull"):
        country = self.ms(counterparty_id).get(field, {}).get("country")
        return country.id if country else None

    def test_pull_sets_countries_keeps_them_and_logs_the_unmatched(self):
        ru, kz, by, am = (self.env.ref(f"base.{code}") for code in ("ru", "kz", "by", "am"))
        # The supplier has no country at MoySklad: the partner it matches keeps its own.
        kept = self.Partner.create({"name": "Поставщик", "is_company": True,
                                    "email": "info@postavshik.example", "country_id": am.id})
        legal_only = self.create_counterparty({
            "name": "ТОО «Степь»", "companyType": "legal",
            "legalAddressFull": self.address("398", city="Астана", street="пр. Мира",
                                             house="3")})
        both = self.create_counterparty({
            "name": "ОДО «Минск»", "companyType": "legal",
            "actualAddressFull": self.address("112", city="Минск"),
            "legalAddressFull": self.address("643", city="Москва", postalCode="101000")})
        abkhazia = self.create_counterparty({
            "name": "ООО «Сухум»", "companyType": "legal",
            "actualAddressFull": self.address("895", city="Сухум", street="ул. Мира",
                                              house="7")})
        log = self.sync("pull")
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.failed, 0, "a country not matched is no failure")
        self.assertEqual(len(self.country_gets()), 1, "the country list is read once per run")
        self.assertEqual(self.partner_of(CUSTOMER_ID).country_id, ru)
        self.assertEqual(self.partner_of(SUPPLIER_ID), kept)
        self.assertEqual(kept.country_id, am, "MoySklad has no country: the partner's is kept")
        steppe = self.partner_of(legal_only)
        self.assertEqual((steppe.country_id, steppe.ru_legal_country_id), (kz, kz),
                         "only a legal address: its country is the partner's too")
        self.assertEqual((steppe.ru_legal_city, steppe.ru_legal_street), ("Астана", "пр. Мира, 3"))
        minsk = self.partner_of(both)
        self.assertEqual((minsk.country_id, minsk.ru_legal_country_id), (by, ru))
        self.assertEqual((minsk.city, minsk.ru_legal_zip), ("Минск", "101000"))
        sukhum = self.partner_of(abkhazia)
        self.assertTrue(sukhum, "the partner was created all the same")
        self.assertFalse(sukhum.country_id)
        self.assertEqual((sukhum.street, sukhum.city), ("ул. Мира, 7", "Сухум"),
                         "the address is kept without its country")
        self.assertIn("Countries not matched", log.message)
        self.assertIn("Абхазия (895)", log.message)
        self.assertIn("ООО «Сухум»", log.message)
        # A change of country at MoySklad reaches the partner; the list is read again per run.
        self.advance_clock()
        before = len(self.emulator.requests)
        self.update_counterparty(CUSTOMER_ID, {"actualAddressFull": self.address(
            "398", postalCode="050000", city="Алматы")})
        log = self.sync()
        self.assertEqual(log.updated, 1, log.message)
        self.assertEqual(self.partner_of(CUSTOMER_ID).country_id, kz)
        self.assertEqual(self.partner_of(CUSTOMER_ID).city, "Алматы")
        self.assertEqual(len(self.country_gets(before)), 1)
        self.assertFalse(self.counterparty_posts(), "pulled only: nothing sent")

    def test_push_sends_the_country_meta_and_reports_what_moysklad_lacks(self):
        kz, by = self.env.ref("base.kz"), self.env.ref("base.by")
        partner = self.Partner.create({
            "name": "ТОО «Экспорт»", "is_company": True, "customer_rank": 1,
            "street": "ул. Абая, 10", "city": "Алматы", "zip": "050000", "country_id": kz.id,
            "ru_legal_city": "Минск", "ru_legal_country_id": by.id})
        only_country = self.Partner.create({"name": "Only a country", "customer_rank": 1,
                                            "country_id": kz.id})
        kosovo = self.Partner.create({"name": "Prishtina LLC", "is_company": True,
                                      "supplier_rank": 1, "city": "Prishtina",
                                      "country_id": self.env.ref("base.xk").id})
        log = self.sync("push")
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(log.failed, 0)
        self.assertEqual(len(self.country_gets()), 1, "the country list is read once per run")
        [post] = self.counterparty_posts()
        body = {item["name"]: item for item in json.loads(post.body)}
        sent = body["ТОО «Экспорт»"]
        self.assertEqual(sent["actualAddressFull"]["country"]["meta"]["href"],
                         f"{self.emulator.api_url}/entity/country/{country_id('398')}")
        self.assertEqual(sent["actualAddressFull"]["country"]["meta"]["type"], "country")
        self.assertTrue(sent["legalAddressFull"]["country"]["meta"]["href"].endswith(
            country_id("112")))
        stored = self.binding_of(partner).external_id
        self.assertEqual(self.stored_country(stored), country_id("398"))
        self.assertEqual(self.stored_country(stored, "legalAddressFull"), country_id("112"))
        self.assertEqual(self.ms(stored)["actualAddress"],
                         "050000, Казахстан, Алматы, ул. Абая, 10")
        self.assertEqual(self.stored_country(self.binding_of(only_country).external_id),
                         country_id("398"), "a country alone is an address to send")
        # Kosovo is not in MoySklad's list: sent without a country, said in the log.
        self.assertNotIn("country", body["Prishtina LLC"]["actualAddressFull"])
        self.assertEqual(self.binding_of(kosovo).sync_state, "ok")
        self.assertIn("Kosovo (XK)", log.message)
        self.assertIn("Prishtina LLC", log.message)
        # Nothing changed: nothing is sent again (the country MoySklad lacks included).
        log = self.sync()
        self.assertEqual(len(self.counterparty_posts()), 1, log.message)
        # A new country: one update carrying it.
        partner.country_id = by
        log = self.sync()
        self.assertEqual(log.updated, 1, log.message)
        self.assertEqual(self.stored_country(stored), country_id("112"))
        self.assertEqual(self.ms(stored)["actualAddressFull"]["city"], "Алматы")

    def test_both_ways_country_follows_the_latest_change_and_unmatched_is_kept(self):
        log = self.sync("both")
        self.assertEqual(log.state, "done", log.message)
        customer = self.partner_of(CUSTOMER_ID)
        self.assertEqual(customer.country_id, self.env.ref("base.ru"))
        # Changed in Odoo: sent.
        customer.country_id = self.env.ref("base.by")
        self.sync()
        self.assertEqual(self.stored_country(CUSTOMER_ID), country_id("112"))
        self.assertEqual(self.ms(CUSTOMER_ID)["actualAddressFull"]["city"], "Химки")
        # Changed on both sides, MoySklad later: MoySklad's wins, the log says so.
        customer.country_id = self.env.ref("base.am")
        self.advance_clock()
        self.update_counterparty(CUSTOMER_ID, {"actualAddressFull": self.address(
            "860", city="Ташкент")})
        log = self.sync()
        self.assertEqual(customer.country_id, self.env.ref("base.uz"))
        self.assertEqual(self.stored_country(CUSTOMER_ID), country_id("860"))
        self.assertIn("country: MoySklad changed it later", log.message)
        # MoySklad moves it to a country Odoo cannot hold: the partner keeps its own ...
        self.update_counterparty(CUSTOMER_ID, {"actualAddressFull": self.address(
            "895", city="Гагра")})
        log = self.sync()
        self.assertEqual(customer.country_id, self.env.ref("base.uz"))
        self.assertEqual(customer.city, "Гагра")
        self.assertIn("Абхазия (895)", log.message)
        # ... and a later change in Odoo sends MoySklad's own country back, not Odoo's.
        customer.phone = "+70000000777"
        before = len(self.counterparty_posts())
        self.sync()
        self.assertEqual(len(self.counterparty_posts()), before + 1)
        self.assertEqual(self.ms(CUSTOMER_ID)["phone"], "+70000000777")
        self.assertEqual(self.stored_country(CUSTOMER_ID), country_id("895"))
        # Odoo's country changed after that: now it is sent.
        customer.country_id = self.env.ref("base.kz")
        self.sync()
        self.assertEqual(self.stored_country(CUSTOMER_ID), country_id("398"))
