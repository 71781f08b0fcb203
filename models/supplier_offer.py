from odoo import fields, models


class SupplierOffer(models.Model):
    """One purchasable offer of a mapped product: a store or location, its stock, its price."""

    _name = "supplier.offer"
    _description = "Supplier offer"
    _order = "binding_id, price, delivery_days, location_code"

    binding_id = fields.Many2one("supplier.product", required=True, ondelete="cascade", index=True)
    # precompute: filled in the INSERT itself, not by a second UPDATE of every new offer.
    backend_id = fields.Many2one(
        related="binding_id.backend_id", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(related="binding_id.company_id", store=True, precompute=True)
    product_id = fields.Many2one(
        related="binding_id.product_id", store=True, index=True, precompute=True
    )
    product_tmpl_id = fields.Many2one(
        related="binding_id.product_tmpl_id", store=True, index=True, string="Product template",
        precompute=True,
    )
    location_id = fields.Many2one("supplier.location", string="Store", ondelete="cascade")
    location_code = fields.Char(string="Store code")
    location_name = fields.Char(related="location_id.name", string="Store name")
    location_type = fields.Char(related="location_id.location_type", string="Store type")
    quantity = fields.Float(digits="Product Unit of Measure")
    currency_id = fields.Many2one("res.currency")
    price = fields.Monetary()
    delivery_days = fields.Integer()
    delivery_label = fields.Char(string="Delivery")
    stock_date = fields.Date(help="Date the supplier computed this stock.")
    external_offer_id = fields.Char(string="Supplier offer ID")
    delivery_date = fields.Datetime()
    shipping_date = fields.Datetime()
    quantity_type = fields.Char(help="How the service states the quantity (exact, more than…).")
    multiplicity = fields.Float(help="Order in multiples of this quantity.")
    min_qty = fields.Float(string="Minimum quantity")
    max_qty = fields.Float(string="Maximum quantity")
    probability = fields.Float(string="Supply probability (%)")
    return_allowed = fields.Boolean()
    warning = fields.Char()
    is_analog = fields.Boolean(string="Analog")
    is_best = fields.Boolean(
        string="Vendor price", help="The offer chosen for the vendor price by the connection's rule."
    )
    fetched_at = fields.Datetime(string="Received", readonly=True)


class SupplierOfferLabels(models.Model):
    """Offers as a buyer reads them: store types by name, the delivery as a sentence.

    Decisions where the documents are silent:
    - Store types are kept as the service sends them (``supplier.location.location_type``) and
      named here: ETM rc / crs / op (and rc2sum, all, seen in the wild), Shate-M Internal /
      External offers, MoySklad stores, IMSKLAD fulfilment. An unknown type shows as sent.
    - ETM sends the delivery as the place the goods are in ("складе производителя", a phrase in
      the prepositional case, whatever the stock): a label that starts in lower case is such a
      place and becomes "At the <place>: delivery in N days" ("На складе производителя: ..."
      once translated). A label that is already a phrase of its
      own (MoySklad, IMSKLAD) is shown as it is; no label and a delivery time give
      "Delivery in N days".
    """

    _inherit = "supplier.offer"

    location_type_label = fields.Char(string="Type", compute="_compute_labels")
    delivery_text = fields.Char(string="Availability", compute="_compute_labels")

    def _location_type_names(self):
        return {
            "rc": self.env._("Regional centre"),
            "crs": self.env._("Distribution warehouse"),
            "op": self.env._("Sales office"),
            "rc2sum": self.env._("Regional centres, total"),
            "all": self.env._("All stores"),
            "internal": self.env._("Supplier's own stock"),
            "external": self.env._("Partner's stock"),
            "store": self.env._("Store"),
            "fulfilment": self.env._("Fulfilment warehouse"),
        }

    def _compute_labels(self):
        names = self._location_type_names()
        for offer in self:
            kind = (offer.location_type or "").strip()
            offer.location_type_label = names.get(kind.lower(), kind) or False
            offer.delivery_text = offer._delivery_sentence() or False

    def _delivery_sentence(self):
        return delivery_sentence(self.env, self.delivery_label, self.delivery_days)


def delivery_sentence(env, label, days):
    """The delivery of an offer or a mapping as a buyer reads it (see SupplierOfferLabels)."""
    label = (label or "").strip()
    if label[:1].islower():
        if days == 1:
            return env._("At the %(place)s: delivery in 1 day", place=label)
        if days:
            return env._("At the %(place)s: delivery in %(days)s days", place=label, days=days)
        return env._("At the %(place)s", place=label)
    if label:
        return label
    if days == 1:
        return env._("Delivery in 1 day")
    if days:
        return env._("Delivery in %(days)s days", days=days)
    return ""


class SupplierProductDelivery(models.Model):
    """The mapping's last answer reads its delivery the same way as its offers."""

    _inherit = "supplier.product"

    delivery_text = fields.Char(string="Availability", compute="_compute_delivery_text")
    # Offers of a service that sells by offer have their own price, date and id (Shate-M);
    # elsewhere (ETM) these columns stay empty and are hidden.
    sells_by_offer = fields.Boolean(related="backend_id.sells_by_offer")

    def _compute_delivery_text(self):
        for binding in self:
            binding.delivery_text = (
                delivery_sentence(self.env, binding.delivery_label, binding.delivery_days) or False
            )
