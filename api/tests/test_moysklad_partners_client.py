"""Counterparty lookups, details, requisites by company type and INN checks (MoySklad part 2),
against the MoySklad emulator where requests matter."""

import pytest

from api.base import SessionState
from api.moysklad import MoySkladClient
from api.moysklad_partners_data import MsAccount, MsContact, MsCounterpartyDraft, inn_problem

emulator_module = pytest.importorskip("emulators.moysklad")
demo = pytest.importorskip("emulators.moysklad_demo")

SUPPLIER_ID = demo.fixed_id("counterparty-supplier")
CUSTOMER_ID = demo.fixed_id("counterparty-customer")
SYNC = "2d6e8f7c-0c3b-4b9a-9c77-5e4f3a2b1c33"


@pytest.fixture
def emulator():
    emu = emulator_module.MoyskladEmulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def client_of(emu):
    return MoySkladClient(base_url=emu.api_url, login=demo.DEMO_LOGIN,
                          password=demo.DEMO_PASSWORD, session_state=SessionState())  # fmt: skip


def counterparty_gets(emu):
    return [r for r in emu.requests if r.method == "GET" and r.path.endswith("/entity/counterparty")]


@pytest.mark.parametrize(("inn", "company_type", "problem"), [
    ("", "legal", None),
    ("7707083893", "legal", None),
    ("7707083893", "", None),
    ("500100732259", "entrepreneur", None),
    ("500100732259", "individual", None),
    ("7707083890", "legal", "check"),
    ("500100732250", "individual", "check"),
    ("770708389", "legal", "length"),
    ("77070838 3", "legal", "digits"),
    ("500100732259", "legal", "kind"),
    ("7707083893", "entrepreneur", "kind"),
])
def test_inn_problem(inn, company_type, problem):
    assert inn_problem(inn, company_type) == problem


def test_draft_sends_only_the_requisites_of_its_company_type():
    common = {"name": "X", "sync_id": SYNC, "legal_title": "T", "inn": "1", "kpp": "2",
              "ogrn": "3", "ogrnip": "4", "okpo": "5", "legal_first_name": "F"}
    legal = MsCounterpartyDraft(company_type="legal", **common).to_json()
    assert {k for k in ("legalTitle", "inn", "kpp", "ogrn", "okpo") if k in legal} == {
        "legalTitle", "inn", "kpp", "ogrn", "okpo"}
    assert "ogrnip" not in legal and "legalFirstName" not in legal
    person = MsCounterpartyDraft(company_type="entrepreneur", **common).to_json()
    assert (person["inn"], person["ogrnip"], person["okpo"], person["legalFirstName"]) == (
        "1", "4", "5", "F")
    assert "kpp" not in person and "ogrn" not in person
    individual = MsCounterpartyDraft(company_type="individual", **common).to_json()
    assert individual["inn"] == "1"
    assert not {"kpp", "ogrn", "ogrnip", "okpo"} & set(individual)
    # Without a company type, everything given is sent (MoySklad decides).
    assert "kpp" in MsCounterpartyDraft(**common).to_json()


def test_find_counterparties_in_chunks_of_values(emulator):
    client = client_of(emulator)
    found = list(client.find_counterparties("inn", ["7736207543", "500100732259", "0"], chunk=2))
    assert sorted(item.id for item in found) == sorted([SUPPLIER_ID, CUSTOMER_ID])
    gets = counterparty_gets(emulator)
    assert len(gets) == 2, "three values in chunks of two: two requests"
    assert gets[0].query["filter"].startswith("archived=true;archived=false;inn=")
    assert list(client.find_counterparties("email", [])) == []
    assert len(counterparty_gets(emulator)) == 2, "no value, no request"


def test_counterparty_details_in_pages_of_100(emulator):
    client = client_of(emulator)
    details = client.counterparty_details([SUPPLIER_ID, CUSTOMER_ID])
    [get] = counterparty_gets(emulator)
    assert get.query["limit"] == "100" and get.query["expand"] == "accounts,contactpersons"
    supplier = details[SUPPLIER_ID]
    assert [(a.account_number, a.bic, a.correspondent_account) for a in supplier.accounts] == [
        ("40702810500000000002", "044525593", "30101810200000000593")]
    assert [(c.name, c.position, c.external_code) for c in supplier.contacts] == [
        ("Иванов Пётр Сергеевич", "Менеджер", "cp-1-1")]
    assert details[CUSTOMER_ID].accounts == []


def test_creation_with_sync_id_is_idempotent_and_requisites_follow_the_type(emulator):
    client = client_of(emulator)
    draft = MsCounterpartyDraft(
        name="ИП Тест", sync_id=SYNC, company_type="entrepreneur", inn="770123456703",
        ogrnip="304500116000157", extra={"kpp": "770101001", "ogrn": "1027700229193"},
        accounts=[MsAccount(account_number="40802810000000000001", bic="044525225")],
        contacts=[MsContact(name="Анна", email="anna@example.com")], key=7)
    [[first]] = list(client.push_counterparties([draft]))
    [[again]] = list(client.push_counterparties([draft]))
    assert first.ok and first.created and first.key == 7
    assert again.id == first.id
    with emulator.lock:
        stored = dict(emulator.db["counterparty"][first.id])
    assert stored["ogrnip"] == "304500116000157"
    assert "kpp" not in stored and "ogrn" not in stored, "an entrepreneur has no KPP or OGRN"
    assert stored["accounts"][0]["accountNumber"] == "40802810000000000001"
    assert stored["contactpersons"][0]["name"] == "Анна"
    # An update by meta changes the company type: the requisites that no longer apply go.
    href = f"{emulator.api_url}/entity/counterparty/{first.id}"
    [[updated]] = list(client.push_counterparties([MsCounterpartyDraft(
        href=href, name="Тест", company_type="individual")]))
    assert updated.ok and not updated.created
    with emulator.lock:
        stored = dict(emulator.db["counterparty"][first.id])
    assert stored["companyType"] == "individual" and "ogrnip" not in stored
    assert stored["inn"] == "770123456703"
