"""Russian requisites on partners and their counterparty mappings (MoySklad part 2).

Decisions (the issue is silent):
- The INN is the partner's Tax ID (``vat``); OGRN (legal entity) or OGRNIP (entrepreneur) is the
  Company ID (``company_registry``); KPP, OKPO, fax, the legal title and the company type are
  fields of their own. The partner's address is the counterparty's actual address; the legal
  address has fields of its own on the partner, its country too (``ru_legal_country_id``).
- Company type: a legal entity and an entrepreneur are companies in Odoo, an individual is a
  person; a partner without a company type is a legal entity when it is a company, else an
  individual.
- A bank's correspondent account is a field of the bank (``res.bank``): it belongs to the bank.
- The Tax ID is the INN only for a partner of Russia or of no country: a foreign Tax ID is
  neither checked nor sent as an INN.
- The INN is checked as MoySklad does (length by company type, check digits): the problem is
  shown on the partner (``ru_inn_problem``) and a partner with a bad INN is not sent (its
  mapping and the log say why).
"""

from odoo import api, fields, models

from ..api.moysklad_partners_data import inn_problem
from .moysklad_partner_values import is_inn_country

COMPANY_TYPES = [
    ("legal", "Legal entity"),
    ("entrepreneur", "Individual entrepreneur"),
    ("individual", "Individual"),
]


def describe_inn_problem(env, code, inn):
    messages = {
        "digits": env._("The INN %(inn)s must contain digits only.", inn=inn),
        "length": env._("The INN %(inn)s must have 10 digits (a legal entity) or 12 digits "
                        "(an entrepreneur or an individual).", inn=inn),
        "kind": env._("The INN %(inn)s does not fit the company type: a legal entity has 10 "
                      "digits, an entrepreneur or an individual 12.", inn=inn),
        "check": env._("The INN %(inn)s is not valid: its check digit is wrong (a typing "
                       "error?).", inn=inn),
    }
    return messages.get(code, "")


class ResPartner(models.Model):
    _inherit = "res.partner"

    ru_company_type = fields.Selection(
        COMPANY_TYPES, string="Company type (RU)",
        help="Legal entity, entrepreneur or individual: decides which requisites apply.",
    )
    ru_legal_title = fields.Char(string="Legal title")
    ru_kpp = fields.Char(string="KPP")
    ru_okpo = fields.Char(string="OKPO")
    ru_fax = fields.Char(string="Fax")
    ru_legal_street = fields.Char(string="Legal address: street")
    ru_legal_street2 = fields.Char(string="Legal address: street 2")
    ru_legal_city = fields.Char(string="Legal address: city")
    ru_legal_zip = fields.Char(string="Legal address: ZIP")
    ru_legal_country_id = fields.Many2one("res.country", string="Legal address: country",
                                          ondelete="restrict")
    ru_inn_problem = fields.Char(string="INN problem", compute="_compute_ru_inn_problem")
    supplier_partner_ids = fields.One2many(
        "supplier.partner", "partner_id", string="Counterparty mappings",
        groups="supplier_connector.group_supplier_user",
    )
    supplier_partner_count = fields.Integer(
        compute="_compute_supplier_partner_count",
        groups="supplier_connector.group_supplier_user",
    )

    @api.depends("vat", "ru_company_type", "is_company", "country_id")
    def _compute_ru_inn_problem(self):
        for partner in self:
            inn = (partner.vat or "").strip()
            # A foreign partner's Tax ID is not an INN.
            code = inn_problem(inn, partner._ru_company_type()) \
                if is_inn_country(partner.country_id.code) else None
            partner.ru_inn_problem = describe_inn_problem(self.env, code, inn) if code else False

    def _ru_company_type(self):
        self.ensure_one()
        return self.ru_company_type or ("legal" if self.is_company else "individual")

    @api.depends("supplier_partner_ids")
    def _compute_supplier_partner_count(self):
        counts = dict(self.env["supplier.partner"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )) if self.ids else {}
        for partner in self:
            partner.supplier_partner_count = counts.get(partner, 0)

    def action_open_supplier_partners(self):
        """The counterparty mappings of this partner."""
        self.env["supplier.backend"]._check_right("user")
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Counterparty mappings"),
            "res_model": "supplier.partner",
            "view_mode": "list,form",
            "domain": [("partner_id", "in", self.ids)],
            "context": {"default_partner_id": self[:1].id},
        }


class ResBank(models.Model):
    _inherit = "res.bank"

    ru_correspondent_account = fields.Char(string="Correspondent account")
