"""Credentials in their own table: no check a user can trip prints them, in a log or an error."""

import logging

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools.sql import column_exists

from .common import EtmCase
from .rights_common import RightsUsers

LOGIN = "login-4d7e1c"
SECRET_PASSWORD = "pwd-9b2f7a61c3"
SECRET_KEY = "{key-5e8d3b90-aa17}"
SECRET_TOKEN = "token-c0ffee42d00d"
SECRETS = (LOGIN, SECRET_PASSWORD, SECRET_KEY, SECRET_TOKEN)


@tagged("post_install", "-at_install")
class TestCredentials(RightsUsers, EtmCase):
    product_count = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_rights_users()
        cls.backend.sudo().write({
            "login": LOGIN, "password": SECRET_PASSWORD, "api_key": SECRET_KEY,
            "session_token": SECRET_TOKEN,
        })

    def backend_row(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM supplier_backend WHERE id = %s", [self.backend.id])
        return str(self.env.cr.fetchone())

    def test_credentials_live_in_their_own_table(self):
        row = self.backend_row()
        for secret in SECRETS:
            self.assertNotIn(secret, row)
        for column in ("login", "password", "api_key", "session_token", "session_expires_at"):
            self.assertFalse(column_exists(self.env.cr, "supplier_backend", column))
        credential = self.env["supplier.backend.credential"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(
            (credential.login, credential.password, credential.api_key, credential.session_token),
            SECRETS,
        )
        # The fields of the connection read and write that row, one field at a time.
        self.backend.sudo().login = "another-login"
        self.assertEqual(self.backend.sudo().password, SECRET_PASSWORD)
        self.assertEqual(credential.login, "another-login")

    def test_credential_table_is_for_administrators_only(self):
        for user in (self.connector_user, self.manager, self.purchase_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["supplier.backend.credential"].with_user(user).search([])
        for user in (self.connector_user, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.backend.with_user(user).read(["password"])
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager).write({"password": "mine"})
        self.assertEqual(
            self.backend.with_user(self.admin).read(["password"])[0]["password"], SECRET_PASSWORD
        )
        self.backend.with_user(self.admin).write({"password": "new one"})
        self.assertEqual(self.backend.sudo().password, "new one")

    def test_a_connection_and_its_credentials_go_together(self):
        copy = self.backend.copy()
        self.assertFalse(copy.sudo().login or copy.sudo().password or copy.sudo().credential_ids)
        credential = self.backend.sudo().credential_ids
        self.backend.with_user(self.manager).unlink()
        self.assertFalse(credential.exists())

    def test_settings_are_refused_with_a_clear_message(self):
        for name, value, message in (
            ("batch_size", 0, "Batch Size must be greater than 0."),
            ("timeout", 0, "Timeout (seconds) must be greater than 0."),
            ("max_retries", -1, "Max Retries cannot be negative."),
            ("rate_limit", -0.5, "Requests per second cannot be negative."),
            ("catalogue_poll_count", 0, "Catalogue Poll Count must be greater than 0."),
            ("catalogue_poll_seconds", -1, "Catalogue Poll Seconds cannot be negative."),
            ("max_items_per_run", -1, "Max Items Per Run cannot be negative."),
            ("stale_after_hours", 0, "Stale After Hours must be greater than 0."),
            ("offer_max_days", -1, "Within days cannot be negative."),
            ("price_limit_15min", -1, "Price requests per 15 minutes cannot be negative."),
            ("price_limit_day", -1, "Price requests per day cannot be negative."),
        ):
            with self.subTest(name=name), self.assertRaises(ValidationError) as caught:
                self.backend.with_user(self.manager).write({name: value})
            self.assertEqual(str(caught.exception), message)
        for url in ("not a url", "ftp://ipro.etm.ru/api/v1", "file:///etc/passwd", "http://",
                    "https:///api/v1", "http://ipro.etm.ru:port/api"):
            with self.subTest(url=url), self.assertRaisesRegex(ValidationError, "full web address"):
                self.env["supplier.backend"].with_user(self.manager).create(
                    {"name": "Bad address", "service": "etm", "api_url": url}
                )
        with self.assertRaisesRegex(ValidationError, "must not contain a user name or password"):
            self.backend.write({"api_url": "https://user:pw@ipro.etm.ru/api/v1"})
        schedule = self.backend.schedule_ids[:1]
        with self.assertRaisesRegex(ValidationError, "interval must be greater than 0"):
            schedule.with_user(self.manager).write({"interval_number": 0})
        # Zero where zero means "none" is fine; a full address is fine.
        self.backend.write({"rate_limit": 0, "max_retries": 0, "max_items_per_run": 0,
                            "api_url": "https://itest2.etm.ru/api/v1"})

    def test_no_check_prints_a_secret_in_a_log_or_an_error(self):
        errors = []

        def refused(exception, action):
            with self.assertRaises(exception) as caught:
                action()
                self.env.flush_all()
            errors.append(str(caught.exception))

        backend = self.backend
        shate = self.env["supplier.backend"].create({"name": "Shate", "service": "shate"})
        shate.sudo().write({"api_key": SECRET_KEY, "login": LOGIN, "password": SECRET_PASSWORD})
        Credential = self.env["supplier.backend.credential"]
        sql_logger = logging.getLogger("odoo.sql_db")
        sql_level = sql_logger.level
        with self.assertLogs(level=logging.DEBUG) as captured:
            # Every query at debug level too: the ones on the credential table carry values.
            sql_logger.setLevel(logging.DEBUG)
            try:
                # Every check of supplier.backend, on a connection that holds credentials.
                for record in (backend, shate):
                    for name, strict in record._number_rules().items():
                        refused(ValidationError, lambda r=record, n=name, s=strict:
                                r.write({n: 0 if s else -1}))
                refused(ValidationError, lambda: backend.write({"api_url": "ftp://x"}))
                refused(ValidationError, lambda: backend.write(
                    {"batch_size": 0, "password": SECRET_PASSWORD + "-new"}))
                refused(AccessError, lambda: backend.with_user(self.manager).write(
                    {"api_url": "http://127.0.0.1:1/api/v1"}))
                # Required columns: PostgreSQL prints the whole row, which holds no secret.
                for name in ("name", "service", "company_id"):
                    refused(IntegrityError, lambda n=name: backend.write({n: False}))
                # The schedule's checks.
                schedule = backend.schedule_ids[:1]
                refused(ValidationError, lambda: schedule.write({"interval_number": 0}))
                refused(IntegrityError, lambda: self.env["supplier.backend.schedule"].create(
                    {"backend_id": backend.id, "operation": schedule.operation}))
                # The credential model's checks, before anything is written.
                refused(ValidationError, lambda: Credential.create(
                    {"backend_id": backend.id, "password": SECRET_PASSWORD}))
                refused(ValidationError, lambda: Credential.create({"password": SECRET_PASSWORD}))
                refused(ValidationError, lambda: backend.credential_ids.write(
                    {"backend_id": shate.id}))
                # And the database's own, should a race get past them: the failing query is
                # logged without its values.
                refused(IntegrityError, lambda: self.env.cr.execute(
                    "INSERT INTO supplier_backend_credential (backend_id, password, api_key) "
                    "VALUES (%s, %s, %s)", [backend.id, SECRET_PASSWORD, SECRET_KEY]))
            finally:
                sql_logger.setLevel(sql_level)
        formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
        logged = [formatter.format(record) for record in captured.records]
        errors_logged = "\n".join(line for line in logged if line.startswith("ERROR"))
        self.assertIn("Failing row contains", errors_logged, "the database's errors were captured")
        self.assertIn("supplier_backend_credential (values not logged)", errors_logged)
        self.assertGreater(len(errors), 25)
        for text in logged + errors:
            for secret in SECRETS:
                self.assertNotIn(secret, text)
        self.assertEqual(backend.sudo().password, SECRET_PASSWORD)

    def test_upgrade_moves_the_old_columns(self):
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("""
            ALTER TABLE supplier_backend ADD COLUMN login varchar, ADD COLUMN password varchar,
                ADD COLUMN api_key varchar, ADD COLUMN session_token varchar,
                ADD COLUMN session_expires_at timestamp, ADD COLUMN session_logged_in_at timestamp;
            DELETE FROM supplier_backend_credential;
        """)
        cr.execute("UPDATE supplier_backend SET login = %s, password = %s WHERE id = %s",
                   ["old-login", "old-password", self.backend.id])
        moved = self.env["supplier.backend.credential"]._move_legacy_columns()
        self.assertEqual(moved, 1)
        self.assertFalse(column_exists(cr, "supplier_backend", "password"))
        backend = self.backend.sudo()
        self.assertEqual((backend.login, backend.password), ("old-login", "old-password"))
        self.assertEqual(self.env["supplier.backend.credential"]._move_legacy_columns(), 0)
