"""One run per (connection, operation) at a time (DESIGN §4.1), tested for real: another
PostgreSQL connection plays the other Odoo worker whose run holds the lock.

The test's own transaction never commits, so the other connection cannot see its records;
advisory locks belong to connections, not transactions, so the lock works all the same.
"""

from unittest.mock import patch

from psycopg2 import errors as pg_errors

from odoo import sql_db
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.supplier_connector.models.run_lock import RunLock, lock_key
from odoo.addons.supplier_connector.services.etm import EtmAdapter

from .common import EtmCase, ShateCase

SCHEDULE_LOGGER = "odoo.addons.supplier_connector.models.supplier_backend_schedule"


class OtherWorker:
    """Helpers: another database connection, as another Odoo worker has."""

    def other_cursor(self):
        cr = sql_db.db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(cr.close)
        return cr

    def hold_lock(self, backend, operation):
        """Another worker's run of ``operation`` is under way; returns the function ending it."""
        cr = self.other_cursor()
        key = lock_key(backend.id, operation)
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        self.assertTrue(cr.fetchone()[0])
        held = [True]

        def release():
            if held.pop() if held else False:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", key)

        self.addCleanup(release)  # runs before the cursor's close (cleanups run last first)
        return release

    def lock_is_free(self, backend, operation):
        """Seen from yet another connection (this one's own locks are re-entrant)."""
        cr = self.other_cursor()
        key = lock_key(backend.id, operation)
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        free = cr.fetchone()[0]
        if free:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        return free

    def schedule(self, operation="sync_offers", backend=None):
        backend = backend or self.backend
        return backend.schedule_ids.filtered(lambda s: s.operation == operation)

    def logs(self, backend=None):
        return self.env["supplier.sync.log"].search(
            [("backend_id", "=", (backend or self.backend).id)]
        )


@tagged("post_install", "-at_install")
class TestRunLock(OtherWorker, EtmCase):
    product_count = 6

    def setUp(self):
        super().setUp()
        self.backend.write({"batch_size": 3, "max_retries": 0, "timeout": 2})

    def refuse_updates_of(self, record):
        """From now on, PostgreSQL refuses to update ``record``'s row as it does when another
        transaction updated it since this one started (serialization failure)."""
        self.env.flush_all()
        self.env.cr.execute("""
            CREATE FUNCTION sc_test_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'could not serialize access due to concurrent update'
                    USING ERRCODE = 'serialization_failure';
            END $$;
        """)
        self.env.cr.execute(SQL(
            "CREATE TRIGGER sc_test_refuse_update BEFORE UPDATE ON %s FOR EACH ROW "
            "WHEN (OLD.id = %s) EXECUTE FUNCTION sc_test_refuse_update()",
            SQL.identifier(record._table), record.id,
        ))

    def test_sync_now_is_refused_while_another_run_holds_the_lock(self):
        release = self.hold_lock(self.backend, "sync_offers")
        before = self.logs()
        with self.assertRaises(UserError) as refusal:
            self.backend.action_sync_offers()
        self.assertIn("already running", str(refusal.exception))
        self.assertIn("Prices and stock", str(refusal.exception))
        self.assertFalse(self.emulator.requests, "nothing asked twice from the supplier")
        self.assertEqual(self.logs(), before)
        release()
        self.backend.action_sync_offers()
        self.assertEqual(self.last_log().state, "done")
        self.assertTrue(self.lock_is_free(self.backend, "sync_offers"), "released after the run")

    def test_scheduled_run_is_skipped_while_another_run_holds_the_lock(self):
        schedule = self.schedule()
        schedule.write({"next_call": "2020-01-01 00:00:00", "last_call": False})
        release = self.hold_lock(self.backend, "sync_offers")
        before = self.logs()
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(self.logs(), before, "no log, nothing failed")
        self.assertFalse(self.emulator.requests)
        self.assertEqual(str(schedule.next_call), "2020-01-01 00:00:00", "still due: next tick")
        self.assertFalse(schedule.last_call)
        release()
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(schedule.last_log_id.state, "done")
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 6)
        self.assertGreater(schedule.next_call, schedule.last_call)
        self.assertTrue(self.lock_is_free(self.backend, "sync_offers"))

    def test_running_log_is_marked_interrupted_only_when_its_lock_is_free(self):
        scheduled = self.env["supplier.sync.log"].create({
            "backend_id": self.backend.id, "operation": "sync_offers", "trigger": "cron",
            "state": "running",
        })
        release = self.hold_lock(self.backend, "sync_offers")
        # A product Sync beside the scheduled run: it works, and leaves that run alone.
        product = self.products[0]
        action = product.action_supplier_sync()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.binding_of(self.codes[0]).sync_state, "ok")
        self.assertEqual(
            [r.raw_path.split("/goods/")[1].split("/")[0] for r in self.emulator.requests
             if r.label == "price"], [self.codes[0]],
        )
        self.assertEqual(scheduled.state, "running")
        self.assertFalse(scheduled.message)
        # Nor does a skipped scheduled run, nor a refused Sync now.
        self.schedule().next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        with self.assertRaises(UserError):
            self.backend.action_sync_offers()
        self.assertEqual(scheduled.state, "running")
        # Once the lock is free, that run is provably dead: the next run says so.
        release()
        product.action_supplier_sync()
        self.assertEqual(scheduled.state, "failed")
        self.assertIn("Interrupted", scheduled.message)

    @mute_logger("odoo.sql_db")
    def test_concurrent_update_in_a_scheduled_run_is_skipped_not_failed(self):
        taken = self.bindings[1]
        self.refuse_updates_of(taken)
        self.schedule().next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        log = self.schedule().last_log_id
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual((log.processed, log.updated, log.skipped, log.failed), (6, 5, 1, 0))
        self.assertIn("updated by another run at the same time", log.message)
        self.assertFalse(log.line_ids)
        self.assertEqual(taken.sync_state, "new", "left to the other run")
        self.assertFalse(taken.last_attempt)
        self.assertEqual((self.bindings - taken).mapped("sync_state"), ["ok"] * 5)
        # Its batch mates were written although the batch as a whole was refused.
        self.assertEqual(self.binding_of(self.codes[0]).sync_state, "ok")

    @mute_logger("odoo.sql_db")
    def test_connection_state_saved_by_another_run_does_not_stop_a_scheduled_run(self):
        # A product Sync saved the session (or the price budget) on the connection meanwhile.
        self.refuse_updates_of(self.backend)
        self.schedule().next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        log = self.schedule().last_log_id
        self.assertEqual(log.state, "done", log.message)
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 6)
        self.assertEqual(self.labels().count("price"), 2)

    @mute_logger("odoo.sql_db")
    def test_concurrent_update_in_a_button_is_left_to_odoo_to_retry(self):
        taken = self.bindings[1]
        self.refuse_updates_of(taken)
        failure = None
        try:  # not assertRaises, which would roll its block back to a savepoint of its own
            taken.product_id.action_supplier_sync()
        except pg_errors.SerializationFailure as exc:
            failure = exc
        # Raised as is: Odoo's retrying() rolls the request back and runs it again.
        self.assertIsInstance(failure, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)
        # Meanwhile the transaction is usable (the writer's savepoint was rolled back).
        self.env.cr.execute("SELECT sync_state FROM supplier_product WHERE id = %s", [taken.id])
        self.assertEqual(self.env.cr.fetchone()[0], "new")

    @mute_logger("odoo.sql_db", "odoo.addons.supplier_connector.models.run_lock")
    def test_lock_is_released_even_from_an_aborted_transaction(self):
        lock = RunLock(self.env.cr, self.backend.id, "sync_offers")
        self.assertTrue(lock.acquire())
        self.assertFalse(self.lock_is_free(self.backend, "sync_offers"))
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT sc_aborted")
        # Not assertRaises: Odoo's rolls its block back to a savepoint, the point here is not to.
        failure = None
        try:
            self.env.cr.execute("SELECT 1 / 0")
        except pg_errors.DivisionByZero as exc:
            failure = exc
        self.assertIsNotNone(failure)
        lock.release()  # no statement runs now: deferred to the rollback that must follow
        self.assertFalse(self.lock_is_free(self.backend, "sync_offers"))
        self.env.cr.execute("ROLLBACK TO SAVEPOINT sc_aborted")
        self.env.cr.postrollback.run()  # what the cursor's rollback runs after its ROLLBACK
        self.assertTrue(self.lock_is_free(self.backend, "sync_offers"))

    @mute_logger(SCHEDULE_LOGGER, "odoo.sql_db")
    def test_database_error_in_a_scheduled_run_is_recorded_and_the_others_run(self):
        other = self.backend.copy({"name": "Second ETM"})
        other.sudo().write({"login": "tester", "password": self.backend.sudo().password})
        other_binding = self.env["supplier.product"].create({
            "backend_id": other.id, "product_id": self.products[0].id,
            "external_code": self.codes[0],
        })
        pull_offers = EtmAdapter.pull_offers
        broken_id = self.backend.id

        def failing_query(adapter, items):
            if adapter.backend.id == broken_id:
                adapter.backend.env.cr.execute("SELECT 1 / 0")  # aborts the transaction
            return pull_offers(adapter, items)

        (self.backend | other).schedule_ids.write({"next_call": False})
        with patch.object(EtmAdapter, "pull_offers", failing_query):
            self.env["supplier.backend.schedule"]._cron_run_due()
        schedule = self.schedule()
        crash = schedule.last_log_id
        self.assertEqual(crash.state, "failed")
        self.assertIn("unexpected error", crash.message)
        self.assertGreater(schedule.next_call, schedule.last_call)
        self.assertEqual(self.bindings.mapped("sync_state"), ["new"] * 6)
        # The other connection ran, after the crash, in the same scheduler call.
        self.assertEqual(self.schedule(backend=other).last_log_id.state, "done")
        self.assertEqual(other_binding.sync_state, "ok")
        self.assertTrue(self.lock_is_free(self.backend, "sync_offers"))


@tagged("post_install", "-at_install")
class TestShateRunLock(OtherWorker, ShateCase):

    def test_lock_is_per_connection_and_operation(self):
        release = self.hold_lock(self.backend, "sync_offers")
        with self.assertRaises(UserError) as refusal:
            self.backend.action_sync_offers()
        self.assertIn("already running", str(refusal.exception))
        self.assertFalse([r for r in self.emulator.requests if r.label == "prices"])
        # The scheduler skips the prices and still pulls the order status (another lock).
        self.backend.schedule_ids.write({"next_call": False})
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertFalse(self.schedule().last_log_id)
        self.assertEqual(self.schedule("pull_order_status").last_log_id.state, "done")
        self.assertEqual(self.bindings.mapped("sync_state"), ["new"] * 8)
        release()
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(self.schedule().last_log_id.state, "done")
        self.assertEqual(self.bindings.mapped("sync_state"), ["ok"] * 8)
