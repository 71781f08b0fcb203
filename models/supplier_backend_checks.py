"""What a connection accepts, and from whom: its settings' checks and the callers' rights."""

from urllib.parse import urlsplit

from odoo import api, models
from odoo.exceptions import AccessError, ValidationError

from ..services import ADAPTERS

# Who may call what (DESIGN §6 "Rights live in the methods"): the group, then the access the
# caller needs on the connections themselves (access rights and multi-company record rules).
RIGHTS = {
    "user": ("supplier_connector.group_supplier_user", "read"),
    "manager": ("supplier_connector.group_supplier_manager", "write"),
}


def is_http_url(url):
    """An absolute http(s) URL with a host, no spaces and no user or password in it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https") and bool(parts.hostname)
        and not any(char.isspace() for char in url)
    )


class SupplierBackend(models.Model):
    _inherit = "supplier.backend"

    # No SQL checks on supplier_backend: PostgreSQL would fail the write before these run, and
    # print the whole row in its error. Checked here, with a message the user can act on.

    def _number_rules(self):
        """Numeric settings checked on save: field → True when it must be above 0, False when
        it may be 0. Services add their own (models/backend_<service>.py)."""
        return {
            "batch_size": True,
            "timeout": True,
            "catalogue_poll_count": True,
            "stale_after_hours": True,
            "max_retries": False,
            "rate_limit": False,
            "catalogue_poll_seconds": False,
            "max_items_per_run": False,
            "offer_max_days": False,
        }

    @api.constrains(lambda self: self._number_rules())
    def _check_numbers(self):
        rules = self._number_rules()
        for backend in self:
            for name, strict in rules.items():
                value = backend[name] or 0
                if value < 0 or (strict and value <= 0):
                    label = self._fields[name]._description_string(self.env)
                    raise ValidationError(
                        self.env._("%(setting)s must be greater than 0.", setting=label) if strict
                        else self.env._("%(setting)s cannot be negative.", setting=label)
                    )

    @api.constrains("api_url")
    def _check_api_url(self):
        for backend in self.filtered("api_url"):
            if is_http_url(backend.api_url):
                if urlsplit(backend.api_url).username is None:
                    continue
                raise ValidationError(self.env._(
                    "The API URL must not contain a user name or password: an administrator types "
                    "them on the Credentials tab."
                ))
            adapter = ADAPTERS.get(backend.service)
            raise ValidationError(self.env._(
                "The API URL must be a full web address starting with http:// or https:// "
                "followed by a host name, e.g. %(example)s.",
                example=adapter.default_url if adapter else "https://example.com/api",
            ))

    # -- rights -----------------------------------------------------------------------------
    def _check_right(self, level):
        """Refuse the caller unless they hold ``level`` ("user" or "manager") on these connections.

        Called first by every public method (DESIGN §6), before anything runs with sudo():
        the group of the level, then access rights and record rules on the connections, so
        another company's connections are refused too. Superuser code (crons, sudo) passes.
        """
        if self.env.su:
            return
        group, operation = RIGHTS[level]
        if not self.env.user.has_group(group):
            raise AccessError(
                self.env._("Only supplier connector users can run supplier syncs.") if level == "user"
                else self.env._(
                    "Only supplier connector managers can test connections, map products, "
                    "import catalogues, enrich products and reset sessions."
                )
            )
        self.check_access(operation)
