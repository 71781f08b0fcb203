"""Who UDOMA's marketplace orders belong to in Sales (issue 11).

Pulled orders used to get the user running the pull as their salesperson: OdooBot for the
cron, so Sales' default "My Quotations" filter hid every marketplace order. The connection now
names a salesperson and a sales team, and every pulled order gets them.

Decisions where the issue is silent:

- One salesperson and team per connection (not per shop): a marketplace account is usually
  served by one person; the shop's customer and warehouse already tell the shops apart.
- The salesperson defaults to whoever creates the connection, unless that is OdooBot or
  another superuser (a connection made by a script or the demo data): then no default.
  Connections made before the field existed, and any left empty, use the user who created the
  connection when that is a real user; else the order has no salesperson (never OdooBot).
- The team: the chosen one, else Odoo's own choice for the salesperson (their team).
- The demo connection is loaded by OdooBot: demo/udoma_sales_demo.xml makes the administrator
  its salesperson, so the demo's marketplace orders show in their "My Quotations".
"""

from odoo import fields, models


def _real_user(user):
    """``user`` when a person may own orders: not OdooBot, not a superuser, not a portal user."""
    if not user or user._is_superuser() or user.share or not user.active:
        return user.browse()
    return user


class SupplierBackendUdomaSales(models.Model):
    _inherit = "supplier.backend"

    udoma_user_id = fields.Many2one(
        "res.users", string="Salesperson", domain=[("share", "=", False)],
        default=lambda self: _real_user(self.env.user),
        help="The salesperson of the sale orders pulled from UDOMA (their 'My Quotations' "
        "shows them). Empty: the user who created the connection.",
    )
    udoma_team_id = fields.Many2one(
        "crm.team", string="Sales team",
        help="The sales team of the sale orders pulled from UDOMA. Empty: the salesperson's team.",
    )

    def _udoma_order_owner_values(self):
        """The salesperson and team values of a pulled order (never OdooBot)."""
        self.ensure_one()
        user = _real_user(self.udoma_user_id) or _real_user(self.create_uid)
        values = {"user_id": user.id or False}
        if self.udoma_team_id:
            values["team_id"] = self.udoma_team_id.id
        return values
