"""The MoySklad emulator's country list and the countries of structured addresses: the list in
the documented shape, addresses that carry a country meta, the address string rebuilt from the
parts, unknown or wrong country references refused with MoySklad's codes; and the client reading
it all (one request for the list, mapped to ISO codes)."""

import pytest
import requests

from api.base import SessionState
from api.moysklad import MoySkladClient
from api.moysklad_partners_data import MsCounterpartyDraft
from emulators.moysklad import MoyskladEmulator
from emulators.moysklad_demo import (
    COUNTRIES,
    DEMO_APP_TOKEN,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    country_id,
    fixed_id,
)

HEADERS = {"Accept-Encoding": "gzip", "Accept": "application/json;charset=utf-8",
           "Authorization": f"Bearer {DEMO_APP_TOKEN}"}
CUSTOMER = fixed_id("counterparty-customer")
SUPPLIER = fixed_id("counterparty-supplier")
RU, BY, KZ = country_id("643"), country_id("112"), country_id("398")


@pytest.fixture
def emu():
    with MoyskladEmulator(limits_enabled=False) as emulator:
        yield emulator


def call(emu, method, path, body=None):
    return requests.request(method, f"{emu.api_url}/{path}", json=body, headers=HEADERS,
                            timeout=10)


def country_meta(emu, id_, type_="country"):
    return {"meta": {"href": f"{emu.api_url}/entity/{type_}/{id_}", "type": type_,
                     "mediaType": "application/json"}}


def test_country_list_in_the_documented_shape(emu):
    answer = call(emu, "GET", "entity/country").json()
    assert answer["meta"]["size"] == len(COUNTRIES) == 21
    by_code = {row["code"]: row for row in answer["rows"]}
    russia = by_code["643"]
    assert russia["name"] == "Россия"
    assert russia["description"] == "Российская Федерация"
    assert russia["externalCode"] == "643"
    assert russia["meta"]["href"] == f"{emu.api_url}/entity/country/{RU}"
    assert russia["meta"]["type"] == "country"
    assert "owner" not in russia, "predefined countries have no owner"
    assert by_code["051"]["name"] == "Армения"
    assert by_code["895"]["name"] == "Абхазия"
    one = call(emu, "GET", f"entity/country/{KZ}").json()
    assert one["name"] == "Казахстан"
    filtered = call(emu, "GET", "entity/country?filter=code=112").json()
    assert [row["name"] for row in filtered["rows"]] == ["Беларусь"]


def test_addresses_carry_the_country_meta_and_the_string_follows(emu):
    customer = call(emu, "GET", f"entity/counterparty/{CUSTOMER}").json()
    assert customer["actualAddressFull"]["country"]["meta"]["href"] == \
        f"{emu.api_url}/entity/country/{RU}"
    answer = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {
        "legalAddressFull": {"postalCode": "220030", "country": country_meta(emu, BY),
                             "city": "Минск", "street": "пр. Независимости", "house": "1"},
        "legalAddress": "ignored when the structured address is sent"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["legalAddressFull"]["country"]["meta"]["href"].endswith(f"/entity/country/{BY}")
    assert body["legalAddress"] == "220030, Беларусь, Минск, пр. Независимости, 1"
    with emu.lock:
        stored = emu.db["counterparty"][SUPPLIER]["legalAddressFull"]
    assert stored["country"].id == BY
    # A string alone becomes the addInfo of the structured address (the document's rule).
    body = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}",
                {"actualAddress": "Москва, где-то"}).json()
    assert body["actualAddressFull"] == {"addInfo": "Москва, где-то"}
    # null does not remove an address; an empty string does.
    body = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {"legalAddressFull": None}).json()
    assert body["legalAddressFull"]["city"] == "Минск"
    body = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {"actualAddress": ""}).json()
    assert "actualAddressFull" not in body and "actualAddress" not in body


def test_bad_country_references_are_refused_like_the_service(emu):
    unknown = "11111111-2222-4333-8444-555555555555"
    answer = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {
        "actualAddressFull": {"city": "Нигде", "country": country_meta(emu, unknown)}})
    assert answer.status_code == 404
    error = answer.json()["errors"][0]
    assert error["code"] == 1021
    assert error["parameter"] == "actualAddressFull.country"
    answer = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {
        "actualAddressFull": {"country": country_meta(emu, fixed_id("store-main"), "store")}})
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, 2024)
    answer = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {
        "actualAddressFull": {"postalCode": "1234567"}})
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, 3040)
    answer = call(emu, "PUT", f"entity/counterparty/{SUPPLIER}", {"actualAddressFull": "Москва"})
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, 2016)
    with emu.lock:
        assert "actualAddressFull" not in emu.db["counterparty"][SUPPLIER], "nothing saved"


def test_client_reads_the_list_once_and_sends_countries(emu):
    client = MoySkladClient(base_url=emu.api_url, login=DEMO_LOGIN, password=DEMO_PASSWORD,
                            session_state=SessionState())  # fmt: skip
    book = client.country_book()
    assert len(book) == 21
    assert book.alpha2_of(f"{emu.api_url}/entity/country/{KZ}") == "KZ"
    assert book.alpha2_of(country_id("051")) == "AM"
    assert book.alpha2_of(country_id("895")) == "", "Abkhazia has no ISO code"
    assert book.href_for("BY") == f"{emu.api_url}/entity/country/{BY}"
    client.country_book()
    gets = [r for r in emu.requests if r.path.endswith("/entity/country")]
    assert len(gets) == 1
    customer = client.get_counterparty(CUSTOMER)
    assert book.alpha2_of(customer.actual_address_full["country_href"]) == "RU"
    draft = MsCounterpartyDraft(name="ТОО «Степь»", sync_id="2d6e8f7c-0c3b-4b9a-9c77-5e4f3a2b1c33",
                                legal_address={"city": "Астана",
                                               "country_href": book.href_for("KZ")})
    [result] = next(client.push_counterparties([draft]))
    assert result.ok, result.error
    with emu.lock:
        stored = emu.db["counterparty"][result.id]
    assert stored["legalAddressFull"]["country"].id == KZ
    assert stored["legalAddress"] == "Казахстан, Астана"
    assert result.item.legal_address_full["country_id"] == KZ
