"""Counterparty ↔ partner values in one comparable shape (plain dicts of strings and lists).

Both sides are turned into the same dict (``KEYS``), so that a sync compares them field by
field, keeps what both agreed on as the mapping's snapshot, and writes only what differs.

Decisions:
- Addresses: Odoo's street is MoySklad's street and house ("street, house"), Odoo's street 2
  its apartment; a counterparty with only an address string gets it as the street. Sent back,
  the whole street line goes to ``street`` (MoySklad keeps it as typed).
- Bank accounts and contact persons are compared as sorted lists (account number, bank name,
  BIC, correspondent account; name, position, phone, e-mail, external code). MoySklad replaces
  the collections as a whole when they are sent, so they are sent only when they changed.
- Tags are compared as sorted names; MoySklad keeps tags in lower case, so names are lowered.
- Values MoySklad did not give (collections not read) are None: they are left alone. The INN
  of a partner of another country than Russia is None on Odoo's side: its Tax ID is not an
  INN, so it is neither sent nor overwritten (now that countries are synced, a Belarusian or
  German partner keeps its own Tax ID; a partner created from MoySklad gets the INN once).
- Countries (``country``, ``legal_country``) are ISO alpha-2 codes (Odoo's ``res.country.code``):
  ``country`` is the partner's country and the actual address's, ``legal_country`` the legal
  address's (``ru_legal_country_id``). MoySklad's actual address without a country gives the
  legal address's one as ``country`` (MoySklad often fills only the legal address). A MoySklad
  country Odoo cannot hold (no ISO code, or no such Odoo country) is the token ``?<its href>``
  (``is_kept``): never written to Odoo, sent back as it is, and in the snapshot the partner's
  own value stands for it (the token under ``kept_<key>``), so that a later change on either
  side is still told apart. MoySklad without a country ("") never clears Odoo's.
- An address is sent when it has a part, or a country of its own (the actual address's country
  is not sent alone when the legal address has the same).
"""

import hashlib
import json

from odoo.tools import html2plaintext, plaintext2html

from ..api.moysklad_partners_data import MsAccount, MsContact, MsCounterpartyDraft

SCALAR_KEYS = (
    "name", "legal_title", "company_type", "inn", "kpp", "ogrn", "okpo", "email", "phone",
    "fax", "description", "street", "street2", "city", "zip", "legal_street",
    "legal_street2", "legal_city", "legal_zip", "country", "legal_country",
)
# Countries: ISO alpha-2 codes, or "?<href>" for a MoySklad country Odoo cannot hold.
COUNTRY_FIELDS = {"country": "country_id", "legal_country": "ru_legal_country_id"}
KEPT = "kept_"
KEYS = (*SCALAR_KEYS, "tags", "active", "accounts", "contacts")
# Odoo partner field of each plain key (the others are converted by hand).
PARTNER_FIELDS = {
    "name": "name", "legal_title": "ru_legal_title", "inn": "vat", "kpp": "ru_kpp",
    "ogrn": "company_registry", "okpo": "ru_okpo", "email": "email", "phone": "phone",
    "fax": "ru_fax", "street": "street", "street2": "street2", "city": "city", "zip": "zip",
    "legal_street": "ru_legal_street", "legal_street2": "ru_legal_street2",
    "legal_city": "ru_legal_city", "legal_zip": "ru_legal_zip",
}
PARTNER_READ = [
    *PARTNER_FIELDS.values(), *COUNTRY_FIELDS.values(), "ru_company_type", "is_company",
    "comment", "category_id", "active", "write_date",
]


def _s(value):
    return (value or "").strip() if isinstance(value, str) or not value else str(value).strip()


def is_inn_country(country_code):
    """The Tax ID of a partner of Russia, or of no country, is its INN."""
    return not country_code or country_code == "RU"


def is_kept(value):
    """A MoySklad country Odoo cannot hold (``?<href>``)."""
    return isinstance(value, str) and value.startswith("?")


def kept_href(value):
    return value[1:] if is_kept(value) else ""


def snapshot_of(target, odoo_values=None):
    """The snapshot to keep for ``target``: a kept MoySklad country is replaced by what the
    partner has (``odoo_values``, "" for a new partner), the token kept under ``kept_<key>``."""
    snapshot = dict(target)
    for key in COUNTRY_FIELDS:
        if is_kept(snapshot.get(key)):
            snapshot[KEPT + key] = snapshot[key]
            snapshot[key] = (odoo_values or {}).get(key) or ""
    return snapshot


def values_hash(values):
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# -- MoySklad → values ----------------------------------------------------------------------
def _address(full, line):
    """Street (street and house), street 2 (apartment), city and ZIP of an address; a
    structured address without any of them (only a country, or the string MoySklad copies to
    ``addInfo``) gives the address string as the street."""
    if any(full.get(key) for key in ("street", "house", "apartment", "city", "postal_code")):
        street = ", ".join(part for part in (_s(full.get("street")), _s(full.get("house"))) if part)
        return {"street": street, "street2": _s(full.get("apartment")),
                "city": _s(full.get("city")), "zip": _s(full.get("postal_code"))}
    return {"street": _s(line), "street2": "", "city": "", "zip": ""}


def _accounts_of(accounts):
    return sorted([_s(a.account_number), _s(a.bank_name), _s(a.bic),
                   _s(a.correspondent_account)] for a in accounts)  # fmt: skip


def _contacts_of(contacts):
    return sorted([_s(c.name), _s(c.position), _s(c.phone), _s(c.email),
                   _s(c.external_code)] for c in contacts)  # fmt: skip


def from_counterparty(item, country_of=None):
    """Values of a counterparty; ``country_of(address)`` gives the country of a structured
    address (alpha-2, "" or a ``?<href>`` token; see the module's decisions)."""
    company_type = item.company_type or "legal"
    actual = _address(item.actual_address_full, item.actual_address)
    legal = _address(item.legal_address_full, item.legal_address)
    country_of = country_of or (lambda address: "")
    legal_country = country_of(item.legal_address_full)
    values = {
        "name": _s(item.name), "legal_title": _s(item.legal_title),
        "company_type": company_type, "inn": _s(item.inn),
        "kpp": _s(item.kpp) if company_type == "legal" else "",
        "ogrn": _s(item.ogrn) if company_type == "legal"
        else _s(item.ogrnip) if company_type == "entrepreneur" else "",
        "okpo": _s(item.okpo) if company_type != "individual" else "",
        "email": _s(item.email), "phone": _s(item.phone), "fax": _s(item.fax),
        "description": _s(item.description),
        "street": actual["street"], "street2": actual["street2"], "city": actual["city"],
        "zip": actual["zip"], "legal_street": legal["street"], "legal_street2": legal["street2"],
        "legal_city": legal["city"], "legal_zip": legal["zip"],
        "country": country_of(item.actual_address_full) or legal_country,
        "legal_country": legal_country,
        "tags": sorted({_s(tag).lower() for tag in item.tags if _s(tag)}),
        "active": not item.archived,
        # Collections not expanded (and not empty) are unknown.
        "accounts": _accounts_of(item.accounts)
        if item.accounts or not item.accounts_count else None,
        "contacts": _contacts_of(item.contacts)
        if item.contacts or not item.contacts_count else None,
    }
    return values


# -- Odoo → values --------------------------------------------------------------------------
def from_partners(env, partners):
    """{partner id: values} for commercial partners, with a constant number of reads."""
    partners = partners.with_context(active_test=False)
    rows = partners.read(PARTNER_READ)
    Bank = env["res.partner.bank"].sudo().with_context(active_test=False)
    banks = Bank.search_fetch(
        [("partner_id", "in", partners.ids), ("active", "=", True)],
        ["partner_id", "acc_number", "bank_id"],
    )
    banks.bank_id.fetch(["name", "bic", "ru_correspondent_account"])
    accounts = {}
    for bank in banks:
        accounts.setdefault(bank.partner_id.id, []).append([
            _s(bank.acc_number), _s(bank.bank_id.name), _s(bank.bank_id.bic),
            _s(bank.bank_id.ru_correspondent_account),
        ])
    children = env["res.partner"].sudo().search_fetch(
        [("parent_id", "in", partners.ids), ("type", "=", "contact"), ("is_company", "=", False)],
        ["parent_id", "name", "function", "phone", "email", "ref"],
    )
    contacts = {}
    for child in children:
        contacts.setdefault(child.parent_id.id, []).append([
            _s(child.name), _s(child.function), _s(child.phone), _s(child.email), _s(child.ref),
        ])
    countries = {c.id: c.code for c in env["res.country"].sudo().browse(
        {row[name][0] for row in rows for name in COUNTRY_FIELDS.values() if row[name]})}
    categories = dict(env["res.partner.category"].sudo().browse(
        {cid for row in rows for cid in row["category_id"]}
    ).mapped(lambda c: (c.id, c.name)))
    result = {}
    for row in rows:
        company_type = row["ru_company_type"] or ("legal" if row["is_company"] else "individual")
        values = {key: _s(row[field]) for key, field in PARTNER_FIELDS.items()}
        for key, name in COUNTRY_FIELDS.items():
            values[key] = (countries.get(row[name][0]) or "") if row[name] else ""
        if not is_inn_country(countries.get(row["country_id"] and row["country_id"][0])):
            values["inn"] = None  # a foreign Tax ID is not an INN: not synced either way
        if company_type != "legal":
            values["kpp"] = ""
        if company_type == "individual":
            values["ogrn"] = values["okpo"] = ""
        values.update(
            company_type=company_type,
            description=_s(html2plaintext(row["comment"] or "")) if row["comment"] else "",
            tags=sorted({_s(categories[cid]).lower() for cid in row["category_id"]}),
            active=bool(row["active"]),
            accounts=sorted(accounts.get(row["id"], [])),
            contacts=sorted(contacts.get(row["id"], [])),
        )
        result[row["id"]] = values
    return result


# -- values → MoySklad -------------------------------------------------------------------------
def _address_out(values, prefix, country_href):
    """The structured address to send, or None; ``country_href(code)`` gives the href of a
    country to send ("" when MoySklad's list has none: sent without)."""
    street, street2 = values[prefix + "street"], values[prefix + "street2"]
    city, zip_code = values[prefix + "city"], values[prefix + "zip"]
    country = values[prefix + "country"]
    has_parts = street or street2 or city or zip_code
    if not has_parts and (not country or (not prefix and country == values["legal_country"])):
        return None
    address = {"street": street, "apartment": street2, "city": city, "postal_code": zip_code,
               "house": ""}
    href = kept_href(country) or (country_href(country) if country else "")
    if href:
        address["country_href"] = href
    return address


def to_draft(values, *, href="", sync_id="", external_code=None, collections=True, key=None,
             country_href=None):
    """MsCounterpartyDraft from values; ``collections``: also send the bank accounts and
    contact persons (they replace MoySklad's); ``country_href(code)``: see ``_address_out``."""
    country_href = country_href or (lambda code: "")
    company_type = values["company_type"]
    creating = not href

    def plain(name):
        value = values[name]
        return (value or None) if creating else value

    draft = MsCounterpartyDraft(
        name=values["name"], href=href, sync_id=sync_id if creating else "",
        company_type=company_type, legal_title=plain("legal_title"), inn=plain("inn"),
        kpp=plain("kpp"), ogrn=plain("ogrn") if company_type == "legal" else None,
        ogrnip=plain("ogrn") if company_type == "entrepreneur" else None,
        okpo=plain("okpo"), email=plain("email"), phone=plain("phone"), fax=plain("fax"),
        description=plain("description"), external_code=external_code,
        archived=not values["active"], tags=list(values["tags"]),
        actual_address=_address_out(values, "", country_href),
        legal_address=_address_out(values, "legal_", country_href),
        key=key,
    )
    if collections and values["accounts"] is not None:
        draft.accounts = [
            MsAccount(account_number=number, bank_name=bank, bic=bic,
                      correspondent_account=corr, is_default=index == 0)
            for index, (number, bank, bic, corr) in enumerate(values["accounts"])
        ]
    if collections and values["contacts"] is not None:
        draft.contacts = [
            MsContact(name=name, position=position, phone=phone, email=email,
                      external_code=code)
            for name, position, phone, email, code in values["contacts"]
        ]
    return draft


# -- values → Odoo -----------------------------------------------------------------------------
def partner_vals(values, keys, category_ids, country_ids=None):
    """res.partner write values for ``keys`` (accounts and contacts are written apart);
    ``country_ids``: {alpha-2 code: res.country id}. A country Odoo has not is left as it is
    (the caller reports it)."""
    vals = {}
    for key in keys:
        if key in COUNTRY_FIELDS:
            country_id = (country_ids or {}).get(values[key]) if values[key] else False
            if country_id is not None:
                vals[COUNTRY_FIELDS[key]] = country_id
        elif key in PARTNER_FIELDS:
            vals[PARTNER_FIELDS[key]] = values[key] or False
        elif key == "company_type":
            vals["ru_company_type"] = values[key]
            vals["is_company"] = values[key] != "individual"
        elif key == "description":
            vals["comment"] = plaintext2html(values[key]) if values[key] else False
        elif key == "tags":
            vals["category_id"] = [(6, 0, [category_ids[name] for name in values[key]])]
        elif key == "active":
            vals["active"] = values[key]
    return vals
