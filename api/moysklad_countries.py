"""MoySklad's country list (``entity/country``) and the countries of structured addresses.

A structured address (``legalAddressFull``, ``actualAddressFull``) names its country by a meta
reference to ``entity/country``. A country there has ``name``, ``description``, ``code`` and
``externalCode`` (the official documentation's attribute table; no ISO letter code). The
predefined countries (about 250, "the countries of the account by default") follow the Russian
classifier OKSM: ``code`` is the 3-digit ISO 3166-1 numeric code ("643" Russia), and so is
their ``externalCode`` in the documentation's examples. An account may add countries of its own
(they have an ``owner``) with any code ("999", "PanamaCode").

Decisions where the documents are silent:
- A country's numeric code is its ``code`` when that is 1 to 3 digits (zero-padded), else its
  ``externalCode`` when that is; its ISO alpha-2 code comes from ``iso3166`` (Odoo's countries
  have only alpha-2 codes). A country without either (an own country "PanamaCode", OKSM's own
  895 Abkhazia) has no alpha-2 code: it matches no Odoo country.
- Two MoySklad countries with one numeric code (an own country copying a predefined one): the
  predefined one (no ``owner``) is the one sent.
- ``MoySkladCountriesMixin.country_book()`` reads the whole list once per client (a client
  lives for one run) in pages of 1,000 (one request for the ~250 rows) and keeps it; a
  partner's country never costs a request of its own. ``refresh=True`` reads it again.
"""

from dataclasses import dataclass

from .iso3166 import alpha2_of
from .moysklad_meta import entity_values, id_from_href

__all__ = ["MoySkladCountriesMixin", "MsCountry", "MsCountryBook", "parse_country"]


@dataclass
class MsCountry:
    id: str
    href: str = ""
    name: str = ""
    description: str = ""
    code: str = ""
    external_code: str = ""
    own: bool = False  # added by the account (has an owner), not predefined

    @property
    def numeric(self):
        """The 3-digit ISO/OKSM numeric code, or "" (see the module's decisions)."""
        for value in (self.code, self.external_code):
            if value.isdigit() and len(value) <= 3:
                return value.zfill(3)
        return ""

    @property
    def alpha2(self):
        return alpha2_of(self.numeric) if self.numeric else ""

    @property
    def label(self):
        """For messages: the name with its code ("Абхазия (895)")."""
        code = self.code or self.external_code
        return f"{self.name} ({code})" if code else self.name


def parse_country(row):
    row, values = entity_values(row, ("name", "description", "code", "externalCode"),
                                kinds=("country",))  # fmt: skip
    if values is None:
        return None
    return MsCountry(own=bool(row.get("owner")), **values)


class MsCountryBook:
    """MoySklad's countries by id and by ISO alpha-2 code."""

    def __init__(self, countries):
        self.countries = list(countries)
        self._by_id = {country.id: country for country in self.countries}
        self._by_alpha2 = {}
        # Predefined countries first: they win over an own country with the same code.
        for country in sorted(self.countries, key=lambda item: item.own):
            if country.alpha2:
                self._by_alpha2.setdefault(country.alpha2, country)

    def __len__(self):
        return len(self.countries)

    def get(self, ref):
        """The MsCountry of an id, an href or a ``{"meta": ...}`` reference; None if unknown."""
        if isinstance(ref, dict):
            ref = ref.get("id") or id_from_href((ref.get("meta") or {}).get("href"))
        return self._by_id.get(id_from_href(ref)) if ref else None

    def alpha2_of(self, ref):
        """ISO alpha-2 code of a MoySklad country reference; "" when unknown or without one."""
        country = self.get(ref)
        return country.alpha2 if country else ""

    def for_alpha2(self, alpha2):
        """The MsCountry to send for an ISO alpha-2 code (Odoo's ``res.country.code``), or None
        when MoySklad's list has no country with its numeric code."""
        return self._by_alpha2.get((alpha2 or "").strip().upper())

    def href_for(self, alpha2):
        country = self.for_alpha2(alpha2)
        return country.href if country else ""


class MoySkladCountriesMixin:
    """``country_book()``: MoySklad's country list, read once per client."""

    _country_book = None

    def list_countries(self):
        """[MsCountry] of ``entity/country`` (every page)."""
        return self.list_all("entity/country", parse=parse_country)

    def country_book(self, *, refresh=False):
        if self._country_book is None or refresh:
            self._country_book = MsCountryBook(self.list_countries())
        return self._country_book
