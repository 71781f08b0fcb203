from odoo.tests import tagged

from .common import PASSWORD, EtmCase


@tagged("post_install", "-at_install")
class TestFaults(EtmCase):
    """Every fault the emulator can raise ends with correct data, a clear log, nothing lost."""

    product_count = 12

    def setUp(self):
        super().setUp()
        self.backend.write({"batch_size": 4, "max_retries": 2, "timeout": 2})

    def assertAllSynced(self):
        for code in self.codes:
            binding = self.binding_of(code)
            self.assertEqual(binding.sync_state, "ok", binding.sync_message)
            self.assertAlmostEqual(binding.price, self.catalogue[code].price, places=2)
            self.assertEqual(binding.qty_available, self.catalogue[code].total_stock)

    def test_session_expiry_mid_run_logs_in_again_once(self):
        self.emulator.set_fault("expire_session", after=6)
        self.backend.action_sync_offers()
        self.assertAllSynced()
        self.assertEqual(self.emulator.counts()["login"], 2)
        self.assertEqual(self.last_log().state, "done")

    def test_5xx_burst_is_retried(self):
        self.emulator.set_fault("http_5xx", count=2, after=3)
        self.backend.action_sync_offers()
        self.assertAllSynced()
        self.assertEqual(self.last_log().state, "done")
        self.assertEqual(self.last_log().request_count, 1 + 3 + 12 + 2)

    def test_429_with_retry_after_is_respected(self):
        self.emulator.set_fault("rate_limit", count=1, after=2, retry_after=1)
        self.backend.action_sync_offers()
        self.assertAllSynced()
        self.assertEqual(self.last_log().state, "done")

    def test_malformed_json_once_is_asked_again_in_halves(self):
        # The second price request (after the login, 1 price + 4 remains) gets truncated JSON.
        self.emulator.set_fault("malformed_json", count=1, after=1 + 1 + 4)
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "done", log.message)
        self.assertAllSynced()
        # 3 batches, and the broken one asked again in two halves.
        price_paths = [r.raw_path for r in self.emulator.requests if r.label == "price"]
        self.assertEqual(len(price_paths), 3 + 2)
        self.assertEqual([path.count("%2C") + 1 for path in price_paths], [4, 4, 4, 2, 2])
        self.assertIn("Failed requests: 1.", log.message)
        self.assertIn("could not be read", log.message)
        self.assertFalse(log.line_ids)

    def test_service_down_stops_the_run_cleanly_and_the_next_run_resumes(self):
        self.backend.write({"batch_size": 2, "max_retries": 0})
        # Batch 1 (1 price + 2 remains after the login) answers, then every request is a 5xx.
        self.emulator.set_fault("http_5xx", count=None, after=1 + 1 + 2)
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "partial")
        self.assertIn("did not answer", log.message)
        self.assertIn("3 failed requests in a row", log.message)
        # Batches 2, 3 and 4 failed in a row (after a failure a fresh batch goes first): stop.
        self.assertEqual(self.labels().count("price"), 1 + 3)
        failed = self.bindings.filtered(lambda b: b.sync_state == "error")
        self.assertEqual(len(failed), 6, "the products of the failed requests")
        self.assertEqual(log.line_ids.binding_id, failed)
        self.assertEqual(set(log.line_ids.mapped("error_code")), {"unavailable"})
        self.assertTrue(all(b.retry_after and b.failure_count == 1 for b in failed))
        self.assertEqual((log.processed, log.failed, log.remaining), (2 + 6, 6, 4))
        self.assertEqual(len(self.bindings.filtered(lambda b: b.sync_state == "new")), 4)
        # The next scheduled run asks the others; the failed ones wait for their delay.
        self.emulator.clear_faults()
        self.emulator.reset()
        schedule = self.backend.schedule_ids.filtered(lambda s: s.operation == "sync_offers")
        schedule.next_call = False
        self.env["supplier.backend.schedule"]._cron_run_due()
        self.assertEqual(schedule.last_log_id.state, "done")
        self.assertEqual(schedule.last_log_id.processed, 2 + 4)
        self.assertEqual(self.bindings.filtered(lambda b: b.sync_state == "error"), failed)
        self.assertEqual(set(failed.mapped("failure_count")), {1})
        # "Sync now" asks every product, those waiting for a retry included.
        self.backend.action_sync_offers()
        self.assertAllSynced()
        self.assertEqual(set(failed.mapped("failure_count")), {0})
        self.assertFalse(any(failed.mapped("retry_after")))

    def test_timeout_is_reported_and_retried(self):
        self.backend.max_retries = 1
        self.emulator.set_fault("timeout", count=1, after=2, seconds=3)
        self.backend.action_sync_offers()
        self.assertAllSynced()

    def test_slow_answers_within_the_timeout_complete(self):
        self.emulator.set_fault("slow", count=3, seconds=0.5)
        self.backend.action_sync_offers()
        self.assertAllSynced()
        self.assertEqual(self.last_log().request_count, 1 + 3 + 12)
        self.assertGreater(self.last_log().duration, 1.5, "the run's own duration, not whole seconds")

    def test_connection_reset_is_retried(self):
        self.emulator.set_fault("reset", count=1, after=2)
        self.backend.action_sync_offers()
        self.assertAllSynced()

    def test_wrong_password_pauses_logins(self):
        self.backend.sudo().password = "wrong"
        self.backend.action_sync_offers()
        log = self.last_log()
        self.assertEqual(log.state, "failed")
        self.assertIn("rejected the login", log.message)
        self.assertTrue(self.backend.login_blocked_until)
        self.assertEqual(self.emulator.counts().get("login"), 1)
        self.emulator.reset()
        self.backend.action_sync_offers()
        self.assertFalse(self.emulator.counts(), "no new login while paused")
        self.assertIn("paused", self.last_log().message)
        self.assertEqual(self.bindings.mapped("sync_state"), ["new"] * 12)
        # After fixing the password and resetting the session it works again.
        self.backend.sudo().password = PASSWORD
        self.backend.action_reset_session()
        self.backend.action_sync_offers()
        self.assertAllSynced()

    def test_crashed_run_is_marked_interrupted(self):
        stuck = self.env["supplier.sync.log"].create(
            {"backend_id": self.backend.id, "operation": "sync_offers", "state": "running"}
        )
        self.backend.action_sync_offers()
        self.assertEqual(stuck.state, "failed")
        self.assertIn("Interrupted", stuck.message)
