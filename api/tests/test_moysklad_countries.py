"""MoySklad's country list: read once per client in pages, mapped to ISO alpha-2 codes both ways,
and the country of structured addresses read and sent; the shared meta readers."""

import json

import pytest
import responses
from moysklad_client_helpers import BASE, FakeTime, list_answer, make_client, query_of

from api.iso3166 import ALPHA2_TO_NUMERIC, alpha2_of, numeric_of
from api.moysklad_countries import MsCountryBook, parse_country
from api.moysklad_meta import entity_values, href_of, id_from_href, ref_id, snake_case, type_of
from api.moysklad_partners_data import MsCounterpartyDraft, parse_counterparty

COUNTRY_URL = f"{BASE}/entity/country"
RU_ID = "9df7c2c3-7782-4c5c-a8ed-1102af611608"
BY_ID = "0238a888-c602-4e78-a199-d8f49c4d6c18"
AM_ID = "00999522-23d6-40e6-870e-ec7f7bd8d354"
ABKHAZIA_ID = "02dc7934-0a88-49ea-a733-2da517a000c2"
OWN_RU_ID = "04cc9c56-96b1-4ccf-aa7f-78735710381c"
OWN_ID = "04331e4f-24c8-11e6-8a84-bae500000016"
COUNTERPARTY_ID = "12a8e347-2e58-11e6-8a84-bae5000000e1"


def country_row(country_id, name, code, external_code=None, own=False, description=""):
    """A row as in the official documentation's example (own countries have an owner)."""
    row = {"meta": {"href": f"{BASE}/entity/country/{country_id}",
                    "metadataHref": f"{BASE}/entity/country/metadata", "type": "country",
                    "mediaType": "application/json"},
           "id": country_id, "updated": "2012-11-02 11:04:13", "name": name, "code": code,
           "externalCode": code if external_code is None else external_code}  # fmt: skip
    if description:
        row["description"] = description
    if own:
        row["owner"] = {"meta": {"href": f"{BASE}/entity/employee/9bc5de98", "type": "employee"}}
        row["shared"] = True
    return row


ROWS = [
    country_row(RU_ID, "Россия", "643", description="Российская Федерация"),
    country_row(BY_ID, "Беларусь", "112"),
    country_row(AM_ID, "Армения", "51"),  # a code without its leading zero
    country_row(ABKHAZIA_ID, "Абхазия", "895"),  # OKSM's own: no ISO code
    country_row(OWN_RU_ID, "Моя Россия", "643", own=True),
    country_row(OWN_ID, "Панама 2", "PanamaCode", "panamaExtCode", own=True),
]


@pytest.fixture
def mocked():
    with responses.RequestsMock() as rsps:
        yield rsps


def test_iso_table_both_ways():
    assert len(ALPHA2_TO_NUMERIC) == 249
    assert numeric_of("ru") == "643"
    assert numeric_of("AM") == "051"
    assert numeric_of("XK") == ""  # Kosovo: in Odoo, not in ISO 3166-1
    assert alpha2_of("112") == "BY"
    assert alpha2_of(51) == "AM"
    assert alpha2_of("895") == ""
    assert alpha2_of("PanamaCode") == ""
    assert alpha2_of("6430") == ""


def test_country_book_maps_hrefs_to_iso_codes_and_back():
    book = MsCountryBook([parse_country(row) for row in ROWS])
    assert len(book) == 6
    assert book.alpha2_of(f"{BASE}/entity/country/{RU_ID}") == "RU"
    assert book.alpha2_of({"meta": {"href": f"https://other.host/x/entity/country/{AM_ID}"}}) == "AM"
    assert book.alpha2_of(ABKHAZIA_ID) == ""
    assert book.get(ABKHAZIA_ID).label == "Абхазия (895)"
    assert book.alpha2_of(OWN_ID) == ""
    assert book.alpha2_of("11111111-2222-3333-4444-555555555555") == ""
    # The predefined Russia is sent, not the account's own copy with the same code.
    assert book.href_for("ru") == f"{BASE}/entity/country/{RU_ID}"
    assert book.get(OWN_RU_ID).own and not book.get(RU_ID).own
    assert book.href_for("KZ") == ""  # not in this account's list
    assert book.for_alpha2("") is None
    assert parse_country({"meta": {"type": "currency", "href": f"{BASE}/entity/currency/1"}}) is None


def test_country_list_is_read_once_per_client_in_pages(mocked):
    fake = FakeTime()
    client = make_client(fake)
    first = list_answer(ROWS[:4], href="entity/country", size=6, limit=4,
                        next_href=f"{COUNTRY_URL}?limit=4&offset=4")  # fmt: skip
    mocked.add(responses.GET, COUNTRY_URL, json=first)
    mocked.add(responses.GET, COUNTRY_URL,
               json=list_answer(ROWS[4:], href="entity/country", size=6, limit=4, offset=4))
    book = client.country_book()
    assert len(book) == 6
    assert len(mocked.calls) == 2, "two pages"
    assert query_of(mocked.calls[0])["limit"] == "1000"
    assert client.country_book() is book
    assert len(mocked.calls) == 2, "kept for the client's run: no second read"
    assert client.usage()["per_endpoint"] == {"entity/country": 2}
    mocked.add(responses.GET, COUNTRY_URL, json=list_answer(ROWS[:1], href="entity/country"))
    assert len(client.country_book(refresh=True)) == 1
    assert len(mocked.calls) == 3


def test_address_country_read_and_sent():
    row = {"meta": {"href": f"{BASE}/entity/counterparty/{COUNTERPARTY_ID}",
                    "type": "counterparty"},
           "id": COUNTERPARTY_ID, "name": "ТОО «Алматы»",
           "legalAddressFull": {"postalCode": "050000", "city": "Алматы",
                                "country": {"meta": {"href": f"{BASE}/entity/country/{BY_ID}",
                                                     "type": "country"}}}}  # fmt: skip
    item = parse_counterparty(row)
    assert item.legal_address_full["country_id"] == BY_ID
    assert item.legal_address_full["country_href"] == f"{BASE}/entity/country/{BY_ID}"
    assert item.actual_address_full == {}
    draft = MsCounterpartyDraft(name="X", sync_id="2d6e8f7c-0c3b-4b9a-9c77-5e4f3a2b1c33",
                                actual_address={"city": "Минск",
                                                "country_href": f"{BASE}/entity/country/{BY_ID}"})
    body = json.loads(json.dumps(draft.to_json()))
    assert body["actualAddressFull"] == {
        "city": "Минск",
        "country": {"meta": {"href": f"{BASE}/entity/country/{BY_ID}", "type": "country",
                             "mediaType": "application/json"}}}  # fmt: skip


def test_meta_readers():
    row = {"meta": {"href": f"{BASE}/entity/store/{RU_ID}?expand=x", "type": "store"},
           "name": " Основной ", "externalCode": "main", "pathName": None}
    assert href_of(row) == f"{BASE}/entity/store/{RU_ID}?expand=x"
    assert type_of(row) == "store"
    assert ref_id(row) == RU_ID, "the id from the href, query dropped"
    assert ref_id({"id": BY_ID, "meta": row["meta"]}) == BY_ID
    assert id_from_href(f"{BASE}/entity/store/{AM_ID}/") == AM_ID
    assert ref_id("not a dict") == "" and href_of(None) == ""
    assert snake_case("correspondentAccount") == "correspondent_account"
    raw, values = entity_values(row, ("name", "externalCode", "pathName"))
    assert raw is row
    assert values == {"id": RU_ID, "href": row["meta"]["href"], "name": "Основной",
                      "external_code": "main", "path_name": ""}  # fmt: skip
    assert entity_values(row, kinds=("product",))[1] is None, "another type"
    assert entity_values({"name": "x"})[1] is None, "no id"
    assert entity_values({"name": "x"}, ("name",), need_id=False)[1] == {
        "id": "", "href": "", "name": "x"}
