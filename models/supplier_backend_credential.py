"""The secrets of a connection, in a table of their own (DESIGN §3 "Credentials").

When a check of a table fails, PostgreSQL prints the whole row ("Failing row contains ...") and
Odoo logs it, with the failing query and its values, at ERROR level. So the secrets do not live in
``supplier_backend``, whose settings a user can get wrong, but here: one row per connection, no
check a user can trip, readable and writable by system administrators only, deleted with its
connection. ``supplier.backend`` shows them as non-stored fields (``login``, ``password``...) with
``groups="base.group_system"``, so views, demo data and adapters read and write them as before.
"""

import logging

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

TABLE = "supplier_backend_credential"
# Everything kept here; the first four make a connection "hold credentials".
CREDENTIAL_FIELDS = (
    "login", "password", "api_key", "session_token", "session_expires_at", "session_logged_in_at",
)
SECRET_FIELDS = ("login", "password", "api_key", "session_token")
# Where the credentials are sent.
CREDENTIAL_ROUTING_FIELDS = ("service", "api_url", "trusted_hosts")


class SupplierBackendCredential(models.Model):
    _name = "supplier.backend.credential"
    _description = "Supplier connection credentials"
    _rec_name = "backend_id"

    backend_id = fields.Many2one(
        "supplier.backend", string="Connection", required=True, ondelete="cascade", index=True,
    )
    login = fields.Char()
    password = fields.Char()
    api_key = fields.Char(string="API key")
    session_token = fields.Char()
    session_expires_at = fields.Datetime()
    session_logged_in_at = fields.Datetime()

    # The only database check: it names the key, never the row. The Python checks below run first.
    _sql_constraints = [
        ("backend_unique", "UNIQUE(backend_id)", "A supplier connection has one set of credentials."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        # Checked before the INSERT: a failing INSERT would be logged with its values.
        backend_ids = [vals.get("backend_id") for vals in vals_list]
        unique_ids = set(backend_ids)
        if not all(backend_ids) or len(
            self.env["supplier.backend"].browse(unique_ids).exists()
        ) != len(unique_ids):
            raise ValidationError(self.env._("Credentials belong to an existing supplier connection."))
        if len(unique_ids) < len(backend_ids) or self.sudo().search_count(
            [("backend_id", "in", list(unique_ids))], limit=1
        ):
            raise ValidationError(self.env._("A supplier connection has one set of credentials."))
        return super().create(vals_list)

    def write(self, vals):
        if "backend_id" in vals and any(c.backend_id.id != vals["backend_id"] for c in self):
            raise ValidationError(self.env._("Credentials stay with their supplier connection."))
        return super().write(vals)

    @api.model
    def _move_legacy_columns(self):
        """Upgrade from 18.0.1.0.0, where the secrets were columns of ``supplier_backend``."""
        cr = self.env.cr
        present = [name for name in CREDENTIAL_FIELDS if column_exists(cr, "supplier_backend", name)]
        if not present:
            return 0
        columns = SQL(", ").join(SQL.identifier(name) for name in present)
        sources = SQL(", ").join(SQL.identifier("b", name) for name in present)
        filled = SQL(" OR ").join(SQL("%s IS NOT NULL", SQL.identifier("b", name)) for name in present)
        cr.execute(SQL(
            """
            INSERT INTO supplier_backend_credential
                   (backend_id, %s, create_uid, create_date, write_uid, write_date)
            SELECT b.id, %s, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC'
              FROM supplier_backend b
             WHERE NOT EXISTS (SELECT 1 FROM supplier_backend_credential c WHERE c.backend_id = b.id)
               AND (%s)
            """,
            columns, sources, SUPERUSER_ID, SUPERUSER_ID, filled,
        ))
        moved = cr.rowcount
        cr.execute(SQL("ALTER TABLE supplier_backend %s", SQL(", ").join(
            SQL("DROP COLUMN %s", SQL.identifier(name)) for name in present
        )))
        self.env.invalidate_all()
        _logger.info("Moved the credentials of %s supplier connections to %s", moved, TABLE)
        return moved


def credential_field(name, field_type=fields.Char, **options):
    """A secret of the connection, shown on ``supplier.backend``, stored in its credential row.

    Each field computes and inverses on its own: Odoo shields every field of a shared compute
    while one of them is written and reads the others as empty, so a shared inverse would wipe
    the password when only the login changes.
    """

    def compute(backends):
        for backend in backends:
            backend[name] = backend.sudo().credential_ids[:1][name]

    def inverse(backends):
        backends._write_credential(name)

    return field_type(
        compute=compute, inverse=inverse, depends=[f"credential_ids.{name}"],
        groups="base.group_system", copy=False, **options,
    )


class SupplierBackend(models.Model):
    _inherit = "supplier.backend"

    # System administrators only; never tracked, never logged.
    credential_ids = fields.One2many(
        "supplier.backend.credential", "backend_id", groups="base.group_system", copy=False
    )
    login = credential_field("login")
    password = credential_field("password")
    api_key = credential_field("api_key", string="API key")
    session_token = credential_field("session_token")
    session_expires_at = credential_field("session_expires_at", fields.Datetime)
    session_logged_in_at = credential_field("session_logged_in_at", fields.Datetime)

    def _write_credential(self, name):
        """Inverse of one credential field: into the connection's credential row."""
        Credential = self.env["supplier.backend.credential"].sudo()
        for backend in self:
            value = backend[name] or False
            credential = backend.sudo().credential_ids[:1]
            if not credential:
                if not value:
                    continue
                # The row is inserted empty and the secret written by an UPDATE: should the
                # INSERT ever fail, the logged query carries no secret.
                credential = Credential.create({"backend_id": backend.id})
            if credential[name] != value:
                credential[name] = value

    def _has_credentials(self):
        self.ensure_one()
        credential = self.sudo().credential_ids[:1]
        return any(credential[name] for name in SECRET_FIELDS)

    # A manager may create a connection with an address of their own: it holds no credentials
    # yet, and the administrator who types them sees that address on the form. Once it holds
    # some, only those who may read them may change where they are sent (DESIGN §3).
    def write(self, vals):
        self._check_credential_routing(vals)
        return super().write(vals)

    def _check_credential_routing(self, vals):
        touched = [name for name in CREDENTIAL_ROUTING_FIELDS if name in vals]
        if not touched or self.env.su or self.env.user.has_group("base.group_system"):
            return
        for backend in self:
            changed = [name for name in touched if (backend[name] or False) != (vals[name] or False)]
            if changed and backend._has_credentials():
                raise AccessError(self.env._(
                    "Only administrators (Settings access) can change the service, API URL or "
                    "trusted hosts of the connection %(connection)s: it holds credentials, and "
                    "they would be sent to the new address.",
                    connection=backend.display_name,
                ))


class HideCredentialQueries(logging.Filter):
    """Keeps the values of queries on the credential table out of ``odoo.sql_db``'s log.

    Odoo logs a failing query with its values ("bad query: ...", and every query at debug
    level). The Python checks keep our own queries from failing, but a race (two
    administrators, a cron saving a session) can still make one fail: it is then logged as
    failed, with PostgreSQL's primary message, without its values.
    """

    def filter(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        if any(TABLE in _text(arg) for arg in args if isinstance(arg, (str, bytes))):
            error = next((arg for arg in args if isinstance(arg, Exception)), None)
            diag = getattr(error, "diag", None)
            primary = getattr(diag, "message_primary", None) or type(error).__name__
            record.msg = "query on %s (values not logged)%s"
            record.args = (TABLE, f"; ERROR: {primary}" if error is not None else "")
        return True


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _install_query_filter():
    sql_logger = logging.getLogger("odoo.sql_db")
    # Once per process, also when this module is imported again (tests, reloads).
    if not any(type(f).__name__ == HideCredentialQueries.__name__ for f in sql_logger.filters):
        sql_logger.addFilter(HideCredentialQueries())


_install_query_filter()
