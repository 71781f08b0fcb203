"""How an Odoo delivery method maps to IMSKLAD's delivery type and courier (add_order's
``delivery_type`` and ``courier``), and whether it delivers to a pickup point.

The document's table lists, per delivery type, the couriers that serve it (Russian Post: 7 via
Grastin or 42; CDEK: 7; Grastin: 6; BoxBerry: 32; Peshkariki: 40): a courier outside its type's
list, or a courier without a type, is refused when the delivery method is saved, in plain words.
The document does not say which types need ``pickup_point``: a CDEK or BoxBerry courier may
deliver to the door or to a pickup point, so it is a setting of the delivery method
("Delivers to a pickup point"); an order with such a method is not sent without one.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..api.imsklad_data import DELIVERY_COURIERS

# English labels of the document's delivery types and couriers, with their ids.
DELIVERY_TYPE_SELECTION = [
    ("4", "Russian Post (4)"),
    ("16", "CDEK (16)"),
    ("22", "Grastin (22)"),
    ("62", "BoxBerry (62)"),
    ("113", "Peshkariki (113)"),
]
COURIER_SELECTION = [
    ("7", "Grastin (7)"),
    ("42", "Russian Post (42)"),
    ("6", "Grastin (6)"),
    ("32", "BoxBerry (32)"),
    ("40", "Peshkariki (40)"),
]


class DeliveryCarrierImsklad(models.Model):
    _inherit = "delivery.carrier"

    imsklad_delivery_type = fields.Selection(
        DELIVERY_TYPE_SELECTION, string="IMSKLAD delivery type",
        help="The delivery type sent to the IMSKLAD warehouse for orders with this method.",
    )
    imsklad_courier = fields.Selection(
        COURIER_SELECTION, string="IMSKLAD courier",
        help="The courier IMSKLAD hands the orders to; it must serve the delivery type.",
    )
    imsklad_pickup_point_required = fields.Boolean(
        string="Delivers to a pickup point",
        help="Orders with this method need the code of the courier's pickup point; they are "
        "not sent to IMSKLAD without it.",
    )

    @api.onchange("imsklad_delivery_type")
    def _onchange_imsklad_delivery_type(self):
        for carrier in self:
            couriers = courier_codes(carrier.imsklad_delivery_type)
            if carrier.imsklad_courier not in couriers:
                carrier.imsklad_courier = couriers[0] if len(couriers) == 1 else False

    @api.constrains("imsklad_delivery_type", "imsklad_courier")
    def _check_imsklad_courier(self):
        type_labels = dict(DELIVERY_TYPE_SELECTION)
        courier_labels = dict(COURIER_SELECTION)
        for carrier in self:
            if carrier.imsklad_courier and not carrier.imsklad_delivery_type:
                raise ValidationError(self.env._(
                    "%(carrier)s: choose the IMSKLAD delivery type of the courier %(courier)s.",
                    carrier=carrier.name, courier=courier_labels[carrier.imsklad_courier],
                ))
            allowed = courier_codes(carrier.imsklad_delivery_type)
            if carrier.imsklad_courier and carrier.imsklad_courier not in allowed:
                raise ValidationError(self.env._(
                    "%(carrier)s: IMSKLAD's courier %(courier)s does not serve the delivery "
                    "type %(type)s. Choose one of: %(allowed)s.",
                    carrier=carrier.name, courier=courier_labels[carrier.imsklad_courier],
                    type=type_labels[carrier.imsklad_delivery_type],
                    allowed=", ".join(courier_labels[code] for code in allowed),
                ))


def courier_codes(delivery_type):
    """The courier selection codes the document lists for a delivery type code ('' → none)."""
    if not delivery_type:
        return ()
    return tuple(str(code) for code in DELIVERY_COURIERS.get(int(delivery_type), ()))
